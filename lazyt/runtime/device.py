"""Devices: lt.device('cpu'), 'cuda', 'cuda:N' parsing and availability."""

from __future__ import annotations


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


def cuda_is_available() -> bool:
    """CUDA support arrives with the CUDA backend issue; until then it is never available."""
    return False


def cuda_device_count() -> int:
    return 0


def to_device(obj) -> device:
    """Normalise a user's device argument; CUDA raises until the backend exists."""
    if obj is None:
        return CPU
    dev = obj if isinstance(obj, device) else device(obj)
    if dev.type == "cuda":
        raise RuntimeError(
            f"CUDA is not available: lazyt cannot place a tensor on device '{dev}' "
            "(the CUDA backend is not built yet; lt.cuda.is_available() is False)")
    return CPU
