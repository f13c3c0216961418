"""Backward in deferred mode: the same gradients as eager, and the backward
graph stays pending (it is IR, fused when realised) until a value is read."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lazyt as lt
from tests.autograd.autograd_cases import CASES, draw_values, make_leaf


def _grads(case, values, layouts, params, mode: str):
    inputs = [make_leaf(lt, v, layout) for v, layout in zip(values, layouts)]
    previous = lt.get_mode()
    lt.set_mode(mode)
    try:
        outputs = case.fn(lt, *inputs, **params)
        outputs = list(outputs) if isinstance(outputs, (tuple, list)) else [outputs]
        loss = None
        for k, out in enumerate(outputs):
            term = (out * (k + 1.5)).sum()
            loss = term if loss is None else loss + term
        loss.backward()
    finally:
        lt.set_mode(previous)
    return [None if x.grad is None else np.array(x.grad.tolist()) for x in inputs]


def draw_inputs(data, case):
    """(shapes, params, layouts, domains) of one drawn example of a case."""
    shapes = data.draw(case.shapes, label="shapes")
    params = data.draw(case.params(shapes), label="params") if case.params else {}
    layouts = [data.draw(st.sampled_from(["contiguous", "transposed", "strided"]))
               for _ in shapes]
    domains = case.domains * len(shapes) if len(case.domains) == 1 else case.domains
    return shapes, params, layouts, domains


@pytest.mark.parametrize("case", [pytest.param(case, id=case.name) for case in CASES])
def test_deferred_gradients_match_eager(case):
    @settings(max_examples=2)
    @given(data=st.data())
    def check(data):
        shapes, params, layouts, domains = draw_inputs(data, case)
        rng = np.random.default_rng(0)
        values = [draw_values(rng, s, d) for s, d in zip(shapes, domains)]
        eager = _grads(case, values, layouts, params, "eager")
        deferred = _grads(case, values, layouts, params, "deferred")
        for g_eager, g_deferred in zip(eager, deferred):
            assert (g_eager is None) == (g_deferred is None)
            if g_eager is not None:
                np.testing.assert_allclose(g_deferred, g_eager, rtol=1e-12, atol=1e-12)

    check()


def test_backward_graph_stays_pending_until_read():
    x = lt.tensor([0.5, 1.0, 2.0], dtype=lt.float64, requires_grad=True)
    with lt.deferred():
        y = (x.exp() * x).sin().sum()
        assert y._is_pending
        y.backward()
        assert x.grad._is_pending
    v = np.array([0.5, 1.0, 2.0])
    expected = np.cos(np.exp(v) * v) * np.exp(v) * (1 + v)
    np.testing.assert_allclose(x.grad.tolist(), expected, rtol=1e-12)
