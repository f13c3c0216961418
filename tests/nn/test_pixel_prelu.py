"""F.pixel_shuffle/pixel_unshuffle, F.prelu and their modules against PyTorch:
values, float64 gradients, errors."""

import numpy as np
import pytest

import lazyt as lt
import lazyt.nn as nn
import lazyt.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional
RNG = np.random.default_rng(5)


def _check(fn_ours, fn_theirs, *arrays):
    ours = [lt.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    got, want = fn_ours(*ours), fn_theirs(*theirs)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), atol=1e-12)
    upstream = RNG.standard_normal(tuple(want.shape))
    (got * lt.tensor(upstream)).sum().backward()
    (want * torch.tensor(upstream)).sum().backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("shape,factor", [((1, 8, 2, 3), 2), ((2, 3, 9, 2, 2), 3), ((4, 1, 1), 2)])
def test_pixel_shuffle_and_unshuffle_match_torch(shape, factor):
    _check(lambda x: F.pixel_shuffle(x, factor), lambda x: TF.pixel_shuffle(x, factor),
           RNG.standard_normal(shape))
    shuffled = list(shape[:-3]) + [shape[-3] // factor ** 2, shape[-2] * factor,
                                   shape[-1] * factor]
    _check(lambda x: F.pixel_unshuffle(x, factor), lambda x: TF.pixel_unshuffle(x, factor),
           RNG.standard_normal(shuffled))
    assert repr(nn.PixelShuffle(factor)) == repr(torch.nn.PixelShuffle(factor))
    assert repr(nn.PixelUnshuffle(factor)) == repr(torch.nn.PixelUnshuffle(factor))


@pytest.mark.parametrize("call", [
    lambda f, m: f.pixel_shuffle(m.ones(2, 3), 2),
    lambda f, m: f.pixel_shuffle(m.ones(5, 2, 2), 2),
    lambda f, m: f.pixel_shuffle(m.ones(4, 2, 2), 0),
    lambda f, m: f.pixel_unshuffle(m.ones(1, 5, 4), 2),
    lambda f, m: f.pixel_unshuffle(m.ones(1, 4, 5), 2),
    lambda f, m: f.prelu(m.ones(2, 4), m.ones(3)),
    lambda f, m: f.prelu(m.ones(4), m.ones(3)),
    lambda f, m: f.prelu(m.ones(()), m.ones(3)),
    lambda f, m: f.prelu(m.ones(2, 4), m.ones(1, 4)),
])
def test_errors_match_torch(call):
    with pytest.raises(RuntimeError) as theirs:
        call(TF, torch)
    with pytest.raises(RuntimeError) as ours:
        call(F, lt)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("shape,slopes", [((2, 3, 4), 3), ((2, 3, 4), 1), ((5,), 1), ((2, 4), 4)])
def test_prelu_matches_torch(shape, slopes):
    x = RNG.standard_normal(shape)
    x.flat[0] = 0.0  # the gradient at 0 goes to the slope side, as torch's
    _check(F.prelu, TF.prelu, x, RNG.standard_normal(slopes))


def test_prelu_module_matches_torch():
    ours, theirs = nn.PReLU(3), torch.nn.PReLU(3)
    x = RNG.standard_normal((2, 3, 5))
    np.testing.assert_allclose(ours(lt.tensor(x, dtype=lt.float32)).detach().numpy(),
                               theirs(torch.tensor(x, dtype=torch.float32)).detach().numpy(),
                               atol=1e-6)
    assert list(ours.state_dict()) == list(theirs.state_dict())
