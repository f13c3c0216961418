"""lt.distributions against torch.distributions: the same parameters and values give
the same log_prob, entropy, moments, cdf/icdf, gradients and shapes."""

import numpy as np
import pytest

import lazyt as lt
from lazyt.distributions.gamma_sampler import gamma_sample_grad

torch = pytest.importorskip("torch")

RTOL, ATOL = 2e-4, 2e-5

# name -> (constructor kwargs as nested lists, whether to compare gradients)
CASES = {
    "Normal": dict(loc=[0.3, -1.0, 2.0], scale=[1.0, 0.5, 2.5]),
    "Bernoulli": dict(probs=[0.2, 0.5, 0.9]),
    "Bernoulli_logits": dict(logits=[-1.0, 0.0, 2.5]),
    "Categorical": dict(probs=[[0.1, 0.2, 0.7], [0.3, 0.3, 0.4]]),
    "Categorical_logits": dict(logits=[[0.5, -1.0, 2.0], [0.0, 1.0, -0.5]]),
    "Uniform": dict(low=[0.0, -2.0, 1.0], high=[1.0, 3.0, 1.5]),
    "Exponential": dict(rate=[0.5, 1.0, 3.0]),
    "Laplace": dict(loc=[0.0, 1.0, -2.0], scale=[1.0, 0.3, 2.0]),
    "LogNormal": dict(loc=[0.0, 0.5, -1.0], scale=[1.0, 0.3, 0.7]),
    "OneHotCategorical": dict(probs=[[0.1, 0.2, 0.7], [0.3, 0.3, 0.4]]),
    "Beta": dict(concentration1=[0.5, 2.0, 5.0], concentration0=[0.7, 3.0, 1.5]),
    "Gamma": dict(concentration=[0.5, 2.0, 7.0], rate=[1.0, 0.5, 3.0]),
    "Dirichlet": dict(concentration=[[0.5, 2.0, 3.0], [1.0, 1.0, 4.0]]),
    "Poisson": dict(rate=[0.5, 3.0, 20.0]),
    "Binomial": dict(total_count=[5.0, 10.0, 20.0], probs=[0.2, 0.5, 0.9]),
    "Geometric": dict(probs=[0.2, 0.5, 0.9]),
    "Cauchy": dict(loc=[0.0, 1.0, -2.0], scale=[1.0, 0.3, 2.0]),
    "StudentT": dict(df=[1.5, 3.0, 10.0], loc=[0.0, 1.0, -1.0], scale=[1.0, 2.0, 0.5]),
    "Chi2": dict(df=[1.0, 3.0, 10.0]),
    "HalfNormal": dict(scale=[1.0, 0.5, 2.5]),
    "HalfCauchy": dict(scale=[1.0, 0.5, 2.5]),
    "Gumbel": dict(loc=[0.0, 1.0, -2.0], scale=[1.0, 0.3, 2.0]),
    "Pareto": dict(scale=[1.0, 0.5, 2.0], alpha=[1.5, 3.0, 4.0]),
    "Weibull": dict(scale=[1.0, 0.5, 2.0], concentration=[1.5, 3.0, 0.8]),
    "MultivariateNormal": dict(loc=[[0.0, 1.0], [2.0, -1.0]],
                               covariance_matrix=[[2.0, 0.3], [0.3, 0.5]]),
    "MultivariateNormal_precision": dict(loc=[0.0, 1.0, 0.5],
                                         precision_matrix=[[2.0, 0.3, 0.1], [0.3, 0.5, 0.0],
                                                           [0.1, 0.0, 1.0]]),
    "MultivariateNormal_scale_tril": dict(loc=[0.0, 1.0],
                                          scale_tril=[[1.5, 0.0], [0.3, 0.5]]),
    "Multinomial": dict(total_count=6, probs=[[0.1, 0.2, 0.7], [0.3, 0.3, 0.4]]),
}
INT_PARAMS = {"total_count"}
NO_GRAD_PARAMS = {"total_count"}
# properties torch raises for (NotImplementedError) are skipped automatically
PROPERTIES = ("mean", "mode", "variance", "stddev")


def _class_name(case):
    return case.split("_")[0]


def _params(case, lib):
    out = {}
    for name, value in CASES[case].items():
        if isinstance(value, int) and name in INT_PARAMS:
            out[name] = value
        else:
            out[name] = lib.tensor(value, dtype=lib.float64 if lib is torch else lt.float64)
    return out


def _pair(case, requires_grad=False):
    torch_params, lt_params = _params(case, torch), _params(case, lt)
    if requires_grad:
        for params in (torch_params, lt_params):
            for name, value in params.items():
                if name not in NO_GRAD_PARAMS and not isinstance(value, int):
                    value.requires_grad_(True)
    cls = _class_name(case)
    return (getattr(torch.distributions, cls)(**torch_params),
            getattr(lt.distributions, cls)(**lt_params), torch_params, lt_params)


def _values(torch_dist, n=4):
    torch.manual_seed(0)
    return torch_dist.sample((n,)).detach()


def _to_lt(value):
    return lt.tensor(value.detach().numpy())


def _close(lt_value, torch_value, rtol=RTOL, atol=ATOL):
    assert tuple(lt_value.shape) == tuple(torch_value.shape)
    np.testing.assert_allclose(np.asarray(lt_value.detach().numpy(), dtype=np.float64),
                               torch_value.detach().double().numpy(), rtol=rtol, atol=atol)


@pytest.mark.parametrize("case", sorted(CASES))
def test_log_prob_entropy_and_moments_match_torch(case):
    torch_dist, lt_dist, _, _ = _pair(case)
    assert lt_dist.batch_shape == torch_dist.batch_shape
    assert lt_dist.event_shape == torch_dist.event_shape
    assert lt_dist.has_rsample == torch_dist.has_rsample
    assert type(lt_dist.support).__name__ == type(torch_dist.support).__name__
    values = _values(torch_dist)
    _close(lt_dist.log_prob(_to_lt(values)), torch_dist.log_prob(values))
    for name in ("entropy", *PROPERTIES):
        try:
            expected = getattr(torch_dist, name)
            expected = expected() if callable(expected) else expected
        except NotImplementedError:
            continue
        got = getattr(lt_dist, name)
        got = got() if callable(got) else got
        _close(got, expected)


@pytest.mark.parametrize("case", ["Normal", "Uniform", "Exponential", "Laplace", "Cauchy",
                                  "LogNormal", "HalfNormal", "Gamma", "Chi2", "HalfCauchy",
                                  "Gumbel", "Pareto", "Weibull"])
def test_cdf_and_icdf_match_torch(case):
    torch_dist, lt_dist, _, _ = _pair(case)
    values = _values(torch_dist)
    try:
        expected = torch_dist.cdf(values)
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            lt_dist.cdf(_to_lt(values))
    else:
        _close(lt_dist.cdf(_to_lt(values)), expected)
    quantiles = torch.tensor([[0.1], [0.5], [0.93]], dtype=torch.float64).expand(3, 3)
    try:
        expected = torch_dist.icdf(quantiles)
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            lt_dist.icdf(_to_lt(quantiles))
    else:
        _close(lt_dist.icdf(_to_lt(quantiles)), expected)


@pytest.mark.parametrize("case", sorted(CASES))
def test_log_prob_and_entropy_gradients_match_torch(case):
    torch_dist, lt_dist, torch_params, lt_params = _pair(case, requires_grad=True)
    values = _values(torch_dist)
    torch_loss = torch_dist.log_prob(values).sum()
    lt_loss = lt_dist.log_prob(_to_lt(values)).sum()
    try:
        torch_loss = torch_loss + torch_dist.entropy().sum()
        lt_loss = lt_loss + lt_dist.entropy().sum()
    except NotImplementedError:
        pass
    names = [n for n, v in torch_params.items() if not isinstance(v, int) and v.requires_grad]
    expected = torch.autograd.grad(torch_loss, [torch_params[n] for n in names])
    got = lt.autograd.grad(lt_loss, [lt_params[n] for n in names])
    for g, e in zip(got, expected):
        _close(g, e, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("sample_shape", [(), (5,), (2, 3)])
def test_sample_shapes_match_torch(case, sample_shape):
    torch_dist, lt_dist, _, _ = _pair(case)
    expected = torch_dist.sample(sample_shape)
    got = lt_dist.sample(sample_shape)
    assert tuple(got.shape) == tuple(expected.shape)
    assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    if torch_dist.has_rsample:
        assert tuple(lt_dist.rsample(sample_shape).shape) == tuple(expected.shape)


def test_gamma_sample_gradient_matches_torchs_standard_gamma_grad():
    alpha = torch.tensor([0.05, 0.3, 1.0, 2.5, 7.0, 30.0, 200.0], dtype=torch.float64)
    # draws spread over each distribution's bulk: mean +- 1.5 standard deviations
    x = (alpha[None] + torch.tensor([[-1.0], [0.0], [1.5]], dtype=torch.float64)
         * alpha.sqrt()[None]).clamp(min=1e-3 * alpha)
    alpha = alpha.expand_as(x)
    expected = torch._standard_gamma_grad(alpha, x)
    _close(gamma_sample_grad(_to_lt(x), _to_lt(alpha)), expected, rtol=2e-4, atol=1e-6)
