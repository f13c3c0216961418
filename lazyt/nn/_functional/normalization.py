"""Normalisation: batch_norm, layer_norm, group_norm, instance_norm, rms_norm,
normalize. Statistics are lazyt reductions; running statistics are updated
in place (ASSIGNs in the IR) without recording gradients, as in PyTorch."""

from __future__ import annotations

import math

from lazyt import dtypes, elementwise, formats, shape_ops
from lazyt.autograd import grad_mode
from lazyt.regions import edges_of, run_region
from lazyt.tensor import Tensor


def _normalise(x: Tensor, axes: tuple[int, ...], eps: float, row_major: bool = True
               ) -> tuple[Tensor, Tensor, Tensor]:
    """(x - mean) / sqrt(biased var + eps) over axes; also the mean and biased
    var. The result is row-major (PyTorch's norms make their input contiguous
    first) unless `row_major` is False (a channels-last batch_norm)."""
    mean = x.mean(axes, keepdim=True)
    centred = elementwise.apply_row_major("sub", x, mean) if row_major else x - mean
    var = (centred * centred).mean(axes, keepdim=True)
    return centred * (var + eps).rsqrt(), mean, var


def _is_channels_last(x: Tensor) -> bool:
    """Does x keep channels_last (PyTorch's batch_norm output follows it)?"""
    return x.ndim == 4 and not x.is_contiguous() and \
        x.is_contiguous(memory_format=formats.channels_last)


def _channel_shape(x: Tensor) -> tuple[int, ...]:
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def _affine(out: Tensor, weight: Tensor | None, bias: Tensor | None, shape) -> Tensor:
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def l2_norm(input: Tensor, dim: int) -> Tensor:
    """The 2-norm along dim (kept), with gradient 0 (not NaN) at an all-zero slice.

    sqrt's gradient at 0 is infinite; all-zero slices go through sqrt(1)
    instead, matching PyTorch's norm backward."""
    squares = (input * input).sum(dim, keepdim=True)
    nonzero = squares > 0
    return elementwise.where(nonzero, elementwise.where(nonzero, squares, 1.0).sqrt(), 0.0)


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    if input.ndim < 2:
        raise ValueError(f"expected 2D or more input (got {input.ndim}D input)")
    channels = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and t.numel() != channels:
            raise RuntimeError(f"{name} should contain {channels} elements not {t.numel()}")
    shape = _channel_shape(input)
    axes = (0,) + tuple(range(2, input.ndim))
    # Eager regions (regions.py): the normalisation is one fused region with
    # one grad_fn; the running statistics' update, a side effect that a
    # backward must not repeat, is a region of its own.
    if training:
        count = input.numel() // channels if channels else 0
        if count == 1:  # (an empty batch normalises to an empty output, as in PyTorch)
            raise ValueError("Expected more than 1 value per channel when training, got input "
                             f"size {input.shape}")

        row_major = not _is_channels_last(input)

        def train_of(input, weight, bias):
            out, mean, var = _normalise(input, axes, eps, row_major)
            return _affine(out, weight, bias, shape), mean, var

        out, mean, var = run_region("batch_norm", train_of, (input, weight, bias), (axes, eps),
                                    "NativeBatchNormBackward0",
                                    edges=edges_of((input, weight, bias), (0, 1, 2)))

        def update(mean, var, running_mean, running_var):
            if running_mean is not None:
                running_mean.mul_(1.0 - momentum).add_(mean.reshape(channels) * momentum)
            if running_var is not None:
                unbiased = var.reshape(channels) * (count / (count - 1))
                running_var.mul_(1.0 - momentum).add_(unbiased * momentum)

        # An empty batch leaves the running statistics as they were (PyTorch).
        if (running_mean is not None or running_var is not None) and count > 0:
            with grad_mode.no_grad():
                run_region("batch_norm running stats", update,
                           (mean.detach(), var.detach(), running_mean, running_var),
                           (momentum, count, channels), writes=True)
        return out
    if running_mean is None or running_var is None:
        raise RuntimeError("running_mean and running_var must be defined in evaluation mode")

    def eval_of(input, running_mean, running_var, weight, bias):
        out = (input - running_mean.reshape(shape)) * (running_var.reshape(shape) + eps).rsqrt()
        return _affine(out, weight, bias, shape)

    tensors = (input, running_mean, running_var, weight, bias)
    return run_region("batch_norm eval", eval_of, tensors, (shape, eps),
                      "NativeBatchNormBackward0", edges=edges_of(tensors, (0, 3, 4)))


def instance_norm(input: Tensor, running_mean: Tensor | None = None,
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    if input.ndim < 3:
        raise ValueError(f"expected 3D or more input (got {input.ndim}D input)")
    shape = _channel_shape(input)
    axes = tuple(range(2, input.ndim))
    if use_input_stats:
        out, mean, var = _normalise(input, axes, eps)
        count = math.prod(input.shape[2:])
        with grad_mode.no_grad():
            if running_mean is not None:
                batch_mean = mean.mean(0).reshape(-1)
                running_mean.mul_(1.0 - momentum).add_(batch_mean * momentum)
            if running_var is not None:
                unbiased = var.mean(0).reshape(-1) * (count / max(count - 1, 1))
                running_var.mul_(1.0 - momentum).add_(unbiased * momentum)
    else:
        out = (input - running_mean.reshape(shape)) * (running_var.reshape(shape) + eps).rsqrt()
    return _affine(out, weight, bias, shape)


def _check_normalized_shape(input: Tensor, normalized_shape, weight: Tensor | None = None,
                            bias: Tensor | None = None) -> tuple[int, ...]:
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else \
        tuple(normalized_shape)
    if len(shape) == 0:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., "
                           "containing at least one element, but got normalized_shape = []")
    for name, tensor in (("weight", weight), ("bias", bias)):
        if tensor is not None and tuple(tensor.shape) != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but "
                               f"got {name} of shape {list(tensor.shape)} and normalized_shape "
                               f"= {list(shape)}")
    if tuple(input.shape[input.ndim - len(shape):]) != shape or \
            input.ndim < len(shape):
        raise RuntimeError(
            f"Given normalized_shape={list(shape)}, expected input with shape "
            f"[*, {', '.join(map(str, shape))}], but got input of size{list(input.shape)}")
    return shape


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    shape = _check_normalized_shape(input, normalized_shape, weight, bias)
    axes = tuple(range(input.ndim - len(shape), input.ndim))

    def normalised(input, weight, bias):
        out, _, _ = _normalise(input, axes, eps)
        return _affine(out, weight, bias, shape)

    # One fused region in eager mode (regions.py), its gradient one node.
    tensors = (input, weight, bias)
    return run_region("layer_norm", normalised, tensors, (axes, eps),
                      "NativeLayerNormBackward0", edges=edges_of(tensors, (0, 1, 2)))


def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    shape = _check_normalized_shape(input, normalized_shape, weight)
    axes = tuple(range(input.ndim - len(shape), input.ndim))
    if eps is None:
        eps = dtypes.finfo(input.dtype).eps
    out = input * ((input * input).mean(axes, keepdim=True) + eps).rsqrt()
    return out if weight is None else out * weight


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    if input.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{input.ndim}")
    channels = input.shape[1]
    if channels % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(input.shape)} and "
                           f"num_groups={num_groups}")
    # (sizes spelled out: reshape cannot infer -1 for an empty batch)
    grouped = input.reshape(input.shape[0], num_groups, math.prod(input.shape[1:]) // num_groups)
    out, _, _ = _normalise(grouped, (2,), eps)
    return _affine(out.reshape(input.shape), weight, bias, _channel_shape(input))


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out: Tensor | None = None) -> Tensor:
    if p == 2.0:
        norm = l2_norm(input, dim)
    else:
        norm = input.norm(p, dim, keepdim=True)
    result = input / norm.clamp(min=eps)
    if out is not None:
        out.copy_(result)
        return out
    return result


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    if input.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.ndim} "
                         "dimensions)")
    squared = input * input
    channels = input.shape[1]
    # Sum of squares over a window of `size` channels centred on each channel.
    before, after = size // 2, (size - 1) // 2
    padded = shape_ops.cat([squared.new_zeros(input.shape[0], before, *input.shape[2:]), squared,
                            squared.new_zeros(input.shape[0], after, *input.shape[2:])], 1)
    window = sum(padded.narrow(1, i, channels) for i in range(size))
    return input / (window * (alpha / size) + k).pow(beta)
