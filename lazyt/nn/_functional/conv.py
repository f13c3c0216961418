"""Convolution as im2col + the BLAS matmul extern, all in lazyt ops.

Where it sits: nn.Conv1d/2d/3d and F.conv*d call `convolution`; pooling
(pooling.py) reuses the same window tables.

How: a *window table* (built once per geometry with lazyt ops and cached)
lists, for every (input channel, kernel offset) row and every output position
column, the flat index of the input element it reads, or a "slot" index one
past the end where the window hangs over the padding. The forward pass is then
three ops: optionally append one zero per sample (the slot), gather
`x_flat[:, table]` into columns (N, C*K, L) (advanced indexing: its backward
scatter-adds, which is col2im), and one batched matmul with the weight
(O, C*K) @ (N, C*K, L) -> (N, O, L), already in NCHW order.
"""

from __future__ import annotations

import math
from functools import lru_cache

from lazyt import creation, dtypes, elementwise, shape_ops
from lazyt.nn._functional._utils import _ntuple
from lazyt.nn._functional.padding import pad
from lazyt.regions import run_region
from lazyt.tensor import Tensor

_TABLE_CACHE_SIZE = 128


def output_size(in_size: int, kernel: int, stride: int, pad_before: int, pad_after: int,
                dilation: int, ceil_mode: bool = False) -> int:
    """PyTorch's output length of a sliding window (pooling's ceil_mode included)."""
    span = in_size + pad_before + pad_after - dilation * (kernel - 1) - 1
    if ceil_mode:
        out = -(-span // stride) + 1
        # The last window must start inside the input or the left padding.
        if (out - 1) * stride >= in_size + pad_before:
            out -= 1
        return out
    return span // stride + 1


@lru_cache(maxsize=_TABLE_CACHE_SIZE)
def _positions(in_size: tuple, kernel: tuple, stride: tuple, dilation: tuple,
               pad_before: tuple, out_size: tuple) -> tuple[Tensor, bool]:
    """(table of shape kernel + out_size with the flat input index each window
    element reads, or -1 outside the input; whether any element is outside)."""
    dims = len(in_size)
    flat = creation.zeros((1,) * (2 * dims), dtype=dtypes.int64)
    inside = creation.ones((1,) * (2 * dims), dtype=dtypes.bool_)
    for d in range(dims):
        k_shape = [1] * (2 * dims)
        k_shape[d] = kernel[d]
        o_shape = [1] * (2 * dims)
        o_shape[dims + d] = out_size[d]
        k = creation.arange(kernel[d]).reshape(k_shape)
        o = creation.arange(out_size[d]).reshape(o_shape)
        pos = k * dilation[d] + o * stride[d] - pad_before[d]
        inside = inside & (pos >= 0) & (pos < in_size[d])
        flat = flat * in_size[d] + pos
    table = elementwise.where(inside, flat, -1).expand(*kernel, *out_size).contiguous()
    # Whether a window reaches outside the input, from the sizes (reading
    # `inside` would be a value read, which lt.compile's trace forbids).
    outside = 0 not in out_size and 0 not in kernel and any(
        pad > 0 or (k - 1) * dil + (o - 1) * st - pad >= size
        for size, k, st, dil, pad, o in zip(in_size, kernel, stride, dilation, pad_before,
                                              out_size))
    return table.realize(), outside


@lru_cache(maxsize=_TABLE_CACHE_SIZE)
def conv_table(channels: int, in_size: tuple, kernel: tuple, stride: tuple, dilation: tuple,
               pad_before: tuple, out_size: tuple, device: str) -> tuple[Tensor, bool]:
    """(C*prod(kernel), prod(out_size)) indices into a sample flattened to
    C*prod(in_size) (+1 zero slot when `needs_slot`), and needs_slot."""
    positions, outside = _positions(in_size, kernel, stride, dilation, pad_before, out_size)
    plane = math.prod(in_size)
    shape = (channels,) + (1,) * positions.ndim
    offsets = (creation.arange(channels) * plane).reshape(shape)
    table = elementwise.where(positions >= 0, positions + offsets, channels * plane)
    table = table.reshape(channels * math.prod(kernel), math.prod(out_size))
    return table.to(device).realize(), outside


@lru_cache(maxsize=_TABLE_CACHE_SIZE)
def pool_table(in_size: tuple, kernel: tuple, stride: tuple, dilation: tuple,
               pad_before: tuple, out_size: tuple, device: str) -> tuple[Tensor, bool]:
    """(prod(out_size), prod(kernel)) indices into one plane flattened to
    prod(in_size) (+1 pad slot when `needs_slot`), and needs_slot."""
    positions, outside = _positions(in_size, kernel, stride, dilation, pad_before, out_size)
    dims = len(in_size)
    order = tuple(range(dims, 2 * dims)) + tuple(range(dims))
    table = elementwise.where(positions >= 0, positions, math.prod(in_size)).permute(*order)
    table = table.reshape(math.prod(out_size), math.prod(kernel))
    return table.to(device).realize(), outside


def gather_windows(flat: Tensor, table: Tensor, needs_slot: bool, slot_value: float) -> Tensor:
    """flat (B, n) -> flat[:, table], with index n reading slot_value."""
    if needs_slot:
        slot = creation.full((flat.shape[0], 1), slot_value, dtype=flat.dtype, device=flat.device)
        flat = shape_ops.cat([flat, slot], 1)
    return flat[:, table]


def _conv_padding(padding, kernel: tuple, dilation: tuple, stride: tuple, dims: int):
    """(pad_before, pad_after) per spatial dim from an int/tuple/'same'/'valid'."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0,) * dims, (0,) * dims
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            totals = [d * (k - 1) for d, k in zip(dilation, kernel)]
            before = tuple(t // 2 for t in totals)
            return before, tuple(t - b for t, b in zip(totals, before))
        raise ValueError(f"Invalid padding string '{padding}', should be one of "
                         "{'valid', 'same'}")
    pads = _ntuple(dims, "padding")(padding)
    if any(p < 0 for p in pads):
        raise RuntimeError("negative padding is not supported")
    return pads, pads


def _batched_input(input: Tensor, weight: Tensor, dims: int, name: str) -> tuple[Tensor, bool]:
    """(input with a batch dim, whether it had none), after PyTorch's rank checks."""
    if input.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(f"Expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input to "
                           f"{name}, but got input of size: {list(input.shape)}")
    if weight.ndim != dims + 2:
        raise RuntimeError(f"weight should have {dims + 2} dimensions for {name}, got weight of "
                           f"size {list(weight.shape)}")
    unbatched = input.ndim == dims + 1
    return (input.unsqueeze(0) if unbatched else input), unbatched


def convolution(input: Tensor, weight: Tensor, bias: Tensor | None, stride, padding,
                dilation, groups: int, dims: int) -> Tensor:
    """conv{dims}d: input (N, C, *spatial) or unbatched (C, *spatial)."""
    name = f"conv{dims}d"
    input, unbatched = _batched_input(input, weight, dims, name)
    stride = _ntuple(dims, "stride")(stride)
    dilation = _ntuple(dims, "dilation")(dilation)
    kernel = tuple(weight.shape[2:])
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("dilation should be greater than zero")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    pad_before, pad_after = _conv_padding(padding, kernel, dilation, stride, dims)
    channels = input.shape[1]
    out_channels = weight.shape[0]
    if out_channels % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size {list(weight.shape)} instead")
    if weight.shape[1] * groups != channels:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight.shape)}, expected "
            f"input{list(input.shape)} to have {weight.shape[1] * groups} channels, but got "
            f"{channels} channels instead")
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise RuntimeError(f"Given weight of size {list(weight.shape)}, expected bias to be 1-D "
                           f"with {out_channels} elements, but got bias of size "
                           f"{list(bias.shape)} instead")
    in_size = tuple(input.shape[2:])
    padded = tuple(s + b + a for s, b, a in zip(in_size, pad_before, pad_after))
    effective = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel))
    if any(e > p for e, p in zip(effective, padded)):
        raise RuntimeError(
            f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). "
            f"Kernel size: ({' x '.join(map(str, effective))}). Kernel size can't be greater "
            "than actual input size")
    out_size = tuple(output_size(s, k, st, b, a, d) for s, k, st, b, a, d in
                     zip(in_size, kernel, stride, pad_before, pad_after, dilation))
    table, needs_slot = conv_table(channels, in_size, kernel, stride, dilation, pad_before,
                                   out_size, str(input.device))

    def conv_of(input, weight, table, bias):
        return _convolve(input, weight, bias, table, needs_slot, groups, out_size)

    # One fused region in eager mode (regions.py): the gather of windows, the
    # matmul and the bias add replayed together; one grad_fn.
    out = run_region(name, conv_of, (input, weight, table, bias),
                     (needs_slot, groups, out_size), "ConvolutionBackward0")
    return out.squeeze(0) if unbatched else out


def _convolve(input: Tensor, weight: Tensor, bias: Tensor | None, table: Tensor,
              needs_slot: bool, groups: int, out_size: tuple) -> Tensor:
    """The convolution itself: windows gathered through the table, one matmul."""
    batch, out_channels = input.shape[0], weight.shape[0]
    cols = gather_windows(input.reshape(batch, -1), table, needs_slot, 0.0)  # (N, C*K, L)
    if groups == 1:
        out = weight.reshape(out_channels, -1) @ cols
    else:
        cols = cols.reshape(batch, groups, -1, cols.shape[-1])
        out = weight.reshape(groups, out_channels // groups, -1) @ cols
    out = out.reshape(batch, out_channels, *out_size)
    if bias is not None:
        out = out + bias.reshape((out_channels,) + (1,) * len(out_size))
    return out


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    return convolution(input, weight, bias, stride, padding, dilation, groups, 1)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    return convolution(input, weight, bias, stride, padding, dilation, groups, 2)


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    return convolution(input, weight, bias, stride, padding, dilation, groups, 3)


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """im2col itself: (N, C, H, W) -> (N, C*kh*kw, L), as torch.nn.functional.unfold."""
    if input.ndim not in (3, 4):
        raise RuntimeError(f"Input Error: Only 3D or 4D input Tensors are supported (got "
                           f"{input.ndim}D)")
    unbatched = input.ndim == 3
    if unbatched:
        input = input.unsqueeze(0)
    kernel = _ntuple(2, "kernel_size")(kernel_size)
    dilation = _ntuple(2, "dilation")(dilation)
    pads = _ntuple(2, "padding")(padding)
    stride = _ntuple(2, "stride")(stride)
    in_size = tuple(input.shape[2:])
    out_size = tuple(output_size(s, k, st, p, p, d) for s, k, st, p, d in
                     zip(in_size, kernel, stride, pads, dilation))
    if any(o <= 0 for o in out_size):
        raise RuntimeError(f"Given input with spatial size {list(in_size)}, kernel_size="
                           f"{list(kernel)}, dilation={list(dilation)}, padding={list(pads)}, "
                           "calculated shape of the array of sliding blocks as "
                           f"{list(out_size)}, but its components must be at least one.")
    table, needs_slot = conv_table(input.shape[1], in_size, kernel, stride, dilation, pads,
                                   out_size, str(input.device))
    # (the plane size spelled out: reshape cannot infer -1 for an empty batch)
    planes = input.reshape(input.shape[0], math.prod(input.shape[1:]))
    cols = gather_windows(planes, table, needs_slot, 0.0)
    return cols.squeeze(0) if unbatched else cols


def conv_transpose(input: Tensor, weight: Tensor, bias: Tensor | None, stride, padding,
                   output_padding, groups: int, dilation, dims: int) -> Tensor:
    """conv_transpose{dims}d as the convolution it is the gradient of: the
    input spread out by `stride` (zeros between), padded by
    dilation*(k-1)-padding (+output_padding after; negative pads crop), then
    convolved with the flipped, in/out-swapped weight."""
    name = f"conv_transpose{dims}d"
    input, unbatched = _batched_input(input, weight, dims, name)
    stride = _ntuple(dims, "stride")(stride)
    pads = _ntuple(dims, "padding")(padding)
    extra = _ntuple(dims, "output_padding")(output_padding)
    dilation = _ntuple(dims, "dilation")(dilation)
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("dilation should be greater than zero")
    if any(p < 0 for p in pads):
        raise RuntimeError("negative padding is not supported")
    if any(o < 0 for o in extra):
        raise RuntimeError("negative output_padding is not supported")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if any(o >= s and o >= d for o, s, d in zip(extra, stride, dilation)):
        raise RuntimeError(f"output padding must be smaller than either stride or dilation, but "
                           f"got output_padding={list(extra)}, stride={list(stride)}, "
                           f"dilation={list(dilation)}")
    channels = input.shape[1]
    if weight.shape[0] != channels or channels % groups:
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected "
                           f"input{list(input.shape)} to have {weight.shape[0]} channels, but "
                           f"got {channels} channels instead")
    kernel = tuple(weight.shape[2:])
    out_channels = weight.shape[1] * groups
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected "
                           f"bias to be 1-D with {out_channels} elements, but got bias of size "
                           f"{list(bias.shape)} instead")
    in_size = tuple(input.shape[2:])
    out_size = tuple((n - 1) * s - 2 * p + d * (k - 1) + o + 1 for n, s, p, d, k, o in
                     zip(in_size, stride, pads, dilation, kernel, extra))
    if any(o <= 0 for o in out_size):
        raise RuntimeError(f"Given input size per channel: ({' x '.join(map(str, in_size))}). "
                           f"Calculated output size per channel: "
                           f"({' x '.join(map(str, out_size))}). Output size is too small")
    spread = input
    if any(s > 1 for s in stride):
        shape = tuple(input.shape[:2]) + tuple((n - 1) * s + 1 for n, s in zip(in_size, stride))
        spread = creation.zeros(shape, dtype=input.dtype, device=input.device)
        spread[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in stride)] = input
    pad_widths = []
    for p, d, k, o in reversed(list(zip(pads, dilation, kernel, extra))):
        before = d * (k - 1) - p
        pad_widths += [before, before + o]
    if any(pad_widths):
        spread = pad(spread, pad_widths)
    in_per_group = channels // groups
    flipped = weight.reshape(groups, in_per_group, out_channels // groups, *kernel)
    flipped = flipped.transpose(1, 2).reshape(out_channels, in_per_group, *kernel)
    flipped = flipped.flip(tuple(range(2, dims + 2)))
    out = convolution(spread, flipped, bias, 1, 0, dilation, groups, dims)
    return out.squeeze(0) if unbatched else out


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    return conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                          dilation, 1)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    return conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                          dilation, 2)


def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    return conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                          dilation, 3)
