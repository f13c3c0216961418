"""lazyt.utils: helpers around the tensor library (data loading, activation
checkpointing)."""

from lazyt.utils import checkpoint, data, dlpack

__all__ = ["checkpoint", "data", "dlpack"]
