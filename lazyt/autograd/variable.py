"""lt.autograd.Variable: PyTorch's deprecated wrapper, kept for old scripts.

As in PyTorch, every tensor is a Variable (`isinstance(t, Variable)` is True)
and `Variable(t, requires_grad=...)` returns a tensor that shares t's data,
detached from t's graph, with requires_grad set as asked.
"""

from __future__ import annotations

import warnings

from lazyt.creation import empty
from lazyt.tensor import Tensor


class _VariableMeta(type):
    def __instancecheck__(cls, other) -> bool:
        return isinstance(other, Tensor)


class Variable(metaclass=_VariableMeta):
    """Variable(data=None, requires_grad=False, volatile=False) -> Tensor."""

    def __new__(cls, data=None, requires_grad: bool = False, volatile: bool = False):
        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with torch.no_grad():` "
                          "instead.", UserWarning, stacklevel=2)
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        result = data.detach()
        if requires_grad:
            result.requires_grad_(True)
        return result
