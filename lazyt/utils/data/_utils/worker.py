"""DataLoader workers, as torch.utils.data._utils.worker: WorkerInfo,
get_worker_info and the per-worker seeds.

lazyt runs a DataLoader's workers in the main process, one after another
(its tensors are cheap views; a process per worker would copy them). Each
worker still looks like PyTorch's to the code it runs: get_worker_info()
returns its WorkerInfo, and Python's `random`, numpy's global RNG and lt's
default generator are that worker's own streams, seeded as PyTorch seeds
them (base_seed + id; numpy from _generate_state), swapped in while the
worker runs and out again afterwards, so the main process's streams are
untouched.
"""

from __future__ import annotations

import contextlib
import random as python_random
import traceback
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

from lazyt import random

__all__ = ["WorkerInfo", "get_worker_info"]


@dataclass(frozen=True)
class WorkerInfo:
    """What a worker knows about itself: id (0 to num_workers - 1),
    num_workers, seed, and dataset (this worker's copy)."""

    id: int
    num_workers: int
    seed: int
    dataset: Any
    rng: Any = None  # PyTorch's optional RNG container; unused here
    worker_method: str | None = "multiprocessing"  # what in-process workers stand in for


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """The WorkerInfo of the DataLoader worker running this code, or None in
    the main process."""
    return _worker_info


def _generate_state(base_seed: int, worker_id: int) -> list[int]:
    """PyTorch's numpy seed for a worker: four uint32 words hashed from
    (worker_id, base_seed), so numpy's stream differs from `random`'s."""
    mask32 = 0xFFFFFFFF
    xshift = 16
    hash_const_a = 0x43B0D7E5

    def hash32(value: int) -> int:
        nonlocal hash_const_a
        value = (value ^ hash_const_a) & mask32
        hash_const_a = (hash_const_a * 0x931E8875) & mask32
        value = (value * hash_const_a) & mask32
        return (value ^ (value >> xshift)) & mask32

    def mix(x: int, y: int) -> int:
        result = ((0xCA01F9DD * x) & mask32) - ((0x4973F715 * y) & mask32)
        result &= mask32
        return (result ^ (result >> xshift)) & mask32

    entropy = [worker_id, base_seed & mask32, base_seed >> 32, 0]
    pool = [hash32(value) for value in entropy]
    for i_src in range(4):
        for i_dst in range(4):
            if i_src != i_dst:
                pool[i_dst] = mix(pool[i_dst], hash32(pool[i_src]))
    hash_const_b = 0x8B51F9DD
    state = []
    for value in pool:
        value = (value ^ hash_const_b) & mask32
        hash_const_b = (hash_const_b * 0x58F38DED) & mask32
        value = (value * hash_const_b) & mask32
        state.append((value ^ (value >> xshift)) & mask32)
    return state


class _RandomStreams:
    """The three global random streams a worker owns: Python's, numpy's, lt's."""

    def __init__(self, python_state, numpy_state, lazyt_state) -> None:
        self.python_state = python_state
        self.numpy_state = numpy_state
        self.lazyt_state = lazyt_state

    @classmethod
    def capture(cls) -> _RandomStreams:
        return cls(python_random.getstate(), np.random.get_state(), random.get_rng_state())

    @classmethod
    def seeded(cls, base_seed: int, worker_id: int) -> _RandomStreams:
        """The streams PyTorch's worker `worker_id` starts with."""
        saved = cls.capture()
        seed = base_seed + worker_id
        python_random.seed(seed)
        random.manual_seed(seed)
        np.random.seed(_generate_state(base_seed, worker_id))
        streams = cls.capture()
        saved.install()
        return streams

    def install(self) -> None:
        python_random.setstate(self.python_state)
        np.random.set_state(self.numpy_state)
        random.set_rng_state(self.lazyt_state)


class _Worker:
    """One in-process worker: its WorkerInfo and random streams, and (for an
    IterableDataset) the iterator over its copy of the dataset."""

    def __init__(self, worker_id: int, num_workers: int, base_seed: int, dataset) -> None:
        self.info = WorkerInfo(id=worker_id, num_workers=num_workers,
                               seed=base_seed + worker_id, dataset=dataset)
        self.streams = _RandomStreams.seeded(base_seed, worker_id)
        self.fetcher = None
        self.active = True

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        """Run the body as this worker: its info and streams in place."""
        global _worker_info
        main_streams = _RandomStreams.capture()
        previous_info = _worker_info
        self.streams.install()
        _worker_info = self.info
        try:
            yield
        finally:
            _worker_info = previous_info
            self.streams = _RandomStreams.capture()
            main_streams.install()


class _KeyErrorMessage(str):
    """A KeyError message that prints as itself (KeyError repr()s its argument)."""

    def __repr__(self) -> str:
        return self


def _reraise_from_worker(error: BaseException, worker_id: int):
    """Raise error as PyTorch re-raises a worker's exception in the main
    process: same type, message "Caught <Type> in DataLoader worker process
    <id>.\\nOriginal Traceback (most recent call last): ..."."""
    kind = type(error)
    original = "".join(traceback.format_exception(kind, error, error.__traceback__))
    message = f"Caught {kind.__name__} in DataLoader worker process {worker_id}.\nOriginal " \
              f"{original}"
    if kind is KeyError:
        message = _KeyErrorMessage(message)
    elif getattr(kind, "message", None):
        raise kind(message=message) from None
    try:
        wrapped = kind(message)
    except Exception:  # noqa: BLE001 - a type that cannot take one message, as in PyTorch
        raise RuntimeError(message) from None
    raise wrapped from None
