"""cat/stack of many parts (a DataLoader collating a batch of samples) run as
one replayable region when no part needs a gradient: the same values as
PyTorch on every call (first, recorded and replayed), with promotion,
aliased and non-contiguous parts, and gradients still flowing when a part
requires one."""

import numpy as np
import pytest

import lazyt as lt
from lazyt.utils.data import DataLoader, TensorDataset

torch = pytest.importorskip("torch")


def _pairs(count, shape, dtypes):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(shape).astype(dtypes[i % len(dtypes)]) for i in range(count)]
    return [lt.tensor(a) for a in arrays], [torch.tensor(a) for a in arrays]


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_repeated_stack_of_many_parts_matches_torch(dim):
    ours, theirs = _pairs(9, (2, 3), [np.float32])
    expected = torch.stack(theirs, dim).numpy()
    for _ in range(4):                                   # run, record, replay, replay
        np.testing.assert_array_equal(lt.stack(ours, dim).numpy(), expected)


def test_repeated_cat_promotes_and_handles_aliases_and_views():
    ours, theirs = _pairs(5, (4, 3), [np.float32, np.int64, np.float64])
    ours = [ours[0], ours[1].t().contiguous().t(), ours[0], ours[2][:, :], ours[3]]
    theirs = [theirs[0], theirs[1], theirs[0], theirs[2], theirs[3]]
    expected = torch.cat(theirs, 1)
    for _ in range(4):
        result = lt.cat(ours, 1)
        assert str(result.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
        np.testing.assert_array_equal(result.numpy(), expected.numpy())


def test_replayed_cat_reads_the_parts_current_values():
    parts = [lt.zeros(2) for _ in range(4)]
    for step in range(4):
        for i, p in enumerate(parts):
            p.fill_(step * 10 + i)
        assert lt.cat(parts).tolist() == [step * 10 + i for i in range(4) for _ in range(2)]


def test_cat_of_many_parts_still_differentiates():
    parts = [lt.randn(2, requires_grad=True) for _ in range(5)]
    for _ in range(3):
        out = lt.cat(parts)
        assert out.grad_fn.name() == "CatBackward0"
        (out * lt.arange(10.0)).sum().backward()
    assert parts[4].grad.tolist() == [24.0, 27.0]


def test_dataloader_batches_match_torch_batches():
    rng = np.random.default_rng(1)
    features, labels = rng.standard_normal((50, 1, 4, 4)).astype(np.float32), rng.integers(0, 9, 50)
    ours = DataLoader(TensorDataset(lt.tensor(features), lt.tensor(labels)), batch_size=8)
    theirs = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.tensor(features), torch.tensor(labels)), batch_size=8)
    for (x, y), (tx, ty) in zip(ours, theirs):
        np.testing.assert_array_equal(x.numpy(), tx.numpy())
        np.testing.assert_array_equal(y.numpy(), ty.numpy())
