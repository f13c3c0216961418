"""lazyt/statistics.py against PyTorch: order statistics (mode, nanmedian, quantile,
nanquantile with every interpolation and NaNs), cov/corrcoef with weights, dist, renorm,
trapezoid rules and gradient (scalar, list and coordinate spacing, both edge orders),
their gradients, and PyTorch's errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lazyt as lt

torch = pytest.importorskip("torch")

NAN = float("nan")


def _pair(values, dtype="float32"):
    t = torch.tensor(values, dtype=getattr(torch, dtype))
    return lt.tensor(t.numpy().copy(), dtype=getattr(lt, dtype)), t


def _close(got, expected, rtol=1e-5, atol=1e-6):
    if isinstance(expected, (tuple, list)):
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            _close(g, e, rtol, atol)
        return
    assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    assert tuple(got.shape) == tuple(expected.shape)
    np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=rtol,
                               atol=atol, equal_nan=True)


ROWS = [[3.0, NAN, 1.0, 2.0, 5.0], [NAN, NAN, NAN, NAN, NAN], [4.0, 4.0, 1.0, 0.5, 2.0],
        [1.0, 2.0, 3.0, 4.0, 5.0]]


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
@pytest.mark.parametrize("name", ["quantile", "nanquantile"])
def test_quantile_matches_torch_for_every_interpolation_with_nans(name, interpolation):
    x, tx = _pair(ROWS)
    q, tq = _pair([0.0, 0.25, 0.5, 0.9, 1.0])
    for dim, keepdim in [(1, False), (0, True), (None, False), (None, True), (-1, True)]:
        got = getattr(lt, name)(x, q, dim, keepdim, interpolation=interpolation)
        expected = getattr(torch, name)(tx, tq, dim, keepdim, interpolation=interpolation)
        _close(got, expected)
    _close(getattr(x, name)(0.375, dim=1, interpolation=interpolation),
           getattr(tx, name)(0.375, dim=1, interpolation=interpolation))


def test_quantile_errors_match_torch():
    x = lt.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"q must be in the range \[0, 1\]"):
        lt.quantile(x, 1.5)
    with pytest.raises(RuntimeError, match="must be either float or double"):
        lt.quantile(lt.tensor([1, 2]), 0.5)
    with pytest.raises(RuntimeError, match="same dtype as the input"):
        lt.quantile(x, lt.tensor([0.5], dtype=lt.float64))
    with pytest.raises(RuntimeError, match="interpolation must be one of"):
        lt.quantile(x, 0.5, interpolation="cubic")


def test_nanmedian_mode_and_msort_match_torch():
    x, tx = _pair(ROWS)
    _close(lt.nanmedian(x), torch.nanmedian(tx))
    values, indices = lt.nanmedian(x, 1)
    expected = torch.nanmedian(tx, 1)
    _close(values, expected.values)
    # Ties may pick another index; the index must select the same value.
    _close(tx.gather(1, torch.from_numpy(indices.numpy()).unsqueeze(1)).squeeze(1), expected.values)
    ints, tints = _pair([[1, 3, 3, 2, 2], [5, 5, 5, 0, 1], [7, 6, 5, 4, 3]], "int64")
    values, indices = lt.mode(ints, 1, keepdim=True)
    _close(values, torch.mode(tints, 1, keepdim=True).values)
    _close(ints.gather(1, indices), values)
    _close(lt.msort(x), torch.msort(tx))
    _close(x.t().msort(), tx.t().msort())


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=1, max_size=12), st.booleans())
def test_mode_picks_the_smallest_most_frequent_value(values, keepdim):
    x, tx = _pair(values, "int64")
    got, expected = lt.mode(x, 0, keepdim), torch.mode(tx, 0, keepdim)
    _close(got.values, expected.values)
    _close(x.gather(0, got.indices.reshape(-1)).reshape(got.values.shape), expected.values)


@pytest.mark.parametrize("correction", [0, 1, 2])
def test_cov_and_corrcoef_with_weights_match_torch(correction):
    x, tx = _pair([[0.0, 1.0, 2.0, 4.0], [2.0, 1.5, 0.25, 3.0], [1.0, 1.0, 2.0, 7.0]])
    f, tf = _pair([1, 2, 1, 3], "int64")
    a, ta = _pair([0.5, 1.0, 2.0, 0.25])
    for fw, aw, tfw, taw in [(None, None, None, None), (f, None, tf, None), (None, a, None, ta),
                             (f, a, tf, ta)]:
        _close(lt.cov(x, correction=correction, fweights=fw, aweights=aw),
               torch.cov(tx, correction=correction, fweights=tfw, aweights=taw))
    _close(lt.corrcoef(x), torch.corrcoef(tx))
    ints, tints = _pair([[1, 2, 4], [3, 0, 1]], "int64")
    _close(ints.cov(), tints.cov())


def test_cov_errors_match_torch():
    x = lt.ones(2, 3)
    with pytest.raises(RuntimeError, match="two or fewer dimensions"):
        lt.cov(lt.ones(2, 2, 2))
    with pytest.raises(RuntimeError, match="fweights to have integral dtype"):
        lt.cov(x, fweights=lt.ones(3))
    with pytest.raises(RuntimeError, match="same numel as there are observations"):
        lt.cov(x, aweights=lt.ones(4))
    with pytest.raises(RuntimeError, match="aweights cannot be negative"):
        lt.cov(x, aweights=lt.tensor([1.0, -1.0, 1.0]))


def test_dist_and_renorm_match_torch_with_gradients():
    x, tx = _pair([[1.0, -2.0, 3.0], [0.1, 0.2, -0.1], [4.0, 0.0, -4.0]], "float64")
    y, ty = _pair([0.5, 0.5, -1.0], "float64")
    for p in [0, 1, 2, 3.5, float("inf"), -float("inf")]:
        _close(lt.dist(x, y, p), torch.dist(tx, ty, p))
    for p, dim, maxnorm in [(2, 0, 1.0), (1, 1, 2.0), (float("inf"), -1, 0.5)]:
        _close(lt.renorm(x, p, dim, maxnorm), torch.renorm(tx, p, dim, maxnorm))
    xg = x.clone().requires_grad_()
    txg = tx.clone().requires_grad_()
    lt.renorm(xg, 2, 0, 1.0).pow(2).sum().backward()
    torch.renorm(txg, 2, 0, 1.0).pow(2).sum().backward()
    _close(xg.grad, txg.grad)
    inplace, tinplace = x.clone(), tx.clone()
    inplace.renorm_(3, 1, 1.5)
    tinplace.renorm_(3, 1, 1.5)
    _close(inplace, tinplace)
    with pytest.raises(RuntimeError, match="maxnorm to be >= 0"):
        lt.renorm(x, 2, 0, -1.0)


@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_trapezoid_rules_match_torch(dtype):
    y, ty = _pair([[1, 4, 9, 16], [2, 3, 5, 7], [0, -1, 1, 0]], dtype)
    x, tx = _pair([0, 1, 3, 6], dtype)
    x2, tx2 = _pair([[0], [2], [5]], dtype)
    for name in ["trapezoid", "trapz", "cumulative_trapezoid"]:
        fn, tfn = getattr(lt, name), getattr(torch, name)
        _close(fn(y), tfn(ty))
        _close(fn(y, x), tfn(ty, tx))
        _close(fn(y, x2, dim=0), tfn(ty, tx2, dim=0))
        _close(fn(y, dx=0.5, dim=0), tfn(ty, dx=0.5, dim=0))
    _close(lt.trapezoid(y[:, :0]), torch.trapezoid(ty[:, :0]))


@pytest.mark.parametrize("edge_order", [1, 2])
def test_gradient_matches_torch_for_every_spacing_kind(edge_order):
    y, ty = _pair(np.arange(60, dtype=np.float64).reshape(3, 4, 5) ** 1.5, "float64")
    c0, tc0 = _pair([0.0, 0.5, 2.0], "float64")
    c2, tc2 = _pair([1.0, 1.5, 2.5, 2.75, 4.0], "float64")
    cases = [({}, {}), ({"spacing": 2.0}, {"spacing": 2.0}),
             ({"spacing": [1.0, 2.0, 0.5]}, {"spacing": [1.0, 2.0, 0.5]}),
             ({"dim": 1}, {"dim": 1}),
             ({"spacing": [c0, c2], "dim": (0, -1)}, {"spacing": [tc0, tc2], "dim": (0, -1)})]
    for kwargs, tkwargs in cases:
        _close(lt.gradient(y, edge_order=edge_order, **kwargs),
               torch.gradient(ty, edge_order=edge_order, **tkwargs))
    ints, tints = _pair([[1, 4, 9], [2, 8, 1], [0, 3, 3]], "int64")
    _close(lt.gradient(ints, edge_order=edge_order), torch.gradient(tints, edge_order=edge_order))
    yg, tyg = y.clone().requires_grad_(), ty.clone().requires_grad_()
    sum(g.sin().sum() for g in lt.gradient(yg, spacing=[c0], dim=0, edge_order=edge_order)).backward()
    sum(g.sin().sum() for g in torch.gradient(tyg, spacing=[tc0], dim=0,
                                              edge_order=edge_order)).backward()
    _close(yg.grad, tyg.grad)


def test_gradient_errors_match_torch():
    y = lt.ones(2, 5)
    with pytest.raises(RuntimeError, match="at least edge_order\\+1"):
        lt.gradient(y, edge_order=2)
    with pytest.raises(RuntimeError, match="only supports edge_order=1 and edge_order=2"):
        lt.gradient(lt.ones(4, 5), edge_order=3)
    with pytest.raises(RuntimeError, match="list of length equal to 'self.dim\\(\\) = 2'"):
        lt.gradient(y, spacing=[1.0, 2.0, 3.0])


def test_order_statistics_gradients_match_torch():
    x, tx = _pair([[3.0, 1.0, 2.0, 5.0], [0.5, 4.0, 4.5, 1.5]], "float64")
    for fn in [lambda m, t: m.quantile(t.tensor([0.2, 0.7], dtype=t.float64), 1),
               lambda m, t: m.nanmedian(0).values, lambda m, t: m.mode(1).values,
               lambda m, t: m.msort(), lambda m, t: m.corrcoef()]:
        xg, txg = x.clone().requires_grad_(), tx.clone().requires_grad_()
        (fn(xg, lt) ** 2).sum().backward()
        (fn(txg, torch) ** 2).sum().backward()
        _close(xg.grad, txg.grad)


def test_mode_reports_the_last_occurrence_like_torch():
    x, tx = _pair([[3, 1, 3, 1, 2], [5, 5, 0, 0, 0], [7, 7, 7, 7, 7]], "int64")
    got, expected = lt.mode(x, 1), torch.mode(tx, 1)
    _close(got.values, expected.values)
    _close(got.indices, expected.indices)


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 4), st.integers(1, 6), st.sampled_from([None, 0, 1, -1]), st.booleans(),
       st.sampled_from(["linear", "lower", "higher", "midpoint", "nearest"]),
       st.integers(0, 2 ** 16))
def test_quantile_property_against_torch(rows, columns, dim, keepdim, interpolation, seed):
    generator = torch.Generator().manual_seed(seed)
    data = torch.randint(-3, 4, (rows, columns), generator=generator).float()
    data[torch.rand(rows, columns, generator=generator) < 0.2] = NAN
    q = torch.rand(3, generator=generator)
    x, qx = lt.tensor(data.numpy().copy()), lt.tensor(q.numpy().copy())
    for name in ("quantile", "nanquantile"):
        _close(getattr(lt, name)(x, qx, dim, keepdim, interpolation=interpolation),
               getattr(torch, name)(data, q, dim, keepdim, interpolation=interpolation))


def test_statistics_in_deferred_mode_match_eager():
    x = lt.tensor(np.linspace(-2, 3, 24, dtype=np.float32).reshape(4, 6) ** 2)
    cases = [lambda: lt.quantile(x, lt.tensor([0.2, 0.8]), 1),
             lambda: lt.gradient(x, spacing=[lt.arange(4.0) ** 2, 1.0], edge_order=2)[0],
             lambda: lt.cov(x, aweights=x[0]), lambda: lt.masked.var(x, 1, mask=x > 2),
             lambda: lt.histogram(x, 5, weight=x, density=True).hist]
    for case in cases:
        eager = case().numpy()
        with lt.deferred():
            deferred = case().numpy()
        np.testing.assert_allclose(deferred, eager, rtol=1e-5, atol=1e-6)
