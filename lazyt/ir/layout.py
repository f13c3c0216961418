"""The strides PyTorch gives a fresh result computed over strided operands.

PyTorch's TensorIterator does not allocate every result row-major: it sorts
the result's dims by the operands' strides (fastest first) and lays the
result out densely in that order, so an op over a transposed input returns a
transposed result. Ops that lazyt builds the same way (advanced indexing)
use `iterator_strides` to give their result PyTorch's strides. Pure data
(shapes and strides in, strides out); the frontend picks the operands.
"""

from __future__ import annotations

from lazyt.ir.view import View


def operand_strides(shape: tuple[int, ...], strides: tuple[int, ...],
                    out_shape: tuple[int, ...]) -> tuple[int, ...]:
    """An operand's strides over the result's dims, as TensorIterator sees
    them: right-aligned, with 0 for dims it lacks or broadcasts from 1."""
    lead = len(out_shape) - len(shape)
    out = [0] * lead
    for size, stride, out_size in zip(shape, strides, out_shape[lead:]):
        out.append(0 if size == 1 and out_size != 1 else stride)
    return tuple(out)


def iterator_strides(shape: tuple[int, ...], operands: list[tuple[int, ...]]) -> tuple[int, ...]:
    """Strides of a dense result of `shape` over operands (their strides, from
    operand_strides, in PyTorch's operand order): TensorIterator's
    reorder_dimensions (an insertion sort where an operand with a 0 stride in
    either dim abstains, and equal strides put the smaller dim first), then
    the result laid out densely in that order (row-major when it is the
    natural order)."""
    ndim = len(shape)
    perm = list(range(ndim - 1, -1, -1))  # fastest dim first

    def should_swap(dim0: int, dim1: int) -> int:
        for strides in operands:
            stride0, stride1 = strides[dim0], strides[dim1]
            if stride0 == 0 or stride1 == 0:
                continue
            if stride0 != stride1:
                return -1 if stride0 < stride1 else 1
            if shape[dim0] > shape[dim1]:
                return 1
        return 0

    for i in range(1, ndim):
        dim1 = i
        for dim0 in range(i - 1, -1, -1):
            comparison = should_swap(perm[dim0], perm[dim1])
            if comparison > 0:
                perm[dim0], perm[dim1] = perm[dim1], perm[dim0]
                dim1 = dim0
            elif comparison < 0:
                break
    if perm == list(range(ndim - 1, -1, -1)):
        return View.contiguous(shape).strides
    strides = [0] * ndim
    next_stride = 1
    for dim in perm:
        strides[dim] = next_stride
        next_stride *= shape[dim]
    return tuple(strides)


def is_non_overlapping_and_dense(shape: tuple[int, ...], strides: tuple[int, ...]) -> bool:
    """PyTorch's is_non_overlapping_and_dense: the elements tile a block of
    memory exactly, in some dim order (size-0/1 dims may have any stride)."""
    if len(shape) == 1:
        return shape[0] < 2 or strides[0] == 1
    order = sorted((d for d in range(len(shape)) if shape[d] >= 2), key=lambda d: strides[d])
    required = 1
    for d in order:
        if strides[d] != required:
            return False
        required *= shape[d]
    return True


def _channels_last_strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    """PyTorch's get_channels_last_strides_2d (NHWC order; size-0 dims count as 1)."""
    n, c, h, w = (max(size, 1) for size in shape)
    return (h * w * c, 1, w * c, c)


def preserve_format_strides(shape: tuple[int, ...], strides: tuple[int, ...]) -> tuple[int, ...]:
    """Strides of a copy of a tensor made with memory_format=preserve_format
    (clone, .to(dtype), empty_like): its own strides when it is
    non-overlapping and dense, else dense in the order of its strides
    (PyTorch's infer_dense_strides: an expanded transposed tensor's clone
    keeps the transposed order)."""
    if is_non_overlapping_and_dense(shape, strides):
        return tuple(strides)
    return iterator_strides(tuple(shape), [tuple(strides)])


def _is_contiguous(shape: tuple[int, ...], strides: tuple[int, ...]) -> bool:
    return View(tuple(shape), tuple(strides), 0).is_contiguous()


def _is_channels_last(shape: tuple[int, ...], strides: tuple[int, ...]) -> bool:
    """PyTorch's channels-last contiguity (4-D): NHWC strides, size-1 dims free."""
    if len(shape) != 4:
        return False
    if 0 in shape:
        return True
    expected = 1
    for d in (1, 3, 2, 0):
        if shape[d] != 1:
            if strides[d] != expected:
                return False
            expected *= shape[d]
    return True


def elementwise_strides(shape: tuple[int, ...], operands: list[tuple[tuple, tuple]]
                        ) -> tuple[int, ...]:
    """Strides PyTorch's TensorIterator gives the result of an elementwise op
    of `shape` over tensor operands ((shape, strides) each, in argument order;
    Python scalars left out). Its fast setup: operands all of the result's
    shape and all contiguous (row-major), all channels-last (that), or all
    non-overlapping and dense with one set of strides (those strides);
    otherwise the dims sorted by the operands' strides (iterator_strides)."""
    if operands and all(tuple(s) == tuple(shape) for s, _ in operands):
        if all(_is_contiguous(s, st) for s, st in operands):
            return View.contiguous(shape).strides
        if all(_is_channels_last(s, st) for s, st in operands):
            return _channels_last_strides(shape)
        first = tuple(operands[0][1])
        if all(tuple(st) == first and is_non_overlapping_and_dense(s, st) for s, st in operands):
            return first
    return iterator_strides(shape, [operand_strides(s, st, shape) for s, st in operands])
