"""lazyt.utils: helpers around the tensor library (data loading)."""

from lazyt.utils import data

__all__ = ["data"]
