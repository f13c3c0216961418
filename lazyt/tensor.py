"""Tensor: PyTorch's tensor API over the IR.

A Tensor is a View (shape, strides, offset) over a flat Storage, exactly as in
PyTorch: view ops return tensors sharing the storage, and writes through a
view change the base. Every computing method builds IR nodes and hands them to
the engine (lazyt/engine/; eager mode realises at once). The op families live in their
own modules (elementwise, reductions, shape_ops, indexing, creation, linalg);
this file holds the class, its metadata, view ops and conversions, and binds
the methods.
"""

from __future__ import annotations

import builtins
import warnings
from typing import Any

import numpy as np

from lazyt import formats, modes
from lazyt.autograd import grad_mode
from lazyt.autograd.grad_mode import record_view
from lazyt.dtypes import DType
from lazyt.engine.realize import graph_device, realize_new
from lazyt.ir.node import INTERNING, Node, make_node
from lazyt.ir.view import View, apply_movement, prod
from lazyt.realization import MAX_PENDING_DEPTH, realize_tensors, realize_view
from lazyt.runtime.device import CPU, CREATION_DEVICE, CUDA_USED, device
from lazyt.runtime.storage import Storage


def _flush_write(storage: Storage) -> None:
    """Carry out the deferred write into storage before it is read directly."""
    realize_tensors([storage.writer])


def normalize_dim(dim: int, ndim: int, *, scalar_ok: bool = True) -> int:
    """Wrap a possibly negative dim; PyTorch's IndexError when out of range."""
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"dim must be an int, got {type(dim).__name__}")
    if ndim == 0 and not scalar_ok:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    lo, hi = (-1, 0) if ndim == 0 and scalar_ok else (-ndim, ndim - 1)
    if not lo <= dim <= hi:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{lo}, {hi}], but got {dim})")
    return int(dim) % builtins.max(ndim, 1)


def normalize_shape(args) -> tuple[int, ...]:
    """Accept f(2, 3), f((2, 3)), f([2, 3]) and f(torch.Size) like PyTorch."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    shape = []
    for a in args:
        if isinstance(a, Tensor):
            a = a.item()
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(
                f"size must be a tuple of ints, but got an element of type {type(a).__name__}")
        shape.append(int(a))
    return tuple(shape)


def _check_assigned_grad(t: Tensor, grad) -> None:
    """PyTorch's checks on `t.grad = grad`: a tensor of t's size and dtype."""
    if not isinstance(grad, Tensor):
        raise TypeError("assigned grad expected to be a Tensor or None but got grad of type "
                        f"{type(grad).__name__}")
    if grad.dtype is not t.dtype:
        raise RuntimeError(
            f"attempting to assign a gradient with dtype '{_C_TYPE_NAMES[grad.dtype.name]}' to "
            f"a tensor with grad_dtype '{_SCALAR_NAMES[t.dtype.name]}'. The gradient must match "
            "the tensor's grad_dtype (defaults to the tensor's dtype).")
    if tuple(grad.shape) != tuple(t.shape):
        raise RuntimeError(
            f"attempting to assign a gradient of size '{list(grad.shape)}' to a tensor of size "
            f"'{list(t.shape)}'. Please ensure that the gradient and the tensor are the same "
            "size")


# How PyTorch's messages name dtypes: C++ type names and ScalarType names.
_C_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
                 "bfloat16": "c10::BFloat16", "int8": "signed char", "uint8": "unsigned char",
                 "int16": "short int", "int32": "int", "int64": "long int", "bool": "bool"}
_SCALAR_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half",
                 "bfloat16": "BFloat16", "int8": "Char", "uint8": "Byte", "int16": "Short",
                 "int32": "Int", "int64": "Long", "bool": "Bool"}


class Size(tuple):
    """torch.Size: a tuple of ints with PyTorch's repr."""

    def __repr__(self) -> str:
        return f"lazyt.Size([{', '.join(str(s) for s in self)}])"

    def numel(self) -> int:
        return prod(self)

    def __getitem__(self, item):
        result = tuple.__getitem__(self, item)
        return Size(result) if isinstance(item, slice) else result


class Tensor:
    """A strided view over a Storage, with PyTorch's API."""

    __slots__ = ("_st", "_vw", "_node", "_lazy_base", "_lazy_moves", "_pending_strides",
                 "_requires_grad", "_grad", "grad_fn",
                 "_retains_grad", "_backward_hooks", "_version_seen", "_write_epoch", "__weakref__",
                 "__dict__")

    # numpy scalars and arrays on the left of an operator defer to the
    # Tensor's reflected method (np.float32(3) * t is a Tensor), as PyTorch's do.
    __array_priority__ = 1000

    # A tensor is either realised (_st, _vw: a Storage and a View) or pending
    # (_node: an IR node, deferred mode). A pending view of a pending tensor
    # remembers its base and the movements from it, so that it realises as a
    # real view sharing the base's storage, as PyTorch's views do. A pending
    # result that eager mode would lay out like a permuted operand keeps those
    # dense strides (_pending_strides) and is realised in that order.

    # ------------------------------------------------------------------ make
    def __init__(self, *args, **kwargs):
        pass  # __new__ did the work (Tensor objects are made by _make and the ops)

    @classmethod
    def _make(cls, storage: Storage, view: View, requires_grad: bool = False) -> Tensor:
        t = object.__new__(cls)
        t._st = storage
        t._vw = view
        t._node = None
        t._lazy_base = None
        t._lazy_moves = ()
        t._pending_strides = None
        t._requires_grad = requires_grad
        t._grad = None
        t.grad_fn = None
        t._retains_grad = False
        t._backward_hooks = None
        t._version_seen = 0
        t._write_epoch = None  # (pending: the realisation it was made after, modes.py)
        return t

    @classmethod
    def _make_pending(cls, node: Node, base: Tensor | None = None, moves: tuple = ()) -> Tensor:
        t = object.__new__(cls)  # (_make's fields, each set once: deferred makes many)
        t._st = t._vw = t._pending_strides = t._grad = t.grad_fn = t._backward_hooks = None
        t._node = node
        t._lazy_base = base
        t._lazy_moves = moves
        t._requires_grad = t._retains_grad = False
        t._version_seen = 0
        modes.track_pending(t)
        return t

    @classmethod
    def _from_node(cls, node: Node, device_=None,
                   strides: tuple[int, ...] | None = None) -> Tensor:
        """A tensor computing node: pending in deferred mode, realised now in
        eager mode. `strides` (dense; None: row-major) lay the result out as
        PyTorch would (an elementwise result keeps a permuted operand's dim
        order); a pending result keeps them for its realisation."""
        if strides is not None and strides == View.contiguous(node.shape).strides:
            strides = None
        if modes.is_deferred():
            t = cls._make_pending(node)
            t._pending_strides = strides
            return t
        if device_ is None:  # (inside a creation function on another device: there)
            device_ = CREATION_DEVICE[-1] if CREATION_DEVICE else CPU
        storage, view = realize_new(node, device_, strides)
        return cls._make(storage, view)

    @property
    def _storage(self) -> Storage:
        if self._node is not None:
            self.realize()
        elif self._st.writer is not None:
            _flush_write(self._st)
        return self._st

    @property
    def _view(self) -> View:
        if self._node is not None:
            self.realize()
        elif self._st.writer is not None:
            _flush_write(self._st)
        return self._vw

    @property
    def _shape(self) -> tuple[int, ...]:
        return self._node.shape if self._node is not None else self._vw.shape

    @property
    def _is_pending(self) -> bool:
        return self._node is not None

    def realize(self) -> Tensor:
        """Compute this tensor now if it is pending (deferred mode); returns self."""
        if self._node is not None:
            realize_tensors([self])
        return self

    def _move(self, kind: str, params: tuple, grad_op: str = "reshape", **ctx) -> Tensor:
        """A view op: a new View over the same storage, or (pending) a movement node."""
        if self._node is None:
            view = apply_movement(self._vw, kind, params)
            assert view is not None, f"movement {kind}{params} is not a view"
            return self._with_view(view, grad_op, **ctx)
        return self._moved([(kind, params)], grad_op, **ctx)

    def _moved(self, moves: list, grad_op: str, **ctx) -> Tensor:
        """A pending tensor's view by movement nodes (several for basic
        indexing), one view op for autograd."""
        node = self._node
        moves = list(moves) or [("reshape", (node.shape,))]  # (x[...]: an alias all the same)
        for kind, params in moves:
            shape = apply_movement(View.contiguous(node.shape), kind, params).shape
            node = make_node("movement", self.dtype, shape, (node,), (kind, params))
        base = self._lazy_base if self._lazy_base is not None else self
        base.__dict__["_has_lazy_views"] = True  # in-place writes to it must realise it
        out = Tensor._make_pending(node, base, self._lazy_moves + tuple(moves))
        record_view(self, out, grad_op, ctx)
        return out

    def _layout(self) -> View:
        """The strides this tensor has, or (pending) will have once realised."""
        if self._node is None or self._st is not None:  # realised, or a pending write
            return self._vw
        if self._lazy_base is None:
            if self._pending_strides is not None:
                return View(self._node.shape, self._pending_strides, 0)
            return View.contiguous(self._node.shape)
        view = self._lazy_base._layout()
        for kind, params in self._lazy_moves:
            view = apply_movement(view, kind, params)
        return view

    def _with_view(self, view: View, op: str = "reshape", **ctx) -> Tensor:
        """A tensor sharing this one's storage (PyTorch view semantics).

        op/ctx tell autograd how the view relates to self: "reshape" (same
        elements in order), "permute" (order=...), "expand", or "index"
        (index=... as for __getitem__ with basic indices)."""
        out = Tensor._make(self._storage, view)
        record_view(self, out, op, ctx)
        return out

    def _stale_view(self) -> bool:
        """A pending view whose base was realised since (an in-place write to
        the base realises it first): its node would compute the base's old
        value, so it becomes a real view of the base's storage, as in PyTorch."""
        base = self._lazy_base
        return self._node is not None and base is not None and base._node is None

    def _load(self) -> Node:
        if self._node is not None and self._node.depth > MAX_PENDING_DEPTH:
            self.realize()  # bounded graphs: see MAX_PENDING_DEPTH
        if self._stale_view():
            realize_view(self)
        if self._node is not None:
            return self._node
        if self._st.writer is not None:  # another tensor's deferred write to this storage
            _flush_write(self._st)
        return self._own_load()

    def _load_as(self, shape: tuple[int, ...]) -> Node:
        """This tensor read broadcast to `shape` (caller checked compatibility)."""
        if self._node is not None and self._node.depth > MAX_PENDING_DEPTH:
            self.realize()
        if self._stale_view():
            realize_view(self)
        if self._node is not None:
            if self._node.shape == shape:
                return self._node
            return make_node("movement", self.dtype, shape, (self._node,), ("expand", (shape,)))
        if self._st.writer is not None:
            _flush_write(self._st)
        return self._own_load(shape)

    def _own_load(self, shape: tuple[int, ...] | None = None) -> Node:
        """The LOAD node reading this realised tensor through its view,
        broadcast to `shape` (None: its own). In deferred mode (nodes
        interned) they are kept on the tensor, per shape: the interned node
        is the same object every time while anything holds it, so a tensor
        read every step skips building and hashing its (Buffer, View) key.
        The kept nodes are checked against the tensor's storage and view
        (a node holds its Buffer, so the storage's buffer stays that one)."""
        view = self._vw
        if shape is None:
            shape = view.shape
        kept = None
        if INTERNING[0]:
            kept = self.__dict__.get("_kept_loads")
            if kept is None or kept[0] is not self._st or kept[1] is not view:
                kept = self.__dict__["_kept_loads"] = (self._st, view, {})
            node = kept[2].get(shape)
            if node is not None:
                return node
        read = view if view.shape == shape else _broadcast_view(view, shape)
        node = make_node("load", self._st.dtype, shape, (), (self._st.buffer, read))
        if kept is not None and len(kept[2]) < 4:  # (broadcast to many shapes: the first few)
            kept[2][shape] = node
        return node

    # -------------------------------------------------------------- metadata
    @property
    def dtype(self) -> DType:
        return self._node.dtype if self._node is not None else self._st.dtype

    @property
    def device(self) -> device:
        if self._node is None:
            return self._st.device
        # A pending tensor lives where the buffers it reads do.
        return graph_device([self._node]) if CUDA_USED[0] else CPU

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    @property
    def is_cpu(self) -> bool:
        return self.device.type == "cpu"

    # Kinds of tensor lazyt does not have (PyTorch scripts test these flags).
    is_sparse = is_sparse_csr = is_quantized = is_meta = is_nested = is_mkldnn = False

    def get_device(self) -> int:
        """The CUDA device index, -1 on the CPU."""
        return self.device.index or 0 if self.device.type == "cuda" else -1

    def is_signed(self) -> bool:
        return self.dtype.name not in ("uint8", "bool")

    def is_same_size(self, other: Tensor) -> bool:
        return self._shape == other._shape

    def is_nonzero(self) -> bool:
        if self.numel() == 0:
            raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
        if self.numel() > 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.item())

    @property
    def shape(self) -> Size:
        return Size(self._shape)

    def size(self, dim: int | None = None):
        if dim is None:
            return Size(self._shape)
        return self._shape[normalize_dim(dim, self.ndim, scalar_ok=False)]

    def stride(self, dim: int | None = None):
        strides = self._layout().strides
        if dim is None:
            return tuple(strides)
        return strides[normalize_dim(dim, self.ndim, scalar_ok=False)]

    def storage_offset(self) -> int:
        return self._view.offset

    @property
    def ndim(self) -> int:
        return len(self._shape)

    def dim(self) -> int:
        return self.ndim

    ndimension = dim

    def numel(self) -> int:
        return prod(self._shape)

    nelement = numel

    def element_size(self) -> int:
        return self.dtype.itemsize

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self.numel() * self.dtype.itemsize

    def is_contiguous(self, memory_format=formats.contiguous_format) -> bool:
        if memory_format is None or memory_format is formats.contiguous_format:
            return self._layout().is_contiguous()
        return formats.is_in_format(self._shape, self._layout().strides, memory_format)

    @property
    def layout(self) -> formats.layout:
        return formats.strided

    def is_floating_point(self) -> bool:
        return self.dtype.is_floating_point

    def is_complex(self) -> bool:
        return False

    def data_ptr(self) -> int:
        return self._storage.address + self._view.offset * self.dtype.itemsize

    def _is_view_of(self, other: Tensor) -> bool:
        return self._storage is other._storage

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._shape[0]

    def __hash__(self) -> int:
        return id(self)

    def __contains__(self, element) -> bool:
        return bool((self == element).any())

    # ------------------------------------------------------------- autograd
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and not self.dtype.is_floating_point:
            raise RuntimeError(
                "Only Tensors of floating point and complex dtype can require gradients")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use "
                "a computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach().")
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def grad(self) -> Tensor | None:
        if self.grad_fn is not None and not self._retains_grad:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its "
                ".grad attribute won't be populated during autograd.backward(). If you indeed want "
                "the .grad field to be populated for a non-leaf Tensor, use .retain_grad() on the "
                "non-leaf Tensor. If you access the non-leaf Tensor by mistake, make sure you "
                "access the leaf Tensor instead. See github.com/pytorch/pytorch/pull/30531 for "
                "more information.", UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            _check_assigned_grad(self, value)
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    def detach(self) -> Tensor:
        """A tensor sharing this one's storage, outside autograd. A pending
        tensor's detach is a pending view of it: realised, both share one
        storage (data_ptr), as in eager mode."""
        if self._node is None or self._st is not None:  # realised (or a pending write)
            return Tensor._make(self._st, self._vw)
        base = self._lazy_base if self._lazy_base is not None else self
        base.__dict__["_has_lazy_views"] = True  # in-place writes to it must realise it
        return Tensor._make_pending(self._node, base, self._lazy_moves)

    def detach_(self) -> Tensor:
        self.grad_fn = None
        self._requires_grad = False
        return self

    @property
    def data(self) -> Tensor:
        return self.detach()

    @data.setter
    def data(self, other: Tensor) -> None:
        other.realize()
        self.realize()
        self._st, self._vw = other._st, other._vw

    # ---------------------------------------------------------------- views
    def view(self, *shape) -> Tensor:
        if len(shape) == 1 and isinstance(shape[0], DType):
            return self._view_as_dtype(shape[0])
        shape = infer_shape(normalize_shape(shape), self.numel())
        if self._layout().reshape(shape) is None:
            raise RuntimeError(
                "view size is not compatible with input tensor's size and stride (at least one "
                "dimension spans across two contiguous subspaces). Use .reshape(...) instead.")
        return self._move("reshape", (shape,), grad_name="ViewBackward0")

    def _view_as_dtype(self, dtype: DType) -> Tensor:
        """x.view(dtype): the same bytes read as another dtype (a new Storage
        object over the same memory; writes through either happen at once, as
        for memory numpy shares). With another element size the last dim
        scales, as PyTorch's."""
        if dtype is self.dtype:
            return self.view(self.shape)
        if self.device.type != "cpu":
            raise NotImplementedError("lazyt: view(dtype) is implemented on the CPU only")
        old, new = self.dtype.itemsize, dtype.itemsize
        names = f"to view {_SCALAR_NAMES[self.dtype.name]} as {_SCALAR_NAMES[dtype.name]} " \
                "(different element sizes)"
        self.realize()
        view = self._view
        shape, strides, offset = list(view.shape), list(view.strides), view.offset
        if old != new:
            if not shape:
                raise RuntimeError(f"self.dim() cannot be 0 {names}")
            if strides[-1] != 1:
                raise RuntimeError(f"self.stride(-1) must be 1 {names}, but got {strides[-1]}")
            if new > old:
                ratio = new // old
                if shape[-1] % ratio:
                    raise RuntimeError(f"self.size(-1) must be divisible by {ratio} {names}, "
                                       f"but got {shape[-1]}")
                if offset % ratio:
                    raise RuntimeError(f"self.storage_offset() must be divisible by {ratio} "
                                       f"{names}, but got {offset}")
                for d, stride in enumerate(strides[:-1]):
                    if stride % ratio:
                        raise RuntimeError(f"self.stride({d}) must be divisible by {ratio} "
                                           f"{names}, but got {stride}")
                shape[-1] //= ratio
                strides = [st // ratio for st in strides[:-1]] + [1]
                offset //= ratio
            else:
                ratio = old // new
                shape[-1] *= ratio
                strides = [st * ratio for st in strides[:-1]] + [1]
                offset *= ratio
        source = self._storage
        raw = source.array.view(np.uint8)
        raw = raw[:raw.shape[0] - raw.shape[0] % new]
        storage = Storage(dtype, raw.view(dtype.numpy_storage), source.device,
                          address=source.address)
        source.shared_with_numpy = storage.shared_with_numpy = True
        return Tensor._make(storage, View(tuple(shape), tuple(strides), offset))

    def view_as(self, other: Tensor) -> Tensor:
        return self.view(other.shape)

    def reshape(self, *shape) -> Tensor:
        shape = infer_shape(normalize_shape(shape), self.numel())
        layout = self._layout()
        if layout.reshape(shape) is not None:  # (grad_fn names as PyTorch's)
            return self._move("reshape", (shape,), grad_name="ViewBackward0"
                              if layout.is_contiguous() else "ReshapeAliasBackward0")
        return self.contiguous()._move("reshape", (shape,), grad_name="UnsafeViewBackward0")

    def reshape_as(self, other: Tensor) -> Tensor:
        return self.reshape(other.shape)

    def permute(self, *dims) -> Tensor:
        dims = normalize_shape(dims)
        if len(dims) != self.ndim:
            raise RuntimeError(
                "permute(sparse_coo): number of dimensions in the tensor input does not match "
                f"the length of the desired ordering of dimensions i.e. input.dim() = {self.ndim} "
                f"is not equal to len(dims) = {len(dims)}")
        order = tuple(normalize_dim(d, self.ndim) for d in dims)
        if len(set(order)) != len(order):
            raise RuntimeError("permute(): duplicate dims are not allowed.")
        return self._move("permute", (order,), "permute", order=order,
                          grad_name="PermuteBackward0")

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        if self.ndim == 0:
            normalize_dim(dim0, 0)
            normalize_dim(dim1, 0)
            return self._move("squeeze", ((),))
        d0, d1 = normalize_dim(dim0, self.ndim), normalize_dim(dim1, self.ndim)
        return self._transposed(d0, d1, "TransposeBackward0")

    def _transposed(self, d0: int, d1: int, grad_name: str) -> Tensor:
        order = list(range(self.ndim))
        order[d0], order[d1] = order[d1], order[d0]
        return self._move("permute", (tuple(order),), "permute", order=tuple(order),
                          grad_name=grad_name)

    swapaxes = swapdims = transpose

    def t(self) -> Tensor:
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
        if self.ndim == 2:
            return self._transposed(0, 1, "TBackward0")
        return self._move("squeeze", ((),), grad_name="TBackward0")

    @property
    def T(self) -> Tensor:  # noqa: N802 - PyTorch's name
        return self.permute(*reversed(range(self.ndim)))

    @property
    def mT(self) -> Tensor:  # noqa: N802 - PyTorch's name
        if self.ndim < 2:
            raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. "
                               f"Got {self.ndim}-D tensor.")
        return self.transpose(-2, -1)

    @property
    def mH(self) -> Tensor:  # noqa: N802 - PyTorch's name
        """The conjugate transpose of the last two dims: mT, as lazyt has no complex dtype."""
        if self.ndim == 0:
            warnings.warn("Tensor.mH is deprecated on 0-D tensors. Consider using x.conj().",
                          UserWarning, stacklevel=2)
            return self._move("squeeze", ((),))
        if self.ndim < 2:
            raise RuntimeError("tensor.mH is only supported on matrices or batches of matrices. "
                               f"Got {self.ndim}-D tensor.")
        return self.transpose(-2, -1)

    @property
    def H(self) -> Tensor:  # noqa: N802 - PyTorch's name
        """The conjugate transpose of a matrix: T, as lazyt has no complex dtype."""
        if self.ndim == 0:
            warnings.warn("Tensor.H is deprecated on 0-D tensors. Consider using x.conj().",
                          UserWarning, stacklevel=2)
            return self._move("squeeze", ((),))
        if self.ndim != 2:
            hint = (" For batches of matrices, consider using tensor.mH" if self.ndim > 2 else "")
            raise RuntimeError("tensor.H is only supported on matrices (2-D tensors). Got "
                               f"{self.ndim}-D tensor.{hint}")
        return self.transpose(0, 1)

    def movedim(self, source, destination) -> Tensor:
        src = [source] if isinstance(source, int) else list(source)
        dst = [destination] if isinstance(destination, int) else list(destination)
        if len(src) != len(dst):
            raise RuntimeError(
                f"movedim: Invalid source or destination dims: source ({src} dims) should "
                f"contain the same number of dims as destination ({dst} dims)")
        given = {"source": list(src), "destination": list(dst)}
        src = [normalize_dim(d, self.ndim) for d in src]
        dst = [normalize_dim(d, self.ndim) for d in dst]
        for name, dims in (("source", src), ("destination", dst)):
            if len(set(dims)) != len(dims):
                raise RuntimeError(f"movedim: repeated dim in `{name}` ({given[name]})")
        order = [None] * self.ndim
        for s, d in zip(src, dst):
            order[d] = s
        rest = iter(d for d in range(self.ndim) if d not in src)
        order = [o if o is not None else next(rest) for o in order]
        return self.permute(*order)

    moveaxis = movedim

    def expand(self, *sizes) -> Tensor:
        sizes = normalize_shape(sizes)
        if len(sizes) < self.ndim:
            raise RuntimeError(
                f"expand({self.type()}{{{list(self.shape)}}}, size={list(sizes)}): the number "
                f"of sizes provided ({len(sizes)}) must be greater or equal to the number of "
                f"dimensions in the tensor ({self.ndim})")
        lead = len(sizes) - self.ndim
        target = []
        for i, (want, have) in enumerate(zip(sizes, (1,) * lead + tuple(self._shape))):
            if want == -1:
                if i < lead:
                    raise RuntimeError(
                        f"The expanded size of the tensor (-1) isn't allowed in a leading, "
                        f"non-existing dimension {i}")
                want = have
            if have != want and have != 1:
                raise RuntimeError(
                    f"The expanded size of the tensor ({want}) must match the existing size "
                    f"({have}) at non-singleton dimension {i}.  Target sizes: {list(sizes)}.  "
                    f"Tensor sizes: {list(self.shape)}")
            target.append(want)
        return self._move("expand", (tuple(target),), "expand")

    def expand_as(self, other: Tensor) -> Tensor:
        return self.expand(other.shape)

    def broadcast_to(self, *shape) -> Tensor:
        return self.expand(*shape)

    def narrow(self, dim: int, start: int, length: int) -> Tensor:
        if self.ndim == 0:
            raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
        if length < 0:
            raise RuntimeError("narrow(): length must be non-negative.")
        dim = normalize_dim(dim, self.ndim, scalar_ok=False)
        size = self._shape[dim]
        if isinstance(start, Tensor):
            if start.ndim != 0 or start.dtype.kind not in "iu":
                raise RuntimeError("start must be an 0-dim integral Tensor.")
            start = int(start.item())
        if not -size <= start <= size:
            raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], "
                             f"but got {start})")
        start = start % size if start < 0 else start
        if length < 0 or start + length > size:
            raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
        return self._move("slice", (dim, start, start + length, 1), "index",
                               index=(slice(None),) * dim + (slice(start, start + length),))

    def select(self, dim: int, index: int) -> Tensor:
        if self.ndim == 0:
            raise IndexError("select() cannot be applied to a 0-dim tensor.")
        dim = normalize_dim(dim, self.ndim)
        size = self._shape[dim]
        if not -size <= index < size:
            raise IndexError(f"select(): index {index} out of range for tensor of size "
                             f"{list(self.shape)} at dimension {dim}")
        return self._move("select", (dim, index % size), "index",
                               index=(slice(None),) * dim + (index % size,))

    def unsqueeze(self, dim: int) -> Tensor:
        dim = normalize_dim(dim, self.ndim + 1)
        return self._move("unsqueeze", (dim,), grad_name="UnsqueezeBackward0")

    def squeeze(self, dim=None) -> Tensor:
        if dim is None:
            dims = tuple(range(self.ndim))
        else:
            dims = (dim,) if isinstance(dim, int) else tuple(dim)
            dims = tuple(normalize_dim(d, self.ndim) for d in dims)
        # PyTorch's squeeze(), squeeze(dim), squeeze(dims) overloads
        grad_name = ("SqueezeBackward0" if dim is None else "SqueezeBackward1"
                     if isinstance(dim, int) else "SqueezeBackward2")
        return self._move("squeeze", (dims,), grad_name=grad_name)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        if self.ndim == 0:
            return self.reshape(1)
        s, e = normalize_dim(start_dim, self.ndim), normalize_dim(end_dim, self.ndim)
        if s > e:
            raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
        if s == e:
            return self._move("squeeze", ((),))  # a view with the same strides
        shape = self.shape
        return self.reshape(*shape[:s], prod(shape[s:e + 1]), *shape[e + 1:])

    def ravel(self) -> Tensor:
        return self.reshape(-1)

    def unflatten(self, dim: int, sizes) -> Tensor:
        dim = normalize_dim(dim, self.ndim)
        sizes = tuple(sizes)
        if not sizes:
            raise RuntimeError("unflatten: sizes must be non-empty")
        known = prod(s for s in sizes if s != -1)
        if sizes.count(-1) <= 1 and (known != self.shape[dim] if -1 not in sizes
                                     else known and self.shape[dim] % known):
            raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                               f"size of dim {dim} ({self.shape[dim]}) in the input tensor")
        sizes = infer_shape(sizes, self.shape[dim])
        return self.view(*self.shape[:dim], *sizes, *self.shape[dim + 1:])

    def contiguous(self, memory_format=formats.contiguous_format) -> Tensor:
        """A tensor with the format's strides (channels_last: NCHW data, NHWC strides)."""
        if memory_format is formats.preserve_format:
            raise RuntimeError("preserve memory format is unsupported by the contiguous operator")
        fmt = formats.check_memory_format(memory_format, self.ndim)
        if self.is_contiguous(memory_format=fmt):
            return self
        if fmt is not formats.contiguous_format:
            order = formats.channels_last_permutation(fmt)
            inverse = tuple(order.index(d) for d in range(self.ndim))
            return self.permute(*order).contiguous().permute(*inverse)
        out = Tensor._from_node(self._load())
        grad_mode.record("clone", out, (self,))
        return out



_LEGACY_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
                 "bfloat16": "BFloat16Tensor", "int8": "CharTensor", "uint8": "ByteTensor",
                 "int16": "ShortTensor", "int32": "IntTensor", "int64": "LongTensor",
                 "bool": "BoolTensor"}


def infer_shape(shape: tuple[int, ...], numel: int) -> tuple[int, ...]:
    """Resolve one -1 in a view/reshape shape; PyTorch's errors otherwise."""
    unknown = [i for i, s in enumerate(shape) if s == -1]
    if len(unknown) > 1:
        raise RuntimeError("only one dimension can be inferred")
    for s in shape:
        if s < -1:
            raise RuntimeError(f"invalid shape dimension {s}")
    known = prod(s for s in shape if s != -1)
    if unknown:
        if known == 0 and numel == 0:
            raise RuntimeError(f"cannot reshape tensor of 0 elements into shape {list(shape)} "
                               "because the unspecified dimension size -1 can be any value and "
                               "is ambiguous")
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def broadcast_shapes(*shapes) -> tuple[int, ...]:
    """PyTorch broadcasting; RuntimeError naming the sizes that clash. An
    int stands for a 1-D shape, as in torch.broadcast_shapes(5, (2, 1))."""
    shapes = tuple((s,) if isinstance(s, int) else s for s in shapes)
    ndim = builtins.max((len(s) for s in shapes), default=0)
    out = [1] * ndim
    for shape in shapes:
        for i, size in enumerate(shape):
            j = ndim - len(shape) + i
            if out[j] == 1:
                out[j] = size
            elif size != 1 and size != out[j]:
                a = next(s for s in shapes if len(s) >= ndim - j and
                         s[len(s) - (ndim - j)] == out[j])
                raise RuntimeError(
                    f"The size of tensor a ({a[len(a) - (ndim - j)]}) must match the size of "
                    f"tensor b ({size}) at non-singleton dimension {j}")
    return tuple(out)


def _broadcast_view(view: View, shape: tuple[int, ...]) -> View:
    for _ in range(len(shape) - view.ndim):
        view = view.unsqueeze(0)
    return view.expand(shape)


def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)


def numel(t: Tensor) -> int:
    return t.numel()


Tensor.__module__ = "lazyt"
