"""lazyt.utils.data against torch.utils.data: the same names, collated
structures and dtypes, batch orders (deterministic ones, also with workers),
lengths, and errors. Data is made with numpy; where randomness is involved
only properties are compared (lazyt's random stream differs from torch's)."""

import collections

import numpy as np
import pytest

import lazyt as lt
import lazyt.utils.data as ld
from lazyt.utils.data._utils.worker import _generate_state

torch = pytest.importorskip("torch")
import torch.utils.data as td  # noqa: E402


def _plain(value):
    """Nested containers of tensors as nested lists of (dtype name, values)."""
    if isinstance(value, (lt.Tensor, torch.Tensor)):
        return (str(value.dtype).split(".")[-1], value.tolist())
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return (type(value).__name__, [_plain(v) for v in value])
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [_plain(v) for v in value])
    return value


def _outcome(function):
    try:
        return _plain(function())
    except Exception as error:  # noqa: BLE001 - the error is the outcome compared
        return (type(error).__name__, str(error))


def test_public_names_and_submodules_match_torch():
    skip = {"DFIterDataPipe", "DataChunk", "IterDataPipe", "MapDataPipe", "datapipes",
            "functional_datapipe", "graph", "graph_settings", "guaranteed_datapipes_determinism",
            "non_deterministic", "runtime_validation", "runtime_validation_disabled",
            "argument_validation"}
    missing = [n for n in dir(td) if not n.startswith("__") and n not in skip
               and not hasattr(ld, n)]
    assert missing == []
    for module in ("dataset", "sampler", "dataloader", "distributed"):
        theirs = getattr(td, module)
        names = [n for n in getattr(theirs, "__all__", []) if "DataPipe" not in n]
        assert [n for n in names if not hasattr(getattr(ld, module), n)] == [], module


Point = collections.namedtuple("Point", "x y")
SAMPLES = {
    "numbers": [1, 2, 3],
    "floats": [1.0, 2.5],
    "bools": [True, False],
    "strings": ["a", "b"],
    "numpy": [np.arange(3, dtype=np.int16), np.arange(3, dtype=np.int16) + 1],
    "numpy_scalars": [np.float32(1.5), np.float32(2.0)],
    "nested": [{"x": (1, [2.0, "s"]), "p": Point(1, np.zeros(2))},
               {"x": (3, [4.0, "t"]), "p": Point(2, np.ones(2))}],
    "list_lengths": [[1, 2], [3]],
    "numpy_strings": [np.array(["a"]), np.array(["b"])],
    "object": [object(), object()],
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_default_collate_matches_torch(name):
    batch = SAMPLES[name]
    mine = _outcome(lambda: ld.default_collate(batch))
    theirs = _outcome(lambda: td.default_collate(batch))
    if name == "object":  # the message names the element's type, the same class here
        assert mine == theirs
    else:
        assert mine == theirs


def test_tensor_collate_and_convert_match_torch():
    arrays = [np.arange(4, dtype=np.float32).reshape(2, 2) + i for i in range(3)]
    mine = ld.default_collate([lt.tensor(a) for a in arrays])
    theirs = td.default_collate([torch.tensor(a) for a in arrays])
    assert _plain(mine) == _plain(theirs)
    assert _outcome(lambda: ld.default_collate([lt.ones(2), lt.ones(3)])) == \
        _outcome(lambda: td.default_collate([torch.ones(2), torch.ones(3)]))
    sample = {"a": np.arange(3), "b": (np.float64(2.0), "s", [np.int8(1)]), "c": 5}
    assert _plain(ld.default_convert(sample)) == _plain(td.default_convert(sample))


class RangeT(td.Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        return {"i": i, "x": np.full(2, i, dtype=np.float32)}


class RangeL(ld.Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        return {"i": i, "x": np.full(2, i, dtype=np.float32)}


def _stream(base):
    class Stream(base.IterableDataset):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            info = base.get_worker_info()
            if info is None:
                return iter(range(self.n))
            # unequal shards, so workers run out at different times
            return iter(range(info.id, self.n, info.num_workers + info.id))

        def __len__(self):
            return self.n

    return Stream


@pytest.mark.parametrize("kwargs", [dict(batch_size=3), dict(batch_size=3, drop_last=True),
                                    dict(batch_size=None), dict(batch_size=4, num_workers=2)])
def test_map_style_batches_match_torch(kwargs):
    mine = [_plain(b) for b in ld.DataLoader(RangeL(), **kwargs)]
    theirs = [_plain(b) for b in td.DataLoader(RangeT(), **kwargs)]
    assert mine == theirs
    assert len(ld.DataLoader(RangeL(), **kwargs)) == len(td.DataLoader(RangeT(), **kwargs))


@pytest.mark.parametrize("kwargs", [dict(batch_size=2), dict(batch_size=2, drop_last=True),
                                    dict(batch_size=None, num_workers=2),
                                    dict(batch_size=2, num_workers=3),
                                    dict(batch_size=2, num_workers=3, drop_last=True)])
def test_iterable_batches_and_lengths_match_torch(kwargs):
    mine = [_plain(b) for b in ld.DataLoader(_stream(ld)(13), **kwargs)]
    theirs = [_plain(b) for b in td.DataLoader(_stream(td)(13), **kwargs)]
    assert mine == theirs
    assert len(ld.DataLoader(_stream(ld)(13), **kwargs)) == \
        len(td.DataLoader(_stream(td)(13), **kwargs))


def test_worker_info_and_init_fn_match_torch():
    def run(base):
        def init(worker_id):
            info = base.get_worker_info()
            info.dataset.tag = (worker_id, info.id, info.num_workers)

        class Ids(base.Dataset):
            tag = None

            def __len__(self):
                return 6

            def __getitem__(self, i):
                info = base.get_worker_info()
                return (i, info.id, self.tag, info.dataset is self)

        dataset = Ids()
        out = [_plain(b) for b in base.DataLoader(dataset, batch_size=2, num_workers=2,
                                                  worker_init_fn=init)]
        return out, dataset.tag, base.get_worker_info()

    assert run(ld) == run(td)


def test_numpy_worker_seed_matches_torch():
    from torch.utils.data._utils.worker import _generate_state as torch_generate_state

    for base_seed, worker_id in [(0, 0), (12345678901234, 3), ((1 << 63) - 1, 7)]:
        assert _generate_state(base_seed, worker_id) == torch_generate_state(base_seed,
                                                                             worker_id)


BAD_LOADERS = [
    dict(batch_sampler=[[0]], batch_size=2), dict(batch_sampler=[[0]], sampler=[0]),
    dict(sampler=[0], shuffle=True), dict(batch_size=None, drop_last=True),
    dict(num_workers=-1), dict(timeout=-1.0), dict(prefetch_factor=2),
    dict(num_workers=1, prefetch_factor=-1), dict(persistent_workers=True),
    dict(num_workers=1, multiprocessing_context="nope"),
    dict(num_workers=1, multiprocessing_context=3), dict(batch_size=0), dict(batch_size=1.5),
    dict(drop_last=1),
]


@pytest.mark.parametrize("kwargs", BAD_LOADERS)
def test_bad_loader_arguments_fail_like_torch(kwargs):
    assert _outcome(lambda: ld.DataLoader(RangeL(), **kwargs)) == \
        _outcome(lambda: td.DataLoader(RangeT(), **kwargs))


@pytest.mark.parametrize("kwargs", [dict(shuffle=True), dict(sampler=[0]),
                                    dict(batch_sampler=[[0]]), dict(batch_size=None,
                                                                    drop_last=True)])
def test_bad_iterable_loader_arguments_fail_like_torch(kwargs):
    mine = _outcome(lambda: ld.DataLoader(_stream(ld)(3), **kwargs))
    theirs = _outcome(lambda: td.DataLoader(_stream(td)(3), **kwargs))
    assert mine[0] == theirs[0] and mine[1].split(" but got")[0] == theirs[1].split(" but got")[0]


@pytest.mark.parametrize("make", [
    lambda m, g: m.RandomSampler(range(3), replacement=1),
    lambda m, g: m.RandomSampler(range(3), num_samples=0),
    lambda m, g: m.RandomSampler([], num_samples=None),
    lambda m, g: m.WeightedRandomSampler([1.0, 2.0], 0),
    lambda m, g: m.WeightedRandomSampler([[1.0]], 1),
    lambda m, g: m.WeightedRandomSampler([1.0], 1, replacement=None),
    lambda m, g: m.BatchSampler(range(3), 0, False),
    lambda m, g: m.BatchSampler(range(3), 2, None),
    lambda m, g: m.random_split(range(5), [0.5, 0.7]),
    lambda m, g: m.random_split(range(5), [-0.5, 1.5]),
    lambda m, g: m.random_split(range(5), [2, 2]),
    lambda m, g: [len(s) for s in m.random_split(range(7), [0.3, 0.3, 0.4], generator=g())],
    lambda m, g: m.ConcatDataset([]),
    lambda m, g: m.TensorDataset(g().__class__ and _ones(m, 2), _ones(m, 3)),
    lambda m, g: m.StackDataset(),
    lambda m, g: m.Subset(range(5), [4, 0]).__getitems__([1, 0]),
])
def test_sampler_and_dataset_errors_match_torch(make):
    def generator_of(m):
        return (lambda: m_generator(m))

    mine = _outcome(lambda: make(ld, generator_of(lt)))
    theirs = _outcome(lambda: make(td, generator_of(torch)))
    assert mine == theirs


def m_generator(module):
    return module.Generator().manual_seed(0)


def _ones(m, n):
    return (lt if m is ld else torch).ones(n)


def test_random_samplers_have_torch_properties():
    gen = lt.Generator().manual_seed(0)
    perm = list(ld.RandomSampler(range(10), generator=gen))
    assert sorted(perm) == list(range(10))
    assert len(list(ld.RandomSampler(range(5), num_samples=12))) == \
        len(list(td.RandomSampler(range(5), num_samples=12))) == 12
    draws = list(ld.WeightedRandomSampler(np.array([0.1, 0.0, 0.9]), 300, generator=gen))
    counts = collections.Counter(draws)
    assert counts[1] == 0 and 200 < counts[2] < 300
    assert isinstance(draws[0], int)
