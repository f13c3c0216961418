"""Horizontal fusion: small kernels of one realisation share a launch
(lazyt/ir/horizontal.py, schedule.group_steps), with the results of
separate launches."""

from __future__ import annotations

import numpy as np
import pytest

import lazyt as lt
from lazyt.ir.node import Buffer, make_node
from lazyt.ir.schedule import Step, group_steps
from lazyt.ir.view import View


def _stats_of(fn):
    lt.debug.reset_stats()
    result = fn()
    return result, lt.debug.stats()


def test_dependent_small_kernels_share_one_launch_in_order():
    lt.manual_seed(0)
    x = lt.randn(6, 5)
    with lt.deferred():
        total = x.sum()            # a 0-d result the next kernels read
        columns = x.sum(0)         # reduce over other axes: its own kernel
        out = (x - total) * columns
        (got,), stats = _stats_of(lambda: (out.numpy(),))
    a = x.numpy().astype(np.float64)
    np.testing.assert_allclose(got, (a - a.sum()) * a.sum(0), rtol=1e-5, atol=1e-5)
    assert stats["kernels"] >= 2 and stats["kernel_launches"] == 1


def test_a_kernel_reading_a_scalar_stored_by_an_earlier_nest_sees_the_new_value():
    x = lt.tensor([1.0, 2.0, 3.0])
    with lt.deferred():
        s = x.sum()
        t = (x * s).sum()          # reads s after the first nest stored it
        u = t + s
        got = u.item()
    assert got == pytest.approx((1 + 2 + 3) * 6 + 6)


def test_bounds_error_inside_a_shared_launch_is_reported():
    logits = lt.randn(4, 3)
    target = lt.tensor([0, 1, 7, 2])
    with lt.deferred():
        loss = lt.nn.functional.cross_entropy(logits, target)
        other = logits.sum(0) * 2
        with pytest.raises(IndexError, match="Target 7 is out of bounds"):
            lt.realize(loss, other)


def test_random_numbers_in_a_shared_launch_match_eager():
    def run(deferred):
        lt.manual_seed(3)
        x = lt.ones(64, 16)
        ctx = lt.deferred() if deferred else lt.set_grad_enabled(False)
        with ctx:
            a = lt.nn.functional.dropout(x, 0.5, training=True).sum(0)
            b = lt.rand(16) + a.sum()
            lt.realize(a, b)
            return a.numpy(), b.numpy()

    for eager, deferred in zip(run(False), run(True)):
        np.testing.assert_array_equal(eager, deferred)


def _step(op, out, *reads, shape=(4,)):
    dtype = lt.float32
    loads = [make_node("load", dtype, shape, (), (buf, View.contiguous(shape))) for buf in reads]
    node = make_node("extern", dtype, shape, tuple(loads), "matmul") if op == "extern" else (
        make_node("add", dtype, shape, tuple(loads)) if loads else
        make_node("const", dtype, shape, (), 0.0))
    return Step(node, out, View.contiguous(shape), dtype, op)


def test_group_steps_runs_ready_externs_first_and_keeps_write_after_read():
    a, b, c, d, w = (Buffer(None) for _ in range(5))
    k1 = _step("kernel", a, w)          # reads w
    e1 = _step("extern", b, a)          # needs k1
    write_w = _step("kernel", w)        # overwrites w: after k1 (which reads it)
    e2 = _step("extern", c, w, w)       # reads the new w
    k2 = _step("kernel", d, b, c)
    launches = group_steps([k1, e1, write_w, e2, k2], lambda step: True)
    order = [[s.reason + str(id(s.out) % 7) for s in g] for g in launches]
    flat = [s for g in launches for s in g]
    assert flat.index(k1) < flat.index(write_w) < flat.index(e2) < flat.index(k2)
    assert flat.index(e1) > flat.index(k1)
    # k1 and write_w share the first launch: nests run in order.
    assert launches[0] == [k1, write_w], order


def test_big_kernels_keep_a_launch_of_their_own():
    a, b, c = (Buffer(None) for _ in range(3))
    small, big, small2 = _step("kernel", a), _step("kernel", b), _step("kernel", c)
    launches = group_steps([small, big, small2], lambda step: step is not big)
    assert [big] in launches and len(launches) == 2


def test_state_writes_and_other_kernels_do_not_share_a_launch():
    # An optimizer's updates ("assign") and the copies that create its state
    # on a first step go in launches of their own: the gradient kernels then
    # merge alike on every call, and their merged kernel is compiled once.
    a, b, c, p, m = (Buffer(None) for _ in range(5))
    grad = _step("kernel", a, b)
    other = _step("kernel", c, b)
    update = Step(make_node("add", lt.float32, (4,), (
        make_node("load", lt.float32, (4,), (), (p, View.contiguous((4,)))),
        make_node("load", lt.float32, (4,), (), (a, View.contiguous((4,)))))),
        p, View.contiguous((4,)), lt.float32, "assign")
    state = Step(make_node("cast", lt.float32, (4,), (
        make_node("load", lt.float32, (4,), (), (a, View.contiguous((4,)))),)),
        m, View.contiguous((4,)), lt.float32, "requested")
    launches = group_steps([grad, update, state, other], lambda step: True)
    assert launches == [[grad, other], [update, state]]


def test_a_compiled_step_compiles_only_its_state_updates_again():
    # The first call (deferred, creating the momentum buffers) and the traced
    # call share every kernel but the optimizer's.
    lt.manual_seed(0)
    # (a model no other test builds: its kernels are new to this process)
    model = lt.nn.Sequential(lt.nn.Linear(7, 9), lt.nn.Hardswish(), lt.nn.Linear(9, 3))
    opt = lt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = lt.randn(5, 7), lt.randint(0, 3, (5,))

    def step(x, y):
        opt.zero_grad()
        loss = lt.nn.functional.cross_entropy(model(x), y, label_smoothing=0.125)
        loss.backward()
        opt.step()
        return loss

    from lazyt.engine.plans import PLANS
    from lazyt.engine.realize import CPU_BACKEND, REALIZATIONS

    # (earlier tests may have compiled these kernels, or run these graphs)
    for cache in (CPU_BACKEND.kernels, PLANS, REALIZATIONS):
        cache.clear()
    x.clone(), y.clone()  # (the trace stages its inputs with these copies)
    compiled = lt.compile(step)
    lt.debug.reset_stats()
    compiled(x, y)
    assert lt.debug.stats()["kernels_compiled"] >= 3
    lt.debug.reset_stats()
    compiled(x, y)  # the trace
    assert lt.debug.stats()["kernels_compiled"] <= 1
