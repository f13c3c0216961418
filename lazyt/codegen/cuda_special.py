"""Special functions libdevice lacks, rendered inline into CUDA kernels.

The CPU computes these in double with its own helpers (codegen/llvm_special.py);
libdevice has no digamma, so the CUDA renderer (codegen/cuda.py) emits the
same algorithm as Python statements, in float64, with the same constants and
steps, and rounds the result to the op's dtype like any other value.

Each renderer takes the codegen/cuda._Renderer (for `assign`, `emit` and
`math_function`) and the name of a float64 value; it returns the name of the
float64 result.
"""

from __future__ import annotations

import math

from lazyt import dtypes

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


# op -> its renderer (unary ops, computed in float64)
INLINE_SPECIAL_FUNCTIONS = {"digamma": render_digamma}
