"""Deferred training loops settle (issue 16): after a few steps every step is
a graph the realisation cache has seen, so nothing is scheduled or compiled
any more, whatever the model (attention, layer norm, GELU) and however
often the loop reads its loss; and the values are eager mode's."""

from __future__ import annotations

import numpy as np
import pytest

import lazyt as lt
import lazyt.nn as nn

VOCAB, SEQ, DIM = 5, 4, 8


class TinyTransformer(nn.Module):
    """One encoder block at toy sizes: self-attention, layer norm, a GELU MLP."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, DIM)
        self.attn = nn.MultiheadAttention(DIM, 2, batch_first=True)
        self.norm1 = nn.LayerNorm(DIM)
        self.ff = nn.Sequential(nn.Linear(DIM, 2 * DIM), nn.GELU(), nn.Linear(2 * DIM, DIM))
        self.norm2 = nn.LayerNorm(DIM)
        self.head = nn.Linear(DIM, VOCAB)

    def forward(self, tokens):
        h = self.embed(tokens)
        attended, _ = self.attn(h, h, h, need_weights=False)
        h = self.norm1(h + attended)
        h = self.norm2(h + self.ff(h))
        return self.head(h)


def _batches(steps: int):
    rng = np.random.default_rng(0)
    digits = rng.integers(0, VOCAB, size=(steps, 3, SEQ))
    return [(lt.tensor(d), lt.tensor(d[:, ::-1].copy())) for d in digits]


def _train(mode: str, steps: int, read_every: int = 1):
    """(losses read, per-step (graphs scheduled, kernels compiled), params)
    of Adam on the tiny transformer in `mode`, reading the loss every
    `read_every` steps."""
    lt.manual_seed(0)
    model = TinyTransformer()
    opt = lt.optim.Adam(model.parameters(), lr=1e-2)
    losses, costs = [], []
    lt.set_mode(mode)
    try:
        for i, (tokens, targets) in enumerate(_batches(steps)):
            before = lt.debug.stats()
            opt.zero_grad()
            logits = model(tokens)
            loss = lt.nn.functional.cross_entropy(logits.reshape(-1, VOCAB), targets.reshape(-1))
            loss.backward()
            opt.step()
            if (i + 1) % read_every == 0:
                losses.append(loss.item())
            after = lt.debug.stats()
            costs.append((after["graphs_scheduled"] - before["graphs_scheduled"],
                          after["kernels_compiled"] - before["kernels_compiled"]))
    finally:
        lt.set_mode("eager")
    return losses, costs, [p.detach().numpy().copy() for p in model.parameters()]


def test_a_deferred_transformer_loop_settles_and_matches_eager():
    steps = 8
    eager_losses, _, eager_params = _train("eager", steps)
    losses, costs, params = _train("deferred", steps)
    # The first steps schedule their graphs (the first one also the
    # optimizer's fresh state); from the fourth on every graph is a replay.
    assert all(cost == (0, 0) for cost in costs[3:]), costs
    np.testing.assert_allclose(losses, eager_losses, rtol=1e-5, atol=1e-6)
    for got, want in zip(params, eager_params):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_how_often_the_loss_is_read_does_not_change_what_is_scheduled():
    steps = 10
    every_step, costs_1, params_1 = _train("deferred", steps, read_every=1)
    every_tenth, costs_10, params_10 = _train("deferred", steps, read_every=10)
    assert every_tenth == [every_step[9]]
    for a, b in zip(params_1, params_10):
        np.testing.assert_array_equal(a, b)
    scheduled_1 = sum(graphs for graphs, _ in costs_1)
    scheduled_10 = sum(graphs for graphs, _ in costs_10)
    assert scheduled_10 <= scheduled_1, (costs_1, costs_10)
    assert all(cost == (0, 0) for cost in costs_10[3:]), costs_10


@pytest.mark.parametrize("optimizer", ["sgd", "adamw"])
def test_an_mlp_loop_schedules_nothing_after_its_first_steps(optimizer):
    lt.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))
    opt = (lt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9) if optimizer == "sgd"
           else lt.optim.AdamW(model.parameters(), lr=1e-2))
    x, y = lt.randn(8, 6), lt.randint(0, 3, (8,))
    scheduled = []
    with lt.deferred():
        for i in range(12):
            before = lt.debug.stats()["graphs_scheduled"]
            opt.zero_grad()
            loss = lt.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            if i % 5 == 4:
                loss.item()
            scheduled.append(lt.debug.stats()["graphs_scheduled"] - before)
    assert sum(scheduled[3:]) == 0, scheduled


def _manual_sgd(mode: str, steps: int, read_every: int):
    """PyTorch's polynomial_autograd loop (parameters updated by hand under
    no_grad after each backward, grads reset to None), reading the loss
    every `read_every` steps: (losses read, the deepest pending parameter
    graph after each step, params)."""
    lt.manual_seed(0)
    x = lt.linspace(-3.0, 3.0, 200)
    y = lt.sin(x)
    params = [lt.randn((), requires_grad=True) for _ in range(4)]
    losses, depths = [], []
    lt.set_mode(mode)
    try:
        for t in range(steps):
            a, b, c, d = params
            loss = (a + b * x + c * x ** 2 + d * x ** 3 - y).pow(2).sum()
            if t % read_every == read_every - 1:
                losses.append(loss.item())
            loss.backward()
            with lt.no_grad():
                for p in params:
                    p -= 2e-5 * p.grad
                    p.grad = None
            depths.append(max(p._node.depth if p._node is not None else 0 for p in params))
    finally:
        lt.set_mode("eager")
    return losses, depths, [p.item() for p in params]


def test_a_loop_updating_parameters_by_hand_is_cut_at_each_step():
    # Each step's update is carried out when the next step writes the same
    # parameter (its pending write predates the backward in between), so the
    # graph never spans steps, whether or not the loop reads its loss.
    eager_losses, _, eager_params = _manual_sgd("eager", 30, 10)
    losses, depths, params = _manual_sgd("deferred", 30, 10)
    assert losses == eager_losses and params == eager_params
    assert max(depths) < 20, depths  # (not growing by a step's depth, 14, each step)
    graphs = lt.debug.stats()["graphs_scheduled"]
    _manual_sgd("deferred", 30, 10)
    assert lt.debug.stats()["graphs_scheduled"] == graphs  # every step a replay


def test_gradients_zeroed_in_place_and_accumulated_stay_one_realisation_per_step(monkeypatch):
    # zero_grad(set_to_none=False) leaves a pending write in each .grad that
    # the next backward accumulates into: only a parameter's own pending
    # write is cut at a backward, so each step is still one realisation.
    import lazyt.realization as realization

    calls = []
    realize = realization.realize_tensors
    monkeypatch.setattr(realization, "realize_tensors",
                        lambda tensors: (calls.append(1), realize(tensors))[1])
    lt.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))
    opt = lt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = lt.randn(8, 6), lt.randint(0, 3, (8,))
    per_step = []
    with lt.deferred():
        for _ in range(6):
            before = len(calls)
            opt.zero_grad(set_to_none=False)
            for _ in range(2):  # gradient accumulation
                lt.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
            per_step.append(len(calls) - before)
    assert per_step == [1] * 6, per_step
