"""Ops that rearrange or combine whole tensors: cat, stack, flip, roll, repeat,
tril/triu, masked_fill, one_hot, and the numpy-style family (meshgrid,
atleast_*, dstack/column_stack, hsplit/vsplit/dsplit, rot90, diff).

Copies are elementwise kernels writing through views of the output (each
input of cat is one ASSIGN into a slice); flip reads through a negative-stride
IR view. Nothing is computed outside generated kernels.
"""

from __future__ import annotations

import builtins
import warnings

from lazyt import creation, dtypes, indexing, reductions
from lazyt import elementwise as ew
from lazyt.autograd import grad_mode
from lazyt.ir.node import make_node
from lazyt.ir.view import View, prod
from lazyt.regions import run_region
from lazyt.runtime.device import CPU
from lazyt.runtime.storage import Storage
from lazyt.tensor import _SCALAR_NAMES, Tensor, broadcast_shapes, normalize_dim, normalize_shape


def _empty(shape, dtype, device=CPU) -> Tensor:
    shape = tuple(shape)
    return Tensor._make(Storage.allocate(dtype, prod(shape), device), View.contiguous(shape))


def cat(tensors, dim: int = 0) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {tensors.index(t)} in argument 0, but "
                            f"got {type(t).__name__}")
    # Legacy rule: 1-D empty tensors are skipped.
    parts = [t for t in tensors if not (t.ndim == 1 and t.shape[0] == 0)] or tensors[:1]
    ref = parts[0]
    if ref.ndim == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    dim = normalize_dim(dim, ref.ndim)
    dtype = dtypes.result_type(*[_as_dimensioned(t) for t in tensors])
    for i, t in enumerate(parts):
        if t.ndim != ref.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.ndim} and "
                               f"{t.ndim}")
        for d in range(ref.ndim):
            if d != dim and t.shape[d] != ref.shape[d]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {dim}. Expected size "
                    f"{ref.shape[d]} but got size {t.shape[d]} for tensor number {i} in the list.")
    if len(parts) > 2 and not (grad_mode.is_grad_enabled() and any(t.requires_grad for t in parts)):
        # Many parts (a DataLoader's collate stacks a batch of samples): one
        # replayable region instead of a launch per part, once a batch shape repeats.
        return run_region("cat", lambda *ps: _concatenate(ps, dim, dtype), tuple(parts), (dim, dtype))
    out = _concatenate(parts, dim, dtype)
    grad_mode.record("cat", out, tuple(tensors), dim=dim)  # (skipped ones get empty grads)
    return out


def _concatenate(parts, dim: int, dtype) -> Tensor:
    """A fresh tensor holding parts one after another along dim (checked by cat)."""
    ref = parts[0]
    shape = list(ref.shape)
    shape[dim] = sum(t.shape[dim] for t in parts)
    out = _empty(shape, dtype, ref.device)
    start = 0
    for t in parts:
        length = t.shape[dim]
        if length:
            target = Tensor._make(out._storage, out._view.slice(dim, start, start + length, 1))
            ew.assign(target, t._load())
        start += length
    return out


class _Dimensioned:
    """Promotion in cat treats every input as a dimensioned tensor."""

    def __init__(self, t):
        self.dtype, self.ndim = t.dtype, 1


def _as_dimensioned(t):
    return _Dimensioned(t)


def stack(tensors, dim: int = 0) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    ref = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.shape != ref:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(ref)} "
                               f"at entry 0 and {list(t.shape)} at entry {i}")
    dim = normalize_dim(dim, len(ref) + 1)
    with grad_mode.no_grad():
        out = cat([t.unsqueeze(dim) for t in tensors], dim)
    grad_mode.record("stack", out, tuple(tensors), dim=dim)  # PyTorch's StackBackward0
    return out


def _check_non_empty(name: str, tensors) -> list:
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError(f"{name} expects a non-empty TensorList")
    return tensors


def hstack(tensors) -> Tensor:
    tensors = [t if t.ndim else t.reshape(1) for t in _check_non_empty("hstack", tensors)]
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    return cat([t.reshape(1, -1) if t.ndim < 2 else t
                for t in _check_non_empty("vstack", tensors)], 0)


def flip(input: Tensor, dims) -> Tensor:
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    axes = tuple(normalize_dim(d, input.ndim) for d in dims)
    if len(set(axes)) != len(axes):
        raise RuntimeError("dims has duplicates")
    node = make_node("movement", input.dtype, input._shape, (input._load(),), ("flip", (axes,)))
    out = Tensor._from_node(node, strides=ew.preserved_strides(input))  # as PyTorch's flip
    grad_mode.record("flip", out, (input,), dims=axes)
    return out


def fliplr(input: Tensor) -> Tensor:
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input: Tensor) -> Tensor:
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Recorded as one op (PyTorch's RollBackward0: the gradient rolled back)."""
    shift_list = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    if not shift_list:
        raise RuntimeError("`shifts` required")
    if dims is not None:
        dim_list = (dims,) if isinstance(dims, int) else tuple(dims)
        if len(shift_list) != len(dim_list):
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shift_list)}, "
                               f"dims:{len(dim_list)}")
        for d in dim_list:
            normalize_dim(d, input.ndim, scalar_ok=False)
    elif len(shift_list) != 1:
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shift_list)}, dims:0")
    with grad_mode.no_grad():
        out = _roll(input, shifts, dims)
    grad_mode.record("roll", out, (input,), shifts=shifts, dims=dims)
    return out


def _roll(input: Tensor, shifts, dims) -> Tensor:
    if dims is None:
        return _roll(input.reshape(-1), shifts, 0).view(input.shape)
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    out = input
    for shift, dim in zip(shifts, dims):
        dim = normalize_dim(dim, input.ndim)
        size = input.shape[dim]
        if size == 0:
            continue
        shift %= size
        if shift:
            out = cat([out.narrow(dim, size - shift, shift), out.narrow(dim, 0, size - shift)], dim)
    return out if out is not input else ew.clone(input)


def repeat(input: Tensor, *sizes) -> Tensor:
    sizes = normalize_shape(sizes)
    if len(sizes) < input.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    x = input.reshape((1,) * (len(sizes) - input.ndim) + tuple(input.shape))
    # Interleave a broadcast dim before each dim, then merge: (r0, s0, r1, s1, ...).
    expanded_shape, view_shape = [], []
    for r, s in zip(sizes, x.shape):
        expanded_shape += [r, s]
        view_shape.append(r * s)
    y = x
    for i in range(len(sizes)):
        y = y.unsqueeze(2 * i)
    with grad_mode.no_grad():
        out = y.expand(*expanded_shape).reshape(*view_shape).contiguous()
    # One op, as PyTorch's RepeatBackward0 (not a view, an expand and a copy).
    grad_mode.record("repeat", out, (input,), sizes=tuple(sizes))
    return out


def repeat_interleave(input: Tensor, repeats, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """Repeat each element `repeats` times along dim (flattened when dim is None)."""
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else normalize_dim(dim, x.ndim)
    if isinstance(repeats, int):
        expanded = x.unsqueeze(d + 1)
        shape = list(expanded.shape)
        shape[d + 1] = repeats
        merged = list(x.shape)
        merged[d] *= repeats
        return expanded.expand(*shape).contiguous().view(*merged)  # (PyTorch: View(Clone))
    counts = repeats.tolist() if isinstance(repeats, Tensor) else list(repeats)
    if len(counts) != x.shape[d]:
        raise RuntimeError("repeats must have the same size as input along dim")
    index = creation.tensor([i for i, c in enumerate(counts) for _ in range(c)],
                            dtype=dtypes.int64)
    return indexing.index_select(x, d, index)


def tile(input: Tensor, dims) -> Tensor:
    dims = tuple(dims)
    if len(dims) < input.ndim:
        dims = (1,) * (input.ndim - len(dims)) + dims
    return repeat(input, *dims)


def _triangle_mask(input: Tensor, diagonal: int, upper: bool) -> Tensor:
    if input.ndim < 2:
        name = "triu" if upper else "tril"
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    rows, cols = input.shape[-2], input.shape[-1]
    r = creation.arange(rows).unsqueeze(1)
    c = creation.arange(cols).unsqueeze(0)
    offset = ew.sub(c, r)
    return ew.apply("ge" if upper else "le", offset, diagonal)


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    return ew.where_recorded_as(_triangle_mask(input, diagonal, False), input, _zero(input),
                                "TrilBackward0", (1,), row_major=True)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    return ew.where_recorded_as(_triangle_mask(input, diagonal, True), input, _zero(input),
                                "TriuBackward0", (1,), row_major=True)


def _zero(input: Tensor):
    return False if input.dtype is dtypes.bool_ else 0


def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:
    if not isinstance(mask, Tensor) or mask.dtype is not dtypes.bool_:
        raise RuntimeError("masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{ew.TORCH_NAMES.get(getattr(mask, 'dtype', dtypes.int64).name)}")
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got "
                               f"tensor with {value.ndim} dimension(s).")
        value = value.item()
    out = ew.where_recorded_as(mask, ew.cast_if(_scalar_tensor(value, input.dtype), input.dtype),
                               input, "MaskedFillBackward0", (2,), row_major=True)
    if out.dtype is not input.dtype:
        out = ew.cast(out, input.dtype)
    return out


def _scalar_tensor(value, dtype):
    return creation.full((), value, dtype=dtype)


def masked_fill_(self: Tensor, mask: Tensor, value) -> Tensor:
    return ew.copy_(self, masked_fill(self, mask, value))


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    if tensor.dtype is not dtypes.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        if tensor.numel() == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(reductions.amax(tensor).item()) + 1
    if tensor.numel() and (int(reductions.amin(tensor).item()) < 0):
        raise RuntimeError("Class values must be non-negative.")
    if tensor.numel() and int(reductions.amax(tensor).item()) >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    classes = creation.arange(num_classes)
    return ew.cast(ew.apply("eq", tensor.unsqueeze(-1), classes), dtypes.int64)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    if input.ndim not in (1, 2):
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")
    if input.ndim == 1:
        n = input.shape[0] + abs(diagonal)
        out = creation.zeros(n, n, dtype=input.dtype)
        out.diagonal(diagonal).copy_(input)
        return out
    return ew.clone(diagonal_view(input, diagonal))


def diagonal_view(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    d1, d2 = normalize_dim(dim1, input.ndim), normalize_dim(dim2, input.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    v = input._view
    s1, s2 = v.shape[d1], v.shape[d2]
    if offset >= 0:
        length = max(0, min(s1, s2 - offset))
        start = offset * v.strides[d2]
    else:
        length = max(0, min(s1 + offset, s2))
        start = -offset * v.strides[d1]
    keep = [d for d in range(input.ndim) if d not in (d1, d2)]
    shape = tuple(v.shape[d] for d in keep) + (length,)
    strides = tuple(v.strides[d] for d in keep) + (v.strides[d1] + v.strides[d2],)
    return input._with_view(View(shape, strides, v.offset + (start if length else 0)),
                            "diagonal", offset=offset, dim1=d1, dim2=d2)


def trace(input: Tensor) -> Tensor:
    """Sum of the main diagonal of a 2-D tensor."""
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    with grad_mode.no_grad():
        out = reductions.sum(diagonal_view(input))
    grad_mode.record("trace", out, (input,))  # PyTorch's TraceBackward0
    return out


# --- splitting and strided views (bound as Tensor methods) ---------------


def unbind(self, dim: int = 0) -> tuple[Tensor, ...]:
    dim = normalize_dim(dim, self.ndim, scalar_ok=False)
    return tuple(self._move("select", (dim, i), "index", index=(slice(None),) * dim + (i,),
                            grad_name="UnbindBackward0") for i in range(self.shape[dim]))

def split(self, split_size_or_sections, dim: int = 0) -> tuple[Tensor, ...]:
    if self.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    dim = normalize_dim(dim, self.ndim, scalar_ok=False)
    size = self.shape[dim]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0 and not (step == 0 and size == 0):
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {size}")
        if size == 0:
            return (self,)
        sections = [builtins.min(step, size - i) for i in range(0, size, step)]
        grad_name = "SplitBackward0"
    else:
        grad_name = "SplitWithSizesBackward0"
        sections = list(split_size_or_sections)
        if any(length < 0 for length in sections):
            raise RuntimeError("split_with_sizes expects split_sizes have only non-negative "
                               f"entries, but got split_sizes={sections}")
        if sum(sections) != size:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's "
                f"size at dimension {dim}), but got split_sizes={sections}")
    out, start = [], 0
    for length in sections:
        out.append(self._move("slice", (dim, start, start + length, 1), "index",
                              index=(slice(None),) * dim + (slice(start, start + length),),
                              grad_name=grad_name))
        start += length
    return tuple(out)

def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    if self.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    dim = normalize_dim(dim, self.ndim, scalar_ok=False)
    size = self.shape[dim]
    step = -(-size // chunks) if size else 0
    if size == 0:
        return tuple(self.narrow(dim, 0, 0) for _ in range(chunks))
    return self.split(step, dim)

def tensor_split(self, sections, dim: int = 0) -> tuple[Tensor, ...]:
    if self.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a "
                           "tensor with 0 dims")
    dim = normalize_dim(dim, self.ndim, scalar_ok=False)
    size = self.shape[dim]
    if isinstance(sections, Tensor):  # a 0-d tensor is a count, a 1-d one the indices
        if sections.dtype is not dtypes.int64:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to have dtype "
                               f"of long, but got {_SCALAR_NAMES[sections.dtype.name]}")
        if sections.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a "
                               "zero-dimensional or one-dimensional tensor, but got a tensor "
                               f"with {sections.ndim} dims")
        sections = sections.item() if sections.ndim == 0 else sections.tolist()
    if isinstance(sections, int):
        if sections <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
        base, extra = divmod(size, sections)
        lengths = [base + (1 if i < extra else 0) for i in range(sections)]
        starts = [sum(lengths[:i]) for i in range(sections)]
    else:  # indices: negative ones count from the end, all clamp to the size
        bounds = [0, *(builtins.min(builtins.max(i + size if i < 0 else i, 0), size)
                       for i in sections), size]
        starts = bounds[:-1]
        lengths = [builtins.max(0, b - a) for a, b in zip(bounds, bounds[1:])]
    return tuple(self.narrow(dim, start, length) for start, length in zip(starts, lengths))

def as_strided(self, size, stride, storage_offset: int | None = None) -> Tensor:
    """A view with explicit sizes/strides over this tensor's storage (PyTorch's as_strided)."""
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: {len(stride)} vs "
                           f"{len(size)}")
    offset = self._view.offset if storage_offset is None else int(storage_offset)
    view = View(size, stride, offset)
    lo, hi = view.storage_extent()
    if prod(size) and (lo < 0 or hi >= len(self._storage)):
        raise RuntimeError(
            f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset "
            f"{offset}, and itemsize {self.dtype.itemsize} requiring a storage size of "
            f"{(hi + 1) * self.dtype.itemsize} are out of bounds for storage of size "
            f"{len(self._storage) * self.dtype.itemsize}")
    return self._with_view(view, "as_strided")

def unfold(self, dimension: int, size: int, step: int) -> Tensor:
    """All windows of `size` elements along dimension, `step` apart, as a new last dim."""
    dim = normalize_dim(dimension, self.ndim)
    length = self.shape[dim] if self.ndim else 1
    if size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {dim} is {length} but size "
                           f"is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    view = self._view
    if self.ndim == 0:  # PyTorch: a scalar unfolds to one window of size 1, shape (size,)
        return self._with_view(View((size,), (1,), view.offset), "as_strided")
    count = (length - size) // step + 1
    shape = view.shape[:dim] + (count,) + view.shape[dim + 1:] + (size,)
    base_stride = view.strides[dim] if self.ndim else 1
    strides = (view.strides[:dim] + (base_stride * step,) + view.strides[dim + 1:]
               + (base_stride,))
    return self._with_view(View(shape, strides, view.offset), "as_strided")


FUNCTIONS = {
    "trace": trace,
    "cat": cat, "concat": cat, "concatenate": cat, "stack": stack, "hstack": hstack,
    "vstack": vstack, "flip": flip, "fliplr": fliplr, "flipud": flipud, "roll": roll,
    "tile": tile, "tril": tril, "triu": triu, "masked_fill": masked_fill, "diag": diag,
    "diagonal": diagonal_view, "repeat_interleave": repeat_interleave,
}
TENSOR_METHODS = {
    "unbind": unbind,
    "split": split,
    "chunk": chunk,
    "tensor_split": tensor_split,
    "as_strided": as_strided,
    "unfold": unfold,
    "flip": flip, "fliplr": fliplr, "flipud": flipud, "roll": roll, "repeat": repeat,
    "tile": tile, "tril": tril, "triu": triu, "masked_fill": masked_fill,
    "masked_fill_": masked_fill_, "diag": diag, "diagonal": diagonal_view,
    "repeat_interleave": repeat_interleave, "trace": trace,
    "tril_": lambda self, diagonal=0: ew.copy_(self, tril(self, diagonal)),
    "triu_": lambda self, diagonal=0: ew.copy_(self, triu(self, diagonal)),
}


# --- broadcasting, stacking and splitting by the numpy-style names ------------


def broadcast_tensors(*tensors) -> tuple[Tensor, ...]:
    """Expand views of every tensor to their common broadcast shape."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    shape = broadcast_shapes(*(t.shape for t in tensors))
    return tuple(t.expand(shape) for t in tensors)


_MESHGRID_WARNED = []


def meshgrid(*tensors, indexing: str | None = None) -> tuple[Tensor, ...]:
    """Coordinate grids from 0-d/1-d tensors, as expand views ('ij' or 'xy')."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        if not _MESHGRID_WARNED:  # PyTorch warns once per process
            _MESHGRID_WARNED.append(True)
            warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass "
                          "the indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: '
                           f"{indexing}")
    for t in tensors:
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but "
                               f"got a tensor of shape {list(t.shape)}")
        if t.dtype is not tensors[0].dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    swap = indexing == "xy" and len(tensors) >= 2
    order = list(tensors)
    if swap:
        order[0], order[1] = order[1], order[0]
    shape = tuple(t.numel() for t in order)
    grids = []
    for i, t in enumerate(order):
        view_shape = [1] * len(order)
        view_shape[i] = -1
        grids.append(t.reshape(view_shape).expand(shape))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def _atleast(tensors, ndim: int, reshape):
    single = len(tensors) == 1 and isinstance(tensors[0], Tensor)
    if len(tensors) == 1 and not single:
        tensors = tuple(tensors[0])
    out = tuple(reshape(t) if t.ndim < ndim else t for t in tensors)
    return out[0] if single else out


def atleast_1d(*tensors):
    return _atleast(tensors, 1, lambda t: t.reshape(1))


def atleast_2d(*tensors):
    return _atleast(tensors, 2, lambda t: t.reshape(1, -1) if t.ndim else t.reshape(1, 1))


def atleast_3d(*tensors):
    def to_3d(t):
        if t.ndim == 0:
            return t.reshape(1, 1, 1)
        if t.ndim == 1:
            return t.reshape(1, -1, 1)
        return t.unsqueeze(-1)
    return _atleast(tensors, 3, to_3d)


def dstack(tensors) -> Tensor:
    return cat(atleast_3d(tuple(_check_non_empty("dstack", tensors))), 2)


def column_stack(tensors) -> Tensor:
    return cat([t.reshape(-1, 1) if t.ndim <= 1 else t for t in tensors], 1)


def _numpy_split(name: str, dim: int, input: Tensor, indices_or_sections):
    if not isinstance(indices_or_sections, (int, list, tuple, Tensor)):
        raise TypeError(f"{name}() received an invalid combination of arguments - got (Tensor, "
                        f"{type(indices_or_sections).__name__}), but expected one of:\n"
                        " * (Tensor input, int sections)\n"
                        " * (Tensor input, tuple of ints indices)")
    needed = {"hsplit": 1, "vsplit": 2, "dsplit": 3}[name]
    if input.ndim < needed:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {needed} dimension, but "
                           f"got a tensor with {input.ndim} dimensions!")
    if name == "hsplit" and input.ndim == 1:
        dim = 0
    if isinstance(indices_or_sections, int):
        size = input.shape[dim]
        if indices_or_sections == 0 or size % indices_or_sections:
            raise RuntimeError(
                f"torch.{name} attempted to split along dimension {dim}, but the size of the "
                f"dimension {size} is not divisible by the split_size {indices_or_sections}!")
    return tensor_split(input, indices_or_sections, dim)


def hsplit(input: Tensor, indices_or_sections) -> tuple[Tensor, ...]:
    return _numpy_split("hsplit", 1, input, indices_or_sections)


def vsplit(input: Tensor, indices_or_sections) -> tuple[Tensor, ...]:
    return _numpy_split("vsplit", 0, input, indices_or_sections)


def dsplit(input: Tensor, indices_or_sections) -> tuple[Tensor, ...]:
    return _numpy_split("dsplit", 2, input, indices_or_sections)


def split_with_sizes(input: Tensor, split_sizes, dim: int = 0) -> tuple[Tensor, ...]:
    return split(input, list(split_sizes), dim)


def rot90(input: Tensor, k: int = 1, dims=(0, 1)) -> Tensor:
    """Rotate by 90 degrees k times in the plane of dims, from dims[0] towards dims[1]."""
    dims = list(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    d0, d1 = normalize_dim(dims[0], input.ndim), normalize_dim(dims[1], input.ndim)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {dims[0]} and "
                           f"dim1 = {dims[1]}")
    k %= 4
    if k == 1:
        return flip(input, (d1,)).transpose(d0, d1)
    if k == 2:
        return flip(input, (d0, d1))
    if k == 3:
        return flip(input, (d0,)).transpose(d0, d1)
    return ew.clone(input)


def diff(input: Tensor, n: int = 1, dim: int = -1, prepend=None, append=None) -> Tensor:
    """The n-th forward difference along dim (logical xor for bool tensors)."""
    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    dim = normalize_dim(dim, input.ndim)
    parts = []
    for extra in (prepend, append):
        if extra is None:
            continue
        if extra.ndim != input.ndim:
            raise RuntimeError("diff expects prepend or append to be the same dimension as input")
        for d in range(input.ndim):
            if d != dim and extra.shape[d] != input.shape[d]:
                raise RuntimeError(
                    "diff expects the shape of tensor to prepend or append to match that of input "
                    f"except along the differencing dimension; input.size({d}) = "
                    f"{input.shape[d]}, but got tensor.size({d}) = {extra.shape[d]}")
    if n == 0:  # (prepend and append are checked, then left out, as PyTorch does)
        return ew.clone(input)
    if prepend is not None or append is not None:
        parts = ([prepend] if prepend is not None else []) + [input] + (
            [append] if append is not None else [])
        input = cat(parts, dim)
    out = input
    for _ in range(n):
        length = out.shape[dim]
        if length == 0:
            break
        later, earlier = out.narrow(dim, 1, length - 1), out.narrow(dim, 0, length - 1)
        out = (ew.apply("ne", later, earlier) if out.dtype is dtypes.bool_
               else ew.sub(later, earlier))
    return out if out is not input else ew.clone(input)


def narrow_copy(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    # (PyTorch's narrow_copy checks in its own words before narrowing)
    if input.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    if dim >= input.ndim:
        raise RuntimeError("Expected dim < static_cast<int64_t>(self_sizes.size()) to be true, "
                           "but got false.")
    normalize_dim(dim, input.ndim)
    if length < 0:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size "
                           f"({input.shape[dim]}).")
    return ew.clone(input.narrow(dim, start, length)).contiguous()


FUNCTIONS.update({
    "broadcast_tensors": broadcast_tensors, "meshgrid": meshgrid, "atleast_1d": atleast_1d,
    "atleast_2d": atleast_2d, "atleast_3d": atleast_3d, "dstack": dstack,
    "column_stack": column_stack, "row_stack": vstack, "hsplit": hsplit, "vsplit": vsplit,
    "dsplit": dsplit, "split_with_sizes": split_with_sizes, "rot90": rot90, "diff": diff,
    "narrow_copy": narrow_copy,
})
TENSOR_METHODS.update({
    "hsplit": hsplit, "vsplit": vsplit, "dsplit": dsplit, "split_with_sizes": split_with_sizes,
    "rot90": rot90, "diff": diff, "narrow_copy": narrow_copy,
})
