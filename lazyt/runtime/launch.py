"""Running a compiled kernel on the CPU: bind pointers and params, call.

Parallel kernels with enough work are split along their outermost loop
across a small thread pool: ctypes releases the GIL during the call.
"""

from __future__ import annotations

import ctypes
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from lazyt.runtime import stats

ERROR_SENTINEL = np.iinfo(np.int64).min
PARALLEL_MIN_WORK = 1 << 20  # elements; below this one thread beats waking another
# What a kernel's bounds check raises, by the message number it stored (slot 3).
BOUNDS_MESSAGES = ("index {index} is out of bounds for dimension {dim} with size {size}",
                   "Target {index} is out of bounds.")
TARGET_OUT_OF_BOUNDS = 1


def _threads_from_env() -> int:
    value = os.environ.get("LAZYT_NUM_THREADS", "")
    if value.isdigit() and int(value) > 0:
        return int(value)
    return max(1, min(os.cpu_count() or 1, 8))


_THREADS = _threads_from_env()


def thread_count() -> int:
    return _THREADS


_POOL: list[ThreadPoolExecutor] = []


def _pool() -> ThreadPoolExecutor:
    if not _POOL:
        _POOL.append(ThreadPoolExecutor(max_workers=thread_count(), thread_name_prefix="lazyt"))
    return _POOL[0]


def launch(function, buffers: list, params: list[int], outer: int, parallel: bool,
           work: int) -> None:
    """Call a kernel `function(bufs, args)`; buffers are Buffers or None for the
    bounds-error slot. Raises IndexError if the kernel reported a bad index."""
    errors = None
    pointers = []
    for buf in buffers:
        if buf is None:
            errors = np.full(4, ERROR_SENTINEL, dtype=np.int64)
            errors[3] = 0
            pointers.append(errors.ctypes.data)
        else:
            pointers.append(buf.storage.address)
    bufs = (ctypes.c_void_p * max(len(pointers), 1))(*pointers)
    threads = thread_count()
    if parallel and threads > 1 and work >= PARALLEL_MIN_WORK and outer >= 2:
        chunks = min(threads, outer)
        step = -(-outer // chunks)
        chunks = []
        for start in range(0, outer, step):
            args = (ctypes.c_int64 * len(params))(*params)
            args[0], args[1] = start, min(start + step, outer)
            chunks.append(args)
        # The calling thread runs the first chunk itself: one thread fewer to wake.
        futures = [_pool().submit(function, bufs, args) for args in chunks[1:]]
        function(bufs, chunks[0])
        for f in futures:
            f.result()
    else:
        args = (ctypes.c_int64 * len(params))(*params)
        function(bufs, args)
    stats.bump("kernel_launches")
    if errors is not None and errors[0] != ERROR_SENTINEL:
        raise_bounds_error(errors)


def raise_bounds_error(errors) -> None:
    """The IndexError a kernel's bounds check reported in its error block."""
    index, size, dim, message = (int(v) for v in errors)
    raise IndexError(BOUNDS_MESSAGES[message].format(index=index, size=size, dim=dim))
