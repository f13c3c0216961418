"""lt.cuda: availability queries (the CUDA backend is a later issue)."""

from lazyt.runtime.device import cuda_device_count as device_count
from lazyt.runtime.device import cuda_is_available as is_available

__all__ = ["device_count", "is_available"]
