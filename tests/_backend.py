"""The library under test, the oracles, and the comparison helpers the tensor tests share.

`lt` is `lazyt`, or `torch` when LAZYT_TEST_BACKEND=torch: that is how the tests
themselves are validated against the oracle. `TORCH` is the torch module when it
is installed (None otherwise); tests compare lazyt with it on identical inputs.
numpy is always a second, independent reference. Nothing here hides a missing
lazyt feature: every helper calls the API directly and lets AttributeError fail.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

BACKEND = os.environ.get("LAZYT_TEST_BACKEND", "lazyt")
if BACKEND == "torch":
    import torch as lt
elif BACKEND == "lazyt":
    import lazyt as lt
else:
    raise RuntimeError(f"LAZYT_TEST_BACKEND must be 'lazyt' or 'torch', got {BACKEND!r}")

try:
    import torch as _torch
except ImportError:  # the oracle is optional; numpy references always run
    _torch = None
TORCH = _torch

# ---------------------------------------------------------------- dtypes

FLOAT_DTYPES = ("float16", "bfloat16", "float32", "float64")
INT_DTYPES = ("uint8", "int8", "int16", "int32", "int64")
ALL_DTYPES = ("bool", *INT_DTYPES, *FLOAT_DTYPES)
NON_BOOL_DTYPES = (*INT_DTYPES, *FLOAT_DTYPES)

# numpy has no bfloat16: its values are kept as float32 already rounded to bfloat16.
NUMPY_DTYPE = {
    "bool": np.bool_,
    "uint8": np.uint8,
    "int8": np.int8,
    "int16": np.int16,
    "int32": np.int32,
    "int64": np.int64,
    "float16": np.float16,
    "bfloat16": np.float32,
    "float32": np.float32,
    "float64": np.float64,
}
ITEMSIZE = {
    "bool": 1, "uint8": 1, "int8": 1, "int16": 2, "int32": 4, "int64": 8,
    "float16": 2, "bfloat16": 2, "float32": 4, "float64": 8,
}
EPS = {"float16": 2.0**-10, "bfloat16": 2.0**-7, "float32": 2.0**-23, "float64": 2.0**-52}


def is_float(name: str) -> bool:
    return name in FLOAT_DTYPES


def is_int(name: str) -> bool:
    return name in INT_DTYPES


def dtype_name(dtype) -> str:
    """The canonical name ("float32", ...) of an lt or torch dtype."""
    for name in ALL_DTYPES:
        if dtype == getattr(lt, name):
            return name
        if TORCH is not None and dtype == getattr(TORCH, name):
            return name
    raise AssertionError(f"unknown dtype {dtype!r}")


def default_float() -> str:
    return dtype_name(lt.get_default_dtype())


def promote_types(a: str, b: str) -> str:
    """torch.promote_types for the ten dtypes lazyt supports."""
    if a == b:
        return a
    if a == "bool":
        return b
    if b == "bool":
        return a
    if is_float(a) != is_float(b):
        return a if is_float(a) else b
    if is_float(a):
        if {a, b} == {"float16", "bfloat16"}:
            return "float32"
        return max(a, b, key=FLOAT_DTYPES.index)
    if "uint8" in (a, b):
        other = b if a == "uint8" else a
        return "int16" if other == "int8" else other
    return max(a, b, key=INT_DTYPES.index)


def _combine_categories(higher: str | None, lower: str | None) -> str | None:
    if higher is None:
        return lower
    if lower is None or is_float(higher):
        return higher
    if higher == "bool" or is_float(lower):
        return promote_types(higher, lower)
    return higher


def result_type(*operands) -> str:
    """torch.result_type: operands are Python scalars or (dtype_name, ndim) pairs.

    Tensors with dims outrank 0-d tensors, which outrank Python scalars; a lower
    rank only matters when it is of a higher category (bool < int < float).
    """
    dim_result = zero_dim_result = scalar_result = None
    for operand in operands:
        if isinstance(operand, bool):
            scalar_result = _promote_optional(scalar_result, "bool")
        elif isinstance(operand, int):
            scalar_result = _promote_optional(scalar_result, "int64")
        elif isinstance(operand, float):
            scalar_result = _promote_optional(scalar_result, default_float())
        else:
            name, ndim = operand
            if ndim > 0:
                dim_result = _promote_optional(dim_result, name)
            else:
                zero_dim_result = _promote_optional(zero_dim_result, name)
    return _combine_categories(dim_result, _combine_categories(zero_dim_result, scalar_result))


def _promote_optional(current: str | None, new: str) -> str:
    return new if current is None else promote_types(current, new)


def float_result(name: str) -> str:
    """Dtype of a float-valued op (exp, true division) on inputs promoted to `name`."""
    return name if is_float(name) else default_float()


# ---------------------------------------------------------------- numpy values

def round_to_bfloat16(values) -> np.ndarray:
    """Round float32 values to the nearest bfloat16 (ties to even), kept as float32."""
    x = np.array(values, dtype=np.float32)  # a copy, keeping 0-d arrays 0-d
    bits = x.reshape(-1).view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) << 16
    out = rounded.astype(np.uint32).view(np.float32).reshape(x.shape)
    return np.where(np.isnan(x), x, out)


def cast_values(values, name: str) -> np.ndarray:
    """Convert numpy values the way a tensor cast to dtype `name` would (rounding, wrapping)."""
    values = np.asarray(values)
    with np.errstate(all="ignore"):
        if name == "bfloat16":
            return round_to_bfloat16(values.astype(np.float32))
        if is_int(name) and values.dtype.kind == "f":
            return np.trunc(values).astype(np.int64).astype(NUMPY_DTYPE[name])
        return values.astype(NUMPY_DTYPE[name])


def compute_values(values, name: str) -> np.ndarray:
    """Values cast to `name`, then widened for computing a reference (float64 for floats)."""
    cast = cast_values(values, name)
    return cast.astype(np.float64) if is_float(name) else cast


def to_numpy(t) -> np.ndarray:
    """A fresh numpy copy of an lt or torch tensor (bfloat16 comes back as float32)."""
    if getattr(t, "requires_grad", False):
        t = t.detach()
    if dtype_name(t.dtype) == "bfloat16":
        t = t.float()
    return np.array(t.numpy(), copy=True)


def make_tensor(module, values, name: str):
    """A contiguous tensor of `module` (lt or torch) holding numpy `values` as dtype `name`."""
    values = cast_values(values, name)
    return module.tensor(values, dtype=getattr(module, name))


# ---------------------------------------------------------------- comparisons

# (rtol, atol) per dtype for each kind of computation. "exact" ops (indexing,
# max, floor, ...) must match bit for bit after rounding the reference.
TOLERANCES = {
    "float32": {"exact": (0.0, 0.0), "arith": (1e-5, 1e-6), "transcendental": (2e-6, 1e-6)},
    "float64": {"exact": (0.0, 0.0), "arith": (1e-10, 1e-12), "transcendental": (1e-10, 1e-12)},
    "float16": {"exact": (0.0, 0.0), "arith": (5e-3, 5e-3), "transcendental": (5e-3, 5e-3)},
    "bfloat16": {"exact": (0.0, 0.0), "arith": (4e-2, 4e-2), "transcendental": (4e-2, 4e-2)},
}


def _is_torch_tensor(x) -> bool:
    return TORCH is not None and isinstance(x, TORCH.Tensor)


def assert_close(actual, expected, dtype: str | None = None, *, kind: str = "arith",
                 rtol: float | None = None, atol: float | None = None, msg: str = "") -> None:
    """Check an lt tensor against a numpy array / Python scalar / torch tensor.

    Checks the dtype (`dtype` name, or the torch tensor's dtype), the shape, and the
    values: integers and bools exactly, floats after rounding the reference to the
    result dtype (so float64 references overflow to inf where the dtype does) within
    per-dtype tolerances for `kind`. NaNs must match NaNs.
    """
    name = dtype_name(actual.dtype)
    if _is_torch_tensor(expected):
        expected_name = dtype_name(expected.dtype)
        assert name == expected_name, f"{msg} dtype {name} != torch's {expected_name}"
        expected = to_numpy(expected)
    if dtype is not None:
        assert name == dtype, f"{msg} dtype {name} != expected {dtype}"
    expected = np.asarray(expected)
    shape = tuple(actual.shape)
    assert shape == expected.shape, f"{msg} shape {shape} != expected {expected.shape}"
    got = to_numpy(actual)
    if not is_float(name):
        assert expected.dtype.kind in "biu", f"{msg} integer result vs float reference"
        if not np.array_equal(got, expected):
            raise AssertionError(f"{msg} ({name}) values differ:\n got {got!r}\nwant {expected!r}")
        return
    default_rtol, default_atol = TOLERANCES[name][kind]
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    want = cast_values(expected.astype(np.float64), name).astype(np.float64)
    np.testing.assert_allclose(got.astype(np.float64), want, rtol=rtol, atol=atol,
                               equal_nan=True, err_msg=f"{msg} ({name})")


def assert_same_values(actual, expected_numpy) -> None:
    """Exact value/shape check without a dtype expectation (for views and copies)."""
    got = to_numpy(actual)
    expected_numpy = np.asarray(expected_numpy)
    assert got.shape == expected_numpy.shape, f"shape {got.shape} != {expected_numpy.shape}"
    assert np.array_equal(got, expected_numpy, equal_nan=got.dtype.kind == "f"), (
        f"values differ:\n got {got!r}\nwant {expected_numpy!r}")


def reduction_atol(values: np.ndarray, name: str, factor: float = 4.0) -> float:
    """Absolute tolerance for sums over `values`: accumulation error grows with sum(|x|)."""
    if not is_float(name) or values.size == 0:
        return 0.0
    magnitude = float(np.sum(np.abs(values.astype(np.float64))))
    return TOLERANCES[name]["arith"][1] + factor * EPS[name] * magnitude


# ---------------------------------------------------------------- inputs with layouts

LAYOUTS = ("contiguous", "transposed", "strided", "expanded")


@dataclass
class Input:
    """A tensor input: its logical numpy values and how to build it (possibly as a view).

    `values` holds the logical values already representable in `dtype` (bfloat16
    values rounded, stored as float32). `layout` picks the memory layout built by
    `make`: contiguous, a permuted copy, every other element of a bigger padded
    tensor (non-zero offset, strides of 2), or an expand() of a smaller tensor.
    """

    values: np.ndarray
    dtype: str
    layout: str = "contiguous"
    source: np.ndarray | None = None  # the un-expanded values for layout "expanded"

    @property
    def ndim(self) -> int:
        return self.values.ndim

    @property
    def operand(self) -> tuple[str, int]:
        return (self.dtype, self.ndim)

    def make(self, module):
        """The tensor in `module` (lt or torch) with these values and this layout."""
        values = self.values
        if self.layout == "transposed" and values.ndim >= 2:
            order = tuple(reversed(range(values.ndim)))
            base = make_tensor(module, np.ascontiguousarray(values.transpose(order)), self.dtype)
            return base.permute(order)
        if self.layout == "strided" and values.ndim >= 1:
            padded_shape = tuple(2 * s + 1 for s in values.shape)
            padded = np.full(padded_shape, 77, dtype=values.dtype)
            inner = tuple(slice(1, None, 2) for _ in values.shape)
            padded[inner] = values
            return make_tensor(module, padded, self.dtype)[inner]
        if self.layout == "expanded" and self.source is not None:
            return make_tensor(module, self.source, self.dtype).expand(*values.shape)
        return make_tensor(module, values, self.dtype)


def erf(values: np.ndarray) -> np.ndarray:
    return np.vectorize(math.erf, otypes=[np.float64])(values)


# ---------------------------------------------------------------- hypothesis strategies
# Kept next to the helpers so every test file draws shapes, dtypes and layouts alike:
# rank <= 4, sides <= 6, 0-d and 0-sized shapes included unless a test asks otherwise.

MAX_RANK = 4
MAX_SIDE = 6


def shapes(min_dims: int = 0, max_dims: int = MAX_RANK, min_side: int = 0,
           max_side: int = MAX_SIDE) -> st.SearchStrategy[tuple[int, ...]]:
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def integer_bounds(name: str, low: int = -100, high: int = 100) -> tuple[int, int]:
    info = np.iinfo(NUMPY_DTYPE[name])
    return max(int(info.min), low), min(int(info.max), high)


def value_arrays(name: str, shape, float_range=(-10.0, 10.0), int_range=(-100, 100)):
    """numpy arrays of `shape` holding values exactly representable in dtype `name`."""
    if name == "bool":
        return hnp.arrays(np.bool_, shape, elements=st.booleans())
    if is_int(name):
        low, high = integer_bounds(name, *int_range)
        return hnp.arrays(np.int64, shape, elements=st.integers(low, high)).map(
            lambda a: a.astype(NUMPY_DTYPE[name]))
    low, high = float_range
    elements = st.floats(low, high, width=32, allow_subnormal=False)
    return hnp.arrays(np.float32, shape, elements=elements).map(
        lambda a: _flush_subnormals(cast_values(a, name), name))


def _flush_subnormals(values: np.ndarray, name: str) -> np.ndarray:
    """No subnormal inputs: whether they survive (or a 1/x of one overflows, as PyTorch's
    `2 / t` does for float16) is a CPU-flag question, not an API one."""
    tiny = float(np.finfo(np.float16).tiny) if name == "float16" else float(np.finfo(np.float32).tiny)
    return np.where(np.abs(values) < tiny, np.zeros_like(values), values)


@st.composite
def inputs(draw, shape=None, dtypes=ALL_DTYPES, layouts=LAYOUTS, float_range=(-10.0, 10.0),
           int_range=(-100, 100), **shape_kwargs) -> Input:
    """An Input of a drawn dtype, shape (a tuple, a strategy, or drawn with shape_kwargs) and layout."""
    name = draw(st.sampled_from(dtypes)) if isinstance(dtypes, (tuple, list)) else dtypes
    if shape is None:
        shape = draw(shapes(**shape_kwargs))
    elif isinstance(shape, st.SearchStrategy):
        shape = draw(shape)
    shape = tuple(shape)
    layout = draw(st.sampled_from(layouts))
    if layout == "expanded" and len(shape) > 0:
        broadcast_dims = draw(st.lists(st.booleans(), min_size=len(shape), max_size=len(shape)))
        source_shape = tuple(1 if b else s for b, s in zip(broadcast_dims, shape))
        leading_ones = next((i for i, s in enumerate(source_shape) if s != 1), len(source_shape))
        source_shape = source_shape[draw(st.integers(0, leading_ones)):]
        source = draw(value_arrays(name, source_shape, float_range, int_range))
        values = np.ascontiguousarray(np.broadcast_to(source, shape))
        return Input(values, name, layout, source)
    values = draw(value_arrays(name, shape, float_range, int_range))
    return Input(values, name, layout)


def python_scalars(kinds=("int", "float")) -> st.SearchStrategy:
    options = []
    if "bool" in kinds:
        options.append(st.booleans())
    if "int" in kinds:
        options.append(st.integers(-5, 5))
    if "float" in kinds:
        options.append(st.floats(-10.0, 10.0, width=32, allow_subnormal=False))
    return st.one_of(*options)


def dims(ndim: int, allow_none: bool = True, allow_tuple: bool = True) -> st.SearchStrategy:
    """A `dim=` argument valid for a tensor of rank `ndim`: None, an int (maybe negative) or a tuple."""
    options = [st.none()] if allow_none else []
    span = max(ndim, 1)
    options.append(st.integers(-span, span - 1))
    if allow_tuple and ndim >= 1:
        options.append(
            st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).flatmap(
                lambda ds: st.tuples(*[st.sampled_from((d, d - ndim)) for d in ds])))
    return st.one_of(*options)


def numpy_axis(dim, ndim: int):
    """The numpy `axis=` equivalent to a torch `dim=` (0-d tensors reduce over nothing)."""
    if dim is None or ndim == 0:
        return None
    if isinstance(dim, int):
        return dim % ndim
    return tuple(d % ndim for d in dim)


@st.composite
def basic_indices(draw, shape):
    """A tuple of ints / slices (positive steps) / None / at most one Ellipsis valid for shape."""
    ndim = len(shape)
    consumed = draw(st.integers(0, ndim))
    items = []
    for d in range(consumed):
        size = shape[d]
        if size > 0 and draw(st.booleans()):
            items.append(draw(st.integers(-size, size - 1)))
        else:
            bound = size + 2
            start = draw(st.none() | st.integers(-bound, bound))
            stop = draw(st.none() | st.integers(-bound, bound))
            step = draw(st.none() | st.integers(1, 3))
            items.append(slice(start, stop, step))
    for _ in range(draw(st.integers(0, 2))):
        items.insert(draw(st.integers(0, len(items))), None)
    if draw(st.booleans()):
        position = draw(st.integers(0, len(items)))
        # an Ellipsis stands for the dims the items do not consume; shift the rest past them
        items = _place_ellipsis(items, position, shape, draw)
    return tuple(items)


def _place_ellipsis(items, position, shape, draw):
    """Insert an Ellipsis; items after it index the trailing dims, so redraw their bounds."""
    before, after = items[:position], items[position:]
    consumed_after = [i for i in after if i is not None]
    first_after = len(shape) - len(consumed_after)
    fixed, d = [], first_after
    for item in after:
        if item is None:
            fixed.append(None)
            continue
        size = shape[d]
        if isinstance(item, int):
            fixed.append(draw(st.integers(-size, size - 1)) if size > 0 else slice(None))
        else:
            fixed.append(item)
        d += 1
    return [*before, Ellipsis, *fixed]


# ---------------------------------------------------------------- running an op on both libraries


def build(module, args):
    return [a.make(module) if isinstance(a, Input) else a for a in args]


def check_op(fn, args, expected, dtype: str | None, *, kind: str = "arith",
             rtol: float | None = None, atol: float | None = None, msg: str = "") -> None:
    """Run fn(module, *tensors) on lt and compare with numpy `expected` and, if installed, torch.

    `args` are Inputs (built as tensors of each library with the same values and
    layout) or plain Python values passed through unchanged.
    """
    result = fn(lt, *build(lt, args))
    assert_close(result, expected, dtype, kind=kind, rtol=rtol, atol=atol, msg=msg)
    if TORCH is not None:
        oracle = fn(TORCH, *build(TORCH, args))
        assert_close(result, oracle, kind=kind, rtol=rtol, atol=atol, msg=f"{msg} vs torch:")
