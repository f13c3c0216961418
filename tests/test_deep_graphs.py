"""Deep graphs in deferred mode (issue 13): every graph walk is iterative, so
long chains, long loops and deep backward graphs realise without
RecursionError, and a long elementwise chain is cut into kernels of a bounded
expression depth (ir/schedule.py MAX_FUSED_DEPTH) that share compiled code."""

from __future__ import annotations

import numpy as np
import pytest

import lazyt as lt
from lazyt.ir.schedule import MAX_FUSED_DEPTH


def test_a_chain_of_10000_elementwise_ops_realises_and_matches_numpy():
    x = lt.randn(10)
    expected = x.numpy().astype(np.float32)
    with lt.deferred():
        y = x
        for _ in range(5000):  # 10,000 ops
            y = y * 1.0001 + 0.0001
        got = y.numpy()
    for _ in range(5000):
        expected = (expected * np.float32(1.0001) + np.float32(0.0001)).astype(np.float32)
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_a_long_chain_is_cut_into_kernels_of_bounded_depth(monkeypatch):
    import sys

    # (one graph: no realisation while it is built, realization.MAX_PENDING_DEPTH)
    monkeypatch.setattr(sys.modules["lazyt.tensor"], "MAX_PENDING_DEPTH", 10 ** 9)
    x = lt.randn(10)
    with lt.deferred():
        y = x
        for _ in range(10 * MAX_FUSED_DEPTH):
            y = y + 1.0
        lt.debug.reset_stats()
        got = y.numpy()
    assert lt.debug.stats()["kernels"] >= 10
    np.testing.assert_allclose(got, x.numpy() + 10 * MAX_FUSED_DEPTH, rtol=1e-5)


def test_a_loss_accumulated_over_a_long_loop_realises():
    w = lt.randn(8)
    with lt.deferred():
        total = lt.zeros(())
        for i in range(1000):
            total = total + ((w * float(i % 7)) ** 2).mean()
        got = total.item()
    expected = sum(float(((w.numpy() * (i % 7)) ** 2).mean()) for i in range(1000))
    assert got == pytest.approx(expected, rel=1e-4)


def test_a_sum_of_1000_tensors_realises():
    xs = [lt.randn(5) for _ in range(1000)]
    with lt.deferred():
        total = xs[0]
        for x in xs[1:]:
            total = total + x
        got = total.numpy()
    np.testing.assert_allclose(got, np.sum([x.numpy() for x in xs], 0), rtol=1e-4, atol=1e-4)


def test_backward_through_2000_ops_in_deferred_mode_matches_eager():
    def grad_of(mode_deferred: bool):
        x = lt.tensor([0.1, -0.2, 0.3], requires_grad=True)
        with lt.deferred() if mode_deferred else lt.enable_grad():
            y = x
            for i in range(2000):
                y = (y * 0.999).tanh() if i % 2 else y + 0.001
            y.sum().backward()
        return x.grad.numpy()

    np.testing.assert_allclose(grad_of(True), grad_of(False), rtol=1e-5, atol=1e-12)


@pytest.mark.slow
def test_a_graph_of_100000_nodes_realises():
    x = lt.randn(4)
    with lt.deferred():
        y = x
        for _ in range(50000):
            y = y * 1.0 + 0.0
        got = y.numpy()
    np.testing.assert_allclose(got, x.numpy(), rtol=1e-6)
