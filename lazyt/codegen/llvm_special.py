"""Special functions (inverse hyperbolics, gamma family, zeta, erfinv, Bessel I0/I1, ...) as
LLVM helpers computed in double.

Codegen layer, beside codegen/llvm_math.py: codegen/llvm.py hands `SPECIAL_FUNCTIONS` and
`special_helper_definition` to its `MathLibrary`, which renders the helpers a kernel calls
(`{math:NAME}` in codegen/llvm_ops.py) like its own. Each helper is one straight-line
body in double; the float32 helper widens its operands, runs the same body and rounds
once, so float32 results are correctly rounded up to the body's error (~1e-15, far
below float32's 6e-8). Bodies may call the C library's double functions (`acosh`,
`lgamma`, `pow`, ...), resolved in-process like llvm_math's float64 helpers: these are
accuracy-first functions, rarely in hot loops, so they trade the loop vectoriser for
exactness where libm has the function, and use series elsewhere.

Helpers and their LLVM signatures (T is float or double):

    @lazyt_<name>_f32 / _f64   T (T %x)        acosh asinh atanh lgamma digamma erfinv i0 i1
                                               _frexp_mantissa _frexp_exponent, and
                                               codegen/llvm_bessel.py's erfcx i0e i1e
                                               bessel_j0 ... airy_ai
    @lazyt_<name>_f32 / _f64   T (T %x, T %y)  igamma igammac (codegen/llvm_igamma.py)
    @lazyt_<name>_f32 / _f64   T (T %x, T %y)  hypot logaddexp logaddexp2 zeta nextafter
"""

from __future__ import annotations

import math
from functools import lru_cache

from lazyt.codegen.llvm_bessel import (
    BESSEL_EMITTERS,
    modified_bessel_asymptotic,
    modified_bessel_series,
)
from lazyt.codegen.llvm_igamma import IGAMMA_EMITTERS
from lazyt.codegen.llvm_math import (
    CALLS_LIBM,
    PI_F64,
    Value,
    _HelperBodyBuilder,
    _HelperDefinition,
    _render_definition,
    libm_call,
    type_suffix,
)

__all__ = ["SPECIAL_FUNCTIONS", "special_helper_definition"]

_LN2 = math.log(2.0)


_libm = libm_call


def _libm_unary(name: str):
    def emit(b: _HelperBodyBuilder, x: Value) -> Value:
        return _libm(b, name, x)

    emit.__name__ = f"_emit_{name}"
    return emit


def _emit_hypot(b: _HelperBodyBuilder, x: Value, y: Value) -> Value:
    return _libm(b, "hypot", x, y)


def _logaddexp_with(b: _HelperBodyBuilder, x: Value, y: Value, exp_name: str,
                    log1p_scale: float) -> Value:
    """max + log1p(base^-|x-y|) * scale; equal operands (infinities included) give
    x + log(2) in the same base, so inf + inf = inf and -inf + -inf = -inf; NaN propagates."""
    larger = b.select(b.fcmp("ogt", x, y), x, y)
    gap = b.fneg(b.call("llvm.fabs", b.fsub(x, y)))
    tail = b.fmul(_libm(b, "log1p", _libm(b, exp_name, gap)), log1p_scale)
    result = b.fadd(larger, tail)
    tie = b.fadd(x, log1p_scale * _LN2)
    return b.select(b.fcmp("oeq", x, y), tie, result)


def _emit_logaddexp(b: _HelperBodyBuilder, x: Value, y: Value) -> Value:
    return _logaddexp_with(b, x, y, "exp", 1.0)


def _emit_logaddexp2(b: _HelperBodyBuilder, x: Value, y: Value) -> Value:
    return _logaddexp_with(b, x, y, "exp2", 1.0 / _LN2)


# digamma(x) = log x - 1/(2x) - sum B_2k / (2k x^2k) for x >= 10; error below 1e-17 there.
_DIGAMMA_ASYMPTOTIC = (1.0 / 12, -1.0 / 120, 1.0 / 252, -1.0 / 240, 1.0 / 132, -691.0 / 32760,
                       1.0 / 12)
_DIGAMMA_SHIFT_STEPS = 10


def _pi_over_tan_pi(b: _HelperBodyBuilder, x: Value) -> Value:
    """pi / tan(pi x), with x reduced to x - round(x) first (exact; tan has period pi) so
    that neither large |x| nor tiny |x| loses accuracy to the product pi x."""
    fraction = b.fsub(x, b.call("llvm.roundeven", x))
    return b.fdiv(PI_F64, _libm(b, "tan", b.fmul(fraction, PI_F64)))


def _emit_digamma(b: _HelperBodyBuilder, x: Value) -> Value:
    """Reflection for x < 0 (digamma(1 - x) - pi / tan(pi x)), the recurrence
    digamma(x) = digamma(x + 1) - 1/x up to x >= 10 (fixed steps, selected), then the
    asymptotic series. PyTorch's special values: digamma(+-0) = -+inf, NaN at negative
    integers and at -inf."""
    reflect = b.fcmp("olt", x, 0.0)
    shifted = b.select(reflect, b.fsub(1.0, x), x)
    correction = b.const(0.0, "double")
    for _ in range(_DIGAMMA_SHIFT_STEPS):
        small = b.fcmp("olt", shifted, 10.0)
        correction = b.select(small, b.fsub(correction, b.fdiv(1.0, shifted)), correction)
        shifted = b.select(small, b.fadd(shifted, 1.0), shifted)
    inv_square = b.fdiv(1.0, b.fmul(shifted, shifted))
    series = b.fmul(inv_square, b.poly(inv_square, _DIGAMMA_ASYMPTOTIC))
    result = b.fsub(b.fsub(_libm(b, "log", shifted), b.fdiv(0.5, shifted)), series)
    result = b.fadd(result, correction)
    result = b.select(reflect, b.fsub(result, _pi_over_tan_pi(b, x)), result)
    integer = b.fcmp("oeq", x, b.call("llvm.floor", x))
    result = b.select(b.op("and", reflect, integer), math.nan, result)
    zero = b.fcmp("oeq", x, 0.0)
    return b.select(zero, b.fneg(b.call("llvm.copysign", math.inf, x)), result)


# Hurwitz zeta: Euler-Maclaurin after shifting q past 9, as Cephes' zeta (which PyTorch
# uses). _ZETA_BERNOULLI[i] = (2i+2)! / B_(2i+2).
_ZETA_BERNOULLI = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9,
                   7.47242496e10, -2.950130727918164224e12, 1.1646782814350067249e14,
                   -4.5979787224074726105e15, 1.8152105401943546773e17,
                   -7.1661652561756670113e18)
_ZETA_SHIFT_STEPS = 40  # q >= 9 - 40 = -31 is summed exactly; below, the tail is approximate


def _emit_zeta(b: _HelperBodyBuilder, s: Value, q: Value) -> Value:
    """zeta(s, q) = sum_k (q + k)^-s. Terms are summed while k < 9 or q + k <= 9 (a fixed
    number of selected steps), the rest by Euler-Maclaurin. s = 1 gives inf, s < 1 NaN;
    q a non-positive integer gives inf, q < 0 with a non-integer s NaN."""
    total = _libm(b, "pow", q, b.fneg(s))
    a = q
    term = total
    for step in range(1, _ZETA_SHIFT_STEPS + 1):
        active = b.fcmp("ole", a, 9.0)
        if step <= 9:
            active = b.const(1, "i1")
        a_next = b.fadd(a, 1.0)
        term_next = _libm(b, "pow", a_next, b.fneg(s))
        total = b.select(active, b.fadd(total, term_next), total)
        term = b.select(active, term_next, term)
        a = b.select(active, a_next, a)
    w = a
    total = b.fadd(total, b.fdiv(b.fmul(term, w), b.fsub(s, 1.0)))
    total = b.fsub(total, b.fmul(term, 0.5))
    factor = b.const(1.0, "double")
    k = b.const(0.0, "double")
    for coefficient in _ZETA_BERNOULLI:
        factor = b.fmul(factor, b.fadd(s, k))
        term = b.fdiv(term, w)
        total = b.fadd(total, b.fdiv(b.fmul(factor, term), coefficient))
        k = b.fadd(k, 1.0)
        factor = b.fmul(factor, b.fadd(s, k))
        term = b.fdiv(term, w)
        k = b.fadd(k, 1.0)
    q_integer = b.fcmp("oeq", q, b.call("llvm.floor", q))
    s_integer = b.fcmp("oeq", s, b.call("llvm.floor", s))
    q_nonpositive = b.fcmp("ole", q, 0.0)
    total = b.select(b.op("and", q_nonpositive, b.op("xor", s_integer, b.const(1, "i1"))),
                     math.nan, total)
    total = b.select(b.op("and", q_nonpositive, q_integer), math.inf, total)
    total = b.select(b.fcmp("olt", s, 1.0), math.nan, total)
    return b.select(b.fcmp("oeq", s, 1.0), math.inf, total)


# Giles, "Approximating the erfinv function" (GPU Computing Gems, 2011), single precision
# branch polynomials in w = -log(1 - x^2): a start good to ~4e-7, refined by Newton.
_ERFINV_CENTRAL = (1.50140941, 0.246640727, -0.00417768164, -0.00125372503, 0.00021858087,
                   -4.39150654e-06, -3.5233877e-06, 3.43273939e-07, 2.81022636e-08)
_ERFINV_TAIL = (2.83297682, 1.00167406, 0.00943887047, -0.0076224613, 0.00573950773,
                -0.00367342844, 0.00134934322, 0.000100950558, -0.000200214257)
_HALF_SQRT_PI = math.sqrt(math.pi) / 2


def _emit_erfinv(b: _HelperBodyBuilder, x: Value) -> Value:
    """Giles' start, then two Newton steps on erf(y) = x (erf and exp from libm): double
    accuracy. erfinv(+-1) = +-inf, |x| > 1 gives NaN, erfinv(-0) = -0."""
    w = b.fneg(_libm(b, "log", b.fmul(b.fsub(1.0, x), b.fadd(1.0, x))))
    central = b.poly(b.fsub(w, 2.5), _ERFINV_CENTRAL)
    tail = b.poly(b.fsub(b.call("llvm.sqrt", w), 3.0), _ERFINV_TAIL)
    y = b.fmul(b.select(b.fcmp("olt", w, 5.0), central, tail), x)
    for _ in range(2):
        error = b.fsub(_libm(b, "erf", y), x)
        slope_inverse = b.fmul(_libm(b, "exp", b.fmul(y, y)), _HALF_SQRT_PI)
        y = b.fsub(y, b.fmul(error, slope_inverse))
    a = b.call("llvm.fabs", x)
    y = b.select(b.fcmp("oeq", x, 0.0), x, y)
    y = b.select(b.fcmp("oeq", a, 1.0), b.call("llvm.copysign", math.inf, x), y)
    return b.select(b.fcmp("ogt", a, 1.0), math.nan, y)


# Modified Bessel functions: the power series below |x| = 20 (positive terms, no
# cancellation), the asymptotic series e^x / sqrt(2 pi x) sum (-1)^k a_k(nu) / x^k above
# (both shared with the scaled forms in codegen/llvm_bessel.py).
_BESSEL_SWITCH = 20.0


def _bessel(b: _HelperBodyBuilder, x: Value, order: int) -> Value:
    a = b.call("llvm.fabs", x)
    big = b.fcmp("ogt", a, _BESSEL_SWITCH)
    asymptotic = b.fmul(modified_bessel_asymptotic(b, a, order), _libm(b, "exp", a))
    result = b.select(big, asymptotic, modified_bessel_series(b, a, order))
    # PyTorch (Cephes' Chebyshev form) gives NaN at +-inf
    result = b.select(b.fcmp("oeq", a, math.inf), math.nan, result)
    return b.call("llvm.copysign", result, x) if order == 1 else result


def _emit_i0(b: _HelperBodyBuilder, x: Value) -> Value:
    return _bessel(b, x, 0)


def _emit_i1(b: _HelperBodyBuilder, x: Value) -> Value:
    return _bessel(b, x, 1)


_EXPONENT_MASK = 0x7FF << 52
_HALF_EXPONENT = 1022 << 52  # the exponent field of [0.5, 1)


def _frexp_parts(b: _HelperBodyBuilder, x: Value) -> tuple[Value, Value]:
    """(mantissa, exponent as a double) of frexp(x), by the bits of the double: subnormals
    are scaled by 2^54 first; 0, inf and NaN give (x, 0)."""
    subnormal = b.fcmp("olt", b.call("llvm.fabs", x), 2.2250738585072014e-308)
    scaled = b.select(subnormal, b.fmul(x, 2.0 ** 54), x)
    bits = b.bits(scaled)
    field = b.op("lshr", b.op("and", bits, _EXPONENT_MASK), 52)
    exponent = b.cast("sitofp", b.op("sub", field, 1022), "double")
    exponent = b.select(subnormal, b.fsub(exponent, 54.0), exponent)
    mantissa = b.from_bits(b.op("or", b.op("and", bits, ~_EXPONENT_MASK), _HALF_EXPONENT))
    special = b.op("or", b.fcmp("oeq", x, 0.0), b.fcmp("ueq", b.call("llvm.fabs", x), math.inf))
    return b.select(special, x, mantissa), b.select(special, 0.0, exponent)


def _emit_frexp_mantissa(b: _HelperBodyBuilder, x: Value) -> Value:
    return _frexp_parts(b, x)[0]


def _emit_frexp_exponent(b: _HelperBodyBuilder, x: Value) -> Value:
    return _frexp_parts(b, x)[1]


# name -> (arity, body emitter in double)
_EMITTERS = {
    **BESSEL_EMITTERS,
    **IGAMMA_EMITTERS,
    "_frexp_mantissa": (1, _emit_frexp_mantissa), "_frexp_exponent": (1, _emit_frexp_exponent),
    "acosh": (1, _libm_unary("acosh")), "asinh": (1, _libm_unary("asinh")),
    "atanh": (1, _libm_unary("atanh")), "lgamma": (1, _libm_unary("lgamma")),
    "digamma": (1, _emit_digamma), "erfinv": (1, _emit_erfinv),
    "i0": (1, _emit_i0), "i1": (1, _emit_i1),
    "hypot": (2, _emit_hypot), "logaddexp": (2, _emit_logaddexp),
    "logaddexp2": (2, _emit_logaddexp2), "zeta": (2, _emit_zeta),
}

SPECIAL_FUNCTIONS: dict[str, int] = {name: arity for name, (arity, _) in _EMITTERS.items()}


@lru_cache(maxsize=None)
def special_helper_definition(name: str, llvm_type: str) -> _HelperDefinition:
    """The definition of special helper `name` for element type `llvm_type` (float or
    double): the double body, with float operands widened and the result rounded once."""
    arity, emit = _EMITTERS[name]
    names = ["%x", "%y"][:arity]
    body = _HelperBodyBuilder()
    args = [Value(n, llvm_type) for n in names]
    if llvm_type == "float":
        args = [body.cast("fpext", a, "double") for a in args]
    result = emit(body, *args)
    if llvm_type == "float":
        result = body.cast("fptrunc", result, "float")
    body.ret(result)
    symbol = f"@lazyt_{name}_{type_suffix(llvm_type)}"
    return _render_definition(symbol, llvm_type, [f"{llvm_type} {n}" for n in names], body,
                              CALLS_LIBM)
