"""F.max_unpool1d/2d/3d: the partial inverse of max pooling. Each pooled value
goes back to the flat plane position its index names (a scatter into zeros,
so the gradient is a gather of the output gradient at the same indices)."""

from __future__ import annotations

import math

from lazyt import creation, dtypes
from lazyt.nn._functional._utils import _ntuple
from lazyt.tensor import Tensor


def _unpool_output_size(input: Tensor, kernel: tuple, stride: tuple, pads: tuple,
                        output_size) -> tuple:
    """PyTorch's _unpool_output_size: the default size, or a given one within a stride of it."""
    dims = len(kernel)
    in_size = tuple(input.shape[-dims:])
    default = [(n - 1) * s + k - 2 * p for n, s, k, p in zip(in_size, stride, kernel, pads)]
    if output_size is None:
        return tuple(default)
    output_size = tuple(output_size)
    if len(output_size) == dims + 2:
        output_size = output_size[2:]
    if len(output_size) != dims:
        raise ValueError(f"output_size should be a sequence containing {dims} or {dims + 2} "
                         f"elements, but it has a length of '{len(output_size)}'")
    for d in range(dims):
        min_size, max_size = default[d] - stride[d], default[d] + stride[d]
        if not min_size < output_size[d] < max_size:
            raise ValueError(f'invalid output_size "{list(output_size)}" (dim {d} must be '
                             f"between {min_size} and {max_size})")
    return tuple(output_size)


def _max_unpool(name: str, dims: int, input: Tensor, indices: Tensor, kernel_size, stride,
                padding, output_size) -> Tensor:
    kernel = _ntuple(dims, "kernel_size")(kernel_size)
    stride = kernel if stride is None else _ntuple(dims, "stride")(stride)
    pads = _ntuple(dims, "padding")(padding)
    if indices.dtype is not dtypes.int64:
        raise RuntimeError(f"elements in indices should be type int64 but got: "
                           f"{indices.dtype}")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor "
                           f"({list(input.shape)}) but got indices tensor with shape: "
                           f"{list(indices.shape)}")
    if input.ndim not in (dims + 1, dims + 2) or any(n == 0 for n in input.shape[1:]):
        raise RuntimeError(f"{name}(): Expected {dims + 1}D or {dims + 2}D tensor with "
                           f"non-zero sizes other than the batch dimension, but got "
                           f"{list(input.shape)}")
    out_size = _unpool_output_size(input, kernel, stride, pads, output_size)
    lead = tuple(input.shape[:-dims])
    planes = math.prod(lead)
    out = creation.zeros(planes, math.prod(out_size), dtype=input.dtype, device=input.device)
    out = out.scatter(1, indices.reshape(planes, -1), input.reshape(planes, -1))
    return out.reshape(*lead, *out_size)


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool3d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    return _max_unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding,
                       output_size)
