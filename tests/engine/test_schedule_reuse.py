"""The scheduler computes a row's reductions once per realisation where it can:
a value stored already is read back, not recomputed (its max and sum of exps
again), and a reduction stored by an earlier kernel no longer splits the
kernels that read it. Checked on the steps it schedules (which reductions
each kernel computes) and on the values, against eager mode."""

import numpy as np

import lazyt as lt
import lazyt.nn.functional as F
from lazyt.engine.realize import _scheduler
from lazyt.ir.node import walk


def _reductions(steps, op: str) -> int:
    """How many `op` reductions the scheduled kernels compute, over all steps."""
    return sum(1 for step in steps for n in walk(step.node)
               if n.op == "reduce" and n.arg[0] == op)


def _logits_and_targets():
    rng = np.random.default_rng(0)
    return (lt.tensor(rng.standard_normal((64, 10)).astype(np.float32)),
            lt.tensor(rng.integers(0, 10, 64)))


def test_a_stored_log_softmax_is_read_back_by_the_loss():
    z, y = _logits_and_targets()
    with lt.deferred():
        logp = z.log_softmax(1)
        nll = F.nll_loss(logp, y, reduction="none")
        scheduler = _scheduler()
        scheduler.materialize_fresh(logp._node, "requested")
        scheduler.materialize(nll._node, "requested")
    # log_softmax's one max; the loss reads its stored result.
    assert _reductions(scheduler.steps, "max") == 1


def test_the_cross_entropy_gradient_is_one_row_kernel():
    # The batch mean's weight is stored first (a reduce over other axes); the
    # gradient then reads it and computes its max and sums in one row kernel.
    z, y = _logits_and_targets()
    z.requires_grad_()
    with lt.deferred():
        F.cross_entropy(z, y).backward()
        scheduler = _scheduler()
        scheduler.materialize(z.grad._node, "requested")
    assert len(scheduler.steps) == 2
    assert _reductions(scheduler.steps, "max") == 1


def test_a_gradient_stored_for_a_matmul_is_read_by_the_bias_sum():
    rng = np.random.default_rng(1)
    model = lt.nn.Sequential(lt.nn.Linear(16, 32), lt.nn.ReLU(), lt.nn.Linear(32, 10))
    x = lt.tensor(rng.standard_normal((64, 16)).astype(np.float32))
    _, y = _logits_and_targets()
    with lt.deferred():
        F.cross_entropy(model(x), y).backward()
        scheduler = _scheduler()
        scheduler.materialize(model[2].weight.grad._node, "requested")
        scheduler.materialize(model[2].bias.grad._node, "requested")
    # The logits' max: once for the gradient both products read.
    assert _reductions(scheduler.steps, "max") == 1


def test_the_same_kernel_reached_twice_is_stored_once():
    # relu(h) is requested (kept by the caller) and also a matmul's input:
    # one kernel computes it for both.
    rng = np.random.default_rng(2)
    a = lt.tensor(rng.standard_normal((8, 4)).astype(np.float32))
    w = lt.tensor(rng.standard_normal((4, 4)).astype(np.float32))
    with lt.deferred():
        h = (a @ w).relu()
        out = h.t() @ a
        scheduler = _scheduler()
        scheduler.materialize_fresh(h._node, "requested")
        scheduler.materialize(out._node, "requested")
    relus = [s for s in scheduler.steps if any(n.op == "relu" for n in walk(s.node))]
    assert len(relus) == 1


def test_values_match_eager_mode():
    z, y = _logits_and_targets()
    eager = z.clone().requires_grad_()
    loss = F.cross_entropy(eager, y)
    loss.backward()
    deferred = z.clone().requires_grad_()
    with lt.deferred():
        pending = F.cross_entropy(deferred, y)
        pending.backward()
        logp = deferred.detach().log_softmax(1)
        nll = F.nll_loss(logp, y, reduction="none")
        lt.realize(pending, deferred.grad, logp, nll)
    assert np.array_equal(pending.detach().numpy(), loss.detach().numpy())
    assert np.array_equal(deferred.grad.numpy(), eager.grad.numpy())
    assert np.array_equal(nll.numpy(), F.nll_loss(z.log_softmax(1), y, reduction="none").numpy())


def test_a_row_value_two_kernels_read_is_stored_once():
    # log_softmax's result is read by the loss (a row-level kernel) and by
    # its gradient (an element-level one): one kernel stores it, both read it.
    z, y = _logits_and_targets()
    z.requires_grad_()
    with lt.deferred():
        loss = F.cross_entropy(z, y)
        loss.backward()
        scheduler = _scheduler()
        roots = [loss._node, z.grad._node]
        scheduler.know_readers(roots)
        for root in roots:
            scheduler.materialize_fresh(root, "requested")
    assert _reductions(scheduler.steps, "max") == 1


def test_values_read_within_one_kernel_stay_fused():
    # softmax's exp and layer_norm's x - mean are read twice, by one kernel.
    rng = np.random.default_rng(3)
    x = lt.tensor(rng.standard_normal((16, 32)).astype(np.float32))
    for fn in (lambda t: t.softmax(-1), lambda t: F.layer_norm(t, (32,))):
        with lt.deferred():
            out = fn(x)
            scheduler = _scheduler()
            scheduler.know_readers([out._node])
            scheduler.materialize_fresh(out._node, "requested")
        assert len(scheduler.steps) == 1
