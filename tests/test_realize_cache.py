"""The realisation cache (lazyt/engine/realize.py, REALIZATIONS): a deferred graph of a
structure realised before replays its recorded launches on new buffers."""

from __future__ import annotations

import numpy as np

import lazyt as lt
from lazyt.engine.realize import REALIZATIONS


def _softmax(a):
    e = np.exp(a - a.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_the_same_graph_on_new_inputs_replays_and_computes_the_new_values():
    REALIZATIONS.clear()
    for step in range(4):
        x = lt.randn(6, 9)
        with lt.deferred():
            y = (x * 2 + 1).softmax(-1)
            lt.debug.reset_stats()
            got = y.numpy()
        np.testing.assert_allclose(got, _softmax(x.numpy() * 2 + 1), rtol=1e-5, atol=1e-6)
        if step > 0:
            assert lt.debug.stats()["kernels_compiled"] == 0
    assert len(REALIZATIONS.programs()) >= 1


def test_which_inputs_share_a_buffer_is_part_of_the_key():
    a, b = lt.randn(5), lt.randn(5)
    with lt.deferred():
        first = (a * 3 + b).numpy()
        second = (a * 3 + a).numpy()
    np.testing.assert_allclose(first, a.numpy() * 3 + b.numpy(), rtol=1e-6)
    np.testing.assert_allclose(second, a.numpy() * 4, rtol=1e-6)


def test_constants_are_part_of_the_key():
    x = lt.ones(4)
    with lt.deferred():
        values = [(x * k).numpy()[0] for k in (2.0, 3.0, 2.0)]
    assert values == [2.0, 3.0, 2.0]


def test_pending_writes_replay_into_their_targets():
    p = lt.zeros(3)
    g = lt.ones(3)
    with lt.deferred():
        for k in range(4):
            p.add_(g * (k + 1))
            p.realize()
    np.testing.assert_array_equal(p.numpy(), [10.0] * 3)


def _train(make_model, x_shape, steps: int, lr: float, mode: str):
    """Losses and final parameters of `steps` SGD-momentum steps in `mode`
    (in deferred mode, steps 2.. replay the first one's launches)."""
    lt.manual_seed(0)
    model = make_model()
    opt = lt.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    x, y = lt.randn(*x_shape), lt.randint(0, 3, (x_shape[0],))
    losses = []
    lt.set_mode(mode)
    try:
        for _ in range(steps):
            opt.zero_grad()
            loss = lt.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
    finally:
        lt.set_mode("eager")
    return losses, [p.detach().numpy().copy() for p in model.parameters()]


def _assert_deferred_matches_eager(make_model, x_shape, steps, lr, param_rtol):
    eager_losses, eager_params = _train(make_model, x_shape, steps, lr, "eager")
    deferred_losses, deferred_params = _train(make_model, x_shape, steps, lr, "deferred")
    np.testing.assert_allclose(deferred_losses, eager_losses, rtol=1e-5)
    for a, b in zip(eager_params, deferred_params):
        np.testing.assert_allclose(a, b, rtol=param_rtol, atol=1e-6)


def test_a_deferred_training_loop_matches_eager_step_for_step():
    _assert_deferred_matches_eager(
        lambda: lt.nn.Sequential(lt.nn.Linear(8, 16), lt.nn.ReLU(), lt.nn.Linear(16, 3)),
        (12, 8), steps=5, lr=0.1, param_rtol=1e-5)


def test_a_deferred_cnn_step_reusing_earlier_results_matches_eager():
    # Pooling and convolution backward realise parts of the graph early (their
    # scatters), so later realisations read nodes computed before.
    _assert_deferred_matches_eager(
        lambda: lt.nn.Sequential(lt.nn.Conv2d(1, 4, 3, padding=1), lt.nn.ReLU(),
                                 lt.nn.MaxPool2d(2), lt.nn.Flatten(), lt.nn.Linear(4 * 4 * 4, 3)),
        (6, 1, 8, 8), steps=4, lr=0.05, param_rtol=1e-4)


def test_a_deferred_training_step_replays_without_scheduling(monkeypatch):
    # The loss is a pending view (the region's named alias of its result):
    # its base is realised in the same cached schedule.
    from lazyt.engine import realize

    lt.manual_seed(0)
    model = lt.nn.Sequential(lt.nn.Linear(8, 16), lt.nn.ReLU(), lt.nn.Linear(16, 3))
    opt = lt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = lt.randn(5, 8), lt.randint(0, 3, (5,))
    scheduled = []
    original = realize._realize_scheduled
    with lt.deferred():
        for step in range(6):
            if step == 3:
                monkeypatch.setattr(realize, "_realize_scheduled",
                                    lambda *a: scheduled.append(1) or original(*a))
            opt.zero_grad()
            loss = lt.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            loss.item()
    assert scheduled == []
