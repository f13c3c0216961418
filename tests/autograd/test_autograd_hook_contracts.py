"""The recording contract other modules use (lazyt/autograd/grad_mode.py):
rules that exist for ops whose callers record them by name. These tests call
the hooks the way an op module does, so the rules are ready when it does."""

import numpy as np

import lazyt as lt
from lazyt.autograd import grad_mode, gradcheck, gradgradcheck
from lazyt.ir.view import View


def leaf(values):
    return lt.tensor(values, dtype=lt.float64, requires_grad=True)


def windows(x, size):
    """Overlapping sliding windows over a 1-D tensor: a strided view ("as_strided")."""
    count = x.shape[0] - size + 1
    return x._with_view(View((count, size), (1, 1), x._view.offset), "as_strided")


def test_overlapping_strided_view_sums_gradients_into_the_base():
    x = leaf([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    w = windows(x, 3)
    assert w.grad_fn.name() == "AsStridedBackward0"
    w.sum().backward()
    np.testing.assert_allclose(x.grad.tolist(), [1, 2, 3, 3, 2, 1])
    assert gradcheck(lambda t: (windows(t, 3) ** 2).sum(1), (leaf([0.1, 0.5, -0.3, 0.8, 0.2]),))
    assert gradgradcheck(lambda t: (windows(t, 2) ** 3).sum(1), (leaf([0.1, 0.5, -0.3, 0.8]),))


def test_strided_view_of_a_transposed_base():
    def diagonal_band(t):
        base = t.t()  # storage strides (1, 3)
        return base._with_view(View((2, 2), (1, 3), 1), "as_strided") * 3

    assert gradcheck(diagonal_band, (leaf([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]),))


def _index_put(target, index, value, accumulate=False):
    """What indexing.index_put would do around its write (see the report of issue 3)."""
    snapshot = grad_mode.snapshot_for_inplace(target, "index_put", (value,))
    with lt.no_grad():
        target.index_put_(index, value, accumulate=accumulate)
    grad_mode.record_inplace("index_put", target, (value, index, accumulate), snapshot)
    return target


def test_index_put_rule():
    def put(x, v):
        return _index_put(x * 2, (lt.tensor([0, 2]),), v * 1.5)

    def put_add(x, v):
        return _index_put(x * 2, (lt.tensor([0, 0]),), v * 1.5, accumulate=True)

    assert gradcheck(put, (leaf([1.0, 2.0, 3.0]), leaf([4.0, 5.0])))
    assert gradcheck(put_add, (leaf([1.0, 2.0, 3.0]), leaf([4.0, 5.0])))


def _scatter_inplace(target, dim, index, src, op):
    snapshot = grad_mode.snapshot_for_inplace(target, op, (src,))
    with lt.no_grad():
        if op == "scatter":
            target.scatter_(dim, index, src)
        else:
            target.scatter_add_(dim, index, src)
    grad_mode.record_inplace(op, target, (src, dim, index), snapshot)
    return target


def test_inplace_scatter_rules():
    index = lt.tensor([[1, 0], [0, 1]])

    def scatter(x, s):
        return _scatter_inplace(x * 1.0, 0, index, s * 2, "scatter")

    def scatter_add(x, s):
        return _scatter_inplace(x * 1.0, 0, index, s * 2, "scatter_add")

    values = ([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], [[0.5, -1.0], [2.0, 0.3]])
    assert gradcheck(scatter, tuple(leaf(v) for v in values))
    assert gradcheck(scatter_add, tuple(leaf(v) for v in values))


def _norm2(x, dim=None, keepdim=False):
    """What reductions.norm would do for p=2 (see the report of issue 3)."""
    axes = tuple(range(x.ndim)) if dim is None else (dim % x.ndim,)
    with lt.no_grad():
        out = (x * x).sum(dim=axes, keepdim=keepdim).sqrt()
    grad_mode.record("norm2", out, (x,), axes=axes, keepdim=keepdim)
    return out


def test_norm2_rule_is_zero_at_zero_like_pytorch():
    x = leaf([[0.0, 0.0], [3.0, 4.0]])
    _norm2(x, dim=1).sum().backward()
    np.testing.assert_allclose(x.grad.tolist(), [[0.0, 0.0], [0.6, 0.8]])
    assert gradcheck(lambda t: _norm2(t, 0, True), (leaf([[0.3, -0.2], [0.5, 0.9]]),))
