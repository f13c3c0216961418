"""lt.signal.windows (lazyt/signal/windows.py) against torch.signal.windows: every window
for small and odd/even lengths, symmetric and periodic, float32 and float64, their extra
parameters, requires_grad, and PyTorch's ValueErrors."""

from __future__ import annotations

import numpy as np
import pytest

import lazyt as lt

torch = pytest.importorskip("torch")

WINDOWS = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "hamming", "hann",
           "kaiser", "nuttall"]


def _close(got, expected):
    assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    assert tuple(got.shape) == tuple(expected.shape)
    np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize("name", WINDOWS)
def test_windows_match_torch(name):
    fn, tfn = getattr(lt.signal.windows, name), getattr(torch.signal.windows, name)
    for length in (0, 1, 2, 5, 8):
        for sym in (True, False):
            _close(fn(length, sym=sym), tfn(length, sym=sym))
    _close(fn(M=3), tfn(M=3))
    _close(fn(7, dtype=lt.float64), tfn(7, dtype=torch.float64))


def test_window_parameters_match_torch():
    w, tw = lt.signal.windows, torch.signal.windows
    _close(w.exponential(6, center=1.5, tau=2.0, sym=False),
           tw.exponential(6, center=1.5, tau=2.0, sym=False))
    _close(w.gaussian(9, std=0.7), tw.gaussian(9, std=0.7))
    _close(w.kaiser(10, beta=3.5, sym=False), tw.kaiser(10, beta=3.5, sym=False))
    _close(w.general_hamming(7, alpha=0.6), tw.general_hamming(7, alpha=0.6))
    _close(w.general_cosine(9, a=[0.5, 0.3, 0.2], sym=False),
           tw.general_cosine(9, a=[0.5, 0.3, 0.2], sym=False))


def test_window_requires_grad_and_default_dtype():
    window = lt.signal.windows.hann(5, requires_grad=True)
    assert window.requires_grad
    lt.set_default_dtype(lt.float64)
    try:
        assert lt.signal.windows.cosine(3).dtype == lt.float64
    finally:
        lt.set_default_dtype(lt.float32)


def test_window_errors_match_torch():
    w = lt.signal.windows
    with pytest.raises(ValueError, match="requires non-negative window length, got M=-1"):
        w.hann(-1)
    with pytest.raises(ValueError, match="expects float32 or float64 dtypes"):
        w.bartlett(4, dtype=lt.int64)
    with pytest.raises(ValueError, match="Tau must be positive"):
        w.exponential(4, tau=0.0)
    with pytest.raises(ValueError, match="Center must be None for symmetric windows"):
        w.exponential(4, center=1.0)
    with pytest.raises(ValueError, match="Standard deviation must be positive"):
        w.gaussian(4, std=-1.0)
    with pytest.raises(ValueError, match="beta must be non-negative"):
        w.kaiser(4, beta=-1.0)
    with pytest.raises(ValueError, match="Coefficients cannot be empty"):
        w.general_cosine(4, a=[])
