"""lt.utils.dlpack: DLPack exchange with other array libraries (CPU memory,
shared, not copied), as torch.utils.dlpack."""

from __future__ import annotations

from lazyt.conversions import from_dlpack
from lazyt.tensor import Tensor

__all__ = ["from_dlpack", "to_dlpack"]


def to_dlpack(tensor: Tensor):
    """A DLPack capsule of tensor's memory."""
    return tensor.__dlpack__()
