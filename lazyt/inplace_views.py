"""In-place view ops: `squeeze_`, `unsqueeze_`, `t_`, `transpose_`/`swapaxes_`/
`swapdims_`, `as_strided_`, and `resize_`/`resize_as_`. They change the
tensor's own metadata (shape, strides, offset), not its values, as PyTorch's do.

Each takes the matching view with the out-of-place op (which checks the
arguments and records the view's gradient node), then moves that view's
state into self: self gets the view's layout over the same storage and, when
autograd recorded the view, its grad_fn (PyTorch's `x.squeeze_()` leaves
SqueezeBackward on x). A pending tensor (deferred mode) is realised first,
together with the pending views taken from it, because those views are
described relative to its layout.
"""

from __future__ import annotations

from lazyt import formats, modes
from lazyt.autograd import grad_mode
from lazyt.autograd.function import _move_retain_hooks
from lazyt.ir.view import View, prod
from lazyt.realization import realize_tensors
from lazyt.runtime.storage import Storage
from lazyt.strided_creation import strides_for_order
from lazyt.tensor import Tensor, normalize_shape


def _realize_with_views(self: Tensor) -> None:
    """Realise self if pending, with every pending view whose layout derives from it."""
    if self._node is None:
        return
    dependents = [t for t in modes.pending_tensors() if t._lazy_base is self]
    realize_tensors([self, *dependents])


def _become(self: Tensor, view: Tensor) -> Tensor:
    """Give self the layout (and, if recorded, the gradient history) of `view`."""
    old_fn = self.grad_fn
    self._st, self._vw = view._st, view._vw
    self._st.version += 1
    if view.grad_fn is not None:
        self.grad_fn = view.grad_fn
        self._requires_grad = True
        self.__dict__.pop("_output_nr", None)
        # retain_grad() now retains the gradient of the new layout (PyTorch keeps
        # the old node's, a gradient of another shape than the tensor's).
        _move_retain_hooks(old_fn, self.grad_fn)
    return self


def _restride(self: Tensor, take_view) -> Tensor:
    grad_mode.check_inplace(self)
    base = getattr(self, "_base", None)
    if grad_mode.is_grad_enabled() and base is not None and base._requires_grad \
            and base.grad_fn is None:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")
    _realize_with_views(self)
    return _become(self, take_view(self))


def squeeze_(self: Tensor, dim=None) -> Tensor:
    return _restride(self, lambda t: t.squeeze(dim))


def unsqueeze_(self: Tensor, dim: int) -> Tensor:
    return _restride(self, lambda t: t.unsqueeze(dim))


def transpose_(self: Tensor, dim0: int, dim1: int) -> Tensor:
    return _restride(self, lambda t: t.transpose(dim0, dim1))


def t_(self: Tensor) -> Tensor:
    if self.ndim > 2:
        raise RuntimeError(f"t_() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
    return _restride(self, lambda t: t.t())


def as_strided_(self: Tensor, size, stride, storage_offset: int | None = None) -> Tensor:
    return _restride(self, lambda t: t.as_strided(size, stride, storage_offset))


def resize_(self: Tensor, *sizes, memory_format=None) -> Tensor:
    """Contiguous strides for the new size at the same storage offset; the
    storage grows (keeping its values) when the new size needs more."""
    shape = normalize_shape(sizes)
    if self._requires_grad and grad_mode.is_grad_enabled():
        raise RuntimeError("cannot resize variables that require grad")
    for size in shape:
        if size < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {size}: "
                               f"{list(shape)}")
    if shape == tuple(self.shape) and memory_format is None:
        return self  # PyTorch keeps the strides when the size does not change
    _realize_with_views(self)
    offset = self._vw.offset
    needed = offset + prod(shape)
    storage = self._st
    if needed > len(storage):
        storage = _grown(storage, needed)
    self._st, self._vw = storage, View(shape, View.contiguous(shape).strides, offset)
    storage.version += 1
    order = None if memory_format is None else formats.channels_last_permutation(
        formats.check_memory_format(memory_format, len(shape)))
    if order is not None:
        self._vw = View(shape, strides_for_order(shape, order), offset)
    return self


def _grown(storage: Storage, numel: int) -> Storage:
    """A new storage of numel elements starting with a copy of storage's values."""
    grown = Storage.allocate(storage.dtype, numel, storage.device)
    old_count = len(storage)
    if old_count:
        old = Tensor._make(storage, View.contiguous((old_count,)))
        with grad_mode.no_grad():
            Tensor._make(grown, View.contiguous((old_count,))).copy_(old)
    return grown


def resize_as_(self: Tensor, the_template: Tensor, *, memory_format=None) -> Tensor:
    if not isinstance(the_template, Tensor):
        raise TypeError("resize_as_(): argument 'the_template' (position 1) must be Tensor, not "
                        f"{type(the_template).__name__}")
    return resize_(self, tuple(the_template.shape), memory_format=memory_format)


FUNCTIONS = {"resize_as_": resize_as_, "as_strided_": as_strided_}
TENSOR_METHODS = {
    "squeeze_": squeeze_, "unsqueeze_": unsqueeze_, "transpose_": transpose_,
    "swapaxes_": transpose_, "swapdims_": transpose_, "t_": t_, "as_strided_": as_strided_,
    "resize_": resize_, "resize_as_": resize_as_,
}
