"""Deferred and compiled modes keep eager mode's guarantees (issue 13):
autograd's version checks see what eager mode would, storage and aliasing
facts hold, and bad indices raise the same error in every mode."""

from __future__ import annotations

import numpy as np
import pytest

import lazyt as lt
import lazyt.nn.functional as F


def _two_layer_losses(deferred: bool, read_every: int, steps: int = 12) -> list[float]:
    """PyTorch's "Learning PyTorch with Examples" two-layer net, manual updates."""
    lt.manual_seed(0)
    x, y = lt.randn(16, 20), lt.randn(16, 5)
    w1 = lt.randn(20, 8, requires_grad=True)
    w2 = lt.randn(8, 5, requires_grad=True)
    losses = []
    with lt.deferred() if deferred else lt.enable_grad():
        for t in range(steps):
            loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
            if t % read_every == read_every - 1:
                losses.append(loss.item())  # read before backward
            loss.backward()
            with lt.no_grad():
                w1 -= 1e-4 * w1.grad
                w2 -= 1e-4 * w2.grad
                w1.grad.zero_()
                w2.grad.zero_()
    return losses


@pytest.mark.parametrize("read_every", [1, 3])
def test_manual_updates_after_reading_the_loss_do_not_trip_version_checks(read_every):
    eager = _two_layer_losses(False, read_every)
    deferred = _two_layer_losses(True, read_every)
    np.testing.assert_allclose(deferred, eager, rtol=1e-5)


class _Legendre3(lt.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return 0.5 * (5 * x ** 3 - 3 * x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 1.5 * (5 * x ** 2 - 1)


def test_a_custom_function_trains_in_deferred_mode_as_eagerly():
    def run(deferred: bool) -> float:
        x = lt.linspace(-1.0, 1.0, 50)
        y = x.sin()
        a = lt.tensor(0.1, requires_grad=True)
        b = lt.tensor(-0.2, requires_grad=True)
        with lt.deferred() if deferred else lt.enable_grad():
            for _ in range(10):
                loss = (a + b * _Legendre3.apply(x) - y).pow(2).sum()
                loss.item()
                loss.backward()
                with lt.no_grad():
                    a -= 1e-2 * a.grad
                    b -= 1e-2 * b.grad
                    a.grad = None
                    b.grad = None
        return float(b)

    assert run(True) == pytest.approx(run(False), rel=1e-5)


def test_detach_shares_storage_in_deferred_mode():
    with lt.deferred():
        leaf = lt.randn(3, requires_grad=True)  # pending until realised
        assert leaf.detach().data_ptr() == leaf.data_ptr()
        y = leaf * 2
        d = y.detach()
        assert d.data_ptr() == y.data_ptr()
        assert d.storage_offset() == y.storage_offset() and d.stride() == y.stride()


def test_transposed_contiguous_copy_has_its_own_storage_in_order():
    p = lt.randn(2, 3)
    with lt.deferred():
        q = p.t().contiguous()
        assert q.stride() == (2, 1)
        assert q.data_ptr() != p.data_ptr()
        np.testing.assert_array_equal(np.array(list(q.storage())), p.numpy().T.ravel())


def test_numpy_views_see_in_place_writes_in_deferred_mode():
    z = lt.zeros(4)
    array = z.numpy()
    with lt.deferred():
        z.add_(1)
        z[1:3].fill_(5.0)
        assert array.tolist() == [1.0, 5.0, 5.0, 1.0]  # no realise call needed
    shared = np.zeros(3, dtype=np.float32)
    t = lt.from_numpy(shared)
    with lt.deferred():
        t.mul_(0).add_(2)
        assert shared.tolist() == [2.0, 2.0, 2.0]


@pytest.mark.parametrize("mode", ["eager", "deferred", "compiled"])
def test_bad_indices_raise_pytorch_classes_in_every_mode(mode):
    x = lt.randn(4, 3)
    cases = [
        (RuntimeError, "index 3 is out of bounds", lambda i: x.gather(1, i.reshape(4, 1))),
        (IndexError, "index out of range in self", lambda i: x.index_select(0, i * 3)),
        (IndexError, "Target 3 is out of bounds", lambda i: F.cross_entropy(x, i)),
        (RuntimeError, "index 9 is out of bounds", lambda i: lt.zeros(4).scatter(0, i * 3, 1.0)),
    ]
    index = lt.tensor([0, 1, 2, 3])
    for error, text, fn in cases:
        if mode == "compiled":
            compiled = lt.compile(fn)
            fine = lt.tensor([0, 1, 0, 0])
            compiled(fine)
            compiled(fine)  # traced: the next call replays
            with pytest.raises(error, match=text):
                compiled(index)
            continue
        with pytest.raises(error, match=text):
            if mode == "deferred":
                with lt.deferred():
                    fn(index).realize()
            else:
                fn(index)


def test_contiguous_of_an_expanded_pending_tensor_is_dense():
    with lt.deferred():
        q = lt.randn(1, 3)
        r = q.expand(100, 3).contiguous()
        assert r.stride() == (3, 1) and r.is_contiguous()
        np.testing.assert_array_equal(r.numpy(), np.broadcast_to(q.numpy(), (100, 3)))


def test_a_deferred_loop_that_never_reads_a_value_stays_bounded():
    # The polynomial fit of "Learning PyTorch with Examples" with manual
    # updates and no value read inside the loop: its graph would span every
    # step; it is realised in chunks (MAX_PENDING_DEPTH) that replay.
    from lazyt.realization import MAX_PENDING_DEPTH

    def fit(deferred: bool) -> list[float]:
        lt.manual_seed(0)
        x = lt.linspace(-3.0, 3.0, 50)
        y = x.sin()
        params = [lt.randn((), requires_grad=True) for _ in range(4)]
        with lt.deferred() if deferred else lt.enable_grad():
            for _ in range(30):
                a, b, c, d = params
                loss = (a + b * x + c * x ** 2 + d * x ** 3 - y).pow(2).sum()
                loss.backward()
                with lt.no_grad():
                    for p in params:
                        p -= 1e-4 * p.grad
                        p.grad = None
                assert all(p._node is None or p._node.depth <= MAX_PENDING_DEPTH + 64
                           for p in params)
        return [float(p) for p in params]

    np.testing.assert_allclose(fit(True), fit(False), rtol=1e-4)


@pytest.mark.parametrize("realise_between", [False, True])
def test_a_saved_pending_tensor_written_in_place_fails_backward_as_eagerly(realise_between):
    """A pending result written in place has its graph replaced (no storage to
    bump): its version now counts those writes, so autograd raises PyTorch's
    error instead of differentiating with the new value (b * 0.5 here)."""
    for deferred in (False, True):
        with lt.deferred() if deferred else lt.enable_grad():
            x = lt.tensor([0.3, 0.7], requires_grad=True)
            b = lt.tensor([1.0, 2.0]) * 1.0
            z = x * b  # saves b
            with lt.no_grad():
                b.mul_(0.5)
            if realise_between:
                b.realize()
            assert b._version == 1
            with pytest.raises(RuntimeError, match="modified by an inplace operation.*is at "
                                                   "version 1; expected version 0"):
                z.sum().backward()


BASIC_INDICES = [1, -1, slice(1, 3), (slice(None), 2), (Ellipsis, 1), (None, 1, slice(None, None, 2)),
                 (1, None, slice(2, 5), 3), (slice(0, 5, 2), Ellipsis), Ellipsis, ()]


@pytest.mark.parametrize("index", BASIC_INDICES, ids=repr)
def test_basic_indexing_keeps_a_pending_tensor_pending(index):
    # x[1:3] in deferred mode is a movement of the pending graph, not a
    # realisation of it: the indexed value fuses with what reads it.
    data = np.random.default_rng(0).standard_normal((4, 5, 6)).astype(np.float32)
    want = np.exp(data) * 2
    with lt.deferred():
        t = lt.tensor(data).exp() * 2
        got = t[index]
        assert t._node is not None and got._node is not None
        after = got + 1
    np.testing.assert_allclose(got.numpy(), want[index], rtol=1e-6)
    np.testing.assert_allclose(after.numpy(), want[index] + 1, rtol=1e-6)


def test_slices_of_a_pending_tensor_fuse_into_one_kernel():
    data = np.random.default_rng(1).standard_normal((4, 6)).astype(np.float32)
    x = lt.tensor(data)
    lt.debug.reset_stats()
    with lt.deferred():
        t = x.exp()
        total = t[1:3] + t[0:2, None].squeeze(1)
        total.realize()
    assert lt.debug.stats()["kernels"] == 1
    np.testing.assert_allclose(total.numpy(), np.exp(data[1:3]) + np.exp(data[0:2]), rtol=1e-6)


def test_gradient_through_basic_indexing_of_a_pending_tensor_matches_torch():
    torch = pytest.importorskip("torch")
    data = np.random.default_rng(2).standard_normal((4, 5, 6))
    x = lt.tensor(data, requires_grad=True)
    with lt.deferred():
        y = (x * 3)[1:3, None, 2]
        loss = y.exp().sum()
    loss.backward()  # (eager backward of a deferred forward)
    tx = torch.tensor(data, requires_grad=True)
    ty = (tx * 3)[1:3, None, 2]
    ty.exp().sum().backward()
    assert type(y.grad_fn).__name__ == type(ty.grad_fn).__name__ == "SelectBackward0"
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("make_view", [lambda b: b[1], lambda b: b.select(0, 1),
                                       lambda b: b[1].t(), lambda b: b[:, 1:3]],
                         ids=["index", "select", "index-t", "slice"])
def test_a_pending_view_read_after_a_write_to_its_base_sees_the_write(make_view):
    # PyTorch aliasing: v is a view of b; b.add_(1) changes what v reads, also
    # for an op that reads v after the write (it read the base's old graph).
    data = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    with lt.deferred():
        b = lt.tensor(data) * 1
        v = make_view(b)
        b.add_(1)
        w = v * 2
    want = make_view(lt.tensor(data + 1)).numpy()
    np.testing.assert_array_equal(v.numpy(), want)
    np.testing.assert_array_equal(w.numpy(), want * 2)


def test_eager_backward_of_a_deferred_transposed_forward():
    # A gradient rule (eager) reading a pending saved value whose graph has a
    # movement below an elementwise op went to the single-kernel path and
    # failed inside codegen ("movement" is no kernel op).
    data = np.random.default_rng(3).standard_normal((3, 4))
    x = lt.tensor(data, requires_grad=True)
    with lt.deferred():
        loss = (x * 3).t().exp().sum()
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * np.exp(3 * data), rtol=1e-10)
