"""Tensor math against numpy (always) and PyTorch (when installed), over drawn inputs.

Every op in API.md "Tensors" is run on hypothesis-drawn shapes (0-d and 0-sized
included), dtypes and memory layouts (contiguous, permuted, strided with an
offset, expanded). Results must have PyTorch's dtype (type promotion included),
shape, and values within per-dtype tolerances.
"""

import contextlib
import itertools
import math
import operator
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tests._backend import (
    ALL_DTYPES,
    EPS,
    FLOAT_DTYPES,
    INT_DTYPES,
    NON_BOOL_DTYPES,
    TOLERANCES,
    TORCH,
    Input,
    assert_close,
    cast_values,
    check_op,
    compute_values,
    dims,
    dtype_name,
    erf,
    float_result,
    inputs,
    is_float,
    is_int,
    lt,
    make_tensor,
    numpy_axis,
    python_scalars,
    reduction_atol,
    result_type,
    shapes,
    to_numpy,
)


@contextlib.contextmanager
def _quiet_numpy():
    """numpy warns about nan/inf/empty reductions that are the expected results here."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


# ---------------------------------------------------------------- unary math


def _keep_ints(float_fn):
    """Rounding ops are the identity on integer tensors (and keep their dtype)."""
    return lambda x: x if x.dtype.kind in "iu" else float_fn(x)


@dataclass(frozen=True)
class Unary:
    name: str
    reference: Callable
    dtypes: tuple
    float_valued: bool  # integer and bool inputs give a default-float result
    kind: str
    relative_only: bool = False  # no absolute slack: accuracy near zero is the point


UNARY_OPS = [
    Unary("neg", np.negative, NON_BOOL_DTYPES, False, "exact"),
    Unary("abs", np.abs, NON_BOOL_DTYPES, False, "exact"),
    Unary("exp", np.exp, ALL_DTYPES, True, "transcendental"),
    Unary("log", np.log, ALL_DTYPES, True, "transcendental"),
    Unary("log1p", np.log1p, ALL_DTYPES, True, "transcendental", relative_only=True),
    Unary("expm1", np.expm1, ALL_DTYPES, True, "transcendental", relative_only=True),
    Unary("sqrt", np.sqrt, ALL_DTYPES, True, "transcendental"),
    Unary("rsqrt", lambda x: 1.0 / np.sqrt(x), ALL_DTYPES, True, "transcendental"),
    Unary("sin", np.sin, ALL_DTYPES, True, "transcendental"),
    Unary("cos", np.cos, ALL_DTYPES, True, "transcendental"),
    Unary("tanh", np.tanh, ALL_DTYPES, True, "transcendental"),
    Unary("sigmoid", lambda x: 1.0 / (1.0 + np.exp(-x)), ALL_DTYPES, True, "transcendental"),
    Unary("erf", erf, ALL_DTYPES, True, "transcendental"),
    Unary("relu", lambda x: np.maximum(x, 0), NON_BOOL_DTYPES, False, "exact"),
    Unary("sign", np.sign, NON_BOOL_DTYPES, False, "exact"),
    Unary("floor", _keep_ints(np.floor), NON_BOOL_DTYPES, False, "exact"),
    Unary("ceil", _keep_ints(np.ceil), NON_BOOL_DTYPES, False, "exact"),
    Unary("round", _keep_ints(np.round), NON_BOOL_DTYPES, False, "exact"),
    Unary("trunc", _keep_ints(np.trunc), NON_BOOL_DTYPES, False, "exact"),
]


def _unary_atol(op: Unary, dtype: str):
    return 0.0 if op.relative_only and dtype in ("float32", "float64") else None


@pytest.mark.parametrize("op", UNARY_OPS, ids=lambda op: op.name)
@given(data=st.data())
def test_unary_op_matches_numpy_and_torch(op, data):
    x = data.draw(inputs(dtypes=op.dtypes))
    dtype = float_result(x.dtype) if op.float_valued else x.dtype
    with np.errstate(all="ignore"):
        expected = op.reference(compute_values(x.values, dtype))
    atol = _unary_atol(op, dtype)
    check_op(lambda m, t: getattr(m, op.name)(t), [x], expected, dtype, kind=op.kind, atol=atol,
             msg=f"lt.{op.name}")
    check_op(lambda m, t: getattr(t, op.name)(), [x], expected, dtype, kind=op.kind, atol=atol,
             msg=f"Tensor.{op.name}")


@given(x=inputs(dtypes=NON_BOOL_DTYPES))
def test_neg_and_abs_operators_match_numpy(x):
    values = compute_values(x.values, x.dtype)
    check_op(lambda m, t: -t, [x], np.negative(values), x.dtype, kind="exact")
    check_op(lambda m, t: abs(t), [x], np.abs(values), x.dtype, kind="exact")


@pytest.mark.parametrize("name", ["expm1", "log1p"])
def test_expm1_and_log1p_are_accurate_near_zero(name):
    values = np.array([1e-7, -3e-6, 2.5e-5, 1e-4, -1e-3], dtype=np.float32)
    reference = {"expm1": np.expm1, "log1p": np.log1p}[name]
    result = getattr(lt, name)(lt.tensor(values))
    expected = reference(values.astype(np.float64))
    # exp(x) - 1 or log(1 + x) in float32 would be off by ~1e-1 relative at 1e-7.
    assert_close(result, expected, "float32", kind="transcendental", atol=0.0)


def test_round_is_half_to_even_like_torch():
    values = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 0.49999997]
    assert lt.round(lt.tensor(values)).tolist() == [-2.0, -2.0, -0.0, 0.0, 2.0, 2.0, 4.0, 0.0]


def test_float_ops_on_special_values_follow_ieee():
    x = lt.tensor([0.0, -1.0, float("inf"), float("-inf"), float("nan")])
    assert_close(lt.log(x), np.array([-np.inf, np.nan, np.inf, np.nan, np.nan]), "float32")
    assert_close(lt.sqrt(x), np.array([0.0, np.nan, np.inf, np.nan, np.nan]), "float32")
    assert_close(lt.exp(x), np.array([1.0, math.exp(-1.0), np.inf, 0.0, np.nan]), "float32",
                 kind="transcendental")
    assert_close(lt.sigmoid(x), np.array([0.5, 1 / (1 + math.e), 1.0, 0.0, np.nan]), "float32",
                 kind="transcendental")
    assert_close(lt.tanh(x), np.array([0.0, math.tanh(-1.0), 1.0, -1.0, np.nan]), "float32",
                 kind="transcendental")
    assert_close(lt.relu(x), np.array([0.0, 0.0, np.inf, 0.0, np.nan]), "float32")


# ---------------------------------------------------------------- binary operators

ARITHMETIC = {
    "add": (operator.add, np.add),
    "sub": (operator.sub, np.subtract),
    "mul": (operator.mul, np.multiply),
    "truediv": (operator.truediv, np.true_divide),
    "floordiv": (operator.floordiv, np.floor_divide),
    "mod": (operator.mod, np.remainder),
    "pow": (operator.pow, np.power),
}
COMPARISONS = {
    "lt": (operator.lt, np.less),
    "le": (operator.le, np.less_equal),
    "gt": (operator.gt, np.greater),
    "ge": (operator.ge, np.greater_equal),
    "eq": (operator.eq, np.equal),
    "ne": (operator.ne, np.not_equal),
}
BITWISE = {
    "and": (operator.and_, np.bitwise_and),
    "or": (operator.or_, np.bitwise_or),
    "xor": (operator.xor, np.bitwise_xor),
}
INTEGRAL_DTYPES = ("bool", *INT_DTYPES)


def _operand(x):
    return x.operand if isinstance(x, Input) else x


def _with_values(x, transform):
    """The same operand with `transform` applied to its values (Inputs keep their layout)."""
    if not isinstance(x, Input):
        return type(x)(transform(np.asarray(x)).item())
    source = None if x.source is None else cast_values(transform(x.source), x.dtype)
    return Input(cast_values(transform(x.values), x.dtype), x.dtype, x.layout, source)


def _reference_operand(x, dtype):
    values = x.values if isinstance(x, Input) else np.asarray(x)
    return compute_values(values, dtype)


def _representable_operands(operands, dtype):
    """Make scalars and 0-d tensors exactly representable in a float16/bfloat16 result.

    PyTorch computes such ops in float32 and keeps a Python scalar or a 0-d tensor
    of another dtype at its own precision in some ops (t // 4.19, t / 0-d bfloat16)
    but rounds it to the result dtype in others (4.19 // t, comparisons). With
    operands that the result dtype holds exactly (tiny ones flushed to 0), both
    readings agree and the tests do not pin that quirk.
    """
    if dtype not in ("float16", "bfloat16"):
        return operands
    tiny = float(np.finfo(np.float16).tiny)

    def representable(values):
        values = np.asarray(values)
        rounded = cast_values(values.astype(np.float64), dtype).astype(values.dtype)
        return np.where(np.abs(rounded) < tiny, np.zeros_like(rounded), rounded)

    result = []
    for x in operands:
        if isinstance(x, float) or isinstance(x, Input) and x.ndim == 0 and is_float(x.dtype):
            x = _with_values(x, representable)
        result.append(x)
    return result


@st.composite
def binary_operands(draw, tensor_dtypes, scalar_kinds):
    """Two operands, at least one a tensor, with mutually broadcastable shapes."""
    shape_pair = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=6))
    kinds = draw(st.sampled_from([("tensor", "tensor"), ("tensor", "scalar"), ("scalar", "tensor")]))
    operands = []
    for kind, shape in zip(kinds, shape_pair.input_shapes):
        if kind == "tensor":
            operands.append(draw(inputs(shape=shape, dtypes=tensor_dtypes)))
        else:
            operands.append(draw(python_scalars(scalar_kinds)))
    return operands


def _no_tiny_divisors(values):
    """Zero out divisors below 1e-3: a % 1e-38 overflows a / b, and PyTorch's vectorized
    remainder then gives nan where its scalar loop and numpy give 0."""
    return np.where(np.abs(values) < 1e-3, np.zeros_like(values), values)


def _sanitize_operands(name, lhs, rhs, compute_dtype):
    """Keep ops where PyTorch is defined and consistent.

    No zero (or tiny) divisors, no negative integer powers, no negative scalars for uint8.
    """
    if is_float(compute_dtype) and name in ("floordiv", "mod"):
        rhs = _with_values(rhs, _no_tiny_divisors)
    if is_int(compute_dtype) or compute_dtype == "bool":
        if compute_dtype == "uint8":
            lhs, rhs = (_with_values(v, np.abs) if not isinstance(v, Input) else v for v in (lhs, rhs))
        if name in ("floordiv", "mod"):
            rhs = _with_values(rhs, lambda v: np.where(v == 0, np.ones_like(v), v))
        if name == "pow":
            rhs = _with_values(rhs, lambda v: np.abs(v) % 4)
    return lhs, rhs


@pytest.mark.parametrize("name", list(ARITHMETIC))
@given(data=st.data())
def test_arithmetic_operator_matches_numpy_and_torch(name, data):
    lhs, rhs = data.draw(binary_operands(ALL_DTYPES, ("int", "float")))
    promoted = result_type(_operand(lhs), _operand(rhs))
    operand_dtypes = {_operand(x)[0] for x in (lhs, rhs) if isinstance(x, Input)}
    # PyTorch rejects these: bool - anything, and //, %, ** computed in bool.
    assume(not (name == "sub" and "bool" in operand_dtypes))
    assume(not (name in ("floordiv", "mod", "pow") and promoted == "bool"))
    dtype = float_result(promoted) if name == "truediv" else promoted
    lhs, rhs = _sanitize_operands(name, lhs, rhs, dtype)
    lhs, rhs = _representable_operands([lhs, rhs], promoted)
    python_op, numpy_op = ARITHMETIC[name]
    with np.errstate(all="ignore"):
        expected = numpy_op(_reference_operand(lhs, dtype), _reference_operand(rhs, dtype))
    check_op(lambda m, a, b: python_op(a, b), [lhs, rhs], expected, dtype,
             msg=f"{_operand(lhs)} {name} {_operand(rhs)}")


@pytest.mark.parametrize("name", list(COMPARISONS))
@given(data=st.data())
def test_comparison_operator_gives_bool_like_numpy(name, data):
    lhs, rhs = data.draw(binary_operands(ALL_DTYPES, ("int", "float")))
    promoted = result_type(_operand(lhs), _operand(rhs))
    lhs, rhs = _representable_operands([lhs, rhs], promoted)
    python_op, numpy_op = COMPARISONS[name]
    expected = numpy_op(_reference_operand(lhs, promoted), _reference_operand(rhs, promoted))
    check_op(lambda m, a, b: python_op(a, b), [lhs, rhs], expected, "bool", kind="exact")


@pytest.mark.parametrize("name", list(BITWISE))
@given(data=st.data())
def test_bitwise_operator_on_ints_and_bools_matches_numpy(name, data):
    lhs, rhs = data.draw(binary_operands(INTEGRAL_DTYPES, ("int", "bool")))
    dtype = result_type(_operand(lhs), _operand(rhs))
    lhs, rhs = _sanitize_operands(name, lhs, rhs, dtype)
    python_op, numpy_op = BITWISE[name]
    expected = numpy_op(_reference_operand(lhs, dtype), _reference_operand(rhs, dtype))
    check_op(lambda m, a, b: python_op(a, b), [lhs, rhs], expected, dtype, kind="exact")


@given(x=inputs(dtypes=INTEGRAL_DTYPES))
def test_invert_is_bitwise_not_for_ints_and_logical_not_for_bools(x):
    expected = np.invert(compute_values(x.values, x.dtype))
    check_op(lambda m, t: ~t, [x], expected, x.dtype, kind="exact")


@pytest.mark.parametrize("name", ["maximum", "minimum"])
@given(data=st.data())
def test_maximum_minimum_promote_and_broadcast(name, data):
    shape_pair = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=6))
    a, b = (data.draw(inputs(shape=s)) for s in shape_pair.input_shapes)
    dtype = result_type(a.operand, b.operand)
    expected = getattr(np, name)(compute_values(a.values, dtype), compute_values(b.values, dtype))
    check_op(lambda m, x, y: getattr(m, name)(x, y), [a, b], expected, dtype, kind="exact")
    check_op(lambda m, x, y: getattr(x, name)(y), [a, b], expected, dtype, kind="exact")


NAMED_BINARY = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide,
    "pow": np.power, "remainder": np.remainder, "floor_divide": np.floor_divide,
    "eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal,
    "gt": np.greater, "ge": np.greater_equal,
}


@pytest.mark.parametrize("name", list(NAMED_BINARY))
@given(data=st.data())
def test_named_binary_function_and_method_match_numpy(name, data):
    shape_pair = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=5))
    a, b = (data.draw(inputs(shape=s, dtypes=("float32", "float64"))) for s in shape_pair.input_shapes)
    if name in ("remainder", "floor_divide"):
        b = _with_values(b, _no_tiny_divisors)
    dtype = result_type(a.operand, b.operand)
    with np.errstate(all="ignore"):
        expected = NAMED_BINARY[name](compute_values(a.values, dtype), compute_values(b.values, dtype))
    result_dtype = "bool" if expected.dtype == np.bool_ else dtype
    check_op(lambda m, x, y: getattr(m, name)(x, y), [a, b], expected, result_dtype)
    check_op(lambda m, x, y: getattr(x, name)(y), [a, b], expected, result_dtype)


def test_float_division_by_zero_gives_inf_and_nan():
    numerator = lt.tensor([1.0, -1.0, 0.0, 2.0])
    result = numerator / lt.tensor([0.0, 0.0, 0.0, -0.0])
    assert_close(result, np.array([np.inf, -np.inf, np.nan, -np.inf]), "float32", kind="exact")
    assert_close(numerator / 0.0, np.array([np.inf, -np.inf, np.nan, np.inf]), "float32",
                 kind="exact")
    assert_close(lt.tensor([1, 0, -3]) / 0, np.array([np.inf, np.nan, -np.inf]), "float32",
                 kind="exact")


def test_integer_floor_division_and_remainder_round_toward_negative_infinity():
    a = lt.tensor([7, -7, 7, -7])
    b = lt.tensor([2, 2, -2, -2])
    assert (a // b).tolist() == [3, -4, -4, 3]
    assert (a % b).tolist() == [1, 1, -1, -1]
    assert (lt.tensor([7.5, -7.5]) // 2).tolist() == [3.0, -4.0]
    assert (lt.tensor([7.5, -7.5]) % 2).tolist() == [1.5, 0.5]


def test_integer_arithmetic_wraps_around_like_torch():
    x = lt.tensor([100, -100, 127], dtype=lt.int8)
    assert (x * 2).tolist() == [-56, 56, -2]
    assert (x + x).dtype == lt.int8
    u = lt.tensor([250, 3], dtype=lt.uint8)
    assert (u + 10).tolist() == [4, 13]
    assert (-u).tolist() == [6, 253]


# ---------------------------------------------------------------- type promotion


def test_type_promotion_examples_from_pytorch():
    def dtype_of(t):
        return dtype_name(t.dtype)

    ints = lt.tensor([1, 2, 3])
    assert dtype_of(ints * 2.5) == "float32"
    assert dtype_of(ints / lt.tensor([2, 2, 2])) == "float32"
    assert dtype_of(ints / 2) == "float32"
    assert dtype_of(ints // 2) == "int64"
    assert dtype_of(ints + True) == "int64"
    u8 = lt.tensor([1, 2], dtype=lt.uint8)
    assert dtype_of(u8 + lt.tensor([1, 2], dtype=lt.int8)) == "int16"
    assert dtype_of(u8 + 1000) == "uint8"
    assert dtype_of(u8 + lt.tensor(1000)) == "uint8"  # a 0-d int64 does not widen a 1-d uint8
    halves = lt.ones(2, dtype=lt.float16)
    assert dtype_of(halves + lt.ones(2, dtype=lt.float32)) == "float32"
    assert dtype_of(halves + lt.tensor(1.0, dtype=lt.float64)) == "float16"
    assert dtype_of(halves + lt.ones(2, dtype=lt.bfloat16)) == "float32"
    assert dtype_of(lt.ones(2, dtype=lt.int32) + lt.tensor(1.0, dtype=lt.float64)) == "float64"
    assert dtype_of(lt.ones(2, dtype=lt.int64) + halves) == "float16"
    bools = lt.tensor([True, False])
    assert dtype_of(bools + bools) == "bool"
    assert dtype_of(bools + 1) == "int64"
    assert dtype_of(bools + 1.5) == "float32"
    assert dtype_of(bools / bools) == "float32"
    assert dtype_of(lt.exp(ints)) == "float32"
    assert dtype_of(ints < 2.5) == "bool"


@pytest.mark.parametrize("left", ALL_DTYPES)
def test_result_dtype_of_addition_follows_torch_promotion(left):
    for right in ALL_DTYPES:
        for lhs_dims, rhs_dims in ((1, 1), (1, 0), (0, 1), (0, 0)):
            a = lt.ones((2,) * lhs_dims, dtype=getattr(lt, left))
            b = lt.ones((2,) * rhs_dims, dtype=getattr(lt, right))
            expected = result_type((left, lhs_dims), (right, rhs_dims))
            assert dtype_name((a + b).dtype) == expected, (left, lhs_dims, right, rhs_dims)
            assert dtype_name((a * b).dtype) == expected, (left, lhs_dims, right, rhs_dims)
            assert dtype_name((a == b).dtype) == "bool"
        for scalar in (2, 2.5, True):
            expected = result_type((left, 1), scalar)
            a = lt.ones(2, dtype=getattr(lt, left))
            assert dtype_name((a * scalar).dtype) == expected, (left, scalar)
            assert dtype_name((scalar * a).dtype) == expected, (left, scalar)
            if TORCH is not None:
                oracle = TORCH.ones(2, dtype=getattr(TORCH, left)) * scalar
                assert dtype_name(oracle.dtype) == expected, (left, scalar, "torch")


# ---------------------------------------------------------------- where / clamp / lerp


@given(data=st.data())
def test_where_selects_and_promotes_like_torch(data):
    shapes_ = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=4, max_side=6))
    cond_shape, a_shape, b_shape = shapes_.input_shapes
    cond = data.draw(inputs(shape=cond_shape, dtypes="bool"))
    a = data.draw(st.one_of(inputs(shape=a_shape), python_scalars()))
    b = data.draw(inputs(shape=b_shape))
    dtype = result_type(_operand(a), b.operand)
    expected = np.where(cond.values, _reference_operand(a, dtype), compute_values(b.values, dtype))
    operand_shapes = [cond_shape, b_shape] + ([a_shape] if isinstance(a, Input) else [])
    expected = np.broadcast_to(expected, np.broadcast_shapes(*operand_shapes))
    check_op(lambda m, c, x, y: m.where(c, x, y), [cond, a, b], expected, dtype, kind="exact")
    if isinstance(a, Input):
        check_op(lambda m, c, x, y: x.where(c, y), [cond, a, b], expected, dtype, kind="exact")


@st.composite
def clamp_bounds(draw, shape, kind):
    """None, a Python scalar or a tensor broadcastable to `shape` (both None is not allowed)."""
    if kind == "none":
        return None
    if kind == "scalar":
        return draw(python_scalars())
    bound_shape = tuple(draw(st.sampled_from((1, s))) for s in shape)
    return draw(inputs(shape=bound_shape[draw(st.integers(0, len(shape))):], dtypes=NON_BOOL_DTYPES))


@given(data=st.data())
def test_clamp_and_clip_with_scalar_and_tensor_bounds(data):
    x = data.draw(inputs(dtypes=NON_BOOL_DTYPES))
    min_kind, max_kind = data.draw(st.sampled_from(
        [("scalar", "none"), ("none", "scalar"), ("scalar", "scalar"), ("tensor", "none"),
         ("none", "tensor"), ("tensor", "tensor")]))
    low = data.draw(clamp_bounds(x.values.shape, min_kind))
    high = data.draw(clamp_bounds(x.values.shape, max_kind))
    if min_kind == "scalar" and max_kind == "scalar" and low > high:
        low, high = high, low
    bounds = [b for b in (low, high) if b is not None]
    dtype = result_type(x.operand, *(_operand(b) for b in bounds))
    if dtype == "uint8":  # negative Python bounds do not fit a uint8 result
        low, high = (b if b is None or isinstance(b, Input) else abs(b) for b in (low, high))
    expected = compute_values(x.values, dtype)
    if low is not None:
        expected = np.maximum(expected, _reference_operand(low, dtype))
    if high is not None:
        expected = np.minimum(expected, _reference_operand(high, dtype))
    check_op(lambda m, t, lo, hi: m.clamp(t, min=lo, max=hi), [x, low, high], expected, dtype,
             kind="exact")
    check_op(lambda m, t, lo, hi: t.clamp(lo, hi), [x, low, high], expected, dtype, kind="exact")
    check_op(lambda m, t, lo, hi: t.clip(min=lo, max=hi), [x, low, high], expected, dtype,
             kind="exact")


def test_clamp_with_min_above_max_gives_max():
    x = lt.tensor([-3.0, 0.0, 5.0])
    assert x.clamp(min=2.0, max=1.0).tolist() == [1.0, 1.0, 1.0]


@given(data=st.data())
def test_lerp_with_scalar_and_tensor_weights(data):
    shapes_ = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=4, max_side=5))
    start_shape, end_shape, weight_shape = shapes_.input_shapes
    dtype = data.draw(st.sampled_from(FLOAT_DTYPES))
    start = data.draw(inputs(shape=start_shape, dtypes=dtype))
    end = data.draw(inputs(shape=end_shape, dtypes=dtype))
    if data.draw(st.booleans()):
        weight = data.draw(st.floats(-1.0, 2.0, width=32))
        expected_shape = np.broadcast_shapes(start_shape, end_shape)
        weight_values = np.float64(weight)
    else:
        weight = data.draw(inputs(shape=weight_shape, dtypes=dtype, float_range=(-1.0, 2.0)))
        expected_shape = shapes_.result_shape
        weight_values = weight.values.astype(np.float64)
    s, e = start.values.astype(np.float64), end.values.astype(np.float64)
    expected = np.broadcast_to(s + weight_values * (e - s), expected_shape)
    atol = TOLERANCES[dtype]["arith"][1] + 8 * EPS[dtype] * 30
    check_op(lambda m, a, b, w: m.lerp(a, b, w), [start, end, weight], expected, dtype, atol=atol)
    check_op(lambda m, a, b, w: a.lerp(b, w), [start, end, weight], expected, dtype, atol=atol)


# ---------------------------------------------------------------- reductions


def _reduce_call(method, dim, keepdim, **kwargs):
    """t.method(...) spelled the way a user would: no dim at all when dim is None."""
    def call(m, t):
        if dim is None and not keepdim:
            return getattr(t, method)(**kwargs)
        return getattr(t, method)(dim=dim, keepdim=keepdim, **kwargs)
    return call


def _reduce_function(method, dim, keepdim, **kwargs):
    def call(m, t):
        if dim is None and not keepdim:
            return getattr(m, method)(t, **kwargs)
        return getattr(m, method)(t, dim, keepdim=keepdim, **kwargs)
    return call


@st.composite
def reduction_cases(draw, dtypes, allow_tuple=True, allow_none=True, **shape_kwargs):
    x = draw(inputs(dtypes=dtypes, **shape_kwargs))
    dim = draw(dims(x.ndim, allow_none=allow_none, allow_tuple=allow_tuple))
    return x, dim, draw(st.booleans())


def _accumulated_dtype(name):
    """sum/prod/cumsum accumulate bools and integers in int64."""
    return name if is_float(name) else "int64"


@given(case=reduction_cases(ALL_DTYPES))
def test_sum_over_dims_matches_numpy(case):
    x, dim, keepdim = case
    dtype = _accumulated_dtype(x.dtype)
    expected = np.sum(compute_values(x.values, dtype), axis=numpy_axis(dim, x.ndim),
                      keepdims=keepdim)
    atol = reduction_atol(x.values, dtype)
    check_op(_reduce_call("sum", dim, keepdim), [x], expected, dtype, atol=atol)
    check_op(_reduce_function("sum", dim, keepdim), [x], expected, dtype, atol=atol)


@given(case=reduction_cases(FLOAT_DTYPES))
def test_mean_over_dims_matches_numpy(case):
    x, dim, keepdim = case
    with _quiet_numpy():
        expected = np.mean(x.values.astype(np.float64), axis=numpy_axis(dim, x.ndim),
                           keepdims=keepdim)
    atol = TOLERANCES[x.dtype]["arith"][1] + 4 * EPS[x.dtype] * 10
    check_op(_reduce_call("mean", dim, keepdim), [x], expected, x.dtype, atol=atol)
    check_op(_reduce_function("mean", dim, keepdim), [x], expected, x.dtype, atol=atol)


@given(case=reduction_cases(ALL_DTYPES, allow_tuple=False, max_dims=3, max_side=3,
                            float_range=(-2.0, 2.0), int_range=(-3, 3)))
def test_prod_over_a_dim_matches_numpy(case):
    x, dim, keepdim = case
    keepdim = keepdim and dim is not None  # prod takes no dim=None
    dtype = _accumulated_dtype(x.dtype)
    expected = np.prod(compute_values(x.values, dtype), axis=numpy_axis(dim, x.ndim),
                       keepdims=keepdim)
    check_op(_reduce_call("prod", dim, keepdim), [x], expected, dtype)
    check_op(_reduce_function("prod", dim, keepdim), [x], expected, dtype)


@pytest.mark.parametrize("name", ["amax", "amin"])
@given(case=reduction_cases(ALL_DTYPES, min_side=1))
def test_amax_amin_over_dims_match_numpy(name, case):
    x, dim, keepdim = case
    keepdim = keepdim and dim is not None
    reference = np.max if name == "amax" else np.min
    expected = reference(compute_values(x.values, x.dtype), axis=numpy_axis(dim, x.ndim),
                         keepdims=keepdim)
    check_op(_reduce_call(name, dim, keepdim), [x], expected, x.dtype, kind="exact")
    check_op(_reduce_function(name, dim, keepdim), [x], expected, x.dtype, kind="exact")


@pytest.mark.parametrize("name", ["max", "min"])
@given(x=inputs(min_side=1))
def test_max_min_without_dim_give_a_0d_tensor(name, x):
    reference = np.max if name == "max" else np.min
    expected = reference(compute_values(x.values, x.dtype))
    check_op(lambda m, t: getattr(t, name)(), [x], expected, x.dtype, kind="exact")
    check_op(lambda m, t: getattr(m, name)(t), [x], expected, x.dtype, kind="exact")


@pytest.mark.parametrize("name", ["max", "min"])
@given(case=reduction_cases(ALL_DTYPES, allow_tuple=False, allow_none=False, min_side=1))
def test_max_min_with_dim_return_values_and_first_indices(name, case):
    x, dim, keepdim = case
    axis = numpy_axis(dim, x.ndim)
    values = compute_values(x.values, x.dtype)
    reduce, arg = (np.max, np.argmax) if name == "max" else (np.min, np.argmin)
    expected_values = reduce(values, axis=axis, keepdims=keepdim)
    expected_indices = np.asarray(arg(values, axis=axis, keepdims=keepdim), dtype=np.int64)
    calls = [lambda m, t: getattr(t, name)(dim, keepdim),
             lambda m, t: getattr(m, name)(t, dim=dim, keepdim=keepdim)]
    for call in calls:
        result = call(lt, x.make(lt))
        first, second = result  # a (values, indices) named tuple
        for got_values, got_indices in ((result.values, result.indices), (first, second),
                                        (result[0], result[1])):
            assert_close(got_values, expected_values, x.dtype, kind="exact")
            assert_close(got_indices, expected_indices, "int64")
        if TORCH is not None:
            oracle = call(TORCH, x.make(TORCH))
            assert_close(result.values, oracle.values, kind="exact")
            assert_close(result.indices, oracle.indices)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@given(case=reduction_cases(NON_BOOL_DTYPES, allow_tuple=False, min_side=1))
def test_argmax_argmin_return_first_extreme_index(name, case):
    x, dim, keepdim = case
    keepdim = keepdim and dim is not None
    values = compute_values(x.values, x.dtype)
    expected = np.asarray(getattr(np, name)(values, axis=numpy_axis(dim, x.ndim),
                                            keepdims=keepdim), dtype=np.int64)
    check_op(_reduce_call(name, dim, keepdim), [x], expected, "int64")
    check_op(_reduce_function(name, dim, keepdim), [x], expected, "int64")


CORRECTIONS = ["default", "unbiased=False", "correction=0", "correction=1", "correction=2"]


def _correction_kwargs(correction: str) -> dict:
    if correction == "default":
        return {}
    if correction == "unbiased=False":
        return {"unbiased": False}
    return {"correction": int(correction.split("=")[1])}


@pytest.mark.parametrize("name", ["var", "std"])
@given(case=reduction_cases(FLOAT_DTYPES, min_dims=1, min_side=2, max_side=5),
       correction=st.sampled_from(CORRECTIONS))
def test_var_std_with_corrections_match_numpy(name, case, correction):
    x, dim, keepdim = case
    kwargs = _correction_kwargs(correction)
    ddof = kwargs.get("correction", 0 if "unbiased" in kwargs else 1)
    axis = numpy_axis(dim, x.ndim)
    reduced_axes = range(x.ndim) if axis is None else np.atleast_1d(axis)
    assume(math.prod(x.values.shape[a] for a in reduced_axes) > ddof)
    values = x.values.astype(np.float64)
    expected = np.var(values, axis=axis, ddof=ddof, keepdims=keepdim)
    var_atol = TOLERANCES[x.dtype]["arith"][1] + 16 * EPS[x.dtype] * 100
    if name == "std":
        expected, atol = np.sqrt(expected), math.sqrt(var_atol)
    else:
        atol = var_atol
    check_op(_reduce_call(name, dim, keepdim, **kwargs), [x], expected, x.dtype, atol=atol)
    check_op(lambda m, t: getattr(m, name)(t, dim=dim, keepdim=keepdim, **kwargs), [x],
             expected, x.dtype, atol=atol)


@given(case=reduction_cases(FLOAT_DTYPES, min_side=1), p=st.sampled_from([None, 1, 2, math.inf]))
def test_norm_over_dims_matches_numpy(case, p):
    x, dim, keepdim = case
    if p is None and isinstance(dim, tuple):
        dim = dim[:2]  # the default p="fro" is a matrix norm for a 2-tuple, undefined beyond
    axis = numpy_axis(dim, x.ndim)
    magnitudes = np.abs(x.values.astype(np.float64))
    if p == 1:
        expected = np.sum(magnitudes, axis=axis, keepdims=keepdim)
    elif p == math.inf:
        expected = np.max(magnitudes, axis=axis, keepdims=keepdim)
    else:
        expected = np.sqrt(np.sum(magnitudes**2, axis=axis, keepdims=keepdim))
    kwargs = {} if p is None else {"p": p}
    check_op(_reduce_call("norm", dim, keepdim, **kwargs), [x], expected, x.dtype)
    if dim is not None:
        check_op(lambda m, t: m.norm(t, p=2 if p is None else p, dim=dim, keepdim=keepdim), [x],
                 expected, x.dtype)


def _logsumexp_reference(values, axis, keepdim):
    values = values.astype(np.float64)
    top = np.max(values, axis=axis, keepdims=True)
    result = top + np.log(np.sum(np.exp(values - top), axis=axis, keepdims=True))
    return result if keepdim or axis is None and values.ndim == 0 else np.squeeze(result, axis=axis)


@given(case=reduction_cases(FLOAT_DTYPES, allow_none=False, min_side=1, float_range=(-100.0, 100.0)))
def test_logsumexp_is_stable_for_large_inputs(case):
    x, dim, keepdim = case
    expected = _logsumexp_reference(x.values, numpy_axis(dim, x.ndim), keepdim)
    atol = TOLERANCES[x.dtype]["transcendental"][1] + 8 * EPS[x.dtype] * 100
    check_op(lambda m, t: t.logsumexp(dim=dim, keepdim=keepdim), [x], expected, x.dtype,
             kind="transcendental", atol=atol)
    check_op(lambda m, t: m.logsumexp(t, dim, keepdim=keepdim), [x], expected, x.dtype,
             kind="transcendental", atol=atol)


@pytest.mark.parametrize("name", ["all", "any"])
@given(case=reduction_cases(ALL_DTYPES, float_range=(-1.0, 1.0), int_range=(-1, 2)))
def test_all_any_over_dims_give_bool(name, case):
    x, dim, keepdim = case
    nonzero = x.values != 0
    expected = getattr(np, name)(nonzero, axis=numpy_axis(dim, x.ndim), keepdims=keepdim)
    dtype = "uint8" if x.dtype == "uint8" else "bool"  # torch keeps uint8 for uint8 inputs
    check_op(_reduce_call(name, dim, keepdim), [x], cast_values(expected, dtype), dtype)
    check_op(_reduce_function(name, dim, keepdim), [x], cast_values(expected, dtype), dtype)


def _softmax_reference(values, axis, log):
    values = values.astype(np.float64)
    if values.size == 0:
        return values
    shifted = values - np.max(values, axis=axis, keepdims=True)
    log_total = np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    return shifted - log_total if log else np.exp(shifted - log_total)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@given(case=reduction_cases(FLOAT_DTYPES, allow_none=False, allow_tuple=False,
                            float_range=(-100.0, 100.0)))
def test_softmax_and_log_softmax_are_stable(name, case):
    x, dim, _ = case
    expected = _softmax_reference(x.values, numpy_axis(dim, x.ndim), log=name == "log_softmax")
    atol = TOLERANCES[x.dtype]["transcendental"][1] + 8 * EPS[x.dtype] * 100
    check_op(lambda m, t: getattr(m, name)(t, dim), [x], expected, x.dtype,
             kind="transcendental", atol=atol)
    check_op(lambda m, t: getattr(t, name)(dim=dim), [x], expected, x.dtype,
             kind="transcendental", atol=atol)


@given(case=reduction_cases(ALL_DTYPES, allow_none=False, allow_tuple=False))
def test_cumsum_accumulates_ints_in_int64(case):
    x, dim, _ = case
    dtype = _accumulated_dtype(x.dtype)
    values = compute_values(x.values, dtype)
    if x.ndim == 0:
        expected = values
    else:
        expected = np.cumsum(values, axis=numpy_axis(dim, x.ndim), dtype=values.dtype)
    atol = reduction_atol(x.values, dtype)
    check_op(lambda m, t: t.cumsum(dim), [x], expected, dtype, atol=atol)
    check_op(lambda m, t: m.cumsum(t, dim=dim), [x], expected, dtype, atol=atol)


def test_reductions_of_empty_tensors_give_identities():
    empty = lt.zeros(0, 3)
    assert lt.sum(empty).item() == 0.0
    assert lt.prod(empty).item() == 1.0
    assert math.isnan(empty.mean().item())
    assert empty.sum(dim=0).tolist() == [0.0, 0.0, 0.0]
    assert empty.sum(dim=1).shape == (0,)
    assert bool(empty.all()) and not bool(empty.any())
    assert lt.logsumexp(empty, 0).tolist() == [-math.inf] * 3


# ---------------------------------------------------------------- joining and splitting


@given(data=st.data())
def test_cat_concatenates_and_promotes(data):
    base = list(data.draw(shapes(min_dims=1, max_side=4)))
    dim = data.draw(st.integers(-len(base), len(base) - 1))
    parts = []
    for _ in range(data.draw(st.integers(1, 3))):
        base[dim] = data.draw(st.integers(0, 4))
        parts.append(data.draw(inputs(shape=tuple(base))))
    dtype = result_type(*(p.operand for p in parts))
    expected = np.concatenate([compute_values(p.values, dtype) for p in parts], axis=dim)
    check_op(lambda m, *ts: m.cat(ts, dim=dim), parts, expected, dtype, kind="exact")
    check_op(lambda m, *ts: m.cat(list(ts), dim), parts, expected, dtype, kind="exact")


@given(data=st.data())
def test_stack_adds_a_dim_and_promotes(data):
    shape = data.draw(shapes(max_side=4))
    dim = data.draw(st.integers(-len(shape) - 1, len(shape)))
    parts = [data.draw(inputs(shape=shape)) for _ in range(data.draw(st.integers(1, 3)))]
    dtype = result_type(*(p.operand for p in parts))
    expected = np.stack([compute_values(p.values, dtype) for p in parts], axis=dim)
    check_op(lambda m, *ts: m.stack(ts, dim=dim), parts, expected, dtype, kind="exact")
    check_op(lambda m, *ts: m.stack(list(ts), dim), parts, expected, dtype, kind="exact")


def _check_pieces(call, x: Input, expected_pieces):
    pieces = call(lt, x.make(lt))
    assert isinstance(pieces, tuple), type(pieces)
    assert len(pieces) == len(expected_pieces)
    for piece, expected in zip(pieces, expected_pieces):
        assert_close(piece, expected, x.dtype, kind="exact")
    if TORCH is not None:
        oracle = call(TORCH, x.make(TORCH))
        assert len(pieces) == len(oracle)
        for piece, expected in zip(pieces, oracle):
            assert_close(piece, expected, kind="exact")


def _split_reference(values, sizes, axis):
    starts = np.cumsum([0, *sizes])
    return [np.take(values, np.arange(a, b), axis=axis) for a, b in itertools.pairwise(starts)]


def _sizes_for_split_size(length, split_size):
    if length == 0:
        return [0]
    return [min(split_size, length - start) for start in range(0, length, split_size)]


@given(x=inputs(min_dims=1), data=st.data())
def test_split_by_size_and_by_sections(x, data):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    length = x.values.shape[dim]
    axis = dim % x.ndim
    if data.draw(st.booleans()):
        split_size = data.draw(st.integers(1, 5))
        sizes = _sizes_for_split_size(length, split_size)
        argument = split_size
    else:
        cuts = sorted(data.draw(st.lists(st.integers(0, length), max_size=3)))
        sizes = list(np.diff([0, *cuts, length]))
        argument = [int(s) for s in sizes]
    expected = _split_reference(x.values, sizes, axis)
    _check_pieces(lambda m, t: t.split(argument, dim), x, expected)
    _check_pieces(lambda m, t: m.split(t, argument, dim=dim), x, expected)


@given(x=inputs(min_dims=1), data=st.data())
def test_chunk_uses_ceil_sized_chunks_like_torch(x, data):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    chunks = data.draw(st.integers(1, 5))
    length = x.values.shape[dim]
    if length == 0:
        sizes = [0] * chunks
    else:
        sizes = _sizes_for_split_size(length, -(-length // chunks))
    expected = _split_reference(x.values, sizes, dim % x.ndim)
    _check_pieces(lambda m, t: t.chunk(chunks, dim), x, expected)
    _check_pieces(lambda m, t: m.chunk(t, chunks, dim=dim), x, expected)


def test_chunk_can_return_fewer_chunks_than_asked():
    pieces = lt.arange(6).chunk(4)
    assert [p.tolist() for p in pieces] == [[0, 1], [2, 3], [4, 5]]


# ---------------------------------------------------------------- gather / scatter / select


def _index_input(data, values):
    layout = data.draw(st.sampled_from(("contiguous", "transposed", "strided")))
    return Input(np.asarray(values, dtype=np.int64), "int64", layout)


def _grid_with(index, dim):
    grid = list(np.indices(index.shape))
    grid[dim] = index
    return tuple(grid)


@given(x=inputs(min_dims=1, min_side=1), data=st.data())
def test_gather_picks_along_dim(x, data):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    axis = dim % x.ndim
    index_shape = tuple(data.draw(st.integers(0, 5)) if d == axis else data.draw(st.integers(0, s))
                        for d, s in enumerate(x.values.shape))
    length = x.values.shape[axis]
    index = data.draw(hnp.arrays(np.int64, index_shape, elements=st.integers(0, length - 1)))
    expected = x.values[_grid_with(index, axis)]
    index_input = _index_input(data, index)
    check_op(lambda m, t, i: m.gather(t, dim, i), [x, index_input], expected, x.dtype, kind="exact")
    check_op(lambda m, t, i: t.gather(dim, i), [x, index_input], expected, x.dtype, kind="exact")


def _scalar_of_kind(data, dtype):
    if dtype == "bool":
        return data.draw(st.booleans())
    if is_int(dtype):
        return data.draw(st.integers(0, 9))
    return data.draw(st.sampled_from([2.5, -1.0, 0.0, 7.0]))


@given(x=inputs(min_dims=1, min_side=1, max_side=5), data=st.data())
def test_scatter_writes_src_or_value_at_unique_indices(x, data):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    axis = dim % x.ndim
    length = x.values.shape[axis]
    index_shape = [data.draw(st.integers(0, s)) for s in x.values.shape]
    index_shape[axis] = length
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    permutations = np.argsort(rng.random(index_shape), axis=axis)  # distinct indices per column
    index = np.take(permutations, np.arange(data.draw(st.integers(0, length))), axis=axis)
    src = data.draw(inputs(shape=index.shape, dtypes=x.dtype))
    index_input = _index_input(data, index)
    expected = x.values.copy()
    expected[_grid_with(index, axis)] = src.values
    check_op(lambda m, t, i, s: t.scatter(dim, i, s), [x, index_input, src], expected, x.dtype,
             kind="exact")
    check_op(lambda m, t, i, s: m.scatter(t, dim, i, s), [x, index_input, src], expected, x.dtype,
             kind="exact")
    value = _scalar_of_kind(data, x.dtype)
    expected = x.values.copy()
    expected[_grid_with(index, axis)] = value
    check_op(lambda m, t, i: t.scatter(dim, i, value), [x, index_input], expected, x.dtype,
             kind="exact")


def test_scatter_builds_one_hot_rows():
    labels = lt.tensor([[2], [0], [1]])
    one_hot = lt.zeros(3, 4).scatter(1, labels, 1.0)
    assert one_hot.tolist() == [[0, 0, 1, 0], [1, 0, 0, 0], [0, 1, 0, 0]]


@given(x=inputs(min_dims=1), data=st.data())
def test_index_select_takes_rows_with_repeats(x, data):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    length = x.values.shape[dim]
    count = data.draw(st.integers(0, 6)) if length else 0
    index = data.draw(hnp.arrays(np.int64, (count,), elements=st.integers(0, max(length - 1, 0))))
    expected = np.take(x.values, index, axis=dim % x.ndim)
    index_input = _index_input(data, index)
    check_op(lambda m, t, i: m.index_select(t, dim, i), [x, index_input], expected, x.dtype,
             kind="exact")
    check_op(lambda m, t, i: t.index_select(dim, i), [x, index_input], expected, x.dtype,
             kind="exact")


@given(x=inputs(), data=st.data())
def test_masked_fill_broadcasts_the_mask(x, data):
    shape = x.values.shape
    mask_shape = tuple(data.draw(st.sampled_from((1, s))) for s in shape)
    mask_shape = mask_shape[data.draw(st.integers(0, len(shape))):]
    mask = data.draw(inputs(shape=mask_shape, dtypes="bool"))
    value = _scalar_of_kind(data, x.dtype)
    expected = np.where(mask.values, cast_values(np.asarray(value), x.dtype), x.values)
    check_op(lambda m, t, k: t.masked_fill(k, value), [x, mask], expected, x.dtype, kind="exact")
    check_op(lambda m, t, k: m.masked_fill(t, k, value), [x, mask], expected, x.dtype, kind="exact")
    value_tensor = Input(cast_values(np.asarray(value), x.dtype), x.dtype)
    check_op(lambda m, t, k, v: t.masked_fill(k, v), [x, mask, value_tensor], expected, x.dtype,
             kind="exact")


@pytest.mark.parametrize("name", ["tril", "triu"])
@given(x=inputs(min_dims=2), diagonal=st.integers(-4, 4))
def test_tril_triu_keep_a_triangle_of_the_last_two_dims(name, x, diagonal):
    expected = getattr(np, name)(x.values, diagonal)
    check_op(lambda m, t: getattr(m, name)(t, diagonal=diagonal), [x], expected, x.dtype,
             kind="exact")
    check_op(lambda m, t: getattr(t, name)(diagonal), [x], expected, x.dtype, kind="exact")
    if diagonal == 0:
        check_op(lambda m, t: getattr(t, name)(), [x], expected, x.dtype, kind="exact")


@given(shape=shapes(max_dims=3), classes=st.integers(1, 6), data=st.data())
def test_one_hot_appends_a_class_dim(shape, classes, data):
    functional = pytest.importorskip(f"{lt.__name__}.nn.functional")
    labels = data.draw(hnp.arrays(np.int64, shape, elements=st.integers(0, classes - 1)))
    infer = labels.size > 0 and data.draw(st.booleans())
    num_classes = int(labels.max()) + 1 if infer else classes
    expected = np.eye(num_classes, dtype=np.int64)[labels]
    result = functional.one_hot(make_tensor(lt, labels, "int64"), -1 if infer else classes)
    assert_close(result, expected, "int64")


# ---------------------------------------------------------------- sort / topk


def _stable_argsort(values, axis, descending):
    if not descending:
        return np.argsort(values, axis=axis, kind="stable")
    flipped = np.argsort(np.flip(values, axis=axis), axis=axis, kind="stable")
    return values.shape[axis] - 1 - np.flip(flipped, axis=axis)


def _assert_indices_pick_values(x: Input, indices, values, axis):
    got_indices = to_numpy(indices)
    picked = np.take_along_axis(x.values, got_indices, axis=axis)
    assert np.array_equal(picked, to_numpy(values)), "indices do not point at the values"
    if got_indices.size:
        assert np.all(np.diff(np.sort(got_indices, axis=axis), axis=axis) > 0), "repeated index"


@given(x=inputs(dtypes=NON_BOOL_DTYPES, min_dims=1), data=st.data())
def test_sort_orders_values_and_stable_sort_keeps_tie_order(x, data):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    axis = dim % x.ndim
    descending = data.draw(st.booleans())
    order = _stable_argsort(x.values, axis, descending)
    expected_values = np.take_along_axis(x.values, order, axis=axis)

    values, indices = result = x.make(lt).sort(dim=dim, descending=descending)
    assert_close(result.values, expected_values, x.dtype, kind="exact")
    _assert_indices_pick_values(x, indices, values, axis)

    stable = lt.sort(x.make(lt), dim=dim, descending=descending, stable=True)
    assert_close(stable.values, expected_values, x.dtype, kind="exact")
    assert_close(stable.indices, order.astype(np.int64), "int64")
    if TORCH is not None:
        oracle = TORCH.sort(x.make(TORCH), dim=dim, descending=descending, stable=True)
        assert_close(stable.values, oracle.values, kind="exact")
        assert_close(stable.indices, oracle.indices)


@given(x=inputs(dtypes=NON_BOOL_DTYPES, min_dims=1), data=st.data())
def test_topk_returns_the_k_extreme_values_in_order(x, data):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    axis = dim % x.ndim
    k = data.draw(st.integers(0, x.values.shape[axis]))
    largest = data.draw(st.booleans())
    order = _stable_argsort(x.values, axis, descending=largest)
    expected = np.take(np.take_along_axis(x.values, order, axis=axis), np.arange(k), axis=axis)
    values, indices = result = x.make(lt).topk(k, dim=dim, largest=largest)
    assert_close(result.values, expected, x.dtype, kind="exact")
    assert dtype_name(result.indices.dtype) == "int64"
    _assert_indices_pick_values(x, indices, values, axis)
    if TORCH is not None:
        oracle = x.make(TORCH).topk(k, dim=dim, largest=largest)
        assert_close(values, oracle.values, kind="exact")


# ---------------------------------------------------------------- matmul


@st.composite
def matmul_operands(draw):
    """Operand shapes for every matmul case: vector/matrix mixes and broadcast batches."""
    n, k, m = (draw(st.integers(0, 5)) for _ in range(3))
    case = draw(st.sampled_from(["vv", "mv", "vm", "mm", "batched"]))
    if case == "vv":
        a_shape, b_shape = (k,), (k,)
    elif case == "mv":
        a_shape, b_shape = (n, k), (k,)
    elif case == "vm":
        a_shape, b_shape = (k,), (k, m)
    elif case == "mm":
        a_shape, b_shape = (n, k), (k, m)
    else:
        batches = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3))
        a_batch, b_batch = batches.input_shapes
        a_shape = (*a_batch, n, k) if draw(st.booleans()) or not a_batch else (k,)
        b_shape = (*b_batch, k, m) if a_shape == (k,) or draw(st.booleans()) else (k,)
        if a_shape == (k,) and b_shape == (k,):
            b_shape = (*b_batch, k, m)
    dtype = draw(st.sampled_from(NON_BOOL_DTYPES))
    a = draw(inputs(shape=a_shape, dtypes=dtype))
    b = draw(inputs(shape=b_shape, dtypes=dtype))
    return a, b, case


def _matmul_atol(a: Input, b: Input) -> float | None:
    if not is_float(a.dtype):
        return None
    depth = a.values.shape[-1] if a.ndim else 1
    scale = depth * 10.0 * 10.0
    return TOLERANCES[a.dtype]["arith"][1] + 2 * EPS[a.dtype] * scale


@given(operands=matmul_operands())
def test_matmul_handles_vectors_matrices_and_batches(operands):
    a, b, case = operands
    dtype = a.dtype
    expected = np.matmul(compute_values(a.values, dtype), compute_values(b.values, dtype))
    atol = _matmul_atol(a, b)
    check_op(lambda m, x, y: x @ y, [a, b], expected, dtype, atol=atol, msg=case)
    check_op(lambda m, x, y: m.matmul(x, y), [a, b], expected, dtype, atol=atol, msg=case)
    check_op(lambda m, x, y: x.matmul(y), [a, b], expected, dtype, atol=atol, msg=case)
    if case == "mm":
        check_op(lambda m, x, y: m.mm(x, y), [a, b], expected, dtype, atol=atol, msg=case)
        check_op(lambda m, x, y: x.mm(y), [a, b], expected, dtype, atol=atol, msg=case)


@given(batch=st.integers(0, 3), sizes=st.tuples(*[st.integers(0, 5)] * 3),
       dtype=st.sampled_from(NON_BOOL_DTYPES), data=st.data())
def test_bmm_multiplies_matching_batches(batch, sizes, dtype, data):
    n, k, m = sizes
    a = data.draw(inputs(shape=(batch, n, k), dtypes=dtype))
    b = data.draw(inputs(shape=(batch, k, m), dtypes=dtype))
    expected = np.matmul(compute_values(a.values, dtype), compute_values(b.values, dtype))
    atol = _matmul_atol(a, b)
    check_op(lambda mod, x, y: mod.bmm(x, y), [a, b], expected, dtype, atol=atol)
    check_op(lambda mod, x, y: x.bmm(y), [a, b], expected, dtype, atol=atol)


def test_matmul_of_known_matrices():
    a = lt.tensor([[1.0, 2.0], [3.0, 4.0]])
    b = lt.tensor([[5.0, 6.0], [7.0, 8.0]])
    assert (a @ b).tolist() == [[19.0, 22.0], [43.0, 50.0]]
    assert (a @ lt.tensor([1.0, 1.0])).tolist() == [3.0, 7.0]
    assert (lt.tensor([1.0, 1.0]) @ a).tolist() == [4.0, 6.0]
    assert (lt.tensor([1.0, 2.0]) @ lt.tensor([3.0, 4.0])).item() == 11.0
    assert (lt.zeros(2, 0) @ lt.zeros(0, 3)).tolist() == [[0.0] * 3] * 2


def test_square_of_a_bool_tensor_promotes_like_torch():
    # x ** 2 becomes x * x only where that keeps the dtype: bool ** 2 is int64.
    for values in (False, [True, False]):
        result = lt.tensor(values) ** 2
        assert dtype_name(result.dtype) == "int64"
        assert result.tolist() == (0 if values is False else [1, 0])
    assert dtype_name((lt.tensor([2, 3], dtype=lt.uint8) ** 2).dtype) == "uint8"
