"""Process-wide settings PyTorch scripts call: the default device and thread counts.

lazyt runs on the CPU (lt.cuda.is_available() is False), so the default device
can only be the CPU; asking for CUDA gets the same clear error as placing a
tensor there. set_num_threads sets how many threads a large kernel launch is
split across (the LAZYT_NUM_THREADS default), from the next launch on.
"""

from __future__ import annotations

from lazyt import eager_cache
from lazyt.runtime import launch
from lazyt.runtime.device import CPU, device, to_device

_interop_threads = [1]


def set_default_device(device_) -> None:
    """lt.set_default_device('cpu'); None resets. CUDA raises until that backend exists."""
    to_device(device_)


def get_default_device() -> device:
    return CPU


def set_num_threads(count: int) -> None:
    if not isinstance(count, int) or isinstance(count, bool) or count <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    launch.set_thread_count(count)
    eager_cache.forget_all()  # its direct calls were decided for the old count


def get_num_threads() -> int:
    return launch.thread_count()


def set_num_interop_threads(count: int) -> None:
    if not isinstance(count, int) or isinstance(count, bool) or count <= 0:
        raise RuntimeError("set_num_interop_threads expects a positive integer")
    _interop_threads[0] = count


def get_num_interop_threads() -> int:
    return _interop_threads[0]
