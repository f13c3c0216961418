"""The legacy typed tensor classes: lt.FloatTensor, lt.LongTensor, ...

As in PyTorch they are types: `lt.FloatTensor([1, 2])` builds a float32 tensor,
`isinstance(t, lt.FloatTensor)` is true exactly when t is a float32 Tensor
(the check goes by dtype, as PyTorch's tensor-type metaclass does), and
`t.type(lt.LongTensor)` casts.
"""

from __future__ import annotations

from lazyt import dtypes
from lazyt.tensor import _LEGACY_NAMES, Tensor


class LegacyTensorType(type):
    """Metaclass: construction makes a plain Tensor of the class's dtype; isinstance
    checks the dtype."""

    legacy_dtype: dtypes.DType

    def __call__(cls, *args, **kwargs):
        if "dtype" in kwargs:
            raise TypeError(f"{cls.__name__}() got an unexpected keyword argument 'dtype'")
        return Tensor(*args, dtype=cls.legacy_dtype, **kwargs)

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor) and obj.dtype is cls.legacy_dtype

    def __repr__(cls) -> str:
        return f"<class 'lazyt.{cls.__name__}'>"


def _make_type(dtype_name: str, class_name: str) -> LegacyTensorType:
    namespace = {"legacy_dtype": getattr(dtypes, "bool_" if dtype_name == "bool" else dtype_name),
                 "__module__": "lazyt",
                 "__doc__": f"lt.{class_name}: the legacy name of {dtype_name} tensors."}
    return LegacyTensorType(class_name, (Tensor,), namespace)


TYPES = {class_name: _make_type(dtype_name, class_name)
         for dtype_name, class_name in _LEGACY_NAMES.items()}


def dtype_of_type_name(value) -> dtypes.DType | None:
    """The dtype a t.type(...) argument names: a legacy class or 'torch.FloatTensor'."""
    if isinstance(value, LegacyTensorType):
        return value.legacy_dtype
    if isinstance(value, str):
        cls = TYPES.get(value.rsplit(".", 1)[-1])
        return None if cls is None else cls.legacy_dtype
    return None
