"""The checked mode (LAZYT_CHECK_BOUNDS=1): memory errors caught where they happen.

Read once at import. In checked mode:
- every generated load and store is bounds-checked against its buffer's
  byte size (codegen/llvm.py renders the checks; the launch loop,
  runtime/launch.py, passes the sizes and a check block after the buffer
  pointers). An access out of bounds is redirected to a scratch word, and
  the launch raises RuntimeError("lazyt internal error: kernel ... read/wrote
  out of bounds ...") naming the kernel, the buffer and the index.
- freed storage memory is poisoned (every byte 0xFF: NaN in every float
  dtype, -1 in the signed ints) and held in a bounded quarantine instead of
  being reused, so a kernel or a view still using it reads garbage that
  shows, rather than someone else's live data (runtime/storage.py).

Checked kernels render to different LLVM text, so they are cached (in memory
and on disk) apart from normal ones. With the flag off none of this code
runs: the normal launch loop and allocator are untouched.
"""

from __future__ import annotations

import os
from collections import deque

import numpy as np

CHECK_BOUNDS = os.environ.get("LAZYT_CHECK_BOUNDS", "0") not in ("", "0")

# The check block a checked kernel gets (int64 words): [0] the sentinel
# while no access went out of bounds, else 0 (read) or 1 (write); [1] the
# kernel's buffer number; [2] the element index; [3] the buffer's size in
# elements; [4:8] scratch the bad access is redirected to.
CHECK_BLOCK_WORDS = 8
SCRATCH_WORD = 4
SENTINEL = np.iinfo(np.int64).min
POISON_BYTE = 0xFF
QUARANTINE_BYTES = 256 << 20  # freed memory held back from reuse, oldest released first


def check_block() -> np.ndarray:
    block = np.zeros(CHECK_BLOCK_WORDS, dtype=np.int64)
    block[0] = SENTINEL
    return block


def raise_out_of_bounds(block: np.ndarray, kernel_name: str, slots: tuple) -> None:
    """The RuntimeError for the out-of-bounds access a checked kernel recorded."""
    kind, buf, index, size = (int(v) for v in block[:4])
    block[0] = SENTINEL
    slot = slots[buf] if 0 <= buf < len(slots) else "?"
    what = "error block" if slot == -1 else f"program slot {slot}"
    raise RuntimeError(
        f"lazyt internal error: kernel {kernel_name} {'wrote' if kind else 'read'} out of "
        f"bounds: buffer {buf} ({what}) has {size} elements, index {index}")


class Quarantine:
    """Freed, poisoned allocations kept from reuse (FIFO, bounded by bytes)."""

    def __init__(self, limit: int = QUARANTINE_BYTES):
        self.held: deque = deque()
        self.nbytes = 0
        self.limit = limit

    def add(self, raw: np.ndarray) -> None:
        raw.fill(POISON_BYTE)
        self.held.append(raw)
        self.nbytes += raw.nbytes
        while self.nbytes > self.limit and len(self.held) > 1:
            self.nbytes -= self.held.popleft().nbytes


QUARANTINE = Quarantine()
