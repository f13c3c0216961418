"""Convolution as im2col of the whole batch + one matmul per group
(lazyt/nn/_functional/conv.py): values and the gradients of input, weight and
bias against PyTorch over strides, dilations, paddings (asymmetric 'same',
windows that read only padding), groups and 1-3 spatial dims, in eager mode
(op by op, recorded, replayed) and deferred mode (one copy makes the columns:
one realisation); the output is contiguous NCHW; col2im is strided adds (no
scatter kernel); double backward."""

import numpy as np
import pytest

import lazyt as lt

torch = pytest.importorskip("torch")

CASES = [
    # (input shape, weight shape, bias, kwargs)
    ((2, 3, 8, 8), (4, 3, 3, 3), True, dict(padding=1)),
    ((2, 3, 8, 8), (4, 3, 3, 3), False, dict(padding=1)),
    ((2, 4, 9, 7), (6, 2, 3, 2), True, dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2),
                                            groups=2)),
    ((2, 3, 9), (4, 3, 3), True, dict(stride=2, padding=1)),
    ((1, 2, 5, 6, 4), (3, 2, 2, 3, 1), True, dict(padding="same")),
    ((2, 3, 8, 8), (4, 3, 3, 3), True, dict(padding="valid")),
    ((1, 2, 4, 4), (2, 2, 3, 3), True, dict(padding=3)),  # some offsets read only padding
    ((2, 2, 7, 7), (3, 2, 3, 3), True, dict(stride=3, padding=2, dilation=2)),
    ((0, 3, 8, 8), (4, 3, 3, 3), True, dict(padding=1)),
]


def _run(lib, x, w, b, g, kwargs, bias):
    xs, ws, bs = (lib.tensor(a, requires_grad=True) for a in (x, w, b))
    conv = getattr(lib.nn.functional, f"conv{x.ndim - 2}d")
    out = conv(xs, ws, bs if bias else None, **kwargs)
    out.backward(lib.tensor(g))
    grads = [xs.grad, ws.grad] + ([bs.grad] if bias else [])
    return out, [t.detach().numpy() for t in grads]


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("mode", ["eager", "deferred"])
def test_values_and_gradients_match_torch(case, mode):
    xshape, wshape, bias, kwargs = CASES[case]
    rng = np.random.default_rng(case)
    x = rng.standard_normal(xshape).astype(np.float32)
    w = rng.standard_normal(wshape).astype(np.float32)
    b = rng.standard_normal(wshape[0]).astype(np.float32)
    conv = getattr(torch.nn.functional, f"conv{x.ndim - 2}d")
    out_shape = conv(torch.tensor(x), torch.tensor(w), None, **kwargs).shape
    g = rng.standard_normal(tuple(out_shape)).astype(np.float32)
    expected, expected_grads = _run(torch, x, w, b, g, kwargs, bias)
    for _ in range(3 if mode == "eager" else 1):  # op by op, recorded, replayed
        if mode == "deferred":
            with lt.deferred():
                out, grads = _run(lt, x, w, b, g, kwargs, bias)
        else:
            out, grads = _run(lt, x, w, b, g, kwargs, bias)
        assert out.is_contiguous() and tuple(out.stride()) == tuple(expected.stride())
        np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(),
                                   rtol=1e-4, atol=1e-4)
        for got, want in zip(grads, expected_grads):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=2e-4)


def test_float64_double_backward_matches_torch():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 2, 5, 5))
    w = rng.standard_normal((3, 2, 3, 3))
    results = []
    for lib in (torch, lt):
        xs, ws = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        out = lib.nn.functional.conv2d(xs, ws, padding=1, stride=(1, 2))
        (gx,) = lib.autograd.grad(out.square().sum(), (xs,), create_graph=True)
        gx.sum().backward()
        results.append((gx.detach().numpy(), ws.grad.numpy()))
    for ours, theirs in zip(results[1], results[0]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10)


def test_backward_has_no_scatter_kernel(capsys):
    x = lt.tensor(np.ones((2, 3, 8, 8), dtype=np.float32), requires_grad=True)
    w = lt.tensor(np.ones((4, 3, 3, 3), dtype=np.float32), requires_grad=True)
    lt.debug.set_level(3)
    try:
        lt.nn.functional.conv2d(x, w, padding=1).sum().backward()
    finally:
        lt.debug.set_level(0)
    log = capsys.readouterr().out
    assert "scatter" not in log and "gather" not in log


@pytest.mark.parametrize("kwargs", [dict(padding=1), dict(stride=2, padding=2, dilation=2)])
def test_deferred_columns_are_one_copy_of_the_windows(kwargs):
    # Every kernel offset's window is one strided view of the padded input,
    # so the columns are one copy: deferred mode realises the padded input
    # once, not once per kernel offset (nine times for a 3x3 kernel).
    rng = np.random.default_rng(3)
    x = lt.tensor(rng.standard_normal((2, 3, 9, 9)).astype(np.float32))
    w = lt.tensor(rng.standard_normal((4, 3, 3, 3)).astype(np.float32))
    eager = lt.nn.functional.conv2d(x * 2, w, **kwargs)
    with lt.deferred():
        pending = x * 2
        lt.debug.reset_stats()
        out = lt.nn.functional.conv2d(pending, w, **kwargs)
        assert lt.debug.stats()["realizations"] <= 1
        out.realize()
    assert np.array_equal(out.numpy(), eager.numpy())
