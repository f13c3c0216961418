"""lt.signal.windows: the window functions of torch.signal.windows (bartlett, blackman,
cosine, exponential, gaussian, general_cosine, general_hamming, hamming, hann, kaiser,
nuttall).

Creation functions written with lazyt ops, following torch/signal/windows/windows.py:
each is a linspace over the window's sample points fed through a few elementwise ops
(one fused kernel in deferred mode). `sym=False` gives the periodic window (one point
of a window of M + 1, as for spectral analysis). Their arguments, checks and
ValueErrors are PyTorch's.
"""
# The window length is PyTorch's argument `M` (keyword-callable): the name stays.
# ruff: noqa: N803

from __future__ import annotations

import math
from collections.abc import Iterable

from lazyt import creation, dtypes, formats
from lazyt import elementwise as ew
from lazyt.tensor import Tensor

__all__ = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "general_cosine",
           "general_hamming", "hamming", "hann", "kaiser", "nuttall"]


def _checked_dtype(name: str, M: int, dtype, layout) -> dtypes.DType:
    """The window's dtype (the default one when None), after PyTorch's argument checks."""
    dtype = dtypes.get_default_dtype() if dtype is None else dtypes.to_dtype(dtype)
    if M < 0:
        raise ValueError(f"{name} requires non-negative window length, got M={M}")
    if layout is not None and layout is not formats.strided:
        raise ValueError(f"{name} is implemented for strided tensors only, got: {layout}")
    if dtype not in (dtypes.float32, dtypes.float64):
        raise ValueError(f"{name} expects float32 or float64 dtypes, got: {dtype}")
    return dtype


def _constant_window(M: int, value: int, dtype, device, requires_grad: bool) -> Tensor:
    """The empty (M == 0) or single-point (M == 1) window."""
    maker = creation.empty if value == 0 else creation.ones
    return maker((M,), dtype=dtype, device=device, requires_grad=requires_grad)


def _points(start: float, step: float, M: int, dtype, device, requires_grad: bool) -> Tensor:
    """M evenly spaced points from start with spacing step (torch's linspace of them)."""
    return creation.linspace(start, start + (M - 1) * step, M, dtype=dtype, device=device,
                             requires_grad=requires_grad)


def exponential(M: int, *, center: float | None = None, tau: float = 1.0, sym: bool = True,
                dtype=None, layout=formats.strided, device=None,
                requires_grad: bool = False) -> Tensor:
    """exp(-|n - center| / tau)."""
    dtype = _checked_dtype("exponential", M, dtype, layout)
    if tau <= 0:
        raise ValueError(f"Tau must be positive, got: {tau} instead.")
    if sym and center is not None:
        raise ValueError("Center must be None for symmetric windows")
    if M == 0:
        return _constant_window(0, 0, dtype, device, requires_grad)
    if center is None:
        center = (M if not sym and M > 1 else M - 1) / 2.0
    constant = 1 / tau
    k = creation.linspace(-center * constant, (-center + (M - 1)) * constant, M, dtype=dtype,
                          device=device, requires_grad=requires_grad)
    return ew.apply("exp", ew.neg(ew.apply("abs", k)))


def cosine(M: int, *, sym: bool = True, dtype=None, layout=formats.strided, device=None,
           requires_grad: bool = False) -> Tensor:
    """sin(pi (n + 1/2) / M): the sine window."""
    dtype = _checked_dtype("cosine", M, dtype, layout)
    if M == 0:
        return _constant_window(0, 0, dtype, device, requires_grad)
    constant = math.pi / (M + 1 if not sym and M > 1 else M)
    k = creation.linspace(0.5 * constant, (0.5 + (M - 1)) * constant, M, dtype=dtype,
                          device=device, requires_grad=requires_grad)
    return ew.apply("sin", k)


def gaussian(M: int, *, std: float = 1.0, sym: bool = True, dtype=None, layout=formats.strided,
             device=None, requires_grad: bool = False) -> Tensor:
    """exp(-(n - (M - 1) / 2)^2 / (2 std^2))."""
    dtype = _checked_dtype("gaussian", M, dtype, layout)
    if std <= 0:
        raise ValueError(f"Standard deviation must be positive, got: {std} instead.")
    if M == 0:
        return _constant_window(0, 0, dtype, device, requires_grad)
    start = -(M if not sym and M > 1 else M - 1) / 2.0
    constant = 1 / (std * math.sqrt(2))
    k = creation.linspace(start * constant, (start + (M - 1)) * constant, M, dtype=dtype,
                          device=device, requires_grad=requires_grad)
    return ew.apply("exp", ew.neg(ew.mul(k, k)))


def kaiser(M: int, *, beta: float = 12.0, sym: bool = True, dtype=None, layout=formats.strided,
           device=None, requires_grad: bool = False) -> Tensor:
    """I0(beta sqrt(1 - (2n / (M - 1) - 1)^2)) / I0(beta)."""
    dtype = _checked_dtype("kaiser", M, dtype, layout)
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got: {beta} instead.")
    if M <= 1:
        return _constant_window(M, M, dtype, device, requires_grad)
    # The end points are computed in the window's dtype, as PyTorch does.
    beta_t = creation.tensor(beta, dtype=dtype)
    start = ew.neg(beta_t)
    constant = ew.true_divide(ew.mul(beta_t, 2.0), M if not sym else M - 1)
    end = ew.apply("minimum", beta_t, ew.add(start, ew.mul(constant, M - 1)))
    k = creation.linspace(start.item(), end.item(), M, dtype=dtype, device=device,
                          requires_grad=requires_grad)
    root = ew.apply("sqrt", ew.sub(ew.mul(beta_t, beta_t), ew.mul(k, k)))
    return ew.true_divide(ew.apply("i0", root), ew.apply("i0", beta_t))


def general_cosine(M: int, *, a: Iterable, sym: bool = True, dtype=None,
                   layout=formats.strided, device=None, requires_grad: bool = False) -> Tensor:
    """sum_i (-1)^i a_i cos(2 pi i n / (M - 1))."""
    dtype = _checked_dtype("general_cosine", M, dtype, layout)
    if M <= 1:
        return _constant_window(M, M, dtype, device, requires_grad)
    if not isinstance(a, Iterable):
        raise TypeError("Coefficients must be a list/tuple")
    if not a:
        raise ValueError("Coefficients cannot be empty")
    constant = 2 * math.pi / (M if not sym else M - 1)
    k = _points(0, constant, M, dtype, device, requires_grad)
    coefficients = creation.tensor([(-1) ** i * w for i, w in enumerate(a)], dtype=dtype,
                                   requires_grad=requires_grad)
    orders = creation.arange(coefficients.shape[0], dtype=dtype)
    terms = ew.mul(coefficients.unsqueeze(-1), ew.apply("cos", ew.mul(orders.unsqueeze(-1), k)))
    return terms.sum(0)


def general_hamming(M: int, *, alpha: float = 0.54, sym: bool = True, dtype=None,
                    layout=formats.strided, device=None, requires_grad: bool = False) -> Tensor:
    """alpha - (1 - alpha) cos(2 pi n / (M - 1))."""
    return general_cosine(M, a=[alpha, 1.0 - alpha], sym=sym, dtype=dtype, layout=layout,
                          device=device, requires_grad=requires_grad)


def hamming(M: int, *, sym: bool = True, dtype=None, layout=formats.strided, device=None,
            requires_grad: bool = False) -> Tensor:
    """The Hamming window (general_hamming with alpha 0.54)."""
    return general_hamming(M, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)


def hann(M: int, *, sym: bool = True, dtype=None, layout=formats.strided, device=None,
         requires_grad: bool = False) -> Tensor:
    """The Hann window (general_hamming with alpha 0.5)."""
    return general_hamming(M, alpha=0.5, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)


def blackman(M: int, *, sym: bool = True, dtype=None, layout=formats.strided, device=None,
             requires_grad: bool = False) -> Tensor:
    """The Blackman window (general_cosine with a = [0.42, 0.5, 0.08])."""
    _checked_dtype("blackman", M, dtype, layout)
    return general_cosine(M, a=[0.42, 0.5, 0.08], sym=sym, dtype=dtype, layout=layout,
                          device=device, requires_grad=requires_grad)


def nuttall(M: int, *, sym: bool = True, dtype=None, layout=formats.strided, device=None,
            requires_grad: bool = False) -> Tensor:
    """Nuttall's minimum 4-term Blackman-Harris window."""
    return general_cosine(M, a=[0.3635819, 0.4891775, 0.1365995, 0.0106411], sym=sym,
                          dtype=dtype, layout=layout, device=device, requires_grad=requires_grad)


def bartlett(M: int, *, sym: bool = True, dtype=None, layout=formats.strided, device=None,
             requires_grad: bool = False) -> Tensor:
    """The triangular window 1 - |2n / (M - 1) - 1|."""
    dtype = _checked_dtype("bartlett", M, dtype, layout)
    if M <= 1:
        return _constant_window(M, M, dtype, device, requires_grad)
    constant = 2 / (M if not sym else M - 1)
    k = _points(-1, constant, M, dtype, device, requires_grad)
    return ew.sub(1, ew.apply("abs", k))
