"""lt.cuda: availability queries and the seeding calls scripts make (the CUDA backend
is a later issue). As in PyTorch without a GPU, seeding CUDA is a no-op."""

from lazyt.runtime.device import cuda_device_count as device_count
from lazyt.runtime.device import cuda_is_available as is_available


def manual_seed(seed: int) -> None:
    """Seed the current GPU's generator: nothing to seed without CUDA (as PyTorch)."""


def manual_seed_all(seed: int) -> None:
    """Seed every GPU's generator: nothing to seed without CUDA (as PyTorch)."""


def seed() -> None:
    """Seed the GPU generator randomly: a no-op without CUDA."""


def seed_all() -> None:
    """Seed every GPU generator randomly: a no-op without CUDA."""


__all__ = ["device_count", "is_available", "manual_seed", "manual_seed_all", "seed", "seed_all"]
