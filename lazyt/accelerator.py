"""lt.accelerator: PyTorch's device-neutral accelerator queries, the idiom at the
top of current tutorials:

    device = lt.accelerator.current_accelerator().type if lt.accelerator.is_available() else "cpu"

lazyt's one accelerator is CUDA (lt.cuda); without it every query that needs a
device raises PyTorch's RuntimeError.
"""

from __future__ import annotations

from lazyt import cuda
from lazyt.runtime.device import device

_NONE_AVAILABLE = "Cannot access accelerator device when none is available."


def is_available() -> bool:
    return cuda.is_available()


def device_count() -> int:
    return cuda.device_count() if cuda.is_available() else 0


def current_accelerator(check_available: bool = False) -> device | None:
    """device('cuda') when lazyt has a usable GPU; None otherwise (as PyTorch)."""
    if cuda.is_available():
        return device("cuda")
    return None


def _require_accelerator() -> None:
    if not cuda.is_available():
        raise RuntimeError(_NONE_AVAILABLE)


def current_device_index() -> int:
    _require_accelerator()
    current = getattr(cuda, "current_device", None)
    return current() if current is not None else 0


def set_device_index(index) -> None:
    _require_accelerator()
    setter = getattr(cuda, "set_device", None)
    if setter is not None:
        setter(index)


def synchronize(device_arg=None, /) -> None:
    _require_accelerator()
    sync = getattr(cuda, "synchronize", None)
    if sync is not None:
        sync()


def memory_allocated(device_arg=None, /) -> int:
    _require_accelerator()
    allocated = getattr(cuda, "memory_allocated", None)
    return allocated() if allocated is not None else 0


current_device_idx = current_device_index
set_device_idx = set_device_index

__all__ = ["current_accelerator", "current_device_idx", "current_device_index", "device_count",
           "is_available", "memory_allocated", "set_device_idx", "set_device_index",
           "synchronize"]
