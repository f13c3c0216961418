"""Named regions check the versions of the inputs PyTorch saves (lazyt/regions.py,
SAVED_INPUTS): an input written in place between the forward and the
backward raises PyTorch's "modified by an inplace operation" RuntimeError in
eager mode (a first call run op by op, a recording, a replay), in deferred
mode (pending and realised inputs) and under lt.compile; an input PyTorch
does not save may be written, and the gradient is then PyTorch's."""

from __future__ import annotations

import numpy as np
import pytest

import lazyt as lt
from lazyt import regions

torch = pytest.importorskip("torch")

INPLACE_ERROR = "one of the variables needed for gradient computation has been modified by an " \
                "inplace operation"

# name -> (function of the module's nn.functional and the inputs, number of inputs). The
# first input requires grad; the others are plain.
CASES = {
    "gelu": (lambda nnf, x: nnf.gelu(x), 1),
    "gelu_tanh": (lambda nnf, x: nnf.gelu(x, approximate="tanh"), 1),
    "silu": (lambda nnf, x: nnf.silu(x), 1),
    "mish": (lambda nnf, x: nnf.mish(x), 1),
    "elu": (lambda nnf, x: nnf.elu(x, 0.5), 1),
    "leaky_relu": (lambda nnf, x: nnf.leaky_relu(x, 0.2), 1),
    "hardtanh": (lambda nnf, x: nnf.hardtanh(x, -0.3, 0.6), 1),
    "relu6": (lambda nnf, x: nnf.relu6(x), 1),
    "softplus": (lambda nnf, x: nnf.softplus(x), 1),
    "logsigmoid": (lambda nnf, x: nnf.logsigmoid(x), 1),
    "mse_loss": (lambda nnf, x, t: nnf.mse_loss(x, t), 2),
    "mse_loss_weighted": (lambda nnf, x, t, w: nnf.mse_loss(x, t, weight=w), 3),
    "smooth_l1_loss": (lambda nnf, x, t: nnf.smooth_l1_loss(x, t, beta=0.5), 2),
    "binary_cross_entropy": (lambda nnf, x, t, w: nnf.binary_cross_entropy(x, t, w), 3),
    "bce_with_logits": (lambda nnf, x, t, w, p: nnf.binary_cross_entropy_with_logits(
        x, t, w, pos_weight=p), 4),
    "cross_entropy_probs": (lambda nnf, x, t: nnf.cross_entropy(x, t), 2),
}

# A recorded region's backward recomputes from its inputs, so a replay must
# refuse an input written since, where PyTorch's composite weighted mse_loss
# saved only (input - target) and the weight.
CONSERVATIVE_REPLAYS = {("mse_loss_weighted", 0), ("mse_loss_weighted", 1),
                        ("cross_entropy_probs", 0)}

VALUES = np.array([[0.3, 0.7, 0.2], [0.9, 0.4, 0.6]], dtype=np.float32)


def _outcome(mod, case: str, written: int, run=lambda f: f()):
    """('error', message) or ('grad', values): the case's forward on
    computed copies of the inputs, input `written` halved in place, then the
    gradient of the first input."""
    fn, count = CASES[case]

    def body():
        x = mod.tensor(VALUES, requires_grad=True)
        inputs = [x * 1.0] + [mod.tensor(VALUES + 0.05 * k) * 1.0 for k in range(1, count)]
        out = fn(mod.nn.functional, *inputs)
        with mod.no_grad():
            inputs[written].mul_(0.5)
        (grad,) = mod.autograd.grad(out.sum(), x)
        return grad

    try:
        grad = run(body)
    except RuntimeError as error:
        assert INPLACE_ERROR in str(error), str(error)
        return "error", None
    return "grad", grad.detach().numpy()


def _same(got, want, what):
    assert got[0] == want[0], f"{what}: lazyt gives {got[0]}, PyTorch {want[0]}"
    if want[0] == "grad":
        np.testing.assert_allclose(got[1], want[1], rtol=1e-5, atol=1e-6, err_msg=what)


def _deferred(body):
    with lt.deferred():
        return body().realize()


@pytest.mark.parametrize("case", sorted(CASES))
def test_an_input_written_before_backward_is_caught_as_pytorch_catches_it(case):
    for written in range(CASES[case][1]):
        regions.REGIONS.clear()
        want = _outcome(torch, case, written)
        for call in range(3):  # op by op, recorded, replayed
            got = _outcome(lt, case, written)
            if call and (case, written) in CONSERVATIVE_REPLAYS:
                assert got[0] == "error"
                continue
            _same(got, want, f"{case} input {written}: eager call {call}")
        _same(_outcome(lt, case, written, _deferred), want, f"{case} input {written}: deferred")


@pytest.mark.parametrize("case", ["gelu", "mse_loss", "binary_cross_entropy"])
def test_the_check_holds_under_compile_and_for_a_realised_input_in_deferred_mode(case):
    count = CASES[case][1]
    fn = CASES[case][0]
    for written in range(count):
        want = _outcome(torch, case, written)
        compiled = lt.compile(lambda *inputs, written=written: _write_then_grad(fn, written, *inputs))
        for call in range(3):
            inputs = _inputs(count)
            try:
                got = ("grad", compiled(*inputs).numpy())
            except RuntimeError as error:
                assert INPLACE_ERROR in str(error)
                got = ("error", None)
            _same(got, want, f"{case} input {written}: compiled call {call + 1}")
        inputs = _inputs(count)  # realised before the deferred region
        with lt.deferred():
            try:
                got = ("grad", _write_then_grad(fn, written, *inputs).numpy())
            except RuntimeError as error:
                assert INPLACE_ERROR in str(error)
                got = ("error", None)
        _same(got, want, f"{case} input {written}: deferred, realised inputs")


def _inputs(count):
    return [lt.tensor(VALUES, requires_grad=True)] + [
        lt.tensor(VALUES + 0.05 * k) for k in range(1, count)]


def _write_then_grad(fn, written, x, *rest):
    inputs = [x * 1.0] + [t * 1.0 for t in rest]
    out = fn(lt.nn.functional, *inputs)
    with lt.no_grad():
        inputs[written].mul_(0.5)
    return lt.autograd.grad(out.sum(), x)[0]


def test_the_message_names_the_written_tensor_as_pytorch_does():
    x = lt.tensor(VALUES, requires_grad=True)
    y = x * 2.0
    out = lt.nn.functional.gelu(y)
    y.add_(1.0)
    # (torch 2.13 names the op that last wrote it, by its forward name)
    with pytest.raises(RuntimeError, match=r"\[lazyt.FloatTensor \[2, 3\]\], which is output 0 "
                                           r"of Add, is at version 1; expected version 0"):
        out.sum().backward()
    y = x * 2.0
    out = y.sin()
    with lt.no_grad():
        y.add_(1.0)  # (no new grad_fn: still the product's)
    with pytest.raises(RuntimeError, match=r"which is output 0 of Mul, is at version 1"):
        out.sum().backward()
    out = (x * 2.0).exp()
    out.mul_(2.0)  # exp keeps its result: named by the op that saved it
    with pytest.raises(RuntimeError, match=r"which is output 0 of Exp, is at version 1"):
        out.sum().backward()


@pytest.mark.parametrize("loss", ["nll_loss", "cross_entropy"])
def test_a_class_target_written_before_backward_is_caught_in_every_mode(loss):
    """nll_loss keeps its target (and input), cross_entropy its target: an
    in-place write to the target fails the backward, eagerly (every call)
    and in deferred mode, as in PyTorch."""

    def body(mod):
        x = mod.tensor(VALUES, requires_grad=True)
        target = mod.tensor([0, 2]) + 0
        out = getattr(mod.nn.functional, loss)(x.log_softmax(1) if loss == "nll_loss" else x,
                                               target)
        target.zero_()
        return mod.autograd.grad(out, x)[0]

    with pytest.raises(RuntimeError, match=INPLACE_ERROR):
        body(torch)
    regions.REGIONS.clear()
    for _ in range(3):
        with pytest.raises(RuntimeError, match=INPLACE_ERROR):
            body(lt)
    with lt.deferred(), pytest.raises(RuntimeError, match=INPLACE_ERROR):
        body(lt)
