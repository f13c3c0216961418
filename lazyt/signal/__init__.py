"""lt.signal: PyTorch's torch.signal namespace (re-exports only)."""

from lazyt.signal import windows

__all__ = ["windows"]
