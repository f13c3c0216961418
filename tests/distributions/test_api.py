"""The API around the densities matches torch: reprs, constraint reprs and checks,
expand, enumerate_support, constructor errors and register_kl's argument checks."""

import pytest

import lazyt as lt
from tests.distributions.test_against_torch import CASES, _close, _pair, _to_lt, _values

torch = pytest.importorskip("torch")


def _normalised(text):
    return str(text).replace("torch.", "").replace("lazyt.", "")


def _error(fn):
    with pytest.raises(Exception) as info:
        fn()
    return info.type, _normalised(info.value)


REPRS = [
    lambda lib: lib.distributions.Normal(lib.tensor([0.0, 1.0]), lib.tensor([1.0, 2.0])),
    lambda lib: lib.distributions.Normal(0.0, 1.0),
    lambda lib: lib.distributions.Normal(lib.tensor([0.5]), 2.0),
    lambda lib: lib.distributions.Bernoulli(logits=lib.zeros(3)),
    lambda lib: lib.distributions.Categorical(lib.tensor([[0.2, 0.8]])),
    lambda lib: lib.distributions.Uniform(lib.zeros(2), lib.ones(2)),
    lambda lib: lib.distributions.Gamma(lib.tensor([1.0]), lib.tensor([2.0])),
    lambda lib: lib.distributions.Beta(lib.tensor([1.0]), lib.tensor([2.0])),
    lambda lib: lib.distributions.Chi2(lib.tensor([1.0, 2.0])),
    lambda lib: lib.distributions.StudentT(lib.tensor([3.0])),
    lambda lib: lib.distributions.Gumbel(lib.tensor([1.0, 2.0]), 1.0),
    lambda lib: lib.distributions.Weibull(lib.tensor([1.0]), 1.0),
    lambda lib: lib.distributions.Pareto(lib.tensor([1.0]), 1.0),
    lambda lib: lib.distributions.HalfCauchy(lib.tensor([1.0])),
    lambda lib: lib.distributions.HalfNormal(lib.tensor([1.0])),
    lambda lib: lib.distributions.LogNormal(lib.tensor([1.0]), 1.0),
    lambda lib: lib.distributions.Geometric(logits=lib.tensor([1.0])),
    lambda lib: lib.distributions.Poisson(lib.tensor([1.0, 2.0])),
    lambda lib: lib.distributions.Binomial(lib.tensor([3.0]), lib.tensor([0.5])),
    lambda lib: lib.distributions.MultivariateNormal(lib.zeros(2), lib.eye(2)),
    lambda lib: lib.distributions.MultivariateNormal(lib.zeros(2), scale_tril=lib.eye(2)),
    lambda lib: lib.distributions.Independent(lib.distributions.Normal(lib.zeros(2), 1.0), 1),
    lambda lib: lib.distributions.OneHotCategorical(lib.tensor([0.5, 0.5])),
    lambda lib: lib.distributions.TransformedDistribution(
        lib.distributions.Normal(0.0, 1.0), lib.distributions.transforms.ExpTransform()),
]


@pytest.mark.parametrize("index", range(len(REPRS)))
def test_repr_matches_torch(index):
    assert _normalised(repr(REPRS[index](lt))) == _normalised(repr(REPRS[index](torch)))


CONSTRAINTS = [
    lambda c: c.real, lambda c: c.positive, lambda c: c.nonnegative, lambda c: c.unit_interval,
    lambda c: c.simplex, lambda c: c.boolean, lambda c: c.integer_interval(0, 3),
    lambda c: c.nonnegative_integer, lambda c: c.positive_integer,
    lambda c: c.greater_than(1.5), lambda c: c.greater_than_eq(1.5), lambda c: c.less_than(2.0),
    lambda c: c.interval(-1.0, 1.0), lambda c: c.half_open_interval(0.0, 1.0),
    lambda c: c.positive_definite, lambda c: c.lower_cholesky, lambda c: c.one_hot,
    lambda c: c.independent(c.positive, 1), lambda c: c.real_vector,
]


@pytest.mark.parametrize("index", range(len(CONSTRAINTS)))
def test_constraint_repr_event_dim_and_check_match_torch(index):
    torch_c = CONSTRAINTS[index](torch.distributions.constraints)
    lt_c = CONSTRAINTS[index](lt.distributions.constraints)
    assert repr(lt_c) == repr(torch_c)
    assert lt_c.event_dim == torch_c.event_dim
    assert lt_c.is_discrete == torch_c.is_discrete
    values = [[[2.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.5, 0.5]], [[1.0, 2.0], [2.0, 1.0]],
              [[-1.0, 0.5], [float("nan"), 3.0]]]
    x = torch.tensor(values, dtype=torch.float64)
    assert lt_c.check(_to_lt(x)).tolist() == torch_c.check(x).tolist()


@pytest.mark.parametrize("case", sorted(CASES))
def test_expand_matches_torch(case):
    torch_dist, lt_dist, _, _ = _pair(case)
    new_batch = (4,) + tuple(torch_dist.batch_shape)
    torch_expanded, lt_expanded = torch_dist.expand(new_batch), lt_dist.expand(new_batch)
    assert lt_expanded.batch_shape == torch_expanded.batch_shape
    assert lt_expanded.event_shape == torch_expanded.event_shape
    values = _values(torch_dist, n=1)[0]
    _close(lt_expanded.log_prob(_to_lt(values)), torch_expanded.log_prob(values))
    assert tuple(lt_expanded.sample((2,)).shape) == tuple(torch_expanded.sample((2,)).shape)


@pytest.mark.parametrize("build", [
    lambda lib: lib.distributions.Bernoulli(lib.tensor([[0.3, 0.6]])),
    lambda lib: lib.distributions.Categorical(lib.tensor([[0.2, 0.8], [0.5, 0.5]])),
    lambda lib: lib.distributions.OneHotCategorical(lib.tensor([[0.2, 0.3, 0.5]])),
    lambda lib: lib.distributions.Binomial(lib.tensor([3.0, 3.0]), lib.tensor([0.2, 0.7])),
], ids=["Bernoulli", "Categorical", "OneHotCategorical", "Binomial"])
@pytest.mark.parametrize("expand", [True, False])
def test_enumerate_support_matches_torch(build, expand):
    expected = build(torch).enumerate_support(expand=expand)
    got = build(lt).enumerate_support(expand=expand)
    assert tuple(got.shape) == tuple(expected.shape)
    assert got.tolist() == expected.tolist()
    assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]


@pytest.mark.parametrize("build", [
    lambda lib: lib.distributions.Independent(lib.distributions.Normal(lib.zeros(2), 1.0), 2),
    lambda lib: lib.distributions.MultivariateNormal(lib.zeros(2)),
    lambda lib: lib.distributions.MultivariateNormal(lib.zeros(2), lib.eye(2),
                                                     scale_tril=lib.eye(2)),
    lambda lib: lib.distributions.MultivariateNormal(lib.tensor(0.0), lib.eye(2)),
    lambda lib: lib.distributions.MultivariateNormal(lib.zeros(2), scale_tril=lib.ones(2)),
    lambda lib: lib.distributions.MultivariateNormal(lib.zeros(2), lib.eye(2)).log_prob(
        lib.zeros(3)),
    lambda lib: lib.distributions.Normal(lib.zeros(2), 1.0).log_prob(lib.zeros(3)),
    lambda lib: lib.distributions.Normal("a", 1.0),
    lambda lib: lib.distributions.Categorical(probs=lib.tensor(0.5)),
    lambda lib: lib.distributions.Binomial(lib.tensor([3.0]), lib.tensor([0.5]),
                                           logits=lib.tensor([0.0])),
    lambda lib: lib.distributions.Normal(lib.zeros(2), 1.0).log_prob([0.0, 0.0]),
], ids=["independent_ndims", "mvn_no_matrix", "mvn_two_matrices", "mvn_scalar_loc",
        "mvn_vector_scale", "mvn_value_shape", "value_not_broadcastable", "string_param",
        "categorical_scalar", "binomial_both", "value_not_tensor"])
def test_constructor_and_argument_errors_match_torch(build):
    assert _error(lambda: build(lt)) == _error(lambda: build(torch))


def test_stddev_mean_and_variance_of_independent_and_set_default():
    dist = lt.distributions.Independent(
        lt.distributions.Normal(lt.tensor([[0.0, 1.0]]), lt.tensor([[2.0, 3.0]])), 1)
    assert dist.batch_shape == (1,) and dist.event_shape == (2,)
    assert dist.mean.tolist() == [[0.0, 1.0]]
    assert dist.stddev.tolist() == [[2.0, 3.0]]
    assert dist.variance.tolist() == [[4.0, 9.0]]
    assert dist.has_rsample and not dist.has_enumerate_support


def test_transform_reprs_and_equality_match_torch():
    for lib_a, lib_b in ((lt, torch),):
        ta, tb = lib_a.distributions.transforms, lib_b.distributions.transforms
        for make in (lambda t: t.ExpTransform(), lambda t: t.ExpTransform().inv,
                     lambda t: t.AffineTransform(0.0, 2.0), lambda t: t.TanhTransform(),
                     lambda t: t.ComposeTransform([t.ExpTransform(), t.SigmoidTransform()])):
            assert repr(make(ta)) == repr(make(tb))
        assert (ta.ExpTransform() == ta.ExpTransform()) == (tb.ExpTransform() == tb.ExpTransform())
        assert (ta.ExpTransform() == ta.TanhTransform()) == (
            tb.ExpTransform() == tb.TanhTransform())
        assert ta.AffineTransform(0.0, -2.0).sign == tb.AffineTransform(0.0, -2.0).sign
