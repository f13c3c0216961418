"""Result layouts: the strides of a freshly computed tensor are PyTorch's in
every mode.

Elementwise results over a permuted input keep its dim order (eager mode's
preserve_format); a deferred result is realised in that order too, and
compiled calls return it. Advanced indexing (x[idx], x[:, idx], x[mask])
follows PyTorch's TensorIterator: the non-indexed dims keep the input's
order. Compared against PyTorch on random permutations and indices.
"""

import contextlib
import random

import numpy as np
import pytest

import lazyt as lt

try:
    import torch
except ImportError:  # the oracle is optional
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is the oracle")


def _permuted(mod, shape, order):
    values = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    return mod.tensor(values).permute(*order)


def _elementwise_chain(x):
    return ((x * 2 + 1).sin() - x).relu()


@needs_torch
@pytest.mark.parametrize("mode", ["eager", "deferred"])
def test_elementwise_result_keeps_a_permuted_input_order(mode):
    rng = random.Random(1)
    for _ in range(30):
        shape = tuple(rng.randint(1, 4) for _ in range(rng.randint(2, 4)))
        order = list(range(len(shape)))
        rng.shuffle(order)
        want = _elementwise_chain(_permuted(torch, shape, order))
        x = _permuted(lt, shape, order)
        if mode == "deferred":
            with lt.deferred():
                got = _elementwise_chain(x)
                pending_strides = got.stride()
                assert got._is_pending
                assert pending_strides == want.stride()
                assert got.is_contiguous() == want.is_contiguous()
                got.realize()
        else:
            got = _elementwise_chain(x)
        assert got.stride() == want.stride(), (shape, order)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


def test_views_of_a_deferred_permuted_result_are_eager_views():
    a = lt.randn(3, 4)
    eager = (a.t() * 2).exp()
    with lt.deferred():
        y = (a.t() * 2).exp()
        yt = y.t()                 # a view: contiguous, as eagerly
        flat = y.reshape(12)       # not expressible as a view: a copy, as eagerly
        assert yt.is_contiguous() and not y.is_contiguous()
        lt.realize(y, yt, flat)
    assert y.stride() == eager.stride() == (1, 4)
    assert yt.stride() == (4, 1) and yt.data_ptr() == y.data_ptr()
    assert flat.data_ptr() != y.data_ptr()
    assert flat.tolist() == eager.reshape(12).tolist()
    assert yt.tolist() == eager.t().tolist()


def test_a_deferred_permuted_result_stays_one_fused_kernel():
    a = lt.randn(16, 8)
    with lt.deferred():
        y = ((a.t() * 2 + 1).exp() - a.t()).relu()
        lt.debug.reset_stats()
        y.realize()
    assert lt.debug.stats()["kernels"] == 1
    assert y.stride() == (1, 8)


def test_a_repeated_deferred_graph_replays_with_its_layout():
    results = []
    for order in [(1, 0), (0, 1), (1, 0)]:
        a = lt.randn(3, 5)
        with lt.deferred():
            y = (a.permute(*order) + 1).neg()
            y.realize()
        results.append((y.stride(), y.tolist() == (-(a.permute(*order) + 1)).tolist()))
    assert results == [((1, 5), True), ((5, 1), True), ((1, 5), True)]


def test_compiled_results_have_eager_strides():
    def step(a, b):
        return (a.t() * 2).exp() + b, a.t().sin(), (a + 1).t()

    compiled = lt.compile(step)
    for _ in range(4):
        a, b = lt.randn(3, 4), lt.randn(4, 3)
        got, want = compiled(a, b), step(a, b)
        assert [t.stride() for t in got] == [t.stride() for t in want] == [(1, 4), (1, 4), (1, 4)]
        for g, w in zip(got, want):
            np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-6)


# ------------------------------------------------------- advanced indexing

def _random_index(rng, shape):
    """(kind, value) items of an index over `shape` with at least one advanced item."""
    items, advanced = [], 0
    for size in shape:
        draw = rng.random()
        if draw < 0.35:
            index_shape = tuple(rng.randint(0, 3) for _ in range(rng.randint(0, 2)))
            values = np.array([rng.randrange(size) for _ in range(int(np.prod(index_shape)))],
                              dtype=np.int64).reshape(index_shape)
            transposed = len(index_shape) == 2 and rng.random() < 0.5
            items.append(("transposed" if transposed else "tensor", values))
            advanced += 1
        elif draw < 0.45:
            items.append(("int", rng.randrange(size)))
        elif draw < 0.55:
            items.append(("slice", slice(0, size, rng.randint(1, 2))))
        elif draw < 0.65:
            items.append(("mask", np.array([rng.random() < 0.6 for _ in range(size)])))
            advanced += 1
        else:
            items.append(("slice", slice(None)))
    if rng.random() < 0.3:
        items.insert(rng.randint(0, len(items)), rng.choice([("new", None), ("bool", True),
                                                             ("bool", False)]))
    return items if advanced else None


def _build_index(mod, items):
    out = []
    for kind, value in items:
        if kind == "tensor":
            out.append(mod.tensor(value))
        elif kind == "transposed":
            out.append(mod.tensor(value.T.copy()).t())
        elif kind == "mask":
            out.append(mod.tensor(value))
        elif kind == "new":
            out.append(None)
        else:
            out.append(value)
    return tuple(out)


@needs_torch
@pytest.mark.parametrize("mode", ["eager", "deferred"])
def test_advanced_indexing_result_strides_match_pytorch(mode):
    rng = random.Random(5 if mode == "eager" else 6)
    checked = 0
    while checked < 250:
        shape = tuple(rng.randint(1, 5) for _ in range(rng.randint(1, 4)))
        order = list(range(len(shape)))
        rng.shuffle(order)
        items = _random_index(rng, [shape[d] for d in order])
        if items is None:
            continue
        try:
            want = _permuted(torch, shape, order)[_build_index(torch, items)]
        except (IndexError, RuntimeError):
            continue
        checked += 1
        x = _permuted(lt, shape, order)
        if mode == "deferred":
            with lt.deferred():
                got = x[_build_index(lt, items)]
                assert got.stride() == want.stride(), (shape, order, items)
                got.realize()
        else:
            got = x[_build_index(lt, items)]
        assert tuple(got.shape) == tuple(want.shape), (shape, order, items)
        assert got.stride() == want.stride(), (shape, order, items)
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_advanced_indexing_keeps_the_input_dim_order_in_every_mode():
    x = lt.ones(4, 3, 3).permute(2, 1, 0)
    assert x[:, [0, 1]].stride() == (1, 3, 6)
    assert x[[0, 1]].stride() == (12, 1, 3)  # (PyTorch 2.13)
    assert x[x > 0].stride() == (1,)
    with lt.deferred():
        y = x[:, [0, 1]] * 2
        assert y.stride() == (1, 3, 6)
    assert y.stride() == (1, 3, 6)


def test_compiled_advanced_indexing_has_eager_strides():
    idx = lt.tensor([0, 2])

    def pick(x):
        return x.permute(2, 1, 0)[:, idx] + 1

    compiled = lt.compile(pick)
    for _ in range(3):
        x = lt.randn(4, 3, 3)
        got, want = compiled(x), pick(x)
        assert got.stride() == want.stride() == (1, 3, 6)
        assert got.tolist() == want.tolist()


@needs_torch
def test_a_python_bool_index_is_an_advanced_index_like_pytorch():
    """x[True] is a copy with a new dim; beside index tensors it broadcasts with them."""
    for index in [True, (0, True), (slice(None), True), (False,),
                  ([0, 1], True), (True, [0, 1])]:
        want = torch.arange(6.0).reshape(2, 3)[index]
        x = lt.arange(6.0).reshape(2, 3)
        got = x[index]
        assert tuple(got.shape) == tuple(want.shape) and got.stride() == want.stride()
        assert got.data_ptr() != x.data_ptr()
        assert got.tolist() == want.tolist()
    x = lt.arange(6.0).reshape(2, 3)
    x[True] = 5.0
    x[False] = 7.0
    assert x.tolist() == [[5.0] * 3] * 2
    w = lt.ones(2, 3, requires_grad=True)
    (w[:, True] * 3).sum().backward()
    assert w.grad.tolist() == [[3.0] * 3] * 2


@needs_torch
@pytest.mark.parametrize("mode", ["eager", "deferred"])
def test_softmax_results_are_row_major_like_pytorch(mode):
    """PyTorch's softmax makes its input contiguous first (fuzzer seed 136)."""
    for _ in range(3):  # first call, recorded, replayed (eager regions)
        for name, dim in [("softmax", 1), ("log_softmax", 0), ("softmax", 2)]:
            want = getattr(_permuted(torch, (4, 5, 3), (2, 0, 1)), name)(dim)
            x = _permuted(lt, (4, 5, 3), (2, 0, 1))
            with lt.deferred() if mode == "deferred" else contextlib.nullcontext():
                got = getattr(x, name)(dim)
                got.realize()
            assert got.stride() == want.stride() == (20, 5, 1)
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)



LAYOUT_OPS = {
    "layer_norm": lambda m, x: m.nn.functional.layer_norm(x, (5,)),
    "batch_norm": lambda m, x: m.nn.functional.batch_norm(x, None, None, training=True),
    "gelu": lambda m, x: m.nn.functional.gelu(x), "tril": lambda m, x: x.tril(),
    "triu": lambda m, x: x.triu(1), "masked_fill": lambda m, x: x.masked_fill(x > 0, 1.0),
    "repeat": lambda m, x: x.repeat(1, 2, 1), "flip": lambda m, x: x.flip(0),
    "where": lambda m, x: m.where(x > 0, x, 0.0), "clamp": lambda m, x: x.clamp(-1, 1),
    "cumsum": lambda m, x: x.cumsum(1), "sum_keepdim": lambda m, x: x.sum(1, keepdim=True),
    "mse_none": lambda m, x: m.nn.functional.mse_loss(x, x * 2, reduction="none"),
}


@needs_torch
@pytest.mark.parametrize("mode", ["eager", "deferred"])
@pytest.mark.parametrize("op", list(LAYOUT_OPS))
def test_op_results_on_a_permuted_input_have_pytorch_strides(op, mode):
    want = LAYOUT_OPS[op](torch, _permuted(torch, (4, 5, 3), (2, 0, 1)))
    for _ in range(3):  # first call, recorded, replayed (eager regions)
        x = _permuted(lt, (4, 5, 3), (2, 0, 1))
        with lt.deferred() if mode == "deferred" else contextlib.nullcontext():
            got = LAYOUT_OPS[op](lt, x)
            got.realize()
        assert got.stride() == want.stride()
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-5)


def test_deferred_copy_of_a_written_view_reads_the_value_before_the_write_is_replayed():
    """Fuzzer seed 7973: a pending copy of a transposed view written in place
    was computed again after the write was carried out (the slice scaled twice)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 4, 3)).astype(np.float32)
    a = rng.standard_normal((1, 3, 4)).astype(np.float32)

    def step(x, a):
        v = x.transpose(0, 2).clone()[:, 1:]
        v.mul_(a)
        return v.transpose(0, 2).contiguous()

    eager = step(lt.tensor(x), lt.tensor(a))
    with lt.deferred():
        deferred = step(lt.tensor(x), lt.tensor(a))
        deferred.realize()
    np.testing.assert_array_equal(deferred.numpy(), eager.numpy())
    assert deferred.stride() == eager.stride()
