"""weight_norm / spectral_norm (old hook API and parametrizations) and
orthogonal against PyTorch: same state-dict layout, and the same values once
the torch module's state is copied across."""

import numpy as np
import pytest

import lazyt as lt
from tests.nn_utils._torch_pairs import assert_close, load_from_torch

torch = pytest.importorskip("torch")

X = np.random.default_rng(1).standard_normal((2, 4)).astype(np.float32)


def _linear_pair(n_in=4, n_out=3):
    return lt.nn.Linear(n_in, n_out), torch.nn.Linear(n_in, n_out)


@pytest.mark.parametrize("dim", [0, 1, None])
def test_old_weight_norm_matches_torch(dim):
    mine, theirs = _linear_pair()
    with pytest.warns(FutureWarning):
        lt.nn.utils.weight_norm(mine, dim=dim)
    with pytest.warns(FutureWarning):
        torch.nn.utils.weight_norm(theirs, dim=dim)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    assert tuple(mine.weight_g.shape) == tuple(theirs.weight_g.shape)
    load_from_torch(mine, theirs)
    out_l, out_t = mine(lt.tensor(X)), theirs(torch.tensor(X))
    assert_close(out_l, out_t)
    out_l.sum().backward()
    out_t.sum().backward()
    assert_close(mine.weight_g.grad, theirs.weight_g.grad, rtol=1e-4, atol=1e-5)
    assert_close(mine.weight_v.grad, theirs.weight_v.grad, rtol=1e-4, atol=1e-5)
    lt.nn.utils.remove_weight_norm(mine)
    torch.nn.utils.remove_weight_norm(theirs)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    assert isinstance(mine.weight, lt.nn.Parameter)
    assert_close(mine.weight, theirs.weight)


def test_old_weight_norm_errors_match_torch():
    mine = lt.nn.Linear(2, 2)
    with pytest.warns(FutureWarning):
        lt.nn.utils.weight_norm(mine)
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks on the same "
                                           "parameter weight"), pytest.warns(FutureWarning):
        lt.nn.utils.weight_norm(mine)
    with pytest.raises(ValueError, match="weight_norm of 'bias' not found in Linear"):
        lt.nn.utils.remove_weight_norm(mine, "bias")


def test_old_spectral_norm_matches_torch_in_train_and_eval():
    mine, theirs = _linear_pair(5, 3)
    lt.nn.utils.spectral_norm(mine)
    torch.nn.utils.spectral_norm(theirs)
    assert list(mine.state_dict()) == list(theirs.state_dict()) == \
        ["bias", "weight_orig", "weight_u", "weight_v"]
    load_from_torch(mine, theirs)
    x = np.random.default_rng(2).standard_normal((2, 5)).astype(np.float32)
    for _ in range(2):  # training: each forward runs one power iteration
        assert_close(mine(lt.tensor(x)), theirs(torch.tensor(x)), rtol=1e-4, atol=1e-5)
    assert_close(mine.weight_u, theirs.weight_u, rtol=1e-4, atol=1e-5)
    mine.eval()
    theirs.eval()
    assert_close(mine(lt.tensor(x)), theirs(torch.tensor(x)), rtol=1e-4, atol=1e-5)
    lt.nn.utils.remove_spectral_norm(mine)
    torch.nn.utils.remove_spectral_norm(theirs)
    assert list(mine.state_dict()) == list(theirs.state_dict()) == ["bias", "weight"]
    assert_close(mine.weight, theirs.weight, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found in Linear"):
        lt.nn.utils.remove_spectral_norm(mine)


def test_parametrized_weight_norm_matches_torch_and_loads_old_checkpoints():
    mine, theirs = _linear_pair()
    lt.nn.utils.parametrizations.weight_norm(mine)
    torch.nn.utils.parametrizations.weight_norm(theirs)
    assert type(mine).__name__ == type(theirs).__name__ == "ParametrizedLinear"
    assert list(mine.state_dict()) == list(theirs.state_dict())
    load_from_torch(mine, theirs)
    assert_close(mine(lt.tensor(X)), theirs(torch.tensor(X)))
    old = torch.nn.Linear(4, 3)
    with pytest.warns(FutureWarning):
        torch.nn.utils.weight_norm(old)
    load_from_torch(mine, old)  # weight_g / weight_v land in original0 / original1
    assert_close(mine.parametrizations.weight.original1, old.weight_v)
    assert_close(mine.weight, old.weight)


def test_parametrized_spectral_norm_matches_torch():
    mine, theirs = lt.nn.Conv1d(2, 3, 2), torch.nn.Conv1d(2, 3, 2)
    lt.nn.utils.parametrizations.spectral_norm(mine)
    torch.nn.utils.parametrizations.spectral_norm(theirs)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    assert "parametrizations.weight.0._u" in mine.state_dict()
    load_from_torch(mine, theirs)
    x = np.random.default_rng(3).standard_normal((1, 2, 5)).astype(np.float32)
    assert_close(mine(lt.tensor(x)), theirs(torch.tensor(x)), rtol=1e-4, atol=1e-5)
    mine.eval()
    theirs.eval()
    assert_close(mine(lt.tensor(x)), theirs(torch.tensor(x)), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="has no parameter or buffer with name 'nope'"):
        lt.nn.utils.parametrizations.spectral_norm(mine, "nope")


@pytest.mark.parametrize("shape,orthogonal_map", [((3, 3), None), ((4, 2), None),
                                                  ((3, 3), "cayley")])
def test_orthogonal_gives_orthogonal_weights_like_torch(shape, orthogonal_map):
    mine, theirs = _linear_pair(shape[1], shape[0])
    lt.nn.utils.parametrizations.orthogonal(mine, orthogonal_map=orthogonal_map)
    torch.nn.utils.parametrizations.orthogonal(theirs, orthogonal_map=orthogonal_map)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    w = mine.weight.detach().numpy()
    small = min(shape)
    gram = w.T @ w if shape[0] >= shape[1] else w @ w.T
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-5)
    load_from_torch(mine, theirs)
    assert_close(mine.weight, theirs.weight, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match='orthogonal_map has to be one of "matrix_exp", '
                                         '"cayley", "householder". Got: qr'):
        lt.nn.utils.parametrizations.orthogonal(lt.nn.Linear(2, 2), orthogonal_map="qr")
