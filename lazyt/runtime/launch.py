"""Running compiled CPU kernels: the one ctypes launch loop.

A Program's launch records (engine/program.py) are prepared once here into
steps: the ctypes argument block of each kernel built once, an error block
of its own for a bounds-checked kernel, pointer arrays built once for
buffers that never change, the thread split of a big kernel's outermost
loop precomputed. `execute` then runs the steps on a list of storages.
Every kernel call in lazyt goes through `execute`.

Parallel kernels with enough work are split along their outermost loop
across a small thread pool: ctypes releases the GIL during the call.

In the checked mode (LAZYT_CHECK_BOUNDS=1, runtime/checked.py) `execute` is
`execute_checked`: each kernel also gets its buffers' sizes and a check block,
and is not split; with the flag off the normal loop is untouched.
"""

from __future__ import annotations

import ctypes
import os
import struct
import time

import numpy as np

from lazyt.runtime import native_pool, stats
from lazyt.runtime.checked import CHECK_BOUNDS, SENTINEL, check_block, raise_out_of_bounds
from lazyt.runtime.compiler import DEBUG_LEVEL

ERROR_SENTINEL = np.iinfo(np.int64).min
PARALLEL_MIN_WORK = 1 << 20  # elements; below this one thread beats waking another
# What a kernel's bounds check raises, by the message number it stored (slot
# 3): PyTorch's class and text for each kind of op (the same in eager,
# deferred and compiled modes, since the kernel itself reports it).
BOUNDS_ERRORS = (
    (IndexError, "index {index} is out of bounds for dimension {dim} with size {size}"),
    (IndexError, "Target {index} is out of bounds."),
    (RuntimeError, "index {index} is out of bounds for dimension {dim} with size {size}"),
    (IndexError, "index out of range in self"),
    (RuntimeError, "target out of range"),
    (RuntimeError, "argument #2 'target' is out of range"),
    (RuntimeError, "all elements of input should be between 0 and 1"),
)
INDEX_OUT_OF_BOUNDS, TARGET_OUT_OF_BOUNDS, GATHER_OUT_OF_BOUNDS, INDEX_OUT_OF_RANGE = 0, 1, 2, 3
MULTI_MARGIN_TARGET_OUT_OF_RANGE, MULTILABEL_TARGET_OUT_OF_RANGE = 4, 5
PROBABILITY_OUT_OF_RANGE = 6  # binary_cross_entropy's input check

# Step kinds (the first field of a prepared step).
_CALL, _SPLIT, _EXTERN, _BOUND_EXTERN, _CHECKED_CALL = 0, 1, 2, 3, 4


def _threads_from_env() -> int:
    value = os.environ.get("LAZYT_NUM_THREADS", "")
    if value.isdigit() and int(value) > 0:
        return int(value)
    return max(1, min(os.cpu_count() or 1, 8))


_THREADS = _threads_from_env()


def thread_count() -> int:
    return _THREADS


def set_thread_count(count: int) -> None:
    """Split large launches over `count` threads from now on (a new pool is made lazily)."""
    global _THREADS
    _THREADS = count
    if _POOL:
        _POOL.pop().shutdown(wait=True)


_POOL: list = []  # the ThreadPoolExecutor, made on first use
_NATIVE_POOL = native_pool.available() and os.environ.get("LAZYT_NATIVE_POOL", "1") != "0"


# A forked child has the parent's executor without its threads: work handed
# to it would wait forever. The child makes its own on first use.
os.register_at_fork(after_in_child=_POOL.clear)


def _pool():
    if not _POOL:
        from concurrent.futures import ThreadPoolExecutor  # (on first use: import stays cheap)

        _POOL.append(ThreadPoolExecutor(max_workers=thread_count(), thread_name_prefix="lazyt"))
    return _POOL[0]


def splits(launch) -> bool:
    """Is this kernel launch big enough to split across threads?"""
    return (launch.parallel and thread_count() > 1 and launch.work >= PARALLEL_MIN_WORK
            and launch.outer >= 2)


def prepare(launches: tuple, static: dict, externs: dict) -> list:
    """Launch records -> steps for `execute`. `static`: slot -> Storage for
    the slots whose storage is the same on every run; `externs`: op name ->
    (run(out, out_view, sources), bind(out, out_view, sources) -> a call
    with those storages fixed)."""
    steps = []
    for launch in launches:
        if hasattr(launch, "op"):
            run, bind = externs[launch.op]
            if all(s in static for s in launch.slots):
                steps.append((_BOUND_EXTERN, bind(static[launch.out], launch.out_view, [
                    (static[s], v) for s, v in launch.sources]), launch.op))
            else:
                steps.append((_EXTERN, run, launch.out, launch.out_view, launch.sources,
                              launch.op))
            continue
        errors = np.zeros(4, dtype=np.int64) if -1 in launch.slots else None
        errors_address = None if errors is None else errors.ctypes.data
        rng = tuple((slot, launch.params[slot]) for slot in launch.rng_slots)
        n = max(len(launch.params), 1)
        if CHECK_BOUNDS:  # one call over the whole range, buffer sizes bound per run
            steps.append((_CHECKED_CALL, launch.kernel.function, launch.slots,
                          (ctypes.c_int64 * n)(*launch.params), errors, errors_address, rng,
                          check_block(), launch))
            continue
        if splits(launch):
            chunks = min(thread_count(), launch.outer)
            step = -(-launch.outer // chunks)
            blocks = []
            for start in range(0, launch.outer, step):
                args = (ctypes.c_int64 * n)(*launch.params)
                args[0], args[1] = start, min(start + step, launch.outer)
                blocks.append(args)
            function = launch.kernel.function
            block_addresses = (ctypes.c_void_p * len(blocks))(
                *[ctypes.addressof(args) for args in blocks])
            steps.append((_SPLIT, function, launch.slots, blocks, errors, errors_address, rng,
                          ctypes.cast(function, ctypes.c_void_p).value, block_addresses, launch))
            continue
        # The buffer pointers go to the kernel as packed bytes (ctypes passes
        # their address): packing costs a fifth of building a ctypes array,
        # and each run packs its own, so concurrent runs cannot mix them up.
        pack_pointers = struct.Struct(f"{len(launch.slots)}Q").pack
        pointers = None
        if all(s < 0 or s in static for s in launch.slots):
            # Every buffer is the same on each run: the pointers too.
            pointers = pack_pointers(
                *[errors_address if s < 0 else static[s].address for s in launch.slots])
        args = (ctypes.c_int64 * n)(*launch.params)
        steps.append((_CALL, launch.kernel.function, launch.slots, args, errors, errors_address,
                      rng, pack_pointers, pointers, ctypes.addressof(args), launch))
    return steps


def direct_call(steps: list):
    """Backend.direct_call: the one plain call of `steps`, or None."""
    if len(steps) != 1 or steps[0][0] != _CALL:
        return None
    _, function, slots, _, errors, _, rng, pack_pointers, pointers, args_address, _ = steps[0]
    if errors is not None or rng or pointers is not None or any(s < 0 for s in slots):
        return None
    return function, pack_pointers, args_address, slots


def execute(steps: list, storages: list, rng_shift: int = 0) -> None:
    """Run prepared steps on storages (by slot). Raises the IndexError or
    RuntimeError a kernel's bounds check reported."""
    if DEBUG_LEVEL[0] >= 2:
        _execute_timed(steps, storages, rng_shift)
        return
    launches = 0
    try:
        for step in steps:
            kind = step[0]
            if kind == _CALL:
                _, function, slots, args, errors, errors_address, rng, pack_pointers, pointers, \
                    args_address, _ = step
                if pointers is None:
                    pointers = pack_pointers(
                        *[storages[s].address for s in slots] if errors is None else
                        [errors_address if s < 0 else storages[s].address for s in slots])
                if rng:
                    for slot, base in rng:
                        args[slot] = base + rng_shift
                if errors is not None:
                    errors[0] = ERROR_SENTINEL
                launches += 1
                function(pointers, args_address)
                if errors is not None and errors[0] != ERROR_SENTINEL:
                    raise_bounds_error(errors)
            elif kind == _BOUND_EXTERN:
                step[1]()
            elif kind == _SPLIT:
                launches += 1
                _run_split(step, storages, rng_shift)
            else:
                _, run, out, out_view, sources, _ = step
                run(storages[out], out_view, [(storages[s], v) for s, v in sources])
    finally:
        stats.COUNTERS["kernel_launches"] += launches


def _run_split(step, storages: list, rng_shift: int) -> None:
    """One kernel split along its outermost loop: the calling thread runs the
    first chunk itself (one thread fewer to wake), the native pool the others
    (runtime/native_pool.py), or Python threads where there is none."""
    _, function, slots, blocks, errors, errors_address, rng, address, block_addresses, _ = step
    pointers = (ctypes.c_void_p * max(len(slots), 1))(
        *[errors_address if s < 0 else storages[s].address for s in slots])
    for args in blocks:
        for slot, base in rng:
            args[slot] = base + rng_shift
    if errors is not None:
        errors[0] = ERROR_SENTINEL
    if not (_NATIVE_POOL and native_pool.run_chunks(address, pointers, block_addresses,
                                                    len(blocks))):
        futures = [_pool().submit(function, pointers, args) for args in blocks[1:]]
        function(pointers, blocks[0])
        for f in futures:
            f.result()
    if errors is not None and errors[0] != ERROR_SENTINEL:
        raise_bounds_error(errors)


def _execute_timed(steps: list, storages: list, rng_shift: int) -> None:
    """LAZYT_DEBUG >= 2: the same steps one at a time, each timed and printed."""
    for step in steps:
        start = time.perf_counter()
        DEBUG_LEVEL[0], level = 0, DEBUG_LEVEL[0]
        try:
            execute([step], storages, rng_shift)
        finally:
            DEBUG_LEVEL[0] = level
        seconds = time.perf_counter() - start
        launch = step[-1]
        if step[0] in (_EXTERN, _BOUND_EXTERN):
            print(f"[lazyt] extern {launch}: {seconds * 1e3:.3f} ms")
            continue
        # Bytes moved, roughly: every buffer touched once per element of work.
        nbytes = launch.work * launch.element_bytes
        print(f"[lazyt] {launch.kernel.name}: {seconds * 1e3:.3f} ms, {launch.work} elements, "
              f"~{nbytes / max(seconds, 1e-9) / 1e9:.1f} GB/s")


def raise_bounds_error(errors) -> None:
    """The error a kernel's bounds check reported in its error block."""
    index, size, dim, message = (int(v) for v in errors)
    error, text = BOUNDS_ERRORS[message]
    raise error(text.format(index=index, size=size, dim=dim))


def execute_checked(steps: list, storages: list, rng_shift: int = 0) -> None:
    """`execute` in the checked mode (LAZYT_CHECK_BOUNDS=1, runtime/checked.py):
    a kernel gets, after its buffer pointers, each buffer's size in bytes and
    its check block; an access out of bounds raises RuntimeError."""
    if DEBUG_LEVEL[0] >= 2:
        _execute_timed(steps, storages, rng_shift)  # (each step back through here)
        return
    for step in steps:
        if step[0] != _CHECKED_CALL:
            _execute_unchecked([step], storages, rng_shift)
            continue
        _, function, slots, args, errors, errors_address, rng, block, launch = step
        addresses = [errors_address if s < 0 else storages[s].address for s in slots]
        sizes = [errors.nbytes if s < 0 else storages[s].nbytes() for s in slots]
        pointers = (ctypes.c_void_p * (2 * len(slots) + 1))(*addresses, *sizes,
                                                             block.ctypes.data)
        for slot, base in rng:
            args[slot] = base + rng_shift
        if errors is not None:
            errors[0] = ERROR_SENTINEL
        stats.COUNTERS["kernel_launches"] += 1
        function(pointers, args)
        if block[0] != SENTINEL:
            raise_out_of_bounds(block, launch.kernel.name, slots)
        if errors is not None and errors[0] != ERROR_SENTINEL:
            raise_bounds_error(errors)


_execute_unchecked = execute
if CHECK_BOUNDS:
    execute = execute_checked  # noqa: F811 (the checked mode's launch loop)
