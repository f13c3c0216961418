"""F.interpolate / F.upsample* and the Upsample modules against PyTorch:
values, float32/float64 input gradients, grad_fn names, errors, deferred mode."""

import numpy as np
import pytest

import lazyt as lt
import lazyt.nn as nn
import lazyt.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional
RNG = np.random.default_rng(7)

CASES = [
    ((2, 3, 5), dict(scale_factor=2, mode="nearest")),
    ((2, 3, 5), dict(size=7, mode="nearest")),
    ((1, 1, 7), dict(scale_factor=0.43, mode="nearest")),
    ((2, 3, 5), dict(size=3, mode="nearest-exact")),
    ((1, 2, 4, 5), dict(scale_factor=(1.5, 2.25), mode="nearest-exact")),
    ((1, 2, 3, 4, 5), dict(size=(4, 3, 7), mode="nearest")),
    ((2, 3, 5), dict(scale_factor=1.3, mode="linear", recompute_scale_factor=True)),
    ((2, 3, 5), dict(size=9, mode="linear", align_corners=True)),
    ((1, 2, 4, 5), dict(size=(7, 3), mode="bilinear")),
    ((1, 2, 4, 5), dict(size=(7, 1), mode="bilinear", align_corners=True)),
    ((1, 2, 4, 5), dict(scale_factor=(2.5, 0.6), mode="bilinear")),
    ((1, 2, 4, 5), dict(scale_factor=1.7, mode="bicubic")),
    ((1, 2, 4, 5), dict(size=(9, 11), mode="bicubic", align_corners=True)),
    ((1, 2, 3, 4, 5), dict(scale_factor=1.5, mode="trilinear")),
    ((1, 2, 3, 4, 5), dict(size=(2, 6, 3), mode="trilinear", align_corners=True)),
    ((1, 2, 4, 5), dict(size=(3, 2), mode="area")),
    ((2, 3, 7), dict(scale_factor=0.5, mode="area")),
]


def _both(shape, dtype, fn):
    x = RNG.standard_normal(shape)
    ours = lt.tensor(x, dtype=getattr(lt, dtype), requires_grad=True)
    theirs = torch.tensor(x, dtype=getattr(torch, dtype), requires_grad=True)
    got, want = fn(ours, F), fn(theirs, TF)
    upstream = RNG.standard_normal(tuple(want.shape))
    (got * lt.tensor(upstream, dtype=got.dtype)).sum().backward()
    (want * torch.tensor(upstream, dtype=want.dtype)).sum().backward()
    return ours, theirs, got, want


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,kwargs", CASES)
def test_interpolate_matches_torch(shape, kwargs, dtype):
    tol = 1e-5 if dtype == "float32" else 1e-12
    ours, theirs, got, want = _both(shape, dtype, lambda x, f: f.interpolate(x, **kwargs))
    assert tuple(got.shape) == tuple(want.shape) and got.dtype == getattr(lt, dtype)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), atol=tol, rtol=tol)
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), atol=tol, rtol=tol)
    if kwargs["mode"] != "area":
        assert got.grad_fn.name() == want.grad_fn.name()


def test_interpolate_repeated_calls_replay_the_same_values():
    x = lt.randn(2, 3, 6, 5)
    first = F.interpolate(x, scale_factor=2, mode="bilinear").numpy()
    for _ in range(3):  # run, record, replay
        np.testing.assert_array_equal(F.interpolate(x, scale_factor=2, mode="bilinear").numpy(),
                                      first)


def test_interpolate_in_deferred_mode_matches_eager():
    x = lt.randn(1, 2, 4, 4)
    eager = F.interpolate(x, size=(6, 7), mode="bicubic").numpy()
    with lt.deferred():
        lazy = F.interpolate(x * 1.0, size=(6, 7), mode="bicubic")
    np.testing.assert_allclose(lazy.numpy(), eager, atol=1e-6)


def test_interpolate_integer_dtypes_as_torch():
    x = np.arange(12).reshape(1, 2, 6)
    got = F.interpolate(lt.tensor(x, dtype=lt.uint8), size=4)
    want = TF.interpolate(torch.tensor(x, dtype=torch.uint8), size=4)
    assert got.dtype == lt.uint8 and got.tolist() == want.tolist()
    for mode in ("nearest", "linear", "area"):
        with pytest.raises(NotImplementedError) as theirs:
            TF.interpolate(torch.tensor(x), size=4, mode=mode)
        with pytest.raises(NotImplementedError, match="not implemented for 'Long'") as ours:
            F.interpolate(lt.tensor(x), size=4, mode=mode)
        assert str(ours.value) == str(theirs.value)


def test_interpolate_half_precision_computes_in_float32():
    x = RNG.standard_normal((1, 2, 5))
    got = F.interpolate(lt.tensor(x, dtype=lt.float16), scale_factor=1.5, mode="linear")
    want = TF.interpolate(torch.tensor(x, dtype=torch.float16), scale_factor=1.5, mode="linear")
    assert got.dtype == lt.float16
    np.testing.assert_allclose(got.float().numpy(), want.float().numpy(), atol=2e-3)


@pytest.mark.parametrize("call,error", [
    (lambda f, x: f.interpolate(x, size=3, scale_factor=2), ValueError),
    (lambda f, x: f.interpolate(x), ValueError),
    (lambda f, x: f.interpolate(x, size=(3, 4)), ValueError),
    (lambda f, x: f.interpolate(x, scale_factor=(2, 2)), ValueError),
    (lambda f, x: f.interpolate(x, size=3, align_corners=True), ValueError),
    (lambda f, x: f.interpolate(x, size=3, mode="bilinear"), NotImplementedError),
    (lambda f, x: f.interpolate(x, size=3, mode="cubic"), NotImplementedError),
    (lambda f, x: f.interpolate(x, size=3, mode="linear", recompute_scale_factor=True),
     ValueError),
    (lambda f, x: f.interpolate(x, size=0), RuntimeError),
    (lambda f, x: f.interpolate(x, size=3, mode="linear", antialias=True), ValueError),
])
def test_interpolate_errors_match_torch(call, error):
    x = np.zeros((1, 2, 5))
    with pytest.raises(error) as theirs:
        call(TF, torch.tensor(x))
    with pytest.raises(error) as ours:
        call(F, lt.tensor(x))
    if error is not RuntimeError:
        assert str(ours.value) == str(theirs.value)


def test_upsample_aliases_warn_and_match_torch():
    x = RNG.standard_normal((1, 2, 3, 4))
    for name, kwargs in [("upsample", dict(scale_factor=2, mode="bilinear")),
                         ("upsample_nearest", dict(size=(5, 5))),
                         ("upsample_bilinear", dict(scale_factor=2))]:
        with pytest.warns(UserWarning):
            got = getattr(F, name)(lt.tensor(x), **kwargs)
        want = getattr(TF, name)(torch.tensor(x), **kwargs)
        np.testing.assert_allclose(got.numpy(), want.numpy(), atol=1e-12)


@pytest.mark.parametrize("make", [
    lambda m: m.Upsample(scale_factor=2, mode="nearest"),
    lambda m: m.Upsample(size=(5, 7), mode="bilinear", align_corners=False),
    lambda m: m.Upsample(scale_factor=(1.5, 2.0), mode="bicubic", recompute_scale_factor=True),
    lambda m: m.UpsamplingNearest2d(scale_factor=3),
    lambda m: m.UpsamplingBilinear2d(size=(6, 6)),
])
def test_upsample_modules_match_torch(make):
    x = RNG.standard_normal((2, 3, 4, 4))
    ours, theirs = make(nn), make(torch.nn)
    np.testing.assert_allclose(ours(lt.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy(),
                               atol=1e-12)
    assert repr(ours) == repr(theirs)
    assert ours.state_dict() == {} and len(theirs.state_dict()) == 0
