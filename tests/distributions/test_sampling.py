"""Samples from lt.distributions have the right moments, shapes and support, and
rsample carries reparameterisation gradients (no torch needed: lazyt's RNG differs
from torch's, so sampled values are checked statistically)."""

import math

import numpy as np
import pytest

import lazyt as lt

D = lt.distributions
N = 20_000


def _moments(dist):
    samples = dist.sample((N,)).double()
    return samples.mean(0), samples.var(0)


def _close_to(got, expected, tol):
    np.testing.assert_allclose(got.detach().numpy(), np.asarray(expected, dtype=np.float64),
                               rtol=tol, atol=tol)


@pytest.mark.parametrize("make", [
    lambda: D.Normal(lt.tensor([0.0, 3.0]), lt.tensor([1.0, 0.5])),
    lambda: D.Gamma(lt.tensor([0.3, 1.0, 4.0, 40.0]), lt.tensor([1.0, 2.0, 0.5, 4.0])),
    lambda: D.Beta(lt.tensor([0.5, 2.0, 6.0]), lt.tensor([0.5, 5.0, 1.5])),
    lambda: D.Dirichlet(lt.tensor([0.7, 2.0, 4.0])),
    lambda: D.Chi2(lt.tensor([1.0, 5.0])),
    lambda: D.Poisson(lt.tensor([0.4, 3.0, 12.0, 150.0])),
    lambda: D.Binomial(lt.tensor([5.0, 300.0, 0.0]), lt.tensor([0.3, 0.6, 0.5])),
    lambda: D.Geometric(lt.tensor([0.2, 0.7])),
    lambda: D.Exponential(lt.tensor([0.5, 4.0])),
    lambda: D.Laplace(lt.tensor([1.0]), lt.tensor([2.0])),
    lambda: D.Uniform(lt.tensor([-1.0]), lt.tensor([3.0])),
    lambda: D.Bernoulli(lt.tensor([0.1, 0.6])),
    lambda: D.OneHotCategorical(lt.tensor([0.2, 0.5, 0.3])),
    lambda: D.StudentT(lt.tensor([6.0]), lt.tensor([1.0]), lt.tensor([2.0])),
    lambda: D.MultivariateNormal(lt.tensor([1.0, -1.0]),
                                 lt.tensor([[2.0, 0.5], [0.5, 1.0]])),
    lambda: D.Multinomial(10, lt.tensor([0.2, 0.5, 0.3])),
    lambda: D.Gumbel(lt.tensor([0.0, 2.0]), lt.tensor([1.0, 0.5])),
    lambda: D.Weibull(lt.tensor([1.0, 2.0]), lt.tensor([2.0, 3.5])),
    lambda: D.Pareto(lt.tensor([1.0]), lt.tensor([8.0])),
    lambda: D.LogNormal(lt.tensor([0.0]), lt.tensor([0.25])),
    lambda: D.HalfNormal(lt.tensor([1.5])),
], ids=["Normal", "Gamma", "Beta", "Dirichlet", "Chi2", "Poisson", "Binomial", "Geometric",
        "Exponential", "Laplace", "Uniform", "Bernoulli", "OneHotCategorical",
        "StudentT", "MultivariateNormal", "Multinomial", "Gumbel", "Weibull", "Pareto",
        "LogNormal", "HalfNormal"])
def test_sample_moments_match_the_distribution(make):
    lt.manual_seed(0)
    dist = make()
    mean, var = _moments(dist)
    _close_to(mean, dist.mean.double(), 0.05 * max(1.0, float(dist.stddev.max())))
    _close_to(var, dist.variance.double(), 0.08 * max(1.0, float(dist.variance.max())))
    sample = dist.sample((3,))
    assert bool(dist.support.check(sample).all())
    assert sample.dtype == lt.float32


def test_categorical_sample_frequencies_match_probs():
    lt.manual_seed(5)
    dist = D.Categorical(lt.tensor([0.2, 0.5, 0.3]))
    samples = dist.sample((N,))
    assert samples.dtype == lt.int64
    frequencies = lt.nn.functional.one_hot(samples, 3).double().mean(0)
    _close_to(frequencies, [0.2, 0.5, 0.3], 0.02)


def test_binomial_and_poisson_samplers_cover_extreme_parameters():
    lt.manual_seed(6)
    count = lt.tensor([1e6, 1e6, 40.0, 20.0, 7.0, 3.0])
    probs = lt.tensor([1e-6, 0.4, 1.0, 0.0, 0.95, 0.5])
    samples = D.Binomial(count, probs).sample((N,)).double()
    expected_mean = (count * probs).double()
    _close_to(samples.mean(0) / expected_mean.clamp(min=1), expected_mean / expected_mean.clamp(
        min=1), 0.03)
    _close_to(samples.var(0), (count * probs * (1 - probs)).double(), 0.05 * 2.4e5)
    assert bool((samples >= 0).all()) and bool((samples <= count.double()).all())
    rates = lt.tensor([0.0, 1e-3, 9.99, 10.0, 1e5])
    poisson = D.Poisson(rates).sample((N,)).double()
    _close_to(poisson.mean(0) / rates.double().clamp(min=1),
              rates.double() / rates.double().clamp(min=1), 0.03)


def test_gamma_samples_stay_positive_for_tiny_concentrations():
    lt.manual_seed(7)
    samples = D.Gamma(lt.tensor([1e-3, 0.05]), lt.tensor([1.0, 1.0])).sample((N,))
    assert bool((samples > 0).all())
    _close_to(samples.double().mean(0), [1e-3, 0.05], 0.01)


def test_log_prob_works_in_deferred_mode_and_under_compile():
    dist = D.Normal(lt.tensor([0.0, 1.0]), lt.tensor([1.0, 2.0]))
    value = lt.tensor([0.5, -0.5])
    eager = dist.log_prob(value)
    with lt.deferred():
        deferred = D.Normal(lt.tensor([0.0, 1.0]), lt.tensor([1.0, 2.0])).log_prob(value)
    _close_to(deferred, eager, 1e-6)

    @lt.compile
    def loss(loc, x):
        # validation reads values, so it is skipped while lt.compile traces
        return D.Normal(loc, lt.tensor([1.0, 2.0])).log_prob(x).sum()

    assert abs(float(loss(lt.tensor([0.0, 1.0]), value)) - float(eager.sum())) < 1e-5
    shifted = D.Normal(lt.tensor([0.5, 1.0]), lt.tensor([1.0, 2.0])).log_prob(value).sum()
    assert abs(float(loss(lt.tensor([0.5, 1.0]), value)) - float(shifted)) < 1e-5


def test_multivariate_normal_sample_covariance():
    lt.manual_seed(1)
    cov = lt.tensor([[2.0, 0.5], [0.5, 1.0]])
    samples = D.MultivariateNormal(lt.zeros(2), cov).sample((N,)).double()
    _close_to(samples.T @ samples / N, cov.double(), 0.08)


def test_gamma_rsample_gradient_is_unbiased():
    # E[x] = alpha / rate, so d E[x] / d alpha = 1 / rate and d E[x] / d rate = -alpha / rate^2
    lt.manual_seed(2)
    alpha = lt.tensor([0.4, 2.0, 9.0], requires_grad=True)
    rate = lt.tensor([1.0, 2.0, 0.5], requires_grad=True)
    D.Gamma(alpha, rate).rsample((N,)).mean(0).sum().backward()
    _close_to(alpha.grad, [1.0, 0.5, 2.0], 0.06)
    _close_to(rate.grad, [-0.4, -0.5, -36.0], 0.06 * 36)


def test_beta_and_dirichlet_rsample_gradients_are_unbiased():
    lt.manual_seed(3)
    a = lt.tensor([2.0], requires_grad=True)
    b = lt.tensor([3.0], requires_grad=True)
    D.Beta(a, b).rsample((N,)).mean().backward()
    # mean = a / (a + b): d/da = b / (a+b)^2, d/db = -a / (a+b)^2
    _close_to(a.grad, [3.0 / 25.0], 0.01)
    _close_to(b.grad, [-2.0 / 25.0], 0.01)
    conc = lt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    D.Dirichlet(conc).rsample((N,)).mean(0)[0].backward()
    _close_to(conc.grad, [5.0 / 36.0, -1.0 / 36.0, -1.0 / 36.0], 0.01)


def test_normal_rsample_is_loc_plus_scale_times_noise():
    loc = lt.tensor([1.0, -2.0], requires_grad=True)
    scale = lt.tensor([0.5, 2.0], requires_grad=True)
    lt.manual_seed(4)
    sample = D.Normal(loc, scale).rsample((7,))
    lt.manual_seed(4)
    noise = D.Normal(lt.zeros(2), lt.ones(2)).sample((7,))
    _close_to(sample, (loc + scale * noise).detach(), 1e-6)
    sample.sum().backward()
    _close_to(loc.grad, [7.0, 7.0], 1e-5)
    _close_to(scale.grad, noise.sum(0), 1e-5)


def test_sample_has_no_grad_and_rsample_raises_without_reparameterisation():
    dist = D.Normal(lt.tensor([0.0], requires_grad=True), lt.tensor([1.0]))
    assert not dist.sample().requires_grad
    assert dist.rsample().requires_grad
    with pytest.raises(NotImplementedError):
        D.Bernoulli(lt.tensor([0.5])).rsample()


@pytest.mark.parametrize("sample_shape", [(), (4,), (2, 3)])
def test_expand_gives_the_new_batch_shape(sample_shape):
    dist = D.Gamma(lt.tensor([1.0, 2.0]), lt.tensor([1.0, 3.0])).expand((5, 2))
    assert dist.batch_shape == (5, 2)
    assert dist.sample(sample_shape).shape == (*sample_shape, 5, 2)
    assert dist.log_prob(lt.ones(5, 2)).shape == (5, 2)


def test_enumerate_support():
    cat = D.Categorical(lt.tensor([[0.2, 0.8], [0.5, 0.5]]))
    assert cat.enumerate_support().tolist() == [[0, 0], [1, 1]]
    assert cat.enumerate_support(expand=False).shape == (2, 1)
    bern = D.Bernoulli(lt.tensor([0.3]))
    assert bern.enumerate_support().tolist() == [[0.0], [1.0]]
    one_hot = D.OneHotCategorical(lt.tensor([0.2, 0.3, 0.5]))
    assert one_hot.enumerate_support().tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]


def test_utils_probs_logits_round_trip_and_broadcast_all():
    utils = D.utils
    probs = lt.tensor([0.2, 0.3, 0.5])
    _close_to(utils.logits_to_probs(utils.probs_to_logits(probs)), probs, 1e-6)
    binary = lt.tensor([0.25])
    _close_to(utils.probs_to_logits(binary, is_binary=True), [math.log(1 / 3)], 1e-6)
    a, b = utils.broadcast_all(lt.tensor([1.0, 2.0]), 3.0)
    assert a.shape == b.shape == (2,) and b.tolist() == [3.0, 3.0]
    with pytest.raises(ValueError):
        utils.broadcast_all("x", 1.0)


def test_constraints_check_values():
    c = D.constraints
    assert c.positive.check(lt.tensor([1.0, 0.0, -1.0])).tolist() == [True, False, False]
    assert c.unit_interval.check(lt.tensor([0.0, 1.0, 1.5])).tolist() == [True, True, False]
    assert c.simplex.check(lt.tensor([[0.5, 0.5], [0.5, 0.6]])).tolist() == [True, False]
    assert c.integer_interval(0, 3).check(lt.tensor([0.0, 3.0, 1.5])).tolist() == [
        True, True, False]
    assert c.boolean.check(lt.tensor([0.0, 1.0, 0.5])).tolist() == [True, True, False]
    assert c.nonnegative_integer.check(lt.tensor([0.0, 2.0, -1.0])).tolist() == [
        True, True, False]
    assert c.greater_than(1.0).check(lt.tensor([1.0, 2.0])).tolist() == [False, True]
    assert c.interval(0.0, 2.0).check(lt.tensor([0.0, 2.0, 2.5])).tolist() == [True, True, False]
    assert c.real.check(lt.tensor([float("nan"), 1.0])).tolist() == [False, True]
    assert c.is_dependent(D.Uniform.support)
