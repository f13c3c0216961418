"""The backward engine and the autograd API: graph bookkeeping, accumulation,
retain_graph, grad mode, detach, version counters, in-place ops, hooks,
lt.autograd.grad, higher derivatives, custom Functions."""

import contextlib
import math
import sys

import numpy as np
import pytest

import lazyt as lt
from lazyt.autograd import GradcheckError, gradcheck, gradgradcheck


def leaf(values, dtype=lt.float64):
    return lt.tensor(values, dtype=dtype, requires_grad=True)


def values(t):
    return np.array(t.detach().tolist())


# ------------------------------------------------------------------ graph
def test_grad_fn_and_is_leaf_follow_pytorch():
    x = leaf([1.0, 2.0])
    y = x * 2
    assert x.is_leaf and x.grad_fn is None and x.requires_grad
    assert not y.is_leaf and y.requires_grad and y.grad_fn.name() == "MulBackward0"
    (acc, nr), (none, _) = y.grad_fn.next_functions
    assert type(acc).__name__ == "AccumulateGrad" and acc.variable is x and nr == 0
    assert none is None
    assert "grad_fn=<MulBackward0>" in repr(y)
    z = lt.tensor([1.0, 2.0])
    assert (z * 2).grad_fn is None and not (z * 2).requires_grad


def test_non_float_outputs_never_get_grad_fn():
    x = leaf([1.5, -2.0])
    for out in (x > 0, x.argmax(), x.to(lt.int64), x.max(0).indices, lt.isnan(x)):
        assert out.grad_fn is None and not out.requires_grad


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        lt.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        lt.arange(3).requires_grad_()


def test_deep_chain_of_10000_ops_backprops_without_recursion():
    x = leaf([1.0])
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    limit = sys.getrecursionlimit()
    y.sum().backward()
    assert sys.getrecursionlimit() == limit
    np.testing.assert_allclose(values(x.grad), [1.0001 ** 10_000], rtol=1e-9)
    del y  # freeing a 10,000-node graph must not overflow the C stack either


def test_shared_subexpression_gets_the_sum_of_its_paths():
    x = leaf([3.0])
    a = x * x          # used twice below
    y = a * x + a.exp() + a
    y.backward()
    expected = 3 * 9 + 2 * 3 * math.exp(9) + 2 * 3
    np.testing.assert_allclose(values(x.grad), [expected], rtol=1e-12)


# ----------------------------------------------------------- accumulation
def test_grad_accumulates_across_backward_calls():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(values(x.grad), [4.0, 8.0])
    g = x.grad
    (x * 3).sum().backward()
    assert x.grad is g  # accumulated in place, like PyTorch
    np.testing.assert_allclose(values(g), [7.0, 11.0])


def test_grads_of_two_leaves_never_alias():
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (x + y).sum().backward()
    x.grad.add_(10.0)
    np.testing.assert_allclose(values(y.grad), [1.0, 1.0])


def test_user_gradient_is_not_aliased_by_grad():
    x = leaf([1.0, 2.0])
    seed = lt.tensor([1.0, 1.0], dtype=lt.float64)
    (x + 0).backward(seed)
    x.grad.zero_()
    np.testing.assert_allclose(values(seed), [1.0, 1.0])


def test_broadcast_gradient_is_a_dense_tensor_of_the_leaf_shape():
    x = leaf([[1.0], [2.0]])
    x.expand(2, 3).sum().backward()
    assert x.grad.shape == (2, 1) and x.grad.is_contiguous()
    x.grad.zero_()
    np.testing.assert_allclose(values(x.grad), [[0.0], [0.0]])


def test_mixed_dtypes_get_gradients_in_their_own_dtype():
    a = leaf([1.0, 2.0], dtype=lt.float32)
    b = leaf([[3.0], [4.0]], dtype=lt.float64)
    (a * b).sum().backward()
    assert a.grad.dtype == lt.float32 and b.grad.dtype == lt.float64
    np.testing.assert_allclose(values(a.grad), [7.0, 7.0])
    np.testing.assert_allclose(values(b.grad), [[3.0], [3.0]])


def test_manual_training_loop_from_the_issue():
    lt.manual_seed(0)
    weights = lt.randn(256, 4) / math.sqrt(256)
    weights.requires_grad_()
    bias = lt.zeros(4, requires_grad=True)
    x = lt.randn(32, 256)
    target = lt.randn(32, 4)
    lr = 0.05
    losses = []
    for _ in range(5):
        loss = ((x @ weights + bias - target) ** 2).mean()
        loss.backward()
        with lt.no_grad():
            for p in (weights, bias):
                p -= p.grad * lr
                p.grad.zero_()
        losses.append(loss.item())
    assert weights.is_leaf and bias.is_leaf and weights.requires_grad
    assert losses[-1] < losses[0]


# ----------------------------------------------------------- retain_graph
def test_second_backward_through_freed_graph_raises():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(values(x.grad), [4.0, 8.0])


def test_graph_without_saved_tensors_can_be_run_twice():
    x = leaf([1.0, 2.0])
    y = (x + 1).sum()
    y.backward()
    y.backward()  # as in PyTorch: nothing was freed that it needs
    np.testing.assert_allclose(values(x.grad), [2.0, 2.0])


# -------------------------------------------------------------- backward API
def test_non_scalar_backward_needs_a_gradient():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
        (x * 2).backward()
    (x * 2).backward(lt.tensor([1.0, 10.0], dtype=lt.float64))
    np.testing.assert_allclose(values(x.grad), [2.0, 20.0])
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(lt.ones(3, dtype=lt.float64))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        lt.ones(2).sum().backward()


def test_backward_inputs_restricts_accumulation():
    x, y = leaf([1.0]), leaf([2.0])
    (x * y).backward(inputs=[x])
    assert y.grad is None
    np.testing.assert_allclose(values(x.grad), [2.0])


# ------------------------------------------------------------- grad mode
def test_no_grad_enable_grad_and_set_grad_enabled():
    x = leaf([1.0])
    with lt.no_grad():
        assert not lt.is_grad_enabled()
        assert (x * 2).grad_fn is None and not (x * 2).requires_grad
        with lt.enable_grad():
            assert (x * 2).requires_grad
    assert lt.is_grad_enabled()
    with lt.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    lt.set_grad_enabled(False)
    assert not lt.is_grad_enabled()
    lt.set_grad_enabled(True)
    assert (x * 2).requires_grad


def test_grad_mode_decorators():
    x = leaf([1.0])

    @lt.no_grad()
    def doubled(t):
        return t * 2

    @lt.enable_grad()
    def tripled(t):
        return t * 3

    @lt.set_grad_enabled(False)
    def quadrupled(t):
        return t * 4

    assert not doubled(x).requires_grad
    assert not quadrupled(x).requires_grad
    assert lt.is_grad_enabled()
    with lt.no_grad():
        assert tripled(x).requires_grad


# ----------------------------------------------------------------- detach
def test_detach_shares_storage_and_cuts_history():
    x = leaf([1.0, 2.0])
    y = x * 2
    d = y.detach()
    assert d.is_leaf and not d.requires_grad and d.grad_fn is None
    assert d.data_ptr() == y.data_ptr()
    z = y * d  # d is a constant for backward
    z.sum().backward()
    np.testing.assert_allclose(values(x.grad), [4.0, 8.0])
    y.detach_()
    assert y.is_leaf and not y.requires_grad


# -------------------------------------------------------- version counters
def test_modifying_a_saved_tensor_raises_the_pytorch_error():
    x = leaf([1.0, 2.0])
    a = x * 1
    b = a * a  # saves a
    a.add_(1)
    assert a._version == 1
    # (torch 2.13 names the op that last wrote it: add_)
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*output 0 of Add, "
                                           "is at version 1; expected version 0"):
        b.sum().backward()


def test_modifying_a_tensor_through_detach_or_a_view_bumps_the_shared_version():
    x = leaf([1.0, 2.0])
    y = x.exp() + 0
    z = y.sin()  # saves y
    y.detach()[0] = 5.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_modifying_an_unsaved_input_is_fine():
    x = leaf([1.0, 2.0])
    a = x * 1
    b = a.exp()  # saves its output, not a
    a.mul_(3)
    b.sum().backward()
    np.testing.assert_allclose(values(x.grad), np.exp([1.0, 2.0]))


# ---------------------------------------------------------------- in-place
def test_inplace_on_leaf_requiring_grad_raises_unless_no_grad():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.add_(1)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        x[0].mul_(2)
    with lt.no_grad():
        x.add_(1)
        x[0] = 7.0
    np.testing.assert_allclose(values(x), [7.0, 3.0])


def test_inplace_on_non_leaf_is_differentiable():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 2
    y.add_(1)
    assert y.grad_fn.name() == "AddBackward0"
    y.sum().backward()
    np.testing.assert_allclose(values(x.grad), [2.0, 2.0, 2.0])


def test_inplace_mul_keeps_the_old_value_for_the_other_gradient():
    x, w = leaf([1.0, 2.0]), leaf([3.0, 5.0])
    y = x * 2
    y.mul_(w)
    y.sum().backward()
    np.testing.assert_allclose(values(w.grad), [2.0, 4.0])
    np.testing.assert_allclose(values(x.grad), [6.0, 10.0])


def test_inplace_through_a_view_rewrites_the_base_history():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    y = x * 1
    row = y[0]
    row.mul_(10)
    assert y.grad_fn.name() == "CopySlices"
    assert row.grad_fn.name() == "AsStridedBackward0"
    (y * y).sum().backward()
    np.testing.assert_allclose(values(x.grad), [[200.0, 400.0], [6.0, 8.0]])


def test_writing_a_graph_into_a_plain_buffer():
    x = leaf([1.0, 2.0, 3.0])
    buf = lt.zeros(2, 3, dtype=lt.float64)
    buf[0] = x * x
    buf[1].copy_(x.exp())
    assert buf.requires_grad and not buf.is_leaf
    buf.sum().backward()
    np.testing.assert_allclose(values(x.grad), 2 * np.array([1.0, 2.0, 3.0]) + np.exp([1, 2, 3]))


def test_composite_inplace_methods_are_differentiable():
    x = leaf([-2.0, 0.5, 3.0])
    y = x * 1
    y.clamp_(-1, 1)
    y.pow_(2)
    y.sum().backward()
    np.testing.assert_allclose(values(x.grad), [0.0, 1.0, 0.0])


# -------------------------------------------------------- views and shapes
def test_gradients_through_views_land_in_the_base():
    x = leaf(np.arange(12.0).reshape(3, 4))
    parts = [x[::2, 1::2], x[1], x.t()[2], x.reshape(4, 3)[:, :1], x.unsqueeze(0).expand(2, 3, 4),
             x.narrow(1, 1, 2), x.diagonal()]
    sum(p.sum() for p in parts).backward()
    expected = np.zeros((3, 4))
    expected[::2, 1::2] += 1
    expected[1] += 1
    expected[:, 2] += 1
    expected.reshape(4, 3)[:, :1] += 1
    expected += 2
    expected[:, 1:3] += 1
    expected[[0, 1, 2], [0, 1, 2]] += 1
    np.testing.assert_allclose(values(x.grad), expected)


def test_repeated_advanced_indices_accumulate():
    x = leaf([1.0, 2.0, 3.0])
    x[lt.tensor([0, 0, 2, 0])].sum().backward()
    np.testing.assert_allclose(values(x.grad), [3.0, 0.0, 1.0])


# ------------------------------------------------------------ autograd.grad
def test_autograd_grad_returns_gradients_without_touching_grad():
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    out = (x * y).sum()
    gx, gy = lt.autograd.grad(out, (x, y))
    np.testing.assert_allclose(values(gx), [3.0, 4.0])
    np.testing.assert_allclose(values(gy), [1.0, 2.0])
    assert x.grad is None and y.grad is None


def test_autograd_grad_unused_inputs():
    x, unused = leaf([1.0]), leaf([2.0])
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        lt.autograd.grad((x * 2).sum(), [x, unused])
    gx, gu = lt.autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert gu is None
    (gz,) = lt.autograd.grad((x * 2).sum(), [unused], materialize_grads=True)
    np.testing.assert_allclose(values(gz), [0.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        lt.autograd.grad((x * 2).sum(), [lt.ones(1)])


def test_autograd_grad_of_a_non_leaf_input():
    x = leaf([1.0, 2.0])
    h = x * 3
    out = (h * h).sum()
    (gh,) = lt.autograd.grad(out, h)
    np.testing.assert_allclose(values(gh), [6.0, 12.0])


def test_second_derivative_with_create_graph():
    x = leaf([1.0, 2.0])
    (g,) = lt.autograd.grad((x ** 3).sum(), x, create_graph=True)
    assert g.requires_grad
    np.testing.assert_allclose(values(g), [3.0, 12.0])
    g.sum().backward()
    np.testing.assert_allclose(values(x.grad), [6.0, 12.0])


def test_create_graph_through_saved_outputs():
    x = leaf([0.5, -1.0])
    y = x.tanh()
    (g,) = lt.autograd.grad(y.sum(), x, create_graph=True)  # 1 - tanh^2, from the output
    (gg,) = lt.autograd.grad(g.sum(), x)
    t = np.tanh([0.5, -1.0])
    np.testing.assert_allclose(values(gg), -2 * t * (1 - t ** 2), rtol=1e-12)


def _write_through_view(x):
    y = x * x
    y[0].mul_(x[1])
    y.t()[1] = x[0].exp()
    return y


@pytest.mark.parametrize("fn", [
    lambda x: (x * x).tanh(),
    lambda x: x.softmax(-1),
    lambda x: (x @ x.t()).exp(),
    lambda x: x[lt.tensor([0, 0])].sigmoid() * x[1:2],
    lambda x: x.t()[1:].sum(0) ** 3,
    lambda x: x.diagonal().log1p(),
    lambda x: x.amax(-1) * x.prod(),
    lambda x: _write_through_view(x),
], ids=["tanh", "softmax", "matmul", "index", "slice", "diagonal", "amax_prod", "copy_slices"])
def test_gradgradcheck(fn):
    x = leaf(np.array([[0.3, 0.8], [0.6, 0.2]]))
    assert gradgradcheck(fn, (x,))


# ----------------------------------------------------------- retain_grad
def test_retain_grad_keeps_a_non_leaf_gradient():
    x = leaf([1.0, 2.0])
    h = x * 3
    h.retain_grad()
    assert h.retains_grad
    k = x * 4
    (h * h + k).sum().backward()
    np.testing.assert_allclose(values(h.grad), [6.0, 12.0])
    with pytest.warns(UserWarning, match="not a leaf Tensor"):  # (as PyTorch warns)
        assert k.grad is None


def test_retain_grad_follows_an_inplace_update():
    x = leaf([1.0, 2.0])
    h = x * 3
    h.retain_grad()
    h.mul_(2)
    h.sum().backward()
    np.testing.assert_allclose(values(h.grad), [1.0, 1.0])


# ----------------------------------------------------------------- hooks
def test_register_hook_can_replace_gradients():
    x = leaf([1.0, 2.0])
    h = x * 3
    seen = []
    handle = h.register_hook(lambda g: g * 10)
    x.register_hook(lambda g: seen.append(values(g)))
    h.sum().backward()
    np.testing.assert_allclose(values(x.grad), [30.0, 30.0])
    np.testing.assert_allclose(seen[0], [30.0, 30.0])
    handle.remove()
    x.grad = None
    h = x * 3
    h.sum().backward()
    np.testing.assert_allclose(values(x.grad), [3.0, 3.0])


@pytest.mark.parametrize("deferred", [False, True])
def test_node_hooks_retain_grad_and_metadata_match_torch(deferred):
    """A tensor hook replaces the gradient its node receives, retain_grad()
    keeps it, a node's hook sees (grad_inputs, grad_outputs), its metadata
    dict persists; nodes without any have none (made on first use)."""
    torch = pytest.importorskip("torch")
    results = []
    for lib in (torch, lt):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        context = lt.deferred() if deferred and lib is lt else contextlib.nullcontext()
        with context:
            h = x * x
            out = (h * 3).sum()
            seen = []
            handle = h.register_hook(lambda grad: grad * 2)
            h.retain_grad()
            h.grad_fn.register_hook(lambda grad_inputs, grad_outputs, seen=seen: seen.append(
                [g.detach().tolist() for g in grad_inputs]))
            h.grad_fn.metadata["tag"] = "squares"
            assert h.grad_fn.metadata == {"tag": "squares"}
            assert not out.grad_fn.metadata
            out.backward(retain_graph=True)
            first = (x.grad.tolist(), h.grad.tolist())
            handle.remove()
            x.grad = h.grad = None
            out.backward()
        results.append((seen, first, x.grad.tolist(), h.grad.tolist()))
    assert results[1] == results[0]


def _node_hook_outcome(lib, pre=None, post=None):
    x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
    y = (x * x * 3).sum()
    seen = []
    node = y.grad_fn.next_functions[0][0]  # the * 3 node: one input needing grad
    if pre is not None:
        node.register_prehook(lambda grad_outputs: (seen.append(
            [type(grad_outputs).__name__] + [g.tolist() for g in grad_outputs]), pre(grad_outputs))[1])
    if post is not None:
        node.register_hook(lambda grad_inputs, grad_outputs: (seen.append(
            [type(grad_inputs).__name__, type(grad_outputs).__name__]), post(grad_inputs))[1])
    try:
        y.backward()
    except (TypeError, RuntimeError) as error:
        return seen, type(error).__name__, str(error).split("'<lambda>'")[-1]
    return seen, x.grad.tolist()


@pytest.mark.parametrize("case", ["pre none", "pre doubles", "pre tensor", "pre two",
                                  "post none", "post ones", "post list", "post two"])
def test_node_pre_hooks_and_hooks_take_and_return_tuples_as_torch(case):
    torch = pytest.importorskip("torch")
    hooks = {
        "pre none": dict(pre=lambda go: None),
        "pre doubles": dict(pre=lambda go: tuple(g * 2 for g in go)),
        "pre tensor": dict(pre=lambda go: go[0]),
        "pre two": dict(pre=lambda go: go + go),
        "post none": dict(post=lambda gi: None),
        "post ones": dict(post=lambda gi: tuple(g * 0 + 1 for g in gi)),
        "post list": dict(post=lambda gi: list(gi)),
        "post two": dict(post=lambda gi: gi + gi),
    }[case]
    assert _node_hook_outcome(lt, **hooks) == _node_hook_outcome(torch, **hooks)


# -------------------------------------------------------- custom Function
class Cube(lt.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x


class WrongCube(Cube):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 2 * x * x


def test_custom_function():
    x = leaf([1.0, 2.0])
    y = Cube.apply(x)
    assert y.grad_fn.name() == "CubeBackward"
    y.sum().backward()
    np.testing.assert_allclose(values(x.grad), [3.0, 12.0])
    assert gradcheck(Cube.apply, (leaf([0.5, -1.5]),))


def test_gradcheck_reports_a_wrong_gradient():
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradcheck(WrongCube.apply, (leaf([0.5, -1.5]),))
    assert not gradcheck(WrongCube.apply, (leaf([0.5]),), raise_exception=False)


# ---------------------------------------------------------- IR, not numpy
def test_backward_runs_generated_kernels():
    x = leaf(np.linspace(-1, 1, 12).reshape(3, 4))
    w = leaf(np.linspace(0, 1, 8).reshape(4, 2))
    loss = ((x @ w).tanh() * 2).softmax(-1).sum()
    lt.debug.reset_stats()
    loss.backward()
    stats = lt.debug.stats()
    # softmax, tanh, mul and the matmul gradients: each step is a kernel or the BLAS extern.
    assert stats["kernel_launches"] >= 6
    assert stats["extern_calls"] >= 2
