"""Combinatorial constructions and flat-index writes: block_diag, cartesian_prod,
combinations, diagflat, unravel_index, put(_) and index_reduce(_).

Frontend layer beside lazyt/shape_ops.py and lazyt/index_ops.py: each op is a
composition of lazyt ops (cat, meshgrid, index_select, diag, floor_divide,
scatter, scatter_reduce), so gradients come from those ops' rules. The only
values computed in Python are index patterns that depend on sizes alone (which
pairs combinations picks), as arange's are.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from lazyt import creation, dtypes, index_ops, indexing, reductions, shape_ops
from lazyt import elementwise as ew
from lazyt.tensor import Tensor, normalize_dim


def block_diag(*tensors: Tensor) -> Tensor:
    """The tensors (0-, 1- or 2-d, as 1x1, 1xn or mxn blocks) along a block diagonal."""
    blocks = []
    for position, t in enumerate(tensors):
        if t.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. "
                               f"Input {position} has {t.ndim} dimensions")
        blocks.append(t.reshape(1, -1) if t.ndim < 2 else t)
    dtype = dtypes.result_type(*tensors) if tensors else dtypes.get_default_dtype()
    width = sum(b.shape[1] for b in blocks)
    if not blocks:
        return creation.empty((1, 0), dtype=dtype)
    rows, left = [], 0
    for b in blocks:
        height, columns = b.shape
        right = width - left - columns
        rows.append(shape_ops.cat([creation.zeros((height, left), dtype=dtype),
                                   ew.cast_if(b, dtype),
                                   creation.zeros((height, right), dtype=dtype)], 1))
        left += columns
    return shape_ops.cat(rows, 0)


def _check_vector(t: Tensor) -> None:
    if t.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")


def cartesian_prod(*tensors: Tensor) -> Tensor:
    """Every tuple of one element from each 1-d tensor, as the rows of a matrix (the
    tensor itself for one tensor)."""
    for t in tensors:
        _check_vector(t)
    if len(tensors) == 1:
        return ew.clone(tensors[0])
    grids = shape_ops.meshgrid(*tensors, indexing="ij")
    return shape_ops.stack([g.reshape(-1) for g in grids], 1)


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """The length-r combinations of input's elements (rows in lexicographic order of
    position), like itertools.combinations(_with_replacement)."""
    _check_vector(input)
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return creation.empty((0,), dtype=input.dtype)
    choose = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    positions = [p for combo in choose(range(input.shape[0]), r) for p in combo]
    index = creation.tensor(positions, dtype=dtypes.int64)
    return indexing.index_select(input, 0, index).reshape(-1, r)


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """A square matrix with input's elements (flattened) on its offset diagonal."""
    return shape_ops.diag(input.reshape(-1), offset)


def unravel_index(indices: Tensor, shape) -> tuple[Tensor, ...]:
    """Coordinates in a tensor of `shape` of each flat index (negative ones wrap)."""
    if indices.dtype.kind == "f" or indices.dtype is dtypes.bool_:
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    if isinstance(shape, int):
        shape = (shape,)
    elif isinstance(shape, Sequence):
        for size in shape:
            if not isinstance(size, int):
                raise TypeError(f"expected 'shape' sequence to only contain ints, but got "
                                f"{type(size)}")
        shape = tuple(shape)
    else:
        raise TypeError(f"expected 'shape' to be int or sequence of ints, but got {type(shape)}")
    if any(size < 0 for size in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {shape}")
    strides = list(itertools.accumulate(reversed(shape[1:] + (1,)), lambda a, b: a * b))[::-1]
    coordinates = ew.remainder(
        ew.floor_divide(indices.unsqueeze(-1), creation.tensor(strides, dtype=dtypes.int64)),
        creation.tensor(list(shape), dtype=dtypes.int64))
    return coordinates.unbind(-1)


# ---- writes at flat indices and index reductions ----------------------------------------------

def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """A copy of input with source written (or added, with accumulate) at the flat
    positions index (negative ones count from the end)."""
    if index.dtype is not dtypes.int64:
        raise RuntimeError(f"put_(): Expected a long tensor for index, but got "
                           f"{ew.TORCH_NAMES.get(index.dtype.name, index.dtype.name)}")
    if source.dtype is not input.dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got "
                           f"self.dtype = {ew.TORCH_NAMES[input.dtype.name]} and source.dtype = "
                           f"{ew.TORCH_NAMES[source.dtype.name]}")
    if source.numel() != index.numel():
        raise RuntimeError(f"put_(): Expected source and index to have the same number of "
                           f"elements, but got source.numel() = {source.numel()}, "
                           f"index.numel() = {index.numel()}")
    numel = input.numel()
    flat_index = index.reshape(-1)
    if flat_index.numel():
        if numel == 0:
            raise IndexError("put_(): Tried to indexing on an empty tensor")
        low, high = int(reductions.amin(flat_index)), int(reductions.amax(flat_index))
        for bad in (low, high):
            if not -numel <= bad < numel:
                raise IndexError(f"out of range: tried to access index {bad} on a tensor of "
                                 f"{numel} elements.")
    flat_index = ew.where(ew.apply("lt", flat_index, 0), ew.add(flat_index, numel), flat_index)
    flat = input.reshape(-1)
    values = source.reshape(-1)
    if accumulate:
        written = indexing.scatter_add(flat, 0, flat_index, values)
    else:
        written = indexing.scatter(flat, 0, flat_index, values)
    return written.reshape(tuple(input.shape))


def put_(self: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    return ew.copy_(self, put(self, index, source, accumulate))


_INDEX_REDUCTIONS = ("prod", "mean", "amax", "amin")


def index_reduce(input: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str, *,
                 include_self: bool = True) -> Tensor:
    """A copy of input with source's slices along dim reduced (prod, mean, amax, amin)
    into the slices index names."""
    if reduce not in _INDEX_REDUCTIONS:
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or "
                           f"amin but got {reduce}.")
    if index.ndim > 1:
        raise IndexError("index_reduce_(): Index is supposed to be a vector")
    if index.dtype not in (dtypes.int32, dtypes.int64):
        raise RuntimeError("index_reduce_(): Expected dtype int32/int64 for index")
    if source.dtype is not input.dtype:
        raise RuntimeError("index_reduce_(): self (" + ew.TORCH_NAMES[input.dtype.name] +
                           ") and source (" + ew.TORCH_NAMES[source.dtype.name] +
                           ") must have the same scalar type")
    dim = normalize_dim(dim, input.ndim)
    source_dims = max(source.ndim, 1)
    if source_dims != max(input.ndim, 1):
        raise IndexError("index_reduce_(): Source and self must have the same number of "
                         "dimensions")
    slices = source.shape[dim] if source.ndim else 1
    if index.numel() != slices:
        raise IndexError("index_reduce_(): Number of indices (" + str(index.numel()) +
                         ") should be equal to source.size(dim) (" + str(slices) + ")")
    if input.ndim and any(source.shape[d] != input.shape[d] for d in range(input.ndim)
                          if d != dim):
        raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the "
                           f"specified dimension. Got self.shape = {list(input.shape)} "
                           f"source.shape = {list(source.shape)}")
    size = input.shape[dim] if input.ndim else 1
    if index.numel() and not bool(ew.logical_and(ew.apply("ge", index, 0),
                                                 ew.apply("lt", index, size)).all()):
        raise IndexError("index out of range in self")
    if input.ndim == 0:
        return index_ops.scatter_reduce(input.reshape(1), 0, index.reshape(-1).to(dtypes.int64),
                                        source.reshape(1), reduce,
                                        include_self=include_self).reshape(())
    # One index per source element: index's entry for the element's slice along dim.
    shape = [1] * source.ndim
    shape[dim] = slices
    expanded = index.to(dtypes.int64).reshape(shape).expand(tuple(source.shape))
    return index_ops.scatter_reduce(input, dim, expanded, source, reduce,
                                    include_self=include_self)


def index_reduce_(self: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str, *,
                  include_self: bool = True) -> Tensor:
    return ew.copy_(self, index_reduce(self, dim, index, source, reduce,
                                       include_self=include_self))


FUNCTIONS = {
    "block_diag": block_diag, "cartesian_prod": cartesian_prod, "combinations": combinations,
    "diagflat": diagflat, "unravel_index": unravel_index, "put": put,
    "index_reduce": index_reduce,
}
TENSOR_METHODS = {
    "diagflat": diagflat, "put": put, "put_": put_, "index_reduce": index_reduce,
    "index_reduce_": index_reduce_,
}
