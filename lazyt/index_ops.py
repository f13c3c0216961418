"""Indexed reads and writes built on indexing.py's gather/scatter kernels:
take_along_dim, index_copy, index_fill, masked_scatter and scatter_reduce.

Each op checks its arguments with PyTorch's messages, then runs one of the
kernels of lazyt/indexing.py (gather, index_put, scatter with an accumulating
op). Gradients come from the rules of those kernels (index, index_put,
scatter, scatter_add); scatter_reduce's prod/amax/amin gradients, which no
kernel rule covers, are a custom autograd Function written with lazyt ops.
"""

from __future__ import annotations

import re

from lazyt import counting, creation, dtypes, indexing
from lazyt import elementwise as ew
from lazyt.autograd import grad_mode
from lazyt.autograd.function import Function
from lazyt.runtime.launch import INDEX_OUT_OF_BOUNDS
from lazyt.tensor import Tensor, broadcast_shapes, normalize_dim

_TORCH_TYPE = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
               "uint8": "Byte", "bool": "Bool", "float32": "Float", "float64": "Double",
               "float16": "Half", "bfloat16": "BFloat16"}


def _type_name(dtype) -> str:
    return _TORCH_TYPE.get(dtype.name, dtype.name)


# ------------------------------------------------------------------ reads
def take(input: Tensor, index: Tensor) -> Tensor:
    """input.flatten()[index], shaped like index; negative indices count from the end."""
    if index.dtype is not dtypes.int64:
        raise RuntimeError(f"take(): Expected a long tensor for index, but got "
                           f"{_type_name(index.dtype)}")
    try:
        return indexing.getitem(input.reshape(-1), index)
    except IndexError as e:
        found = re.match(r"index (-?\d+) is out of bounds", str(e))
        if not found:
            raise
        raise IndexError(f"out of range: tried to access index {found.group(1)} on a tensor of "
                         f"{input.numel()} elements.") from None


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """gather along dim after broadcasting input and indices in the other dims.
    Along a dim, an index wraps modulo its size (-1 is the last, as does PyTorch's)."""
    if dim is None:  # (gather's index rule: int32 or int64)
        return indexing.gather(input.reshape(-1), 0, indices.reshape(-1))
    if indices.dtype is not dtypes.int64:
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be Long but got "
                           f"{_type_name(indices.dtype)}")
    if input.ndim != indices.ndim:
        raise RuntimeError(
            f"torch.take_along_dim(): input and indices should have the same number of "
            f"dimensions, but got {input.ndim} dimensions for input, and {indices.ndim} "
            f"dimensions for indices")
    dim = normalize_dim(dim, input.ndim)
    input_shape, index_shape = list(input.shape), list(indices.shape)
    input_shape[dim] = index_shape[dim] = 1
    shape = list(broadcast_shapes(tuple(input_shape), tuple(index_shape)))
    shape[dim] = input.shape[dim]
    input = input.expand(shape)
    shape[dim] = indices.shape[dim]
    if input.shape[dim]:
        indices = ew.remainder(indices, input.shape[dim])
    return indexing.gather(input, dim, indices.expand(shape))


# ------------------------------------------------------------------ writes along a dim
def _index_plan(self: Tensor, dim: int, index: Tensor):
    parsed = indexing._Parsed(self._view)
    parsed.advanced = [(dim, index.reshape(-1))]
    return indexing._advanced_plan(parsed, INDEX_OUT_OF_BOUNDS)  # IndexError, as torch


def _check_dim_index(name: str, self: Tensor, dim: int, index: Tensor) -> int:
    if index.ndim > 1:
        raise IndexError(f"{name}(): Index should have dimension 1 or 0 (got {index.ndim})")
    if index.dtype is not dtypes.int64:
        raise RuntimeError(f"{name}(): Expected a long tensor for index, but got "
                           f"{_type_name(index.dtype)}")
    return normalize_dim(dim, self.ndim)


def index_copy_(self: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """self.select(dim, index[i]) = source.select(dim, i) for each i."""
    dim = _check_dim_index("index_copy_", self, dim, index)
    if self.ndim == 0:
        index_copy_(self.unsqueeze(0), 0, index, source.reshape(1))
        return self
    if source.dtype is not self.dtype:
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, but "
                           f"got (self) {_type_name(self.dtype)} and (source) "
                           f"{_type_name(source.dtype)}")
    source_view = source.unsqueeze(0) if source.ndim == 0 else source
    count = index.numel()
    self_slice = [size for d, size in enumerate(self.shape) if d != dim]
    source_slice = [size for d, size in enumerate(source_view.shape) if d != dim]
    if self_slice != source_slice:
        raise RuntimeError(
            f"index_copy_(): Source/destination tensor must have same slice shapes. Destination "
            f"slice shape: {' '.join(map(str, self_slice))} at dimension {dim} and source slice "
            f"shape: {' '.join(map(str, source_slice))} at dimension 0.")
    if source_view.shape[dim] != count:
        raise IndexError(f"index_copy_(): Number of indices ({count}) should be equal to "
                         f"source.size(dim) ({source_view.shape[dim]})")
    if count == 0:
        return self
    shape, mapping, index_nodes = _index_plan(self, dim, index)
    indexing.index_put(self, self._view, shape, mapping, index_nodes, source_view.reshape(shape),
                       None, (slice(None),) * dim + (index.reshape(-1),))
    return self


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    return index_copy_(ew.clone(input), dim, index, source)


def index_fill_(self: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """self.select(dim, i) = value for each i in index."""
    if index.ndim > 1:
        raise RuntimeError("Index has to be a vector/scalar")
    if index.dtype is not dtypes.int64:
        raise IndexError("index_fill_(): Expected dtype int64 for index.")
    dim = normalize_dim(dim, self.ndim)
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value.ndim} dimension(s).")
    if self.ndim == 0:
        index_fill_(self.unsqueeze(0), 0, index, value)
        return self
    if index.numel() == 0:
        return self
    if isinstance(value, Tensor) and value.dtype is not self.dtype:
        value = ew.cast(value, self.dtype)
    # index_fill counts negative indices from the end (index_copy does not).
    index = ew.where(ew.apply("lt", index, 0), ew.add(index, self.shape[dim]), index)
    if isinstance(value, Tensor) and value.requires_grad:
        # Each filled slice counts once in value's gradient, however often it is named.
        index = counting.unique(index)
    shape, mapping, index_nodes = _index_plan(self, dim, index)
    indexing.index_put(self, self._view, shape, mapping, index_nodes, value, None,
                       (slice(None),) * dim + (index.reshape(-1),))
    return self


def index_fill(input: Tensor, dim: int, index: Tensor, value) -> Tensor:
    return index_fill_(ew.clone(input), dim, index, value)


# ------------------------------------------------------------------ masked_scatter
def masked_scatter_(self: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """Copy source's leading elements, in order, into the positions where mask is True."""
    if mask.dtype is not dtypes.bool_:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype "
                           f"{_type_name(mask.dtype)}")
    if source.dtype is not self.dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but "
                           f"got{_type_name(self.dtype)} and {_type_name(source.dtype)}")
    mask = mask.expand(self.shape)
    coords = indexing.nonzero(mask, as_tuple=True)  # realises the mask: sizes depend on it
    count = coords[0].shape[0]
    if source.numel() < count:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    if count == 0:
        return self
    values = source.reshape(-1).narrow(0, 0, count)
    if self.ndim == 0:
        return ew.copy_(self, values.reshape(()))
    self[coords] = values
    return self


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    shape = broadcast_shapes(input.shape, mask.shape)
    return masked_scatter_(ew.clone(input.expand(shape)), mask, source)


# ------------------------------------------------------------------ scatter_reduce
_ACCUMULATE = {"sum": "add", "mean": "add", "prod": "mul", "amax": "maximum", "amin": "minimum"}


def _identity(reduce: str, dtype):
    """The value a scattered-to element starts from when include_self=False."""
    if reduce in ("sum", "mean"):
        return False if dtype is dtypes.bool_ else 0
    if reduce == "prod":
        return True if dtype is dtypes.bool_ else 1
    if dtype is dtypes.bool_:
        return reduce == "amin"
    info = dtypes.finfo(dtype) if dtype.kind == "f" else dtypes.iinfo(dtype)
    if dtype.kind == "f":
        return float("-inf") if reduce == "amax" else float("inf")
    return info.min if reduce == "amax" else info.max


def _scatter_reduce_values(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str,
                           include_self: bool) -> Tensor:
    """The forward result, with no gradient recorded."""
    with grad_mode.no_grad():
        out = ew.clone(input)
        if not include_self:
            indexing.scatter_kernel(out, dim, index, _identity(reduce, input.dtype), None)
        indexing.scatter_kernel(out, dim, index, src, _ACCUMULATE[reduce])
        if reduce == "mean":
            out = ew.div(out, _mean_counts(input, dim, index, include_self),
                         rounding_mode=None if out.dtype.kind == "f" else "floor")
    return out


def _mean_counts(input: Tensor, dim: int, index: Tensor, include_self: bool) -> Tensor:
    """How many values (self included or not) each output element averages; 0 -> 1."""
    counts = creation.full(tuple(input.shape), 1 if include_self else 0, dtype=input.dtype)
    indexing.scatter_kernel(counts, dim, index, 1, "add")
    return ew.where(ew.apply("eq", counts, 0), creation.ones((), dtype=input.dtype), counts)


class ScatterReduce(Function):
    """scatter_reduce's prod/amax/amin gradient (PyTorch's formulas; ties share evenly)."""

    @staticmethod
    def forward(ctx, input, dim, index, src, reduce, include_self):
        out = _scatter_reduce_values(input, dim, index, src, reduce, include_self)
        ctx.save_for_backward(input, index, src, out)
        ctx.dim, ctx.reduce, ctx.include_self = dim, reduce, include_self
        return out

    @staticmethod
    def backward(ctx, grad):
        input, index, src, out = ctx.saved_tensors
        dim, reduce, include_self = ctx.dim, ctx.reduce, ctx.include_self
        if reduce == "prod":
            grad_input, grad_src = _prod_backward(grad, input, dim, index, src, out, include_self)
            return grad_input, None, None, _to_src_shape(grad_src, src), None, None
        value = out.gather(dim, index)
        # As PyTorch: self counts among the ties even with include_self=False
        # (its gradient is then zeroed where anything was scattered).
        self_is_value = ew.apply("eq", input, out).to(grad.dtype)
        src_is_value = ew.apply("eq", _index_shaped(src, index), value).to(grad.dtype)
        ties = ew.clone(self_is_value)
        indexing.scatter_kernel(ties, dim, index, src_is_value, "add")
        grad_input = ew.div(ew.mul(self_is_value, grad), ew.where(ew.apply("eq", ties, 0), 1.0,
                                                                   ties))
        if not include_self:
            scattered = creation.zeros(tuple(input.shape), dtype=dtypes.bool_)
            indexing.scatter_kernel(scattered, dim, index, True, None)
            grad_input = ew.where(scattered, 0.0, grad_input)
        grad_src = ew.div(ew.mul(src_is_value, grad.gather(dim, index)), ties.gather(dim, index))
        return grad_input, None, None, _to_src_shape(grad_src, src), None, None


def _index_shaped(src: Tensor, index: Tensor) -> Tensor:
    """The part of src a scatter reads: its leading index.shape block."""
    return src[tuple(slice(0, n) for n in index.shape)]


def _to_src_shape(grad: Tensor, src: Tensor) -> Tensor:
    """A gradient of src's index-shaped block, zero-padded to src's shape."""
    if tuple(grad.shape) == tuple(src.shape):
        return grad
    out = creation.zeros(tuple(src.shape), dtype=grad.dtype)
    out[tuple(slice(0, n) for n in grad.shape)] = grad
    return out


def _prod_backward(grad, input, dim, index, src, out, include_self) -> tuple[Tensor, Tensor]:
    """PyTorch's prod rule: exclusive products, exact where an element is 0."""
    masked_input = ew.where(ew.apply("eq", input, 0), 1.0, input)
    masked_result = _scatter_reduce_values(masked_input, dim, index, src, "prod", include_self)
    grad_input = ew.div(ew.mul(grad, masked_result), masked_input)
    src = _index_shaped(src, index)
    src_zero = ew.apply("eq", src, 0)
    zeros_per_slot = creation.zeros(tuple(input.shape), dtype=grad.dtype)
    indexing.scatter_kernel(zeros_per_slot, dim, index, src_zero.to(grad.dtype), "add")
    single_zero = ew.logical_and(src_zero, ew.apply("eq", zeros_per_slot.gather(dim, index), 1))
    masked_src = ew.where(single_zero, 1.0, src)
    masked_src_result = _scatter_reduce_values(input, dim, index, masked_src, "prod",
                                               include_self)
    grad_src = ew.where(single_zero, ew.mul(grad, masked_src_result).gather(dim, index),
                        ew.div(ew.mul(grad, out).gather(dim, index),
                               ew.where(src_zero, 1.0, src)))
    if not include_self:
        scattered = creation.zeros(tuple(input.shape), dtype=dtypes.bool_)
        indexing.scatter_kernel(scattered, dim, index, True, None)
        grad_input = ew.where(scattered, 0.0, grad_input)
    return grad_input, grad_src


def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """Reduce src into a copy of input at index along dim (sum, prod, mean, amax, amin)."""
    reduce = {"max": "amax", "min": "amin"}.get(reduce, reduce)  # PyTorch's aliases
    if reduce not in _ACCUMULATE:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    if index.dtype not in (dtypes.int32, dtypes.int64):
        raise RuntimeError("scatter(): Expected dtype int32/int64 for index")
    index = index.to(dtypes.int64)
    if src.dtype is not input.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    dim = normalize_dim(dim, input.ndim)
    indexing.check_scatter_shapes(input, dim, index, src)
    if reduce in ("sum", "mean"):  # differentiable compositions of scatter and scatter_add
        out = input
        if not include_self:
            out = indexing.scatter(out, dim, index, value=_identity(reduce, input.dtype))
        out = indexing.scatter_add(out, dim, index, src) if index.numel() else ew.clone(out)
        if reduce == "mean":
            with grad_mode.no_grad():
                counts = _mean_counts(input, dim, index, include_self)
            out = ew.div(out, counts, rounding_mode=None if out.dtype.kind == "f" else "floor")
        return out
    if grad_mode.is_grad_enabled() and (input.requires_grad or src.requires_grad):
        return ScatterReduce.apply(input, dim, index, src, reduce, include_self)
    return _scatter_reduce_values(input, dim, index, src, reduce, include_self)


def scatter_reduce_(self: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                    include_self: bool = True) -> Tensor:
    return ew.copy_(self, scatter_reduce(self, dim, index, src, reduce,
                                         include_self=include_self))


def fill_diagonal_(self: Tensor, fill_value, wrap: bool = False) -> Tensor:
    """self[i, i, ..., i] = fill_value for each i; a tall matrix with wrap
    starts over one row below each full diagonal, as PyTorch does (every
    (cols + 1)-th element of the row-major order)."""
    if self.ndim < 2:
        raise RuntimeError("dimensions must larger than 1")
    if self.ndim > 2 and len(set(self.shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    rows, cols = self.shape[0], self.shape[1]
    count = min(self.shape)
    if self.ndim == 2 and wrap and rows > cols:
        count = -(-rows * cols // (cols + 1))
    if count == 0:
        return self
    step = creation.arange(count).mul(cols + 1) if self.ndim == 2 else creation.arange(count)
    if self.ndim == 2:
        index = (ew.floor_divide(step, cols), ew.remainder(step, cols))
    else:
        index = (step,) * self.ndim
    return self.index_put_(index, creation.tensor(fill_value, dtype=self.dtype))


FUNCTIONS = {
    "take": take, "take_along_dim": take_along_dim, "index_copy": index_copy,
    "index_fill": index_fill, "masked_scatter": masked_scatter, "scatter_reduce": scatter_reduce,
}
TENSOR_METHODS = dict(FUNCTIONS)
TENSOR_METHODS.update({
    "index_copy_": index_copy_, "index_fill_": index_fill_, "masked_scatter_": masked_scatter_,
    "scatter_reduce_": scatter_reduce_, "fill_diagonal_": fill_diagonal_,
})
