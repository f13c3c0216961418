"""LLVM IR text for every elementwise op of the op table, per operand kind.

The CPU backend's half of an op definition: lazyt/ir/ops.py says what an op is
(arity, dtype rule, operand kinds, names, gradient); this file says how
codegen/llvm.py renders it. Keyed by the op's name, then by operand kind.
tests/ir/test_op_table.py checks that every kind a row admits has a template.

Templates are single basic blocks. Placeholders:
  {a} {b} {c}     operand SSA values        {out}  the result SSA name
  {ty}            register type of the last operand (float, double, i32, i1, ...)
  {t}             a unique prefix for temporaries (write %{t}x, %{t}y, ...)
  {bits}          bit width of {ty}; {bitsm1} that width minus one
  {math:NAME}     symbol of a vectorisable math helper for {ty} (codegen/llvm_math.py)
  {intr:NAME(args)}  symbol of an LLVM intrinsic; args are LLVM types, `ty` means {ty}
  {ipow}          symbol of the integer power helper for {ty} (codegen/llvm.py)
Operand kinds: "f" float (half/bfloat16 are computed as float), "i" signed int,
"u" unsigned int, "b" bool; "iu" serves both integer kinds, "*" every kind.
"""

from __future__ import annotations


def _call(name: str, arity: int = 1) -> str:
    """A call of the math helper `name` (codegen/llvm_math.py) on the operands."""
    args = ", ".join(f"{{ty}} {{{x}}}" for x in "abc"[:arity])
    return f"{{out}} = call {{ty}} {{math:{name}}}({args})"


def _intr(name: str, arity: int = 1) -> str:
    """A call of the LLVM intrinsic `name`, overloaded on {ty}, on the operands."""
    sig = ",".join(["ty"] * arity)
    args = ", ".join(f"{{ty}} {{{x}}}" for x in "abc"[:arity])
    return f"{{out}} = call {{ty}} {{intr:{name}({sig})}}({args})"


_IDENTITY = "{out} = add {ty} {a}, 0"

_FLOAT_FLOORDIV = """\
%{t}q = fdiv {ty} {a}, {b}
%{t}m = frem {ty} {a}, {b}
%{t}s = fsub {ty} {a}, %{t}m
%{t}d0 = fdiv {ty} %{t}s, {b}
%{t}mnz = fcmp une {ty} %{t}m, 0.0
%{t}bneg = fcmp olt {ty} {b}, 0.0
%{t}mneg = fcmp olt {ty} %{t}m, 0.0
%{t}diff = xor i1 %{t}bneg, %{t}mneg
%{t}adj = and i1 %{t}mnz, %{t}diff
%{t}dm1 = fsub {ty} %{t}d0, 1.0
%{t}d = select i1 %{t}adj, {ty} %{t}dm1, {ty} %{t}d0
%{t}fl = call {ty} {intr:llvm.floor(ty)}({ty} %{t}d)
%{t}fr = fsub {ty} %{t}d, %{t}fl
%{t}up = fcmp ogt {ty} %{t}fr, 0.5
%{t}fl1 = fadd {ty} %{t}fl, 1.0
%{t}r0 = select i1 %{t}up, {ty} %{t}fl1, {ty} %{t}fl
%{t}z = call {ty} {intr:llvm.copysign(ty,ty)}({ty} 0.0, {ty} %{t}q)
%{t}dz = fcmp oeq {ty} %{t}d, 0.0
%{t}r1 = select i1 %{t}dz, {ty} %{t}z, {ty} %{t}r0
%{t}bz = fcmp oeq {ty} {b}, 0.0
{out} = select i1 %{t}bz, {ty} %{t}q, {ty} %{t}r1"""

# Signed division guards b == 0 (the tensor layer raises first) and b == -1
# (INT_MIN / -1 traps on x86): both divide by 1 and fix the result up.
_SIGNED_FLOORDIV = """\
%{t}b0 = icmp eq {ty} {b}, 0
%{t}bm1 = icmp eq {ty} {b}, -1
%{t}bad = or i1 %{t}b0, %{t}bm1
%{t}bs = select i1 %{t}bad, {ty} 1, {ty} {b}
%{t}q0 = sdiv {ty} {a}, %{t}bs
%{t}r = srem {ty} {a}, %{t}bs
%{t}rnz = icmp ne {ty} %{t}r, 0
%{t}x = xor {ty} %{t}r, %{t}bs
%{t}xneg = icmp slt {ty} %{t}x, 0
%{t}adj = and i1 %{t}rnz, %{t}xneg
%{t}adjn = zext i1 %{t}adj to {ty}
%{t}q1 = sub {ty} %{t}q0, %{t}adjn
%{t}neg = sub {ty} 0, {a}
{out} = select i1 %{t}bm1, {ty} %{t}neg, {ty} %{t}q1"""

_UNSIGNED_FLOORDIV = """\
%{t}b0 = icmp eq {ty} {b}, 0
%{t}bs = select i1 %{t}b0, {ty} 1, {ty} {b}
{out} = udiv {ty} {a}, %{t}bs"""

_FLOAT_REMAINDER = """\
%{t}m = frem {ty} {a}, {b}
%{t}mnz = fcmp une {ty} %{t}m, 0.0
%{t}bneg = fcmp olt {ty} {b}, 0.0
%{t}mneg = fcmp olt {ty} %{t}m, 0.0
%{t}diff = xor i1 %{t}bneg, %{t}mneg
%{t}adj = and i1 %{t}mnz, %{t}diff
%{t}mb = fadd {ty} %{t}m, {b}
{out} = select i1 %{t}adj, {ty} %{t}mb, {ty} %{t}m"""

_SIGNED_REMAINDER = """\
%{t}b0 = icmp eq {ty} {b}, 0
%{t}bm1 = icmp eq {ty} {b}, -1
%{t}bad = or i1 %{t}b0, %{t}bm1
%{t}bs = select i1 %{t}bad, {ty} 1, {ty} {b}
%{t}r0 = srem {ty} {a}, %{t}bs
%{t}r = select i1 %{t}bm1, {ty} 0, {ty} %{t}r0
%{t}rnz = icmp ne {ty} %{t}r, 0
%{t}x = xor {ty} %{t}r, {b}
%{t}xneg = icmp slt {ty} %{t}x, 0
%{t}adj = and i1 %{t}rnz, %{t}xneg
%{t}rb = add {ty} %{t}r, {b}
{out} = select i1 %{t}adj, {ty} %{t}rb, {ty} %{t}r"""

_UNSIGNED_REMAINDER = """\
%{t}b0 = icmp eq {ty} {b}, 0
%{t}bs = select i1 %{t}b0, {ty} 1, {ty} {b}
{out} = urem {ty} {a}, %{t}bs"""

_FLOAT_FMOD = "{out} = frem {ty} {a}, {b}"

_SIGNED_FMOD = """\
%{t}b0 = icmp eq {ty} {b}, 0
%{t}bm1 = icmp eq {ty} {b}, -1
%{t}bad = or i1 %{t}b0, %{t}bm1
%{t}bs = select i1 %{t}bad, {ty} 1, {ty} {b}
%{t}r0 = srem {ty} {a}, %{t}bs
{out} = select i1 %{t}bm1, {ty} 0, {ty} %{t}r0"""

# Shifts by >= the bit width are poison in LLVM; torch gives 0 (or the sign fill).
_SHL = """\
%{t}big = icmp uge {ty} {b}, {bits}
%{t}s = shl {ty} {a}, {b}
{out} = select i1 %{t}big, {ty} 0, {ty} %{t}s"""

_ASHR = """\
%{t}big = icmp uge {ty} {b}, {bits}
%{t}bs = select i1 %{t}big, {ty} {bitsm1}, {ty} {b}
{out} = ashr {ty} {a}, %{t}bs"""

_LSHR = """\
%{t}big = icmp uge {ty} {b}, {bits}
%{t}s = lshr {ty} {a}, {b}
{out} = select i1 %{t}big, {ty} 0, {ty} %{t}s"""

# PyTorch's sign is (0 < x) - (x < 0): sign(-0.0) = +0.0 and sign(NaN) = 0.
_FLOAT_SIGN = """\
%{t}pos = fcmp ogt {ty} {a}, 0.0
%{t}neg = fcmp olt {ty} {a}, 0.0
%{t}n = select i1 %{t}neg, {ty} -1.0, {ty} 0.0
{out} = select i1 %{t}pos, {ty} 1.0, {ty} %{t}n"""

_SIGNED_SIGN = """\
%{t}pos = icmp sgt {ty} {a}, 0
%{t}neg = icmp slt {ty} {a}, 0
%{t}n = select i1 %{t}neg, {ty} -1, {ty} 0
{out} = select i1 %{t}pos, {ty} 1, {ty} %{t}n"""

_UNSIGNED_SIGN = """\
%{t}nz = icmp ne {ty} {a}, 0
{out} = zext i1 %{t}nz to {ty}"""

_FLOAT_RELU = """\
%{t}neg = fcmp olt {ty} {a}, 0.0
{out} = select i1 %{t}neg, {ty} 0.0, {ty} {a}"""

_SIGNED_RELU = """\
%{t}neg = icmp slt {ty} {a}, 0
{out} = select i1 %{t}neg, {ty} 0, {ty} {a}"""

_RSQRT = """\
%{t}s = call {ty} {intr:llvm.sqrt(ty)}({ty} {a})
{out} = fdiv {ty} 1.0, %{t}s"""

_ISINF = """\
%{t}abs = call {ty} {intr:llvm.fabs(ty)}({ty} {a})
{out} = fcmp oeq {ty} %{t}abs, 0x7FF0000000000000"""

_ISFINITE = """\
%{t}abs = call {ty} {intr:llvm.fabs(ty)}({ty} {a})
{out} = fcmp one {ty} %{t}abs, 0x7FF0000000000000"""

_FRAC = """\
%{t}tr = call {ty} {intr:llvm.trunc(ty)}({ty} {a})
{out} = fsub {ty} {a}, %{t}tr"""


# nextafter: one step of the bit pattern towards b; from +-0 the smallest subnormal with
# b's sign; equal operands give b, a NaN operand NaN.
_FLOAT_NEXTAFTER = """\
%{t}ia = bitcast {ty} {a} to i{bits}
%{t}inc = add i{bits} %{t}ia, 1
%{t}dec = sub i{bits} %{t}ia, 1
%{t}altb = fcmp olt {ty} {a}, {b}
%{t}apos = fcmp ogt {ty} {a}, 0.0
%{t}down = xor i1 %{t}altb, %{t}apos
%{t}step = select i1 %{t}down, i{bits} %{t}dec, i{bits} %{t}inc
%{t}r0 = bitcast i{bits} %{t}step to {ty}
%{t}least = bitcast i{bits} 1 to {ty}
%{t}tiny = call {ty} {intr:llvm.copysign(ty,ty)}({ty} %{t}least, {ty} {b})
%{t}azero = fcmp oeq {ty} {a}, 0.0
%{t}r1 = select i1 %{t}azero, {ty} %{t}tiny, {ty} %{t}r0
%{t}eq = fcmp oeq {ty} {a}, {b}
%{t}r2 = select i1 %{t}eq, {ty} {b}, {ty} %{t}r1
%{t}nan = fcmp uno {ty} {a}, {b}
%{t}sum = fadd {ty} {a}, {b}
{out} = select i1 %{t}nan, {ty} %{t}sum, {ty} %{t}r2"""


def _compare(fpred: str, spred: str, upred: str) -> dict[str, str]:
    """A comparison per kind: fcmp for floats, signed or unsigned icmp for the rest."""
    return {
        "f": f"{{out}} = fcmp {fpred} {{ty}} {{a}}, {{b}}",
        "i": f"{{out}} = icmp {spred} {{ty}} {{a}}, {{b}}",
        "u": f"{{out}} = icmp {upred} {{ty}} {{a}}, {{b}}",
        "b": f"{{out}} = icmp {upred} {{ty}} {{a}}, {{b}}",
    }


LLVM_TEMPLATES: dict[str, dict[str, str]] = {
    # --- unary -----------------------------------------------------------
    "neg": {"f": "{out} = fneg {ty} {a}", "iu": "{out} = sub {ty} 0, {a}"},
    "abs": {"f": _intr("llvm.fabs"),
            "i": "{out} = call {ty} {intr:llvm.abs(ty,i1)}({ty} {a}, i1 false)",
            "u": _IDENTITY, "b": _IDENTITY},
    "exp": {"f": _call("exp")},
    "exp2": {"f": _call("exp2")},
    "log": {"f": _call("log")},
    "log2": {"f": _call("log2")},
    "log10": {"f": _call("log10")},
    "log1p": {"f": _call("log1p")},
    "expm1": {"f": _call("expm1")},
    "sqrt": {"f": _intr("llvm.sqrt")},
    "rsqrt": {"f": _RSQRT},
    "sin": {"f": _call("sin")},
    "cos": {"f": _call("cos")},
    "tan": {"f": _call("tan")},
    "asin": {"f": _call("asin")},
    "acos": {"f": _call("acos")},
    "atan": {"f": _call("atan")},
    "sinh": {"f": _call("sinh")},
    "cosh": {"f": _call("cosh")},
    "tanh": {"f": _call("tanh")},
    "sigmoid": {"f": _call("sigmoid")},
    "erf": {"f": _call("erf")},
    "erfc": {"f": _call("erfc")},
    "reciprocal": {"f": "{out} = fdiv {ty} 1.0, {a}"},
    "acosh": {"f": _call("acosh")},
    "asinh": {"f": _call("asinh")},
    "atanh": {"f": _call("atanh")},
    "lgamma": {"f": _call("lgamma")},
    "digamma": {"f": _call("digamma")},
    "erfinv": {"f": _call("erfinv")},
    "i0": {"f": _call("i0")},
    "i1": {"f": _call("i1")},
    "erfcx": {"f": _call("erfcx")},
    "i0e": {"f": _call("i0e")},
    "i1e": {"f": _call("i1e")},
    "bessel_j0": {"f": _call("bessel_j0")},
    "bessel_j1": {"f": _call("bessel_j1")},
    "bessel_y0": {"f": _call("bessel_y0")},
    "bessel_y1": {"f": _call("bessel_y1")},
    "modified_bessel_k0": {"f": _call("modified_bessel_k0")},
    "modified_bessel_k1": {"f": _call("modified_bessel_k1")},
    "scaled_modified_bessel_k0": {"f": _call("scaled_modified_bessel_k0")},
    "scaled_modified_bessel_k1": {"f": _call("scaled_modified_bessel_k1")},
    "airy_ai": {"f": _call("airy_ai")},
    "_frexp_mantissa": {"f": _call("_frexp_mantissa")},
    "_frexp_exponent": {"f": _call("_frexp_exponent")},
    "relu": {"f": _FLOAT_RELU, "i": _SIGNED_RELU, "u": _IDENTITY},
    "sign": {"f": _FLOAT_SIGN, "i": _SIGNED_SIGN, "u": _UNSIGNED_SIGN, "b": _IDENTITY},
    "floor": {"f": _intr("llvm.floor"), "*": _IDENTITY},
    "ceil": {"f": _intr("llvm.ceil"), "*": _IDENTITY},
    "round": {"f": _intr("llvm.roundeven"), "*": _IDENTITY},
    "trunc": {"f": _intr("llvm.trunc"), "*": _IDENTITY},
    "frac": {"f": _FRAC},
    "bitwise_not": {"iu": "{out} = xor {ty} {a}, -1", "b": "{out} = xor i1 {a}, true"},
    "isnan": {"f": "{out} = fcmp uno {ty} {a}, {a}"},
    "isinf": {"f": _ISINF},
    "isfinite": {"f": _ISFINITE},
    # --- binary ----------------------------------------------------------
    "add": {"f": "{out} = fadd {ty} {a}, {b}", "iu": "{out} = add {ty} {a}, {b}",
            "b": "{out} = or i1 {a}, {b}"},
    "sub": {"f": "{out} = fsub {ty} {a}, {b}", "iu": "{out} = sub {ty} {a}, {b}"},
    "mul": {"f": "{out} = fmul {ty} {a}, {b}", "iu": "{out} = mul {ty} {a}, {b}",
            "b": "{out} = and i1 {a}, {b}"},
    "div": {"f": "{out} = fdiv {ty} {a}, {b}"},
    "floordiv": {"f": _FLOAT_FLOORDIV, "i": _SIGNED_FLOORDIV, "u": _UNSIGNED_FLOORDIV},
    "remainder": {"f": _FLOAT_REMAINDER, "i": _SIGNED_REMAINDER, "u": _UNSIGNED_REMAINDER},
    "fmod": {"f": _FLOAT_FMOD, "i": _SIGNED_FMOD, "u": _UNSIGNED_REMAINDER},
    "pow": {"f": _call("pow", 2), "iu": "{out} = call {ty} {ipow}({ty} {a}, {ty} {b})"},
    "atan2": {"f": _call("atan2", 2)},
    "copysign": {"f": _intr("llvm.copysign", 2)},
    "maximum": {"f": _intr("llvm.maximum", 2), "i": _intr("llvm.smax", 2),
                "u": _intr("llvm.umax", 2), "b": "{out} = or i1 {a}, {b}"},
    "minimum": {"f": _intr("llvm.minimum", 2), "i": _intr("llvm.smin", 2),
                "u": _intr("llvm.umin", 2), "b": "{out} = and i1 {a}, {b}"},
    "fmax": {"f": _intr("llvm.maxnum", 2), "i": _intr("llvm.smax", 2),
             "u": _intr("llvm.umax", 2), "b": "{out} = or i1 {a}, {b}"},
    "fmin": {"f": _intr("llvm.minnum", 2), "i": _intr("llvm.smin", 2),
             "u": _intr("llvm.umin", 2), "b": "{out} = and i1 {a}, {b}"},
    "hypot": {"f": _call("hypot", 2)},
    "logaddexp": {"f": _call("logaddexp", 2)},
    "logaddexp2": {"f": _call("logaddexp2", 2)},
    "nextafter": {"f": _FLOAT_NEXTAFTER},
    "zeta": {"f": _call("zeta", 2)},
    "igamma": {"f": _call("igamma", 2)},
    "igammac": {"f": _call("igammac", 2)},
    "eq": _compare("oeq", "eq", "eq"),
    "ne": _compare("une", "ne", "ne"),
    "lt": _compare("olt", "slt", "ult"),
    "le": _compare("ole", "sle", "ule"),
    "gt": _compare("ogt", "sgt", "ugt"),
    "ge": _compare("oge", "sge", "uge"),
    # Bitwise ops on bool operands are i1 and/or/xor: the same text.
    "bitwise_and": {"*": "{out} = and {ty} {a}, {b}"},
    "bitwise_or": {"*": "{out} = or {ty} {a}, {b}"},
    "bitwise_xor": {"*": "{out} = xor {ty} {a}, {b}"},
    "bitwise_left_shift": {"iu": _SHL},
    "bitwise_right_shift": {"i": _ASHR, "u": _LSHR},
    # --- ternary ---------------------------------------------------------
    "where": {"*": "{out} = select i1 {a}, {ty} {b}, {ty} {c}"},
}


def llvm_template(op: str, kind: str) -> str | None:
    """The template rendering op for operands of kind ("f", "i", "u" or "b"), if any.

    A kind's own entry wins over "iu" (both integer kinds), which wins over "*"."""
    templates = LLVM_TEMPLATES[op]
    for key in (kind, "iu" if kind in ("i", "u") else "", "*"):
        if key and key in templates:
            return templates[key]
    return None
