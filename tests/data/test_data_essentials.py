"""lazyt.utils.data without PyTorch: module layout, datasets, samplers,
collation and the DataLoader's batching, workers and argument checks."""

import collections
import pickle
import random

import numpy as np
import pytest

import lazyt as lt
from lazyt.utils import data
from lazyt.utils.data import (
    BatchSampler,
    ChainDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    StackDataset,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    default_convert,
    get_worker_info,
    random_split,
)


class Range(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return i


class Stream(IterableDataset):
    """range(n), split between workers by stride (PyTorch's sharding recipe)."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        if info is None:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


def test_submodules_import_like_torch():
    from lazyt.utils.data.dataloader import DataLoader as Loader
    from lazyt.utils.data.dataset import StackDataset as Stack
    from lazyt.utils.data.distributed import DistributedSampler
    from lazyt.utils.data.sampler import SubsetRandomSampler as SubsetSampler

    assert Loader is DataLoader and Stack is StackDataset and SubsetSampler is SubsetRandomSampler
    assert data.DistributedSampler is DistributedSampler
    assert data.dataloader.get_worker_info is get_worker_info
    assert data._utils.collate.default_collate is default_collate


def test_datasets_combine():
    ds = TensorDataset(lt.arange(6), lt.arange(6) * 10)
    assert [int(v) for v in ds[2]] == [2, 20] and len(ds) == 6
    both = Range(3) + Range(2)
    assert len(both) == 5 and both[3] == 0 and both[-1] == 1
    stack = StackDataset(a=Range(3), b=Range(3))
    assert stack[1] == {"a": 1, "b": 1} and stack.__getitems__([0, 2])[1] == {"a": 2, "b": 2}
    with pytest.raises(ValueError, match="Size mismatch between datasets"):
        StackDataset(Range(2), Range(3))
    assert list(ChainDataset([Stream(2), Stream(3)])) == [0, 1, 0, 1, 2]
    assert list(Stream(2) + Stream(1)) == [0, 1, 0]
    sub = Subset(Range(10), [9, 3, 5])
    assert [sub[i] for i in range(3)] == [9, 3, 5] and sub.__getitems__([2, 0]) == [5, 9]


def test_random_split_fractions_and_generator():
    parts = random_split(Range(10), [0.5, 0.3, 0.2], generator=lt.Generator().manual_seed(1))
    assert [len(p) for p in parts] == [5, 3, 2]
    assert sorted(i for p in parts for i in p.indices) == list(range(10))
    again = random_split(Range(10), [5, 3, 2], generator=lt.Generator().manual_seed(1))
    assert [p.indices for p in again] == [p.indices for p in parts]
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(Range(1), [0.9, 0.1])
    with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
        random_split(Range(3), [1, 1])


def test_samplers_are_permutations_and_reproducible():
    gen = lt.Generator().manual_seed(3)
    order = list(RandomSampler(Range(8), generator=gen))
    assert sorted(order) == list(range(8))
    assert list(RandomSampler(Range(8), generator=lt.Generator().manual_seed(3))) == order
    draws = list(RandomSampler(Range(3), replacement=True, num_samples=40))
    assert len(draws) == 40 and set(draws) <= {0, 1, 2}
    assert len(list(RandomSampler(Range(3), num_samples=7))) == 7
    assert sorted(SubsetRandomSampler([4, 7, 9])) == [4, 7, 9]
    weighted = list(WeightedRandomSampler([0.0, 1.0, 3.0], 200))
    counts = collections.Counter(weighted)
    assert counts[0] == 0 and counts[2] > counts[1]
    assert sorted(WeightedRandomSampler([1, 1, 1, 1], 4, replacement=False)) == [0, 1, 2, 3]
    assert list(BatchSampler(range(7), 3, drop_last=False)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert len(BatchSampler(range(7), 3, drop_last=True)) == 2


def test_default_collate_and_convert():
    Point = collections.namedtuple("Point", "x y")
    batch = default_collate([{"a": 1, "b": (1.5, "s"), "p": Point(np.int32(1), np.zeros(2))},
                             {"a": 2, "b": (2.5, "t"), "p": Point(np.int32(2), np.ones(2))}])
    assert batch["a"].dtype == lt.int64 and batch["a"].tolist() == [1, 2]
    assert batch["b"][0].dtype == lt.float64 and batch["b"][1] == ("s", "t")  # as torch
    assert isinstance(batch["p"], Point) and batch["p"].x.dtype == lt.int32
    assert batch["p"].y.shape == (2, 2)
    assert default_collate([True, False]).dtype == lt.bool
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal"):
        default_collate([[1, 2], [1]])
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        default_collate([lt.ones(2), lt.ones(3)])
    with pytest.raises(TypeError, match="batch must contain tensors, numpy arrays, numbers"):
        default_collate([object()])
    converted = default_convert({"a": np.arange(3), "b": (np.float32(1.0), "x")})
    assert isinstance(converted["a"], lt.Tensor) and converted["b"][1] == "x"


def test_loader_batches_lengths_and_drop_last():
    loader = DataLoader(Range(7), batch_size=3)
    assert [b.tolist() for b in loader] == [[0, 1, 2], [3, 4, 5], [6]] and len(loader) == 3
    assert len(DataLoader(Range(7), batch_size=3, drop_last=True)) == 2
    assert [b for b in DataLoader(Range(2), batch_size=None)] == [0, 1]
    shuffled = [int(v) for b in DataLoader(Range(9), batch_size=4, shuffle=True) for v in b]
    assert sorted(shuffled) == list(range(9))
    gen_orders = [[int(v) for b in DataLoader(Range(9), batch_size=4, shuffle=True,
                                              generator=lt.Generator().manual_seed(5)) for v in b]
                  for _ in range(2)]
    assert gen_orders[0] == gen_orders[1]
    stream = DataLoader(Stream(5), batch_size=2)
    assert [b.tolist() for b in stream] == [[0, 1], [2, 3], [4]]
    with pytest.raises(TypeError, match="has no len"):
        len(stream)


class SizedStream(Stream):
    def __len__(self):
        return self.n


def test_loader_len_of_sized_iterable_and_its_warning():
    loader = DataLoader(SizedStream(5), batch_size=2, drop_last=True)
    assert len(loader) == 2
    assert len(DataLoader(SizedStream(5), batch_size=2)) == 3
    short = DataLoader(SizedStream(3), batch_size=None)
    assert len(short) == 3
    short.dataset.n = 4
    with pytest.warns(UserWarning, match="was reported to be 3"):
        list(short)


def test_workers_shard_streams_and_seed_like_torch():
    def init(worker_id):
        info = get_worker_info()
        seen.append((worker_id, info.id, info.num_workers))

    seen = []
    loader = DataLoader(Stream(11), batch_size=2, num_workers=2, worker_init_fn=init)
    assert [b.tolist() for b in loader] == [[0, 2], [1, 3], [4, 6], [5, 7], [8, 10], [9]]
    assert seen == [(0, 0, 2), (1, 1, 2)] and get_worker_info() is None

    class Seeds(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            info = get_worker_info()
            return [info.id, info.seed, random.random(), np.random.randint(1 << 30),
                    lt.rand(()).item()]

    state = random.getstate(), np.random.get_state()[1].copy()
    batches = list(DataLoader(Seeds(), batch_size=None, num_workers=2,
                              generator=lt.Generator().manual_seed(0)))
    assert [b[0] for b in batches] == [0, 1, 0, 1]
    assert batches[1][1] == batches[0][1] + 1  # seed = base_seed + worker id
    assert batches[0][2:] != batches[2][2:]  # a worker's streams advance
    again = list(DataLoader(Seeds(), batch_size=None, num_workers=2,
                            generator=lt.Generator().manual_seed(0)))
    assert again == batches
    assert random.getstate() == state[0]  # the main process's streams are untouched
    np.testing.assert_array_equal(np.random.get_state()[1], state[1])


def test_persistent_workers_keep_their_dataset_copy():
    class Counting(IterableDataset):
        def __init__(self):
            self.epochs = 0

        def __iter__(self):
            self.epochs += 1
            return iter([self.epochs])

    loader = DataLoader(Counting(), batch_size=None, num_workers=1, persistent_workers=True)
    assert list(loader) == [1] and list(loader) == [2]
    assert loader.dataset.epochs == 0  # each worker iterates its own copy
    fresh = DataLoader(Counting(), batch_size=None, num_workers=1)
    assert list(fresh) == [1] and list(fresh) == [1]


@pytest.mark.parametrize("kwargs,message", [
    (dict(batch_sampler=[[0]], batch_size=2), "batch_sampler option is mutually exclusive"),
    (dict(batch_sampler=[[0]], shuffle=True), "batch_sampler option is mutually exclusive"),
    (dict(batch_sampler=[[0]], drop_last=True), "batch_sampler option is mutually exclusive"),
    (dict(sampler=[0], shuffle=True), "sampler option is mutually exclusive with shuffle"),
    (dict(batch_size=None, drop_last=True), "batch_size=None option disables auto-batching"),
    (dict(num_workers=-1), "num_workers option should be non-negative"),
    (dict(timeout=-1), "timeout option should be non-negative"),
    (dict(prefetch_factor=2), "prefetch_factor option could only be specified in multiprocess"),
    (dict(persistent_workers=True), "persistent_workers option needs num_workers > 0"),
    (dict(multiprocessing_context="fork"), "multiprocessing_context can only be used with"),
])
def test_loader_rejects_bad_argument_combinations(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DataLoader(Range(3), **kwargs)


def test_loader_rejects_shuffle_for_streams_and_late_assignment():
    with pytest.raises(ValueError, match="expected unspecified shuffle option, but got "
                                         "shuffle=True"):
        DataLoader(Stream(3), shuffle=True)
    with pytest.raises(ValueError, match="expected unspecified sampler option"):
        DataLoader(Stream(3), sampler=[0])
    loader = DataLoader(Range(3))
    with pytest.raises(ValueError, match="batch_size attribute should not be set after "
                                         "DataLoader is initialized"):
        loader.batch_size = 2
    it = iter(loader)
    with pytest.raises(NotImplementedError):
        pickle.dumps(it)


def test_worker_copies_of_streams_share_tensors():
    class Holder(IterableDataset):
        def __init__(self):
            self.values = lt.arange(6)
            self.calls = []

        def __iter__(self):
            info = get_worker_info()
            self.calls.append(info.id)
            assert info.dataset is self and self.values is holder.values
            return iter(self.values[info.id::info.num_workers].tolist())

    holder = Holder()
    assert sorted(DataLoader(holder, batch_size=None, num_workers=2)) == list(range(6))
    assert holder.calls == []


def test_worker_errors_are_reraised_like_torch():
    class Failing(Dataset):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            if i == 1:
                raise ValueError("boom")
            return i

    with pytest.raises(ValueError, match="^boom$"):
        list(DataLoader(Failing(), batch_size=None))
    with pytest.raises(ValueError, match="^Caught ValueError in DataLoader worker process 1.\n"
                                         "Original Traceback") as error:
        list(DataLoader(Failing(), batch_size=None, num_workers=2))
    assert str(error.value).endswith("ValueError: boom\n")
