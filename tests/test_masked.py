"""lt.masked (lazyt/masked/) against torch.masked: every operation with masks that leave
whole rows masked out, broadcast masks, integer inputs, gradients and errors."""

from __future__ import annotations

import numpy as np
import pytest

import lazyt as lt

torch = pytest.importorskip("torch")

VALUES = [[1.5, -2.0, 3.0, 0.25], [4.0, 0.5, -1.0, 2.0], [-3.0, 1.0, 2.5, -0.5]]
MASK = [[True, False, True, True], [False, False, False, False], [True, True, False, True]]


def _pair(values, dtype="float32"):
    t = torch.tensor(values, dtype=getattr(torch, dtype))
    return lt.tensor(t.numpy().copy(), dtype=getattr(lt, dtype)), t


def _close(got, expected):
    assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    assert tuple(got.shape) == tuple(expected.shape)
    np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=1e-5,
                               atol=1e-6, equal_nan=True)


REDUCTIONS = ["sum", "prod", "amax", "amin", "mean", "logsumexp", "var", "std"]


@pytest.mark.parametrize("name", REDUCTIONS)
def test_masked_reductions_match_torch_with_fully_masked_rows(name):
    x, tx = _pair(VALUES)
    m, tm = _pair(MASK, "bool")
    fn, tfn = getattr(lt.masked, name), getattr(torch.masked, name)
    for kwargs in [{}, {"dim": 1}, {"dim": 0, "keepdim": True}, {"dim": (0, 1)}]:
        _close(fn(x, mask=m, **kwargs), tfn(tx, mask=tm, **kwargs))
    _close(fn(x, 1), tfn(tx, 1))  # no mask: the plain reduction
    column, tcolumn = _pair([[True], [False], [True]], "bool")  # broadcast mask
    _close(fn(x, 1, mask=column), tfn(tx, 1, mask=tcolumn))


@pytest.mark.parametrize("name", ["sum", "prod", "amax", "amin", "argmax", "argmin", "var"])
def test_masked_reductions_of_integers_match_torch(name):
    x, tx = _pair([[3, -1, 4], [1, 5, -9]], "int64")
    m, tm = _pair([[True, False, True], [False, True, True]], "bool")
    _close(getattr(lt.masked, name)(x, 1, mask=m), getattr(torch.masked, name)(tx, 1, mask=tm))


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin", "cumsum", "cumprod"])
def test_masked_normalizations_and_scans_match_torch(name):
    x, tx = _pair(VALUES)
    m, tm = _pair(MASK, "bool")
    for dim in (0, 1, -1):
        _close(getattr(lt.masked, name)(x, dim, mask=m), getattr(torch.masked, name)(tx, dim, mask=tm))


def test_masked_median_norm_normalize_argmax_and_logaddexp_match_torch():
    x, tx = _pair(VALUES)
    m, tm = _pair(MASK, "bool")
    _close(lt.masked.median(x, 1, mask=m), torch.masked.median(tx, 1, mask=tm))
    for ord in (2.0, 1.0, float("inf"), -float("inf"), 3.0):
        _close(lt.masked.norm(x, ord, 1, mask=m), torch.masked.norm(tx, ord, 1, mask=tm))
    _close(lt.masked.normalize(x, 2.0, 1, mask=m), torch.masked.normalize(tx, 2.0, 1, mask=tm))
    _close(lt.masked.argmax(x, 0, mask=m), torch.masked.argmax(tx, 0, mask=tm))
    y, ty = _pair([[0.0, 1.0, -1.0, 2.0]] * 3)
    _close(lt.masked.logaddexp(x, y, input_mask=m, other_mask=m),
           torch.masked._ops.logaddexp(tx, ty, input_mask=tm, other_mask=tm))


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "var", "logsumexp", "median"])
def test_masked_gradients_are_zero_at_masked_out_elements_like_torch(name):
    x, tx = _pair(VALUES, "float64")
    m, tm = _pair([[True, False, True, True], [True, False, True, False], [True, True, False, True]],
                  "bool")
    xg, txg = x.clone().requires_grad_(), tx.clone().requires_grad_()
    getattr(lt.masked, name)(xg, 1, mask=m).sum().backward()
    getattr(torch.masked, name)(txg, 1, mask=tm).sum().backward()
    _close(xg.grad, txg.grad)


def test_masked_errors_match_torch():
    with pytest.raises(ValueError, match="mean\\(\\): Could not infer output dtype"):
        lt.masked.mean(lt.tensor([1, 2]), mask=lt.tensor([True, False]))
    with pytest.raises(ValueError, match="masked median expects no fully masked out rows"):
        lt.masked.median(lt.tensor([[1, 2]]), 1, mask=lt.tensor([[False, False]]))
    with pytest.raises(IndexError, match="Dimension out of range"):
        lt.masked.sum(lt.ones(2, 2), 2, mask=lt.ones(2, 2, dtype=lt.bool))
    with pytest.raises(IndexError, match="broadcastable mask"):
        lt.masked.sum(lt.ones(2), mask=lt.ones(2, 2, dtype=lt.bool))


def test_masked_var_rejects_bool_and_both_corrections_like_torch():
    with pytest.raises(RuntimeError, match="Subtraction, the `-` operator, with a bool tensor"):
        lt.masked.var(lt.ones(3, dtype=lt.bool), mask=lt.ones(3, dtype=lt.bool))
    with pytest.raises(AssertionError, match="Only one of unbiased and correction"):
        lt.masked.std(lt.ones(3), 0, True, correction=1, mask=lt.ones(3, dtype=lt.bool))


def test_zero_norm_counts_nonzeros_and_stays_differentiable_like_torch():
    x, tx = _pair([[0.0, 1.0, -2.0], [3.0, 0.0, 0.0]], "float64")
    m, tm = _pair([[True, True, False], [True, True, True]], "bool")
    xg, txg = x.clone().requires_grad_(), tx.clone().requires_grad_()
    got, expected = lt.masked.norm(xg, 0.0, 1, mask=m), torch.masked.norm(txg, 0.0, 1, mask=tm)
    _close(got, expected)
    assert got.requires_grad and expected.requires_grad
    got.sum().backward()
    expected.sum().backward()
    # PyTorch's gradient of the 0-norm is zero (it leaves .grad undefined).
    assert txg.grad is None or not txg.grad.any()
    assert not xg.grad.numpy().any()
    assert lt.norm(xg, 0).requires_grad
