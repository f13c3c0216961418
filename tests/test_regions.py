"""Eager regions (lazyt/regions.py): composite ops (linear, cross_entropy,
optimizer updates, gradient rules) run in eager mode as one fused realisation
whose launches later calls replay; their gradients are replayed too."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import lazyt as lt
import lazyt.nn.functional as F
from lazyt import regions
from lazyt.engine.trace import SEEN

try:
    import torch
except ImportError:  # PyTorch is an optional oracle
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed")


def _rand(*shape, seed=0):
    return np.random.RandomState(seed).randn(*shape).astype(np.float32)


def _log_softmax(a):
    shifted = a - a.max(1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(1, keepdims=True))


def test_cross_entropy_replays_with_new_values_and_matches_numpy():
    regions.REGIONS.clear()
    for step in range(4):
        x = lt.tensor(_rand(6, 5, seed=step), requires_grad=True)
        y = lt.tensor(np.random.RandomState(step).randint(0, 5, 6))
        lt.debug.reset_stats()
        loss = F.cross_entropy(x, y)
        loss.backward()
        stats = lt.debug.stats()
        logp = _log_softmax(x.detach().numpy())
        expected = -logp[np.arange(6), y.numpy()].mean()
        np.testing.assert_allclose(loss.item(), expected, rtol=1e-5)
        grad = np.exp(logp)
        grad[np.arange(6), y.numpy()] -= 1
        np.testing.assert_allclose(x.grad.numpy(), grad / 6, rtol=1e-4, atol=1e-6)
        assert loss.grad_fn.name() == "NllLossBackward0"
        if step > 1:  # (a first call runs op by op, the second records) replays:
            # nothing compiled, forward and backward a launch each
            assert stats["kernels_compiled"] == 0
            assert stats["kernel_launches"] <= 3  # (+ the ones of loss.backward())


def test_linear_region_matches_numpy_for_views_and_gradients():
    w = lt.tensor(_rand(4, 3, seed=1), requires_grad=True)
    b = lt.tensor(_rand(4, seed=2), requires_grad=True)
    base = _rand(5, 6, seed=3)
    for _ in range(3):
        x = lt.tensor(base, requires_grad=True)
        view = x[:, ::2]  # a strided input
        out = F.linear(view, w, b)
        np.testing.assert_allclose(out.detach().numpy(),
                                   base[:, ::2] @ w.detach().numpy().T + b.detach().numpy(),
                                   rtol=1e-5, atol=1e-6)
        (out * out).sum().backward()
        g = 2 * out.detach().numpy()
        expected_x = np.zeros_like(base)
        expected_x[:, ::2] = g @ w.detach().numpy()
        np.testing.assert_allclose(x.grad.numpy(), expected_x, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(b.grad.numpy(), g.sum(0), rtol=1e-5, atol=1e-5)
        w.grad, b.grad = None, None
    assert out.grad_fn.name() == "AddmmBackward0"


def test_a_function_reading_a_tensor_it_was_not_given_is_not_replayed():
    held = {"scale": lt.tensor([2.0, 3.0])}

    def scaled(x):
        return x * held["scale"] + 1

    x = lt.ones(2)
    first = regions.run_region("scaled_test", scaled, (x,))
    held["scale"] = lt.tensor([20.0, 30.0])  # a replay would not see this tensor
    second = regions.run_region("scaled_test", scaled, (x,))
    assert first.tolist() == [3.0, 4.0]
    assert second.tolist() == [21.0, 31.0]


def test_in_place_writes_replay_and_bump_versions():
    def update(p, g):
        p.sub_(g * 0.5)

    p, g = lt.zeros(3), lt.ones(3)
    for step in range(1, 4):
        version = p._version
        regions.run_region("update_test", update, (p, g), (0.5,))
        assert p.tolist() == [-0.5 * step] * 3
        assert p._version > version


def test_replayed_backward_checks_versions_of_the_tensors_it_reads_only():
    w = lt.randn(5, 3, requires_grad=True)
    for _ in range(2):
        # grad of w reads only the input: changing w afterwards is allowed (as in PyTorch)
        x = lt.randn(2, 3)
        out = F.linear(x, w)
        with lt.no_grad():
            w.add_(1)
        out.sum().backward()
        np.testing.assert_allclose(w.grad.numpy(), np.tile(x.numpy().sum(0), (5, 1)),
                                   rtol=1e-5, atol=1e-6)
        w.grad = None
        # grad of x reads the weight: now it must raise
        x = lt.randn(2, 3, requires_grad=True)
        weight = lt.randn(5, 3)
        out = F.linear(x, weight)
        weight.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.sum().backward()


def test_out_of_bounds_target_raises_on_the_first_call_and_on_replays():
    x = lt.randn(4, 3, requires_grad=True)
    for targets in ([0, 1, 2, 1], [0, 5, 2, 1], [0, 1, 2, 1], [0, 1, -7, 1]):
        y = lt.tensor(targets)
        if max(targets) < 3 and min(targets) >= 0:
            F.cross_entropy(x, y).backward()
        else:
            with pytest.raises(IndexError, match="Target -?[57] is out of bounds"):
                F.cross_entropy(x, y)


def test_deferred_mode_runs_the_function_into_the_graph():
    x = lt.randn(3, 4)
    w = lt.randn(2, 4)
    with lt.deferred():
        out = F.linear(x, w)
        assert out._node is not None  # still pending: it fuses with what follows
    np.testing.assert_allclose(out.numpy(), x.numpy() @ w.numpy().T, rtol=1e-5, atol=1e-6)


def test_a_const_changing_every_call_stops_being_recorded():
    x = lt.ones(3)
    for step in range(3 * regions.REGIONS.variants_limit):
        out = regions.run_region("shift_test", lambda t, s=step: t + s, (x,), (step,))
        assert out.tolist() == [1.0 + step] * 3
    recorded = [p for sig, p in regions.REGIONS.entries.items() if sig[0] == "shift_test"]
    assert len(recorded) == 1 and len(recorded[0]) == regions.REGIONS.variants_limit


def test_int_and_float_consts_are_different_keys():
    x = lt.tensor([3, 4])
    as_int = regions.run_region("div_test", lambda t, d=2: t // d, (x,), (2,))
    as_float = regions.run_region("div_test", lambda t, d=2.0: t // d, (x,), (2.0,))
    assert as_int.dtype == lt.int64 and as_float.dtype == lt.float32


def test_a_gradient_rule_runs_as_one_region():
    h = lt.randn(8, 16, requires_grad=True)
    for _ in range(3):
        out = h.relu()
        lt.debug.reset_stats()
        out.backward(lt.ones_like(out))
        launches = lt.debug.stats()["kernel_launches"]
        np.testing.assert_array_equal(h.grad.numpy(), (h.detach().numpy() > 0).astype(np.float32))
        h.grad = None
    assert launches <= 2  # the fill of ones and the fused where(out > 0, grad, 0)


@needs_torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("variant", ["plain", "weight", "ignore", "smoothing", "probs"])
def test_cross_entropy_matches_torch_including_gradients(reduction, variant):
    x0 = _rand(7, 4, seed=5)
    y0 = np.array([0, 3, 1, 1, 2, 0, 3])
    kwargs = {}
    if variant == "weight":
        kwargs["weight"] = _rand(4, seed=6) ** 2
    if variant == "ignore":
        kwargs["ignore_index"] = 1
    if variant == "smoothing":
        kwargs["label_smoothing"] = 0.2
    results = []
    for lib in (torch, lt):
        for _ in range(2):  # first call traces, second replays
            x = lib.tensor(x0, requires_grad=True)
            target = lib.tensor(np.abs(_rand(7, 4, seed=7))) if variant == "probs" else \
                lib.tensor(y0)
            kw = {k: lib.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
            loss = lib.nn.functional.cross_entropy(x, target, reduction=reduction, **kw)
            loss.sum().backward()
        results.append((loss.detach().numpy(), x.grad.numpy(), loss.grad_fn.name()))
    (tl, tg, tname), (ll, lg, lname) = results
    np.testing.assert_allclose(ll, tl, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(lg, tg, rtol=1e-4, atol=1e-6)
    assert lname == tname


@needs_torch
def test_double_backward_through_regions_matches_torch():
    results = []
    for lib in (torch, lt):
        x = lib.tensor(_rand(4, 3, seed=8), requires_grad=True)
        w = lib.tensor(_rand(5, 3, seed=9), requires_grad=True)
        y = lib.tensor([0, 4, 2, 1])
        loss = lib.nn.functional.cross_entropy(lib.nn.functional.linear(x, w).tanh(), y)
        (gx,) = lib.autograd.grad(loss, x, create_graph=True)
        (gx ** 2).sum().backward()
        results.append(w.grad.numpy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-4, atol=1e-6)


@needs_torch
@pytest.mark.parametrize("name,kwargs", [
    ("SGD", {"momentum": 0.9}),
    ("SGD", {"momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    ("SGD", {}),
    ("Adam", {}),
    ("Adam", {"amsgrad": True, "weight_decay": 0.01}),
    ("AdamW", {"weight_decay": 0.1, "maximize": True}),
])
def test_optimizer_group_updates_as_regions_match_torch(name, kwargs):
    finals = []
    for lib in (torch, lt):
        w = lib.tensor(_rand(5, 3, seed=10), requires_grad=True)
        b = lib.tensor(_rand(3, seed=11), requires_grad=True)
        x = lib.tensor(_rand(8, 5, seed=12))
        opt = getattr(lib.optim, name)([w, b], lr=0.01, **kwargs)
        for _ in range(12):
            opt.zero_grad()
            ((x @ w + b).tanh() ** 2).sum().backward()
            opt.step()
        finals.append((w.detach().numpy(), b.detach().numpy()))
    for ours, theirs in zip(finals[1], finals[0]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_a_writing_region_keeps_pending_readers_of_its_targets_right():
    def update(p, g):
        p.sub_(g)

    p, g = lt.ones(3), lt.ones(3)
    regions.run_region("sub_test", update, (p, g), writes=True)  # recorded
    unrelated = lt.randn(3)
    with lt.deferred():
        reader = p * 10  # pending: must see p before the next update
        other = unrelated * 2  # pending, reads nothing the update writes
    lt.debug.reset_stats()
    regions.run_region("sub_test", update, (p, g), writes=True)
    assert reader.tolist() == [0.0] * 3 and p.tolist() == [-1.0] * 3
    del reader
    lt.debug.reset_stats()
    regions.run_region("sub_test", update, (p, g), writes=True)
    assert lt.debug.stats()["realizations"] == 0  # replayed, the unrelated one pending
    assert p.tolist() == [-2.0] * 3 and other._node is not None


@needs_torch
@pytest.mark.parametrize("kwargs", [dict(padding=1), dict(stride=2, groups=2),
                                    dict(padding=1, dilation=2, bias=False)], ids=str)
def test_conv_and_max_pool_regions_replay_and_match_torch(kwargs):
    kwargs = dict(kwargs)
    with_bias = kwargs.pop("bias", True)
    results = {}
    for lib in (torch, lt):
        got = []
        for call in range(4):  # op by op, record, then replays on new values
            x = lib.tensor(_rand(2, 4, 7, 7, seed=20 + call), requires_grad=True)
            w = lib.tensor(_rand(6, 4 // kwargs.get("groups", 1), 3, 3, seed=30),
                           requires_grad=True)
            b = lib.tensor(_rand(6, seed=31), requires_grad=True) if with_bias else None
            if lib is lt:
                lt.debug.reset_stats()
            out = lib.nn.functional.conv2d(x, w, b, **kwargs)
            pooled, indices = lib.nn.functional.max_pool2d(out, 2, return_indices=True)
            (pooled.tanh() * lib.arange(pooled.shape[-1])).sum().backward()
            if lib is lt and call > 1:
                assert lt.debug.stats()["kernels_compiled"] == 0
            got.append((pooled.detach().numpy(), indices.numpy(), x.grad.numpy(),
                        w.grad.numpy(), None if b is None else b.grad.numpy(),
                        out.grad_fn.name()))
        results[lib.__name__] = got
    for theirs, ours in zip(results["torch"], results["lazyt"]):
        np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(ours[1], theirs[1])
        for a, b in zip(ours[2:5], theirs[2:5]):
            if b is not None:
                np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
        assert ours[5] == theirs[5]


def test_first_calls_run_op_by_op_with_the_same_grad_fn_and_gradients():
    w = lt.randn(4, 3, requires_grad=True)
    grads, names = [], []
    for _call in range(4):  # op by op, record, replay, replay
        x = lt.tensor(_rand(5, 3, seed=40), requires_grad=True)
        out = F.linear(x, w)
        (out ** 2).sum().backward()
        grads.append((x.grad.numpy(), w.grad.numpy().copy()))
        names.append(out.grad_fn.name())
        w.grad = None
    assert names == ["MmBackward0"] * 4
    for x_grad, w_grad in grads[1:]:
        np.testing.assert_allclose(x_grad, grads[0][0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(w_grad, grads[0][1], rtol=1e-5, atol=1e-6)


def test_a_shape_seen_once_is_not_recorded():
    w = lt.randn(4, 3)
    for batch in (11, 12, 13):
        F.linear(lt.randn(batch, 3), w)
    entries = [programs for sig, programs in regions.REGIONS.entries.items()
               if sig[0] == ("linear", (True, True, False))  # (no bias given)
               and sig[3].shape[0] in (11, 12, 13)]
    assert len(entries) == 3
    assert all(entry is SEEN for programs in entries for entry in programs.values())


@needs_torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_and_max_pool1d_regions_match_torch_on_every_call(reduction):
    weight = _rand(5, seed=50) ** 2
    for call in range(4):
        results = []
        for lib in (torch, lt):
            x = lib.tensor(_rand(6, 5, 8, seed=60 + call), requires_grad=True)
            pooled = lib.nn.functional.max_pool1d(x, 3, stride=2, padding=1)
            logp = lib.nn.functional.log_softmax(pooled, 1)
            target = lib.tensor(np.random.RandomState(call).randint(0, 5, (6, 4)))
            loss = lib.nn.functional.nll_loss(logp, target, weight=lib.tensor(weight),
                                              ignore_index=2, reduction=reduction)
            loss.sum().backward()
            results.append((loss.detach().numpy(), x.grad.numpy()))
        np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-4, atol=1e-6)


@needs_torch
@pytest.mark.parametrize("affine", ["none", "weight", "bias", "both"])
def test_layer_norm_and_softmax_regions_match_torch_on_every_call(affine):
    for call in range(4):
        results = []
        for lib in (torch, lt):
            x = lib.tensor(_rand(4, 3, 6, seed=70 + call), requires_grad=True)
            w = lib.tensor(_rand(3, 6, seed=71), requires_grad=True)
            b = lib.tensor(_rand(3, 6, seed=72), requires_grad=True)
            weight = w if affine in ("weight", "both") else None
            bias = b if affine in ("bias", "both") else None
            out = lib.nn.functional.layer_norm(x, (3, 6), weight, bias, eps=1e-3)
            probs = lib.softmax(out, -1)
            (probs * lib.arange(6)).sum().backward()
            results.append([out.detach().numpy(), x.grad.numpy(), out.grad_fn.name()] +
                           [t.grad.numpy() for t in (weight, bias) if t is not None])
        ours, theirs = results[1], results[0]
        assert ours[2] == theirs[2]
        for a, b in zip(ours[:2] + ours[3:], theirs[:2] + theirs[3:]):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@needs_torch
def test_max_pool_gradient_through_saved_indices_matches_torch_twice_over():
    # Overlapping windows with padding (gradients add up), ties, and a double
    # backward through the scatter of the gradient.
    base = np.round(np.random.RandomState(3).randn(2, 3, 7, 7), 1).astype(np.float32)
    for call in range(3):
        results = []
        for lib in (torch, lt):
            x = lib.tensor(base + call, requires_grad=True)
            out = lib.nn.functional.max_pool2d(x, 3, stride=2, padding=1)
            (g,) = lib.autograd.grad((out ** 2).sum(), x, create_graph=True)
            (g * x).sum().backward()
            results.append((g.detach().numpy(), x.grad.numpy(), out.grad_fn.name()))
        np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-5, atol=1e-5)
        assert results[1][2] == results[0][2]


@needs_torch
@pytest.mark.parametrize("name,kwargs", [
    ("gelu", {}), ("gelu", {"approximate": "tanh"}), ("silu", {}), ("mish", {}),
    ("softplus", {"beta": 2.0, "threshold": 5.0}), ("logsigmoid", {}),
])
def test_activation_regions_match_torch_on_every_call(name, kwargs):
    base = _rand(5, 7, seed=80) * 3
    for call in range(4):
        results = []
        for lib in (torch, lt):
            x = lib.tensor(base + call, requires_grad=True)
            y = getattr(lib.nn.functional, name)(x, **kwargs)
            (y * lib.arange(7)).sum().backward()
            results.append((y.detach().numpy(), x.grad.numpy(), y.grad_fn.name()))
        np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-4, atol=1e-5)
        assert results[1][2] == results[0][2]


@needs_torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("extra", [(), ("weight",), ("pos_weight",), ("weight", "pos_weight")],
                         ids=str)
def test_bce_with_logits_and_mse_regions_match_torch_on_every_call(reduction, extra):
    rng = np.random.RandomState(81)
    target = (rng.rand(6, 4) > 0.5).astype(np.float32)
    arrays = {"weight": rng.rand(6, 4).astype(np.float32),
              "pos_weight": rng.rand(4).astype(np.float32) * 2}
    for call in range(4):
        results = []
        for lib in (torch, lt):
            x = lib.tensor(_rand(6, 4, seed=82 + call) * 3, requires_grad=True)
            kw = {k: lib.tensor(arrays[k]) for k in extra}
            loss = lib.nn.functional.binary_cross_entropy_with_logits(
                x, lib.tensor(target), reduction=reduction, **kw)
            mse = lib.nn.functional.mse_loss(x, lib.tensor(target), reduction=reduction)
            (loss.sum() + mse.sum()).backward()
            results.append((loss.detach().numpy(), mse.detach().numpy(), x.grad.numpy(),
                            loss.grad_fn.name(), mse.grad_fn.name()))
        for ours, theirs in zip(results[1][:3], results[0][:3]):
            np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)
        assert results[1][3:] == results[0][3:]


@needs_torch
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("track", [True, False])
def test_batch_norm_regions_match_torch_and_update_running_stats_once(affine, track):
    weight = np.random.RandomState(90).rand(3).astype(np.float32) + 0.5
    results = []
    for lib in (torch, lt):
        bn = lib.nn.BatchNorm2d(3, affine=affine, track_running_stats=track)
        if affine:
            with lib.no_grad():
                bn.weight.copy_(lib.tensor(weight))
                bn.bias.copy_(lib.tensor(np.arange(3, dtype=np.float32)))
        got = []
        for call in range(4):  # op by op, record, replays: running stats move once per call
            x = lib.tensor(_rand(4, 3, 5, 5, seed=91 + call), requires_grad=True)
            y = bn(x)
            (y * lib.arange(5)).sum().backward()
            got += [y.detach().numpy(), x.grad.numpy()]
            if track:
                got += [bn.running_mean.numpy().copy(), bn.running_var.numpy().copy()]
        bn.eval()
        for _ in range(3):
            x = lib.tensor(_rand(2, 3, 5, 5, seed=99), requires_grad=True)
            y = bn(x)
            y.sum().backward()
        got += [y.detach().numpy(), x.grad.numpy(), y.grad_fn.name()]
        if affine:
            got += [bn.weight.grad.numpy(), bn.bias.grad.numpy()]
        results.append(got)
    for ours, theirs in zip(results[1], results[0]):
        if isinstance(theirs, str):
            assert ours == theirs
        else:
            np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)


@needs_torch
def test_region_inputs_computed_from_each_other_get_partial_gradients():
    """linear(h, w) with h computed from w (a recurrence, tied weights): on
    the first call (op by op), the recording call and replays, w's gradient
    counts the path through h once, first and second order."""
    results = []
    for lib in (torch, lt):
        w = lib.tensor(_rand(3, 3, seed=21), requires_grad=True)
        x = lib.tensor(_rand(2, 3, seed=22), requires_grad=True)
        steps = []
        for _ in range(4):
            h = lib.nn.functional.linear(x, w).tanh()
            for _ in range(3):
                h = lib.nn.functional.linear(h, w, w[0]).tanh()
            (gw,) = lib.autograd.grad((h * w[1]).sum(), w, create_graph=True)
            w.grad = x.grad = None
            (gw ** 2 + gw).sum().backward()
            steps.append([gw.detach().numpy(), w.grad.numpy(), x.grad.numpy()])
        results.append(steps)
    for want, got in zip(*results):
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)


@needs_torch
def test_deferred_named_region_frees_its_inner_graph_unless_retained():
    """In deferred mode a named region (mse_loss) runs op by op behind one
    grad_fn: without retain_graph its inner graph is freed by the backward
    (a second one raises PyTorch's error); with it, backward runs twice."""
    def inner_nodes(loss):
        order = lt.autograd.engine.topological_order([loss.grad_fn.inner[0].grad_fn])
        return [node for node in order if hasattr(node, "freed")]

    want = None
    for lib in (torch, lt):
        y_pred = lib.tensor(_rand(5, 3, seed=31), requires_grad=True)
        target = lib.tensor(_rand(5, 3, seed=32))
        loss = lib.nn.functional.mse_loss(y_pred * 2, target, reduction="sum")
        loss.backward(retain_graph=True)
        loss.backward()
        if lib is torch:
            want = y_pred.grad.numpy()
            continue
        np.testing.assert_allclose(y_pred.grad.numpy(), want, rtol=1e-6)
    with lt.deferred():
        y_pred = lt.tensor(_rand(5, 3, seed=31), requires_grad=True)
        target = lt.tensor(_rand(5, 3, seed=32))
        loss = F.mse_loss(y_pred * 2, target, reduction="sum")
        assert type(loss.grad_fn).__name__ == "MseLossBackward0"
        nodes = inner_nodes(loss)
        assert nodes and not any(node.freed for node in nodes)
        loss.backward(retain_graph=True)
        assert not any(node.freed for node in nodes)
        loss.backward()
        assert all(node.freed for node in nodes)
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            loss.backward()
    np.testing.assert_allclose(y_pred.grad.numpy(), want, rtol=1e-6)


def test_a_loss_kept_after_backward_does_not_keep_the_activations():
    # As PyTorch frees a node's saved tensors at backward: a region's node
    # (first call op by op, then recorded, then replayed) lets go of its
    # inputs. In deferred mode the op-by-op graph ran on aliases of them: its
    # edges to those are cut too (a compiled step stored activations that
    # nothing read any more).
    model = lt.nn.Sequential(lt.nn.Linear(8, 16), lt.nn.ReLU(), lt.nn.Linear(16, 4))
    x, y = lt.randn(5, 8), lt.randint(0, 4, (5,))
    for mode in ("eager", "eager", "eager", "deferred"):
        with lt.deferred() if mode == "deferred" else lt.enable_grad():
            hidden = model[1](model[0](x))
            logits = model[2](hidden)
            loss = lt.nn.functional.cross_entropy(logits, y)
            refs = [weakref.ref(hidden), weakref.ref(logits)]
            del hidden, logits
            loss.backward()
            gc.collect()
            assert [r() for r in refs] == [None, None], mode
            assert loss.grad_fn is not None


def test_a_region_that_reads_values_is_never_replayed():
    # w[t] with a 0-d index tensor reads t's value into Python: a replay would
    # reuse the index of the recorded call.
    from lazyt.regions import run_region

    w = lt.arange(10.0)
    got = [run_region("reads_values", lambda w, t: w[t] * 1.0, (w, lt.tensor(t)), ()).item()
           for t in (1, 3, 1, 5, 1)]
    assert got == [1.0, 3.0, 1.0, 5.0, 1.0]
