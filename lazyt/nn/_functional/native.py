"""ATen's native normalisation entry points, as PyTorch exposes them at the top
level: `lt.native_batch_norm`, `lt._native_batch_norm_legit`,
`lt.native_layer_norm`, `lt.native_group_norm` return (out, mean, rstd)
tuples, and `lt._softmax_backward_data` is softmax's gradient formula.

Each calls the functional op of normalization.py for `out` (so the running
statistics and gradients are those of F.batch_norm & co.) and computes the
saved statistics beside it with lazyt reductions.
"""

from __future__ import annotations

from lazyt import creation
from lazyt.elementwise import TORCH_NAMES
from lazyt.nn._functional.normalization import (
                                                _check_normalized_shape,
                                                batch_norm,
                                                group_norm,
                                                layer_norm,
)
from lazyt.out_arguments import write_out
from lazyt.tensor import Tensor


def _mean_and_rstd(x: Tensor, axes: tuple[int, ...], eps: float,
                   keepdim: bool) -> tuple[Tensor, Tensor]:
    """The mean and 1 / sqrt(biased variance + eps) over axes."""
    mean = x.mean(axes, keepdim=True)
    centred = x - mean
    rstd = ((centred * centred).mean(axes, keepdim=True) + eps).rsqrt()
    if keepdim:
        return mean, rstd
    kept = [size for d, size in enumerate(x.shape) if d not in axes]
    return mean.reshape(kept), rstd.reshape(kept)


def _check_floating(input: Tensor, name: str) -> None:
    if not input.is_floating_point():
        type_name = TORCH_NAMES.get(input.dtype.name, input.dtype.name)
        raise NotImplementedError(f'"{name}" not implemented for \'{type_name}\'')


def native_batch_norm(input: Tensor, weight: Tensor | None, bias: Tensor | None,
                      running_mean: Tensor | None, running_var: Tensor | None, training: bool,
                      momentum: float, eps: float, *, out=None) -> tuple[Tensor, Tensor, Tensor]:
    """(out, batch mean, batch rstd) when training (empty statistics otherwise)."""
    if out is not None:
        result = native_batch_norm(input, weight, bias, running_mean, running_var, training,
                                   momentum, eps)
        return write_out("native_batch_norm", result, out)
    _check_floating(input, "batch_norm")
    out = batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)
    if not training:
        empty = creation.empty(0, dtype=input.dtype, device=input.device)
        return out, empty, empty.clone()
    axes = (0,) + tuple(range(2, input.ndim))
    mean, rstd = _mean_and_rstd(input.detach(), axes, eps, keepdim=False)
    return out, mean, rstd


def _native_batch_norm_legit(input: Tensor, weight: Tensor | None, bias: Tensor | None,
                             *args, out=None) -> tuple[Tensor, Tensor, Tensor]:
    """native_batch_norm with running statistics, or without them:
    (input, weight, bias, training, momentum, eps)."""
    if len(args) == 3:
        training, momentum, eps = args
        running_mean = running_var = None
    else:
        running_mean, running_var, training, momentum, eps = args
    return native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum,
                             eps, out=out)


def native_layer_norm(input: Tensor, normalized_shape, weight: Tensor | None,
                      bias: Tensor | None, eps: float) -> tuple[Tensor, Tensor, Tensor]:
    """(out, mean, rstd); the statistics keep the normalised dims as size 1."""
    shape = _check_normalized_shape(input, normalized_shape)
    out = layer_norm(input, shape, weight, bias, eps)
    axes = tuple(range(input.ndim - len(shape), input.ndim))
    mean, rstd = _mean_and_rstd(input.detach(), axes, eps, keepdim=True)
    return out, mean, rstd


def native_group_norm(input: Tensor, weight: Tensor | None, bias: Tensor | None,
                      N: int, C: int, HxW: int,  # noqa: N803 - PyTorch's argument names
                      group: int, eps: float) -> tuple[Tensor, Tensor, Tensor]:
    """(out, mean, rstd), the statistics of shape (N, group); all three
    differentiable, as PyTorch's."""
    expected = N * C * HxW
    if input.numel() != expected:
        raise RuntimeError(f"Expected input to be of size {expected}, got {input.numel()}")
    out = group_norm(input, group, weight, bias, eps)
    grouped = input.reshape(N, group, C // group * HxW)
    mean, rstd = _mean_and_rstd(grouped, (2,), eps, keepdim=False)
    return out, mean, rstd


def _softmax_backward_data(grad_output: Tensor, output: Tensor, dim: int,
                           input_dtype) -> Tensor:
    """softmax's gradient: output * (grad - sum(grad * output, dim)), in input_dtype."""
    inner = (grad_output * output).sum(dim, keepdim=True)
    return (output * (grad_output - inner)).to(input_dtype)
