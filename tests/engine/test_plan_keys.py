"""The plan cache's keys (lazyt/engine/plans.py) do not depend on where a
random draw sits in the stream: a draw repeated at a later offset (a
DataLoader's shuffle every epoch, dropout every step) reuses the cached plan
with its offset argument moved, and draws the numbers a plan lowered for
that offset draws."""

import numpy as np
import pytest

import lazyt as lt
from lazyt.engine import plans


def _draw(deferred: bool) -> list:
    if deferred:
        with lt.deferred():
            return [(lt.rand(6) * 2 + lt.rand(6)).numpy().copy()]
    return [lt.rand(6).numpy().copy(), lt.randperm(5).numpy().copy()]


@pytest.mark.parametrize("deferred", [False, True])
def test_a_repeated_draw_reuses_one_plan_and_draws_fresh_numbers(deferred):
    lt.manual_seed(3)
    _draw(deferred)  # its plans made
    planned = len(plans.PLANS.entries)
    reused = [_draw(deferred) for _ in range(4)]
    assert len(plans.PLANS.entries) == planned, "a draw at a new offset made a new plan"
    lt.manual_seed(3)
    _draw(deferred)
    for got in reused:
        plans.PLANS.clear()  # each plan lowered for its own offset: the reference
        for a, b in zip(got, _draw(deferred)):
            np.testing.assert_array_equal(a, b)
    assert not np.array_equal(reused[0][0], reused[1][0])
