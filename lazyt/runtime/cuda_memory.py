"""CUDA memory: storages backed by Numba device arrays, a caching allocator
per device, and copies between host and device.

A CudaStorage is a Storage (runtime/storage.py) whose `array` is a Numba
device array of the dtype's storage element type (bool is held as uint8,
bfloat16 as uint16) over `raw`, the allocation's bytes. The engine sees it
exactly as a CPU storage (dtype, device, buffer, version); only the CUDA
backend (runtime/cuda.py) and these copies touch its memory.

numba.cuda is imported on first use (`numba_cuda()`), never by `import lazyt`.
"""

from __future__ import annotations

import sys

import numpy as np

from lazyt.runtime import device as devices
from lazyt.runtime.storage import DEVICE_ALLOCATORS, Storage

_NUMBA_CUDA: list = []


def numba_cuda():
    """numba.cuda, imported on first use (half a second; only CUDA work pays it)."""
    if not _NUMBA_CUDA:
        from numba import cuda  # (half a second: on first CUDA use only)

        _NUMBA_CUDA.append(cuda)
    return _NUMBA_CUDA[0]


def element_dtype(dtype) -> np.dtype:
    """The element type of a CUDA storage of dtype."""
    return np.dtype(np.uint8) if dtype.kind == "b" else dtype.numpy_storage


class CudaCachingAllocator:
    """Freed device allocations kept by exact byte size and reused (a fresh
    cudaMalloc synchronises the device and costs far more than a kernel).
    Bounded: past `limit` bytes held, freed memory goes back to the driver.
    `allocated` counts the bytes live storages use (lt.cuda.memory_allocated)."""

    def __init__(self, limit: int = 1 << 31):
        self.free: dict[int, list] = {}
        self.held = 0
        self.limit = limit
        self.allocated = 0

    def take(self, nbytes: int):
        self.allocated += nbytes
        bucket = self.free.get(nbytes)
        if bucket:
            self.held -= nbytes
            return bucket.pop()
        cuda = numba_cuda()
        try:
            return cuda.device_array(max(nbytes, 1), dtype=np.uint8)
        except Exception:  # out of device memory: drop what is cached and try once more
            self.clear()
            try:
                return cuda.device_array(max(nbytes, 1), dtype=np.uint8)
            except Exception as error:
                raise RuntimeError(
                    f"CUDA out of memory. Tried to allocate {nbytes} bytes "
                    f"({type(error).__name__}: {error})") from None

    def give(self, raw, nbytes: int) -> None:
        self.allocated -= nbytes
        if self.held + nbytes > self.limit:
            return
        self.free.setdefault(nbytes, []).append(raw)
        self.held += nbytes

    def clear(self) -> None:
        self.free.clear()
        self.held = 0


ALLOCATORS: dict[int, CudaCachingAllocator] = {}


def allocator_for(index: int) -> CudaCachingAllocator:
    found = ALLOCATORS.get(index)
    if found is None:
        found = ALLOCATORS[index] = CudaCachingAllocator()
    return found


class CudaStorage(Storage):
    """One device allocation; `array` is its typed view, `raw` its bytes."""

    __slots__ = ("raw", "numel", "nbytes_")

    def __init__(self, dtype, raw, numel: int, device):
        self.dtype = dtype
        self.device = device
        self.raw = raw
        self.numel = numel
        self.nbytes_ = numel * dtype.itemsize
        self.array = raw[:max(self.nbytes_, 1)].view(element_dtype(dtype)) if numel else raw
        self.address = _device_address(raw)
        self._buffer_ref = None
        self.version = 0
        self.pooled = True
        self.writer = None
        self.shared_with_numpy = False

    @staticmethod
    def allocate(dtype, numel: int, device) -> CudaStorage:
        numel = max(numel, 0)
        devices.CUDA_USED[0] = True
        raw = allocator_for(device.index or 0).take(numel * dtype.itemsize)
        return CudaStorage(dtype, raw, numel, device)

    def __del__(self):
        if sys is not None and ALLOCATORS:  # (not while the interpreter shuts down)
            allocator_for(self.device.index or 0).give(self.raw, self.nbytes_)

    def __len__(self) -> int:
        return self.numel

    def nbytes(self) -> int:
        return self.nbytes_


DEVICE_ALLOCATORS["cuda"] = CudaStorage.allocate


def _device_address(raw) -> int:
    """The allocation's device address (data_ptr); 0 under the simulator,
    whose arrays have none."""
    interface = getattr(raw, "__cuda_array_interface__", None)
    return int(interface["data"][0]) if interface else 0


def host_to_device(host: np.ndarray, dtype, device) -> CudaStorage:
    """A new device storage holding a contiguous host array's elements."""
    flat = np.ascontiguousarray(host).reshape(-1)
    storage = CudaStorage.allocate(dtype, flat.size, device)
    if flat.size:
        storage.raw[:storage.nbytes_].copy_to_device(flat.view(np.uint8))
    return storage


def device_to_host(storage: CudaStorage, offset: int, numel: int) -> np.ndarray:
    """numel elements from offset of a device storage, as a new host array of
    the dtype's CPU storage type."""
    itemsize = storage.dtype.itemsize
    out = np.empty(numel * itemsize, dtype=np.uint8)
    if numel:
        storage.raw[offset * itemsize:(offset + numel) * itemsize].copy_to_host(out)
    return out.view(storage.dtype.numpy_storage)


def copy_on_device(dst: CudaStorage, dst_offset: int, src: CudaStorage, src_offset: int,
                   nbytes: int) -> None:
    """Copy raw bytes between two device storages (offsets in bytes)."""
    if nbytes:
        dst.raw[dst_offset:dst_offset + nbytes].copy_to_device(
            src.raw[src_offset:src_offset + nbytes])
