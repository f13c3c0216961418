"""gradcheck (float64 central differences) over every differentiable op in
tests/autograd/autograd_cases.py, with hypothesis-drawn shapes (broadcasting
included), drawn op parameters and contiguous / transposed / strided inputs."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lazyt as lt
from lazyt.autograd import gradcheck
from tests.autograd.autograd_cases import CASES, draw_values, make_leaf

LAYOUTS = st.sampled_from(["contiguous", "transposed", "strided"])


def _examples() -> int:
    """A few examples per op in CI; HYPOTHESIS_PROFILE=long scales them up."""
    return max(3, settings().max_examples // 8)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_gradcheck_op(case):
    @settings(max_examples=_examples())
    @given(data=st.data())
    def check(data):
        shapes = data.draw(case.shapes, label="shapes")
        params = data.draw(case.params(shapes), label="params") if case.params else {}
        seed = data.draw(st.integers(0, 2**16), label="seed")
        layouts = [data.draw(LAYOUTS, label=f"layout{i}") for i in range(len(shapes))]
        rng = np.random.default_rng(seed)
        domains = case.domains * len(shapes) if len(case.domains) == 1 else case.domains
        inputs = tuple(make_leaf(lt, draw_values(rng, s, d), layout)
                       for s, d, layout in zip(shapes, domains, layouts))
        assert gradcheck(lambda *xs: case.fn(lt, *xs, **params), inputs)

    check()
