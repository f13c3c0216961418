"""Convolution as im2col + the BLAS matmul extern, all in lazyt ops.

Where it sits: nn.Conv1d/2d/3d and F.conv*d call `convolution`; transposed
convolutions are convolutions of a spread input; pooling (pooling.py) and
F.unfold use the window tables below.

How: `im2col` lays out the columns of *all* samples side by side, (C, K, N, L)
with K the kernel offsets and L the output positions: the input is padded
once, every kernel offset's window is a strided view of it, and one copy (a
generated kernel that vectorises along the output row) lays them all out.
Then one matmul per group, (O, C*K) @ (C*K, N*L), instead of one small
product per sample, and the bias add (or a copy) writes the (O, N, L)
product out as NCHW. Backward: the weight gradient is one matmul over the
whole batch, the columns' gradient one matmul, and `col2im` sums it back
through the same windows (stride 1: one fused sum of shifted views; other
strides: in-place adds), never a scatter.

A *window table* (built once per geometry with lazyt ops and cached) lists,
for every (input channel, kernel offset) row and every output position
column, the flat index of the input element it reads, or a "slot" index one
past the end where the window hangs over the padding: F.unfold and pooling
gather through it.
"""

from __future__ import annotations

import itertools
import math
from functools import lru_cache

from lazyt import creation, dtypes, elementwise, shape_ops
from lazyt.autograd import grad_mode
from lazyt.autograd.rules import rule
from lazyt.linalg import autocast_operands
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
                raise RuntimeError("padding='same' is not supported for strided convolutions")
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
    if weight.ndim < 3:
        raise RuntimeError("weight should have at least three dimensions")
    if weight.ndim != dims + 2:
        raise RuntimeError(f"Expected {weight.ndim}-dimensional input for {weight.ndim}-"
                           f"dimensional weight {list(weight.shape)}, but got {input.ndim}-"
                           f"dimensional input of size {list(input.shape)} instead")
    if input.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(f"Expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input to "
                           f"{name}, but got input of size: {list(input.shape)}")
    unbatched = input.ndim == dims + 1
    if weight.dtype != input.dtype:
        raise RuntimeError(f"Input type ({input.dtype}) and weight type ({weight.dtype}) should "
                           "be the same")
    return (input.unsqueeze(0) if unbatched else input), unbatched


def convolution(input: Tensor, weight: Tensor, bias: Tensor | None, stride, padding,
                dilation, groups: int, dims: int) -> Tensor:
    """conv{dims}d: input (N, C, *spatial) or unbatched (C, *spatial)."""
    input, weight, bias = autocast_operands(input, weight, bias)
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
    if out_channels < groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least {groups} at "
                           f"dimension 0, but got weight of size {list(weight.shape)} instead")
    if out_channels % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size {list(weight.shape)} instead")
    if weight.shape[1] * groups != channels:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight.shape)}, expected "
            f"input{list(input.shape)} to have {weight.shape[1] * groups} channels, but got "
            f"{channels} channels instead")
    if bias is not None and bias.dtype != input.dtype:
        raise RuntimeError(f"Input type ({input.dtype}) and bias type ({bias.dtype}) should be "
                           "the same")
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
    geometry = (kernel, stride, dilation, pad_before, pad_after, out_size, groups)

    def conv_of(input, weight, bias):
        return _convolve(input, weight, bias, geometry)

    # One fused region in eager mode (regions.py): the columns copy, the
    # matmul and the bias add replayed together; one grad_fn.
    out = run_region(name, conv_of, (input, weight, bias), geometry, "ConvolutionBackward0")
    return out.squeeze(0) if unbatched else out


def _kernel_offsets(kernel: tuple) -> list[tuple]:
    return list(itertools.product(*(range(k) for k in kernel)))


def _padded(input: Tensor, pad_before: tuple, pad_after: tuple) -> Tensor:
    """The input with zeros around its spatial dims (itself without padding)."""
    if not any(pad_before) and not any(pad_after):
        return input
    pads = []
    for before, after in reversed(list(zip(pad_before, pad_after))):
        pads += [before, after]
    return pad(input, pads)


def _window_index(offsets: tuple, geometry: tuple) -> tuple:
    """The basic index of one kernel offset's window in the padded input:
    output position l reads padded position o*d + l*s."""
    _, stride, dilation, _, _, out_size, _ = geometry
    return (slice(None), slice(None)) + tuple(
        slice(o * d, o * d + (n - 1) * s + 1, s)
        for o, d, s, n in zip(offsets, dilation, stride, out_size))


def im2col(input: Tensor, geometry: tuple) -> Tensor:
    """The columns of a convolution: (C, prod(kernel), N, prod(out_size)), entry
    [c, k, n, l] the input element that kernel offset k of output position l
    reads, zero over the padding. The input is padded once; then each kernel
    offset is one strided view of it; one copy lays all of them out (a
    generated kernel, vectorised along the output row). Its gradient is
    col2im (below): strided adds, not a scatter."""
    kernel, stride, dilation, pad_before, pad_after, out_size, _ = geometry
    batch, channels, dims = input.shape[0], input.shape[1], len(kernel)
    with grad_mode.no_grad():
        # Every window of the padded input is one strided view (N, C, *out,
        # *kernel); the columns are one copy of it in (C, *kernel, N, *out)
        # order: one kernel, and in deferred mode one realisation (the padded
        # input), not one per kernel offset.
        windows = _padded(input, pad_before, pad_after)
        for i, (k, s, d) in enumerate(zip(kernel, stride, dilation)):
            windows = windows.unfold(2 + i, (k - 1) * d + 1, s)
        if any(d != 1 for d in dilation):
            windows = windows[(Ellipsis,) + tuple(slice(None, None, d) for d in dilation)]
        order = (1, *range(2 + dims, 2 + 2 * dims), 0, *range(2, 2 + dims))
        cols = windows.permute(order).contiguous()
        cols = cols.reshape(channels, math.prod(kernel), batch, math.prod(out_size))
    grad_mode.record("im2col", cols, (input,), geometry=geometry,
                     input_shape=tuple(input.shape))
    return cols


def col2im(cols: Tensor, input_shape: tuple, geometry: tuple) -> Tensor:
    """im2col's adjoint: (C, K, N, L) columns added back onto the input
    positions they were read from, (N, C, *spatial)."""
    stride, spatial = geometry[1], tuple(input_shape[2:])
    with grad_mode.no_grad():
        if all(s == 1 for s in stride):
            total = _col2im_shifted(cols, spatial, geometry)
        else:
            total = _col2im_strided(cols, input_shape, geometry)
    grad_mode.record("col2im", total, (cols,), geometry=geometry)
    return total


def _col2im_shifted(cols: Tensor, spatial: tuple, geometry: tuple) -> Tensor:
    """Stride 1: input position i gets column l = i + pad - o*d of each kernel
    offset o, a shifted view of that offset's columns. The columns get a zero
    margin wide enough for every shift (a pad), then the gradient is
    the sum of the shifted views: one fused kernel with a load per offset (in
    deferred mode and in an eager region's replay)."""
    kernel, _, dilation, pad_before, _, out_size, _ = geometry
    channels, offsets_count, batch = cols.shape[:3]
    grid = cols.reshape(channels, offsets_count, batch, *out_size)
    before = [max(0, (k - 1) * d - b) for k, d, b in zip(kernel, dilation, pad_before)]
    after = [max(0, size + b - n) for size, b, n in zip(spatial, pad_before, out_size)]
    if any(before) or any(after):
        # (a zero pad: in deferred mode index arithmetic, not a write)
        grid = _padded(grid, tuple(before), tuple(after))
    parts = []
    for k, offsets in enumerate(_kernel_offsets(kernel)):
        start = [b - o * d + lo for o, d, b, lo in zip(offsets, dilation, pad_before, before)]
        parts.append(grid[(slice(None), k, slice(None)) + tuple(
            slice(st, st + size) for st, size in zip(start, spatial))].transpose(0, 1))
    if len(parts) == 1:
        return parts[0].contiguous()
    total = parts[0]
    for part in parts[1:-1]:
        total = total + part
    # (N, C, *spatial) row-major, whatever the columns' (C, N) order
    return elementwise.apply_row_major("add", total, parts[-1])


def _col2im_strided(cols: Tensor, input_shape: tuple, geometry: tuple) -> Tensor:
    """Any stride: per kernel offset one in-place add of its rows into the
    window of a padded result, whose inside is the gradient."""
    kernel, _, _, pad_before, pad_after, out_size, _ = geometry
    batch, channels, spatial = input_shape[0], input_shape[1], tuple(input_shape[2:])
    padded_shape = (batch, channels) + tuple(
        n + b + a for n, b, a in zip(spatial, pad_before, pad_after))
    total = creation.zeros(padded_shape, dtype=cols.dtype, device=cols.device)
    for k, offsets in enumerate(_kernel_offsets(kernel)):
        rows = cols[:, k].reshape(channels, batch, *out_size).transpose(0, 1)
        total[_window_index(offsets, geometry)].add_(rows)  # one kernel, in place
    if padded_shape != tuple(input_shape):
        inside = (slice(None), slice(None)) + tuple(
            slice(b, b + n) for b, n in zip(pad_before, spatial))
        total = total[inside].contiguous()
    return total


@rule("im2col", "Im2ColBackward0")
def _im2col_backward(ctx, grad):
    return (col2im(grad, ctx.kw["input_shape"], ctx.kw["geometry"]),)


@rule("col2im", "Col2ImBackward0")
def _col2im_backward(ctx, grad):
    return (im2col(grad, ctx.kw["geometry"]),)


def _convolve(input: Tensor, weight: Tensor, bias: Tensor | None, geometry: tuple) -> Tensor:
    """The convolution itself: the columns of all samples side by side, then
    one matmul per group (O/G, C/G*K) @ (C/G*K, N*L), not one per sample;
    the bias add (or a copy) turns the (O, N, L) product into NCHW."""
    kernel, stride, dilation, pad_before, pad_after, out_size, groups = geometry
    batch, out_channels = input.shape[0], weight.shape[0]
    cols = im2col(input, geometry)
    positions = batch * math.prod(out_size)
    cols = cols.reshape(groups, cols.shape[0] // groups * cols.shape[1], positions)
    product = weight.reshape(groups, out_channels // groups, cols.shape[1]) @ cols  # (G, O/G, N*L)
    out = product.reshape(out_channels, batch, *out_size).transpose(0, 1)
    if bias is not None:  # NCHW (row-major) whatever the product's layout, as PyTorch
        return elementwise.apply_row_major(
            "add", out, bias.reshape((out_channels,) + (1,) * len(out_size)))
    return out.contiguous()


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


_sliding_blocks = output_size  # (fold's `output_size` argument shadows the function)


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """col2im, the adjoint of unfold: (N, C*kh*kw, L) -> (N, C, H, W), overlapping
    blocks summed, as torch.nn.functional.fold."""
    if input.ndim not in (2, 3):
        raise RuntimeError("Input Error: Only unbatched (2D) or batched (3D) input Tensors are "
                           f"supported (got {input.ndim}D)")
    unbatched = input.ndim == 2
    if unbatched:
        input = input.unsqueeze(0)
    size = _ntuple(2, "output_size")(output_size)
    kernel = _ntuple(2, "kernel_size")(kernel_size)
    dilation = _ntuple(2, "dilation")(dilation)
    pads = _ntuple(2, "padding")(padding)
    stride = _ntuple(2, "stride")(stride)
    block = math.prod(kernel)
    if input.shape[1] % block != 0:
        raise RuntimeError("Expected size of input's dimension 1 to be divisible by the product "
                           f"of kernel_size, but got input.size(1)={input.shape[1]} and "
                           f"kernel_size={kernel}")
    blocks = tuple(_sliding_blocks(s, k, st, p, p, d) for s, k, st, p, d in
                   zip(size, kernel, stride, pads, dilation))
    if any(b <= 0 for b in blocks):
        raise RuntimeError(f"Given output_size={size}, kernel_size={kernel}, dilation="
                           f"{dilation}, padding={pads}, stride={stride}, calculated shape of the "
                           f"array of sliding blocks as {blocks}, but its components must be at "
                           "least one.")
    if input.shape[2] != math.prod(blocks):
        raise RuntimeError(f"Given output_size={size}, kernel_size={kernel}, dilation="
                           f"{dilation}, padding={pads}, stride={stride}, expected size of "
                           "input's dimension 2 to match the calculated number of sliding blocks "
                           f"{blocks[0]} * {blocks[1]} = {math.prod(blocks)}, but got "
                           f"input.size(2)={input.shape[2]}.")
    channels = input.shape[1] // block
    table, _ = conv_table(channels, size, kernel, stride, dilation, pads, blocks,
                          str(input.device))
    plane = channels * math.prod(size)
    batch = input.shape[0]
    # Each column entry adds into the output position unfold would read it from;
    # entries that unfold reads from the padding land in one extra slot, dropped.
    summed = creation.zeros((batch, plane + 1), dtype=input.dtype, device=input.device)
    summed = summed.index_add(1, table.reshape(-1), input.reshape(batch, input.shape[1] *
                                                                  input.shape[2]))
    out = summed[:, :plane].reshape((batch, channels) + size)
    return out.squeeze(0) if unbatched else out


def conv_transpose(input: Tensor, weight: Tensor, bias: Tensor | None, stride, padding,
                   output_padding, groups: int, dilation, dims: int) -> Tensor:
    """conv_transpose{dims}d as the convolution it is the gradient of: the
    input spread out by `stride` (zeros between), padded by
    dilation*(k-1)-padding (+output_padding after; negative pads crop), then
    convolved with the flipped, in/out-swapped weight."""
    input, weight, bias = autocast_operands(input, weight, bias)
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
