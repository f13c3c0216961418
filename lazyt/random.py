"""The random stream: `Generator`, `default_generator` and the functions on its
state (manual_seed, seed, initial_seed, get_rng_state, set_rng_state), as
PyTorch's `torch.random`.

Where it sits: below Tensor. A generator only hands out (seed, offset) pairs;
the random ops in creation.py turn a pair into a counter-based "rand" IR node
(ir/node.py), and compile.py advances the offsets a replayed program draws.
Neither needs Tensor from here; only `Generator.get_state` makes a tensor.
"""

from __future__ import annotations

import random as python_random
from typing import TYPE_CHECKING

import numpy as np

from lazyt.runtime.device import to_device

if TYPE_CHECKING:
    from lazyt.tensor import Tensor

_UINT64_MASK = (1 << 64) - 1


def _as_int64_bits(seed: int) -> int:
    """The unsigned 64-bit seed as the signed int64 with the same bits."""
    return seed - (1 << 64) if seed >= 1 << 63 else seed


class Generator:
    """A counter-based random stream: (seed, offset). Each draw of n numbers
    uses positions [offset, offset + n) and advances offset, so results depend
    only on the seed and the sequence of draws, never on threads."""

    def __init__(self, device="cpu"):
        self.device = to_device(device)
        self._seed = 67280421310721
        self._offset = 0

    def manual_seed(self, seed: int) -> Generator:
        if not isinstance(seed, (int, np.integer)):
            raise TypeError(f"manual_seed expected an int, got {type(seed).__name__}")
        self._seed = int(seed) & _UINT64_MASK
        self._offset = 0
        return self

    def seed(self) -> int:
        self.manual_seed(python_random.getrandbits(63))
        return self._seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> Tensor:
        from lazyt.creation import from_numpy  # cycle: creation.py imports this module

        state = np.array([_as_int64_bits(self._seed), self._offset], dtype=np.int64)
        return from_numpy(state).clone()

    def set_state(self, state: Tensor) -> Generator:
        seed, offset = (int(v) for v in state.tolist())
        self._seed, self._offset = seed & _UINT64_MASK, offset
        return self

    def take(self, count: int) -> tuple[int, int]:
        """Reserve count positions; return (seed as int64 bits, first position)."""
        start = self._offset
        self._offset += count
        return _as_int64_bits(self._seed), start


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    return default_generator.get_state()


def set_rng_state(state: Tensor) -> None:
    default_generator.set_state(state)
