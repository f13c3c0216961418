"""Distributions over counts: Poisson, Binomial and Geometric.

Samplers are vectorised with lazyt ops: Geometric by inversion; Poisson and
Binomial by inversion (summing the pmf) where the mean is small and by Hörmann's
transformed rejection (PTRS, BTRS) where it is large, rounds of proposals
repeating until every element has accepted one.
"""

from __future__ import annotations

from lazyt import creation, dtypes, math_ops
from lazyt.autograd import grad_mode
from lazyt.distributions import constraints
from lazyt.distributions.distribution import Distribution
from lazyt.distributions.utils import (
    BinaryParameters,
    broadcast_all,
    check_one_of,
    softplus,
    where,
)

_MAX_ROUNDS = 200
_SMALL_MEAN = 10.0


def _zeros_like(x, dtype=None):
    return creation.zeros(tuple(x.shape), dtype=dtype or x.dtype)


def _rejection_rounds(shape, like, propose):
    """Repeat `propose() -> (value, accepted)` until every element accepted once."""
    result = _zeros_like(like)
    done = _zeros_like(like, dtypes.bool_)
    for _ in range(_MAX_ROUNDS):
        value, accepted = propose()
        result = where(accepted & ~done, value, result)
        done = done | accepted
        if bool(done.all()):
            break
    return result


def _poisson_by_inversion(rate):
    """Counts for rates below _SMALL_MEAN: the first k whose CDF reaches a uniform."""
    u = creation.rand(tuple(rate.shape), dtype=rate.dtype)
    pmf = (-rate).exp()
    cdf = pmf
    count = _zeros_like(rate)
    for k in range(1, 64):
        count = count + (u > cdf).to(rate.dtype)
        pmf = pmf * rate / k
        cdf = cdf + pmf
        if k % 16 == 0 and not bool((u > cdf).any()):
            break
    return count


def _poisson_ptrs(rate):
    """Hörmann's PTRS transformed rejection for rates of _SMALL_MEAN or more."""
    rate = rate.clamp(min=_SMALL_MEAN)  # the other elements are replaced by the caller
    log_rate = rate.log()
    b = 0.931 + 2.53 * rate.sqrt()
    a = -0.059 + 0.02483 * b
    inv_alpha = 1.1239 + 1.1328 / (b - 3.4)
    v_r = 0.9277 - 3.6224 / (b - 2)

    def propose():
        u = creation.rand(tuple(rate.shape), dtype=rate.dtype) - 0.5
        v = creation.rand(tuple(rate.shape), dtype=rate.dtype).clamp(min=1e-300)
        us = (0.5 - u.abs()).clamp(min=1e-12)
        k = ((2 * a / us + b) * u + rate + 0.43).floor()
        quick = (us >= 0.07) & (v <= v_r)
        log_accept = (v.log() + inv_alpha.log() - (a / (us * us) + b).log()
                      <= -rate + k * log_rate - (k + 1).clamp(min=1).lgamma())
        accepted = quick | ((k >= 0) & ~((us < 0.013) & (v > us)) & log_accept)
        return k, accepted

    return _rejection_rounds(rate.shape, rate, propose)


class Poisson(Distribution):
    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        super().__init__(self.rate.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.rate

    @property
    def mode(self):
        return self.rate.floor()

    @property
    def variance(self):
        return self.rate

    def sample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        with grad_mode.no_grad():
            rate = self.rate.detach().expand(shape).contiguous()
            small = rate < _SMALL_MEAN
            counts = _poisson_by_inversion(where(small, rate, 0.0))
            if not bool(small.all()):
                counts = where(small, counts, _poisson_ptrs(rate))
            return counts

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        rate, value = broadcast_all(self.rate, value)
        return math_ops.xlogy(value, rate) - rate - (value + 1).lgamma()


def _binomial_by_inversion(count, p):
    """Successes for count * p below _SMALL_MEAN (p <= 1/2): the first k whose CDF
    reaches a uniform, the pmf updated by pmf(k+1) = pmf(k) (n-k)/(k+1) p/q."""
    u = creation.rand(tuple(count.shape), dtype=count.dtype)
    q = 1 - p
    odds = p / q.clamp(min=1e-300)
    pmf = (count * (-p).log1p()).exp()  # log(1 - p) loses p below float eps
    cdf = pmf
    successes = _zeros_like(count)
    for k in range(0, 96):
        more = (u > cdf) & (successes < count)
        successes = successes + more.to(count.dtype)
        pmf = pmf * (count - k).clamp(min=0) / (k + 1) * odds
        cdf = cdf + pmf
        if k % 16 == 15 and not bool(((u > cdf) & (successes < count)).any()):
            break
    return successes


def _binomial_btrs(count, p):
    """Hörmann's BTRS transformed rejection for count * p of _SMALL_MEAN or more."""
    large = count * p >= _SMALL_MEAN
    count = where(large, count, 100.0)  # the other elements are replaced by the caller
    p = where(large, p, 0.5)
    q = 1 - p
    spq = (count * p * q).sqrt()
    b = 1.15 + 2.53 * spq
    a = -0.0873 + 0.0248 * b + 0.01 * p
    c = count * p + 0.5
    v_r = 0.92 - 4.2 / b
    alpha = (2.83 + 5.1 / b) * spq
    log_odds = (p / q).log()
    m = ((count + 1) * p).floor()
    h = (m + 1).lgamma() + (count - m + 1).lgamma()

    def propose():
        u = creation.rand(tuple(count.shape), dtype=count.dtype) - 0.5
        v = creation.rand(tuple(count.shape), dtype=count.dtype).clamp(min=1e-300)
        us = (0.5 - u.abs()).clamp(min=1e-12)
        k = ((2 * a / us + b) * u + c).floor()
        inside = (k >= 0) & (k <= count)
        quick = (us >= 0.07) & (v <= v_r)
        safe_k = k.clamp(min=0).minimum(count)
        log_v = (v * alpha / (a / (us * us) + b)).log()
        slow = log_v <= h - (safe_k + 1).lgamma() - (count - safe_k + 1).lgamma() \
            + (safe_k - m) * log_odds
        return safe_k, inside & (quick | slow)

    return _rejection_rounds(count.shape, count, propose)


class Binomial(BinaryParameters, Distribution):
    arg_constraints = {"total_count": constraints.nonnegative_integer,
                       "probs": constraints.unit_interval, "logits": constraints.real}
    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        check_one_of(probs, logits)
        if probs is not None:
            self.total_count, self.probs = broadcast_all(total_count, probs)
            self.total_count = self.total_count.type_as(self.probs)
            shape = self.probs.shape
        else:
            self.total_count, self.logits = broadcast_all(total_count, logits)
            self.total_count = self.total_count.type_as(self.logits)
            shape = self.logits.shape
        super().__init__(shape, validate_args=validate_args)

    @constraints.dependent_property(is_discrete=True)
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self):
        return self.total_count * self.probs

    @property
    def mode(self):
        return ((self.total_count + 1) * self.probs).floor().minimum(self.total_count)

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        with grad_mode.no_grad():
            count = self.total_count.detach().expand(shape).contiguous()
            probs = self.probs.detach().expand(shape).contiguous()
            flipped = probs > 0.5
            p = where(flipped, 1 - probs, probs)
            small = count * p < _SMALL_MEAN
            successes = _binomial_by_inversion(where(small, count, 0.0), p)
            if not bool(small.all()):
                successes = where(small, successes, _binomial_btrs(count, p))
            return where(flipped, count - successes, successes)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        n, k = self.total_count, value
        log_choose = (n + 1).lgamma() - (k + 1).lgamma() - (n - k + 1).lgamma()
        # k log p + (n - k) log(1 - p) = k * logits - n * log(1 + e^logits), written so
        # p = 0 or 1 (infinite logits) gives 0 * inf = 0, not NaN
        logits = self.logits
        return log_choose + k * logits - n * softplus(logits)

    def entropy(self):
        support = self.enumerate_support(expand=False)
        log_pmf = self.log_prob(support)
        return -(log_pmf.exp() * log_pmf).sum(0)

    def enumerate_support(self, expand=True):
        total = int(self.total_count.max())
        if not bool((self.total_count == total).all()):
            raise NotImplementedError("Inhomogeneous total count not supported by "
                                      "`enumerate_support`.")
        values = creation.arange(1 + total, dtype=self.total_count.dtype)
        values = values.reshape((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values


class Geometric(BinaryParameters, Distribution):
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs=None, logits=None, validate_args=None):
        check_one_of(probs, logits)
        if probs is not None:
            (self.probs,) = broadcast_all(probs)
            shape = self.probs.shape
        else:
            (self.logits,) = broadcast_all(logits)
            shape = self.logits.shape
        super().__init__(shape, validate_args=validate_args)
        if self._validate_args and probs is not None and not bool((self.probs > 0).all()):
            raise ValueError(f"Expected parameter probs ({type(self.probs).__name__} of shape "
                             f"{tuple(self.probs.shape)}) of distribution {self!r} to be "
                             f"positive but found invalid values:\n{self.probs}")

    @property
    def mean(self):
        return 1.0 / self.probs - 1.0

    @property
    def mode(self):
        return self.probs * 0

    @property
    def variance(self):
        return (1.0 / self.probs - 1.0) / self.probs

    def sample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        with grad_mode.no_grad():
            tiny = dtypes.finfo(self.probs.dtype).tiny
            u = creation.rand(shape, dtype=self.probs.dtype).clamp(min=tiny)
            return (u.log() / (-self.probs).log1p()).floor()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value, probs = broadcast_all(value, self.probs)
        probs = where((probs == 1) & (value == 0), 0.0, probs)
        return value * (-probs).log1p() + self.probs.log()

    def entropy(self):
        # -(p log p + (1 - p) log(1 - p)) / p, with log p = -softplus(-logits)
        probs = self.probs
        return (softplus(-self.logits) * probs + softplus(self.logits) * (1 - probs)) / probs

