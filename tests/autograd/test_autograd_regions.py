"""Gradient rules as eager regions (lazyt/regions.py): a rule's first call runs
op by op, the second records its fused launches, later ones replay them. All
three must give deferred mode's gradients, for every op of the autograd table."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.autograd.autograd_cases import CASES, draw_values
from tests.autograd.test_autograd_deferred import _grads, draw_inputs


@pytest.mark.parametrize("case", [pytest.param(case, id=case.name) for case in CASES])
def test_recorded_and_replayed_gradient_rules_match_deferred_mode(case):
    @settings(max_examples=1, deadline=None)
    @given(data=st.data())
    def check(data):
        shapes, params, layouts, domains = draw_inputs(data, case)
        for call in range(3):  # op by op, recorded, replayed: new values each time
            rng = np.random.default_rng(call)
            values = [draw_values(rng, s, d) for s, d in zip(shapes, domains)]
            eager = _grads(case, values, layouts, params, "eager")
            deferred = _grads(case, values, layouts, params, "deferred")
            for g_eager, g_deferred in zip(eager, deferred):
                assert (g_eager is None) == (g_deferred is None), f"call {call}"
                if g_eager is not None:
                    np.testing.assert_allclose(g_eager, g_deferred, rtol=1e-10, atol=1e-10,
                                               err_msg=f"call {call}")

    check()
