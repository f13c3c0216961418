"""Every nn layer against PyTorch with the same weights copied over: forward
values, input gradients and parameter gradients; reprs; default
initialisation bounds (checked without torch too)."""

import math

import numpy as np
import pytest

import lazyt as lt
import lazyt.nn as nn
from tests.nn._helpers import copy_module_to_torch, torch

RNG = np.random.default_rng(99)

# (constructor(nn), input shape(s), input kind): the constructor runs with
# lazyt.nn and torch.nn alike.
LAYERS = [
    ("Linear", lambda nn: nn.Linear(5, 3), [(4, 5)]),
    ("LinearNoBias", lambda nn: nn.Linear(5, 3, bias=False), [(2, 3, 5)]),
    ("Bilinear", lambda nn: nn.Bilinear(3, 4, 2), [(5, 3), (5, 4)]),
    ("Identity", lambda nn: nn.Identity(7, unused=True), [(2, 3)]),
    ("Conv1d", lambda nn: nn.Conv1d(3, 4, 3, stride=2, padding=1), [(2, 3, 9)]),
    ("Conv2d", lambda nn: nn.Conv2d(2, 4, 3, padding=1), [(2, 2, 6, 5)]),
    ("Conv2dGroups", lambda nn: nn.Conv2d(4, 6, (3, 2), stride=(2, 1), groups=2, bias=False),
     [(2, 4, 7, 6)]),
    ("Conv2dSame", lambda nn: nn.Conv2d(2, 3, 4, padding="same", dilation=2), [(1, 2, 9, 9)]),
    ("Conv2dReflect", lambda nn: nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"),
     [(2, 2, 5, 5)]),
    ("Conv2dCircular", lambda nn: nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode="circular"),
     [(2, 2, 5, 6)]),
    ("Conv3d", lambda nn: nn.Conv3d(2, 2, 2, padding=1), [(1, 2, 3, 4, 3)]),
    ("MaxPool2d", lambda nn: nn.MaxPool2d(2), [(2, 3, 6, 6)]),
    ("MaxPool2dPad", lambda nn: nn.MaxPool2d(3, 2, 1, ceil_mode=True), [(2, 3, 7, 7)]),
    ("MaxPool1d", lambda nn: nn.MaxPool1d(3, 2), [(2, 3, 9)]),
    ("AvgPool2d", lambda nn: nn.AvgPool2d(3, 2, 1, count_include_pad=False), [(2, 3, 7, 6)]),
    ("AvgPool1d", lambda nn: nn.AvgPool1d(2), [(2, 3, 8)]),
    ("AdaptiveAvgPool2d", lambda nn: nn.AdaptiveAvgPool2d((3, 2)), [(2, 3, 7, 6)]),
    ("AdaptiveAvgPool1d", lambda nn: nn.AdaptiveAvgPool1d(1), [(2, 3, 7)]),
    ("AdaptiveMaxPool2d", lambda nn: nn.AdaptiveMaxPool2d(2), [(2, 3, 6, 4)]),
    ("BatchNorm1d", lambda nn: nn.BatchNorm1d(4), [(6, 4)]),
    ("BatchNorm1d3D", lambda nn: nn.BatchNorm1d(3, momentum=None), [(4, 3, 5)]),
    ("BatchNorm2d", lambda nn: nn.BatchNorm2d(3, affine=False), [(2, 3, 4, 4)]),
    ("InstanceNorm2d", lambda nn: nn.InstanceNorm2d(3, affine=True), [(2, 3, 4, 4)]),
    ("LayerNorm", lambda nn: nn.LayerNorm(5), [(3, 5)]),
    ("LayerNorm2", lambda nn: nn.LayerNorm([3, 4], elementwise_affine=False), [(2, 3, 4)]),
    ("GroupNorm", lambda nn: nn.GroupNorm(2, 4), [(3, 4, 5)]),
    ("RMSNorm", lambda nn: nn.RMSNorm(4, eps=1e-6), [(3, 4)]),
    ("LocalResponseNorm", lambda nn: nn.LocalResponseNorm(3), [(2, 5, 3)]),
    ("Embedding", lambda nn: nn.Embedding(10, 4, padding_idx=1), ["index"]),
    ("Flatten", lambda nn: nn.Flatten(), [(2, 3, 4)]),
    ("Unflatten", lambda nn: nn.Unflatten(1, (2, 3)), [(4, 6)]),
    ("ReLU", lambda nn: nn.ReLU(), [(3, 4)]),
    ("ReLU6", lambda nn: nn.ReLU6(), [(3, 4)]),
    ("LeakyReLU", lambda nn: nn.LeakyReLU(0.2), [(3, 4)]),
    ("PReLU", lambda nn: nn.PReLU(3), [(2, 3, 4)]),
    ("ELU", lambda nn: nn.ELU(0.5), [(3, 4)]),
    ("CELU", lambda nn: nn.CELU(1.5), [(3, 4)]),
    ("SELU", lambda nn: nn.SELU(), [(3, 4)]),
    ("GELU", lambda nn: nn.GELU(), [(3, 4)]),
    ("GELUTanh", lambda nn: nn.GELU("tanh"), [(3, 4)]),
    ("SiLU", lambda nn: nn.SiLU(), [(3, 4)]),
    ("Mish", lambda nn: nn.Mish(), [(3, 4)]),
    ("Tanh", lambda nn: nn.Tanh(), [(3, 4)]),
    ("Sigmoid", lambda nn: nn.Sigmoid(), [(3, 4)]),
    ("Hardtanh", lambda nn: nn.Hardtanh(-0.5, 0.5), [(3, 4)]),
    ("Hardswish", lambda nn: nn.Hardswish(), [(3, 4)]),
    ("Hardsigmoid", lambda nn: nn.Hardsigmoid(), [(3, 4)]),
    ("Softplus", lambda nn: nn.Softplus(2.0), [(3, 4)]),
    ("Softsign", lambda nn: nn.Softsign(), [(3, 4)]),
    ("LogSigmoid", lambda nn: nn.LogSigmoid(), [(3, 4)]),
    ("Softmax", lambda nn: nn.Softmax(dim=1), [(3, 4)]),
    ("LogSoftmax", lambda nn: nn.LogSoftmax(dim=-1), [(3, 4)]),
    ("Softmin", lambda nn: nn.Softmin(dim=0), [(3, 4)]),
    ("GLU", lambda nn: nn.GLU(), [(3, 4)]),
    ("Threshold", lambda nn: nn.Threshold(0.2, -1.0), [(3, 4)]),
    ("Softshrink", lambda nn: nn.Softshrink(0.3), [(3, 4)]),
    ("Hardshrink", lambda nn: nn.Hardshrink(), [(3, 4)]),
    ("Tanhshrink", lambda nn: nn.Tanhshrink(), [(3, 4)]),
    ("ZeroPad2d", lambda nn: nn.ZeroPad2d((1, 0, 2, 1)), [(1, 2, 3, 3)]),
    ("ConstantPad1d", lambda nn: nn.ConstantPad1d(2, 3.5), [(2, 3, 4)]),
    ("ReflectionPad2d", lambda nn: nn.ReflectionPad2d(1), [(1, 2, 3, 4)]),
    ("ReplicationPad1d", lambda nn: nn.ReplicationPad1d((2, 1)), [(2, 3, 4)]),
    ("CosineSimilarity", lambda nn: nn.CosineSimilarity(dim=1), [(3, 4), (3, 4)]),
    ("PairwiseDistance", lambda nn: nn.PairwiseDistance(), [(3, 4), (3, 4)]),
    ("Sequential", lambda nn: nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.MaxPool2d(2),
                                            nn.Flatten(), nn.Linear(12, 2)), [(2, 1, 6, 6)]),
]

LOSSES = [
    ("CrossEntropyLoss", lambda nn, w: nn.CrossEntropyLoss(weight=w, label_smoothing=0.1),
     "classes"),
    ("CrossEntropyLossIgnore", lambda nn, w: nn.CrossEntropyLoss(ignore_index=0,
                                                                 reduction="sum"), "classes"),
    ("NLLLoss", lambda nn, w: nn.NLLLoss(weight=w), "classes"),
    ("MSELoss", lambda nn, w: nn.MSELoss(), "values"),
    ("L1Loss", lambda nn, w: nn.L1Loss(reduction="sum"), "values"),
    ("SmoothL1Loss", lambda nn, w: nn.SmoothL1Loss(beta=0.5), "values"),
    ("HuberLoss", lambda nn, w: nn.HuberLoss(delta=0.5), "values"),
    ("BCELoss", lambda nn, w: nn.BCELoss(), "probabilities"),
    ("BCEWithLogitsLoss", lambda nn, w: nn.BCEWithLogitsLoss(pos_weight=w), "probabilities"),
    ("KLDivLoss", lambda nn, w: nn.KLDivLoss(reduction="batchmean"), "probabilities"),
]


def _inputs(m, shapes):
    out = []
    for shape in shapes:
        if shape == "index":
            out.append(m.tensor(np.array([[1, 3, 9], [0, 1, 1]])))
        else:
            array = np.random.default_rng(len(out) + 7).standard_normal(shape)
            out.append(m.tensor(array, dtype=m.float32, requires_grad=True))
    return out


def _numpy(t):
    return np.array(t.detach().double().tolist())


def _forward_backward(m, module, shapes):
    inputs = _inputs(m, shapes)
    out = module(*inputs)
    upstream = m.tensor(np.random.default_rng(3).standard_normal(tuple(out.shape)),
                        dtype=m.float32)
    (out * upstream).sum().backward()
    grads = {name: _numpy(p.grad) for name, p in module.named_parameters()
             if p.grad is not None}
    input_grads = [_numpy(t.grad) for t in inputs if t.grad is not None]
    buffers = {name: _numpy(b) for name, b in module.named_buffers()}
    return _numpy(out), input_grads, grads, buffers


@pytest.mark.parametrize("name,make,shapes", LAYERS, ids=[case[0] for case in LAYERS])
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_layer_matches_torch_with_copied_weights(name, make, shapes, training):
    module = make(nn).train(training)
    if torch is None:
        assert np.all(np.isfinite(_forward_backward(lt, module, shapes)[0]))
        return
    twin = make(torch.nn).train(training)
    copy_module_to_torch(module, twin)
    got = _forward_backward(lt, module, shapes)
    want = _forward_backward(torch, twin, shapes)
    np.testing.assert_allclose(got[0], want[0], atol=1e-5, rtol=1e-4)
    assert len(got[1]) == len(want[1])
    for g, w in zip(got[1], want[1]):
        np.testing.assert_allclose(g, w, atol=1e-5, rtol=1e-4)
    assert got[2].keys() == want[2].keys()
    for key in got[2]:
        np.testing.assert_allclose(got[2][key], want[2][key], atol=1e-4, rtol=1e-4,
                                   err_msg=key)
    assert got[3].keys() == want[3].keys()
    for key in want[3]:
        np.testing.assert_allclose(got[3][key], want[3][key], atol=1e-5, rtol=1e-4,
                                   err_msg=key)


@pytest.mark.parametrize("name,make,kind", LOSSES, ids=[case[0] for case in LOSSES])
def test_loss_module_matches_torch(name, make, kind):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 4))
    if kind == "classes":
        target = rng.integers(0, 4, 6)
    elif kind == "probabilities":
        x = 1 / (1 + np.exp(-x))
        target = rng.uniform(0, 1, (6, 4))
    else:
        target = rng.standard_normal((6, 4))
    weight = rng.uniform(0.5, 2.0, 4)
    results = []
    for m in (lt, torch) if torch is not None else (lt,):
        module = make(m.nn, m.tensor(weight, dtype=m.float32))
        xt = m.tensor(x, dtype=m.float32, requires_grad=True)
        inp = xt.log() if name == "KLDivLoss" else xt
        tt = m.tensor(target) if kind == "classes" else m.tensor(target, dtype=m.float32)
        loss = module(inp, tt)
        loss.backward()
        results.append((loss.item(), _numpy(xt.grad)))
    assert math.isfinite(results[0][0])
    if len(results) == 2:
        assert results[0][0] == pytest.approx(results[1][0], rel=1e-5, abs=1e-6)
        np.testing.assert_allclose(results[0][1], results[1][1], atol=1e-6, rtol=1e-4)


REPR_CASES = [make for _, make, _ in LAYERS] + [
    lambda nn: nn.ReLU(inplace=True), lambda nn: nn.Dropout(0.2), lambda nn: nn.Dropout2d(),
    lambda nn: nn.AlphaDropout(0.1), lambda nn: nn.BatchNorm2d(3, momentum=None),
    lambda nn: nn.Conv2d(2, 4, (3, 5), stride=2, padding=1, groups=2, bias=False,
                         padding_mode="reflect"),
    lambda nn: nn.Conv1d(2, 3, 3, padding="same", dilation=2),
    lambda nn: nn.Embedding(10, 3, padding_idx=0, max_norm=1.0),
    lambda nn: nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.ReLU()]),
    lambda nn: nn.ModuleDict({"a": nn.ReLU(), "b": nn.Sequential(nn.Tanh())}),
    lambda nn: nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU(), nn.Linear(3, 1))),
    lambda nn: nn.CrossEntropyLoss(), lambda nn: nn.LeakyReLU(0.2, True),
    lambda nn: nn.Hardtanh(-2.0, 2.0, True), lambda nn: nn.ELU(inplace=True),
    lambda nn: nn.AdaptiveMaxPool2d(3), lambda nn: nn.MaxPool1d(3, 2, 1),
]


@pytest.mark.parametrize("make", REPR_CASES)
def test_repr_matches_torch(make):
    if torch is None:
        pytest.skip("torch not installed")
    assert repr(make(nn)) == repr(make(torch.nn))


@pytest.mark.parametrize("make,fan_in", [
    (lambda: nn.Linear(20, 30), 20),
    (lambda: nn.Conv2d(4, 8, 3), 36),
    (lambda: nn.Conv1d(6, 3, 5, groups=3), 10),
    (lambda: nn.Bilinear(7, 3, 5), 7),
])
def test_default_initialisation_bounds_are_pytorchs(make, fan_in):
    lt.manual_seed(0)
    module = make()
    bound = 1 / math.sqrt(fan_in)
    for name, param in module.named_parameters():
        values = np.array(param.detach().tolist())
        assert values.max() <= bound + 1e-7 and values.min() >= -bound - 1e-7, name
        if values.size >= 20:  # uniform over the whole interval, not a narrower one
            assert values.max() > 0.7 * bound and values.min() < -0.7 * bound, name


def test_norm_and_embedding_initialisation():
    bn = nn.BatchNorm2d(3)
    assert bn.weight.tolist() == [1.0] * 3 and bn.bias.tolist() == [0.0] * 3
    assert bn.running_mean.tolist() == [0.0] * 3 and bn.running_var.tolist() == [1.0] * 3
    assert bn.num_batches_tracked.dtype == lt.int64 and bn.num_batches_tracked.item() == 0
    lt.manual_seed(0)
    emb = nn.Embedding(400, 50, padding_idx=3)
    values = np.array(emb.weight.detach().tolist())
    assert abs(values.std() - 1.0) < 0.05 and np.all(values[3] == 0)


def test_dropout_module_respects_train_and_eval():
    drop = nn.Dropout(0.5)
    x = lt.ones(1000)
    assert (drop(x) == 0).any()
    drop.eval()
    assert drop(x) is x
    with pytest.raises(ValueError):
        nn.Dropout(2.0)


def test_batchnorm_eval_uses_running_stats_and_counts_batches():
    bn = nn.BatchNorm1d(2, momentum=None)
    for i in range(3):
        bn(lt.tensor([[1.0, 2.0], [3.0, 6.0]]) * (i + 1))
    assert bn.num_batches_tracked.item() == 3
    # momentum=None: cumulative average of the batch means 2, 4, 6 and 4, 8, 12.
    assert bn.running_mean.tolist() == pytest.approx([4.0, 8.0])
    bn.eval()
    out = bn(lt.tensor([[4.0, 8.0]]))
    assert out.tolist()[0] == pytest.approx([0.0, 0.0], abs=1e-6)
    with pytest.raises(ValueError, match="expected 2D or 3D"):
        bn(lt.ones(1, 2, 3, 4))


def test_conv_module_argument_errors():
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="strided"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")


def test_deferred_mode_gives_the_eager_forward_and_gradients():
    def run(deferred: bool):
        lt.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                              nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16, 3))
        x = lt.tensor(np.random.default_rng(0).standard_normal((5, 1, 4, 4)), dtype=lt.float32)
        target = lt.tensor([0, 1, 2, 1, 0])
        if deferred:
            with lt.deferred():
                loss = nn.functional.cross_entropy(model(x), target)
                loss.backward()
                lt.realize(loss, *[p.grad for p in model.parameters()])
        else:
            loss = nn.functional.cross_entropy(model(x), target)
            loss.backward()
        return loss.item(), [np.array(p.grad.tolist()) for p in model.parameters()]

    eager_loss, eager_grads = run(False)
    deferred_loss, deferred_grads = run(True)
    assert deferred_loss == pytest.approx(eager_loss, rel=1e-5)
    for a, b in zip(eager_grads, deferred_grads):
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-4)
