"""Numba-CUDA Python text for every elementwise op of the op table, per operand kind.

The GPU backend's half of an op definition, beside codegen/llvm_ops.py (the
CPU's): lazyt/ir/ops.py says what an op is; this file says how
codegen/cuda.py renders it as a Python expression that Numba-CUDA compiles
(and that Numba's simulator runs as plain Python). Keyed by op name, then
operand kind ("f", "i", "u", "b"; "iu" both integer kinds, "*" every kind).

Placeholders:
  {a} {b} {c}   operand expressions (already in registers)
  {T}           the register type's constructor of the last operand (float32, int8, ...)
  {f:NAME}      the math function NAME for {T}'s width (MATH_FUNCTIONS below)
The renderer wraps every result in its dtype's constructor, so integer
results wrap like PyTorch's and float32 stays float32.

digamma, zeta and the modified Bessel functions (i0, i1, K0, K1 and their
scaled forms) are rendered inline (codegen/cuda_special.py: libdevice has
none). Ops missing from both (airy_ai, igamma/igammac, frexp) are not
available on CUDA yet: using one on a CUDA tensor raises a RuntimeError
naming the op.
"""

from __future__ import annotations

# Math functions by name: (libdevice name for float32, for float64, numpy ufunc name
# under the simulator). On the GPU they are libdevice's; the simulator runs the
# numpy ufuncs, which give inf/NaN where Python's math module would raise.
MATH_FUNCTIONS: dict[str, tuple[str, str, str]] = {
    "exp": ("expf", "exp", "exp"), "exp2": ("exp2f", "exp2", "exp2"),
    "log": ("logf", "log", "log"), "log2": ("log2f", "log2", "log2"),
    "log10": ("log10f", "log10", "log10"), "log1p": ("log1pf", "log1p", "log1p"),
    "expm1": ("expm1f", "expm1", "expm1"), "sqrt": ("sqrtf", "sqrt", "sqrt"),
    "sin": ("sinf", "sin", "sin"), "cos": ("cosf", "cos", "cos"), "tan": ("tanf", "tan", "tan"),
    "asin": ("asinf", "asin", "arcsin"), "acos": ("acosf", "acos", "arccos"),
    "atan": ("atanf", "atan", "arctan"), "sinh": ("sinhf", "sinh", "sinh"),
    "cosh": ("coshf", "cosh", "cosh"), "tanh": ("tanhf", "tanh", "tanh"),
    "asinh": ("asinhf", "asinh", "arcsinh"), "acosh": ("acoshf", "acosh", "arccosh"),
    "atanh": ("atanhf", "atanh", "arctanh"), "erf": ("erff", "erf", "erf"),
    "erfc": ("erfcf", "erfc", "erfc"), "lgamma": ("lgammaf", "lgamma", "lgamma"),
    "floor": ("floorf", "floor", "floor"), "ceil": ("ceilf", "ceil", "ceil"),
    "rint": ("rintf", "rint", "rint"), "trunc": ("truncf", "trunc", "trunc"),
    "fabs": ("fabsf", "fabs", "fabs"), "fmod": ("fmodf", "fmod", "fmod"),
    "pow": ("powf", "pow", "power"), "atan2": ("atan2f", "atan2", "arctan2"),
    "copysign": ("copysignf", "copysign", "copysign"), "fmax": ("fmaxf", "fmax", "fmax"),
    "fmin": ("fminf", "fmin", "fmin"), "hypot": ("hypotf", "hypot", "hypot"),
    "nextafter": ("nextafterf", "nextafter", "nextafter"),
    # Special functions libdevice has (numpy has none of them: the simulator
    # takes scipy.special's, and needs scipy for them).
    "erfinv": ("erfinvf", "erfinv", "erfinv"), "erfcx": ("erfcxf", "erfcx", "erfcx"),
    "bessel_j0": ("j0f", "j0", "j0"), "bessel_j1": ("j1f", "j1", "j1"),
    "bessel_y0": ("y0f", "y0", "y0"), "bessel_y1": ("y1f", "y1", "y1"),
}
# erf, erfc and lgamma have no numpy ufunc: the simulator takes them from math.
SIMULATOR_FROM_MATH = ("erf", "erfc", "lgamma")
SIMULATOR_FROM_SCIPY = ("erfinv", "erfcx", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1")


def _unary(name: str) -> dict[str, str]:
    return {"f": f"{{f:{name}}}({{a}})"}


def _binary(name: str) -> dict[str, str]:
    return {"f": f"{{f:{name}}}({{a}}, {{b}})"}


def _compare(symbol: str) -> dict[str, str]:
    return {"*": f"({{a}} {symbol} {{b}})"}


_IDENTITY = "{a}"
_NAN_MAX = "({a} if {a} != {a} else ({b} if {b} != {b} else ({a} if {a} > {b} else {b})))"
_NAN_MIN = "({a} if {a} != {a} else ({b} if {b} != {b} else ({a} if {a} < {b} else {b})))"
# C's fmod on integers: the remainder takes the dividend's sign.
_INT_FMOD = ("({a} % {b} - ({b} if {a} % {b} != 0 and ({a} % {b} < 0) != ({a} < 0) "
             "else {T}(0)))")
# PyTorch's float remainder: the result takes the divisor's sign.
_FLOAT_REMAINDER = ("({f:fmod}({a}, {b}) + ({b} if {f:fmod}({a}, {b}) != 0 and "
                    "({f:fmod}({a}, {b}) < 0) != ({b} < 0) else {T}(0)))")

CUDA_TEMPLATES: dict[str, dict[str, str]] = {
    # --- unary -----------------------------------------------------------
    "neg": {"f": "(-{a})", "iu": "(-{a})"},
    "abs": {"f": "{f:fabs}({a})", "i": "abs({a})", "u": _IDENTITY, "b": _IDENTITY},
    **{name: _unary(name) for name in (
        "exp", "exp2", "log", "log2", "log10", "log1p", "expm1", "sqrt", "sin", "cos", "tan",
        "asin", "acos", "atan", "sinh", "cosh", "tanh", "erf", "erfc", "asinh", "acosh",
        "atanh", "lgamma", "erfinv", "erfcx", "bessel_j0", "bessel_j1", "bessel_y0",
        "bessel_y1")},
    "rsqrt": {"f": "({T}(1.0) / {f:sqrt}({a}))"},
    "sigmoid": {"f": "({T}(1.0) / ({T}(1.0) + {f:exp}(-{a})))"},
    "reciprocal": {"f": "({T}(1.0) / {a})"},
    "relu": {"f": "({T}(0.0) if {a} < 0 else {a})", "i": "({T}(0) if {a} < 0 else {a})",
             "u": _IDENTITY},
    "sign": {"f": "({T}(1.0) if {a} > 0 else ({T}(-1.0) if {a} < 0 else {a}))",
             "i": "({T}(1) if {a} > 0 else ({T}(-1) if {a} < 0 else {T}(0)))",
             "u": "({T}(1) if {a} > 0 else {T}(0))", "b": _IDENTITY},
    "floor": {"f": "{f:floor}({a})", "*": _IDENTITY},
    "ceil": {"f": "{f:ceil}({a})", "*": _IDENTITY},
    "round": {"f": "{f:rint}({a})", "*": _IDENTITY},
    "trunc": {"f": "{f:trunc}({a})", "*": _IDENTITY},
    "frac": {"f": "({a} - {f:trunc}({a}))"},
    "bitwise_not": {"iu": "(~{a})", "b": "(not {a})"},
    "isnan": {"f": "({a} != {a})"},
    "isinf": {"f": "({f:fabs}({a}) == INF)"},
    "isfinite": {"f": "({f:fabs}({a}) < INF)"},
    # --- binary ----------------------------------------------------------
    "add": {"f": "({a} + {b})", "iu": "({a} + {b})", "b": "({a} or {b})"},
    "sub": {"f": "({a} - {b})", "iu": "({a} - {b})"},
    "mul": {"f": "({a} * {b})", "iu": "({a} * {b})", "b": "({a} and {b})"},
    "div": {"f": "({a} / {b})"},
    "floordiv": {"f": "{f:floor}({a} / {b})", "iu": "({a} // {b})"},
    "remainder": {"f": _FLOAT_REMAINDER, "iu": "({a} % {b})"},
    "fmod": {"f": "{f:fmod}({a}, {b})", "i": _INT_FMOD, "u": "({a} % {b})"},
    # Integer powers are a loop (by squaring): codegen/cuda.py renders them inline.
    "pow": {"f": "{f:pow}({a}, {b})", "iu": "ipow({a}, {b})"},
    "atan2": _binary("atan2"),
    "copysign": _binary("copysign"),
    "maximum": {"f": _NAN_MAX, "iu": "max({a}, {b})", "b": "({a} or {b})"},
    "minimum": {"f": _NAN_MIN, "iu": "min({a}, {b})", "b": "({a} and {b})"},
    "fmax": {"f": "{f:fmax}({a}, {b})", "iu": "max({a}, {b})", "b": "({a} or {b})"},
    "fmin": {"f": "{f:fmin}({a}, {b})", "iu": "min({a}, {b})", "b": "({a} and {b})"},
    "hypot": _binary("hypot"),
    "logaddexp": {"f": "(max({a}, {b}) + {f:log1p}({f:exp}(-{f:fabs}({a} - {b}))))"},
    "logaddexp2": {"f": "(max({a}, {b}) + {f:log2}({T}(1.0) + {f:exp2}(-{f:fabs}({a} - {b}))))"},
    "nextafter": _binary("nextafter"),
    "eq": _compare("=="), "ne": _compare("!="), "lt": _compare("<"),
    "le": _compare("<="), "gt": _compare(">"), "ge": _compare(">="),
    "bitwise_and": {"iu": "({a} & {b})", "b": "({a} and {b})"},
    "bitwise_or": {"iu": "({a} | {b})", "b": "({a} or {b})"},
    "bitwise_xor": {"iu": "({a} ^ {b})", "b": "({a} != {b})"},
    "bitwise_left_shift": {"iu": "({a} << {b})"},
    "bitwise_right_shift": {"iu": "({a} >> {b})"},
    # --- ternary ---------------------------------------------------------
    "where": {"*": "({b} if {a} else {c})"},
}

def cuda_template(op: str, kind: str) -> str | None:
    """The template rendering op for operands of kind ("f", "i", "u" or "b"), if any."""
    row = CUDA_TEMPLATES.get(op)
    if row is None:
        return None
    for key, template in row.items():
        if kind in key or key == "*":
            return template
    return None
