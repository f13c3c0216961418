"""nn.utils.clip_grad and nn.utils.convert_parameters against PyTorch, plus
the essentials without it."""

import math
import warnings

import numpy as np
import pytest

import lazyt as lt

RNG = np.random.default_rng(0)
GRADS = [RNG.standard_normal((3, 4)).astype(np.float32), RNG.standard_normal(5).astype(np.float32)]


def _lt_params(grads=GRADS):
    params = []
    for g in grads:
        p = lt.nn.Parameter(lt.zeros(g.shape))
        p.grad = lt.tensor(g)
        params.append(p)
    return params


def test_clip_grad_norm_scales_to_max_norm_without_torch():
    params = _lt_params()
    total = lt.nn.utils.clip_grad_norm_(params, max_norm=1.0)
    expected = math.sqrt(sum(float((g.astype(np.float64) ** 2).sum()) for g in GRADS))
    assert abs(total.item() - expected) < 1e-4
    clipped = math.sqrt(sum(float((p.grad.numpy() ** 2).sum()) for p in params))
    assert abs(clipped - 1.0) < 1e-4


def test_clip_grad_value_clamps_each_element():
    params = _lt_params()
    lt.nn.utils.clip_grad_value_(params, 0.5)
    assert all(np.abs(p.grad.numpy()).max() <= 0.5 for p in params)


def test_parameters_vector_round_trip_shares_storage():
    params = [lt.nn.Parameter(lt.zeros(2, 3)), lt.nn.Parameter(lt.zeros(4))]
    vec = lt.arange(10, dtype=lt.float32)
    lt.nn.utils.vector_to_parameters(vec, params)
    assert params[0].tolist() == [[0, 1, 2], [3, 4, 5]] and params[1].tolist() == [6, 7, 8, 9]
    assert lt.nn.utils.parameters_to_vector(params).tolist() == list(range(10))
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        lt.nn.utils.vector_to_parameters([1.0], params)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, 0.5])
def test_clip_grad_norm_matches_torch(norm_type):
    torch = pytest.importorskip("torch")
    theirs = []
    for g in GRADS:
        p = torch.nn.Parameter(torch.zeros(g.shape))
        p.grad = torch.tensor(g)
        theirs.append(p)
    mine = _lt_params()
    total_t = torch.nn.utils.clip_grad_norm_(theirs, 0.7, norm_type=norm_type)
    total_l = lt.nn.utils.clip_grad_norm_(mine, 0.7, norm_type=norm_type)
    assert total_l.dtype == lt.float32 and total_l.shape == ()
    np.testing.assert_allclose(total_l.item(), total_t.item(), rtol=1e-5)
    for a, b in zip(mine, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_total_norm_helpers_and_errors_match_torch():
    torch = pytest.importorskip("torch")
    tensors = [lt.tensor(g) for g in GRADS]
    for norm_type in (2.0, math.inf):
        mine = lt.nn.utils.get_total_norm(tensors, norm_type)
        theirs = torch.nn.utils.get_total_norm([torch.tensor(g) for g in GRADS], norm_type)
        np.testing.assert_allclose(mine.item(), theirs.item(), rtol=1e-6)
    assert lt.nn.utils.get_total_norm([]).item() == 0.0
    params = _lt_params()
    lt.nn.utils.clip_grads_with_norm_(params, 1.0, lt.tensor(4.0))
    np.testing.assert_allclose(params[1].grad.numpy(), GRADS[1] / (4.0 + 1e-6), rtol=1e-6)

    bad = _lt_params([np.array([np.inf, 1.0], dtype=np.float32)])
    tbad = torch.nn.Parameter(torch.zeros(2))
    tbad.grad = torch.tensor([np.inf, 1.0])
    with pytest.raises(RuntimeError) as theirs_error:
        torch.nn.utils.clip_grad_norm_([tbad], 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError) as mine_error:
        lt.nn.utils.clip_grad_norm_(bad, 1.0, error_if_nonfinite=True)
    assert str(mine_error.value) == str(theirs_error.value)


def test_deprecations_and_empty_generator_warn_like_torch():
    with pytest.warns(FutureWarning, match="clip_grad_norm` is now deprecated"):
        lt.nn.utils.clip_grad_norm(_lt_params(), 1.0)
    with pytest.warns(UserWarning, match="empty generator"):
        total = lt.nn.utils.clip_grad_norm_((p for p in []), 1.0)
    assert total.item() == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lt.nn.utils.clip_grad_norm_([], 1.0)
