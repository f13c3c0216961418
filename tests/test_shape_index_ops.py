"""Shape, indexing and counting ops of issue 15 against PyTorch: values,
dtypes, shapes, errors, float64 gradients, deferred mode, 0-size and
non-contiguous inputs (lazyt/shape_ops.py, index_ops.py, counting.py,
creation.py's tril_indices/triu_indices).

The lambdas made in loops run at once, inside the loop, so binding the loop
variable late is what they mean.
"""
# ruff: noqa: B023

from __future__ import annotations

import warnings

import numpy as np
import pytest

import lazyt as lt

torch = pytest.importorskip("torch")


# ---------------------------------------------------------------- helpers
def to_lt(value):
    """A torch tensor (any strides) as a lazyt tensor with the same layout."""
    if isinstance(value, torch.Tensor):
        if value.is_contiguous() or value.numel() == 0:
            return lt.tensor(value.detach().contiguous().numpy(), dtype=_lt_dtype(value.dtype))
        base = lt.tensor(value.detach().t().contiguous().numpy(), dtype=_lt_dtype(value.dtype))
        return base.t() if value.ndim == 2 else lt.tensor(value.detach().numpy())
    if isinstance(value, (list, tuple)):
        return type(value)(to_lt(v) for v in value)
    return value


def _lt_dtype(dtype):
    return getattr(lt, str(dtype).replace("torch.", ""))


def same(expected, actual, exact: bool = True):
    """Equal values, shapes and dtypes, recursively through tuples."""
    if isinstance(expected, (tuple, list)):
        assert len(expected) == len(actual)
        for e, a in zip(expected, actual):
            same(e, a, exact)
        return
    assert isinstance(actual, lt.Tensor), type(actual)
    assert tuple(actual.shape) == tuple(expected.shape), (actual.shape, expected.shape)
    assert str(actual.dtype).replace("lazyt.", "") == str(expected.dtype).replace("torch.", "")
    e, a = expected.detach().numpy(), actual.detach().numpy()
    if exact:
        np.testing.assert_array_equal(a, e)
    else:
        np.testing.assert_allclose(a, e, rtol=1e-6, atol=1e-9)


def check(fn, *args, exact: bool = True, **kwargs):
    """fn(torch, *args) and fn(lazyt, *lazyt args) agree."""
    lt_args = to_lt(list(args))  # before torch runs: in-place ops change args
    expected = fn(torch, *args, **kwargs)
    actual = fn(lt, *lt_args, **kwargs)
    same(expected, actual, exact)
    return actual


def same_error(fn, *args):
    """Both raise the same exception class with the same message."""
    with pytest.raises(Exception) as expected:
        fn(torch, *args)
    with pytest.raises(Exception) as actual:
        fn(lt, *to_lt(list(args)))
    assert actual.type is expected.type, (actual.value, expected.value)
    assert str(actual.value) == str(expected.value).split("\n")[0]


def same_grads(fn, *inputs):
    """d(sum(fn(x) * weights))/dx in float64 agrees with PyTorch for every input."""
    t_inputs = [x.double().requires_grad_() if x.is_floating_point() else x for x in inputs]
    l_inputs = [to_lt(x).requires_grad_() if x.is_floating_point() else to_lt(x)
                for x in t_inputs]
    t_out, l_out = fn(torch, *t_inputs), fn(lt, *l_inputs)
    weights = torch.arange(1.0, t_out.numel() + 1, dtype=torch.float64).reshape(t_out.shape)
    (t_out * weights).sum().backward()
    (l_out * to_lt(weights)).sum().backward()
    for t, x in zip(t_inputs, l_inputs):
        if t.requires_grad and t.grad is None:
            assert x.grad is None or not x.grad.numpy().any()
        elif t.requires_grad:
            np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


def rand(*shape, dtype=torch.float32, seed=0):
    g = torch.Generator().manual_seed(seed)
    if len(shape) == 1 and isinstance(shape[0], tuple):
        shape = shape[0]
    if dtype.is_floating_point:
        return torch.randn(shape, generator=g).to(dtype)
    return torch.randint(-3, 4, shape, generator=g).to(dtype)


def then(_, result):
    """Run an in-place op (first argument), give back its target."""
    return result


# ---------------------------------------------------------------- shape ops
def test_broadcast_tensors_and_meshgrid_are_expand_views():
    a, b, c = rand(3, 1), rand(4), rand(())
    actual = check(lambda m, *xs: m.broadcast_tensors(*xs), a, b, c)
    assert actual[0].stride() == torch.broadcast_tensors(a, b, c)[0].stride()
    for indexing in ("ij", "xy"):
        got = check(lambda m, *xs: m.meshgrid(*xs, indexing=indexing), rand(3), rand(()), rand(2))
        expected = torch.meshgrid(rand(3), rand(()), rand(2), indexing=indexing)
        assert [g.stride() for g in got] == [e.stride() for e in expected]
    check(lambda m, x, y: m.meshgrid([x, y], indexing="xy"), rand(0), rand(2))
    same_error(lambda m, x, y: m.meshgrid(x, y, indexing="ji"), rand(2), rand(2))
    same_error(lambda m, x, y: m.meshgrid(x, y, indexing="ij"), rand(2), rand(2, dtype=torch.int64))
    same_error(lambda m: m.meshgrid([], indexing="ij"))
    same_grads(lambda m, x, y: m.meshgrid(x, y, indexing="xy")[0] * 2, rand(3), rand(2))


def test_meshgrid_without_indexing_warns_like_pytorch():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lt.meshgrid(lt.ones(2), lt.ones(3))
    assert all("indexing argument" in str(w.message) for w in caught)
    assert lt.meshgrid(lt.ones(2), lt.ones(3))[0].shape == (2, 3)


@pytest.mark.parametrize("name", ["atleast_1d", "atleast_2d", "atleast_3d"])
def test_atleast(name):
    for shape in [(), (3,), (2, 3), (2, 3, 4), (0,)]:
        check(lambda m, x: getattr(m, name)(x), rand(*shape))
    check(lambda m, x, y: getattr(m, name)(x, y), rand(()), rand(2, 3))
    check(lambda m, x, y: getattr(m, name)([x, y]), rand(4), rand(2, 3))


def test_stacking_functions():
    check(lambda m, x, y: m.dstack([x, y]), rand(3), rand(3))
    check(lambda m, x, y: m.dstack([x, y]), rand(2, 3), rand(2, 3, 2))
    check(lambda m, x, y, z: m.column_stack([x, y, z]), rand(3), rand(3, 2), rand(3))
    check(lambda m, x: m.column_stack([x]), rand(()))
    check(lambda m, x, y: m.row_stack([x, y]), rand(3), rand(2, 3))
    check(lambda m, x, y: m.hstack([x, y]), rand(()), rand(2))
    check(lambda m, x, y: m.vstack([x, y]), rand(3, 2).t(), rand(3))
    same_grads(lambda m, x, y: m.column_stack([x, y]), rand(3), rand(3, 2))


def test_numpy_style_splits():
    x = rand(4, 6, 2)
    for name in ("hsplit", "vsplit", "dsplit"):
        check(lambda m, t: getattr(m, name)(t, 2), x)
        check(lambda m, t: getattr(t, name)([1, 3]), x)
    check(lambda m, t: m.hsplit(t, 3), rand(6))
    same_error(lambda m, t: m.hsplit(t, 4), x)
    same_error(lambda m, t: m.vsplit(t, 2), rand(4))
    same_error(lambda m, t: m.dsplit(t, 2), rand(2, 4))
    same_error(lambda m, t: m.hsplit(t, 2), rand(()))
    check(lambda m, t: m.split_with_sizes(t, [1, 3], 1), rand(2, 4))
    check(lambda m, t: t.split_with_sizes([2, 0, 1]), rand(4, 3).t())
    same_error(lambda m, t: t.split_with_sizes([2, 1]), rand(4))
    check(lambda m, t: m.narrow_copy(t, 1, 1, 2), rand(3, 4).t())


@pytest.mark.parametrize("k", [-3, -1, 0, 1, 2, 3, 6])
def test_rot90(k):
    check(lambda m, t: m.rot90(t, k), rand(2, 3))
    check(lambda m, t: t.rot90(k, [2, 0]), rand(2, 3, 4))
    check(lambda m, t: m.rot90(t, k, (-1, -2)), rand(3, 0))


def test_rot90_errors_and_grad():
    same_error(lambda m, t: m.rot90(t), rand(3))
    same_error(lambda m, t: m.rot90(t, 1, [0]), rand(3, 3))
    same_error(lambda m, t: m.rot90(t, 1, [0, -2]), rand(3, 3))
    same_grads(lambda m, t: m.rot90(t, 1), rand(2, 3))


def test_diff():
    x = rand(3, 5)
    check(lambda m, t: m.diff(t), x)
    check(lambda m, t: m.diff(t, n=2, dim=0), x)
    check(lambda m, t: t.diff(n=7), x)
    check(lambda m, t: m.diff(t, 1, 0), x.t())
    check(lambda m, t, p, a: m.diff(t, 2, 1, prepend=p, append=a), x, rand(3, 1), rand(3, 2))
    check(lambda m, t: m.diff(t), rand(6, dtype=torch.int64))
    check(lambda m, t: m.diff(t), rand(6) > 0)
    check(lambda m, t, a: m.diff(t, append=a), rand(3, dtype=torch.int32), rand(2))
    same_error(lambda m, t: m.diff(t), rand(()))
    same_error(lambda m, t: m.diff(t, n=-1), x)
    same_error(lambda m, t, p: m.diff(t, prepend=p), x, rand(5))
    same_error(lambda m, t, p: m.diff(t, dim=0, prepend=p), x, rand(3, 1))
    same_grads(lambda m, t, p: m.diff(t, 2, prepend=p), x, rand(3, 2))


def test_movedim_and_unflatten_checks():
    x = rand(2, 3, 4)
    check(lambda m, t: t.movedim((0, 2), (2, 0)), x)
    check(lambda m, t: m.movedim(t, (-1, 0), (0, 1)), x)
    same_error(lambda m, t: t.movedim((0, 1), (1,)), x)
    same_error(lambda m, t: t.movedim((0, 0), (1, 0)), x)
    same_error(lambda m, t: t.movedim((0, 1), (1, 1)), x)
    check(lambda m, t: t.unflatten(2, (2, -1)), x)
    same_error(lambda m, t: t.unflatten(1, ()), x)
    same_error(lambda m, t: t.unflatten(2, (3, -1)), x)
    same_error(lambda m, t: t.unflatten(2, (3, 2)), x)


def test_index_select_and_unfold_on_0d():
    s = torch.tensor(5.0)
    check(lambda m, t, i: t.index_select(0, i), s, torch.tensor(0))
    check(lambda m, t, i: m.index_select(t, -1, i), s, torch.tensor([0]))
    same_error(lambda m, t, i: t.index_select(0, i), s, torch.tensor([-1]))
    same_error(lambda m, t, i: t.index_select(0, i), s, torch.tensor([0, 0]))
    same_error(lambda m, t, i: t.index_select(0, i), s, torch.tensor([1]))
    for size in (0, 1):
        got = check(lambda m, t: t.unfold(0, size, 1), s)
        assert got.stride() == (1,)
    same_error(lambda m, t: t.unfold(0, 2, 1), s)


def test_tril_and_triu_indices():
    for row, col, offset in [(3, 4, 0), (4, 3, -1), (3, 3, 5), (0, 3, 0), (5, 2, 1), (3, 4, -9)]:
        check(lambda m: m.tril_indices(row, col, offset))
        check(lambda m: m.triu_indices(row, col, offset))
    check(lambda m: m.tril_indices(3, 3, dtype=m.int32))
    same_error(lambda m: m.tril_indices(-1, 3))
    same_error(lambda m: m.triu_indices(3, 3, dtype=m.float32))


# ---------------------------------------------------------------- indexing
def test_take_and_take_along_dim():
    x = rand(3, 4)
    index = torch.tensor([[0, 5], [-1, 11]])
    check(lambda m, t, i: m.take(t, i), x.t(), index)
    same_error(lambda m, t, i: t.take(i), x, torch.tensor([12]))
    check(lambda m, t, i: m.take_along_dim(t, i, 1), x, torch.tensor([[0], [3], [1]]))
    check(lambda m, t, i: t.take_along_dim(i, dim=0), x, torch.tensor([[2, 0, 1, 1]]))
    check(lambda m, t, i: m.take_along_dim(t, i), x, torch.tensor([11, 0]))
    check(lambda m, t, i: m.take_along_dim(t, i, 2), rand(2, 1, 4), torch.tensor([[[0], [3]]]))
    same_error(lambda m, t, i: m.take_along_dim(t, i, 1), x, torch.tensor([0]))
    same_error(lambda m, t, i: m.take_along_dim(t, i, 1), x, torch.tensor([[0]], dtype=torch.int32))
    same_grads(lambda m, t, i: m.take_along_dim(t, i, 1), x, torch.tensor([[0, 0], [3, 1], [1, 2]]))
    same_grads(lambda m, t, i: m.take(t, i), x, index)


def test_index_copy_and_index_fill():
    x, index = rand(3, 4), torch.tensor([2, 0])
    check(lambda m, t, i, s: t.index_copy(1, i, s), x, index, rand(3, 2))
    check(lambda m, t, i, s: m.index_copy(t, 0, i, s), x.t(), index, rand(2, 3))
    check(lambda m, t, i, s: then(t.index_copy_(1, i, s), t), x.clone(), index, rand(3, 2).t().t())
    check(lambda m, t, i, s: t.index_copy(0, i, s), rand(0, 2), torch.tensor([], dtype=torch.int64),
          rand(0, 2))
    same_error(lambda m, t, i, s: t.index_copy(1, i, s), x, index, rand(3, 3))
    same_error(lambda m, t, i, s: t.index_copy(1, i, s), x, index, rand(2, 2))
    same_grads(lambda m, t, i, s: t.index_copy(1, i, s), x, index, rand(3, 2))
    check(lambda m, t, i: t.index_fill(1, i, 3.5), x, torch.tensor([2, -1]))
    check(lambda m, t, i: m.index_fill(t, 0, i, -2), rand(3, 4, dtype=torch.int64), torch.tensor(1))
    check(lambda m, t, i, v: then(t.index_fill_(0, i, v), t), x.clone(), torch.tensor([1]),
          torch.tensor(2.0))
    same_error(lambda m, t, i: t.index_fill(1, i, 1.0), x, torch.tensor([[1]]))
    same_error(lambda m, t, i: t.index_fill(1, i, 1.0), x, torch.tensor([1], dtype=torch.int32))
    same_error(lambda m, t, i, s: t.index_copy(1, i, s), x, torch.tensor([[1]]), rand(3, 1))
    same_error(lambda m, t, i, s: t.index_copy(1, i, s), x, torch.tensor([1], dtype=torch.int32),
               rand(3, 1))
    same_grads(lambda m, t, i: t.index_fill(1, i, 2.0), x, index)


def test_masked_scatter():
    x, source = rand(2, 3), rand(10)
    mask = torch.tensor([True, False, True])
    check(lambda m, t, k, s: t.masked_scatter(k, s), x, mask, source)
    check(lambda m, t, k, s: m.masked_scatter(t, k, s), x.t(), torch.tensor([[True], [False],
                                                                            [True]]), source)
    check(lambda m, t, k, s: then(t.masked_scatter_(k, s), t), x.clone(), mask, source)
    check(lambda m, t, k, s: t.masked_scatter(k, s), rand(0, 3), mask, rand(0))
    same_error(lambda m, t, k, s: t.masked_scatter(k, s), x, mask, rand(3))
    same_error(lambda m, t, k, s: t.masked_scatter(k, s), x, mask.long(), source)
    same_error(lambda m, t, k, s: t.masked_scatter(k, s), x, mask, source.double())
    same_grads(lambda m, t, k, s: t.masked_scatter(k, s), x, mask, source)


REDUCES = ["sum", "prod", "mean", "amax", "amin"]


@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_matches_pytorch(reduce, include_self):
    index = torch.tensor([[0, 0, 3], [2, 1, 2]])
    for dtype in (torch.float32, torch.int64):
        x, src = rand(2, 4, dtype=dtype, seed=1), rand(2, 3, dtype=dtype, seed=2)
        check(lambda m, t, i, s: t.scatter_reduce(1, i, s, reduce, include_self=include_self),
              x, index, src)
    x, src = rand(2, 4), rand(3, 3).t()  # src larger than index and non-contiguous
    check(lambda m, t, i, s: m.scatter_reduce(t, 1, i, s, reduce, include_self=include_self),
          x, index, src, exact=reduce != "mean")
    check(lambda m, t, i, s: then(t.scatter_reduce_(0, i, s, reduce, include_self=include_self), t),
          x.clone(), torch.tensor([[1, 0, 1]]), src)


@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_gradients(reduce, include_self):
    x = torch.tensor([[1.0, 2.0, 3.0, 0.5], [4.0, 5.0, 6.0, 2.0]])
    src = torch.tensor([[7.0, 1.0, 3.0], [5.0, 5.0, 0.0]])  # ties for amax/amin, a zero for prod
    index = torch.tensor([[0, 0, 2], [1, 1, 3]])
    same_grads(lambda m, t, s: t.scatter_reduce(1, index if m is torch else to_lt(index), s,
                                                reduce, include_self=include_self), x, src)


def test_scatter_reduce_errors():
    x, index, src = rand(2, 3), torch.tensor([[0, 1]]), rand(1, 2)
    same_error(lambda m, t, i, s: t.scatter_reduce(1, i, s, "add"), x, index, src)
    check(lambda m, t, i, s: t.scatter_reduce(1, i, s, "max"), x, index, src)
    check(lambda m, t, i, s: t.scatter_reduce(1, i, s, "min", include_self=False), x, index, src)
    check(lambda m, t, i, s: t.scatter_reduce(1, i, s, "sum"), x, index.int(), src)
    check(lambda m, t, i, s: t.scatter(1, i, s), x, index.int(), src)
    same_error(lambda m, t, i, s: t.scatter_reduce(1, i, s, "sum"), x, index.short(), src)
    same_error(lambda m, t, i, s: t.scatter_reduce(1, i, s, "sum"), x, index, src.double())


def test_scatter_multiply_and_0d_index():
    x = torch.tensor([1.0, 2.0, 3.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(lambda m, t, i: t.scatter(0, i, 5.0, reduce="multiply"), x, torch.tensor([1, 1]))
        check(lambda m, t, i, s: t.scatter(0, i, s, reduce="multiply"), x, torch.tensor([2, 2]),
              torch.tensor([2.0, 3.0]))
        check(lambda m, t, i, s: t.scatter(0, i, s, reduce="add"), x, torch.tensor([0, 0]),
              torch.tensor([2.0, 3.0]))
        same_error(lambda m, t, i: t.scatter(0, i, 1.0, reduce="mean"), x, torch.tensor([1]))
    check(lambda m, t, i, s: t.scatter_(0, i, s), x.clone(), torch.tensor(1), torch.tensor(5.0))
    check(lambda m, t, i: t.scatter(0, i, 7.0), torch.tensor(1.0), torch.tensor(0))
    same_error(lambda m, t, i: t.scatter(0, i, 7.0), rand(1, 3), torch.tensor(0))


# ---------------------------------------------------------------- searching and counting
def test_searchsorted_and_bucketize():
    boundaries = torch.tensor([1.0, 2.0, 2.0, 3.0, float("nan")])
    values = torch.tensor([[float("nan"), 2.0, 0.0], [5.0, 1.0, 2.5]])
    for right in (False, True):
        check(lambda m, b, v: m.searchsorted(b, v, right=right), boundaries, values)
        check(lambda m, b, v: m.searchsorted(b, v, side="right" if right else "left",
                                             out_int32=True), boundaries, values.t())
        check(lambda m, v, b: m.bucketize(v, b, right=right), values, boundaries)
    rows = torch.tensor([[1, 3, 5], [2, 4, 6]])
    check(lambda m, b, v: m.searchsorted(b, v), rows, torch.tensor([[3, 0], [7, 4]]))
    check(lambda m, b: m.searchsorted(b, 4), rows[0])
    check(lambda m, b: m.bucketize(2, b), rows[0])
    check(lambda m, b, v, s: m.searchsorted(b, v, sorter=s), torch.tensor([3.0, 1.0, 2.0]),
          torch.tensor([2.5, 0.5]), torch.tensor([1, 2, 0]))
    check(lambda m, b, v: m.searchsorted(b, v), rows[0], torch.tensor([], dtype=torch.int64))
    same_error(lambda m, b, v: m.searchsorted(b, v, side="left", right=True), rows[0], rows[0])
    same_error(lambda m, b, v: m.searchsorted(b, v, side="up"), rows[0], rows[0])
    same_error(lambda m, b, v: m.searchsorted(b, v), rows, torch.tensor([[1], [2], [3]]))
    same_error(lambda m, b, v, s: m.searchsorted(b, v, sorter=s), rows[0], rows[0],
               torch.tensor([0, 1]))
    same_error(lambda m, b, v, s: m.searchsorted(b, v, sorter=s), rows[0], rows[0],
               torch.tensor([0, 1, 2], dtype=torch.int32))
    same_error(lambda m, b, v: m.searchsorted(b, v), torch.tensor(1.0), rows[0])
    same_error(lambda m, v, b: m.bucketize(v, b), rows[0], rows)


@pytest.mark.parametrize("inverse", [False, True])
@pytest.mark.parametrize("counts", [False, True])
def test_unique_flags(inverse, counts):
    x = torch.tensor([[3.0, 1.0, float("nan")], [3.0, -1.0, 1.0]])
    check(lambda m, t: m.unique(t, return_inverse=inverse, return_counts=counts), x)
    check(lambda m, t: t.unique(sorted=False, return_inverse=inverse, return_counts=counts), x.t())
    rows = torch.tensor([[1, 2, 1], [1, 2, 1], [0, 5, 0], [0, 5, 1]])
    for dim in (0, 1, -1):
        check(lambda m, t: m.unique(t, dim=dim, return_inverse=inverse, return_counts=counts),
              rows)
        check(lambda m, t: m.unique_consecutive(t, return_inverse=inverse, return_counts=counts,
                                                dim=dim), rows)
    check(lambda m, t: m.unique_consecutive(t, return_inverse=inverse, return_counts=counts),
          torch.tensor([1, 1, 2, 2, 1, 3, 3]))
    check(lambda m, t: m.unique(t, return_inverse=inverse, return_counts=counts),
          torch.tensor([], dtype=torch.int64))
    check(lambda m, t: m.unique(t, return_inverse=inverse, return_counts=counts),
          torch.tensor(4))
    check(lambda m, t: m.unique(t, dim=0, return_inverse=inverse, return_counts=counts),
          torch.ones(0, 3))


def test_unique_bool_and_errors_and_sort_extern():
    check(lambda m, t: m.unique(t), torch.tensor([True, False, True]))
    same_error(lambda m, t: m.unique(t, dim=0), torch.ones(3, 0))
    same_error(lambda m, t: m.unique(t, dim=2), torch.ones(3, 2))
    lt.debug.reset_stats()
    lt.unique(lt.tensor([3, 1, 3]))
    assert lt.debug.stats()["extern_calls"] >= 1  # the sorting is the declared sort extern


def test_bincount():
    x = torch.tensor([1, 2, 2, 5, 0])
    check(lambda m, t: m.bincount(t), x)
    check(lambda m, t: t.bincount(minlength=9), x)
    check(lambda m, t, w: m.bincount(t, w), x, rand(5))
    check(lambda m, t, w: m.bincount(t, weights=w, minlength=2), x, torch.arange(5))
    check(lambda m, t: m.bincount(t), torch.tensor([], dtype=torch.int64))
    check(lambda m, t: m.bincount(t, minlength=3), torch.tensor([], dtype=torch.int32))
    check(lambda m, t: m.bincount(t), torch.arange(12).reshape(3, 4).t().reshape(-1)[::2])
    same_error(lambda m, t: m.bincount(t), torch.tensor([-1, 2]))
    same_error(lambda m, t: m.bincount(t), torch.tensor([[1, 2]]))
    same_error(lambda m, t: m.bincount(t), torch.tensor([1.0, 2.0]))
    same_error(lambda m, t: m.bincount(t), torch.tensor([True]))
    same_error(lambda m, t: m.bincount(t, minlength=-1), x)
    same_error(lambda m, t, w: m.bincount(t, w), x, rand(4))


def test_histc():
    x = rand(200, seed=3) * 3
    check(lambda m, t: m.histc(t), x)
    check(lambda m, t: m.histc(t, bins=7, min=-1, max=2), x)
    check(lambda m, t: t.histc(5, 0, 0), x.double())
    check(lambda m, t: m.histc(t, bins=4), torch.tensor([2.0, 2.0]))
    check(lambda m, t: m.histc(t, bins=4, min=1, max=3), torch.tensor([1.0, 2, 3, float("nan")]))
    check(lambda m, t: m.histc(t, bins=4), torch.tensor([]))
    check(lambda m, t: m.histc(t, bins=3), rand(4, 5).t())
    same_error(lambda m, t: m.histc(t, bins=4, min=3, max=1), x)
    same_error(lambda m, t: m.histc(t, bins=0), x)
    same_error(lambda m, t: m.histc(t), torch.tensor([1, 2]))
    same_error(lambda m, t: m.histc(t, bins=4), torch.tensor([1.0, float("inf")]))


@pytest.mark.parametrize("name", ["cummax", "cummin"])
def test_cummax_cummin(name):
    nan = float("nan")
    check(lambda m, t: getattr(m, name)(t, 0), torch.tensor([1.0, 3.0, 3.0, nan, 2.0, nan]))
    check(lambda m, t: getattr(t, name)(1), rand(3, 5, dtype=torch.int64))
    check(lambda m, t: getattr(m, name)(t, -2), rand(4, 3).t())
    check(lambda m, t: getattr(m, name)(t, 0), torch.tensor(2.0))
    check(lambda m, t: getattr(m, name)(t, 1), rand(2, 0))
    check(lambda m, t: getattr(m, name)(t, 0), torch.tensor([True, False, True]))
    result = getattr(lt, name)(lt.tensor([1.0, 2.0]), 0)
    assert result.values is result[0] and result.indices is result[1]
    same_grads(lambda m, t: getattr(m, name)(t, 1).values, torch.tensor([[1.0, 3.0, 3.0, 0.5]]))


def test_nonzero_static():
    x = torch.tensor([[0, 1], [1, 0], [2, 2]])
    for size in (0, 2, 7):
        check(lambda m, t: m.nonzero_static(t, size=size), x)
    check(lambda m, t: t.nonzero_static(size=3, fill_value=-7), x.t())
    same_error(lambda m, t: m.nonzero_static(t, size=-1), x)


# ---------------------------------------------------------------- multinomial
def test_multinomial_draws_follow_the_probabilities():
    lt.manual_seed(0)
    probs = lt.tensor([[0.1, 0.0, 0.6, 0.3], [1.0, 1.0, 0.0, 2.0]])
    draws = lt.multinomial(probs, 4000, replacement=True)
    assert draws.shape == (2, 4000) and draws.dtype is lt.int64
    freq = lt.bincount(draws[0], minlength=4).numpy() / 4000
    np.testing.assert_allclose(freq, [0.1, 0.0, 0.6, 0.3], atol=0.03)
    assert lt.bincount(draws[1], minlength=4)[2].item() == 0
    without = lt.multinomial(probs, 3)
    for row in without.tolist():
        assert len(set(row)) == 3
    assert 1 not in without[0].tolist() and 2 not in without[1].tolist()
    assert lt.multinomial(lt.tensor([0.0, 1.0]), 2).tolist()[0] == 1
    assert lt.multinomial(lt.tensor([0.2, 0.8]), 5, True).shape == (5,)


def test_multinomial_same_seed_same_draws_eager_and_deferred():
    probs = lt.tensor([0.2, 0.5, 0.3, 1.0])
    lt.manual_seed(7)
    eager = [lt.multinomial(probs, 6, True).tolist(), lt.multinomial(probs, 3).tolist()]
    lt.manual_seed(7)
    with lt.deferred():
        deferred = [lt.multinomial(probs, 6, True).tolist(), lt.multinomial(probs, 3).tolist()]
    assert eager == deferred
    generator = lt.Generator().manual_seed(3)
    first = lt.multinomial(probs, 5, True, generator=generator).tolist()
    generator.manual_seed(3)
    assert lt.multinomial(probs, 5, True, generator=generator).tolist() == first


def test_multinomial_errors():
    same_error(lambda m, p: m.multinomial(p, 1), torch.tensor([1.0, -2.0]))
    same_error(lambda m, p: m.multinomial(p, 1), torch.tensor([0.0, 0.0]))
    same_error(lambda m, p: m.multinomial(p, 1), torch.tensor([1.0, float("nan")]))
    same_error(lambda m, p: m.multinomial(p, 3), torch.tensor([1.0, 1.0]))
    same_error(lambda m, p: m.multinomial(p, 1), torch.tensor([1, 1]))
    same_error(lambda m, p: m.multinomial(p, 1), torch.tensor(1.0))
    same_error(lambda m, p: m.multinomial(p, 0), torch.ones(2, 3))


# ---------------------------------------------------------------- deferred mode
def test_deferred_matches_eager():
    x, index = rand(3, 4), torch.tensor([[0, 0, 3], [2, 1, 2], [1, 1, 1]])
    src = rand(3, 3)

    def run(m, t, s, i):
        return (m.rot90(t * 2, 1), m.diff(t, dim=0), t.scatter_reduce(1, i, s, "amax"),
                m.take_along_dim(t, i, 1), m.searchsorted(m.tensor([-1.0, 0.0, 1.0]), t),
                m.cummax(t + 1, 1).indices, t.index_fill(1, m.tensor([0, 2]), 9.0))

    eager = run(lt, to_lt(x), to_lt(src), to_lt(index))
    with lt.deferred():
        deferred = run(lt, to_lt(x), to_lt(src), to_lt(index))
        lt.realize(*deferred)
    for e, d in zip(eager, deferred):
        np.testing.assert_array_equal(e.numpy(), d.numpy())
    same(run(torch, x, src, index), eager)
    with lt.deferred():
        values = lt.tensor([3, 1, 3, 2]) * 1
        out = lt.unique(values, return_counts=True)
        assert [t.tolist() for t in out] == [[1, 2, 3], [1, 1, 2]]
        assert lt.bincount(values).tolist() == [0, 1, 1, 2]
