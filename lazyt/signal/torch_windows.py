"""torch.hann_window and its kin (hamming, blackman, bartlett, kaiser): the
top-level window functions, with PyTorch's `periodic` flag (True: one period
of a window of length + 1, for spectral analysis) and errors, computed by
lt.signal.windows. Reached as lt.hann_window etc. (lazy names in lazyt/__init__.py)."""

from __future__ import annotations

from lazyt import dtypes, formats
from lazyt import elementwise as ew
from lazyt.signal import windows
from lazyt.tensor import Tensor

__all__ = ["bartlett_window", "blackman_window", "hamming_window", "hann_window",
           "kaiser_window"]


def _window(name: str, window_length: int, periodic: bool, dtype, layout, device,
            requires_grad: bool, make) -> Tensor:
    dtype = dtypes.get_default_dtype() if dtype is None else dtypes.to_dtype(dtype)
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got "
                           f"window_length={window_length}")
    if dtype.kind != "f":
        raise RuntimeError(f"{name} expects floating point dtypes, got: {dtype}")
    # (float16 and bfloat16 windows are computed in float32 and rounded once)
    compute = dtype if dtype in (dtypes.float32, dtypes.float64) else dtypes.float32
    window = make(window_length, sym=not periodic, dtype=compute,
                  layout=formats.strided if layout is None else layout, device=device)
    return ew.cast_if(window, dtype).requires_grad_(requires_grad)


def hann_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None,
                device=None, pin_memory: bool = False, requires_grad: bool = False) -> Tensor:
    return _window("hann_window", window_length, periodic, dtype, layout, device, requires_grad,
                   windows.hann)


def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54,
                   beta: float = 0.46, *, dtype=None, layout=None, device=None,
                   pin_memory: bool = False, requires_grad: bool = False) -> Tensor:
    def make(m, **kwargs):
        return windows.general_cosine(m, a=[alpha, beta], **kwargs)

    return _window("hamming_window", window_length, periodic, dtype, layout, device,
                   requires_grad, make)


def blackman_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None,
                    device=None, pin_memory: bool = False, requires_grad: bool = False) -> Tensor:
    return _window("blackman_window", window_length, periodic, dtype, layout, device,
                   requires_grad, windows.blackman)


def bartlett_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None,
                    device=None, pin_memory: bool = False, requires_grad: bool = False) -> Tensor:
    return _window("bartlett_window", window_length, periodic, dtype, layout, device,
                   requires_grad, windows.bartlett)


def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *, dtype=None,
                  layout=None, device=None, pin_memory: bool = False,
                  requires_grad: bool = False) -> Tensor:
    def make(m, **kwargs):
        return windows.kaiser(m, beta=beta, **kwargs)

    return _window("kaiser_window", window_length, periodic, dtype, layout, device,
                   requires_grad, make)
