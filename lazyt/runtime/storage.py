"""Storage: one flat allocation on a device, shared by every tensor viewing it.

On the CPU a Storage owns a 1-D numpy array (the allocator's memory, never
used to compute); its raw address is cached because reading
`ndarray.ctypes.data` costs about a microsecond. Each Storage carries the IR
Buffer object that stands for it in graphs, so aliasing is identity.
"""

from __future__ import annotations

import numpy as np

from lazyt.dtypes import DType
from lazyt.ir.node import Buffer


class Storage:
    __slots__ = ("dtype", "device", "array", "address", "buffer", "version", "__weakref__")

    def __init__(self, dtype: DType, array: np.ndarray, device):
        assert array.ndim == 1 and array.dtype == dtype.numpy_storage, "storage array must be flat"
        self.dtype = dtype
        self.device = device
        self.array = array
        self.address = array.ctypes.data
        self.buffer = Buffer(self)
        self.version = 0  # bumped by every in-place write (autograd checks it)

    @staticmethod
    def allocate(dtype: DType, numel: int, device) -> Storage:
        return Storage(dtype, np.empty(max(numel, 0), dtype=dtype.numpy_storage), device)

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
