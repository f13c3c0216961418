"""The op table: every elementwise op the IR knows, as data.

One row per op says its arity, its dtype rule (how the tensor layer picks
the result dtype), and its LLVM rendering per operand kind. Adding an op means
adding a row here and a test; the tensor API, the kernel IR and the LLVM
backend read this table and need no other change.

LLVM templates are single basic blocks. Placeholders:
  {a} {b} {c}     operand SSA values        {out}  the result SSA name
  {ty}            register type of the last operand (float, double, i32, i1, ...)
  {t}             a unique prefix for temporaries (write %{t}x, %{t}y, ...)
  {bits}          bit width of {ty}; {min} the smallest value of a signed {ty}
  {math:NAME}     symbol of a vectorisable math helper for {ty} (codegen/llvm_math.py)
  {intr:NAME(args)}  symbol of an LLVM intrinsic; args are LLVM types, `ty` means {ty}
Operand kinds: "f" float (half/bfloat16 are computed as float), "i" signed int,
"u" unsigned int, "b" bool; "iu" serves both integer kinds, "*" every kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class OpDef:
    name: str
    arity: int
    # "same": result = promoted operand dtype; "float": ints/bools promote to the
    # default float; "bool": result is bool (comparisons, predicates);
    # "integral": ints and bools only (bitwise ops).
    dtype_rule: str
    llvm: dict[str, str] = field(default_factory=dict)
    # Name of the gradient rule in lazyt/autograd (filled in by the autograd layer).
    grad: str | None = None

    def llvm_template(self, kind: str) -> str | None:
        for key in (kind, "iu" if kind in "iu" else "", "*"):
            if key and key in self.llvm:
                return self.llvm[key]
        return None


def _call(name: str, arity: int = 1) -> str:
    args = ", ".join(f"{{ty}} {{{x}}}" for x in "abc"[:arity])
    return f"{{out}} = call {{ty}} {{math:{name}}}({args})"


def _intr(name: str, arity: int = 1) -> str:
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

# sign(-0.0) is +0.0 in PyTorch; NaN stays NaN.
_FLOAT_SIGN = """\
%{t}pos = fcmp ogt {ty} {a}, 0.0
%{t}neg = fcmp olt {ty} {a}, 0.0
%{t}zero = fcmp oeq {ty} {a}, 0.0
%{t}z = select i1 %{t}zero, {ty} 0.0, {ty} {a}
%{t}n = select i1 %{t}neg, {ty} -1.0, {ty} %{t}z
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


def _cmp(fpred: str, spred: str, upred: str) -> dict[str, str]:
    return {
        "f": f"{{out}} = fcmp {fpred} {{ty}} {{a}}, {{b}}",
        "i": f"{{out}} = icmp {spred} {{ty}} {{a}}, {{b}}",
        "u": f"{{out}} = icmp {upred} {{ty}} {{a}}, {{b}}",
        "b": f"{{out}} = icmp {upred} {{ty}} {{a}}, {{b}}",
    }


_ROWS = [
    # --- unary -----------------------------------------------------------
    OpDef("neg", 1, "same", {"f": "{out} = fneg {ty} {a}", "iu": "{out} = sub {ty} 0, {a}"}),
    OpDef("abs", 1, "same", {
        "f": _intr("llvm.fabs"),
        "i": "{out} = call {ty} {intr:llvm.abs(ty,i1)}({ty} {a}, i1 false)",
        "u": _IDENTITY, "b": _IDENTITY}),
    OpDef("exp", 1, "float", {"f": _call("exp")}),
    OpDef("exp2", 1, "float", {"f": _call("exp2")}),
    OpDef("log", 1, "float", {"f": _call("log")}),
    OpDef("log2", 1, "float", {"f": _call("log2")}),
    OpDef("log10", 1, "float", {"f": _call("log10")}),
    OpDef("log1p", 1, "float", {"f": _call("log1p")}),
    OpDef("expm1", 1, "float", {"f": _call("expm1")}),
    OpDef("sqrt", 1, "float", {"f": _intr("llvm.sqrt")}),
    OpDef("rsqrt", 1, "float", {"f": _RSQRT}),
    OpDef("sin", 1, "float", {"f": _call("sin")}),
    OpDef("cos", 1, "float", {"f": _call("cos")}),
    OpDef("tan", 1, "float", {"f": _call("tan")}),
    OpDef("asin", 1, "float", {"f": _call("asin")}),
    OpDef("acos", 1, "float", {"f": _call("acos")}),
    OpDef("atan", 1, "float", {"f": _call("atan")}),
    OpDef("sinh", 1, "float", {"f": _call("sinh")}),
    OpDef("cosh", 1, "float", {"f": _call("cosh")}),
    OpDef("tanh", 1, "float", {"f": _call("tanh")}),
    OpDef("sigmoid", 1, "float", {"f": _call("sigmoid")}),
    OpDef("erf", 1, "float", {"f": _call("erf")}),
    OpDef("erfc", 1, "float", {"f": _call("erfc")}),
    OpDef("reciprocal", 1, "float", {"f": "{out} = fdiv {ty} 1.0, {a}"}),
    OpDef("relu", 1, "same", {"f": _FLOAT_RELU, "i": _SIGNED_RELU, "u": _IDENTITY}),
    OpDef("sign", 1, "same", {"f": _FLOAT_SIGN, "i": _SIGNED_SIGN, "u": _UNSIGNED_SIGN,
                              "b": _IDENTITY}),
    OpDef("floor", 1, "same", {"f": _intr("llvm.floor"), "*": _IDENTITY}),
    OpDef("ceil", 1, "same", {"f": _intr("llvm.ceil"), "*": _IDENTITY}),
    OpDef("round", 1, "same", {"f": _intr("llvm.roundeven"), "*": _IDENTITY}),
    OpDef("trunc", 1, "same", {"f": _intr("llvm.trunc"), "*": _IDENTITY}),
    OpDef("frac", 1, "same", {"f": _FRAC}),
    OpDef("bitwise_not", 1, "integral", {"iu": "{out} = xor {ty} {a}, -1",
                                         "b": "{out} = xor i1 {a}, true"}),
    OpDef("isnan", 1, "bool", {"f": "{out} = fcmp uno {ty} {a}, {a}"}),
    OpDef("isinf", 1, "bool", {"f": _ISINF}),
    OpDef("isfinite", 1, "bool", {"f": _ISFINITE}),
    # --- binary ----------------------------------------------------------
    OpDef("add", 2, "same", {"f": "{out} = fadd {ty} {a}, {b}", "iu": "{out} = add {ty} {a}, {b}",
                             "b": "{out} = or i1 {a}, {b}"}),
    OpDef("sub", 2, "same", {"f": "{out} = fsub {ty} {a}, {b}", "iu": "{out} = sub {ty} {a}, {b}"}),
    OpDef("mul", 2, "same", {"f": "{out} = fmul {ty} {a}, {b}", "iu": "{out} = mul {ty} {a}, {b}",
                             "b": "{out} = and i1 {a}, {b}"}),
    OpDef("div", 2, "float", {"f": "{out} = fdiv {ty} {a}, {b}"}),
    OpDef("floordiv", 2, "same", {"f": _FLOAT_FLOORDIV, "i": _SIGNED_FLOORDIV,
                                  "u": _UNSIGNED_FLOORDIV}),
    OpDef("remainder", 2, "same", {"f": _FLOAT_REMAINDER, "i": _SIGNED_REMAINDER,
                                   "u": _UNSIGNED_REMAINDER}),
    OpDef("fmod", 2, "same", {"f": _FLOAT_FMOD, "i": _SIGNED_FMOD, "u": _UNSIGNED_REMAINDER}),
    OpDef("pow", 2, "same", {"f": _call("pow", 2),
                             "iu": "{out} = call {ty} {ipow}({ty} {a}, {ty} {b})"}),
    OpDef("atan2", 2, "float", {"f": _call("atan2", 2)}),
    OpDef("copysign", 2, "float", {"f": _intr("llvm.copysign", 2)}),
    OpDef("maximum", 2, "same", {"f": _intr("llvm.maximum", 2), "i": _intr("llvm.smax", 2),
                                 "u": _intr("llvm.umax", 2), "b": "{out} = or i1 {a}, {b}"}),
    OpDef("minimum", 2, "same", {"f": _intr("llvm.minimum", 2), "i": _intr("llvm.smin", 2),
                                 "u": _intr("llvm.umin", 2), "b": "{out} = and i1 {a}, {b}"}),
    OpDef("eq", 2, "bool", _cmp("oeq", "eq", "eq")),
    OpDef("ne", 2, "bool", _cmp("une", "ne", "ne")),
    OpDef("lt", 2, "bool", _cmp("olt", "slt", "ult")),
    OpDef("le", 2, "bool", _cmp("ole", "sle", "ule")),
    OpDef("gt", 2, "bool", _cmp("ogt", "sgt", "ugt")),
    OpDef("ge", 2, "bool", _cmp("oge", "sge", "uge")),
    OpDef("bitwise_and", 2, "integral", {"*": "{out} = and {ty} {a}, {b}"}),
    OpDef("bitwise_or", 2, "integral", {"*": "{out} = or {ty} {a}, {b}"}),
    OpDef("bitwise_xor", 2, "integral", {"*": "{out} = xor {ty} {a}, {b}"}),
    OpDef("bitwise_left_shift", 2, "integral", {"iu": _SHL}),
    OpDef("bitwise_right_shift", 2, "integral", {"i": _ASHR, "u": _LSHR}),
    # --- ternary ---------------------------------------------------------
    OpDef("where", 3, "same", {"*": "{out} = select i1 {a}, {ty} {b}, {ty} {c}"}),
]

OPS: dict[str, OpDef] = {row.name: row for row in _ROWS}
UNARY_OPS = tuple(name for name, row in OPS.items() if row.arity == 1)
BINARY_OPS = tuple(name for name, row in OPS.items() if row.arity == 2)

# Reductions: name -> (identity kind, accumulator rule). The codegen renders them.
REDUCE_OPS = ("sum", "prod", "max", "min", "argmax", "argmin", "any", "all")
