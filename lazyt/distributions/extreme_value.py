"""Extreme-value and power-law distributions: Gumbel, Weibull, Pareto and HalfCauchy.

Each samples by mapping noise from lt.rand through its inverse CDF, so rsample
carries gradients to the parameters.
"""

from __future__ import annotations

import math

from lazyt import creation, dtypes
from lazyt.distributions import constraints
from lazyt.distributions.continuous import Exponential
from lazyt.distributions.distribution import Distribution
from lazyt.distributions.utils import broadcast_all, where

EULER_GAMMA = 0.57721566490153286061


def _uniform_open(shape, dtype):
    """Uniform noise in (0, 1): neither end is reached, so both logs stay finite."""
    info = dtypes.finfo(dtype)
    return creation.rand(tuple(shape), dtype=dtype).clamp(min=info.tiny, max=1 - info.eps)


def _standard_exponential(shape, dtype):
    """Exponential(1) noise as -log(1 - u), u in [0, 1): finite, and a zero draw of
    u (at the generator's resolution) gives 0 rather than a huge value."""
    return -(-creation.rand(tuple(shape), dtype=dtype)).log1p()


class _Checked(Distribution):
    def _checked(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return value


class Gumbel(_Checked):
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(self.loc.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.loc + self.scale * EULER_GAMMA

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return (math.pi / math.sqrt(6)) * self.scale

    @property
    def variance(self):
        return self.stddev.pow(2)

    def rsample(self, sample_shape=()):
        u = _uniform_open(self._extended_shape(sample_shape), self.loc.dtype)
        return self.loc - self.scale * (-u.log()).log()

    def log_prob(self, value):
        z = (self._checked(value) - self.loc) / self.scale
        return -(z + (-z).exp()) - self.scale.log()

    def cdf(self, value):
        z = (self._checked(value) - self.loc) / self.scale
        return (-(-z).exp()).exp()

    def icdf(self, value):
        return self.loc - self.scale * (-value.log()).log()

    def entropy(self):
        return self.scale.log() + (1 + EULER_GAMMA)


class Weibull(_Checked):
    arg_constraints = {"scale": constraints.positive, "concentration": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, scale, concentration, validate_args=None):
        self.scale, self.concentration = broadcast_all(scale, concentration)
        super().__init__(self.scale.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.scale * (1 + self.concentration.reciprocal()).lgamma().exp()

    @property
    def mode(self):
        k = self.concentration
        # for k < 1 the base is negative and the result NaN, as in PyTorch
        return self.scale * ((k - 1) / k).pow(k.reciprocal())

    @property
    def variance(self):
        k = self.concentration
        first = (1 + k.reciprocal()).lgamma().exp()
        second = (1 + 2 / k).lgamma().exp()
        return self.scale.pow(2) * (second - first.pow(2))

    def rsample(self, sample_shape=()):
        return self.scale * _standard_exponential(self._extended_shape(sample_shape),
                                                  self.scale.dtype).pow(
            self.concentration.reciprocal())

    def log_prob(self, value):
        z = self._checked(value) / self.scale
        k = self.concentration
        return (k / self.scale).log() + (k - 1) * z.log() - z.pow(k)

    def cdf(self, value):
        return -(-(self._checked(value) / self.scale).pow(self.concentration)).expm1()

    def icdf(self, value):
        return self.scale * (-(-value).log1p()).pow(self.concentration.reciprocal())

    def entropy(self):
        k = self.concentration
        return EULER_GAMMA * (1 - k.reciprocal()) + (self.scale / k).log() + 1


class Pareto(_Checked):
    arg_constraints = {"alpha": constraints.positive, "scale": constraints.positive}
    has_rsample = True

    def __init__(self, scale, alpha, validate_args=None):
        self.scale, self.alpha = broadcast_all(scale, alpha)
        # PyTorch checks alpha first, as the rate of an inner Exponential
        Exponential(self.alpha, validate_args=validate_args)
        super().__init__(self.scale.shape, validate_args=validate_args)

    @constraints.dependent_property
    def support(self):
        return constraints.greater_than_eq(self.scale)

    @property
    def mean(self):
        alpha = self.alpha.clamp(min=1)  # alpha <= 1: infinite mean
        return alpha * self.scale / (alpha - 1)

    @property
    def mode(self):
        return self.scale

    @property
    def variance(self):
        alpha = self.alpha.clamp(min=2)  # alpha <= 2: infinite variance
        return self.scale.pow(2) * alpha / ((alpha - 1).pow(2) * (alpha - 2))

    def rsample(self, sample_shape=()):
        exponential = _standard_exponential(self._extended_shape(sample_shape), self.scale.dtype)
        return self.scale * (exponential / self.alpha).exp()

    def log_prob(self, value):
        value = self._checked(value)
        return (self.alpha.log() + self.alpha * self.scale.log()
                - (self.alpha + 1) * value.log())

    def cdf(self, value):
        return 1 - (self.scale / self._checked(value)).pow(self.alpha)

    def icdf(self, value):
        return self.scale * (-(-value).log1p() / self.alpha).exp()

    def entropy(self):
        return (self.scale / self.alpha).log() + self.alpha.reciprocal() + 1


class HalfCauchy(_Checked):
    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, scale, validate_args=None):
        (self.scale,) = broadcast_all(scale)
        super().__init__(self.scale.shape, validate_args=validate_args)

    @property
    def mean(self):
        return creation.full(tuple(self._batch_shape), math.inf, dtype=self.scale.dtype)

    @property
    def mode(self):
        return self.scale * 0

    @property
    def variance(self):
        return creation.full(tuple(self._batch_shape), math.inf, dtype=self.scale.dtype)

    def rsample(self, sample_shape=()):
        u = creation.rand(tuple(self._extended_shape(sample_shape)), dtype=self.scale.dtype)
        return self.scale * (0.5 * math.pi * u).tan()

    def log_prob(self, value):
        value = self._checked(value)
        log_density = (math.log(2 / math.pi) - self.scale.log()
                       - (value / self.scale).pow(2).log1p())
        return where(value >= 0, log_density, -math.inf)

    def cdf(self, value):
        return (self._checked(value) / self.scale).atan() * (2 / math.pi)

    def icdf(self, value):
        return self.scale * (0.5 * math.pi * value).tan()

    def entropy(self):
        return math.log(2 * math.pi) + self.scale.log()

    def __repr__(self):
        return "HalfCauchy()"  # PyTorch's is a transformed distribution: no parameters shown
