"""Indexing: basic indexing as views, advanced indexing / gather / scatter as
bounds-checked generated kernels.

Basic indices (ints, slices, None, Ellipsis) only change the View, sharing
storage as PyTorch does. Integer-tensor and boolean-mask indices, gather,
index_select, scatter and index_put go through the "gather"/"scatter" kernel
forms of ir/lower.py: every index read from a tensor is wrapped for negatives
and checked against the dimension's size inside the kernel; a bad one raises
IndexError after the launch and nothing out of bounds is ever touched.
"""

from __future__ import annotations

import builtins
import contextlib
import numbers
import warnings

import numpy as np

from lazyt import creation, dtypes, reductions
from lazyt import elementwise as ew
from lazyt.autograd import grad_mode
from lazyt.engine.realize import nonzero_into
from lazyt.ir.layout import iterator_strides, operand_strides
from lazyt.ir.node import make_node
from lazyt.ir.view import View, prod
from lazyt.realization import scatter_into
from lazyt.runtime.device import CPU
from lazyt.runtime.launch import GATHER_OUT_OF_BOUNDS, INDEX_OUT_OF_RANGE
from lazyt.runtime.storage import Storage
from lazyt.tensor import Tensor, broadcast_shapes, normalize_dim


def _as_index_tensor(item) -> Tensor:
    if isinstance(item, Tensor):
        t = item
    else:
        t = creation.tensor(list(item) if isinstance(item, range) else item)
        if t.numel() == 0:
            t = t.to(dtypes.int64)
    if t.dtype.kind == "f":
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    return t


def _is_advanced(item) -> bool:
    if isinstance(item, Tensor):
        return not (item.ndim == 0 and item.dtype.kind in "iu")
    return isinstance(item, (list, range, np.ndarray))


def _scalar_index(item) -> int | None:
    if isinstance(item, bool):
        return None
    if isinstance(item, (int, np.integer)):
        return int(item)
    if isinstance(item, Tensor) and item.ndim == 0 and item.dtype.kind in "iu":
        return int(item.item())
    return None


class _Parsed:
    """The result of walking an index: a view of the base plus advanced
    indices, and the movement ops (kind, params) that make the view."""

    def __init__(self, view: View):
        self.view = view
        self.advanced: list[tuple[int, Tensor]] = []  # (dim in view, int64 index tensor)
        self.moves: list[tuple[str, tuple]] = []

    def move(self, kind: str, params: tuple) -> None:
        self.view = getattr(self.view, kind)(*params)
        self.moves.append((kind, params))


def _is_basic(items: list) -> bool:
    """Only ints, slices, None and Ellipsis: a view, no index tensors."""
    return all(item is None or item is Ellipsis or isinstance(item, slice) or
               (isinstance(item, (int, np.integer)) and not isinstance(item, bool))
               for item in items)


def _sequence_as_tuple(index) -> bool:
    """PyTorch's (numpy's old) rule: a short list holding a sequence, slice,
    tensor, None or Ellipsis is a tuple of indices (x[[[0, 1], [1, 2]]] is
    x[[0, 1], [1, 2]]), with PyTorch's deprecation warning."""
    if not isinstance(index, list) or len(index) >= 32:
        return False
    for item in index:
        if isinstance(item, (Tensor, list, tuple, slice, range)) or item is None or \
                item is Ellipsis:
            warnings.warn("Using a non-tuple sequence for multidimensional indexing is "
                          "deprecated and will be changed in pytorch 2.9; use x[tuple(seq)] "
                          "instead of x[seq]. In pytorch 2.9 this will be interpreted as tensor "
                          "index, x[torch.tensor(seq)], which will result either in an error or "
                          "a different result", UserWarning, stacklevel=4)
            return True
    return False


def parse_index(t: Tensor, index, pending: bool = False) -> _Parsed:
    """Walk an index over t. With `pending`, a pending tensor indexed by basic
    indices only is walked over its shape, not realised: the caller applies
    the moves as movement nodes (deferred mode keeps fusing through x[1:])."""
    items = list(index) if isinstance(index, tuple) or _sequence_as_tuple(index) else [index]
    consumed = 0
    for item in items:
        if item is None or item is Ellipsis or isinstance(item, bool):
            continue
        if isinstance(item, Tensor) and item.dtype is dtypes.bool_:
            consumed += item.ndim
        else:
            consumed += 1
    if consumed > t.ndim:
        raise IndexError(f"too many indices for tensor of dimension {t.ndim}")
    if sum(item is Ellipsis for item in items) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if pending and t._node is not None and _is_basic(items):
        parsed = _Parsed(View.contiguous(t._node.shape))
    else:
        parsed = _Parsed(t._view)
    dim = 0
    for item in items:
        view = parsed.view
        if item is None:
            parsed.move("unsqueeze", (dim,))
            dim += 1
        elif item is Ellipsis:
            dim += t.ndim - consumed
        elif isinstance(item, bool):
            # PyTorch: a new dim indexed by tensor([0]) (True) or an empty
            # index (False), so it is an advanced index (a copy) that
            # broadcasts with the other index tensors.
            parsed.view = view.unsqueeze(dim)
            parsed.advanced.append((dim, creation.zeros(int(item), dtype=dtypes.int64)))
            dim += 1
        elif (k := _scalar_index(item)) is not None:
            size = view.shape[dim]
            if not -size <= k < size:
                raise IndexError(f"index {k} is out of bounds for dimension {dim} with size {size}")
            parsed.move("select", (dim, k % size))
            parsed.advanced = [(d - 1 if d > dim else d, i) for d, i in parsed.advanced]
        elif isinstance(item, slice):
            size = view.shape[dim]
            step = 1 if item.step is None else int(item.step)
            if step <= 0:
                raise ValueError("step must be greater than zero")
            start, stop, _ = slice(item.start, item.stop, step).indices(size)
            stop = max(stop, start)
            parsed.move("slice", (dim, start, stop, step))
            dim += 1
        elif _is_advanced(item):
            idx = _as_index_tensor(item)
            if idx.dtype is dtypes.bool_ or idx.dtype is dtypes.uint8 and not isinstance(
                    item, list):
                mask = idx.to(dtypes.bool_)
                for k, size in enumerate(mask.shape):
                    if view.shape[dim + k] != size:
                        raise IndexError(
                            f"The shape of the mask {list(mask.shape)} at index {k} does not "
                            f"match the shape of the indexed tensor {list(t.shape)} at index "
                            f"{dim + k}")
                coords = nonzero(mask) if mask.ndim else None
                for k in range(mask.ndim):
                    parsed.advanced.append((dim + k, coords.select(1, k)))
                if mask.ndim == 0:  # x[True-tensor]: a new dim of size 1 (0 for False)
                    parsed.view = view.unsqueeze(dim)
                    count = int(bool(mask.item()))
                    parsed.advanced.append((dim, creation.zeros(count, dtype=dtypes.int64)))
                    dim += 1
                else:
                    dim += mask.ndim
            else:
                parsed.advanced.append((dim, idx.to(dtypes.int64)))
                dim += 1
        else:
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables "
                f"are valid indices (got {type(item).__name__})")
    return parsed


def _advanced_plan(parsed: _Parsed, strict: int | None = None):
    """(out_shape, mapping, index nodes) for the gather/scatter kernel. With
    `strict` (the number of the error a bad index raises, runtime/launch.py
    BOUNDS_ERRORS) negative indices are errors (index_select, index_add_)
    instead of counting from the end (indexing)."""
    view = parsed.view
    dims = [d for d, _ in parsed.advanced]
    tensors = [i for _, i in parsed.advanced]
    try:
        bshape = broadcast_shapes(*(i.shape for i in tensors))
    except RuntimeError:
        shapes = ", ".join(str(list(i.shape)) for i in tensors)
        raise IndexError(f"shape mismatch: indexing tensors could not be broadcast together "
                         f"with shapes {shapes}") from None
    consecutive = dims == list(range(dims[0], dims[0] + len(dims)))
    rest = [d for d in range(view.ndim) if d not in dims]
    if consecutive:
        first = dims[0]
        before = [d for d in rest if d < first]
        after = [d for d in rest if d > first]
        b0 = len(before)
        out_shape = (tuple(view.shape[d] for d in before) + bshape +
                     tuple(view.shape[d] for d in after))
        out_dim_of = {d: i for i, d in enumerate(before)}
        out_dim_of.update({d: b0 + len(bshape) + i for i, d in enumerate(after)})
    else:
        b0 = 0
        out_shape = bshape + tuple(view.shape[d] for d in rest)
        out_dim_of = {d: len(bshape) + i for i, d in enumerate(rest)}
    mapping = []
    for d in range(view.ndim):
        if d not in dims:
            mapping.append(("loop", out_dim_of[d]))
        elif strict is None:
            mapping.append(("index", dims.index(d)))
        else:
            mapping.append(("strict", dims.index(d), strict))
    index_nodes = []
    for idx in tensors:
        iview = idx._view
        for _ in range(len(bshape) - iview.ndim):
            iview = iview.unsqueeze(0)
        iview = iview.expand(bshape)
        strides = (0,) * b0 + iview.strides + (0,) * (len(out_shape) - b0 - len(bshape))
        index_nodes.append(make_node("load", idx.dtype, out_shape, (),
                                     (idx._storage.buffer, View(out_shape, strides, iview.offset))))
    return out_shape, tuple(mapping), index_nodes


def getitem(self: Tensor, index) -> Tensor:
    return getitem_recorded_as(self, index, None)


def getitem_recorded_as(self: Tensor, index, grad_name: str | None) -> Tensor:
    """self[index], an advanced index's grad_fn named as the PyTorch op built
    on it (embedding: EmbeddingBackward0) when grad_name is given."""
    parsed = parse_index(self, index, pending=True)
    if not parsed.advanced:
        if self._node is not None:
            return self._moved(parsed.moves, "index", index=index)
        return self._with_view(parsed.view, "index", index=index)
    out_shape, mapping, index_nodes = _advanced_plan(parsed)
    src = make_node("load", self.dtype, parsed.view.shape, (), (self._storage.buffer, parsed.view))
    node = make_node("gather", self.dtype, out_shape, (src, *index_nodes), mapping)
    out = Tensor._from_node(node, strides=_indexing_result_strides(parsed, out_shape, mapping))
    if grad_name is None:
        grad_mode.record("index", out, (self,), index=index)
    else:
        grad_mode.record("index", out, (self,), index=index, grad_name=grad_name)
    return out


def _indexing_result_strides(parsed: _Parsed, out_shape: tuple, mapping: tuple) -> tuple:
    """The strides PyTorch gives x[advanced index]: its TensorIterator over the
    source restrided to the result's shape (0 strides along the index dims)
    and the index tensors broadcast together and reshaped to the result's
    rank, so the non-indexed dims keep the source's dim order."""
    view = parsed.view
    src = [0] * len(out_shape)
    for d, how in enumerate(mapping):
        if how[0] == "loop":
            src[how[1]] = view.strides[d]
    loop_dims = {how[1] for how in mapping if how[0] == "loop"}
    if prod(out_shape) == 0 and all(out_shape[d] == 1 for d in loop_dims):
        # Every operand has the result's shape and no elements, so all are
        # contiguous: TensorIterator's fast setup makes the result contiguous.
        return View.contiguous(out_shape).strides
    index_dims = [d for d in range(len(out_shape)) if d not in loop_dims]
    first = index_dims[0] if index_dims else 0
    bshape = tuple(out_shape[d] for d in index_dims)
    index_shape = (1,) * first + bshape + (1,) * (len(out_shape) - first - len(bshape))
    operands = [tuple(src)]
    for _, idx in parsed.advanced:
        reshaped = idx._view.expand_to(bshape).reshape(index_shape)
        if reshaped is None:  # (cannot happen: only size-1 dims are inserted)
            return View.contiguous(out_shape).strides
        operands.append(operand_strides(index_shape, reshaped.strides, out_shape))
    return iterator_strides(out_shape, operands)


def setitem(self: Tensor, index, value) -> None:
    if not (isinstance(value, Tensor) or isinstance(value, (numbers.Number, np.number,
                                                            np.bool_))):
        value = creation.tensor(value, dtype=self.dtype)
    if not isinstance(value, Tensor):
        dtypes.check_scalar_fits(value, self.dtype)
    parsed = parse_index(self, index)
    if isinstance(value, Tensor):
        # Leading size-1 dims of the value beyond the target's are dropped, as PyTorch does.
        extra = value.ndim - len(parsed.view.shape) if not parsed.advanced else 0
        while extra > 0 and value.shape[0] == 1:
            value, extra = value.squeeze(0), extra - 1
    if not parsed.advanced:
        if isinstance(value, Tensor):  # (PyTorch's errors for a value that does not fit)
            value = value.expand(parsed.view.shape)
        target = Tensor._make(self._storage, parsed.view)
        grad_mode.check_inplace(self)
        snapshot = grad_mode.snapshot_for_inplace(self, "setitem", (value,))
        node = (value._load() if isinstance(value, Tensor)
                else ew.source(value, self.dtype, parsed.view.shape))
        ew.assign(target, node)
        grad_mode.record_inplace("setitem", self, (value, index), snapshot)
        return
    out_shape, mapping, index_nodes = _advanced_plan(parsed)
    index_put(self, parsed.view, out_shape, mapping, index_nodes, value, None, index)


def index_put(self: Tensor, view: View, shape, mapping, index_nodes, value,
              accumulate: str | None, grad_index: tuple) -> None:
    """The scatter kernel behind x[idx] = v, index_put_ and index_add_.

    grad_index is the index as __getitem__ takes it, for autograd's record."""
    if isinstance(value, Tensor):
        if broadcast_shapes(value.shape, shape) != tuple(shape):
            raise RuntimeError(f"shape mismatch: value tensor of shape {list(value.shape)} cannot "
                               f"be broadcast to indexing result of shape {list(shape)}")
        if value._storage is self._storage:
            value = ew.clone(value).realize()
    grad_mode.check_inplace(self)
    if not isinstance(value, Tensor):
        # A scalar: broadcast through a zero-stride view of a one-element tensor.
        value = creation.full((), value, dtype=self.dtype)
    value.realize()
    snapshot = grad_mode.snapshot_for_inplace(self, "index_put", (value,))
    values = ew.source(value, self.dtype, tuple(shape))
    scatter_into(self._storage, view, values, index_nodes, mapping, accumulate)
    self._storage.version += 1
    grad_mode.record_inplace("index_put", self, (value, grad_index, accumulate is not None),
                             snapshot)


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    return gather_recorded_as(input, dim, index, "GatherBackward0")


def gather_recorded_as(input: Tensor, dim: int, index: Tensor, grad_name: str) -> Tensor:
    """gather, its grad_fn named as the PyTorch op that gathers (sort, topk)."""
    dim = normalize_dim(dim, input.ndim)
    if index.numel() == 0:  # (any empty index, of any dtype or rank, as PyTorch allows)
        out = _empty(index.shape, input.dtype, input.device)
        grad_mode.record("gather", out, (input,), dim=dim, index=index, grad_name=grad_name)
        return out
    if index.dtype not in (dtypes.int64, dtypes.int32):
        raise RuntimeError("gather(): Expected dtype int32/int64 for index")
    if index.ndim != input.ndim and not (index.ndim <= 1 and input.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    for d in range(index.ndim):
        if d != dim and index.shape[d] > input.shape[d]:
            raise RuntimeError(
                f"Size does not match at dimension {d} expected index {list(index.shape)} to be "
                f"smaller than self {list(input.shape)} apart from dimension {dim}")
    mapping = tuple(("strict", 0, GATHER_OUT_OF_BOUNDS) if d == dim else ("loop", d)
                    for d in range(input.ndim))
    src = input._load()
    idx = make_node("load", index.dtype, index._view.shape, (),
                    (index._storage.buffer, index._view))
    node = make_node("gather", input.dtype, index._view.shape, (src, idx), mapping)
    out = Tensor._from_node(node)
    grad_mode.record("gather", out, (input,), dim=dim, index=index, grad_name=grad_name)
    return out


def checked_index(index: Tensor, size: int, dim: int, message: int = 0) -> Tensor:
    """index as int64, checked to lie in [0, size) inside the kernel that reads
    it: a bad value raises IndexError when that kernel runs, with message
    number `message` of runtime/launch.BOUNDS_ERRORS (by default "index 12
    is out of bounds for dimension {dim} with size {size}")."""
    node = make_node("check_index", dtypes.int64, index._shape, (index._load(),),
                     (size, dim, message))
    return Tensor._from_node(node)


@contextlib.contextmanager
def _index_error_as(message: str):
    """Report a bad index with PyTorch's message for this op (still IndexError)."""
    try:
        yield
    except IndexError:
        raise IndexError(message) from None


def _empty(shape, dtype, device=CPU) -> Tensor:
    return Tensor._make(Storage.allocate(dtype, prod(shape), device),
                        View.contiguous(tuple(shape)))


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if index.dtype not in (dtypes.int64, dtypes.int32):
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    if input.ndim == 0:  # a scalar: one index, 0 or -1, and a 0-d result
        normalize_dim(dim, 0)
        if index.numel() != 1:
            raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got "
                               f"{index.numel()} value(s)")
        with _index_error_as("index out of range in self"):
            return index_select(input.reshape(1), 0, index.reshape(1)).reshape(())
    dim = normalize_dim(dim, input.ndim)
    parsed = _Parsed(input._view)
    parsed.advanced = [(dim, index.reshape(-1).to(dtypes.int64))]
    out_shape, mapping, index_nodes = _advanced_plan(parsed, INDEX_OUT_OF_RANGE)
    src = input._load()
    node = make_node("gather", input.dtype, out_shape, (src, *index_nodes), mapping)
    out = Tensor._from_node(node)
    grad_mode.record("index", out, (input,), index=(slice(None),) * dim + (index,),
                     grad_name="IndexSelectBackward0")
    return out


def check_scatter_shapes(self: Tensor, dim: int, index: Tensor, src) -> None:
    """PyTorch's scatter checks; a 0-d index or src counts as 1-d, as in PyTorch."""
    index_ndim = builtins.max(index.ndim, 1)
    if index_ndim != builtins.max(self.ndim, 1) and index.numel() > 0:
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    if isinstance(src, Tensor) and builtins.max(src.ndim, 1) != index_ndim and index.numel():
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    index_shape = tuple(index.shape) or (1,)
    self_shape = tuple(self.shape) or (1,)
    for d, size in enumerate(index_shape):
        if d != dim and size > self_shape[d]:
            raise RuntimeError(
                f"Expected index {list(index.shape)} to be smaller than self {list(self.shape)} "
                f"apart from dimension {dim}")
        if isinstance(src, Tensor) and size > (tuple(src.shape) or (1,))[d]:
            raise RuntimeError(
                f"Expected index {list(index.shape)} to be smaller than src {list(src.shape)}")


def scatter_kernel(self: Tensor, dim: int, index: Tensor, src, accumulate: str | None) -> None:
    """self[index along dim] (op)= src in place, no autograd: the scatter kernel
    (accumulate None, "add", "mul", "maximum" or "minimum"); src a tensor or a scalar."""
    if index.numel() == 0:
        return
    view = self._view if self.ndim else View((1,), (1,), self._view.offset)
    index_view = index._view if index.ndim else View((1,), (1,), index._view.offset)
    mapping = tuple(("strict", 0, GATHER_OUT_OF_BOUNDS) if d == dim else ("loop", d)
                    for d in range(view.ndim))
    idx = make_node("load", index.dtype, index_view.shape, (), (index._storage.buffer,
                                                                  index_view))
    if isinstance(src, Tensor):
        if src._storage is self._storage:
            src = ew.clone(src)
        src.realize()
        src_view = src._view if src.ndim else View((1,), (1,), src._view.offset)
        values = make_node("load", src.dtype, index_view.shape, (),
                           (src._storage.buffer, View(index_view.shape, src_view.strides,
                                                      src_view.offset)))
        if values.dtype is not self.dtype:
            values = make_node("cast", self.dtype, values.shape, (values,))
    else:
        values = creation.full((), src, dtype=self.dtype)._load_as(index_view.shape)
    scatter_into(self._storage, view, values, [idx], mapping, accumulate)
    self._storage.version += 1


_SCATTER_REDUCE = {None: None, "add": "add", "multiply": "mul"}
_WARNED_SCATTER_REDUCE = []


def scatter_(self: Tensor, dim: int, index: Tensor, src=None, value=None, *,
             reduce: str | None = None) -> Tensor:
    if reduce is not None and isinstance(src, Tensor) and not _WARNED_SCATTER_REDUCE:
        _WARNED_SCATTER_REDUCE.append(True)  # PyTorch warns once per process
        warnings.warn("The reduce argument of torch.scatter with Tensor src is deprecated and "
                      "will be removed in a future PyTorch release. Use torch.scatter_reduce "
                      "instead for more reduction options.", UserWarning, stacklevel=2)
    return _scatter_(self, dim, index, src, value, reduce)


def _scatter_(self: Tensor, dim: int, index: Tensor, src, value, reduce: str | None) -> Tensor:
    """scatter_ and scatter_add_: check, run the kernel, record for autograd."""
    if src is None:
        src = value
    dim = normalize_dim(dim, self.ndim)
    if reduce not in _SCATTER_REDUCE:
        raise RuntimeError("reduce argument must be either add or multiply.")
    if isinstance(src, Tensor) and src.dtype is not self.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    if index.numel() == 0:  # (nothing to write: PyTorch checks nothing else either)
        return self
    if index.dtype not in (dtypes.int32, dtypes.int64):
        raise RuntimeError("scatter(): Expected dtype int32/int64 for index")
    index = index.to(dtypes.int64)
    check_scatter_shapes(self, dim, index, src)
    grad_mode.check_inplace(self)
    op = "scatter_add" if reduce == "add" else "scatter"
    differentiable = reduce != "multiply"
    snapshot = (grad_mode.snapshot_for_inplace(self, op, (src,) if isinstance(src, Tensor)
                                               else ()) if differentiable else None)
    scatter_kernel(self, dim, index, src, _SCATTER_REDUCE[reduce])
    grad_mode.record_inplace(op, self, (src, dim, index), snapshot)
    return self


def scatter(input: Tensor, dim: int, index: Tensor, src=None, value=None, *,
            reduce: str | None = None) -> Tensor:
    out = ew.clone(input.detach())
    scatter_(out, dim, index, src, value, reduce=reduce)
    if reduce != "multiply":
        op = "scatter_add" if reduce == "add" else "scatter"
        grad_mode.record(op, out, (input, src if src is not None else value), dim=dim,
                         index=index)
    return out


def scatter_add_(self: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    return _scatter_(self, dim, index, src, None, "add")


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    out = ew.clone(input.detach())
    scatter_add_(out, dim, index, src)
    grad_mode.record("scatter_add", out, (input, src), dim=dim, index=index)
    return out


def index_add_(self: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    if self.ndim == 0:  # PyTorch treats a 0-d self (and source) as one element
        normalize_dim(dim, 0)
        index_add_(self.view(1), 0, index, source.reshape(-1) if source.ndim == 0 else source,
                   alpha=alpha)
        return self
    dim = normalize_dim(dim, self.ndim)
    if alpha != 1:
        source = ew.mul(source, alpha)
    if index.ndim > 1:
        raise IndexError("index_add_(): Index is supposed to be a vector")
    parsed = _Parsed(self._view)
    parsed.advanced = [(dim, index.to(dtypes.int64).reshape(-1))]
    shape, mapping, index_nodes = _advanced_plan(parsed, GATHER_OUT_OF_BOUNDS)
    if tuple(source.shape) != tuple(shape):
        if source.ndim != self.ndim or any(
                a != b for d, (a, b) in enumerate(zip(source.shape, self.shape)) if d != dim):
            raise RuntimeError("source tensor shape must match self tensor shape, excluding the "
                               f"specified dimension. Got self.shape = {list(self.shape)} "
                               f"source.shape = {list(source.shape)}")
        raise RuntimeError(f"index_add_(): Number of indices ({index.numel()}) should be equal to "
                           f"source.size(dim): ({source.shape[dim]}), for dim: {dim}")
    index_put(self, self._view, shape, mapping, index_nodes, source, "add",
              (slice(None),) * dim + (index,))
    return self


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    out = ew.clone(input)
    return index_add_(out, dim, index, source, alpha=alpha)


def index_put_(self: Tensor, indices, values, accumulate: bool = False) -> Tensor:
    parsed = parse_index(self, tuple(indices))
    shape, mapping, index_nodes = _advanced_plan(parsed)
    index_put(self, parsed.view, shape, mapping, index_nodes, values,
              "add" if accumulate else None, tuple(indices))
    return self


def nonzero(input: Tensor, *, as_tuple: bool = False):
    input.realize()
    count = int(reductions.count_nonzero(input).item()) if input.numel() else 0
    ndim = input.ndim
    storage = Storage.allocate(dtypes.int64, (count + 1) * ndim, input.device)
    if input.numel():
        nonzero_into(input._load(), storage)
    out = Tensor._make(storage, View.contiguous((count, ndim)))
    if as_tuple:
        return tuple(out.select(1, k) for k in range(ndim)) if ndim else (out.reshape(-1),)
    return out


def argwhere(input: Tensor) -> Tensor:
    return nonzero(input)


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    if mask.dtype is not dtypes.bool_:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    shape = broadcast_shapes(input.shape, mask.shape)
    return getitem(input.expand(shape), mask.expand(shape))


def index_put_copy(self: Tensor, indices, values, accumulate: bool = False) -> Tensor:
    """torch.index_put / Tensor.index_put: index_put_ into a copy."""
    return index_put_(self.clone(), indices, values, accumulate)


FUNCTIONS = {
    "index_put": index_put_copy, "index_put_": index_put_,
    "gather": gather, "index_select": index_select, "scatter": scatter,
    "scatter_add": scatter_add, "nonzero": nonzero, "argwhere": argwhere,
    "masked_select": masked_select, "index_add": index_add,
}
TENSOR_METHODS = dict(FUNCTIONS)
TENSOR_METHODS.update({
    "__getitem__": getitem, "__setitem__": setitem, "scatter_": scatter_,
    "scatter_add_": scatter_add_, "index_add_": index_add_, "index_put_": index_put_,
})
