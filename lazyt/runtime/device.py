"""Devices: lt.device('cpu'), 'cuda', 'cuda:N' parsing and availability."""

from __future__ import annotations

import ctypes
import importlib.util
import os


class device:  # noqa: N801 - PyTorch's name
    """A device as PyTorch has it: type ('cpu' or 'cuda') and optional index."""

    __slots__ = ("type", "index")

    def __init__(self, type_or_str, index: int | None = None):
        if isinstance(type_or_str, device):
            self.type, self.index = type_or_str.type, type_or_str.index
            return
        if isinstance(type_or_str, int) and not isinstance(type_or_str, bool):
            type_or_str, index = "cuda", type_or_str
        if not isinstance(type_or_str, str):
            raise TypeError(f"device() received an invalid combination of arguments - got ({type(type_or_str).__name__})")
        text = type_or_str.strip()
        kind, _, idx = text.partition(":")
        if kind not in ("cpu", "cuda"):
            raise RuntimeError(
                f"Expected one of cpu, cuda device type at start of device string: {text}")
        if idx:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was passed explicitly: {text}")
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{text}'")
            index = int(idx)
        if index is not None and index < 0:
            raise RuntimeError(f"Device index must not be negative, got {index}")
        self.type = kind
        self.index = index

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"


CPU = device("cpu")


# The device creation functions (lt.zeros(..., device='cuda'), ...) build on,
# innermost last: a result reading no buffer (a constant, arange, random
# numbers) is computed there.
CREATION_DEVICE: list = []

# Set once the first CUDA storage exists: until then the engine skips every
# device check (the CPU path pays nothing for the CUDA backend).
CUDA_USED = [False]
_AVAILABILITY: list = []  # (available, reason) once probed


def _probe_cuda() -> tuple[bool, str]:
    """(available, why not) without importing numba: Numba's simulator
    (NUMBA_ENABLE_CUDASIM=1) counts as a device; otherwise numba-cuda must
    be installed and the driver library loadable."""
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        return True, ""
    if importlib.util.find_spec("numba_cuda") is None and importlib.util.find_spec("numba") is None:
        return False, "numba-cuda is not installed (pip install numba-cuda)"
    try:
        ctypes.CDLL("libcuda.so.1")
    except OSError:
        return False, "no NVIDIA driver found (libcuda.so.1 cannot be loaded)"
    return True, ""


def cuda_availability() -> tuple[bool, str]:
    if not _AVAILABILITY:
        _AVAILABILITY.append(_probe_cuda())
    return _AVAILABILITY[0]


def cuda_is_available() -> bool:
    """Whether CUDA tensors can be made: a cheap probe (no numba import)."""
    return cuda_availability()[0]


def cuda_device_count() -> int:
    if not cuda_is_available():
        return 0
    from numba import cuda  # (half a second: only once CUDA is asked for)

    try:
        return len(cuda.gpus)
    except Exception:  # a driver without a usable device
        return 0


def to_device(obj) -> device:
    """Normalise a user's device argument: 'cuda' is cuda:0 (as a tensor's
    device is in PyTorch); CUDA without a usable device raises RuntimeError."""
    if obj is None:
        return CPU
    if obj is CPU:
        return CPU
    dev = obj if isinstance(obj, device) else device(obj)
    if dev.type == "cpu":
        return CPU
    available, reason = cuda_availability()
    if not available:
        raise RuntimeError(f"CUDA is not available: lazyt cannot place a tensor on device "
                           f"'{dev}' ({reason}; lt.cuda.is_available() is False)")
    index = dev.index or 0
    count = cuda_device_count()
    if index >= count:
        raise RuntimeError(f"CUDA error: invalid device ordinal (device '{dev}' requested, "
                           f"{count} CUDA device{'s' if count != 1 else ''} available)")
    found = _CUDA_DEVICES.get(index)
    if found is None:
        found = _CUDA_DEVICES[index] = device("cuda", index)
    return found


_CUDA_DEVICES: dict[int, device] = {}


def mixed_devices_error(first: device, second: device) -> RuntimeError:
    """PyTorch's error for an op over tensors on two devices."""
    return RuntimeError("Expected all tensors to be on the same device, but found at least "
                        f"two devices, {first} and {second}!")
