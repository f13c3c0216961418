"""nn.Parameter and nn.Buffer: tensors that a Module registers by assignment.

A Parameter is a Tensor subclass sharing its data's storage (no copy), with
requires_grad=True by default; ops on it return plain Tensors, as in PyTorch.
nn.Buffer marks a tensor to be registered with `register_buffer` when
assigned to a module attribute. UninitializedParameter / UninitializedBuffer
hold the place of a lazy module's state (nn.LazyLinear, ...) until its first
forward gives them a shape: `materialize(shape)` turns them into a Parameter /
a plain Tensor in place.
"""

from __future__ import annotations

from lazyt import creation
from lazyt.tensor import Tensor


def _realised(data) -> Tensor:
    if data is None:
        return creation.empty(0)
    if not isinstance(data, Tensor):
        raise TypeError(f"Parameter(data) expects a Tensor, got {type(data).__name__}")
    return data.detach().realize()


class Parameter(Tensor):
    """A Tensor that is a module parameter: Parameter(data=None, requires_grad=True)."""

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True):
        data = _realised(data)
        param = cls._make(data._storage, data._view)
        param.requires_grad_(requires_grad)
        return param

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True):
        pass  # Tensor.__init__ forbids direct construction; __new__ did the work

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo: dict) -> Parameter:
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.data.clone(), self.requires_grad)
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self.data, self.requires_grad))


def _rebuild_parameter(data: Tensor, requires_grad: bool) -> Parameter:
    return Parameter(data, requires_grad)


class Buffer(Tensor):
    """Buffer(data, persistent=True): assigning one to a Module attribute
    registers it as a buffer (it is stored as a plain Tensor)."""

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True):
        data = _realised(data)
        buffer = cls._make(data._storage, data._view)
        buffer.persistent = persistent
        return buffer

    def __init__(self, data: Tensor | None = None, *, persistent: bool = True):
        pass


class UninitializedTensorMixin:
    """A state tensor without a shape yet (an empty placeholder) until materialize()."""

    __slots__ = ()
    cls_to_become: type = Tensor

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Give the tensor storage of `shape` (uninitialised values) and its final class."""
        device = self.device if device is None else device
        dtype = self.dtype if dtype is None else dtype
        self.data = creation.empty(shape, device=device, dtype=dtype)
        self.__class__ = self.cls_to_become

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    def __reduce_ex__(self, protocol):
        return (type(self), (self.requires_grad,))


def is_lazy(tensor) -> bool:
    """Whether a parameter or buffer is still an uninitialised placeholder."""
    return isinstance(tensor, UninitializedTensorMixin)


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A Parameter whose shape is not known yet: UninitializedParameter(requires_grad=True,
    device=None, dtype=None)."""

    cls_to_become = Parameter

    def __new__(cls, requires_grad: bool = True, device=None, dtype=None):
        return super().__new__(cls, creation.empty(0, device=device, dtype=dtype), requires_grad)

    def __init__(self, requires_grad: bool = True, device=None, dtype=None):
        pass


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer whose shape is not known yet: UninitializedBuffer(requires_grad=False,
    device=None, dtype=None, persistent=True)."""

    cls_to_become = Tensor

    def __new__(cls, requires_grad: bool = False, device=None, dtype=None,
                persistent: bool = True):
        data = creation.empty(0, device=device, dtype=dtype).realize()
        buffer = cls._make(data._storage, data._view)
        buffer.requires_grad_(requires_grad)
        return buffer

    def __init__(self, requires_grad: bool = False, device=None, dtype=None,
                 persistent: bool = True):
        pass
