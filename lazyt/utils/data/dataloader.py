"""lazyt.utils.data.dataloader: DataLoader, PyTorch's batching loop.

A DataLoader reads indices from its sampler (BatchSampler for auto-batching),
fetches the samples from the dataset and collates them; `iter(loader)` gives
a _SingleProcessDataLoaderIter (num_workers=0) or a
_MultiProcessingDataLoaderIter. The latter runs its workers in the main
process (see _utils/worker.py) but keeps PyTorch's contract: batch i of a
map-style dataset is fetched by worker i % num_workers, each worker iterates
its own copy of an IterableDataset, and their batches are interleaved
round-robin until each worker's stream ends; worker_init_fn, get_worker_info
and the per-worker seeds behave as in PyTorch.

A TensorDataset (or a Subset of one) with the default collate_fn is batched
with one advanced-indexing op per tensor (`t[batch_indices]`), exactly what
fetching each sample and stacking them would give, without one op per sample.
"""

from __future__ import annotations

import copy
import itertools
import math
import multiprocessing
import os
import warnings
from typing import Any, Callable, Generic, Iterable, TypeVar

import numpy as np

from lazyt import accelerator, creation, dtypes, modes
from lazyt.random import Generator
from lazyt.tensor import Tensor
from lazyt.utils.data._utils.collate import default_collate, default_convert
from lazyt.utils.data._utils.worker import _reraise_from_worker, _Worker, get_worker_info
from lazyt.utils.data.dataset import (
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    _as_index_tensor,
)
from lazyt.utils.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    _InfiniteConstantSampler,
)

T_co = TypeVar("T_co", covariant=True)

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]


class _DatasetKind:
    Map = 0
    Iterable = 1


# ------------------------------------------------------------------ fetchers
def _batched_source(dataset):
    """The dataset, if it can fetch whole batches with one gather per tensor
    (a TensorDataset, or Subsets of one, whose item methods are not overridden)."""
    kind = type(dataset)
    if isinstance(dataset, TensorDataset) and kind.__getitem__ is TensorDataset.__getitem__ \
            and not callable(getattr(dataset, "__getitems__", None)):
        return dataset
    if isinstance(dataset, Subset) and kind.__getitems__ is Subset.__getitems__ and \
            _batched_source(dataset.dataset) is not None:
        return dataset
    return None


class _MapDatasetFetcher:
    """Samples by index (a list of indices with auto-collation), then collated."""

    def __init__(self, dataset, auto_collation: bool, collate_fn: Callable,
                 drop_last: bool) -> None:
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.batched_source = _batched_source(dataset) \
            if auto_collation and collate_fn is default_collate else None

    def fetch(self, possibly_batched_index) -> Any:
        if self.batched_source is not None:
            return self.batched_source._fetch_batch(_as_index_tensor(possibly_batched_index))
        if not self.auto_collation:
            return self.collate_fn(self.dataset[possibly_batched_index])
        if callable(getattr(self.dataset, "__getitems__", None)):
            data = self.dataset.__getitems__(possibly_batched_index)
        else:
            data = [self.dataset[idx] for idx in possibly_batched_index]
        return self.collate_fn(data)


class _IterableDatasetFetcher:
    """The next sample (or next batch_size samples) of the dataset's iterator;
    StopIteration once it is exhausted (or, with drop_last, short)."""

    def __init__(self, dataset, auto_collation: bool, collate_fn: Callable,
                 drop_last: bool) -> None:
        self.dataset_iter = iter(dataset)
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.ended = False

    def fetch(self, possibly_batched_index) -> Any:
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.dataset_iter))
        data = []
        for _ in possibly_batched_index:
            try:
                data.append(next(self.dataset_iter))
            except StopIteration:
                self.ended = True
                break
        if len(data) == 0 or (self.drop_last and len(data) < len(possibly_batched_index)):
            raise StopIteration
        return self.collate_fn(data)


def _create_fetcher(kind: int, dataset, auto_collation: bool, collate_fn: Callable,
                    drop_last: bool):
    fetcher = _MapDatasetFetcher if kind == _DatasetKind.Map else _IterableDatasetFetcher
    return fetcher(dataset, auto_collation, collate_fn, drop_last)


def _eagerly(fetch: Callable, *args) -> Any:
    """A batch is input data: its samples are read and collated eagerly, also
    inside lt.deferred(). Deferring them would only postpone copies, and the
    stack of a batch into a fresh tensor would be carried out one sample at a
    time when the model reads it (each sample a separate pending write)."""
    if not modes.is_deferred():
        return fetch(*args)
    modes.set_mode("eager")
    try:
        return fetch(*args)
    finally:
        modes.set_mode("deferred")


def _worker_copy(dataset, kind: int):
    """A worker's own copy of the dataset (PyTorch's workers get one by fork
    or pickle), so worker_init_fn and __iter__ may change it freely. An
    IterableDataset is copied deeply when it allows (its iteration state is
    often in mutable attributes) but shares its tensors and arrays, as fork
    shares pages; a map-style one is copied shallowly."""
    try:
        if kind == _DatasetKind.Iterable:
            return copy.deepcopy(dataset, _shared_arrays_memo(dataset))
        return copy.copy(dataset)
    except (TypeError, copy.Error, NotImplementedError, AttributeError, RuntimeError):
        return copy.copy(dataset) if kind == _DatasetKind.Iterable else dataset


def _shared_arrays_memo(dataset, limit: int = 10_000) -> dict:
    """A deepcopy memo mapping each tensor / numpy array reachable through the
    dataset's attributes and containers to itself (an iterative walk)."""
    memo: dict = {}
    pending, seen = [dataset], set()
    while pending and len(seen) < limit:
        item = pending.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, (Tensor, np.ndarray)):
            memo[id(item)] = item
        elif isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            pending.extend(item)
        elif hasattr(item, "__dict__") and not isinstance(item, type):
            pending.extend(vars(item).values())
    return memo


# ----------------------------------------------------------------- iterators
class _BaseDataLoaderIter:
    def __init__(self, loader: DataLoader) -> None:
        self._dataset = loader.dataset
        self._dataset_kind = loader._dataset_kind
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        if loader.pin_memory and loader.pin_memory_device:
            warnings.warn("pin_memory_device is deprecated, the current accelerator will be "
                          "used as the device,ignore "
                          f"pin_memory_device='{loader.pin_memory_device}'.", stacklevel=3)
        if loader.pin_memory and not accelerator.is_available():
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, "
                          "then device pinned memory won't be used.", stacklevel=3)
        self._pin_memory = loader.pin_memory and accelerator.is_available()
        self._timeout = loader.timeout
        self._collate_fn = loader.collate_fn
        self._sampler_iter = iter(self._index_sampler)
        self._base_seed = int(creation.empty((), dtype=dtypes.int64)
                              .random_(generator=loader.generator).item())
        self._persistent_workers = loader.persistent_workers
        self._num_yielded = 0

    def __iter__(self) -> _BaseDataLoaderIter:
        return self

    def _reset(self, loader: DataLoader, first_iter: bool = False) -> None:
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0
        self._IterableDataset_len_called = loader._IterableDataset_len_called

    def _next_index(self):
        return next(self._sampler_iter)

    def _next_data(self) -> Any:
        raise NotImplementedError

    def __next__(self) -> Any:
        data = self._next_data()
        self._num_yielded += 1
        if self._dataset_kind == _DatasetKind.Iterable and \
                self._IterableDataset_len_called is not None and \
                self._num_yielded > self._IterableDataset_len_called:
            message = (f"Length of IterableDataset {self._dataset} was reported to be "
                       f"{self._IterableDataset_len_called}(when accessing len(dataloader)), "
                       f"but {self._num_yielded} samples have been fetched. ")
            if self._num_workers > 0:
                message += ("For multiprocessing data-loading, this could be caused by not "
                            "properly configuring the IterableDataset replica at each worker. "
                            "Please see https://pytorch.org/docs/stable/data.html#torch.utils."
                            "data.IterableDataset for examples.")
            warnings.warn(message, stacklevel=2)
        return data

    def __len__(self) -> int:
        return len(self._index_sampler)

    def __getstate__(self):
        raise NotImplementedError("{} cannot be pickled", type(self).__name__)  # PyTorch's args


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    """Fetches every batch in the main process, in sampler order."""

    def __init__(self, loader: DataLoader) -> None:
        super().__init__(loader)
        self._dataset_fetcher = _create_fetcher(self._dataset_kind, self._dataset,
                                                self._auto_collation, self._collate_fn,
                                                self._drop_last)

    def _next_data(self) -> Any:
        index = self._next_index()
        return _eagerly(self._dataset_fetcher.fetch, index)


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    """PyTorch's multi-worker loading with the workers run in turn in this
    process: task i goes to the next live worker round-robin, and results
    come back in task order (PyTorch's in_order=True)."""

    def __init__(self, loader: DataLoader) -> None:
        super().__init__(loader)
        self._prefetch_factor = loader.prefetch_factor
        self._workers: list[_Worker] = []
        for worker_id in range(self._num_workers):
            dataset = _worker_copy(self._dataset, self._dataset_kind)
            worker = _Worker(worker_id, self._num_workers, self._base_seed, dataset)
            if loader.worker_init_fn is not None:
                try:
                    with worker.running():
                        loader.worker_init_fn(worker_id)
                except Exception as error:  # noqa: BLE001 - re-raised as PyTorch does
                    _reraise_from_worker(error, worker_id)
            self._workers.append(worker)
        self._reset(loader, first_iter=True)

    def _reset(self, loader: DataLoader, first_iter: bool = False) -> None:
        super()._reset(loader, first_iter)
        self._worker_queue_idx_cycle = itertools.cycle(range(self._num_workers))
        for worker in self._workers:
            worker.active = True
            try:
                with worker.running():
                    worker.fetcher = _create_fetcher(self._dataset_kind, worker.info.dataset,
                                                     self._auto_collation, self._collate_fn,
                                                     self._drop_last)
            except Exception as error:  # noqa: BLE001 - re-raised as PyTorch does
                _reraise_from_worker(error, worker.info.id)

    def _next_worker(self) -> _Worker:
        for _ in range(self._num_workers):
            worker = self._workers[next(self._worker_queue_idx_cycle)]
            if worker.active:
                return worker
        raise StopIteration

    def _next_data(self) -> Any:
        while True:
            worker = self._next_worker()
            index = self._next_index()
            try:
                with worker.running():
                    return _eagerly(worker.fetcher.fetch, index)
            except StopIteration:
                if self._dataset_kind != _DatasetKind.Iterable:
                    raise
                worker.active = False
            except Exception as error:  # noqa: BLE001 - re-raised as PyTorch does
                _reraise_from_worker(error, worker.info.id)


# ---------------------------------------------------------------- DataLoader
class DataLoader(Generic[T_co]):
    """Iterate over a dataset in batches: DataLoader(dataset, batch_size=1,
    shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
    collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
    worker_init_fn=None, multiprocessing_context=None, generator=None, *,
    prefetch_factor=None, persistent_workers=False, pin_memory_device="",
    in_order=True)."""

    dataset: Dataset[T_co]
    batch_size: int | None
    num_workers: int
    pin_memory: bool
    drop_last: bool
    timeout: float
    sampler: Sampler | Iterable
    pin_memory_device: str
    prefetch_factor: int | None
    _iterator: _BaseDataLoaderIter | None
    __initialized = False

    def __init__(self, dataset: Dataset[T_co], batch_size: int | None = 1,
                 shuffle: bool | None = None, sampler: Sampler | Iterable | None = None,
                 batch_sampler: Sampler | Iterable | None = None, num_workers: int = 0,
                 collate_fn: Callable | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable | None = None, multiprocessing_context=None,
                 generator: Generator | None = None, *, prefetch_factor: int | None = None,
                 persistent_workers: bool = False, pin_memory_device: str = "",
                 in_order: bool = True) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in "
                             "multiprocessing.let num_workers > 0 to enable multiprocessing, "
                             "otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        if isinstance(dataset, IterableDataset):
            self._dataset_kind = _DatasetKind.Iterable
            if shuffle not in {False, None}:
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
            self._dataset_kind = _DatasetKind.Map
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None:
            if self._dataset_kind == _DatasetKind.Iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self.__initialized = True
        self._IterableDataset_len_called = None
        self._iterator = None
        self.check_worker_number_rationality()

    def _get_iterator(self) -> _BaseDataLoaderIter:
        if self.num_workers == 0:
            return _SingleProcessDataLoaderIter(self)
        self.check_worker_number_rationality()
        return _MultiProcessingDataLoaderIter(self)

    @property
    def multiprocessing_context(self):
        return self.__multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, multiprocessing_context) -> None:
        if multiprocessing_context is not None:
            if self.num_workers <= 0:
                raise ValueError("multiprocessing_context can only be used with multi-process "
                                 "loading (num_workers > 0), but got "
                                 f"num_workers={self.num_workers}")
            if isinstance(multiprocessing_context, str):
                valid_start_methods = multiprocessing.get_all_start_methods()
                if multiprocessing_context not in valid_start_methods:
                    raise ValueError(
                        "multiprocessing_context option should specify a valid start method "
                        f"in {valid_start_methods!r}, but got "
                        f"multiprocessing_context={multiprocessing_context!r}")
                multiprocessing_context = multiprocessing.get_context(multiprocessing_context)
            if not isinstance(multiprocessing_context, multiprocessing.context.BaseContext):
                raise TypeError("multiprocessing_context option should be a valid context "
                                "object or a string specifying the start method, but got "
                                f"multiprocessing_context={multiprocessing_context}")
        self.__multiprocessing_context = multiprocessing_context

    def __setattr__(self, attr: str, val: Any) -> None:
        if self.__initialized and attr in ("batch_size", "batch_sampler", "sampler",
                                           "drop_last", "dataset", "persistent_workers"):
            raise ValueError(f"{attr} attribute should not be set after "
                             f"{type(self).__name__} is initialized")
        super().__setattr__(attr, val)

    def __iter__(self) -> _BaseDataLoaderIter:
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None:
                self._iterator = self._get_iterator()
            else:
                self._iterator._reset(self)
            return self._iterator
        return self._get_iterator()

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self) -> int:
        if self._dataset_kind == _DatasetKind.Iterable:
            length = self._IterableDataset_len_called = len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else \
                    math.ceil(length / self.batch_size)
            return length
        return len(self._index_sampler)

    def check_worker_number_rationality(self) -> None:
        """Warn, as PyTorch does, when more workers are asked for than CPUs."""
        if not self.num_workers:
            return
        cpuset_checked = hasattr(os, "sched_getaffinity")
        suggested = len(os.sched_getaffinity(0)) if cpuset_checked else os.cpu_count()
        if suggested is not None and self.num_workers <= suggested:
            return
        if suggested is None:
            detail = ("DataLoader is not able to compute a suggested max number of worker in "
                      "current system.")
        else:
            detail = (f"Our suggested max number of worker in current system is {suggested}"
                      f"{'' if cpuset_checked else ' (`cpuset` is not taken into account)'}, "
                      "which is smaller than what this DataLoader is going to create.")
        warnings.warn(f"This DataLoader will create {self.num_workers} worker processes in "
                      f"total. {detail} Please be aware that excessive worker creation might "
                      "get DataLoader running slow or even freeze, lower the worker number to "
                      "avoid potential slowness/freeze if necessary.", stacklevel=2)
