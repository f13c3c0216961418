"""validate_args: the same errors (class and message) as torch for invalid parameters
and for values outside the support; the default and its switch."""

import pytest

import lazyt as lt

torch = pytest.importorskip("torch")

INVALID_PARAMS = [
    ("Normal", dict(loc=[0.0, 1.0], scale=[1.0, -1.0])),
    ("Normal", dict(loc=[float("nan")], scale=[1.0])),
    ("Bernoulli", dict(probs=[0.5, 1.5])),
    ("Categorical", dict(probs=[[0.5, -0.5, 1.0]])),
    ("Uniform", dict(low=[0.0, 2.0], high=[1.0, 1.0])),
    ("Exponential", dict(rate=[0.0])),
    ("Laplace", dict(loc=[0.0], scale=[0.0])),
    ("Beta", dict(concentration1=[-1.0], concentration0=[1.0])),
    ("Gamma", dict(concentration=[1.0], rate=[-2.0])),
    ("Dirichlet", dict(concentration=[[1.0, -1.0]])),
    ("Poisson", dict(rate=[-1.0])),
    ("Binomial", dict(total_count=[-1.0], probs=[0.5])),
    ("Geometric", dict(probs=[0.0])),
    ("StudentT", dict(df=[-1.0])),
    ("HalfNormal", dict(scale=[-1.0])),
    ("HalfCauchy", dict(scale=[-1.0])),
    ("Gumbel", dict(loc=[0.0], scale=[-1.0])),
    ("Weibull", dict(scale=[1.0], concentration=[-1.0])),
    ("Pareto", dict(scale=[1.0], alpha=[-1.0])),
    ("Pareto", dict(scale=[-1.0], alpha=[1.0])),
    ("Chi2", dict(df=[0.0])),
    ("Cauchy", dict(loc=[0.0], scale=[0.0])),
    ("Multinomial", dict(total_count=3, probs=[[0.5, -0.5, 1.0]])),
    ("LogNormal", dict(loc=[0.0], scale=[-1.0])),
    ("MultivariateNormal", dict(loc=[0.0, 0.0], covariance_matrix=[[1.0, 2.0], [2.0, 1.0]])),
    ("OneHotCategorical", dict(probs=[[0.5, -0.5, 1.0]])),
]

OUT_OF_SUPPORT = [
    ("Normal", dict(loc=[0.0], scale=[1.0]), [float("nan")]),
    ("Bernoulli", dict(probs=[0.3]), [0.5]),
    ("Categorical", dict(probs=[0.2, 0.8]), [2.0]),
    ("Uniform", dict(low=[0.0], high=[1.0]), [1.5]),
    ("Exponential", dict(rate=[1.0]), [-1.0]),
    ("Beta", dict(concentration1=[1.0], concentration0=[2.0]), [1.5]),
    ("Gamma", dict(concentration=[1.0], rate=[2.0]), [-0.5]),
    ("Poisson", dict(rate=[1.0]), [1.5]),
    ("Binomial", dict(total_count=[3.0], probs=[0.5]), [4.0]),
    ("Dirichlet", dict(concentration=[1.0, 2.0]), [0.3, 0.3]),
    ("OneHotCategorical", dict(probs=[0.2, 0.8]), [1.0, 1.0]),
    ("Pareto", dict(scale=[1.0], alpha=[1.0]), [0.5]),
    ("Multinomial", dict(total_count=3, probs=[0.2, 0.8]), [3.0, 1.0]),
    ("Weibull", dict(scale=[1.0], concentration=[1.0]), [-0.5]),
    ("HalfCauchy", dict(scale=[1.0]), [-0.5]),
    ("HalfNormal", dict(scale=[1.0]), [-0.5]),
    ("Geometric", dict(probs=[0.5]), [-1.0]),
    ("MultivariateNormal", dict(loc=[0.0, 0.0], scale_tril=[[1.0, 0.0], [0.0, 1.0]]),
     [0.0, float("nan")]),
]


def _build(lib, name, params, **kwargs):
    tensors = {k: v if isinstance(v, int) else lib.tensor(v) for k, v in params.items()}
    return getattr(lib.distributions, name)(**tensors, **kwargs)


def _error(fn):
    """The error's class and message, with the library prefix of Size/dtype reprs removed
    (lazyt prints `lazyt.Size([2])` where torch prints `torch.Size([2])`)."""
    with pytest.raises(Exception) as info:
        fn()
    return info.type, str(info.value).replace("torch.", "").replace("lazyt.", "")


@pytest.mark.parametrize("name,params", INVALID_PARAMS, ids=[c[0] for c in INVALID_PARAMS])
def test_invalid_parameters_raise_torchs_error(name, params):
    expected = _error(lambda: _build(torch, name, params, validate_args=True))
    got = _error(lambda: _build(lt, name, params, validate_args=True))
    assert got[0] is expected[0]
    assert got[1] == expected[1]
    # switched off, torch either builds it or fails inside (a Cholesky, a nested
    # distribution validating with the default); lazyt does the same
    try:
        _build(torch, name, params, validate_args=False)
    except Exception as error:  # noqa: BLE001 (any failure class is compared below)
        with pytest.raises(Exception) as info:
            _build(lt, name, params, validate_args=False)
        assert isinstance(info.value, RuntimeError) == isinstance(error, RuntimeError)
        assert isinstance(info.value, ValueError) == isinstance(error, ValueError)
    else:
        _build(lt, name, params, validate_args=False)


@pytest.mark.parametrize("name,params,value", OUT_OF_SUPPORT, ids=[c[0] for c in OUT_OF_SUPPORT])
def test_values_outside_the_support_raise_torchs_error(name, params, value):
    expected = _error(lambda: _build(torch, name, params, validate_args=True)
                      .log_prob(torch.tensor(value)))
    got = _error(lambda: _build(lt, name, params, validate_args=True).log_prob(lt.tensor(value)))
    assert got[0] is expected[0]
    assert got[1] == expected[1]


def test_value_with_the_wrong_event_shape_raises_value_error():
    dist = lt.distributions.Dirichlet(lt.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="The right-most size of value must match event_shape"):
        dist.log_prob(lt.tensor([0.5, 0.5]))


def test_probs_and_logits_together_raise_like_torch():
    expected = _error(lambda: torch.distributions.Bernoulli(probs=0.5, logits=0.0))
    got = _error(lambda: lt.distributions.Bernoulli(probs=0.5, logits=0.0))
    assert got == expected


def test_default_validate_args_follows_set_default_validate_args():
    distribution_cls = lt.distributions.Distribution
    assert distribution_cls._validate_args is __debug__
    distribution_cls.set_default_validate_args(False)
    try:
        lt.distributions.Normal(lt.tensor([0.0]), lt.tensor([-1.0]))
    finally:
        distribution_cls.set_default_validate_args(True)
    with pytest.raises(ValueError):
        lt.distributions.Normal(lt.tensor([0.0]), lt.tensor([-1.0]))
    with pytest.raises(ValueError):
        distribution_cls.set_default_validate_args("yes")
