"""Pooling: max/avg over sliding windows and adaptive average/max pooling.

Non-overlapping windows that tile the input exactly (the common kernel ==
stride case) are a reshape plus one reduction. Other geometries gather the
windows with the cached window table of conv.py (padding reads the dtype's
lowest value for max, 0 for average) and reduce the window axis; adaptive max
pooling gathers through a table of its uneven windows the same way. Max pooling reduces with
`max(dim)`, whose gradient goes to the one returned index, as PyTorch's does.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from lazyt import creation, dtypes, shape_ops
from lazyt.autograd import grad_mode
from lazyt.autograd.function import FREED_MESSAGE, GradNode, SavedTensor, gradient_edge
from lazyt.elementwise import where
from lazyt.nn._functional._utils import _ntuple
from lazyt.nn._functional.conv import gather_windows, output_size, pool_table
from lazyt.regions import differentiated_as, run_region
from lazyt.tensor import Tensor


def _pool_args(name: str, input: Tensor, dims: int, kernel_size, stride, padding, dilation):
    """(kernel, stride, pads, dilation) as tuples, after PyTorch's checks in its order."""
    kernel = _ntuple(dims, "kernel_size")(kernel_size)
    stride = kernel if stride is None or (not isinstance(stride, int) and len(stride) == 0) \
        else _ntuple(dims, "stride")(stride)
    pads = _ntuple(dims, "padding")(padding)
    dilation = _ntuple(dims, "dilation")(dilation)
    if any(p < 0 for p in pads):
        raise RuntimeError(f"{name}: pad must be non-negative, but got pad: "
                           f"{pads[0] if dims == 1 else pads}")
    if any(k <= 0 for k in kernel):
        raise RuntimeError(f"{name}: kernel_size must be greater than zero, but got {kernel}")
    if any(s <= 0 for s in stride):
        raise RuntimeError(f"{name}: stride must be greater than zero, but got "
                           f"{stride[0] if dims == 1 else stride}")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"{name}: dilation must be greater than zero, but got "
                           f"{dilation[0] if dims == 1 else dilation}")
    if any(p > ((k - 1) * d + 1) // 2 for p, k, d in zip(pads, kernel, dilation)):
        raise RuntimeError(f"{name}: pad should be at most half of effective kernel size, but "
                           f"got pad={pads[0] if dims == 1 else pads}, kernel_size="
                           f"{kernel[0] if dims == 1 else kernel} and dilation="
                           f"{dilation[0] if dims == 1 else dilation}")
    _check_pool_input(name, input, dims)
    return kernel, stride, pads, dilation


def _check_pool_input(name: str, input: Tensor, dims: int) -> None:
    """The rank, and no empty dim but the batch, with PyTorch's message for each pooling."""
    shape = list(input.shape)
    if input.ndim not in (dims + 1, dims + 2):
        if dims == 1:
            raise RuntimeError(f"{name}: Expected 2D or 3D (batch mode) tensor with optional 0 "
                               f"dim batch size for input, but got:{shape}")
        raise RuntimeError(f"non-empty {dims + 1}D or {dims + 2}D (batch mode) tensor expected "
                           "for input")
    first = 1 if input.ndim == dims + 2 else 0
    empty = [i for i in range(first, input.ndim) if shape[i] == 0]
    if not empty:
        return
    if dims == 3:
        raise RuntimeError(f"{name}(): Expected input's non-batch dimensions to have positive "
                           f"length, but input has a shape of {shape} and non-batch dimension "
                           f"{empty[0]} has length zero!")
    raise RuntimeError(f"{name}: Expected {dims + 1}D or {dims + 2}D (batch mode) tensor with "
                       f"optional 0 dim batch size for input, but got:{shape}")


def _out_sizes(name, in_size, kernel, stride, pads, dilation, ceil_mode):
    out = tuple(output_size(s, k, st, p, p, d, ceil_mode) for s, k, st, p, d in
                zip(in_size, kernel, stride, pads, dilation))
    if any(o <= 0 for o in out):
        if name == "max_pool1d":  # (PyTorch's 1-d max pooling words it so)
            raise RuntimeError(f"max_pool1d() Invalid computed output size: {out[0]}")
        raise RuntimeError(f"{name}: Given input size: {tuple(in_size)}. Calculated output "
                           f"size: {tuple(out)}. Output size is too small")
    return out


def _tiles_exactly(in_size, kernel, stride, pads, dilation, out_size) -> bool:
    return all(k == s and p == 0 and d == 1 and o * k == n for n, k, s, p, d, o in
               zip(in_size, kernel, stride, pads, dilation, out_size))


def _tiled(x: Tensor, lead: tuple, kernel: tuple, out_size: tuple) -> Tensor:
    """(lead..., *spatial) viewed as (lead..., o0, k0, o1, k1, ...)."""
    shape = list(lead)
    for o, k in zip(out_size, kernel):
        shape += [o, k]
    return x.reshape(shape)


def _windows(x: Tensor, kernel, stride, pads, dilation, out_size, slot_value) -> Tensor:
    """(B, *spatial) -> (B, L, K) windows via the cached gather table."""
    in_size = tuple(x.shape[1:])
    table, needs_slot = pool_table(in_size, kernel, stride, dilation, pads, out_size,
                                   str(x.device))
    return gather_windows(x.reshape(x.shape[0], -1), table, needs_slot, slot_value), table


def _max_pool(name: str, dims: int, input: Tensor, kernel_size, stride, padding, dilation,
              ceil_mode: bool, return_indices: bool):
    kernel, stride, pads, dilation = _pool_args(name, input, dims, kernel_size, stride,
                                                padding, dilation)
    in_size = tuple(input.shape[-dims:])
    out_size = _out_sizes(name, in_size, kernel, stride, pads, dilation, ceil_mode)
    table, needs_slot = pool_table(in_size, kernel, stride, dilation, pads, out_size,
                                   str(input.device))
    return _max_over_table(name, f"MaxPool{dims}DWithIndicesBackward0", input, dims, table,
                           needs_slot, out_size, return_indices)


def _max_over_table(name: str, grad_name: str, input: Tensor, dims: int, table: Tensor,
                    needs_slot: bool, out_size: tuple, return_indices: bool):
    """Max over the windows a (positions, window) table of flat plane indices
    names (index plane-size: padding), with the flat index of each maximum."""
    lead = tuple(input.shape[:-dims])
    in_size = tuple(input.shape[-dims:])
    planes = math.prod(lead)
    # Padding reads the dtype's lowest value (-inf; the minimum of an integer type).
    lowest = -math.inf if input.is_floating_point() else _lowest_integer(input)

    def pool_of(input, table):
        windows = gather_windows(input.reshape(planes, -1), table, needs_slot, lowest)
        values, picked = windows.max(-1)
        # The flat input index of each chosen element (PyTorch's indices).
        indices = table.expand(planes, *table.shape).gather(2, picked.unsqueeze(-1))
        return values.reshape(*lead, *out_size), indices.reshape(*lead, *out_size)

    # The values and indices as one fused region in eager mode (regions.py);
    # the gradient scatters into the saved indices, as PyTorch's does.
    with grad_mode.no_grad():
        out, indices = run_region(name, pool_of, (input, table), (lead, out_size, needs_slot))
    if grad_mode.is_grad_enabled() and input.requires_grad:
        node = _MaxPoolNode(grad_name, input, indices, planes, math.prod(in_size))
        out._requires_grad = True
        out.grad_fn = node
    return (out, indices) if return_indices else out


def _lowest_integer(input: Tensor) -> int:
    if input.dtype is dtypes.bool_:
        return 0
    return int(np.iinfo(input.dtype.numpy_storage).min)


class _MaxPoolNode(GradNode):
    """The max-pools' grad_fn: each output's gradient goes to the input
    element its index names (summed where windows overlap)."""

    def __init__(self, name: str, input: Tensor, indices: Tensor, planes: int, plane: int):
        super().__init__((gradient_edge(input),))
        self._name = name
        self.input_shape = tuple(input.shape)
        self.planes, self.plane = planes, plane  # input planes, elements per plane
        self.indices = SavedTensor(indices)

    def name(self) -> str:
        return self._name

    def apply(self, grads: list) -> list:
        if self.indices is None:
            raise RuntimeError(FREED_MESSAGE)
        indices = self.indices.unpack(self)
        planes, plane, shape = self.planes, self.plane, self.input_shape

        def scatter_back(grad, indices):
            # (+1: a window of padding only names the slot past the plane)
            out = creation.zeros(planes, plane + 1, dtype=grad.dtype, device=grad.device)
            out = out.scatter_add(1, indices.reshape(planes, -1), grad.reshape(planes, -1))
            return out[:, :plane].reshape(shape)

        if grads[0].numel() == 0:
            return [creation.zeros(shape, dtype=grads[0].dtype, device=grads[0].device)]
        return [run_region("max_pool backward", scatter_back, (grads[0], indices),
                           (shape, planes, plane))]

    def release(self) -> None:
        self.indices = None


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool3d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def _avg_pool(name: str, dims: int, input: Tensor, kernel_size, stride, padding,
              ceil_mode: bool, count_include_pad: bool, divisor_override) -> Tensor:
    kernel, stride, pads, dilation = _pool_args(name, input, dims, kernel_size, stride,
                                                padding, 1)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    in_size = tuple(input.shape[-dims:])
    out_size = _out_sizes(name, in_size, kernel, stride, pads, dilation, ceil_mode)

    def pool_of(input):
        return _avg_pooled(input, dims, kernel, stride, pads, dilation, in_size, out_size,
                           count_include_pad, divisor_override)

    if dims == 1:  # (PyTorch's is AvgPool2D between an unsqueeze and a squeeze)
        return pool_of(input)
    return differentiated_as(name, pool_of, (input,), (kernel, stride, pads, count_include_pad,
                                                       divisor_override),
                             f"AvgPool{dims}DBackward0")


def _avg_pooled(input: Tensor, dims: int, kernel, stride, pads, dilation, in_size, out_size,
                count_include_pad: bool, divisor_override) -> Tensor:
    lead = tuple(input.shape[:-dims])
    # An integer input gives integers: the window sum divided with truncation.
    divide = _divide if input.is_floating_point() else _truncating_divide
    if _tiles_exactly(in_size, kernel, stride, pads, dilation, out_size):
        tiled = _tiled(input, lead, kernel, out_size)
        axes = tuple(len(lead) + 2 * i + 1 for i in range(dims))
        if divisor_override is not None:
            return divide(tiled.sum(axes), divisor_override)
        if input.is_floating_point():
            return tiled.mean(axes)
        return divide(tiled.sum(axes), math.prod(kernel))
    planes = math.prod(lead)
    windows, _ = _windows(input.reshape(planes, *in_size), kernel, stride, pads, dilation,
                          out_size, 0)
    total = windows.sum(-1).reshape(*lead, *out_size)
    if divisor_override is not None:
        return divide(total, divisor_override)
    return divide(total, _divisors(in_size, kernel, stride, pads, out_size, count_include_pad,
                                   total.dtype, input.device))


def _divide(total: Tensor, divisor) -> Tensor:
    return total / divisor


def _truncating_divide(total: Tensor, divisor) -> Tensor:
    return total.div(divisor, rounding_mode="trunc")


def _divisors(in_size, kernel, stride, pads, out_size, count_include_pad, dtype, device):
    """Per output position: how many elements PyTorch divides the window sum by.

    count_include_pad counts the padding but not the part of a ceil_mode
    window beyond it; otherwise only the elements inside the input count."""
    counts = None
    for d, (n, k, s, p, o) in enumerate(zip(in_size, kernel, stride, pads, out_size)):
        start = creation.arange(o) * s - p
        if count_include_pad:
            end = (start + k).clamp(max=n + p)
        else:
            end = (start + k).clamp(max=n)
            start = start.clamp(min=0)
        length = (end - start).reshape([o if i == d else 1 for i in range(len(in_size))])
        counts = length if counts is None else counts * length
    return counts.to(device=device, dtype=dtype)


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None)


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override=None) -> Tensor:
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def avg_pool3d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override=None) -> Tensor:
    return _avg_pool("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def _adaptive_bounds(in_size: int, out_size: int) -> list[tuple[int, int]]:
    """PyTorch's adaptive windows: [floor(i*n/o), ceil((i+1)*n/o))."""
    return [((i * in_size) // out_size, -(-((i + 1) * in_size) // out_size))
            for i in range(out_size)]


def _adaptive_sizes(name: str, input: Tensor, dims: int, output_size) -> tuple:
    if isinstance(output_size, (tuple, list)):
        # PyTorch's checks, in its order (the first is in its Python wrapper)
        if dims > 1 and len(output_size) and input.ndim <= len(output_size):
            raise ValueError(f"Input dimension should be at least {len(output_size) + 1}")
        is_max = "max" in name
        if len(output_size) != dims:
            if dims == 1:
                raise RuntimeError(f"{name}() argument 'output_size' should contain one int "
                                   f"(got {len(output_size)})")
            if is_max:
                raise RuntimeError(f"{name}(): internal error: output_size.size() must be {dims}")
            raise RuntimeError(f"{name}: output_size must be {dims}")
        negative = [o for o in output_size if o is not None and o < 0]
        if negative and is_max:
            out_shape = list(input.shape[:-dims]) + list(output_size)
            raise RuntimeError(f"Trying to create tensor with negative dimension {negative[0]}: "
                               f"{out_shape}")
        if negative:
            raise RuntimeError(f"{name}: elements of output_size must be greater than or equal "
                               f"to 0 but received {list(output_size)}")
    if input.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(f"{name}(): Expected {dims + 1}D or {dims + 2}D tensor, but got "
                           f"{list(input.shape)}")
    sizes = _ntuple(dims, "output_size")(output_size)
    in_size = tuple(input.shape[-dims:])
    return tuple(n if o is None else o for o, n in zip(sizes, in_size)), in_size


def _adaptive_avg(name: str, dims: int, input: Tensor, output_size):
    out_size, in_size = _adaptive_sizes(name, input, dims, output_size)
    if dims == 1 or all(o == 1 for o in out_size):  # (PyTorch's: a squeeze; a mean)
        return _adaptive_averaged(input, dims, in_size, out_size)
    return differentiated_as(name, lambda x: _adaptive_averaged(x, dims, in_size, out_size),
                             (input,), (out_size,), f"AdaptiveAvgPool{dims}DBackward0")


def _adaptive_averaged(input: Tensor, dims: int, in_size: tuple, out_size: tuple) -> Tensor:
    lead = tuple(input.shape[:-dims])
    if all(n % o == 0 for n, o in zip(in_size, out_size)):
        kernel = tuple(n // o for n, o in zip(in_size, out_size))
        tiled = _tiled(input, lead, kernel, out_size)
        return tiled.mean(tuple(len(lead) + 2 * i + 1 for i in range(dims)))
    # Uneven windows: average each window along one dim at a time (windows
    # are separable), stacking the out_size slices.
    out = input
    for d in range(dims):
        axis = len(lead) + d
        pieces = []
        for start, end in _adaptive_bounds(in_size[d], out_size[d]):
            pieces.append(out.narrow(axis, start, end - start).mean(axis, keepdim=True))
        out = shape_ops.cat(pieces, axis)
    return out


@lru_cache(maxsize=64)
def _adaptive_table(in_size: tuple, out_size: tuple, device: str) -> tuple[Tensor, bool]:
    """(prod(out_size), largest window) flat plane indices of each adaptive
    window, prod(in_size) (the padding slot) past a window's end; needs_slot."""
    dims = len(in_size)
    flat, inside, stride = None, None, 1
    for d in reversed(range(dims)):
        bounds = _adaptive_bounds(in_size[d], out_size[d])
        widest = max(end - start for start, end in bounds)
        starts = creation.tensor([start for start, _ in bounds]).unsqueeze(1)
        lengths = creation.tensor([end - start for start, end in bounds]).unsqueeze(1)
        offsets = creation.arange(widest).unsqueeze(0)
        # (out_d, widest) placed on axes d and dims + d of (out..., window...)
        shape = [1] * (2 * dims)
        shape[d], shape[dims + d] = out_size[d], widest
        position = ((starts + offsets) * stride).reshape(shape)
        valid = (offsets < lengths).reshape(shape)
        flat = position if flat is None else flat + position
        inside = valid if inside is None else inside & valid
        stride *= in_size[d]
    table = where(inside, flat, math.prod(in_size)).reshape(math.prod(out_size), -1)
    needs_slot = any(n % o != 0 for n, o in zip(in_size, out_size))
    return table.to(device).realize(), needs_slot


def _adaptive_max(name: str, dims: int, input: Tensor, output_size, return_indices: bool):
    out_size, in_size = _adaptive_sizes(name, input, dims, output_size)
    table, needs_slot = _adaptive_table(in_size, out_size, str(input.device))
    return _max_over_table(name, f"AdaptiveMaxPool{dims}DBackward0", input, dims, table,
                           needs_slot, out_size, return_indices)


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    return _adaptive_avg("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    return _adaptive_avg("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool3d(input: Tensor, output_size) -> Tensor:
    return _adaptive_avg("adaptive_avg_pool3d", 3, input, output_size)


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool3d(input: Tensor, output_size, return_indices: bool = False):
    return _adaptive_max("adaptive_max_pool3d", 3, input, output_size, return_indices)


def _lp_pool(name: str, dims: int, input: Tensor, norm_type: float, kernel_size, stride,
             ceil_mode: bool) -> Tensor:
    """PyTorch's lp_pool: (avg_pool of x**p, times the window size) ** (1/p)."""
    kernel = _ntuple(dims, "kernel_size")(kernel_size)
    average = (avg_pool1d, avg_pool2d, avg_pool3d)[dims - 1]
    if stride is not None:
        out = average(input.pow(norm_type), kernel, stride, 0, ceil_mode)
    else:
        out = average(input.pow(norm_type), kernel, padding=0, ceil_mode=ceil_mode)
    # PyTorch's sign(out) * relu(abs(out)); the where passes the gradient of a nan
    # (a negative input to a fractional power) on as relu's backward does in PyTorch.
    magnitude = out.abs()
    magnitude = where(magnitude <= 0, 0.0, magnitude)
    return (out.sign() * magnitude).mul(math.prod(kernel)).pow(1.0 / norm_type)


def lp_pool1d(input: Tensor, norm_type: float, kernel_size, stride=None,
              ceil_mode: bool = False) -> Tensor:
    return _lp_pool("lp_pool1d", 1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size, stride=None,
              ceil_mode: bool = False) -> Tensor:
    return _lp_pool("lp_pool2d", 2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input: Tensor, norm_type: float, kernel_size, stride=None,
              ceil_mode: bool = False) -> Tensor:
    return _lp_pool("lp_pool3d", 3, input, norm_type, kernel_size, stride, ceil_mode)
