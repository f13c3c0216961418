"""PyTorch's memory-overlap errors for writes (elementwise.check_overlap):
a written tensor whose elements share memory (an expanded view), or an input
overlapping the written tensor in part, raises PyTorch's RuntimeError in
every mode; full overlap (the same tensor), disjoint views and views PyTorch
cannot judge (not dense) are computed, as PyTorch computes them."""

from __future__ import annotations

import numpy as np
import pytest

import lazyt as lt

torch = pytest.importorskip("torch")


def _grid(m):
    return m.arange(12.0).reshape(3, 4)


CASES = {
    "transposed copy_": lambda m: (lambda c: c.reshape(4, 3).t().copy_(c))(_grid(m)),
    "transposed square add_": lambda m: (lambda c: c.t().add_(c))(m.arange(9.0).reshape(3, 3)),
    "shifted copy_": lambda m: (lambda f: f[1:].copy_(f[:-1]))(m.arange(8.0)),
    "shifted mul_": lambda m: (lambda f: f[:-2].mul_(f[2:]))(m.arange(8.0)),
    "out= transposed": lambda m: (lambda c: m.mul(c, 2, out=c.t()))(m.arange(9.0).reshape(3, 3)),
    "expanded add_": lambda m: m.zeros(3).expand(3, 3).add_(1),
    "expanded copy_": lambda m: m.zeros(3).expand(2, 3).copy_(m.ones(2, 3)),
    # computed: the same tensor, disjoint rows, views that are not dense
    "self add_": lambda m: (lambda c: c.add_(c))(_grid(m)),
    "self copy_": lambda m: (lambda c: c.copy_(c))(_grid(m)),
    "disjoint rows": lambda m: (lambda c: (c[0].copy_(c[1]), c)[1])(_grid(m)),
    "column from row": lambda m: (lambda c: (c[:, 0].add_(c[0, :3]), c)[1])(_grid(m)),
    "out= same tensor": lambda m: (lambda c: m.mul(c, 2, out=c))(_grid(m)),
    "expanded fill_": lambda m: (lambda z: (z.expand(3, 3).fill_(2), z)[1])(m.zeros(3)),
}


def _outcome(module, case):
    try:
        result = CASES[case](module)
    except RuntimeError as error:
        return "error", str(error)
    return "value", np.asarray(result.tolist())


@pytest.mark.parametrize("mode", ["eager", "deferred"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_overlapping_writes_as_pytorch(case, mode):
    want = _outcome(torch, case)
    lt.set_mode(mode)
    try:
        got = _outcome(lt, case)
    finally:
        lt.set_mode("eager")
    assert got[0] == want[0], (got, want)
    if want[0] == "error":
        assert got[1] == want[1]
    else:
        np.testing.assert_array_equal(got[1], want[1])
