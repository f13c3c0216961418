"""lazyt.fft: torch.fft's names. lazyt has no complex dtype, so only the
real-valued ones are here: `fftshift` and `ifftshift` move the zero-frequency
entry to the centre and back, as rolls of lazyt's own shape ops, and
`fftfreq`/`rfftfreq` give the sample frequencies of a transform.
"""

from __future__ import annotations

from lazyt import creation as _creation
from lazyt import elementwise as _ew
from lazyt import shape_ops as _shape_ops
from lazyt.tensor import Tensor as _Tensor
from lazyt.tensor import normalize_dim as _normalize_dim


def _dims(input: _Tensor, dim) -> tuple[int, ...]:
    if dim is None:
        dims = tuple(range(input.ndim))
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if not dims:
        raise RuntimeError("`shifts` required")  # PyTorch's roll of no dims
    return tuple(_normalize_dim(d, input.ndim) for d in dims)


def fftshift(input: _Tensor, dim=None) -> _Tensor:
    """Roll each dim by half its size: the zero frequency moves to the centre."""
    dims = _dims(input, dim)
    return _shape_ops.roll(input, tuple(input.shape[d] // 2 for d in dims), dims)


def ifftshift(input: _Tensor, dim=None) -> _Tensor:
    """The inverse of fftshift: roll each dim back by half its size."""
    dims = _dims(input, dim)
    return _shape_ops.roll(input, tuple((input.shape[d] + 1) // 2 for d in dims), dims)


def _check_length(n: int) -> None:
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")


def fftfreq(n: int, d: float = 1.0, *, dtype=None, layout=None, device=None,
            requires_grad: bool = False) -> _Tensor:
    """[0, 1, ..., ceil(n/2) - 1, -floor(n/2), ..., -1] / (d n): the frequencies
    of an n-point transform, zero first."""
    _check_length(n)
    index = _creation.arange(n, dtype=dtype, device=device)
    frequencies = _ew.sub(index, _ew.mul(_ew.apply("ge", index, (n + 1) // 2), n))
    return _ew.mul(frequencies, 1.0 / (d * n) if n else 1.0).requires_grad_(requires_grad)


def rfftfreq(n: int, d: float = 1.0, *, dtype=None, layout=None, device=None,
             requires_grad: bool = False) -> _Tensor:
    """[0, 1, ..., n // 2] / (d n): the frequencies of an n-point real transform."""
    _check_length(n)
    index = _creation.arange(n // 2 + 1, dtype=dtype, device=device)
    return _ew.mul(index, 1.0 / (d * n)).requires_grad_(requires_grad)
