"""Elementwise ops beyond the op table's rows: PyTorch's complex-number API on real
tensors, float decomposition, integer gcd/lcm and reflected arithmetic.

Frontend layer beside lazyt/math_ops.py: every function here is a composition of
op-table rows (lazyt/elementwise.py) with PyTorch's dtype rules and errors, so its
gradient (where PyTorch has one) comes from the rows' rules.

- conj, conj_physical, resolve_conj, resolve_neg, positive and `Tensor.real` return
  their input, Tensor.H / mH and adjoint are transposes (views) (lazyt has no complex dtypes; PyTorch returns the same tensor object);
  angle is pi for negative inputs, 0 elsewhere (NaN stays NaN), isreal all True.
- signbit, isposinf, isneginf: bool predicates (ints and bools never are infinite).
- frexp: (mantissa in [0.5, 1), int32 exponent) through the `_frexp_mantissa` and
  `_frexp_exponent` rows (exact bit manipulation in codegen/llvm_special.py); ldexp is
  input * 2 ** other, as PyTorch computes it.
- gcd/lcm: Euclid's algorithm, one realised "any remainder left?" read per step (at
  most ~90 steps for int64), like PyTorch's own data-dependent loop.
- rsub(input, other, alpha) = other - alpha * input; Tensor.__rdiv__(other) = other / self.

angle and ldexp run as eager regions (lazyt/regions.py): one fused replay and one
grad_fn named as PyTorch's.

It also exports lazyt/log_scan.py's logcumsumexp.
"""

from __future__ import annotations

import math

from lazyt import dtypes, reductions, return_types
from lazyt.elementwise import (
    TORCH_NAMES,
    _check_bool_arith,
    apply,
    cast,
    cast_if,
    div,
    mul,
    sub,
    where,
)
from lazyt.log_scan import logcumsumexp
from lazyt.math_ops import _float_dtype, _inplace_of
from lazyt.regions import run_region
from lazyt.tensor import Tensor

frexp_result = return_types.frexp


# ------------------------------------------------ the complex API on real tensors
def conj(input: Tensor) -> Tensor:
    """The complex conjugate: a real tensor is its own (PyTorch returns the same tensor)."""
    return input


def conj_physical(input: Tensor) -> Tensor:
    return input


def conj_physical_(self: Tensor) -> Tensor:
    return self


def resolve_conj(input: Tensor) -> Tensor:
    return input


def resolve_neg(input: Tensor) -> Tensor:
    return input


def is_conj(input: Tensor) -> bool:
    """Whether the conjugate bit is set: never on real tensors."""
    return False


def is_neg(input: Tensor) -> bool:
    return False


def positive(input: Tensor) -> Tensor:
    if input.dtype is dtypes.bool_:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def real(input: Tensor) -> Tensor:
    return input


def imag(input: Tensor) -> Tensor:
    raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")


def _matrix_conj_transpose(self: Tensor, what: str) -> Tensor:
    if self.ndim < 2:
        raise RuntimeError(f"tensor.{what} is only supported on matrices or batches of "
                           f"matrices. Got {self.ndim}-D tensor.")
    return self.transpose(-2, -1)


def adjoint(input: Tensor) -> Tensor:
    """The conjugate transpose of the last two dimensions (a view)."""
    return _matrix_conj_transpose(input, "adjoint()")


def angle(input: Tensor) -> Tensor:
    """pi where input < 0, else 0 (-0 included); NaN stays NaN; ints/bools give floats.
    The gradient is zero (PyTorch's for real inputs)."""
    return run_region("angle", _angle, (input,), (), "AngleBackward0")


def _angle(input: Tensor) -> Tensor:
    x = cast_if(input, _float_dtype(input))
    return where(apply("lt", x, 0.0), math.pi, where(apply("isnan", x), x, 0.0))


def isreal(input: Tensor) -> Tensor:
    return apply("eq", input, input) if input.dtype.kind != "f" else apply(
        "eq", apply("isnan", input), apply("isnan", input))


# ------------------------------------------------------------------ predicates
def signbit(input: Tensor) -> Tensor:
    """True where the sign bit is set: negative numbers, -0.0 and NaNs with the bit."""
    if input.dtype.kind == "b":
        return apply("ne", input, input)
    if input.dtype.kind != "f":
        return apply("lt", input, 0)
    return apply("lt", apply("copysign", 1.0, input), 0.0)


def isposinf(input: Tensor) -> Tensor:
    if input.dtype.kind != "f":
        return apply("ne", input, input)
    return apply("eq", input, math.inf)


def isneginf(input: Tensor) -> Tensor:
    if input.dtype.kind != "f":
        return apply("ne", input, input)
    return apply("eq", input, -math.inf)


# ------------------------------------------------------------ float decomposition
def frexp(input: Tensor):
    """(mantissa, exponent) with input = mantissa * 2 ** exponent, |mantissa| in
    [0.5, 1); zeros, infinities and NaN keep themselves as mantissa, exponent 0."""
    if not isinstance(input, Tensor):
        raise TypeError(f"frexp(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    if input.dtype.kind != "f":
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    mantissa = apply("_frexp_mantissa", input)
    exponent = cast(apply("_frexp_exponent", input), dtypes.int32)
    return frexp_result(mantissa, exponent)


def ldexp(input, other) -> Tensor:
    """input * 2 ** other (PyTorch's definition: ints and bools give floats)."""
    _check_tensors("ldexp", input, other)
    return run_region("ldexp", _ldexp, (input, other), (), "LdexpBackward0")


def _ldexp(input: Tensor, other: Tensor) -> Tensor:
    return mul(input, apply("pow", 2.0, cast_if(other, _float_dtype(other))))


def ldexp_(self: Tensor, other) -> Tensor:
    return _inplace_of(ldexp, "ldexp_")(self, other)


def _check_tensors(name: str, input, other) -> None:
    for position, (argument, x) in enumerate((("input", input), ("other", other)), 1):
        if not isinstance(x, Tensor):
            raise TypeError(f"{name}(): argument '{argument}' (position {position}) must be "
                            f"Tensor, not {type(x).__name__}")


# ------------------------------------------------------------------ gcd / lcm
def _check_integral(name: str, *operands) -> dtypes.DType:
    _check_tensors(name, *operands)
    promoted = dtypes.result_type(*operands)
    if promoted.kind not in "iu":
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for "
                                  f"'{TORCH_NAMES[promoted.name]}'")
    return promoted


def gcd(input, other) -> Tensor:
    """The greatest common divisor (non-negative; gcd(0, 0) = 0), by Euclid's algorithm."""
    return _gcd(input, other, _check_integral("gcd", input, other))


def _gcd(input: Tensor, other: Tensor, dtype: dtypes.DType) -> Tensor:
    a, b = apply("abs", cast_if(input, dtype)), apply("abs", cast_if(other, dtype))
    # broadcast both to the result's shape (a + 0 * b), then step while a remainder is left
    a, b = apply("add", a, mul(b, 0)), apply("add", b, mul(a, 0))
    while bool(reductions.any_(apply("ne", b, 0))):
        nonzero = apply("ne", b, 0)
        remainder = apply("fmod", a, where(nonzero, b, 1))
        a, b = where(nonzero, b, a), where(nonzero, remainder, 0)
    return apply("abs", a)


def lcm(input, other) -> Tensor:
    """|input / gcd * other|, 0 where the gcd is 0."""
    dtype = _check_integral("lcm", input, other)
    divisor = _gcd(input, other, dtype)
    quotient = apply("floordiv", cast_if(input, dtype), where(apply("eq", divisor, 0), 1,
                                                                 divisor))
    return apply("abs", mul(quotient, cast_if(other, dtype)))


# ---------------------------------------------------------------- reflected ops
def rsub(input, other, *, alpha=1) -> Tensor:
    """other - alpha * input."""
    _check_bool_arith("sub", input, other)
    scaled = input if alpha == 1 else mul(input, alpha)
    return sub(other, scaled)


def _rdiv(self: Tensor, other) -> Tensor:
    return div(other, self)


FUNCTIONS = {
    "conj": conj, "conj_physical": conj_physical, "conj_physical_": conj_physical_,
    "resolve_conj": resolve_conj, "resolve_neg": resolve_neg, "positive": positive,
    "real": real, "imag": imag, "angle": angle, "isreal": isreal, "signbit": signbit,
    "isposinf": isposinf, "isneginf": isneginf, "frexp": frexp, "ldexp": ldexp,
    "gcd": gcd, "lcm": lcm, "rsub": rsub, "logcumsumexp": logcumsumexp,
    "is_conj": is_conj, "is_neg": is_neg, "adjoint": adjoint,
}

TENSOR_METHODS = {
    "conj": conj, "conj_physical": conj_physical, "conj_physical_": conj_physical_,
    "resolve_conj": resolve_conj, "resolve_neg": resolve_neg, "positive": positive,
    "real": property(real), "imag": property(imag), "angle": angle, "isreal": isreal,
    "signbit": signbit, "isposinf": isposinf, "isneginf": isneginf, "frexp": frexp,
    "ldexp": ldexp, "ldexp_": ldexp_, "gcd": gcd, "lcm": lcm,
    "gcd_": _inplace_of(gcd, "gcd_"), "lcm_": _inplace_of(lcm, "lcm_"),
    "__rdiv__": _rdiv, "logcumsumexp": logcumsumexp, "is_conj": is_conj, "is_neg": is_neg,
    "adjoint": adjoint,  # Tensor.H and mH are properties of Tensor itself (tensor.py)
}
