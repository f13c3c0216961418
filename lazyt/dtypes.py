"""Element types: the DType objects users see (lt.float32 ...), PyTorch's type
promotion, and how each dtype is stored (numpy). How a backend spells a dtype
(LLVM types: lazyt/codegen/llvm_types.py) belongs to that backend.

Sits at the bottom of the pipeline: every layer (tensor API, IR, codegen,
runtime) imports it, and it imports nothing from lazyt.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True, eq=False)
class DType:
    """One element type. Identity is equality: there is one object per dtype."""

    name: str  # "float32"
    itemsize: int  # bytes in storage
    kind: str  # "f" float, "i" signed int, "u" unsigned int, "b" bool
    numpy_storage: np.dtype  # dtype of the numpy array that holds the storage

    @property
    def is_floating_point(self) -> bool:
        return self.kind == "f"

    @property
    def is_signed(self) -> bool:
        return self.kind in ("f", "i")

    @property
    def is_complex(self) -> bool:
        return False

    @property
    def bits(self) -> int:
        return 1 if self.kind == "b" else self.itemsize * 8

    def to_real(self) -> DType:
        return self

    def __repr__(self) -> str:
        return f"lazyt.{self.name}"

    def __reduce__(self):
        # Pickle by name so that loaded objects are the one true dtype object.
        return (dtype_from_name, (self.name,))


float32 = DType("float32", 4, "f", np.dtype(np.float32))
float64 = DType("float64", 8, "f", np.dtype(np.float64))
float16 = DType("float16", 2, "f", np.dtype(np.float16))
bfloat16 = DType("bfloat16", 2, "f", np.dtype(np.uint16))
int8 = DType("int8", 1, "i", np.dtype(np.int8))
uint8 = DType("uint8", 1, "u", np.dtype(np.uint8))
int16 = DType("int16", 2, "i", np.dtype(np.int16))
int32 = DType("int32", 4, "i", np.dtype(np.int32))
int64 = DType("int64", 8, "i", np.dtype(np.int64))
bool_ = DType("bool", 1, "b", np.dtype(np.bool_))

ALL_DTYPES = (float32, float64, float16, bfloat16, int8, uint8, int16, int32, int64, bool_)
_BY_NAME = {d.name: d for d in ALL_DTYPES}
_BY_NAME.update(
    float=float32, double=float64, half=float16, short=int16, int=int32, long=int64
)
FLOAT_DTYPES = (float16, bfloat16, float32, float64)

_default_float = float32


def dtype_from_name(name: str) -> DType:
    return _BY_NAME[name]


def get_default_dtype() -> DType:
    return _default_float


def set_default_dtype(d: DType) -> None:
    """Set the dtype that float literals and float creation functions produce."""
    global _default_float
    if not isinstance(d, DType) or d not in (float32, float64, float16, bfloat16):
        raise TypeError(
            f"only floating-point types are supported as the default type, got {d}"
        )
    _default_float = d


def from_numpy_dtype(npd: np.dtype) -> DType:
    npd = np.dtype(npd)
    for d in ALL_DTYPES:
        if d is not bfloat16 and d.numpy_storage == npd:
            return d
    raise TypeError(
        f"can't convert np.ndarray of type numpy.{npd}. The only supported types are: "
        "float64, float32, float16, int64, int32, int16, int8, uint8, and bool."
    )


def to_dtype(obj) -> DType:
    """Accept a DType, a Python type (float/int/bool) or a numpy dtype, as torch does."""
    if isinstance(obj, DType):
        return obj
    if obj is float:
        return float64
    if obj is int:
        return int64
    if obj is bool:
        return bool_
    if isinstance(obj, str) and obj in _BY_NAME:
        return _BY_NAME[obj]
    try:
        return from_numpy_dtype(np.dtype(obj))
    except TypeError:
        pass
    raise TypeError(f"expected a dtype (e.g. lazyt.float32), got {obj!r}")


def dtype_argument(obj, function: str) -> DType:
    """A user's dtype= argument as PyTorch's creation functions take it: a
    dtype, or Python's float/int/bool; anything else (a string, a numpy
    dtype) is PyTorch's TypeError."""
    if isinstance(obj, DType):
        return obj
    if obj in (float, int, bool):
        return to_dtype(obj)
    raise TypeError(f"{function}(): argument 'dtype' must be torch.dtype, not "
                    f"{type(obj).__name__}")


# How PyTorch's fill/full overflow messages spell each dtype (C++ types).
_C_TYPE_NAMES = {"int8": "int8_t", "uint8": "uint8_t", "int16": "int16_t", "int32": "int",
                 "int64": "int64_t", "float32": "float", "float16": "c10::Half",
                 "bfloat16": "c10::BFloat16"}
# The largest finite value of each float dtype narrower than float64.
_FLOAT_MAX = {"float32": float(np.finfo(np.float32).max), "float16": 65504.0,
              "bfloat16": 3.3895313892515355e38}


def scalar_overflows(value, dtype: DType) -> bool:
    """PyTorch's check when a Python number is converted to a dtype: integers
    must fit (unsigned ones also take -max..-1, which wrap), NaN and inf
    never fit an integer, and a finite number must fit a float dtype's range
    (float64's always does)."""
    if dtype.kind == "b" or isinstance(value, (bool, np.bool_)):
        return False
    if dtype.kind in "iu":
        if isinstance(value, (float, np.floating)) and not np.isfinite(value):
            return True
        low, high = integer_range(dtype)
        return not low <= value <= high
    limit = _FLOAT_MAX.get(dtype.name)
    if limit is not None and isinstance(value, (int, float, np.integer, np.floating)):
        try:
            magnitude = abs(float(value))
        except OverflowError:  # (an int beyond float64's range)
            return True
        return np.isfinite(magnitude) and magnitude > limit
    return False


def integer_range(dtype: DType) -> tuple[int, int]:
    """The Python integers PyTorch converts to an integer dtype without an
    overflow error (unsigned: -max..max, the negatives wrapping)."""
    info = np.iinfo(dtype.numpy_storage)
    return (-int(info.max) if dtype.kind == "u" else int(info.min)), int(info.max)


def check_scalar_fits(value, dtype: DType) -> None:
    """full()/fill_(): PyTorch's RuntimeError for a value the dtype cannot hold."""
    if scalar_overflows(value, dtype):
        raise RuntimeError(f"value cannot be converted to type "
                           f"{_C_TYPE_NAMES.get(dtype.name, dtype.name)} without overflow")


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


def promote_types(a: DType, b: DType) -> DType:
    """PyTorch's promote_types for two tensor dtypes of equal standing."""
    if a is b:
        return a
    ca, cb = _CATEGORY[a.kind], _CATEGORY[b.kind]
    if ca != cb:
        return a if ca > cb else b
    if a.kind == "f":
        if {a, b} == {float16, bfloat16}:
            return float32
        return a if a.itemsize > b.itemsize else b
    # Both integers (bool was handled by the category): numpy's table matches torch's.
    return from_numpy_dtype(np.promote_types(a.numpy_storage, b.numpy_storage))


def scalar_dtype(value) -> DType:
    """The dtype torch gives a Python scalar on its own (bool/int64/default float)."""
    if isinstance(value, (bool, np.bool_)):
        return bool_
    if isinstance(value, (int, np.integer)):
        return int64
    if isinstance(value, (float, np.floating)):
        return get_default_dtype()
    raise TypeError(f"unsupported scalar type {type(value).__name__}")


def _combine_categories(higher: DType | None, lower: DType | None) -> DType | None:
    """torch's combine_categories: a lower-priority group only lifts the category."""
    if higher is None:
        return lower
    if lower is None or higher.kind == "f":
        return higher
    if higher is bool_ or lower.kind == "f":
        return promote_types(higher, lower)
    return higher


def result_type(*operands) -> DType:
    """torch.result_type over tensors and Python scalars.

    Priority: dimensioned tensors > zero-dim tensors > Python scalars; a lower
    group only matters when it is of a higher category (bool < int < float),
    and a Python float scalar counts as the default float dtype.
    Operands are either objects with `.dtype` and `.ndim`, or Python scalars.
    """
    groups: list[DType | None] = [None, None, None]  # dimensioned, zero-dim, scalar
    for op in operands:
        if isinstance(op, np.generic):
            # A numpy scalar counts as a Python scalar of its kind, np.bool_ as
            # a float (PyTorch reads it through __float__: t_bool + np.True_ is float).
            slot = 2
            d = get_default_dtype() if isinstance(op, np.bool_) else scalar_dtype(op)
        elif hasattr(op, "dtype") and hasattr(op, "ndim"):
            slot = 0 if op.ndim > 0 else 1
            d = op.dtype
        else:
            slot = 2
            d = scalar_dtype(op)
        groups[slot] = d if groups[slot] is None else promote_types(groups[slot], d)
    result = _combine_categories(groups[0], _combine_categories(groups[1], groups[2]))
    return result if result is not None else get_default_dtype()


class finfo:  # noqa: N801 - PyTorch's name
    """Machine limits of a floating dtype (torch.finfo)."""

    _BF16 = dict(bits=16, eps=0.0078125, max=3.3895313892515355e38, min=-3.3895313892515355e38,
                 tiny=1.1754943508222875e-38, smallest_normal=1.1754943508222875e-38,
                 resolution=0.01)

    def __init__(self, dtype: DType | None = None):
        dtype = get_default_dtype() if dtype is None else dtype
        if dtype.kind != "f":
            raise TypeError(f"torch.finfo() requires a floating point input type. Use "
                            f"torch.iinfo to handle '{dtype.name}'")
        self.dtype = dtype.name
        if dtype is bfloat16:
            self.__dict__.update(self._BF16)
            return
        info = np.finfo(dtype.numpy_storage)
        self.bits = info.bits
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = self.smallest_normal = float(info.tiny)
        self.resolution = float(info.resolution)

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution}, min={self.min}, max={self.max}, "
                f"eps={self.eps}, smallest_normal={self.smallest_normal}, tiny={self.tiny}, "
                f"dtype={self.dtype})")


class iinfo:  # noqa: N801 - PyTorch's name
    """Limits of an integer dtype (torch.iinfo)."""

    def __init__(self, dtype: DType):
        if dtype.kind not in "iub":
            raise TypeError(f"torch.iinfo() requires an integer input type. Use torch.finfo to "
                            f"handle '{dtype.name}'")
        info = np.iinfo(np.uint8 if dtype is bool_ else dtype.numpy_storage)
        self.bits, self.min, self.max, self.dtype = info.bits, int(info.min), int(info.max), \
            dtype.name

    def __repr__(self) -> str:
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"
