"""kl_divergence(p, q) and register_kl: closed-form KL divergences looked up by
the pair of distribution types.

Dispatch picks the registered pair whose classes are nearest to type(p) and
type(q) in their method resolution orders, so a rule for (Normal, Normal) serves
subclasses of Normal until a more specific rule is registered.
"""

from __future__ import annotations

import math

from lazyt import linalg_solvers, math_ops
from lazyt.distributions.continuous import (
    Cauchy,
    Exponential,
    HalfNormal,
    Laplace,
    LogNormal,
    Normal,
    Uniform,
)
from lazyt.distributions.counts import Binomial, Geometric, Poisson
from lazyt.distributions.discrete import Bernoulli, Categorical, OneHotCategorical
from lazyt.distributions.distribution import Distribution
from lazyt.distributions.extreme_value import EULER_GAMMA, Gumbel, Pareto
from lazyt.distributions.gamma import Beta, Dirichlet, Gamma
from lazyt.distributions.independent import Independent
from lazyt.distributions.multivariate_normal import MultivariateNormal, half_log_det
from lazyt.distributions.transformed_distribution import TransformedDistribution
from lazyt.distributions.utils import softplus, sum_rightmost, where
from lazyt.tensor import broadcast_shapes

# (type of p, type of q) -> rule; and the rule chosen for a pair of concrete types
_RULES: dict = {}
_DISPATCH_CACHE: dict = {}


def register_kl(type_p, type_q):
    """Decorator registering `rule(p, q)` as KL(p || q) for these two types."""
    def decorator(rule):
        _RULES[type_p, type_q] = rule
        _DISPATCH_CACHE.clear()
        return rule

    return decorator


def _find_rule(type_p, type_q):
    candidates = []
    for registered_p, registered_q in _RULES:
        if issubclass(type_p, registered_p) and issubclass(type_q, registered_q):
            distance_p = type_p.__mro__.index(registered_p)
            distance_q = type_q.__mro__.index(registered_q)
            candidates.append((distance_p + distance_q, distance_p, registered_p, registered_q))
    if not candidates:
        return None
    _, _, best_p, best_q = min(candidates, key=lambda c: c[:2])
    return _RULES[best_p, best_q]


def kl_divergence(p: Distribution, q: Distribution):
    """KL(p || q), elementwise over the batch shape."""
    key = (type(p), type(q))
    if key not in _DISPATCH_CACHE:
        _DISPATCH_CACHE[key] = _find_rule(*key)
    rule = _DISPATCH_CACHE[key]
    if rule is None:
        raise NotImplementedError(f"No KL(p || q) is implemented for p type "
                                  f"{type(p).__name__} and q type {type(q).__name__}")
    return rule(p, q)


def _infinite_where(condition, value):
    return where(condition, math.inf, value)


@register_kl(Normal, Normal)
def _kl_normal_normal(p, q):
    variance_ratio = (p.scale / q.scale).pow(2)
    shift = ((p.loc - q.loc) / q.scale).pow(2)
    return 0.5 * (variance_ratio + shift - 1 - variance_ratio.log())


@register_kl(LogNormal, LogNormal)
def _kl_lognormal_lognormal(p, q):
    return _kl_normal_normal(p, q)  # KL is invariant under the shared map exp


@register_kl(HalfNormal, HalfNormal)
def _kl_halfnormal_halfnormal(p, q):
    variance_ratio = (p.scale / q.scale).pow(2)
    return 0.5 * (variance_ratio - 1 - variance_ratio.log())


@register_kl(Cauchy, Cauchy)
def _kl_cauchy_cauchy(p, q):
    numerator = (p.scale + q.scale).pow(2) + (p.loc - q.loc).pow(2)
    return (numerator / (4 * p.scale * q.scale)).log()


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p, q):
    distance = (p.loc - q.loc).abs()
    return ((q.scale / p.scale).log() + distance / q.scale
            + p.scale / q.scale * (-distance / p.scale).exp() - 1)


@register_kl(Exponential, Exponential)
def _kl_exponential_exponential(p, q):
    ratio = q.rate / p.rate
    return ratio - ratio.log() - 1


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p, q):
    result = ((q.high - q.low) / (p.high - p.low)).log()
    return _infinite_where((q.low > p.low) | (q.high < p.high), result)


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p, q):
    # log p = -softplus(-logit p), log(1 - p) = -softplus(logit p)
    return (p.probs * (softplus(-q.logits) - softplus(-p.logits))
            + (1 - p.probs) * (softplus(q.logits) - softplus(p.logits)))


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p, q):
    terms = p.probs * (p.logits - q.logits)
    terms = _infinite_where((q.probs == 0).expand(tuple(terms.shape)), terms)
    terms = where((p.probs == 0).expand(tuple(terms.shape)), 0.0, terms)
    return terms.sum(-1)


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_onehot_onehot(p, q):
    return _kl_categorical_categorical(p._categorical, q._categorical)


@register_kl(Gumbel, Gumbel)
def _kl_gumbel_gumbel(p, q):
    # E_p[exp(-(x - mu_q) / b_q)] = exp((mu_q - mu_p) / b_q) Gamma(1 + b_p / b_q)
    ratio = p.scale / q.scale
    return (-ratio.log() + (p.loc - q.loc) / q.scale + EULER_GAMMA * (ratio - 1)
            + ((q.loc - p.loc) / q.scale + (1 + ratio).lgamma()).exp() - 1)


@register_kl(Pareto, Pareto)
def _kl_pareto_pareto(p, q):
    # E_p[log x] = log scale_p + 1 / alpha_p; infinite where p's support leaves q's
    result = ((p.alpha / q.alpha).log() + q.alpha * (p.scale / q.scale).log()
              + (q.alpha - p.alpha) / p.alpha)
    return _infinite_where(p.scale < q.scale, result)


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p, q):
    a_p, b_p, a_q, b_q = p.concentration, p.rate, q.concentration, q.rate
    return ((a_p - a_q) * a_p.digamma() - a_p.lgamma() + a_q.lgamma()
            + a_q * (b_p.log() - b_q.log()) + a_p * (b_q - b_p) / b_p)


@register_kl(Beta, Beta)
def _kl_beta_beta(p, q):
    a_p, b_p, a_q, b_q = p.concentration1, p.concentration0, q.concentration1, q.concentration0
    total_p = a_p + b_p
    log_beta_p = a_p.lgamma() + b_p.lgamma() - total_p.lgamma()
    log_beta_q = a_q.lgamma() + b_q.lgamma() - (a_q + b_q).lgamma()
    return (log_beta_q - log_beta_p + (a_p - a_q) * a_p.digamma() + (b_p - b_q) * b_p.digamma()
            + (a_q - a_p + b_q - b_p) * total_p.digamma())


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet_dirichlet(p, q):
    c_p, c_q = p.concentration, q.concentration
    total_p = c_p.sum(-1)
    return (total_p.lgamma() - c_q.sum(-1).lgamma() - c_p.lgamma().sum(-1)
            + c_q.lgamma().sum(-1)
            + ((c_p - c_q) * (c_p.digamma() - total_p.digamma().unsqueeze(-1))).sum(-1))


@register_kl(Poisson, Poisson)
def _kl_poisson_poisson(p, q):
    xlogy = math_ops.xlogy
    return xlogy(p.rate, p.rate) - xlogy(p.rate, q.rate) - p.rate + q.rate


@register_kl(Binomial, Binomial)
def _kl_binomial_binomial(p, q):
    if bool((p.total_count < q.total_count).any()):
        raise NotImplementedError("KL between Binomials where q.total_count > p.total_count "
                                  "is not implemented")
    kl = p.total_count * _kl_bernoulli_bernoulli(p, q)
    return _infinite_where(p.total_count > q.total_count, kl)


@register_kl(Geometric, Geometric)
def _kl_geometric_geometric(p, q):
    # log P(k) = log p + k log(1 - p), and E_p[k] = (1 - p) / p
    failures = (1 - p.probs) / p.probs
    return (p.probs.log() - q.probs.log()
            + failures * ((-p.probs).log1p() - (-q.probs).log1p()))


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_mvn_mvn(p, q):
    if p.event_shape != q.event_shape:
        raise ValueError("KL-divergence between two Multivariate Normals with different "
                         "event shapes cannot be computed")
    n = p.event_shape[0]
    batch = tuple(broadcast_shapes(tuple(p.batch_shape), tuple(q.batch_shape)))
    scale_p = p._unbroadcasted_scale_tril.expand(batch + (n, n))
    scale_q = q._unbroadcasted_scale_tril.expand(batch + (n, n))
    # tr(Sigma_q^-1 Sigma_p) = |L_q^-1 L_p|_F^2
    trace = linalg_solvers.solve_triangular(scale_q, scale_p, upper=False).pow(2).sum((-2, -1))
    diff = (q.loc - p.loc).expand(batch + (n,))
    solved = linalg_solvers.solve_triangular(scale_q, diff.unsqueeze(-1), upper=False)
    mahalanobis = solved.squeeze(-1).pow(2).sum(-1)
    return (half_log_det(scale_q) - half_log_det(scale_p)
            + 0.5 * (trace + mahalanobis - n))


@register_kl(Independent, Independent)
def _kl_independent_independent(p, q):
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError
    return sum_rightmost(kl_divergence(p.base_dist, q.base_dist), p.reinterpreted_batch_ndims)




@register_kl(TransformedDistribution, TransformedDistribution)
def _kl_transformed_transformed(p, q):
    if p.transforms != q.transforms or p.event_shape != q.event_shape:
        raise NotImplementedError
    extra = len(p.event_shape) - len(p.base_dist.event_shape)
    return sum_rightmost(kl_divergence(p.base_dist, q.base_dist), extra)
