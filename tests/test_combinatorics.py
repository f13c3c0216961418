"""lazyt/combinatorics.py against PyTorch: block_diag, cartesian_prod, combinations,
diagflat, unravel_index, put(_) with accumulate, index_reduce(_) for every reduction with
and without include_self, their gradients and PyTorch's errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lazyt as lt

torch = pytest.importorskip("torch")


def _pair(values, dtype="float32"):
    t = torch.tensor(values, dtype=getattr(torch, dtype))
    return lt.tensor(t.numpy().copy(), dtype=getattr(lt, dtype)), t


def _close(got, expected):
    if isinstance(expected, (tuple, list)):
        for g, e in zip(got, expected, strict=True):
            _close(g, e)
        return
    assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    assert tuple(got.shape) == tuple(expected.shape)
    np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=1e-6)


def test_block_diag_cartesian_prod_and_diagflat_match_torch():
    a, ta = _pair([[1, 2], [3, 4]], "int64")
    b, tb = _pair([5.5, 6.5, 7.5])
    c, tc = _pair(True, "bool")
    _close(lt.block_diag(a, b, c), torch.block_diag(ta, tb, tc))
    _close(lt.block_diag(), torch.block_diag())
    _close(lt.cartesian_prod(b, b, b), torch.cartesian_prod(tb, tb, tb))
    _close(lt.cartesian_prod(b), torch.cartesian_prod(tb))
    for offset in (-2, 0, 1):
        _close(a.diagflat(offset), ta.diagflat(offset))
    with pytest.raises(RuntimeError, match="Input 0 has 3 dimensions"):
        lt.block_diag(lt.ones(1, 1, 1))
    with pytest.raises(RuntimeError, match="Expect a 1D vector, but got shape \\[2, 2\\]"):
        lt.cartesian_prod(lt.ones(2, 2), lt.ones(2))


@settings(max_examples=12, deadline=None)
@given(st.integers(0, 5), st.integers(0, 4), st.booleans())
def test_combinations_match_torch(n, r, with_replacement):
    x, tx = _pair(list(range(10, 10 + n)), "int64")
    _close(lt.combinations(x, r, with_replacement), torch.combinations(tx, r, with_replacement))


def test_unravel_index_matches_torch():
    i, ti = _pair([[0, 5, -1], [7, 11, 3]], "int64")
    _close(lt.unravel_index(i, (3, 4)), torch.unravel_index(ti, (3, 4)))
    _close(lt.unravel_index(i, 12), torch.unravel_index(ti, 12))
    with pytest.raises(TypeError, match="integer dtype"):
        lt.unravel_index(lt.tensor([1.0]), (2, 2))
    with pytest.raises(ValueError, match="cannot have negative values"):
        lt.unravel_index(i, (3, -4))


@pytest.mark.parametrize("accumulate", [False, True])
def test_put_matches_torch_with_gradients(accumulate):
    x, tx = _pair(np.arange(12.0).reshape(3, 4), "float64")
    index, tindex = _pair([[0, -1], [5, 0]] if accumulate else [[0, -1], [5, 6]], "int64")
    src, tsrc = _pair([[1.5, 2.5], [3.5, 4.5]], "float64")
    xg, txg = x.clone().requires_grad_(), tx.clone().requires_grad_()
    sg, tsg = src.clone().requires_grad_(), tsrc.clone().requires_grad_()
    out, tout = xg.put(index, sg, accumulate), txg.put(tindex, tsg, accumulate)
    _close(out, tout)
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    _close(xg.grad, txg.grad)
    _close(sg.grad, tsg.grad)
    inplace, tinplace = x.clone(), tx.clone()
    inplace.put_(index, src, accumulate=accumulate)
    tinplace.put_(tindex, tsrc, accumulate=accumulate)
    _close(inplace, tinplace)
    with pytest.raises(IndexError, match="out of range: tried to access index 12 on a tensor of 12"):
        x.put(lt.tensor([12]), lt.tensor([1.0], dtype=lt.float64))
    with pytest.raises(RuntimeError, match="same number of elements"):
        x.put(lt.tensor([1, 2]), lt.tensor([1.0], dtype=lt.float64))


@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_index_reduce_matches_torch(reduce, include_self):
    x, tx = _pair(np.linspace(-2, 3, 15).reshape(3, 5), "float64")
    index, tindex = _pair([0, 2, 0, 4], "int64")
    src, tsrc = _pair(np.linspace(1, 2.5, 12).reshape(3, 4), "float64")
    xg, txg = x.clone().requires_grad_(), tx.clone().requires_grad_()
    sg, tsg = src.clone().requires_grad_(), tsrc.clone().requires_grad_()
    out = xg.index_reduce(1, index, sg, reduce, include_self=include_self)
    tout = txg.index_reduce(1, tindex, tsg, reduce, include_self=include_self)
    _close(out, tout)
    out.sum().backward()
    tout.sum().backward()
    _close(xg.grad, txg.grad)
    _close(sg.grad, tsg.grad)
    ints, tints = _pair([[4, 9, 1], [2, 7, 5]], "int64")
    isrc, tisrc = _pair([[3, 8], [6, 1]], "int64")
    ii, tii = _pair([2, 2], "int64")
    inplace, tinplace = ints.clone(), tints.clone()
    inplace.index_reduce_(1, ii, isrc, reduce, include_self=include_self)
    tinplace.index_reduce_(1, tii, tisrc, reduce, include_self=include_self)
    _close(inplace, tinplace)


def test_index_reduce_errors_match_torch():
    x = lt.ones(3, 4)
    with pytest.raises(RuntimeError, match="Expected reduce to be one of prod, mean, amax or amin"):
        x.index_reduce(0, lt.tensor([0]), lt.ones(1, 4), "sum")
    with pytest.raises(IndexError, match="Index is supposed to be a vector"):
        x.index_reduce(0, lt.tensor([[0]]), lt.ones(1, 4), "prod")


def test_index_reduce_checks_indices_and_shapes_like_torch():
    x = lt.zeros(3, 4)
    with pytest.raises(IndexError, match="index out of range in self"):
        x.index_reduce(0, lt.tensor([3]), lt.ones(1, 4), "amax")
    with pytest.raises(IndexError, match="index out of range in self"):
        x.index_reduce(0, lt.tensor([-1]), lt.ones(1, 4), "amax")
    with pytest.raises(RuntimeError, match="source tensor shape must match self tensor shape"):
        x.index_reduce(0, lt.tensor([1]), lt.ones(1, 3), "amax")
