"""The margin, embedding and likelihood losses (lazyt/nn/_functional/margin_loss.py)
and binary_cross_entropy's input check, against PyTorch: values and input
gradients for every reduction, the nn modules, and PyTorch's errors."""

import contextlib

import numpy as np
import pytest

import lazyt as lt
import lazyt.nn.functional as F
from tests.nn._helpers import assert_matches_torch

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(7)
REDUCTIONS = ["none", "mean"]  # 'sum' in the module test (each compiles its kernels)


def randn(*shape):
    return RNG.standard_normal(shape)


def signs(*shape):
    return np.where(RNG.random(shape) < 0.5, -1.0, 1.0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_hinge_soft_margin_and_multilabel_soft_margin_match_torch(reduction):
    x, y = randn(4, 5), signs(4, 5)
    assert_matches_torch(lambda m, nnf, x, y: nnf.hinge_embedding_loss(
        x, y, margin=0.7, reduction=reduction), [x, y], [True, False])
    assert_matches_torch(lambda m, nnf, x, y: nnf.soft_margin_loss(x, y, reduction=reduction),
                         [x, y], [True, False])
    labels = (RNG.random((4, 5)) < 0.5).astype(np.float64)
    assert_matches_torch(lambda m, nnf, x, y, w: nnf.multilabel_soft_margin_loss(
        x, y, weight=w, reduction=reduction), [x, labels, RNG.random(5)], [True, False, True])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cosine_embedding_loss_matches_torch(reduction):
    a, b = randn(6, 4), randn(6, 4)
    assert_matches_torch(lambda m, nnf, a, b, y: nnf.cosine_embedding_loss(
        a, b, y, margin=0.2, reduction=reduction), [a, b, signs(6)], [True, True, False])
    # one pair with a 0-D target
    assert_matches_torch(lambda m, nnf, a, b: nnf.cosine_embedding_loss(
        a, b, m.tensor(-1.0), reduction=reduction), [randn(4), randn(4)])


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multi_margin_loss_matches_torch(p, reduction):
    x, target = randn(5, 4), RNG.integers(0, 4, 5)
    assert_matches_torch(lambda m, nnf, x, t, w: nnf.multi_margin_loss(
        x, t, p=p, margin=0.8, weight=w, reduction=reduction),
        [x, target, RNG.random(4)], [True, False, False])
    # a single sample: 1-D input with a 0-D target gives a 0-D 'none' result
    assert_matches_torch(lambda m, nnf, x: nnf.multi_margin_loss(
        x, m.tensor(2), p=p, reduction=reduction), [randn(4)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_margin_loss_matches_torch(reduction):
    x = randn(3, 5)
    # targets up to the first -1 count; repeated and trailing labels as torch reads them
    target = np.array([[3, 0, -1, 1, 2], [1, 1, 4, -1, -1], [0, 1, 2, 3, 4]])
    assert_matches_torch(lambda m, nnf, x, t: nnf.multilabel_margin_loss(
        x, t, reduction=reduction), [x, target], [True, False])
    assert_matches_torch(lambda m, nnf, x, t: nnf.multilabel_margin_loss(
        x, t, reduction=reduction), [randn(4), np.array([2, -1, 0, 0])], [True, False])


@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_triplet_losses_match_torch(swap, reduction):
    a, p, n = randn(5, 3), randn(5, 3), randn(5, 3)
    assert_matches_torch(lambda m, nnf, a, p, n: nnf.triplet_margin_loss(
        a, p, n, margin=1.5, p=1.0, swap=swap, reduction=reduction), [a, p, n])
    assert_matches_torch(lambda m, nnf, a, p, n: nnf.triplet_margin_with_distance_loss(
        a, p, n, distance_function=lambda x, y: 1.0 - nnf.cosine_similarity(x, y),
        margin=0.5, swap=swap, reduction=reduction), [a, p, n])


@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gaussian_nll_loss_matches_torch(full, reduction):
    x, y = randn(4, 3), randn(4, 3)
    var = np.abs(randn(4, 3)) + 0.1
    var[0, 0] = 1e-9  # clamped at eps; the gradient still passes (as torch's clone+clamp_)
    assert_matches_torch(lambda m, nnf, x, y, v: nnf.gaussian_nll_loss(
        x, y, v, full=full, reduction=reduction), [x, y, var], atol=1e-4)
    # homoscedastic: one variance per sample, broadcast over the last dim
    assert_matches_torch(lambda m, nnf, x, y, v: nnf.gaussian_nll_loss(
        x, y, v, reduction=reduction), [x, y, np.abs(randn(4)) + 0.1])


def test_loss_modules_hold_their_settings_like_torch():
    x, y = randn(4, 5), signs(4, 5)
    pairs = [
        ("HingeEmbeddingLoss", dict(margin=0.5), [x, y]),
        ("SoftMarginLoss", dict(reduction="sum"), [x, y]),
        ("MultiLabelSoftMarginLoss", dict(reduction="none"), [x, (y > 0).astype(np.float64)]),
        ("MultiMarginLoss", dict(p=2, margin=0.5, reduction="sum"), [x, RNG.integers(0, 5, 4)]),
        ("MultiLabelMarginLoss", dict(reduction="sum"), [x, np.array([[1, 2, -1, 0, 0]] * 4)]),
        ("CosineEmbeddingLoss", dict(margin=0.1), [x, randn(4, 5), signs(4)]),
        ("TripletMarginLoss", dict(margin=2.0, swap=True), [x, randn(4, 5), randn(4, 5)]),
        ("TripletMarginWithDistanceLoss", dict(margin=0.3), [x, randn(4, 5), randn(4, 5)]),
        ("GaussianNLLLoss", dict(full=True), [x, randn(4, 5), np.abs(randn(4, 5)) + 0.5]),
    ]
    for name, kwargs, arrays in pairs:
        assert_matches_torch(
            lambda m, nnf, *ts, name=name, kwargs=kwargs: getattr(m.nn, name)(**kwargs)(*ts),
            arrays, [True] + [False] * (len(arrays) - 1))
    assert repr(lt.nn.TripletMarginLoss()) == repr(torch.nn.TripletMarginLoss())


def _torch_error(fn):
    try:
        fn(torch, torch.nn.functional)
    except Exception as error:  # noqa: BLE001 - the oracle's error, whatever it is
        return type(error), str(error)
    raise AssertionError("torch raised nothing")


@pytest.mark.parametrize("case", [
    lambda m, nnf: nnf.multi_margin_loss(m.ones(3, 4), m.tensor([1, 2])),
    lambda m, nnf: nnf.multi_margin_loss(m.ones(3, 4, 2), m.tensor([1, 2, 0])),
    lambda m, nnf: nnf.multi_margin_loss(m.ones(3, 4), m.tensor([1, 2, 3]), weight=m.ones(3)),
    lambda m, nnf: nnf.multi_margin_loss(m.ones(3, 4), m.tensor([1.0, 2.0, 3.0])),
    lambda m, nnf: nnf.multi_margin_loss(m.ones(3, 4), m.tensor([1, 2, 3]), p=3),
    lambda m, nnf: nnf.multilabel_margin_loss(m.ones(3, 4), m.tensor([1, 2, 0])),
    lambda m, nnf: nnf.cosine_embedding_loss(m.ones(3, 4, 2), m.ones(3, 4, 2), m.ones(3)),
    lambda m, nnf: nnf.triplet_margin_loss(m.ones(3, 4), m.ones(4), m.ones(3, 4)),
    lambda m, nnf: nnf.triplet_margin_loss(m.ones(3, 4), m.ones(3, 4), m.ones(3, 4), margin=0.0),
    lambda m, nnf: nnf.gaussian_nll_loss(m.ones(3), m.ones(3), m.ones(2)),
    lambda m, nnf: nnf.gaussian_nll_loss(m.ones(3), m.ones(3), -m.ones(3)),
    lambda m, nnf: nnf.soft_margin_loss(m.ones(3), m.ones(3), reduction="avg"),
])
def test_loss_errors_match_torch(case):
    kind, message = _torch_error(case)
    with pytest.raises(kind) as raised:
        case(lt, F)
    assert str(raised.value) == message


@pytest.mark.parametrize("mode", ["eager", "deferred"])
def test_target_out_of_range_raises_from_the_kernel(mode):
    with lt.deferred() if mode == "deferred" else contextlib.nullcontext():
        with pytest.raises(RuntimeError, match="^target out of range$"):
            F.multi_margin_loss(lt.ones(2, 3), lt.tensor([0, 3])).item()
        with pytest.raises(RuntimeError, match="argument #2 'target' is out of range"):
            F.multilabel_margin_loss(lt.ones(2, 3), lt.tensor([[0, -1, 7], [1, 2, -1]])).item()


@pytest.mark.parametrize("mode", ["eager", "deferred"])
def test_binary_cross_entropy_checks_its_input_range(mode):
    with lt.deferred() if mode == "deferred" else contextlib.nullcontext():
        for bad in (1.5, -0.1, float("nan")):
            with pytest.raises(RuntimeError, match="all elements of input should be between 0 "
                                                   "and 1"):
                F.binary_cross_entropy(lt.tensor([0.5, bad]), lt.tensor([1.0, 0.0])).item()
        # in range: unchanged values and gradients (the check adds a zero)
        assert_matches_torch(lambda m, nnf, p, t: nnf.binary_cross_entropy(p, t),
                             [np.array([0.05, 0.2, 0.9, 0.99]), np.array([0.0, 1.0, 0.0, 1.0])],
                             [True, False])


@pytest.mark.parametrize("reduction", ["none", "mean"])
def test_ctc_loss_matches_torch_including_its_gradient_convention(reduction):
    frames, batch, classes = 8, 3, 5
    logits = randn(frames, batch, classes)
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    targets = RNG.integers(1, classes, (batch, 4))
    # one sample shorter in time, one with an empty target
    assert_matches_torch(lambda m, nnf, lp, t: nnf.ctc_loss(
        lp, t, [8, 6, 5], [4, 2, 0], reduction=reduction, zero_infinity=True),
        [log_probs, targets], [True, False], dtype="float64")
    # concatenated 1-D targets, lengths as tensors, and the module
    flat = np.concatenate([targets[0, :3], targets[1, :2], targets[2, :1]])
    assert_matches_torch(lambda m, nnf, lp, t: m.nn.CTCLoss(blank=0, reduction=reduction)(
        lp, t, m.tensor([8, 8, 7]), m.tensor([3, 2, 1])),
        [log_probs, flat], [True, False], dtype="float64")


def test_ctc_loss_of_an_impossible_alignment_is_inf_or_zero():
    log_probs = lt.zeros(2, 1, 3).log_softmax(2)
    target = lt.tensor([[1, 1]])  # needs 3 frames (a blank between the repeats)
    assert F.ctc_loss(log_probs, target, [2], [2], reduction="sum").item() == float("inf")
    assert F.ctc_loss(log_probs, target, [2], [2], reduction="sum", zero_infinity=True).item() == 0
