"""Gradient rules of the special-function rows of the op table (inverse hyperbolics,
gamma family, zeta, erfinv, Bessel I0/I1, hypot, logaddexp, fmax/fmin).

Registered into `rules.RULES` by rules.py (which imports `SPECIAL_RULES` from here);
written with lazyt ops like every rule, so they fuse and differentiate again.
"""

from __future__ import annotations

import math

from lazyt import elementwise

# (op, PyTorch's backward node name, saved values per input, backward)
SPECIAL_RULES: list[tuple] = []


def _special_rule(op: str, name: str, saves: dict[int, tuple[str, ...]]):
    def register(fn):
        SPECIAL_RULES.append((op, name, saves, fn))
        return fn

    return register


def _is_tensor(x) -> bool:
    return hasattr(type(x), "_requires_grad")


@_special_rule("acosh", "AcoshBackward0", {0: ("x0",)})
def acosh_backward(ctx, grad):
    x = ctx.input(0)
    return (grad * (x * x - 1).rsqrt(),)


@_special_rule("asinh", "AsinhBackward0", {0: ("x0",)})
def asinh_backward(ctx, grad):
    x = ctx.input(0)
    return (grad * (x * x + 1).rsqrt(),)


@_special_rule("atanh", "AtanhBackward0", {0: ("x0",)})
def atanh_backward(ctx, grad):
    x = ctx.input(0)
    return (grad / (1 - x * x),)


@_special_rule("lgamma", "LgammaBackward0", {0: ("x0",)})
def lgamma_backward(ctx, grad):
    return (grad * elementwise.apply("digamma", ctx.input(0)),)


@_special_rule("digamma", "DigammaBackward0", {0: ("x0",)})
def digamma_backward(ctx, grad):
    return (grad * elementwise.apply("zeta", 2.0, ctx.input(0)),)  # polygamma(1, x)


@_special_rule("erfinv", "ErfinvBackward0", {0: ("out",)})
def erfinv_backward(ctx, grad):
    out = ctx.output()
    return (grad * (out * out).exp() * (math.sqrt(math.pi) / 2),)


@_special_rule("i0", "I0Backward0", {0: ("x0",)})
def i0_backward(ctx, grad):
    return (grad * elementwise.apply("i1", ctx.input(0)),)


@_special_rule("i1", "SpecialI1Backward0", {0: ("x0", "out")})
def i1_backward(ctx, grad):
    x, out = ctx.input(0), ctx.output()
    derivative = elementwise.apply("i0", x) - out / x
    return (grad * elementwise.where(x == 0, 0.5, derivative),)


@_special_rule("hypot", "HypotBackward0", {0: ("x0", "out"), 1: ("x1", "out")})
def hypot_backward(ctx, grad):
    out = ctx.output()
    return (grad * ctx.input(0) / out if ctx.needs_input_grad[0] else None,
            grad * ctx.input(1) / out if ctx.needs_input_grad[1] else None)


def _logaddexp_backward(ctx, grad, power):
    a, b = ctx.input(0), ctx.input(1)
    grad_a = grad / (1 + power(b - a)) if ctx.needs_input_grad[0] else None
    grad_b = grad / (1 + power(a - b)) if ctx.needs_input_grad[1] else None
    return grad_a, grad_b


@_special_rule("logaddexp", "LogaddexpBackward0", {0: ("x0", "x1"), 1: ("x0", "x1")})
def logaddexp_backward(ctx, grad):
    return _logaddexp_backward(ctx, grad, lambda t: t.exp())


@_special_rule("logaddexp2", "Logaddexp2Backward0", {0: ("x0", "x1"), 1: ("x0", "x1")})
def logaddexp2_backward(ctx, grad):
    return _logaddexp_backward(ctx, grad, lambda t: t.exp2())


def _nan_ignoring_extremum_backward(ctx, grad, first_wins):
    """fmax/fmin (PyTorch): the first operand takes the gradient where it is chosen or
    the second is NaN, ties included; the second takes the rest."""
    a, b = ctx.input(0), ctx.input(1)
    to_a = elementwise.logical_or(first_wins(a, b), elementwise.isnan(b)) if _is_tensor(
        b) else elementwise.logical_or(first_wins(a, b), math.isnan(b))
    grad_a = elementwise.where(to_a, grad, 0.0) if ctx.needs_input_grad[0] else None
    grad_b = elementwise.where(to_a, 0.0, grad) if ctx.needs_input_grad[1] else None
    return grad_a, grad_b


@_special_rule("fmax", "FmaxBackward0", {0: ("x0", "x1"), 1: ("x0", "x1")})
def fmax_backward(ctx, grad):
    return _nan_ignoring_extremum_backward(ctx, grad, lambda a, b: a >= b)


@_special_rule("fmin", "FminBackward0", {0: ("x0", "x1"), 1: ("x0", "x1")})
def fmin_backward(ctx, grad):
    return _nan_ignoring_extremum_backward(ctx, grad, lambda a, b: a <= b)


@_special_rule("zeta", "SpecialZetaBackward0", {1: ("x0", "x1")})
def zeta_backward(ctx, grad):
    if ctx.needs_input_grad[0]:
        raise RuntimeError("derivative for aten::special_zeta is not implemented")
    s, q = ctx.input(0), ctx.input(1)
    return None, grad * -s * elementwise.apply("zeta", s + 1, q)


__all__ = ["SPECIAL_RULES"]


@_special_rule("erfcx", "SpecialErfcxBackward0", {0: ("x0", "out")})
def erfcx_backward(ctx, grad):
    x, out = ctx.input(0), ctx.output()
    return (grad * (2 * x * out - 2 / math.sqrt(math.pi)),)


@_special_rule("i0e", "SpecialI0EBackward0", {0: ("x0", "out")})
def i0e_backward(ctx, grad):
    x = ctx.input(0)
    return (grad * (elementwise.apply("i1e", x) - x.sign() * ctx.output()),)


@_special_rule("i1e", "SpecialI1EBackward0", {0: ("x0", "out")})
def i1e_backward(ctx, grad):
    x, out = ctx.input(0), ctx.output()
    derivative = elementwise.apply("i0e", x) - out * (x.sign() + x.reciprocal())
    return (grad * elementwise.where(x == 0, 0.5, derivative),)


@_special_rule("_frexp_mantissa", "FrexpBackward0", {0: ("x0",)})
def frexp_mantissa_backward(ctx, grad):
    return (grad * (-elementwise.apply("_frexp_exponent", ctx.input(0))).exp2(),)


def _incomplete_gamma_backward(ctx, grad, name: str, sign: float):
    """d/dx P(a, x) = x^(a-1) e^-x / Gamma(a) (Q: its negative); PyTorch has no derivative
    in a."""
    if ctx.needs_input_grad[0]:
        raise NotImplementedError(f"the derivative for '{name}: input' is not implemented.")
    a, x = ctx.input(0), ctx.input(1)
    density = ((a - 1) * x.log() - x - elementwise.apply("lgamma", a)).exp()
    return None, grad * density * sign


@_special_rule("igamma", "IgammaBackward0", {1: ("x0", "x1")})
def igamma_backward(ctx, grad):
    return _incomplete_gamma_backward(ctx, grad, "igamma", 1.0)


@_special_rule("igammac", "IgammacBackward0", {1: ("x0", "x1")})
def igammac_backward(ctx, grad):
    return _incomplete_gamma_backward(ctx, grad, "igammac", -1.0)
