"""lazyt.utils: helpers around the tensor library (data loading, activation
checkpointing)."""

from lazyt.utils import checkpoint, data

__all__ = ["checkpoint", "data"]
