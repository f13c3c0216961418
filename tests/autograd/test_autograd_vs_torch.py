"""Gradients of every op in tests/autograd/autograd_cases.py compared with
PyTorch's on the same inputs (skipped when torch is not installed)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lazyt as lt
from tests.autograd.autograd_cases import CASES, CASES_BY_NAME, draw_values, make_leaf

torch = pytest.importorskip("torch")

LAYOUTS = st.sampled_from(["contiguous", "transposed", "strided"])


def _examples() -> int:
    return max(3, settings().max_examples // 8)


def _outputs(result) -> list:
    return list(result) if isinstance(result, (tuple, list)) else [result]


def _gradients(m, case, values, layouts, params, dtype_name, weights):
    """Grads of sum(w_k * out_k) w.r.t. every input, as numpy, plus the outputs."""
    inputs = [make_leaf(m, v, layout, dtype_name) for v, layout in zip(values, layouts)]
    outputs = _outputs(case.fn(m, *inputs, **params))
    loss = None
    for out, w in zip(outputs, weights(outputs)):
        term = (out * m.tensor(w, dtype=out.dtype)).sum()
        loss = term if loss is None else loss + term
    loss.backward()
    grads = [None if x.grad is None else np.array(x.grad.double().tolist()) for x in inputs]
    return grads, [np.array(o.detach().double().tolist()) for o in outputs]


@pytest.mark.parametrize("dtype_name", ["float64", "float32"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_gradients_match_torch(case, dtype_name):
    @settings(max_examples=_examples())
    @given(data=st.data())
    def check(data):
        shapes = data.draw(case.shapes, label="shapes")
        params = data.draw(case.params(shapes), label="params") if case.params else {}
        seed = data.draw(st.integers(0, 2**16), label="seed")
        layouts = [data.draw(LAYOUTS, label=f"layout{i}") for i in range(len(shapes))]
        rng = np.random.default_rng(seed)
        domains = case.domains * len(shapes) if len(case.domains) == 1 else case.domains
        values = [draw_values(rng, s, d) for s, d in zip(shapes, domains)]
        weight_rng = np.random.default_rng(seed + 1)
        cache = {}

        def weights(outputs):
            if "w" not in cache:
                cache["w"] = [weight_rng.standard_normal(tuple(o.shape)) for o in outputs]
            return cache["w"]

        want, want_out = _gradients(torch, case, values, layouts, params, dtype_name, weights)
        got, got_out = _gradients(lt, case, values, layouts, params, dtype_name, weights)
        rtol, atol = (1e-9, 1e-11) if dtype_name == "float64" else (2e-4, 2e-5)
        for o_got, o_want in zip(got_out, want_out):
            np.testing.assert_allclose(o_got, o_want, rtol=rtol, atol=atol)
        for i, (g, w) in enumerate(zip(got, want)):
            assert (g is None) == (w is None), f"input {i}: lazyt grad {g}, torch grad {w}"
            if w is not None:
                np.testing.assert_allclose(g, w, rtol=rtol, atol=atol,
                                           err_msg=f"gradient of input {i}")

    check()


# grad_fn names users see in reprs, checked against PyTorch's.
NAMED = {
    "add": "AddBackward0", "mul": "MulBackward0", "div": "DivBackward0", "exp": "ExpBackward0",
    "tanh": "TanhBackward0", "sigmoid": "SigmoidBackward0", "relu": "ReluBackward0",
    "matmul_mm": "MmBackward0", "mm": "MmBackward0", "bmm": "BmmBackward0", "dot": "DotBackward0",
    "mv": "MvBackward0", "transpose": "TransposeBackward0",
    "select": "SelectBackward0", "slice_step": "SliceBackward0", "unsqueeze": "UnsqueezeBackward0",
    "expand": "ExpandBackward0", "flip": "FlipBackward0", "gather": "GatherBackward0",
    "cumsum": "CumsumBackward0", "where": "WhereBackward0", "maximum": "MaximumBackward0",
    "inplace_add": "AddBackward0", "inplace_setitem": "CopySlices", "inplace_copy": "CopyBackwards",
    "index_advanced": "IndexBackward0", "pow": "PowBackward1", "pow_scalar": "PowBackward0",
    "rpow": "PowBackward2",
}


@pytest.mark.parametrize("name", sorted(NAMED))
def test_grad_fn_names_match_torch(name):
    case = CASES_BY_NAME[name]
    shapes = [(2, 3)] * 2 if len(case.domains) == 2 else [(2, 3)]
    if name in ("mm", "matmul_mm", "bmm", "dot", "mv"):
        shapes = {"mm": [(3, 2), (2, 2)], "matmul_mm": [(2, 3), (3, 2)],
                  "bmm": [(2, 2, 3), (2, 3, 2)], "dot": [(3,), (3,)],
                  "mv": [(2, 3), (3,)]}[name]
    if name in ("inplace_setitem",):
        shapes = [(3, 3), (3,)]
    if name in ("inplace_add", "inplace_copy"):
        shapes = [(2, 3), (3,)]
    params = {"dim": 1} if name in ("gather", "cumsum") else {}
    rng = np.random.default_rng(0)
    values = [draw_values(rng, s, "positive") for s in shapes]
    names = []
    for m in (torch, lt):
        inputs = [make_leaf(m, v, "contiguous") for v in values]
        names.append(case.fn(m, *inputs, **params).grad_fn.name().split("::")[-1])
    assert names[1] == names[0] == NAMED[name]
