"""Standard-gamma sampling with lazyt ops, and its reparameterisation gradient.

Sampling is Marsaglia and Tsang's squeeze-rejection method, vectorised: every
element proposes at once, accepted proposals are kept, and rounds repeat until
all elements have one (over 95% accept per round). Concentrations below 1 use
the boost Gamma(a) = Gamma(a + 1) * U^(1/a), computed in log space so tiny
concentrations stay positive (clamped to the dtype's smallest normal, as PyTorch).

The gradient is implicit reparameterisation: with F(a, x) the regularised lower
incomplete gamma function (the CDF), dx/da = -(dF/da) / (dF/dx). dF/dx is the
density; dF/da has no closed form and is a central difference of
lt.special.gammainc in float64 (relative error about 1e-4).
"""

from __future__ import annotations

from lazyt import creation, dtypes, elementwise, math_ops
from lazyt.autograd import grad_mode
from lazyt.distributions.utils import where

_MAX_ROUNDS = 100
_gammainc = elementwise.FUNCTIONS["igamma"]


def _marsaglia_tsang(concentration):
    """Gamma(concentration, 1) draws for concentration >= 1."""
    d = concentration - 1.0 / 3.0
    c = (9.0 * d).rsqrt()
    result = creation.zeros(tuple(concentration.shape), dtype=concentration.dtype)
    done = creation.zeros(tuple(concentration.shape), dtype=dtypes.bool_)
    for _ in range(_MAX_ROUNDS):
        x = creation.randn(tuple(concentration.shape), dtype=concentration.dtype)
        u = creation.rand(tuple(concentration.shape), dtype=concentration.dtype)
        v = (1 + c * x) ** 3
        positive = v > 0
        safe_v = where(positive, v, 1.0)
        accept = positive & (u.log() < 0.5 * x * x + d - d * safe_v + d * safe_v.log())
        take = accept & ~done
        result = where(take, d * safe_v, result)
        done = done | accept
        if bool(done.all()):
            break
    return result


def standard_gamma(concentration):
    """Gamma(concentration, 1) draws of concentration's shape (no gradient)."""
    with grad_mode.no_grad():
        concentration = concentration.detach()
        small = concentration < 1
        boosted = _marsaglia_tsang(where(small, concentration + 1, concentration))
        u = creation.rand(tuple(concentration.shape), dtype=concentration.dtype)
        tiny = dtypes.finfo(concentration.dtype).tiny
        log_boost = u.clamp(min=tiny).log() / concentration
        shrunk = (boosted.log() + log_boost).exp()
        return where(small, shrunk, boosted).clamp(min=tiny)


def gamma_sample_grad(x, concentration):
    """dx/d(concentration) for x ~ Gamma(concentration, 1), holding F(a, x) fixed."""
    with grad_mode.no_grad():
        a = concentration.detach().double()
        x64 = x.detach().double()
        step = 1e-4 * a.clamp(min=1e-2)
        lower = (a - step).clamp(min=0.5 * a)
        d_cdf_d_a = (_gammainc(a + step, x64) - _gammainc(lower, x64)) / (a + step - lower)
        log_density = math_ops.xlogy(a - 1, x64) - x64 - a.lgamma()
        grad = -d_cdf_d_a / log_density.exp()
        return grad.to(x.dtype)


def rsample_standard_gamma(concentration):
    """Gamma(concentration, 1) draws whose gradient w.r.t. concentration is the
    implicit reparameterisation gradient (the value is the draw itself)."""
    x = standard_gamma(concentration)
    if not concentration.requires_grad:
        return x
    grad = gamma_sample_grad(x, concentration)
    return x + (concentration - concentration.detach()) * grad
