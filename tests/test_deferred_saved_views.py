"""Deferred training with the loss never read (issue 13's soak): a saved
pending view of a parameter that has a deferred optimizer write (linear's
weight.t()) is realised as a view of the parameter's storage once the pending
graph passes MAX_PENDING_DEPTH; autograd's version check must compare it with
the parameter's version when saved, not 0 (a false "modified by an inplace
operation" at the fifth step)."""

from __future__ import annotations

import contextlib

import numpy as np

import lazyt as lt
import lazyt.nn as nn


def _train(deferred: bool, steps: int = 8) -> list:
    lt.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 4))
    optimizer = lt.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    x, y = lt.randn(8, 16), lt.randint(0, 4, (8,))
    losses = []
    for _ in range(steps):
        with lt.deferred() if deferred else contextlib.nullcontext():
            loss = nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss)
    return [float(loss) for loss in losses] + [p.detach().numpy() for p in model.parameters()]


def test_deferred_training_without_reading_the_loss_matches_eager():
    eager, deferred = _train(False), _train(True)
    for e, d in zip(eager, deferred):
        np.testing.assert_allclose(d, e, rtol=1e-5, atol=1e-6)
