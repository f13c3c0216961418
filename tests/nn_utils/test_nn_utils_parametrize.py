"""nn.utils.parametrize: the Parametrized<Class> layout, caching, removal,
assignment through right_inverse and PyTorch's errors."""

import copy

import numpy as np
import pytest

import lazyt as lt
from lazyt.nn.utils import parametrize


class Symmetric(lt.nn.Module):
    def forward(self, x):
        return x.triu() + x.triu(1).transpose(-1, -2)

    def right_inverse(self, a):
        return a.triu()


class Doubled(lt.nn.Module):
    def forward(self, x):
        return x * 2


class Halves(lt.nn.Module):
    def forward(self, x):
        return x[:1]


def test_register_and_remove_parametrization():
    m = lt.nn.Linear(3, 3)
    parametrize.register_parametrization(m, "weight", Symmetric())
    assert type(m).__name__ == "ParametrizedLinear"
    assert parametrize.type_before_parametrizations(m) is lt.nn.Linear
    assert parametrize.is_parametrized(m) and parametrize.is_parametrized(m, "weight")
    assert not parametrize.is_parametrized(m, "bias")
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original"]
    w = m.weight.detach().numpy()
    np.testing.assert_allclose(w, w.T)
    m(lt.ones(2, 3)).sum().backward()
    assert m.parametrizations.weight.original.grad is not None
    assert type(lt.nn.Linear(2, 2)).__name__ == "Linear"  # other instances untouched

    parametrize.register_parametrization(m, "weight", Doubled())  # chained
    np.testing.assert_allclose(m.weight.detach().numpy(), 2 * w, rtol=1e-6)
    with parametrize.cached():
        assert m.weight is m.weight
    assert m.weight is not m.weight
    assert type(copy.deepcopy(m)).__name__ == "ParametrizedLinear"

    parametrize.remove_parametrizations(m, "weight")
    assert type(m) is lt.nn.Linear and isinstance(m.weight, lt.nn.Parameter)
    np.testing.assert_allclose(m.weight.detach().numpy(), 2 * w, rtol=1e-6)
    assert list(m.state_dict()) == ["bias", "weight"]  # as torch: re-registered last


def test_assignment_goes_through_right_inverse_and_leave_parametrized_false():
    m = lt.nn.Linear(2, 2)
    parametrize.register_parametrization(m, "weight", Symmetric())
    m.weight = lt.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert m.parametrizations.weight.original.tolist() == [[1.0, 2.0], [0.0, 4.0]]
    assert m.weight.tolist() == [[1.0, 2.0], [2.0, 4.0]]
    parametrize.remove_parametrizations(m, "weight", leave_parametrized=False)
    assert m.weight.tolist() == [[1.0, 2.0], [0.0, 4.0]]


def test_parametrize_errors_match_torch():
    m = lt.nn.Linear(2, 2)
    with pytest.raises(ValueError, match="does not have a parameter, a buffer, or a "
                                         "parametrized element with name 'nope'"):
        parametrize.register_parametrization(m, "nope", Doubled())
    with pytest.raises(ValueError, match="may not change the shape of the tensor, unless "
                                         "`unsafe` flag is enabled"):
        parametrize.register_parametrization(m, "weight", Halves())
    assert not parametrize.is_parametrized(m)
    parametrize.register_parametrization(m, "weight", Halves(), unsafe=True)
    assert tuple(m.weight.shape) == (1, 2)
    with pytest.raises(RuntimeError, match="parametrization Halves does not implement "
                                           "right_inverse"):
        m.weight = lt.zeros(1, 2)
    with pytest.raises(ValueError, match="does not have a parametrization on bias"):
        parametrize.remove_parametrizations(m, "bias")


def test_parametrized_state_dict_matches_torch():
    torch = pytest.importorskip("torch")

    class TorchSymmetric(torch.nn.Module):
        def forward(self, x):
            return x.triu() + x.triu(1).transpose(-1, -2)

    theirs = torch.nn.Linear(3, 3)
    torch.nn.utils.parametrize.register_parametrization(theirs, "weight", TorchSymmetric())
    mine = lt.nn.Linear(3, 3)
    parametrize.register_parametrization(mine, "weight", Symmetric())
    assert list(mine.state_dict()) == list(theirs.state_dict())
    mine.load_state_dict({k: lt.tensor(v.detach().numpy())
                          for k, v in theirs.state_dict().items()})
    np.testing.assert_allclose(mine.weight.detach().numpy(), theirs.weight.detach().numpy())
    assert repr(mine).replace("Symmetric", "S") == repr(theirs).replace("TorchSymmetric", "S")


def test_weight_and_spectral_norm_essentials_without_torch():
    m = lt.nn.Linear(4, 3)
    weight = m.weight.detach().numpy().copy()
    with pytest.warns(FutureWarning):
        lt.nn.utils.weight_norm(m)
    assert tuple(m.weight_g.shape) == (3, 1) and "weight" not in m._parameters
    np.testing.assert_allclose(m(lt.eye(4)).detach().numpy().T - m.bias.detach().numpy()[:, None],
                               weight, rtol=1e-5, atol=1e-6)

    p = lt.nn.utils.parametrizations.weight_norm(lt.nn.Linear(4, 3))
    assert list(p.state_dict()) == ["bias", "parametrizations.weight.original0",
                                    "parametrizations.weight.original1"]

    s = lt.nn.utils.parametrizations.spectral_norm(lt.nn.Linear(5, 4), n_power_iterations=30)
    s(lt.ones(1, 5))  # training: 30 more power iterations
    s.eval()
    sigma = np.linalg.svd(s.weight.detach().numpy(), compute_uv=False)[0]
    assert abs(sigma - 1.0) < 1e-3

    old = lt.nn.utils.spectral_norm(lt.nn.Linear(5, 4))
    assert list(old.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
