"""lazyt.utils.data: datasets, samplers, collation, DataLoader batching and
reproducible shuffling."""

from collections import namedtuple

import numpy as np
import pytest

import lazyt as lt
from lazyt.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    random_split,
)


def _dataset(n=10):
    x = lt.arange(n * 2, dtype=lt.float32).reshape(n, 2)
    return TensorDataset(x, lt.arange(n))


class Squares(Dataset):
    def __len__(self):
        return 7

    def __getitem__(self, i):
        return {"x": float(i), "y": (i * i, np.array([i, -i]))}


class Stream(IterableDataset):
    def __iter__(self):
        return iter(range(5))


def test_tensor_dataset_items_and_errors():
    ds = _dataset()
    x, y = ds[3]
    assert x.tolist() == [6.0, 7.0] and y.item() == 3 and len(ds) == 10
    with pytest.raises(AssertionError, match="Size mismatch"):
        TensorDataset(lt.ones(3), lt.ones(4))


def test_loader_batches_in_order_with_drop_last():
    loader = DataLoader(_dataset(), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and [len(b[1]) for b in batches] == [4, 4, 2]
    assert isinstance(batches[0], list)  # default_collate turns tuples into lists
    assert batches[0][0].shape == (4, 2) and batches[2][1].tolist() == [8, 9]
    dropped = DataLoader(_dataset(), batch_size=4, drop_last=True)
    assert len(dropped) == 2 and [len(b[1]) for b in dropped] == [4, 4]


def test_fast_batching_equals_per_sample_collation():
    ds = _dataset()
    order = [3, 1, 4, 1, 5]
    fast = DataLoader(ds, batch_sampler=[order])
    slow = DataLoader(ds, batch_sampler=[order], collate_fn=default_collate)
    (fx, fy), (sx, sy) = next(iter(fast)), next(iter(slow))
    assert fx.tolist() == sx.tolist() and fy.tolist() == sy.tolist()
    assert fy.dtype == sy.dtype == lt.int64


def test_shuffle_is_a_permutation_and_reproducible():
    ds = _dataset(20)
    seen = [int(v) for _, y in DataLoader(ds, batch_size=6, shuffle=True) for v in y.tolist()]
    assert sorted(seen) == list(range(20)) and seen != list(range(20))

    def order(generator=None, seed=None):
        if seed is not None:
            lt.manual_seed(seed)
        loader = DataLoader(ds, batch_size=5, shuffle=True, generator=generator)
        return [y.tolist() for _, y in loader]

    assert order(lt.Generator().manual_seed(1)) == order(lt.Generator().manual_seed(1))
    assert order(lt.Generator().manual_seed(1)) != order(lt.Generator().manual_seed(2))
    assert order(seed=5) == order(seed=5)
    gen = lt.Generator().manual_seed(3)
    loader = DataLoader(ds, batch_size=20, shuffle=True, generator=gen)
    first, second = next(iter(loader))[1].tolist(), next(iter(loader))[1].tolist()
    assert first != second  # each epoch draws a new permutation


def test_default_collate_structures():
    batch = default_collate([Squares()[i] for i in range(3)])
    assert batch["x"].dtype == lt.float64 and batch["x"].tolist() == [0.0, 1.0, 2.0]
    squares, arrays = batch["y"]
    assert squares.tolist() == [0, 1, 4] and arrays.tolist() == [[0, 0], [1, -1], [2, -2]]
    Point = namedtuple("Point", "a b")
    points = default_collate([Point(lt.ones(2), 1), Point(lt.zeros(2), 2)])
    assert isinstance(points, Point) and points.a.shape == (2, 2)
    assert default_collate(["a", "b"]) == ["a", "b"]
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [1]])
    with pytest.raises(TypeError, match="default_collate"):
        default_collate([object()])


def test_custom_dataset_collate_fn_and_no_batching():
    loader = DataLoader(Squares(), batch_size=3, collate_fn=lambda b: [s["x"] for s in b])
    assert list(loader) == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0]]
    single = list(DataLoader(_dataset(3), batch_size=None))
    assert len(single) == 3 and single[1][1].item() == 1


def test_iterable_dataset_batches():
    loader = DataLoader(Stream(), batch_size=2)
    assert [b.tolist() for b in loader] == [[0, 1], [2, 3], [4]]
    with pytest.raises(ValueError, match="shuffle"):
        DataLoader(Stream(), shuffle=True)


def test_samplers():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    gen = lt.Generator().manual_seed(0)
    perm = list(RandomSampler(range(6), generator=gen))
    assert sorted(perm) == list(range(6))
    draws = list(RandomSampler(range(3), replacement=True, num_samples=20, generator=gen))
    assert len(draws) == 20 and set(draws) <= {0, 1, 2}
    assert sorted(SubsetRandomSampler([5, 7, 9], generator=gen)) == [5, 7, 9]
    assert list(BatchSampler(range(5), 2, drop_last=False)) == [[0, 1], [2, 3], [4]]
    assert len(BatchSampler(range(5), 2, drop_last=True)) == 2
    weighted = list(WeightedRandomSampler([0.0, 1.0, 0.0], 10, generator=gen))
    assert weighted == [1] * 10
    unique = list(WeightedRandomSampler([1, 1, 1, 1], 4, replacement=False, generator=gen))
    assert sorted(unique) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="batch_size"):
        BatchSampler(range(3), 0, False)


def test_loader_argument_errors():
    ds = _dataset()
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, sampler=SequentialSampler(ds), shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(ds, batch_size=2, batch_sampler=[[0]])
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader(ds, num_workers=-1)


def test_subset_concat_and_random_split():
    ds = _dataset(10)
    sub = Subset(ds, [9, 0, 5])
    assert sub[0][1].item() == 9 and len(sub) == 3
    assert [y.tolist() for _, y in DataLoader(sub, batch_size=2)] == [[9, 0], [5]]
    both = ConcatDataset([sub, _dataset(2)])
    assert len(both) == 5 and both[3][1].item() == 0 and both[-1][1].item() == 1
    a, b = random_split(ds, [7, 3], generator=lt.Generator().manual_seed(0))
    assert sorted(list(a.indices) + list(b.indices)) == list(range(10))
    c, d, e = random_split(ds, [0.5, 0.3, 0.2], generator=lt.Generator().manual_seed(0))
    assert (len(c), len(d), len(e)) == (5, 3, 2)
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(ds, [3, 3])
    assert isinstance(ds + ds, ConcatDataset)


def test_num_workers_runs_in_process():
    loader = DataLoader(_dataset(4), batch_size=2, num_workers=2, pin_memory=True)
    assert [y.tolist() for _, y in loader] == [[0, 1], [2, 3]]
