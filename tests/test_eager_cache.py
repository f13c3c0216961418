"""The eager dispatch cache (lazyt/eager_cache.py): a repeated elementwise op
launches the kernel its first call compiled, with the new buffers."""

from __future__ import annotations

import numpy as np
import pytest

import lazyt as lt
from lazyt import eager_cache


def test_a_repeated_op_hits_the_cache_and_computes_with_the_new_inputs():
    a, b = lt.randn(8, 5), lt.randn(8, 5)
    (a * b).numpy()
    c, d = lt.randn(8, 5), lt.randn(8, 5)
    assert eager_cache.key_for("mul", (c, d)) in eager_cache._ENTRIES
    lt.debug.reset_stats()
    out = c * d
    assert lt.debug.stats()["kernel_launches"] == 1
    np.testing.assert_array_equal(out.numpy(), c.numpy() * d.numpy())


def test_operands_sharing_memory_are_part_of_the_key():
    y = lt.randn(3, 3, dtype=lt.float64)
    square = y * y
    g, b = lt.randn(3, 3, dtype=lt.float64), lt.randn(3, 3, dtype=lt.float64)
    np.testing.assert_array_equal((g * b).numpy(), g.numpy() * b.numpy())
    np.testing.assert_array_equal(square.numpy(), y.numpy() ** 2)


@pytest.mark.parametrize("make", [
    lambda: (lt.randn(6, 4).t(), lt.randn(4, 6)),              # transposed operand
    lambda: (lt.randn(4, 6), lt.randn(6)),                     # broadcasting
    lambda: (lt.randn(4, 6)[:, ::2], lt.randn(4, 3)),          # strided slice
    lambda: (lt.randint(0, 5, (4, 6)), lt.randn(4, 6)),        # type promotion
    lambda: (lt.randn(4, 6).t().contiguous().t(), lt.randn(4, 6)),
])
def test_cached_results_match_numpy_for_views_broadcasts_and_promotion(make):
    for _ in range(3):
        a, b = make()
        out = a + b
        expected = a.numpy() + b.numpy()
        assert out.dtype == lt.float32 and tuple(out.shape) == expected.shape
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)


def test_cached_ops_record_autograd():
    w = lt.randn(4, 3, requires_grad=True)
    x = lt.randn(4, 3)
    for _ in range(2):
        w.grad = None
        (w * x).sum().backward()
        np.testing.assert_allclose(w.grad.numpy(), x.numpy())


def test_deferred_mode_does_not_use_the_eager_cache():
    a, b = lt.randn(5), lt.randn(5)
    a + b
    with lt.deferred():
        c = a + b
        assert c._is_pending
    np.testing.assert_allclose(c.numpy(), a.numpy() + b.numpy())


def test_the_default_dtype_is_part_of_the_key():
    i = lt.randint(0, 5, (4,))
    assert (i * 2.5).dtype == lt.float32
    previous = lt.get_default_dtype()
    lt.set_default_dtype(lt.float64)
    try:
        assert (i * 2.5).dtype == lt.float64
    finally:
        lt.set_default_dtype(previous)
    assert (i * 2.5).dtype == lt.float32


def test_cached_in_place_ops_update_the_target_and_its_version():
    p, g = lt.randn(6, 4), lt.randn(6, 4)
    expected = p.numpy().copy()
    for _ in range(3):
        version = p._version
        p.mul_(0.5).add_(g)
        expected = expected * np.float32(0.5) + g.numpy()
        assert p._version > version
    np.testing.assert_allclose(p.numpy(), expected, rtol=1e-6)


def test_in_place_op_reading_its_target_through_another_view_is_not_cached():
    for _ in range(3):
        x = lt.arange(16.0)
        expected = x.numpy().copy()
        expected[2:16:2] = expected[2:16:2] + expected[0:14:2]
        # (strided views, which PyTorch allows: each element reads one the
        # write changes first; a cached in-place kernel would read it after)
        x[2:16:2].add_(x[0:14:2])
        np.testing.assert_array_equal(x.numpy(), expected)


def test_pending_readers_of_a_target_see_its_old_value():
    p = lt.ones(4)
    p.mul_(2.0)
    p.mul_(2.0)  # cached from here on
    with lt.deferred():
        old = p * 1
    p.mul_(2.0)
    np.testing.assert_array_equal(old.numpy(), [4.0] * 4)
    np.testing.assert_array_equal(p.numpy(), [8.0] * 4)


@pytest.mark.parametrize("op,reference", [
    (lambda x: x.sum(0), lambda a: a.sum(0)),
    (lambda x: x.sum(-1, keepdim=True), lambda a: a.sum(-1, keepdims=True)),
    (lambda x: x.amax(1), lambda a: a.max(1)),
    (lambda x: x.mean(), lambda a: a.mean()),
    (lambda x: lt.where(x > 0, x, 0.5), lambda a: np.where(a > 0, a, 0.5)),
    (lambda x: x.to(lt.float64), lambda a: a),
    (lambda x: lt.where(x > 0, x, x * 2), lambda a: np.where(a > 0, a, a * 2)),
])
def test_cached_reductions_where_and_casts_use_the_new_values(op, reference):
    for _ in range(3):  # the first call compiles, the others hit the cache
        x = lt.randn(7, 20)
        got = op(x)
        np.testing.assert_allclose(got.numpy(), reference(x.numpy().astype(np.float64)),
                                   rtol=1e-5, atol=1e-6)


def test_a_cached_in_place_write_forgets_deferred_results_in_its_storage():
    x = lt.ones(4)
    with lt.deferred():
        y = x * 2
        y.realize()  # remembered: the node x * 2 has its value in y's storage
    assert not lt.modes.has_pending()
    for _ in range(2):
        y.mul_(3)  # the second one is served by the cache
    with lt.deferred():
        again = (x * 2) + 0  # the same node as before: must be computed anew
        np.testing.assert_array_equal(again.numpy(), [2.0] * 4)
    np.testing.assert_array_equal(y.numpy(), [18.0] * 4)


# --- The fast path of a cached eager op (issue 16): a lookup, an allocation,
# one launch; no IR node, no compile.
def test_a_cached_op_builds_no_ir_node_and_launches_once(monkeypatch):
    from lazyt import elementwise

    a, b = lt.randn(16), lt.randn(16)
    a + b  # first call: builds the node, compiles, remembers the Program
    acc = lt.zeros(16)
    acc.add_(a)

    def no_node(*args, **kwargs):
        raise AssertionError("a cached eager op built an IR node")

    monkeypatch.setattr(elementwise, "build", no_node)
    c, d = lt.randn(16), lt.randn(16)
    lt.debug.reset_stats()
    out = c + d
    acc.add_(c)
    stats = lt.debug.stats()
    assert stats["kernel_launches"] == 2 and stats["kernels_compiled"] == 0
    np.testing.assert_array_equal(out.numpy(), c.numpy() + d.numpy())
    np.testing.assert_array_equal(acc.numpy(), a.numpy() + c.numpy())


def test_small_results_reuse_freed_memory_but_never_memory_the_user_holds():
    a, b = lt.randn(16), lt.randn(16)
    first = a + b
    address = first._st.address
    del first
    assert (a + b)._st.address == address  # freed, then handed out again
    held = a + b
    array = held.numpy()  # the user's numpy view of the result's memory
    expected = array.copy()
    del held
    for _ in range(3):
        a * b
    np.testing.assert_array_equal(array, expected)


def test_a_repeated_eager_matmul_replays_its_cached_program():
    from lazyt.engine.plans import PLANS

    for a, b in [(lt.randn(8, 8), lt.randn(8, 8)), (lt.randn(8, 8).t(), lt.randn(8, 8))]:
        first = a @ b
        key = ("matmul", first._vw, a._vw, b._vw)
        assert key in PLANS.entries
        programs = len(PLANS.entries)
        lt.debug.reset_stats()
        out = a @ b
        assert lt.debug.stats()["extern_calls"] == 1 and len(PLANS.entries) == programs
        np.testing.assert_allclose(out.numpy(), a.numpy() @ b.numpy(), rtol=1e-5, atol=1e-6)


def test_a_new_thread_starts_eager_with_grad_enabled():
    import threading

    seen = []

    def worker():
        seen.append((lt.get_mode(), lt.is_grad_enabled()))
        x = lt.ones(3, requires_grad=True)
        seen.append((x * 2).requires_grad)

    with lt.no_grad(), lt.deferred():
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        assert (lt.get_mode(), lt.is_grad_enabled()) == ("deferred", False)
    assert seen == [("eager", True), True]
