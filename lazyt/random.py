"""The random stream: `Generator`, `default_generator` and the functions on its
state (manual_seed, seed, initial_seed, get_rng_state, set_rng_state), as
PyTorch's `torch.random`.

Where it sits: below Tensor. A generator only hands out (seed, offset) pairs;
the random ops in creation.py turn a pair into a counter-based "rand" IR node
(ir/node.py), and compile.py advances the offsets a replayed program draws.
Neither needs Tensor from here; only `Generator.get_state` makes a tensor.
"""

from __future__ import annotations

import functools
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
        """Seed with an integer in [-2**63, 2**64) (negatives wrap), as PyTorch;
        a float or bool counts as the int it converts to."""
        seed = int(seed)  # (ValueError for a string that is not a number, as PyTorch)
        if not -2 ** 63 <= seed < 2 ** 64:
            raise ValueError("Overflow when unpacking long long")
        self._seed = seed & _UINT64_MASK
        self._offset = 0
        return self

    def seed(self) -> int:
        self.manual_seed(python_random.getrandbits(63))
        return self._seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> Tensor:
        from lazyt.creation import from_numpy  # cycle: creation.py imports this module

        # (a ByteTensor, as PyTorch's: the seed and the stream position, 8 bytes each)
        state = np.array([_as_int64_bits(self._seed), self._offset], dtype=np.int64)
        return from_numpy(state.view(np.uint8)).clone()

    def set_state(self, state: Tensor) -> Generator:
        data = np.asarray(state.tolist(), dtype=np.uint8 if state.dtype.name == "uint8"
                          else np.int64)
        if data.dtype == np.uint8:
            if data.shape != (16,):
                raise RuntimeError(f"Expected a ByteTensor of 16 bytes for the generator state, "
                                   f"got {list(state.shape)}")
            data = data.view(np.int64)
        seed, offset = (int(v) for v in data)
        self._seed, self._offset = seed & _UINT64_MASK, offset
        return self

    def clone_state(self) -> Generator:
        """A new Generator in this one's state."""
        twin = Generator(self.device)
        twin._seed, twin._offset = self._seed, self._offset
        return twin

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


class fork_rng:  # noqa: N801 - PyTorch's name
    """Context manager (and decorator): the default generator's state is put
    back on exit, so random draws inside do not change those after."""

    def __init__(self, devices=None, enabled: bool = True, _caller: str = "fork_rng",
                 _devices_kw: str = "devices", device_type: str = "cuda"):
        self.enabled = enabled

    def __enter__(self):
        if self.enabled:
            self.state = get_rng_state()
        return self

    def __exit__(self, *exc) -> bool:
        if self.enabled:
            set_rng_state(self.state)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with fork_rng(enabled=self.enabled):
                return fn(*args, **kwargs)

        return wrapper
