"""Inline, vectorisable LLVM IR for transcendental functions and 16-bit float casts.

Codegen layer: lazyt/codegen/llvm.py asks a `MathLibrary` for the symbols it calls
from its kernels and appends `MathLibrary.render()` to the module it builds. Calls
to libm (`expf`) or to `llvm.exp.f32` stop the loop vectoriser, so every float32
helper here is straight-line IR (integer ops, bitcasts, fcmp/select, fmuladd and
intrinsics that have vector forms); once inlined at O3 a kernel loop over them
vectorises like plain arithmetic. float64 helpers call libm: lazyt's float64 paths
are about accuracy, not speed.

Helpers and their LLVM signatures (T is `float` or `double`, S the matching suffix):

    @lazyt_<name>_f32 / _f64   T (T %x)          exp exp2 log log2 log10 log1p expm1
                                                 sin cos tan tanh sigmoid erf erfc
                                                 atan asin acos sinh cosh
    @lazyt_<name>_f32 / _f64   T (T %x, T %y)    pow atan2
    @lazyt_f32_to_bf16         i16 (float %x)    round to nearest even, NaN stays a quiet NaN
    @lazyt_bf16_to_f32         float (i16 %x)    exact
    @lazyt_f32_to_f16          i16 (float %x)    IEEE binary16, nearest even, subnormals, NaN kept
    @lazyt_f16_to_f32          float (i16 %x)    exact

float32 accuracy: relative error below 2e-6 against float64 over the whole float32
range (measured worst cases, all below 4e-7, are checked by
tests/codegen/test_llvm_math.py), and C99 special values (signed zeros, infinities,
NaN in gives NaN out). exp, exp2, log, log2, log10, tanh, sigmoid, erf and erfc
compute in float, the hot ones at memory speed. The others compute in double (a
float32 input is exact in double and so is its square), where polynomials good to
~1e-12 need no extra-precision tricks; sin/cos/tan reduce their argument exactly
(Payne-Hanek with 64-bit integer multiplies), so they are accurate for every finite
float32. Polynomial coefficients are minimax fits (Lawson's iteratively reweighted
least squares on dense grids against mpmath) made at development time; each comment
names the interval and the fitted error. The code uses `llvm.fmuladd`, never relying
on a fused multiply-add for exactness, so it is accurate with or without FMA hardware.

Every intrinsic declaration in a module must go through `MathLibrary.intrinsic`, and
the libm names the float64 helpers declare (`@exp`, `@pow`, ...) must not be declared
elsewhere in it, so that each symbol is declared exactly once.
"""

from __future__ import annotations

import math
import re
import struct
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["CONVERSION_FUNCTIONS", "SUPPORTED_FUNCTIONS", "MathLibrary",
           "exact_float_literal", "type_suffix"]

# name -> arity of the math helpers, for the codegen's op table.
SUPPORTED_FUNCTIONS: dict[str, int] = {
    "exp": 1, "exp2": 1, "log": 1, "log2": 1, "log10": 1, "log1p": 1, "expm1": 1,
    "sin": 1, "cos": 1, "tan": 1, "tanh": 1, "sigmoid": 1, "erf": 1, "erfc": 1,
    "pow": 2, "atan": 1, "asin": 1, "acos": 1, "sinh": 1, "cosh": 1, "atan2": 2,
}

# name -> (argument type, result type) of the 16-bit float conversion helpers.
CONVERSION_FUNCTIONS: dict[str, tuple[str, str]] = {
    "f32_to_bf16": ("float", "i16"),
    "bf16_to_f32": ("i16", "float"),
    "f32_to_f16": ("float", "i16"),
    "f16_to_f32": ("i16", "float"),
}

_TYPE_SUFFIX = {"float": "f32", "double": "f64", "half": "f16", "bfloat": "bf16"}
_PURE = "alwaysinline nounwind willreturn memory(none)"
CALLS_LIBM = "alwaysinline nounwind"  # libm may write errno


def type_suffix(llvm_type: str) -> str:
    """The overload suffix LLVM gives an intrinsic for a scalar type: float -> f32, i32 -> i32."""
    if llvm_type in _TYPE_SUFFIX:
        return _TYPE_SUFFIX[llvm_type]
    if re.fullmatch(r"i[1-9][0-9]*", llvm_type):
        return llvm_type
    raise ValueError(f"no intrinsic suffix for LLVM type {llvm_type!r} (scalar types only)")


def exact_float_literal(value: float, llvm_type: str) -> str:
    """An LLVM literal for `value`: the hex of its double bits, which LLVM accepts for both
    float and double; for float the value must be exactly representable in float32 (a
    helper's constant that is not is a bug, not something to round; kernels' user
    constants are rounded by llvm_types.rounded_float_literal). NaN is the quiet NaN."""
    if llvm_type == "float" and not math.isnan(value) and not math.isinf(value):
        as_f32 = struct.unpack("<f", struct.pack("<f", value))[0]
        assert as_f32 == value, f"{value!r} is not exactly representable as float32"
    if math.isnan(value):
        return "0x7FF8000000000000"
    return "0x%016X" % struct.unpack("<Q", struct.pack("<d", value))[0]


# --------------------------------------------------------------------------- builder


@dataclass(frozen=True, slots=True)
class Value:
    """An SSA value or literal in the body being emitted, with its LLVM type."""

    ref: str
    ty: str


Operand = Value | float | int


class _HelperBodyBuilder:
    """Emits the straight-line body of one helper; every method returns the new Value.

    Python numbers given as operands become literals of the other operand's type;
    the intrinsics the body calls are collected in `declarations`.
    """

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.declarations: dict[str, str] = {}
        self._count = 0

    def instruction(self, ty: str, text: str) -> Value:
        """Append `%tN = <text>` and return %tN as a Value of type `ty`."""
        name = f"%t{self._count}"
        self._count += 1
        self.lines.append(f"  {name} = {text}")
        return Value(name, ty)

    def const(self, number: float | int, ty: str) -> Value:
        """A literal of type `ty`."""
        if ty in ("float", "double"):
            return Value(exact_float_literal(float(number), ty), ty)
        if ty == "i1":
            return Value("true" if number else "false", ty)
        return Value(str(int(number)), ty)

    def _coerce(self, operand: Operand, ty: str) -> Value:
        return operand if isinstance(operand, Value) else self.const(operand, ty)

    def _pair(self, a: Operand, b: Operand) -> tuple[Value, Value]:
        ty = a.ty if isinstance(a, Value) else b.ty
        return self._coerce(a, ty), self._coerce(b, ty)

    def op(self, opcode: str, a: Operand, b: Operand) -> Value:
        """A binary instruction (fadd, fsub, fmul, fdiv, add, sub, mul, and, or, xor, shl, ...)."""
        a, b = self._pair(a, b)
        return self.instruction(a.ty, f"{opcode} {a.ty} {a.ref}, {b.ref}")

    def fadd(self, a: Operand, b: Operand) -> Value:
        return self.op("fadd", a, b)

    def fsub(self, a: Operand, b: Operand) -> Value:
        return self.op("fsub", a, b)

    def fmul(self, a: Operand, b: Operand) -> Value:
        return self.op("fmul", a, b)

    def fdiv(self, a: Operand, b: Operand) -> Value:
        return self.op("fdiv", a, b)

    def fneg(self, a: Value) -> Value:
        return self.instruction(a.ty, f"fneg {a.ty} {a.ref}")

    def fcmp(self, predicate: str, a: Operand, b: Operand) -> Value:
        a, b = self._pair(a, b)
        return self.instruction("i1", f"fcmp {predicate} {a.ty} {a.ref}, {b.ref}")

    def icmp(self, predicate: str, a: Operand, b: Operand) -> Value:
        a, b = self._pair(a, b)
        return self.instruction("i1", f"icmp {predicate} {a.ty} {a.ref}, {b.ref}")

    def select(self, condition: Value, a: Operand, b: Operand) -> Value:
        a, b = self._pair(a, b)
        return self.instruction(a.ty, f"select i1 {condition.ref}, {a.ty} {a.ref}, {b.ty} {b.ref}")

    def cast(self, opcode: str, a: Value, ty: str) -> Value:
        """bitcast, zext, sext, trunc, fpext, fptrunc, sitofp or uitofp to `ty`."""
        return self.instruction(ty, f"{opcode} {a.ty} {a.ref} to {ty}")

    def call(self, intrinsic: str, *args: Operand) -> Value:
        """Call the overloaded intrinsic `intrinsic` ("llvm.fabs", "llvm.fshl", ...) at the type
        of its Value arguments; the result has that type too."""
        ty = next(a.ty for a in args if isinstance(a, Value))
        values = [self._coerce(a, ty) for a in args]
        symbol = f"@{intrinsic}.{type_suffix(ty)}"
        self.declarations[symbol] = f"declare {ty} {symbol}({', '.join([ty] * len(values))})"
        arg_text = ", ".join(f"{ty} {v.ref}" for v in values)
        return self.instruction(ty, f"call {ty} {symbol}({arg_text})")

    def fma(self, a: Operand, b: Operand, c: Operand) -> Value:
        """a * b + c, fused where the target has FMA."""
        return self.call("llvm.fmuladd", a, b, c)

    def poly(self, x: Value, coefficients: tuple[float, ...]) -> Value:
        """c0 + c1 x + c2 x^2 + ... by Horner's rule."""
        acc = self.const(coefficients[-1], x.ty)
        for c in reversed(coefficients[:-1]):
            acc = self.fma(acc, x, c)
        return acc

    def bits(self, a: Value) -> Value:
        """The integer bit pattern of a float or double."""
        return self.cast("bitcast", a, "i32" if a.ty == "float" else "i64")

    def from_bits(self, a: Value) -> Value:
        return self.cast("bitcast", a, "float" if a.ty == "i32" else "double")

    def ret(self, a: Value) -> None:
        self.lines.append(f"  ret {a.ty} {a.ref}")


# ------------------------------------------------------------- float32 (in float) cores

F32_MIN_NORMAL = 1.1754943508222875e-38  # 2^-126
F32_MAGIC = 12582912.0  # 1.5 * 2^23: adding it rounds a float to an integer, nearest even
LN2_HI_F32 = 0.693145751953125  # ln 2 split (Cody-Waite): 15 bits, so n * hi is exact for |n| < 512
LN2_LO_F32 = 1.428606765330187e-06
LOG2E_F32 = 1.4426950216293335
LOG2E_LO_F32 = 1.925963033500011e-08
LOG10_2_HI_F32 = 0.301025390625  # log10(2) split, 12 bits
LOG10_2_LO_F32 = 4.605039066518657e-06
LOG10E_F32 = 0.4342944920063019
LOG10E_LO_F32 = -1.0103049952192578e-08
# e^r = 1 + r + r^2 P(r) on |r| <= ln2/2; relative error 3.8e-9 after rounding to float32.
EXP_F32 = (0.4999999403953552, 0.1666652113199234, 0.04166838899254799, 0.008368714712560177,
           0.0013814597623422742)
# 2^r = 1 + r Q(r) on |r| <= 1/2; relative error 2.3e-9.
EXP2_F32 = (0.6931471824645996, 0.24022650718688965, 0.055504102259874344, 0.009618038311600685,
            0.0013333935057744384, 0.00015466756303794682, 1.5196156709862407e-05)
# log1p(f) = f + f^2 P(f) on sqrt(1/2)-1 <= f <= sqrt(2)-1; relative error 5.5e-9.
LOG1P_F32 = (-0.49999988079071045, 0.33333325386047363, -0.25001582503318787, 0.20001976191997528,
             -0.16609077155590057, 0.1418178379535675, -0.1324298083782196, 0.12904664874076843,
             -0.07622069865465164)
# tanh(x) = x + x^3 P(x^2) on |x| <= 0.5625; relative error 2.4e-9.
TANH_F32 = (-0.3333331346511841, 0.1333245187997818, -0.053837429732084274, 0.021007461473345757,
            -0.006179812829941511)
TWO_OVER_SQRT_PI_HI_F32 = 1.128379225730896
TWO_OVER_SQRT_PI_LO_F32 = -5.8635382771399236e-08
# erf(x) = x (2/sqrt(pi) + z Q(z)), z = x^2, |x| <= 0.9; relative error 5e-10.
ERF_F32 = (-0.37612634897232056, 0.11283703148365021, -0.026859579607844353, 0.005201146937906742,
           -0.0008141589933075011, 8.358361083082855e-05)
# erfc(x) = t exp(G(t - c) - x^2), t = 2 / (2 + x), c = float32(0.58), 0 <= x <= 10.1 (the shape
# of Numerical Recipes' erfcc, refitted); absolute error of G 2.5e-8.
ERFC_CENTER_F32 = 0.5799999833106995
ERFC_F32 = (-0.56315678358078, 1.3681190013885498, 0.09475738555192947, -0.4069170653820038,
            -0.039395034313201904, 0.2965470850467682, -0.05008121579885483, -0.25159117579460144,
            0.15670613944530487, 0.1571926325559616, -0.18286289274692535)


@lru_cache(maxsize=None)
def host_scales_in_one_instruction() -> bool:
    """Does the host have AVX-512 (VSCALEFPS: x * 2^n with one rounding, subnormals and
    overflow included)? Then llvm.ldexp becomes that one instruction, vectorised; without
    it LLVM would call libm's ldexpf per element."""
    import llvmlite.binding as llvm  # (codegen's only look at the host)

    return bool(llvm.get_host_cpu_features().get("avx512f", False))


def _scale_by_power_of_two_f32(b: _HelperBodyBuilder, value: Value, n: Value) -> Value:
    """value * 2^n for n in [-152, 129] with one rounding (correct gradual underflow and
    overflow): llvm.ldexp (one VSCALEFPS) on AVX-512 hosts, else in two steps so that
    each factor is a normal float. Both give the correctly rounded product: the same bits."""
    if host_scales_in_one_instruction():
        b.declarations["@llvm.ldexp.f32.i32"] = "declare float @llvm.ldexp.f32.i32(float, i32)"
        return b.instruction("float", f"call float @llvm.ldexp.f32.i32(float {value.ref}, "
                                      f"i32 {n.ref})")
    half = b.op("ashr", n, 1)
    rest = b.op("sub", n, half)
    scale_half = b.from_bits(b.op("shl", b.op("add", half, 127), 23))
    scale_rest = b.from_bits(b.op("shl", b.op("add", rest, 127), 23))
    return b.fmul(b.fmul(value, scale_half), scale_rest)


def _exp_f32(b: _HelperBodyBuilder, x: Value, tail: Value | None = None) -> Value:
    """e^(x + tail) in float: n = round(x / ln2) with the magic-number trick, r = x - n ln2
    (Cody-Waite, exact for |x| < 128 whatever x's last bits) + tail, polynomial for e^r, then
    scale by 2^n. The optional small `tail` carries bits x cannot hold. NaN propagates."""
    clamped = b.select(b.fcmp("ogt", x, 89.0), 89.0, x)  # e^89 overflows float, e^-104 rounds to 0
    clamped = b.select(b.fcmp("olt", clamped, -104.0), -104.0, clamped)
    total = clamped if tail is None else b.fadd(clamped, tail)
    shifted = b.fma(total, LOG2E_F32, F32_MAGIC)
    n_float = b.fsub(shifted, F32_MAGIC)
    r = b.fma(n_float, -LN2_HI_F32, clamped)
    r = b.fma(n_float, -LN2_LO_F32, r)
    if tail is not None:
        r = b.fadd(r, tail)
    e_r = b.fadd(b.fma(b.fmul(r, r), b.poly(r, EXP_F32), r), 1.0)
    n = b.op("sub", b.bits(shifted), 0x4B400000)  # bits of the magic number
    return _scale_by_power_of_two_f32(b, e_r, n)


def _exp2_f32(b: _HelperBodyBuilder, x: Value) -> Value:
    """2^x in float: n = round(x), r = x - n exactly, polynomial for 2^r, scale by 2^n."""
    clamped = b.select(b.fcmp("ogt", x, 129.0), 129.0, x)
    clamped = b.select(b.fcmp("olt", clamped, -152.0), -152.0, clamped)
    shifted = b.fadd(clamped, F32_MAGIC)
    r = b.fsub(clamped, b.fsub(shifted, F32_MAGIC))
    two_r = b.fma(r, b.poly(r, EXP2_F32), 1.0)
    n = b.op("sub", b.bits(shifted), 0x4B400000)
    return _scale_by_power_of_two_f32(b, two_r, n)


def _log_parts_f32(b: _HelperBodyBuilder, x: Value) -> tuple[Value, Value]:
    """Split positive finite x = 2^k (1 + f) with sqrt(1/2) <= 1 + f < sqrt(2); return
    (k as float, log1p(f)). f = m - 1 is exact, so log1p(f) keeps full relative accuracy."""
    subnormal = b.fcmp("olt", x, F32_MIN_NORMAL)
    scaled = b.select(subnormal, b.fmul(x, 8388608.0), x)  # 2^23 makes the exponent field exact
    offset = b.op("sub", b.bits(scaled), 0x3F3504F3)  # bits of sqrt(1/2)
    k = b.op("add", b.op("ashr", offset, 23), b.select(subnormal, b.const(-23, "i32"), 0))
    m = b.from_bits(b.op("add", b.op("and", offset, 0x7FFFFF), 0x3F3504F3))
    f = b.fsub(m, 1.0)
    log1p_f = b.fma(b.fmul(f, f), b.poly(f, LOG1P_F32), f)
    return b.cast("sitofp", k, "float"), log1p_f


def _log_special_cases(b: _HelperBodyBuilder, x: Value, result: Value) -> Value:
    """log of +inf is +inf, of +-0 is -inf, of negatives and NaN is NaN."""
    result = b.select(b.fcmp("oeq", x, math.inf), math.inf, result)
    result = b.select(b.fcmp("oeq", x, 0.0), -math.inf, result)
    return b.select(b.fcmp("ult", x, 0.0), math.nan, result)


def _emit_log_f32(b: _HelperBodyBuilder, x: Value) -> Value:
    """k ln2 + log1p(f), ln2 split so that k ln2 adds no rounding error of its own."""
    k, log1p_f = _log_parts_f32(b, x)
    result = b.fma(k, LN2_HI_F32, b.fma(k, LN2_LO_F32, log1p_f))
    return _log_special_cases(b, x, result)


def _emit_log2_f32(b: _HelperBodyBuilder, x: Value) -> Value:
    """k + log1p(f) log2(e), log2(e) as a float pair; exact for powers of two."""
    k, log1p_f = _log_parts_f32(b, x)
    log2_f = b.fma(log1p_f, LOG2E_F32, b.fmul(log1p_f, LOG2E_LO_F32))
    return _log_special_cases(b, x, b.fadd(k, log2_f))


def _emit_log10_f32(b: _HelperBodyBuilder, x: Value) -> Value:
    """k log10(2) + log1p(f) log10(e), both constants as float pairs."""
    k, log1p_f = _log_parts_f32(b, x)
    log10_f = b.fma(log1p_f, LOG10E_F32, b.fmul(log1p_f, LOG10E_LO_F32))
    result = b.fma(k, LOG10_2_HI_F32, b.fma(k, LOG10_2_LO_F32, log10_f))
    return _log_special_cases(b, x, result)


def _exact_square_f32(b: _HelperBodyBuilder, a: Value) -> tuple[Value, Value]:
    """(hi, lo) with a * a = hi + lo exactly (Dekker's product: 12-bit halves multiply exactly,
    without relying on FMA hardware)."""
    hi = b.fmul(a, a)
    a_high = b.from_bits(b.op("and", b.bits(a), 0xFFFFF000))
    a_low = b.fsub(a, a_high)
    lo = b.fsub(b.fmul(a_high, a_high), hi)
    lo = b.fadd(lo, b.fmul(b.fadd(a_high, a_high), a_low))
    return hi, b.fadd(lo, b.fmul(a_low, a_low))


def _erfc_nonnegative_f32(b: _HelperBodyBuilder, a: Value) -> Value:
    """erfc(a) for a >= 0 as t e^(G(t) - a^2), t = 2 / (2 + a): a^2 enters the exponential
    as an exact hi + lo pair, since a plain float a^2 near 100 would be off by 4e-6."""
    a = b.select(b.fcmp("ogt", a, 10.5), 10.5, a)  # erfc underflows to 0 from 10.06 on
    t = b.fdiv(2.0, b.fadd(a, 2.0))
    g = b.poly(b.fsub(t, ERFC_CENTER_F32), ERFC_F32)
    square_hi, square_lo = _exact_square_f32(b, a)
    return b.fmul(t, _exp_f32(b, b.fneg(square_hi), b.fsub(g, square_lo)))


def _emit_erf_f32(b: _HelperBodyBuilder, x: Value) -> Value:
    """x (2/sqrt(pi) + x^2 Q(x^2)) near 0, with 2/sqrt(pi) as a float pair; 1 - erfc(|x|) beyond."""
    a = b.call("llvm.fabs", x)
    z = b.fmul(x, x)
    tail = b.fma(z, b.poly(z, ERF_F32), TWO_OVER_SQRT_PI_LO_F32)
    small = b.fma(x, TWO_OVER_SQRT_PI_HI_F32, b.fmul(x, tail))
    large = b.fsub(1.0, _erfc_nonnegative_f32(b, a))
    result = b.select(b.fcmp("olt", a, 0.875), small, large)
    return b.call("llvm.copysign", result, x)  # erf is odd; also gives erf(-0) = -0


def _emit_erfc_f32(b: _HelperBodyBuilder, x: Value) -> Value:
    """erfc(-a) = 2 - erfc(a), which is in [1, 2] and so loses nothing."""
    positive = _erfc_nonnegative_f32(b, b.call("llvm.fabs", x))
    return b.select(b.fcmp("olt", x, 0.0), b.fsub(2.0, positive), positive)


def _emit_tanh_f32(b: _HelperBodyBuilder, x: Value) -> Value:
    """Odd polynomial near 0, else 1 - 2 / (e^(2|x|) + 1), which has no cancellation once
    tanh >= 1/2 and saturates to exactly 1 through e^(2|x|) = inf."""
    a = b.call("llvm.fabs", x)
    z = b.fmul(a, a)
    small = b.fma(b.fmul(a, z), b.poly(z, TANH_F32), a)
    large = b.fsub(1.0, b.fdiv(2.0, b.fadd(_exp_f32(b, b.fadd(a, a)), 1.0)))
    result = b.select(b.fcmp("olt", a, 0.5625), small, large)
    return b.call("llvm.copysign", result, x)


def _emit_sigmoid_f32(b: _HelperBodyBuilder, x: Value) -> Value:
    """With e = e^-|x|: 1 / (1 + e) for x >= 0 and e / (1 + e) below, so that no exp
    overflows and tiny results for very negative x underflow gradually, not to 0."""
    e = _exp_f32(b, b.fneg(b.call("llvm.fabs", x)))
    numerator = b.select(b.fcmp("oge", x, 0.0), 1.0, e)
    return b.fdiv(numerator, b.fadd(e, 1.0))


# --------------------------------------------------- float32 helpers computed in double


F64_MAGIC = 6755399441055744.0  # 1.5 * 2^52: adding it rounds a double to an integer
F64_MAGIC_BITS = 0x4338000000000000
LN2_HI_F64 = 0.6931471803691238  # fdlibm's split of ln 2: hi has 32 trailing zero bits
LN2_LO_F64 = 1.9082149292705877e-10
LN2_F64 = 0.6931471805599453
LOG2E_F64 = 1.4426950408889634
PI_F64 = 3.141592653589793
HALF_PI_F64 = 1.5707963267948966
QUARTER_PI_F64 = 0.7853981633974483
# e^r = 1 + r + r^2 P(r) on |r| <= ln2/2; relative error 3e-16.
EXP_F64 = (0.49999999999998324, 0.16666666666611535, 0.041666666668144337, 0.00833333337088283,
           0.0013888888513857132, 0.0001984118521640185, 2.4801934445456203e-05,
           2.763500022333462e-06, 2.747574335327282e-07)
# 2^r = 1 + r Q(r) on |r| <= 1/2; relative error 5e-16.
EXP2_F64 = (0.6931471805599488, 0.24022650695906203, 0.055504108664508556, 0.009618129109022544,
            0.0013333558221206888, 0.00015403528817521314, 1.52526620068507e-05,
            1.3216188312799304e-06, 1.0207854910003825e-07, 6.953425575779992e-09)
# log1p(f) = s (2 + z R(z)), s = f / (2 + f), z = s^2, |s| <= 0.1716; relative error 2e-16.
LOG_F64 = (0.6666666666658742, 0.4000000005218609, 0.2857141714211757, 0.22223370939246875,
           0.18123662530775736, 0.16819627942490886)
# expm1(x) = x + x^2 P(x) on |x| <= 1/2; relative error 2.2e-12.
EXPM1_F64 = (0.49999999996611233, 0.16666666670448427, 0.04166666858830201, 0.008333332547655272,
             0.001388860465812821, 0.00019841662192372853, 2.4955437689561794e-05,
             2.7563201491589452e-06)
# sin(r) = r + r z S(z), cos(r) = 1 + z C(z), z = r^2, |r| <= pi/4; errors 5e-15, 7e-14.
SIN_F64 = (-0.16666666666630345, 0.008333333325076887, -0.00019841263728198394,
           2.7555339571602895e-06, -2.4760448852920516e-08)
COS_F64 = (-0.49999999999489475, 0.04166666655344008, -0.0013888880660031418,
           2.479896084784869e-05, -2.717479717787366e-07)
# sinh(a) = a + a z S(z), z = a^2, |a| <= 1; relative error 8e-14.
SINH_F64 = (0.16666666667047303, 0.008333333278472004, 0.0001984129539912517,
            2.75521412530658e-06, 2.5526644268844545e-08)
# atan(z) = z + z w A(w), w = z^2, |z| <= tan(pi/8); relative error 2.8e-14.
ATAN_F64 = (-0.33333333331663517, 0.199999996806131, -0.14285693343923428, 0.11110443969429909,
            -0.09079060910609474, 0.07568002600688135, -0.05889107092863563, 0.030866009975876258)
# asin(z) = z + z w B(w), w = z^2, |z| <= 1/2; relative error 6e-14.
ASIN_F64 = (0.1666666666963696, 0.07499999533189361, 0.04464310911580388, 0.03037530489943856,
            0.022470455072973437, 0.01648364070492241, 0.018606706156241205,
            -0.0028071883316142542, 0.03191352921913585)



def _exp_f64(b: _HelperBodyBuilder, t: Value) -> Value:
    """e^t in double for |t| <= 200 (clamped beyond: enough for results that end as float32)."""
    clamped = b.select(b.fcmp("ogt", t, 200.0), 200.0, t)
    clamped = b.select(b.fcmp("olt", clamped, -200.0), -200.0, clamped)
    shifted = b.fma(clamped, LOG2E_F64, F64_MAGIC)
    n_float = b.fsub(shifted, F64_MAGIC)
    r = b.fma(n_float, -LN2_HI_F64, clamped)
    r = b.fma(n_float, -LN2_LO_F64, r)
    e_r = b.fadd(b.fma(b.fmul(r, r), b.poly(r, EXP_F64), r), 1.0)
    return b.fmul(e_r, _power_of_two_f64(b, b.op("sub", b.bits(shifted), F64_MAGIC_BITS)))


def _exp2_f64(b: _HelperBodyBuilder, t: Value) -> Value:
    """2^t in double for |t| <= 200 (clamped beyond)."""
    clamped = b.select(b.fcmp("ogt", t, 200.0), 200.0, t)
    clamped = b.select(b.fcmp("olt", clamped, -200.0), -200.0, clamped)
    shifted = b.fadd(clamped, F64_MAGIC)
    r = b.fsub(clamped, b.fsub(shifted, F64_MAGIC))
    two_r = b.fma(r, b.poly(r, EXP2_F64), 1.0)
    return b.fmul(two_r, _power_of_two_f64(b, b.op("sub", b.bits(shifted), F64_MAGIC_BITS)))


def _power_of_two_f64(b: _HelperBodyBuilder, n: Value) -> Value:
    """2^n as a double for an i64 n in the normal range."""
    return b.from_bits(b.op("shl", b.op("add", n, 1023), 52))


def _log_parts_f64(b: _HelperBodyBuilder, u: Value) -> tuple[Value, Value]:
    """Split positive normal double u = 2^k (1 + f), sqrt(1/2) <= 1 + f < sqrt(2); return
    (k as double, log1p(f)) using the atanh series in s = f / (2 + f)."""
    offset = b.op("sub", b.bits(u), 0x3FE6A09E667F3BCD)  # bits of sqrt(1/2)
    k = b.cast("sitofp", b.op("ashr", offset, 52), "double")
    m = b.from_bits(b.op("add", b.op("and", offset, 0xFFFFFFFFFFFFF), 0x3FE6A09E667F3BCD))
    f = b.fsub(m, 1.0)
    s = b.fdiv(f, b.fadd(f, 2.0))
    z = b.fmul(s, s)
    return k, b.fma(b.fmul(s, z), b.poly(z, LOG_F64), b.fadd(s, s))


def _to_f64(b: _HelperBodyBuilder, x: Value) -> Value:
    return b.cast("fpext", x, "double")


def _to_f32(b: _HelperBodyBuilder, x: Value) -> Value:
    return b.cast("fptrunc", x, "float")


def _emit_log1p_f32(b: _HelperBodyBuilder, x: Value) -> Value:
    """log(u) + (x - (u - 1)) / u with u = 1 + x rounded: the correction restores the part
    of x lost in the rounding (all of it for tiny x)."""
    xd = _to_f64(b, x)
    u = b.fadd(xd, 1.0)
    correction = b.fsub(xd, b.fsub(u, 1.0))
    k, log1p_f = _log_parts_f64(b, u)
    result = b.fadd(b.fma(k, LN2_F64, log1p_f), b.fdiv(correction, u))
    result = b.call("llvm.copysign", _to_f32(b, result), x)  # log1p(-0) = -0
    result = b.select(b.fcmp("oeq", x, math.inf), math.inf, result)
    result = b.select(b.fcmp("oeq", x, -1.0), -math.inf, result)
    return b.select(b.fcmp("ult", x, -1.0), math.nan, result)


def _emit_expm1_f32(b: _HelperBodyBuilder, x: Value) -> Value:
    """A polynomial for |x| < 1/2, where e^x - 1 would cancel; e^x - 1 in double beyond."""
    xd = _to_f64(b, x)
    small = b.fma(b.fmul(xd, xd), b.poly(xd, EXPM1_F64), xd)
    large = b.fsub(_exp_f64(b, xd), 1.0)
    result = b.select(b.fcmp("olt", b.call("llvm.fabs", xd), 0.5), small, large)
    return b.call("llvm.copysign", _to_f32(b, result), x)  # expm1 keeps the sign, -0 included


def _emit_sinh_f32(b: _HelperBodyBuilder, x: Value) -> Value:
    """An odd polynomial for |x| < 1, where (e - 1/e) / 2 would cancel; that formula beyond."""
    a = b.call("llvm.fabs", _to_f64(b, x))
    z = b.fmul(a, a)
    small = b.fma(b.fmul(a, z), b.poly(z, SINH_F64), a)
    e = _exp_f64(b, a)
    large = b.fmul(b.fsub(e, b.fdiv(1.0, e)), 0.5)
    result = b.select(b.fcmp("olt", a, 1.0), small, large)
    return b.call("llvm.copysign", _to_f32(b, result), x)


def _emit_cosh_f32(b: _HelperBodyBuilder, x: Value) -> Value:
    """(e + 1/e) / 2 in double, e = e^|x|: no cancellation; overflow happens in the final
    rounding to float."""
    e = _exp_f64(b, b.call("llvm.fabs", _to_f64(b, x)))
    return _to_f32(b, b.fmul(b.fadd(e, b.fdiv(1.0, e)), 0.5))


def _atan_nonnegative_f64(b: _HelperBodyBuilder, a: Value) -> Value:
    """atan(a) for a >= 0 (inf included): with one division map a to |z| <= tan(pi/8)
    via atan(a) = pi/4 + atan((a-1)/(a+1)) or pi/2 + atan(-1/a), then a polynomial."""
    above_mid = b.fcmp("ogt", a, 0.41421356237309503)  # tan(pi/8)
    above_big = b.fcmp("ogt", a, 2.414213562373095)  # tan(3pi/8)
    numerator = b.select(above_big, -1.0, b.select(above_mid, b.fsub(a, 1.0), a))
    denominator = b.select(above_big, a, b.select(above_mid, b.fadd(a, 1.0), 1.0))
    quarter_pi = b.const(QUARTER_PI_F64, "double")
    base = b.select(above_big, HALF_PI_F64, b.select(above_mid, quarter_pi, 0.0))
    z = b.fdiv(numerator, denominator)
    w = b.fmul(z, z)
    return b.fadd(base, b.fma(b.fmul(z, w), b.poly(w, ATAN_F64), z))


def _emit_atan_f32(b: _HelperBodyBuilder, x: Value) -> Value:
    """atan is odd: evaluate at |x| and copy the sign back (atan(-0) = -0)."""
    result = _to_f32(b, _atan_nonnegative_f64(b, b.call("llvm.fabs", _to_f64(b, x))))
    return b.call("llvm.copysign", result, x)


def _emit_atan2_f32(b: _HelperBodyBuilder, y: Value, x: Value) -> Value:
    """atan(|y| / |x|) folded into the quadrant; 0/0 and inf/inf get the C99 ratios 0 and 1."""
    ay = b.call("llvm.fabs", _to_f64(b, y))
    ax = b.call("llvm.fabs", _to_f64(b, x))
    ratio = b.fdiv(ay, ax)
    both_zero = b.op("and", b.fcmp("oeq", ay, 0.0), b.fcmp("oeq", ax, 0.0))
    both_inf = b.op("and", b.fcmp("oeq", ay, math.inf), b.fcmp("oeq", ax, math.inf))
    ratio = b.select(both_zero, 0.0, b.select(both_inf, 1.0, ratio))
    angle = _atan_nonnegative_f64(b, ratio)
    angle = b.select(b.icmp("slt", b.bits(x), 0), b.fsub(PI_F64, angle), angle)  # x < 0 or x = -0
    return b.call("llvm.copysign", _to_f32(b, angle), y)


def _asin_core_f64(b: _HelperBodyBuilder, a: Value) -> tuple[Value, Value]:
    """For 0 <= a <= 1 return (a > 1/2, p) with asin(a) = p, or pi/2 - 2p when a > 1/2
    (asin(a) = pi/2 - 2 asin(sqrt((1 - a) / 2))); |a| > 1 gives sqrt(-) = NaN."""
    above_half = b.fcmp("ogt", a, 0.5)
    z = b.select(above_half, b.call("llvm.sqrt", b.fmul(b.fsub(1.0, a), 0.5)), a)
    w = b.fmul(z, z)
    return above_half, b.fma(b.fmul(z, w), b.poly(w, ASIN_F64), z)


def _emit_asin_f32(b: _HelperBodyBuilder, x: Value) -> Value:
    """asin is odd: evaluate at |x| and copy the sign back."""
    above_half, p = _asin_core_f64(b, b.call("llvm.fabs", _to_f64(b, x)))
    result = b.select(above_half, b.fsub(HALF_PI_F64, b.fadd(p, p)), p)
    return b.call("llvm.copysign", _to_f32(b, result), x)


def _emit_acos_f32(b: _HelperBodyBuilder, x: Value) -> Value:
    """pi/2 - asin(x) near 0; 2 asin(sqrt((1 - x) / 2)) near 1 and pi minus that near -1, so
    that small results near x = 1 keep their relative accuracy."""
    xd = _to_f64(b, x)
    above_half, p = _asin_core_f64(b, b.call("llvm.fabs", xd))
    near_zero = b.fsub(HALF_PI_F64, b.call("llvm.copysign", p, xd))
    twice = b.fadd(p, p)
    near_one = b.select(b.fcmp("olt", xd, 0.0), b.fsub(PI_F64, twice), twice)
    return _to_f32(b, b.select(above_half, near_one, near_zero))


def _emit_pow_f32(b: _HelperBodyBuilder, x: Value, y: Value) -> Value:
    """2^(y log2|x|) in double (log2 to ~1e-16, so the product is good for any |y|),
    then the C99 cases: sign for odd integer y, NaN for negative x with non-integer y,
    pow(x, 0) = pow(1, y) = 1, pow(-1, +-inf) = 1."""
    a = b.call("llvm.fabs", _to_f64(b, x))
    k, log1p_f = _log_parts_f64(b, a)
    log2_a = b.fma(log1p_f, LOG2E_F64, k)
    log2_a = b.select(b.fcmp("oeq", a, 0.0), -math.inf, log2_a)
    log2_a = b.select(b.fcmp("oeq", a, math.inf), math.inf, log2_a)
    magnitude = _to_f32(b, _exp2_f64(b, b.fmul(_to_f64(b, y), log2_a)))

    y_integer = b.fcmp("oeq", b.call("llvm.floor", y), y)
    half_y = b.fmul(y, 0.5)
    y_odd = b.op("and", y_integer, b.fcmp("one", b.call("llvm.floor", half_y), half_y))
    x_negative = b.icmp("slt", b.bits(x), 0)
    result = b.select(b.op("and", x_negative, y_odd), b.fneg(magnitude), magnitude)
    negative_finite = b.op("and", b.fcmp("olt", x, 0.0), b.fcmp("ogt", x, -math.inf))
    result = b.select(b.op("and", negative_finite, b.op("xor", y_integer, True)), math.nan, result)
    result = b.select(b.fcmp("uno", x, y), math.nan, result)
    one_to_inf = b.op("and", b.fcmp("oeq", a, 1.0), b.fcmp("oeq", b.call("llvm.fabs", y), math.inf))
    result = b.select(one_to_inf, 1.0, result)
    return b.select(b.op("or", b.fcmp("oeq", x, 1.0), b.fcmp("oeq", y, 0.0)), 1.0, result)


# ------------------------------------------------------------------ sin, cos, tan

# 32 zero bits followed by the binary expansion of 2/pi (0.A2F9836E4E44... in hex), as
# five big-endian 64-bit chunks; computed with mpmath at 500 bits.
TWO_OVER_PI_CHUNKS = (0x00000000A2F9836E, 0x4E441529FC2757D1, 0xF534DDC0DB629599,
                      0x3C439041FE5163AB, 0xDEBBC561B7246E3A)
HALF_PI_SCALED_F64 = 3.4061215800865545e-19  # (pi/2) * 2^-62: one unit of the 2.62 fixed point


def _i64(b: _HelperBodyBuilder, value: int) -> Value:
    """An i64 literal from an unsigned 64-bit pattern."""
    return b.const(value - (1 << 64) if value >= 1 << 63 else value, "i64")


def _reduce_quadrant(b: _HelperBodyBuilder, x: Value) -> tuple[Value, Value]:
    """Exact argument reduction of |x| for float32 x: return (r, n) with |x| = n pi/2 + r,
    |r| <= pi/4, r in double and n an i64 of which only n mod 4 matters.

    Payne-Hanek in integers: |x| = m 2^(e-150) with a 24-bit m, so |x| 2/pi mod 4 needs
    only the 96 bits W of 2/pi from the one that m 2^(e-150) moves to the 2^1 place on:
    bit e - 120 of the chunk string (32 zeros pad it for small e). Two funnel shifts cut W
    out of the constant chunks (selected without memory access, so no gathers), and
    m W 2^-32 mod 2^64 = m W_high64 + (m W_low32 >> 32) is |x| 2/pi mod 4 in 2.62 fixed
    point. A float32 comes no closer than 2^-29 to a multiple of pi/2 (checked in the
    tests), so the remainder keeps at least 33 significant bits. |x| <= pi/4, subnormals
    included, skips the reduction (their clamped bit position gives unused values).
    """
    magnitude_bits = b.op("and", b.bits(x), 0x7FFFFFFF)
    exponent = b.cast("zext", b.op("lshr", magnitude_bits, 23), "i64")
    m = b.cast("zext", b.op("or", b.op("and", magnitude_bits, 0x7FFFFF), 0x800000), "i64")
    position = b.op("sub", exponent, 120)
    position = b.select(b.icmp("slt", position, 0), 0, position)
    chunk = b.op("lshr", position, 6)
    shift = b.op("and", position, 63)
    first, second = b.icmp("eq", chunk, 0), b.icmp("eq", chunk, 1)
    chunks = [_i64(b, c) for c in TWO_OVER_PI_CHUNKS]
    words = [b.select(first, chunks[i], b.select(second, chunks[i + 1], chunks[i + 2]))
             for i in range(3)]
    high = b.call("llvm.fshl", words[0], words[1], shift)
    low = b.op("lshr", b.call("llvm.fshl", words[1], words[2], shift), 32)
    fixed = b.op("add", b.op("mul", m, high), b.op("lshr", b.op("mul", m, low), 32))
    n = b.op("lshr", b.op("add", fixed, 1 << 61), 62)
    fraction = b.op("sub", fixed, b.op("shl", n, 62))  # in [-2^61, 2^61) as a signed number
    r = b.fmul(b.cast("sitofp", fraction, "double"), HALF_PI_SCALED_F64)
    small = b.icmp("ule", magnitude_bits, 0x3F490FDB)  # float32 pi/4
    r = b.select(small, b.call("llvm.fabs", _to_f64(b, x)), r)
    return r, b.select(small, 0, n)


def _sin_cos_f64(b: _HelperBodyBuilder, r: Value) -> tuple[Value, Value]:
    z = b.fmul(r, r)
    return b.fma(b.fmul(r, z), b.poly(z, SIN_F64), r), b.fma(z, b.poly(z, COS_F64), 1.0)


def _trig_result(b: _HelperBodyBuilder, x: Value, result: Value, negate: Value) -> Value:
    """Round to float, flip the sign where asked, and give NaN for inf and NaN inputs."""
    result = _to_f32(b, b.select(negate, b.fneg(result), result))
    finite = b.fcmp("olt", b.call("llvm.fabs", x), math.inf)
    return b.select(finite, result, math.nan)


def _emit_sin_f32(b: _HelperBodyBuilder, x: Value) -> Value:
    r, n = _reduce_quadrant(b, x)
    sin_r, cos_r = _sin_cos_f64(b, r)
    odd = b.icmp("ne", b.op("and", n, 1), 0)
    negate = b.op("xor", b.icmp("ne", b.op("and", n, 2), 0), b.icmp("slt", b.bits(x), 0))
    return _trig_result(b, x, b.select(odd, cos_r, sin_r), negate)


def _emit_cos_f32(b: _HelperBodyBuilder, x: Value) -> Value:
    r, n = _reduce_quadrant(b, x)
    sin_r, cos_r = _sin_cos_f64(b, r)
    odd = b.icmp("ne", b.op("and", n, 1), 0)
    negate = b.icmp("ne", b.op("and", b.op("add", n, 1), 2), 0)
    return _trig_result(b, x, b.select(odd, sin_r, cos_r), negate)


def _emit_tan_f32(b: _HelperBodyBuilder, x: Value) -> Value:
    r, n = _reduce_quadrant(b, x)
    sin_r, cos_r = _sin_cos_f64(b, r)
    odd = b.icmp("ne", b.op("and", n, 1), 0)
    quotient = b.fdiv(b.select(odd, cos_r, sin_r), b.select(odd, b.fneg(sin_r), cos_r))
    return _trig_result(b, x, quotient, b.icmp("slt", b.bits(x), 0))


# ------------------------------------------------------------- 16-bit float casts


def _emit_f32_to_bf16(b: _HelperBodyBuilder, x: Value) -> Value:
    """Keep the top 16 bits, rounding to nearest even by adding 0x7FFF plus the kept lsb;
    a NaN only gets its quiet bit set (rounding could turn it into inf)."""
    u = b.bits(x)
    kept_lsb = b.op("and", b.op("lshr", u, 16), 1)
    rounded = b.op("lshr", b.op("add", b.op("add", u, 0x7FFF), kept_lsb), 16)
    quiet_nan = b.op("or", b.op("lshr", u, 16), 0x40)
    is_nan = b.icmp("ugt", b.op("and", u, 0x7FFFFFFF), 0x7F800000)
    return b.cast("trunc", b.select(is_nan, quiet_nan, rounded), "i16")


def _emit_bf16_to_f32(b: _HelperBodyBuilder, h: Value) -> Value:
    """bfloat16 is the top half of a float32."""
    return b.from_bits(b.op("shl", b.cast("zext", h, "i32"), 16))


def _emit_f32_to_f16(b: _HelperBodyBuilder, x: Value) -> Value:
    """Normal halves: rebias the exponent and round the mantissa to nearest even with
    integer adds. Subnormal halves: |x| + 0.5 puts the half's last place at the float's
    last place, so the float addition does the rounding. Overflow gives inf, NaN stays NaN."""
    u = b.bits(x)
    sign = b.op("and", b.op("lshr", u, 16), 0x8000)
    a = b.op("and", u, 0x7FFFFFFF)
    kept_lsb = b.op("and", b.op("lshr", a, 13), 1)
    normal = b.op("lshr", b.op("add", b.op("sub", a, 0x38000000 - 0xFFF), kept_lsb), 13)
    subnormal = b.op("sub", b.bits(b.fadd(b.call("llvm.fabs", x), 0.5)), 0x3F000000)
    half = b.select(b.icmp("ult", a, 0x38800000), subnormal, normal)  # below 2^-14
    half = b.select(b.icmp("uge", a, 0x477FF000), 0x7C00, half)  # rounds past 65504
    quiet_nan = b.op("or", b.op("lshr", b.op("and", a, 0x7FFFFF), 13), 0x7E00)
    half = b.select(b.icmp("ugt", a, 0x7F800000), quiet_nan, half)
    return b.cast("trunc", b.op("or", half, sign), "i16")


def _emit_f16_to_f32(b: _HelperBodyBuilder, h: Value) -> Value:
    """Rebias the exponent of normals, infinities and NaNs; subnormal halves are m 2^-24,
    converted exactly through float."""
    w = b.cast("zext", h, "i32")
    sign = b.op("shl", b.op("and", w, 0x8000), 16)
    magnitude = b.op("and", w, 0x7FFF)
    normal = b.op("add", b.op("shl", magnitude, 13), 0x38000000)  # exponent bias 15 -> 127
    inf_or_nan = b.op("add", normal, 0x38000000)  # exponent 31 -> 255
    two_to_minus_24 = 5.9604644775390625e-08
    subnormal = b.bits(b.fmul(b.cast("uitofp", magnitude, "float"), two_to_minus_24))
    bits = b.select(b.icmp("ult", magnitude, 0x400), subnormal, normal)
    bits = b.select(b.icmp("uge", magnitude, 0x7C00), inf_or_nan, bits)
    return b.from_bits(b.op("or", bits, sign))


# ---------------------------------------------------------------- the helper tables

_F32_EMITTERS = {
    "exp": _exp_f32, "exp2": _exp2_f32, "log": _emit_log_f32, "log2": _emit_log2_f32,
    "log10": _emit_log10_f32, "log1p": _emit_log1p_f32, "expm1": _emit_expm1_f32,
    "sin": _emit_sin_f32, "cos": _emit_cos_f32, "tan": _emit_tan_f32, "tanh": _emit_tanh_f32,
    "sigmoid": _emit_sigmoid_f32, "erf": _emit_erf_f32, "erfc": _emit_erfc_f32,
    "pow": _emit_pow_f32, "atan": _emit_atan_f32, "asin": _emit_asin_f32, "acos": _emit_acos_f32,
    "sinh": _emit_sinh_f32, "cosh": _emit_cosh_f32, "atan2": _emit_atan2_f32,
}
_CONVERSION_EMITTERS = {
    "f32_to_bf16": _emit_f32_to_bf16, "bf16_to_f32": _emit_bf16_to_f32,
    "f32_to_f16": _emit_f32_to_f16, "f16_to_f32": _emit_f16_to_f32,
}
assert set(_F32_EMITTERS) == set(SUPPORTED_FUNCTIONS)
assert set(_CONVERSION_EMITTERS) == set(CONVERSION_FUNCTIONS)


@dataclass(frozen=True, slots=True)
class _HelperDefinition:
    """One rendered helper: its `define` text and the declarations it needs."""

    symbol: str
    text: str
    declarations: tuple[tuple[str, str], ...]


def _render_definition(symbol: str, ret: str, params: list[str], body: _HelperBodyBuilder,
                       attributes: str) -> _HelperDefinition:
    """Wrap a finished body in `define internal` with an inline attribute list (no #N groups,
    so pieces of several modules never collide)."""
    header = f"define internal {ret} {symbol}({', '.join(params)}) {attributes} {{"
    text = "\n".join([header, "entry:", *body.lines, "}"])
    return _HelperDefinition(symbol, text, tuple(body.declarations.items()))


def libm_call(b: _HelperBodyBuilder, name: str, *args: Value) -> Value:
    """Call the C library's double function `name`, resolved from the process at JIT time
    (also from the special-function helpers of llvm_special/llvm_bessel/llvm_igamma)."""
    b.declarations[f"@{name}"] = f"declare double @{name}({', '.join(['double'] * len(args))})"
    arg_text = ", ".join(f"double {a.ref}" for a in args)
    return b.instruction("double", f"call double @{name}({arg_text})")


@lru_cache(maxsize=None)
def _helper_definition(name: str, llvm_type: str) -> _HelperDefinition:
    """Build (once per process) the definition of helper `name` for element type `llvm_type`."""
    body = _HelperBodyBuilder()
    if name in CONVERSION_FUNCTIONS:
        arg_type, ret_type = CONVERSION_FUNCTIONS[name]
        body.ret(_CONVERSION_EMITTERS[name](body, Value("%x", arg_type)))
        return _render_definition(f"@lazyt_{name}", ret_type, [f"{arg_type} %x"], body, _PURE)
    names = ["%x", "%y"][: SUPPORTED_FUNCTIONS[name]]
    symbol = f"@lazyt_{name}_{type_suffix(llvm_type)}"
    params = [f"{llvm_type} {n}" for n in names]
    args = [Value(n, llvm_type) for n in names]
    if llvm_type == "float":
        body.ret(_F32_EMITTERS[name](body, *args))
        return _render_definition(symbol, "float", params, body, _PURE)
    if name == "sigmoid":  # 1 / (1 + e^-x); e^-x = inf for x << 0 correctly gives 0
        e = libm_call(body, "exp", body.fneg(args[0]))
        body.ret(body.fdiv(1.0, body.fadd(e, 1.0)))
    else:
        body.ret(libm_call(body, name, *args))
    return _render_definition(symbol, "double", params, body, CALLS_LIBM)


class MathLibrary:
    """Collects the math helpers and LLVM intrinsics one LLVM module uses, and renders each once."""

    def __init__(self, extra_functions: dict[str, int] | None = None,
                 extra_definition=None) -> None:
        """`extra_functions` (name -> arity) are helpers defined outside this file
        (codegen/llvm_special.py), rendered by `extra_definition(name, llvm_type)`."""
        self._declarations: dict[str, str] = {}  # symbol -> declare line, in first-use order
        self._helpers: dict[str, tuple[str, str]] = {}  # symbol -> (name, llvm type)
        self._extra_functions = extra_functions or {}
        self._extra_definition = extra_definition

    def intrinsic(self, name: str, ret_type: str, arg_types: list[str]) -> str:
        """Record `declare <ret> @<name>.<suffix>(<args>)` and return the symbol, e.g.
        intrinsic("llvm.fabs", "float", ["float"]) -> "@llvm.fabs.f32". The suffix comes from
        the first argument's type (the return type when there are no arguments)."""
        symbol = f"@{name}.{type_suffix(arg_types[0] if arg_types else ret_type)}"
        self._declare(symbol, f"declare {ret_type} {symbol}({', '.join(arg_types)})")
        return symbol

    def function(self, name: str, llvm_type: str) -> str:
        """Record that helper `name` is needed for element type `llvm_type` ("float" or
        "double"; for the conversions their argument type) and return its symbol."""
        if name in CONVERSION_FUNCTIONS:
            arg_type = CONVERSION_FUNCTIONS[name][0]
            if llvm_type != arg_type:
                raise ValueError(f"math helper {name!r} takes {arg_type}, not {llvm_type!r}")
            symbol = f"@lazyt_{name}"
        elif name in SUPPORTED_FUNCTIONS or name in self._extra_functions:
            if llvm_type not in ("float", "double"):
                raise ValueError(
                    f"math helper {name!r} exists for float and double, not {llvm_type!r}")
            symbol = f"@lazyt_{name}_{type_suffix(llvm_type)}"
        else:
            known = ", ".join(sorted([*SUPPORTED_FUNCTIONS, *CONVERSION_FUNCTIONS,
                                      *self._extra_functions]))
            raise ValueError(f"unknown math helper {name!r}; known: {known}")
        self._helpers[symbol] = (name, llvm_type)
        return symbol

    def render(self) -> str:
        """LLVM IR text for everything recorded so far: each declaration and helper definition
        once, ready to be appended to a module."""
        definitions = [self._extra_definition(name, ty) if name in self._extra_functions
                       else _helper_definition(name, ty) for name, ty in self._helpers.values()]
        for definition in definitions:
            for symbol, line in definition.declarations:
                self._declare(symbol, line)
        parts = [text for text in ["\n".join(self._declarations.values()), *(d.text for d in definitions)]
                 if text]
        return "\n\n".join(parts) + "\n" if parts else ""

    def _declare(self, symbol: str, line: str) -> None:
        previous = self._declarations.setdefault(symbol, line)
        assert previous == line, f"{symbol} declared as {previous!r} and as {line!r}"
