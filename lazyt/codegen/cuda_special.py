"""Special functions libdevice lacks, rendered inline into CUDA kernels.

The CPU computes these in double with its own helpers (codegen/llvm_special.py,
llvm_bessel.py); libdevice has no digamma and no modified Bessel functions
(I0, I1, K0, K1 and their scaled forms),
so the CUDA renderer (codegen/cuda.py) emits the same algorithms as Python
statements, in float64, with the same constants and steps, and rounds the
result to the op's dtype like any other value.

Each renderer takes the codegen/cuda._Renderer (for `assign`, `emit` and
`math_function`) and the names of its float64 operands; it returns the name
of the float64 result.
"""

from __future__ import annotations

import math

from lazyt import dtypes
from lazyt.codegen.llvm_bessel import (  # (the CPU's coefficients: the same series here)
    _EULER_GAMMA,
    _I_ASYMPTOTIC_TERMS,
    _K_ASYMPTOTIC_SWITCH,
    _K_ASYMPTOTIC_TERMS,
    _K_SERIES_SWITCH,
    _TRAPEZOID_NODES,
    _TRAPEZOID_STEP,
    _asymptotic_coefficients,
    _log_series_coefficients,
    _power_series_coefficients,
)
from lazyt.codegen.llvm_special import _ZETA_BERNOULLI, _ZETA_SHIFT_STEPS

# digamma(x) = log x - 1/(2x) - sum B_2k / (2k x^2k) for x >= 10 (llvm_special.py's).
_DIGAMMA_ASYMPTOTIC = (1.0 / 12, -1.0 / 120, 1.0 / 252, -1.0 / 240, 1.0 / 132, -691.0 / 32760,
                       1.0 / 12)
_DIGAMMA_SHIFT_STEPS = 10


def _horner(renderer, x: str, coefficients: tuple[float, ...]) -> str:
    """c0 + c1 x + ... by Horner's rule with fused multiply-adds (as the CPU)."""
    acc = renderer.assign(f"float64({coefficients[-1]!r})", "sp")
    for c in reversed(coefficients[:-1]):
        renderer.emit(f"{acc} = cuda.fma({acc}, {x}, float64({c!r}))")
    return acc


def render_digamma(renderer, x: str) -> str:
    """Reflection for x < 0 (digamma(1 - x) - pi / tan(pi x), with x - rint(x)
    for the angle), the recurrence digamma(x) = digamma(x + 1) - 1/x up to
    x >= 10 (at most 10 steps), then the asymptotic series. PyTorch's special
    values: digamma(+-0) = -+inf, NaN at negative integers and at -inf."""
    f64 = dtypes.float64
    log, tan, floor, rint, copysign = (renderer.math_function(name, f64) for name in
                                       ("log", "tan", "floor", "rint", "copysign"))
    reflect = renderer.assign(f"{x} < float64(0.0)", "sp")
    shifted = renderer.assign(f"(float64(1.0) - {x}) if {reflect} else {x}", "sp")
    correction = renderer.assign("float64(0.0)", "sp")
    step = renderer.fresh("sp")
    renderer.emit(f"for {step} in range({_DIGAMMA_SHIFT_STEPS}):")
    renderer.emit(f"    if {shifted} < float64(10.0):")
    renderer.emit(f"        {correction} = {correction} - float64(1.0) / {shifted}")
    renderer.emit(f"        {shifted} = {shifted} + float64(1.0)")
    inv_square = renderer.assign(f"float64(1.0) / ({shifted} * {shifted})", "sp")
    series = renderer.assign(f"{inv_square} * {_horner(renderer, inv_square, _DIGAMMA_ASYMPTOTIC)}",
                             "sp")
    result = renderer.assign(f"(({log}({shifted}) - float64(0.5) / {shifted}) - {series}) + "
                             f"{correction}", "sp")
    pi = f"float64({math.pi!r})"
    renderer.emit(f"if {reflect}:")
    renderer.emit(f"    {result} = {result} - {pi} / {tan}(({x} - {rint}({x})) * {pi})")
    renderer.emit(f"    if {x} == {floor}({x}):")
    renderer.emit(f"        {result} = NAN")
    renderer.emit(f"if {x} == float64(0.0):")
    renderer.emit(f"    {result} = -{copysign}(float64(INF), {x})")
    return result


# Modified Bessel I0, I1 and their scaled forms: the power series below |x| = 20,
# Hankel's asymptotic series above, with llvm_bessel.py's coefficients.
_I_SWITCH = 20.0


def _bessel_series(renderer, a: str, order: int) -> str:
    """I_order(a) by its power series in q = a^2 / 4."""
    q = renderer.assign(f"({a} * {a}) * float64(0.25)", "sp")
    total = _horner(renderer, q, _power_series_coefficients(order, 1.0))
    return renderer.assign(f"{total} * ({a} * float64(0.5))", "sp") if order == 1 else total


def _bessel_asymptotic(renderer, a: str, order: int) -> str:
    """e^-a I_order(a) for large a > 0."""
    sqrt = renderer.math_function("sqrt", dtypes.float64)
    coefficients = _asymptotic_coefficients(order, _I_ASYMPTOTIC_TERMS)
    signed = tuple(c * (-1) ** k for k, c in enumerate(coefficients))
    inverse = renderer.assign(f"float64(1.0) / {a}", "sp")
    series = _horner(renderer, inverse, signed)
    return renderer.assign(f"{series} / {sqrt}({a} * float64({2.0 * math.pi!r}))", "sp")


def _modified_bessel(renderer, x: str, order: int, scaled: bool) -> str:
    f64 = dtypes.float64
    fabs, exp, copysign = (renderer.math_function(name, f64) for name in ("fabs", "exp",
                                                                           "copysign"))
    a = renderer.assign(f"{fabs}({x})", "sp")
    result = renderer.fresh("sp")
    renderer.emit(f"if {a} > float64({_I_SWITCH!r}):")
    renderer.indent += 1
    asymptotic = _bessel_asymptotic(renderer, a, order)
    renderer.emit(f"{result} = {asymptotic}" if scaled else f"{result} = {asymptotic} * {exp}({a})")
    renderer.indent -= 1
    renderer.emit("else:")
    renderer.indent += 1
    series = _bessel_series(renderer, a, order)
    renderer.emit(f"{result} = {series} * {exp}(-{a})" if scaled else f"{result} = {series}")
    renderer.indent -= 1
    if not scaled:  # (PyTorch's Chebyshev form gives NaN at +-inf)
        renderer.emit(f"if {a} == float64(INF):")
        renderer.emit(f"    {result} = NAN")
    if order == 1:
        renderer.emit(f"{result} = {copysign}({result}, {x})")
    return result


def _k_series(renderer, x: str, order: int) -> str:
    """K0 = -(log(x/2) + gamma) I0 + sum H_k q^k / k!^2;
    K1 = 1/x + log(x/2) I1 - (x/4) sum (psi(k+1) + psi(k+2)) q^k / (k! (k+1)!)."""
    log = renderer.math_function("log", dtypes.float64)
    q = renderer.assign(f"({x} * {x}) * float64(0.25)", "sp")
    log_half = renderer.assign(f"{log}({x} * float64(0.5))", "sp")
    sums = _horner(renderer, q, _log_series_coefficients(order, 1.0))
    bessel_i = _bessel_series(renderer, x, order)
    if order == 0:
        return renderer.assign(f"{sums} - ({log_half} + float64({_EULER_GAMMA!r})) * {bessel_i}",
                               "sp")
    return renderer.assign(f"(float64(1.0) / {x} + {log_half} * {bessel_i}) - "
                           f"{sums} * ({x} * float64(0.25))", "sp")


def _scaled_k_large(renderer, x: str, order: int) -> str:
    """e^x K_order(x) for x > 2: Hankel's series past 15, else the trapezoidal
    rule on int_0^inf e^(-x (cosh t - 1)) cosh(order t) dt."""
    exp, sqrt = (renderer.math_function(name, dtypes.float64) for name in ("exp", "sqrt"))
    result = renderer.fresh("sp")
    renderer.emit(f"if {x} > float64({_K_ASYMPTOTIC_SWITCH!r}):")
    renderer.indent += 1
    inverse = renderer.assign(f"float64(1.0) / {x}", "sp")
    series = _horner(renderer, inverse, tuple(_asymptotic_coefficients(order,
                                                                       _K_ASYMPTOTIC_TERMS)))
    renderer.emit(f"{result} = {series} * {sqrt}(float64({math.pi / 2.0!r}) / {x})")
    renderer.indent -= 1
    renderer.emit("else:")
    renderer.indent += 1
    renderer.emit(f"{result} = float64(0.0)")
    for i in range(_TRAPEZOID_NODES):
        t = i * _TRAPEZOID_STEP
        weight = _TRAPEZOID_STEP * (0.5 if i == 0 else 1.0) * math.cosh(order * t)
        renderer.emit(f"{result} = cuda.fma({exp}({x} * float64({-(math.cosh(t) - 1.0)!r})), "
                      f"float64({weight!r}), {result})")
    renderer.indent -= 1
    return result


def _modified_bessel_k(renderer, x: str, order: int, scaled: bool) -> str:
    """K_order(x) (or e^x K_order(x)): the series up to 2, then the large-x
    forms; inf at 0, NaN below 0 (as the CPU helper)."""
    exp = renderer.math_function("exp", dtypes.float64)
    result = renderer.fresh("sp")
    renderer.emit(f"if {x} < float64(0.0):")
    renderer.emit(f"    {result} = NAN")
    renderer.emit(f"elif {x} == float64(0.0):")
    renderer.emit(f"    {result} = float64(INF)")
    renderer.emit(f"elif {x} > float64({_K_SERIES_SWITCH!r}):")
    renderer.indent += 1
    large = _scaled_k_large(renderer, x, order)
    renderer.emit(f"{result} = {large}" if scaled else f"{result} = {large} * {exp}(-{x})")
    renderer.indent -= 1
    renderer.emit("else:")
    renderer.indent += 1
    series = _k_series(renderer, x, order)
    renderer.emit(f"{result} = {series} * {exp}({x})" if scaled else f"{result} = {series}")
    renderer.indent -= 1
    return result


def render_zeta(renderer, s: str, q: str) -> str:
    """The Hurwitz zeta(s, q) = sum_k (q + k)^-s: terms summed while k < 9 or
    q + k <= 9 (at most 40 steps), the rest by Euler-Maclaurin, as Cephes
    (and PyTorch). s = 1 gives inf, s < 1 NaN; q a non-positive integer gives
    inf, q < 0 with a non-integer s NaN."""
    power, floor = (renderer.math_function(name, dtypes.float64) for name in ("pow", "floor"))
    total = renderer.assign(f"{power}({q}, -{s})", "sp")
    a = renderer.assign(q, "sp")
    term = renderer.assign(total, "sp")
    step = renderer.fresh("sp")
    for count, condition in ((9, None), (_ZETA_SHIFT_STEPS - 9, f"{a} <= float64(9.0)")):
        renderer.emit(f"for {step} in range({count}):")
        indent = "    "
        if condition is not None:
            renderer.emit(f"    if {condition}:")
            indent = "        "
        renderer.emit(f"{indent}{a} = {a} + float64(1.0)")
        renderer.emit(f"{indent}{term} = {power}({a}, -{s})")
        renderer.emit(f"{indent}{total} = {total} + {term}")
    renderer.emit(f"{total} = {total} + ({term} * {a}) / ({s} - float64(1.0))")
    renderer.emit(f"{total} = {total} - {term} * float64(0.5)")
    factor = renderer.assign("float64(1.0)", "sp")
    k = renderer.assign("float64(0.0)", "sp")
    for coefficient in _ZETA_BERNOULLI:
        renderer.emit(f"{factor} = {factor} * ({s} + {k})")
        renderer.emit(f"{term} = {term} / {a}")
        renderer.emit(f"{total} = {total} + ({factor} * {term}) / float64({coefficient!r})")
        renderer.emit(f"{k} = {k} + float64(1.0)")
        renderer.emit(f"{factor} = {factor} * ({s} + {k})")
        renderer.emit(f"{term} = {term} / {a}")
        renderer.emit(f"{k} = {k} + float64(1.0)")
    renderer.emit(f"if {q} <= float64(0.0) and {s} != {floor}({s}):")
    renderer.emit(f"    {total} = NAN")
    renderer.emit(f"if {q} <= float64(0.0) and {q} == {floor}({q}):")
    renderer.emit(f"    {total} = float64(INF)")
    renderer.emit(f"if {s} < float64(1.0):")
    renderer.emit(f"    {total} = NAN")
    renderer.emit(f"if {s} == float64(1.0):")
    renderer.emit(f"    {total} = float64(INF)")
    return total


# op -> its renderer (ops of one or two float operands, computed in float64)
INLINE_SPECIAL_FUNCTIONS = {
    "digamma": render_digamma,
    "i0": lambda renderer, x: _modified_bessel(renderer, x, 0, scaled=False),
    "i1": lambda renderer, x: _modified_bessel(renderer, x, 1, scaled=False),
    "i0e": lambda renderer, x: _modified_bessel(renderer, x, 0, scaled=True),
    "i1e": lambda renderer, x: _modified_bessel(renderer, x, 1, scaled=True),
    "modified_bessel_k0": lambda renderer, x: _modified_bessel_k(renderer, x, 0, scaled=False),
    "modified_bessel_k1": lambda renderer, x: _modified_bessel_k(renderer, x, 1, scaled=False),
    "scaled_modified_bessel_k0": lambda renderer, x: _modified_bessel_k(renderer, x, 0,
                                                                        scaled=True),
    "scaled_modified_bessel_k1": lambda renderer, x: _modified_bessel_k(renderer, x, 1,
                                                                        scaled=True),
    "zeta": render_zeta,
}
