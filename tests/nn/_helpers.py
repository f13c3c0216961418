"""Run the same nn code on lazyt and (when installed) PyTorch and compare.

lazyt's nn API is PyTorch's, so one function `fn(m, F, *tensors)` (m the
library, F its nn.functional) runs on both; `run_both` returns, per library,
the output and the gradients of sum(output * upstream) for a fixed random
upstream, and `assert_matches_torch` compares them.
"""

from __future__ import annotations

import numpy as np

import lazyt as lt
import lazyt.nn.functional as F

try:
    import torch
    import torch.nn.functional as TF
except ImportError:  # the oracle is optional; numpy references always run
    torch = None
    TF = None


def _to_numpy(t) -> np.ndarray:
    return np.array(t.detach().double().tolist()) if t.dtype.is_floating_point else \
        np.array(t.detach().tolist())


def run(m, functional, fn, arrays, grads, dtype: str = "float32", seed: int = 0):
    """(output(s) as numpy, [grad or None per input]) of fn on library m."""
    tensors = []
    for array, grad in zip(arrays, grads):
        array = np.asarray(array)
        if array.dtype.kind == "f":
            t = m.tensor(array, dtype=getattr(m, dtype), requires_grad=grad)
        else:
            t = m.tensor(array)
        tensors.append(t)
    out = fn(m, functional, *tensors)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    if any(grads):
        rng = np.random.default_rng(seed)
        loss = None
        for o in outs:
            if not o.dtype.is_floating_point or not o.requires_grad:
                continue
            upstream = m.tensor(rng.standard_normal(tuple(o.shape)), dtype=o.dtype)
            term = (o * upstream).sum()
            loss = term if loss is None else loss + term
        if loss is not None:
            loss.backward()
    values = [_to_numpy(o) for o in outs]
    grads_out = [None if t.grad is None else _to_numpy(t.grad) for t in tensors]
    return values, grads_out


def run_lazyt(fn, arrays, grads=None, dtype: str = "float32"):
    grads = grads if grads is not None else [np.asarray(a).dtype.kind == "f" for a in arrays]
    return run(lt, F, fn, arrays, grads, dtype)


def assert_matches_torch(fn, arrays, grads=None, dtype: str = "float32", atol: float = 1e-5,
                         rtol: float = 1e-4):
    """Forward values and input gradients of fn equal PyTorch's (skipped without torch)."""
    grads = grads if grads is not None else [np.asarray(a).dtype.kind == "f" for a in arrays]
    got_values, got_grads = run(lt, F, fn, arrays, grads, dtype)
    if torch is None:
        return got_values, got_grads
    want_values, want_grads = run(torch, TF, fn, arrays, grads, dtype)
    assert len(got_values) == len(want_values)
    for got, want in zip(got_values, want_values):
        assert got.shape == want.shape, (got.shape, want.shape)
        np.testing.assert_allclose(got, want, atol=atol, rtol=rtol)
    for i, (got, want) in enumerate(zip(got_grads, want_grads)):
        assert (got is None) == (want is None), f"gradient of input {i}: {got} vs {want}"
        if got is not None:
            np.testing.assert_allclose(got, want, atol=atol, rtol=rtol,
                                       err_msg=f"gradient of input {i}")
    return got_values, got_grads


def copy_module_to_torch(lt_module, torch_module) -> None:
    """Copy every parameter and buffer of a lazyt module into the torch twin."""
    state = {k: torch.tensor(np.array(v.detach().tolist()), dtype=getattr(torch, v.dtype.name))
             for k, v in lt_module.state_dict().items()}
    torch_module.load_state_dict(state)
