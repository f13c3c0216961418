"""lazyt.fft: torch.fft's names. lazyt has no complex dtype, so only the
shifts are here: `fftshift` and `ifftshift` move the zero-frequency entry to
the centre and back, as rolls of lazyt's own shape ops.
"""

from __future__ import annotations

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
