"""The regularised incomplete gamma functions P(a, x) and Q(a, x) (torch.igamma,
torch.igammac) as helper bodies in double, with loops that run until they converge.

Codegen layer: codegen/llvm_special.py merges `IGAMMA_EMITTERS` into its helper table.
Cephes' method, as PyTorch's: where x <= 1 or x <= a, the power series of P; elsewhere
the continued fraction of Q (Cephes' igamc, its convergents rescaled when they grow
large); the other function is 1 minus it. Unlike the straight-line helpers, the sums
here need a number of steps that grows with a (~sqrt(a)), so each is an LLVM loop that
stops at convergence (or after `MAX_STEPS`, which bounds the accuracy to a up to ~5e6
near x = a); an element skips the loop its region does not use.
"""

from __future__ import annotations

import math
from itertools import count

from lazyt.codegen.llvm_math import Value, _HelperBodyBuilder, libm_call

__all__ = ["IGAMMA_EMITTERS"]

MAX_STEPS = 20000
_EPSILON = 2.0 ** -54
_BIG = 2.0 ** 52
_loop_numbers = count()


def _loop(b: _HelperBodyBuilder, state: dict[str, Value], step, done) -> dict[str, Value]:
    """Emit `do { state = step(state) } while (!done(old, new) && steps < MAX_STEPS)` and
    return the final state. Every state value is a double; phi nodes carry them around."""
    label = f"loop{next(_loop_numbers)}"
    b.lines.append(f"  br label %{label}_pre")
    b.lines.append(f"{label}_pre:")
    b.lines.append(f"  br label %{label}")
    b.lines.append(f"{label}:")
    counter = Value(f"%{label}_i", "i32")
    phis = {name: Value(f"%{label}_{name}", value.ty) for name, value in state.items()}
    phi_lines = {}
    for name, value in state.items():
        phi_lines[name] = len(b.lines)
        b.lines.append(f"  {phis[name].ref} = phi {value.ty} [{value.ref}, %{label}_pre], "
                       f"[@NEXT_{name}, %{label}]")
    b.lines.append(f"  {counter.ref} = phi i32 [0, %{label}_pre], [%{label}_next_i, %{label}]")
    new = step(phis)
    b.lines.append(f"  %{label}_next_i = add i32 {counter.ref}, 1")
    exhausted = b.instruction("i1", f"icmp sge i32 %{label}_next_i, {MAX_STEPS}")
    finished = b.op("or", done(phis, new), exhausted)
    b.lines.append(f"  br i1 {finished.ref}, label %{label}_exit, label %{label}")
    b.lines.append(f"{label}_exit:")
    for name, index in phi_lines.items():
        b.lines[index] = b.lines[index].replace(f"@NEXT_{name}", new[name].ref)
    return new


def _incomplete_gamma(b: _HelperBodyBuilder, a: Value, x: Value, upper: bool) -> Value:
    """P(a, x), or Q(a, x) when `upper`, with PyTorch's special values: NaN for a < 0,
    x < 0, a = x = 0 or a = x = inf; P = 1 for a = 0 < x or x = inf; P = 0 for
    x = 0 < a or a = inf."""
    prefactor = libm_call(b, "exp", b.fsub(b.fsub(b.fmul(a, libm_call(b, "log", x)), x),
                                           libm_call(b, "lgamma", a)))
    use_fraction = b.op("and", b.fcmp("ogt", x, 1.0), b.fcmp("ogt", x, a))
    one = b.const(1.0, "double")

    # series: P = prefactor / a * sum_k x^k / ((a+1) ... (a+k))
    def series_step(s):
        r = b.fadd(s["r"], 1.0)
        term = b.fmul(s["term"], b.fdiv(x, r))
        return {"r": r, "term": term, "total": b.fadd(s["total"], term)}

    def series_done(old, new):
        small = b.fcmp("ule", new["term"], b.fmul(new["total"], _EPSILON))
        return b.op("or", small, use_fraction)

    series = _loop(b, {"r": a, "term": one, "total": one}, series_step, series_done)
    series_p = b.fdiv(b.fmul(series["total"], prefactor), a)

    # continued fraction for Q (Cephes igamc)
    y0 = b.fsub(1.0, a)
    z0 = b.fadd(b.fadd(x, y0), 1.0)
    p1, q1 = b.fadd(x, 1.0), b.fmul(z0, x)

    def fraction_step(s):
        c, y, z = b.fadd(s["c"], 1.0), b.fadd(s["y"], 1.0), b.fadd(s["z"], 2.0)
        yc = b.fmul(y, c)
        p_next = b.fsub(b.fmul(s["p1"], z), b.fmul(s["p0"], yc))
        q_next = b.fsub(b.fmul(s["q1"], z), b.fmul(s["q0"], yc))
        answer = b.select(b.fcmp("one", q_next, 0.0), b.fdiv(p_next, q_next), s["answer"])
        big = b.fcmp("ogt", b.call("llvm.fabs", p_next), _BIG)
        scale = b.select(big, b.const(1.0 / _BIG, "double"), 1.0)
        return {"c": c, "y": y, "z": z, "answer": answer,
                "p0": b.fmul(s["p1"], scale), "q0": b.fmul(s["q1"], scale),
                "p1": b.fmul(p_next, scale), "q1": b.fmul(q_next, scale)}

    def fraction_done(old, new):
        change = b.call("llvm.fabs", b.fsub(new["answer"], old["answer"]))
        converged = b.fcmp("ule", change, b.fmul(b.call("llvm.fabs", new["answer"]), _EPSILON))
        return b.op("or", converged, b.op("xor", use_fraction, b.const(1, "i1")))

    fraction = _loop(b, {"c": b.const(0.0, "double"), "y": y0, "z": z0,
                         "answer": b.fdiv(p1, q1), "p0": one, "q0": x, "p1": p1, "q1": q1},
                     fraction_step, fraction_done)
    fraction_q = b.fmul(fraction["answer"], prefactor)
    if upper:
        result = b.select(use_fraction, fraction_q, b.fsub(1.0, series_p))
        one_at, zero_at = 0.0, 1.0
    else:
        result = b.select(use_fraction, b.fsub(1.0, fraction_q), series_p)
        one_at, zero_at = 1.0, 0.0
    result = b.select(b.op("or", b.fcmp("oeq", a, 0.0), b.fcmp("oeq", x, math.inf)),
                      one_at, result)
    result = b.select(b.op("or", b.fcmp("oeq", x, 0.0), b.fcmp("oeq", a, math.inf)),
                      zero_at, result)
    invalid = b.op("or", b.fcmp("olt", a, 0.0), b.fcmp("olt", x, 0.0))
    both_zero = b.op("and", b.fcmp("oeq", a, 0.0), b.fcmp("oeq", x, 0.0))
    both_inf = b.op("and", b.fcmp("oeq", a, math.inf), b.fcmp("oeq", x, math.inf))
    invalid = b.op("or", invalid, b.op("or", both_zero, both_inf))
    invalid = b.op("or", invalid, b.fcmp("uno", a, x))
    return b.select(invalid, math.nan, result)


def _emit_igamma(b: _HelperBodyBuilder, a: Value, x: Value) -> Value:
    return _incomplete_gamma(b, a, x, upper=False)


def _emit_igammac(b: _HelperBodyBuilder, a: Value, x: Value) -> Value:
    return _incomplete_gamma(b, a, x, upper=True)


IGAMMA_EMITTERS = {"igamma": (2, _emit_igamma), "igammac": (2, _emit_igammac)}
