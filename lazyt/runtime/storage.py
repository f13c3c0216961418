"""Storage: one flat allocation on a device, shared by every tensor viewing it.

On the CPU a Storage owns a 1-D numpy array (the allocator's memory, never
used to compute); its raw address is cached because reading
`ndarray.ctypes.data` costs about a microsecond. Each Storage has one IR
Buffer object standing for it in graphs while any graph uses it, so aliasing
is identity.
"""

from __future__ import annotations

import ctypes
import sys
import weakref

import numpy as np

from lazyt.dtypes import DType
from lazyt.ir.node import Buffer
from lazyt.runtime.checked import CHECK_BOUNDS, QUARANTINE
from lazyt.runtime.device import CPU


class Storage:
    __slots__ = ("dtype", "device", "array", "address", "_buffer_ref", "version", "pooled",
                 "writer", "shared_with_numpy", "__weakref__")

    def __init__(self, dtype: DType, array: np.ndarray, device, pooled: bool | str = False,
                 address: int | None = None):
        if address is None:  # (a reused small array comes with its address, checked before)
            assert array.ndim == 1 and array.dtype == dtype.numpy_storage, \
                "storage array must be flat"
            address = _address_of(array)
        self.dtype = dtype
        self.device = device
        self.array = array
        self.address = address
        self._buffer_ref = None
        self.version = 0  # bumped by every in-place write (autograd checks it)
        # Memory came from (and returns to) the caching allocator: True for a
        # large buffer, SMALL for a small array kept whole with its address.
        self.pooled = pooled
        self.writer = None  # the tensor with a pending (deferred) write into it
        # A numpy array the user holds views this memory (t.numpy(), from_numpy):
        # writes into it happen at once, even in deferred mode, as the user
        # can read them without lazyt knowing.
        self.shared_with_numpy = False

    @property
    def buffer(self) -> Buffer:
        """The IR's handle on this storage. Held weakly (the Buffer holds the
        Storage), so storage is freed as soon as no tensor or graph uses it,
        without waiting for the cycle collector."""
        buf = self._buffer_ref() if self._buffer_ref is not None else None
        if buf is None:
            buf = Buffer(self)
            self._buffer_ref = weakref.ref(buf)
        return buf

    @buffer.setter
    def buffer(self, buf: Buffer) -> None:
        self._buffer_ref = weakref.ref(buf)

    @staticmethod
    def allocate(dtype: DType, numel: int, device) -> Storage:
        if device is not CPU:
            return DEVICE_ALLOCATORS[device.type](dtype, numel, device)
        if numel < 0:
            numel = 0
        nbytes = numel * dtype.itemsize
        if nbytes < POOL_MIN_BYTES:
            bucket = CACHE.small.get((dtype, numel))
            if bucket:
                try:
                    array, address = bucket.pop()
                except IndexError:  # another thread took the last one
                    pass
                else:
                    CACHE.small_held -= nbytes
                    return Storage(dtype, array, device, SMALL, address)
            return Storage(dtype, np.empty(numel, dtype=dtype.numpy_storage), device, SMALL)
        raw, address = CACHE.take(nbytes)
        return Storage(dtype, raw.view(dtype.numpy_storage), device, True, address)

    def __del__(self):
        # Give the memory back only if nothing else (a numpy view the user got
        # from .numpy(), say) still references it: 2 = the attribute + the argument.
        pooled = self.pooled
        if not pooled or sys.getrefcount(self.array) != 2:
            return
        if pooled is SMALL:
            CACHE.give_small(self.dtype, self.array, self.address)
        elif sys.getrefcount(self.array.base) == 2:
            CACHE.give(self.array.base, self.address)

    @staticmethod
    def from_array(dtype: DType, array: np.ndarray, device) -> Storage:
        """Wrap (without copying when possible) a contiguous array's memory."""
        flat = np.ascontiguousarray(array).reshape(-1)
        if flat.dtype != dtype.numpy_storage:
            flat = flat.view(dtype.numpy_storage)
        return Storage(dtype, flat, device)

    def __len__(self) -> int:
        return self.array.shape[0]

    def nbytes(self) -> int:
        return self.array.nbytes


def _address_of(array: np.ndarray) -> int:
    """The array's data address; through a ctypes view of its buffer where
    it is writable (4x quicker than `ndarray.ctypes.data`, which read-only
    and empty arrays fall back to)."""
    try:
        return ctypes.addressof(ctypes.c_char.from_buffer(array))
    except (TypeError, ValueError):
        return array.ctypes.data


def allocation_error(nbytes: int) -> RuntimeError:
    """PyTorch's error for memory the system will not give (never numpy's
    MemoryError or its ValueError for sizes past its maximum)."""
    return RuntimeError(
        "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate "
        f"memory: you tried to allocate {nbytes} bytes. Error code 12 (Cannot allocate memory)")


# Storages on other devices: device type -> allocate(dtype, numel, device)
# (runtime/cuda_memory.py registers 'cuda' when it is imported).
DEVICE_ALLOCATORS: dict = {}

POOL_MIN_BYTES = 1 << 16  # below: small arrays, kept whole per (dtype, numel)
SMALL = "small"  # Storage.pooled of a small array from the allocator


class CachingAllocator:
    """Reuse freed large buffers by exact byte size.

    Fresh pages cost a fault each on first touch: for a 64 MB result that is
    more time than the kernel itself, so eager loops that free and allocate
    the same sizes every step keep their memory here. Bounded: at most
    `limit` bytes are held; past that, freed buffers go back to the system.

    Small arrays (under POOL_MIN_BYTES) are kept whole with their address,
    by dtype and length: an eager op on small tensors then allocates its
    result with one dictionary lookup (numpy's allocation and reading the
    address cost more than the kernel). At most `small_limit` bytes of them.
    """

    def __init__(self, limit: int = 1 << 30, small_limit: int = 4 << 20):
        self.free: dict[int, list[tuple[np.ndarray, int]]] = {}
        self.held = 0
        self.limit = limit
        self.small: dict[tuple, list[tuple[np.ndarray, int]]] = {}
        self.small_held = 0
        self.small_limit = small_limit

    def take(self, nbytes: int) -> tuple[np.ndarray, int]:
        """(a uint8 buffer of nbytes, its address)."""
        bucket = self.free.get(nbytes)
        if bucket:
            self.held -= nbytes
            return bucket.pop()
        try:
            raw = np.empty(nbytes, dtype=np.uint8)
        except (MemoryError, ValueError):
            # Memory held here for other sizes may be what is missing.
            self.clear()
            try:
                raw = np.empty(nbytes, dtype=np.uint8)
            except (MemoryError, ValueError):
                raise allocation_error(nbytes) from None
        return raw, _address_of(raw)

    def give(self, raw: np.ndarray, address: int) -> None:
        nbytes = raw.shape[0]
        if self.held + nbytes > self.limit:
            return
        self.free.setdefault(nbytes, []).append((raw, address))
        self.held += nbytes

    def give_small(self, dtype: DType, array: np.ndarray, address: int) -> None:
        if self.small_held + array.nbytes > self.small_limit:
            return
        self.small.setdefault((dtype, array.shape[0]), []).append((array, address))
        self.small_held += array.nbytes

    def clear(self) -> None:
        self.free.clear()
        self.held = 0
        self.small.clear()
        self.small_held = 0


CACHE = CachingAllocator()


# --- the checked mode (runtime/checked.py): installed only when it is on, so
# the normal allocator pays nothing for it.
def _allocate_checked(dtype: DType, numel: int, device) -> Storage:
    """Fresh memory for every storage (never reused), from one uint8 array
    so that it can be poisoned when freed."""
    raw = np.empty(max(numel, 0) * dtype.itemsize, dtype=np.uint8)
    return Storage(dtype, raw.view(dtype.numpy_storage), device, pooled=True)


def _release_checked(self: Storage) -> None:
    """Poison the memory and hold it back from reuse, when nothing else
    (a numpy view) still references it."""
    if self.pooled and sys.getrefcount(self.array) == 2 and \
            sys.getrefcount(self.array.base) == 2:
        QUARANTINE.add(self.array.base)


if CHECK_BOUNDS:
    Storage.allocate = staticmethod(_allocate_checked)
    Storage.__del__ = _release_checked
