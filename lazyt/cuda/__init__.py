"""lt.cuda: availability, synchronisation, memory counters and seeding, as torch.cuda.

CUDA tensors run on the CUDA backend (lazyt/runtime/cuda.py over Numba-CUDA;
Numba's simulator when NUMBA_ENABLE_CUDASIM=1). `is_available()` is a cheap
probe that imports nothing heavy; the rest import numba only when CUDA is used.
Random numbers come from lazyt's one counter-based generator on every device
(the same seed gives the same values on the CPU and the GPU), so seeding CUDA
seeds that generator, as `lt.manual_seed` does.
"""

from lazyt.runtime.device import cuda_device_count as device_count
from lazyt.runtime.device import cuda_is_available as is_available


def _check_available() -> None:
    from lazyt.runtime.device import to_device  # (the one place that words the error)

    to_device("cuda")


def synchronize(device=None) -> None:
    """Wait for every kernel launched on the GPU to finish."""
    _check_available()
    from lazyt.runtime.cuda_memory import numba_cuda  # (imports numba: CUDA only)

    numba_cuda().synchronize()


def memory_allocated(device=None) -> int:
    """Bytes held by live CUDA tensors' storages (not the allocator's cache)."""
    from lazyt.runtime.cuda_memory import ALLOCATORS  # (CUDA only)

    index = 0 if device is None else getattr(device, "index", None) or 0
    allocator = ALLOCATORS.get(index)
    return 0 if allocator is None else allocator.allocated


def empty_cache() -> None:
    """Give the caching allocator's unused device memory back to the driver."""
    from lazyt.runtime.cuda_memory import ALLOCATORS  # (CUDA only)

    for allocator in ALLOCATORS.values():
        allocator.clear()


def current_device() -> int:
    _check_available()
    return 0


def manual_seed(seed: int) -> None:
    """Seed the generator CUDA random numbers come from (lazyt's one stream).
    Without CUDA this does nothing, as in PyTorch."""
    if is_available():
        from lazyt.random import manual_seed as seed_all_devices  # (above this package)

        seed_all_devices(seed)


def manual_seed_all(seed: int) -> None:
    """Seed every GPU's generator (lazyt's one stream; see manual_seed)."""
    manual_seed(seed)


def seed() -> None:
    """Seed the GPU generator randomly: a no-op without CUDA."""


def seed_all() -> None:
    """Seed every GPU generator randomly: a no-op without CUDA."""


__all__ = ["current_device", "device_count", "empty_cache", "is_available", "manual_seed",
           "manual_seed_all", "memory_allocated", "seed", "seed_all", "synchronize"]
