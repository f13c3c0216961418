"""Transforms, TransformedDistribution and Independent against torch."""

import pytest

import lazyt as lt
from tests.distributions.test_against_torch import _close, _to_lt

torch = pytest.importorskip("torch")


def _transforms(lib):
    transforms = lib.distributions.transforms
    loc = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64)
    scale = lib.tensor([2.0, 0.5, -1.5], dtype=lib.float64)
    return {
        "exp": transforms.ExpTransform(),
        "affine": transforms.AffineTransform(loc, scale),
        "affine_scalar": transforms.AffineTransform(1.0, 3.0),
        "sigmoid": transforms.SigmoidTransform(),
        "tanh": transforms.TanhTransform(),
        "softplus": transforms.SoftplusTransform(),
        "power": transforms.PowerTransform(lib.tensor(2.5, dtype=lib.float64)),
        "compose": transforms.ComposeTransform([transforms.AffineTransform(loc, scale), transforms.ExpTransform()]),
        "inverse": transforms.ExpTransform().inv,
        "independent": transforms.IndependentTransform(transforms.ExpTransform(), 1),
    }


INPUTS = {"power": [0.5, 1.2, 3.0], "inverse": [0.5, 1.2, 3.0]}


@pytest.mark.parametrize("name", sorted(_transforms(torch)))
def test_transform_call_inverse_and_log_det_match_torch(name):
    torch_t, lt_t = _transforms(torch)[name], _transforms(lt)[name]
    x = torch.tensor(INPUTS.get(name, [0.3, -0.8, 1.4]), dtype=torch.float64)
    y = torch_t(x)
    _close(lt_t(_to_lt(x)), y)
    _close(lt_t.inv(_to_lt(y)), torch_t.inv(y))
    _close(lt_t.log_abs_det_jacobian(_to_lt(x), _to_lt(y)), torch_t.log_abs_det_jacobian(x, y))
    assert lt_t.bijective == torch_t.bijective
    assert lt_t.sign == torch_t.sign if name in ("exp", "sigmoid", "tanh") else True
    assert lt_t.domain.event_dim == torch_t.domain.event_dim
    assert lt_t.codomain.event_dim == torch_t.codomain.event_dim


def _transformed(lib):
    dists = lib.distributions
    base = dists.Normal(lib.tensor([0.0, 1.0], dtype=lib.float64),
                    lib.tensor([1.0, 0.5], dtype=lib.float64))
    transforms = dists.transforms
    return dists.TransformedDistribution(
        base, [transforms.AffineTransform(1.0, 2.0), transforms.SigmoidTransform(), transforms.TanhTransform().inv.inv])


def test_transformed_distribution_matches_torch():
    torch_dist, lt_dist = _transformed(torch), _transformed(lt)
    assert lt_dist.batch_shape == torch_dist.batch_shape
    assert lt_dist.has_rsample == torch_dist.has_rsample
    values = torch.tensor([[0.1, 0.5], [0.3, 0.7]], dtype=torch.float64)
    _close(lt_dist.log_prob(_to_lt(values)), torch_dist.log_prob(values))
    _close(lt_dist.cdf(_to_lt(values)), torch_dist.cdf(values))
    _close(lt_dist.icdf(_to_lt(values)), torch_dist.icdf(values))
    assert lt_dist.rsample((4,)).shape == (4, 2)


def test_independent_reinterprets_batch_dims_like_torch():
    results = []
    for lib in (torch, lt):
        loc = lib.tensor([[0.0, 1.0, 2.0], [1.0, -1.0, 0.5]], requires_grad=True)
        base = lib.distributions.Normal(loc, lib.ones(2, 3))
        dist = lib.distributions.Independent(base, 1)
        value = lib.tensor([[0.5, 0.5, 0.5], [0.0, 0.2, 0.4]])
        loss = dist.log_prob(value).sum() + dist.entropy().sum()
        results.append((dist, dist.log_prob(value), dist.entropy(),
                        lib.autograd.grad(loss, [loc])[0], dist.sample((4,)).shape))
    (t_dist, t_lp, t_ent, t_grad, t_shape), (l_dist, l_lp, l_ent, l_grad, l_shape) = results
    assert (l_dist.batch_shape, l_dist.event_shape) == (t_dist.batch_shape, t_dist.event_shape)
    _close(l_lp, t_lp)
    _close(l_ent, t_ent)
    _close(l_grad, t_grad)
    assert tuple(l_shape) == tuple(t_shape)


def test_kl_of_independent_and_transformed_distributions_match_torch():
    results = []
    for lib in (torch, lt):
        dists = lib.distributions
        loc = lib.tensor([[0.0, 1.0], [2.0, -1.0]], dtype=lib.float64)
        p = dists.Independent(dists.Normal(loc, lib.ones_like(loc)), 1)
        q = dists.Independent(dists.Normal(loc * 0.5, lib.ones_like(loc) * 2.0), 1)
        exp = dists.transforms.ExpTransform()
        log_p = dists.TransformedDistribution(dists.Normal(loc, lib.ones_like(loc)), exp)
        log_q = dists.TransformedDistribution(dists.Normal(loc * 0.5, lib.ones_like(loc)), exp)
        results.append((dists.kl_divergence(p, q), dists.kl_divergence(log_p, log_q)))
    for got, expected in zip(results[1], results[0]):
        _close(got, expected)


def test_decreasing_transforms_flip_cdf_and_expand_like_torch():
    results = []
    for lib in (torch, lt):
        dists = lib.distributions
        transforms = [dists.transforms.AffineTransform(1.0, -2.0), dists.transforms.ExpTransform()]
        dist = dists.TransformedDistribution(
            dists.Normal(lib.zeros(2, dtype=lib.float64), 1.0), transforms)
        expanded = dist.expand((3, 2))
        results.append((dist.cdf(lib.tensor([0.5, 2.0], dtype=lib.float64)),
                        dist.icdf(lib.tensor([0.2, 0.9], dtype=lib.float64)),
                        expanded.log_prob(lib.tensor([0.5, 2.0], dtype=lib.float64)),
                        tuple(expanded.sample((4,)).shape)))
    for got, expected in zip(results[1][:3], results[0][:3]):
        _close(got, expected)
    assert results[1][3] == results[0][3]
