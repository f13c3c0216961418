"""lazyt.nn.functional against numpy references (always) and PyTorch (when
installed): forward values, input gradients, errors; gradcheck on float64."""

import math

import numpy as np
import pytest

import lazyt as lt
import lazyt.nn.functional as F
from lazyt.autograd import gradcheck
from tests.nn import _reference as ref
from tests.nn._helpers import assert_matches_torch, run_lazyt, torch

RNG = np.random.default_rng(1234)


def randn(*shape):
    return RNG.standard_normal(shape)


def close(got, want, atol=1e-5, rtol=1e-4):
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), want, atol=atol, rtol=rtol)


# ------------------------------------------------------------- activations
@pytest.mark.parametrize("name", sorted(ref.ACTIVATIONS))
def test_activation_matches_reference_and_torch(name):
    x = randn(3, 7) * 3
    values, _ = assert_matches_torch(lambda m, nnf, x: getattr(nnf, name)(x), [x])
    close(values[0], ref.ACTIVATIONS[name](x), atol=1e-5)


def test_gelu_tanh_approximation_and_bad_argument():
    x = randn(4, 5)
    values, _ = assert_matches_torch(lambda m, nnf, x: nnf.gelu(x, approximate="tanh"), [x])
    close(values[0], ref.gelu(x, "tanh"))
    with pytest.raises(RuntimeError, match="approximate"):
        F.gelu(lt.ones(2), approximate="fast")


def test_softplus_is_finite_for_large_inputs_with_sigmoid_gradient():
    x = lt.tensor([-100.0, -3.0, 0.0, 3.0, 50.0, 100.0], requires_grad=True)
    y = F.softplus(x)
    y.sum().backward()
    assert bool(y.isfinite().all())
    close(x.grad.tolist(), 1 / (1 + np.exp(-np.array([-100.0, -3.0, 0.0, 3.0, 50.0, 100.0]))),
          atol=1e-6)
    assert_matches_torch(lambda m, nnf, x: nnf.softplus(x, beta=2.0, threshold=5.0), [randn(9) * 4])


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_family_matches_reference(dim):
    x = randn(3, 4, 5)
    values, _ = assert_matches_torch(
        lambda m, nnf, x: (nnf.softmax(x, dim), nnf.log_softmax(x, dim), nnf.softmin(x, dim)), [x])
    close(values[0], ref.softmax(x, dim))
    close(values[1], ref.log_softmax(x, dim))
    close(values[2], ref.softmax(-x, dim))


def test_inplace_activations_write_the_input():
    x = lt.tensor([-1.0, 2.0])
    assert F.relu(x, inplace=True) is x
    assert x.tolist() == [0.0, 2.0]
    y = lt.tensor([-1.0, 2.0])
    F.leaky_relu(y, 0.5, inplace=True)
    assert y.tolist() == [-0.5, 2.0]


def test_glu_prelu_style_ops_match_torch():
    assert_matches_torch(lambda m, nnf, x: nnf.glu(x, 1), [randn(2, 6)])
    assert_matches_torch(lambda m, nnf, x: nnf.hardtanh(x, -0.5, 0.7), [randn(10)])
    assert_matches_torch(lambda m, nnf, x: nnf.elu(x, alpha=0.7), [randn(10)])
    assert_matches_torch(lambda m, nnf, x: nnf.threshold(x, 0.1, 20.0), [randn(10)])


# ------------------------------------------------------------- convolution
CONV2D_CASES = [
    dict(),
    dict(padding=1),
    dict(stride=2, padding=1),
    dict(stride=(2, 1), padding=(0, 2)),
    dict(dilation=2, padding=2),
    dict(padding="same"),
    dict(padding="same", dilation=(1, 2)),
    dict(padding="valid", groups=2),
    dict(groups=4, padding=1),
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # torch's own note
@pytest.mark.parametrize("kwargs", CONV2D_CASES, ids=str)
def test_conv2d_matches_reference_and_torch(kwargs):
    groups = kwargs.get("groups", 1)
    x, w, b = randn(2, 4, 7, 6), randn(8, 4 // groups, 3, 2), randn(8)
    values, _ = assert_matches_torch(lambda m, nnf, x, w, b: nnf.conv2d(x, w, b, **kwargs),
                                     [x, w, b], atol=1e-4)
    close(values[0], ref.conv(x, w, b, **kwargs), atol=1e-4)


@pytest.mark.parametrize("kwargs", [dict(), dict(stride=2, padding=1), dict(dilation=3),
                                    dict(padding="same", groups=3)], ids=str)
def test_conv1d_matches_reference_and_torch(kwargs):
    groups = kwargs.get("groups", 1)
    x, w = randn(2, 3, 11), randn(6, 3 // groups, 3)
    values, _ = assert_matches_torch(lambda m, nnf, x, w: nnf.conv1d(x, w, None, **kwargs), [x, w],
                                     atol=1e-4)
    close(values[0], ref.conv(x, w, None, **kwargs), atol=1e-4)


def test_conv3d_and_unbatched_conv2d():
    x, w = randn(1, 2, 4, 5, 3), randn(3, 2, 2, 2, 2)
    values, _ = assert_matches_torch(lambda m, nnf, x, w: nnf.conv3d(x, w, padding=1), [x, w],
                                     atol=1e-4)
    close(values[0], ref.conv(x, w, padding=1), atol=1e-4)
    x2 = randn(3, 5, 5)
    values, _ = assert_matches_torch(lambda m, nnf, x, w: nnf.conv2d(x, w), [x2, randn(2, 3, 3, 3)],
                                     atol=1e-4)
    assert values[0].shape == (2, 3, 3)


def test_conv2d_gradients_pass_gradcheck():
    x = lt.tensor(randn(1, 2, 4, 4), dtype=lt.float64, requires_grad=True)
    w = lt.tensor(randn(3, 2, 3, 3), dtype=lt.float64, requires_grad=True)
    b = lt.tensor(randn(3), dtype=lt.float64, requires_grad=True)
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), (x, w, b))


def test_conv_errors_name_the_shapes():
    x = lt.randn(2, 4, 8, 8)
    with pytest.raises(RuntimeError, match=r"expected input\[2, 4, 8, 8\] to have 3 channels"):
        F.conv2d(x, lt.randn(5, 3, 3, 3))
    with pytest.raises(RuntimeError, match="Kernel size can't be greater"):
        F.conv2d(x, lt.randn(5, 4, 9, 9))
    # (F.conv2d raises RuntimeError here, nn.Conv2d ValueError, as PyTorch)
    with pytest.raises(RuntimeError, match="strided"):
        F.conv2d(x, lt.randn(5, 4, 3, 3), stride=2, padding="same")
    with pytest.raises(RuntimeError, match="4D"):
        F.conv2d(lt.randn(4, 8), lt.randn(5, 4, 3, 3))
    with pytest.raises(RuntimeError, match="divisible"):
        F.conv2d(x, lt.randn(5, 2, 3, 3), groups=2)


def test_unfold_is_im2col():
    x = randn(2, 3, 5, 4)
    values, _ = assert_matches_torch(
        lambda m, nnf, x: nnf.unfold(x, (2, 3), padding=1, stride=(2, 1)), [x])
    w = randn(4, 3, 2, 3)
    conv = ref.conv(x, w, None, stride=(2, 1), padding=1)
    assert np.allclose((w.reshape(4, -1) @ values[0]).reshape(conv.shape), conv, atol=1e-5)


# ----------------------------------------------------------------- pooling
MAX_POOL_CASES = [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                  dict(kernel_size=3, stride=2, ceil_mode=True), dict(kernel_size=2, dilation=2),
                  dict(kernel_size=(2, 3), stride=(1, 2))]


@pytest.mark.parametrize("kwargs", MAX_POOL_CASES, ids=str)
def test_max_pool2d_matches_reference_and_torch(kwargs):
    x = randn(2, 3, 7, 8)
    values, _ = assert_matches_torch(lambda m, nnf, x: nnf.max_pool2d(x, **kwargs), [x])
    close(values[0], ref.max_pool(x, **kwargs))


def test_max_pool_returns_torch_indices_and_sends_gradient_to_one_tie():
    x = randn(2, 2, 6, 6)
    assert_matches_torch(
        lambda m, nnf, x: nnf.max_pool2d(x, 3, 2, 1, return_indices=True), [x])
    ties = lt.zeros(1, 1, 2, 2, requires_grad=True)
    F.max_pool2d(ties, 2).sum().backward()
    assert sorted(ties.grad.reshape(-1).tolist()) == [0.0, 0.0, 0.0, 1.0]


AVG_POOL_CASES = [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                  dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
                  dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                       count_include_pad=False),
                  dict(kernel_size=2, divisor_override=3), dict(kernel_size=(3, 2), stride=1)]


@pytest.mark.parametrize("kwargs", AVG_POOL_CASES, ids=str)
def test_avg_pool2d_matches_reference_and_torch(kwargs):
    x = randn(2, 3, 8, 7)
    values, _ = assert_matches_torch(lambda m, nnf, x: nnf.avg_pool2d(x, **kwargs), [x])
    close(values[0], ref.avg_pool(x, **kwargs))


def test_pool1d_variants_match_torch():
    x = randn(2, 3, 9)
    values, _ = assert_matches_torch(lambda m, nnf, x: nnf.max_pool1d(x, 3, 2, 1), [x])
    close(values[0], ref.max_pool(x, 3, 2, 1))
    values, _ = assert_matches_torch(lambda m, nnf, x: nnf.avg_pool1d(x, 4, 2), [x])
    close(values[0], ref.avg_pool(x, 4, 2))
    values, _ = assert_matches_torch(lambda m, nnf, x: nnf.adaptive_avg_pool1d(x, 4), [x])
    close(values[0], ref.adaptive_avg_pool(x, 4))


@pytest.mark.parametrize("size", [1, (1, 1), 3, (2, None), (4, 7), (5, 3)], ids=str)
def test_adaptive_avg_pool2d_matches_reference_and_torch(size):
    x = randn(2, 3, 8, 7)
    values, _ = assert_matches_torch(lambda m, nnf, x: nnf.adaptive_avg_pool2d(x, size), [x])
    close(values[0], ref.adaptive_avg_pool(x, size))


def test_adaptive_max_pool2d_matches_torch():
    assert_matches_torch(lambda m, nnf, x: nnf.adaptive_max_pool2d(x, 2), [randn(2, 2, 6, 4)])
    assert_matches_torch(lambda m, nnf, x: nnf.adaptive_max_pool2d(x, 3), [randn(1, 2, 7, 5)])


def test_pool_errors():
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        F.max_pool2d(lt.randn(1, 1, 4, 4), 2, padding=2)
    with pytest.raises(RuntimeError, match="Output size is too small"):
        F.avg_pool2d(lt.randn(1, 1, 2, 2), 3)


# ------------------------------------------------------------------ losses
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("options", [dict(), dict(weight=True), dict(ignore_index=1),
                                     dict(label_smoothing=0.2),
                                     dict(weight=True, ignore_index=2, label_smoothing=0.1)],
                         ids=str)
def test_cross_entropy_with_class_indices(reduction, options):
    x, target = randn(6, 4), np.array([0, 1, 2, 3, 1, 2])
    weight = RNG.uniform(0.5, 2.0, 4) if options.get("weight") else None
    kwargs = {k: v for k, v in options.items() if k != "weight"}

    def fn(m, nnf, x, t, *w):
        return nnf.cross_entropy(x, t, weight=w[0] if w else None, reduction=reduction, **kwargs)

    arrays = [x, target] + ([weight] if weight is not None else [])
    values, _ = assert_matches_torch(fn, arrays, [True, False, False][:len(arrays)])
    close(values[0], ref.cross_entropy(x, target, weight, reduction=reduction, **kwargs))


def test_cross_entropy_spatial_probabilities_and_unbatched():
    x, t = randn(2, 3, 4, 5), RNG.integers(0, 3, (2, 4, 5))
    values, _ = assert_matches_torch(lambda m, nnf, x, t: nnf.cross_entropy(x, t), [x, t],
                                     [True, False])
    close(values[0], ref.cross_entropy(x, t))
    probs = ref.softmax(randn(5, 4), 1)
    x = randn(5, 4)
    for smoothing in (0.0, 0.3):
        values, _ = assert_matches_torch(
            lambda m, nnf, x, p, s=smoothing: nnf.cross_entropy(x, p, label_smoothing=s), [x, probs],
            [True, False])
        close(values[0], ref.cross_entropy(x, probs, label_smoothing=smoothing))
    single = randn(4)
    values, _ = assert_matches_torch(lambda m, nnf, x, t: nnf.cross_entropy(x, t),
                                     [single, np.array(2)], [True, False])
    close(values[0], ref.cross_entropy(single, np.array(2)))


def test_nll_loss_matches_reference_and_checks_targets():
    logp = ref.log_softmax(randn(5, 3), 1)
    t = np.array([0, 2, 1, 2, -100])
    for reduction in ("mean", "sum", "none"):
        values, _ = assert_matches_torch(
            lambda m, nnf, x, t, r=reduction: nnf.nll_loss(x, t, reduction=r), [logp, t], [True, False])
        close(values[0], ref.nll_loss(logp, t, reduction=reduction))
    with pytest.raises((RuntimeError, IndexError), match="out of bounds"):
        F.nll_loss(lt.tensor(logp), lt.tensor([0, 1, 2, 3, 0]))
    with pytest.raises(ValueError, match="batch_size"):
        F.cross_entropy(lt.randn(3, 4), lt.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="integer"):
        F.nll_loss(lt.randn(3, 4), lt.tensor([0.0, 1.0, 2.0]))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses(reduction):
    x, y = randn(4, 5), randn(4, 5)
    values, _ = assert_matches_torch(
        lambda m, nnf, x, y: (nnf.mse_loss(x, y, reduction=reduction),
                            nnf.l1_loss(x, y, reduction=reduction),
                            nnf.smooth_l1_loss(x, y, reduction=reduction, beta=0.5),
                            nnf.huber_loss(x, y, reduction=reduction, delta=0.7)), [x, y])
    close(values[0], ref.reduce((x - y) ** 2, reduction))
    close(values[1], ref.reduce(np.abs(x - y), reduction))


def test_weighted_mse_and_l1_follow_torch_2_13():
    x, y, w = randn(3, 4), randn(3, 4), RNG.uniform(0.1, 1.0, (3, 4))
    values, _ = assert_matches_torch(
        lambda m, nnf, x, y, w: (nnf.mse_loss(x, y, weight=w), nnf.l1_loss(x, y, weight=w)),
        [x, y, w], [True, True, False])
    close(values[0], ((x - y) ** 2 * w).sum() / w.sum())


def test_size_mismatch_warns_like_torch():
    with pytest.warns(UserWarning, match="target size"):
        F.mse_loss(lt.randn(3, 1), lt.randn(3))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropy_family(reduction):
    p, t = RNG.uniform(0.05, 0.95, (4, 3)), RNG.uniform(0, 1, (4, 3))
    w, pw = RNG.uniform(0.5, 2, (4, 3)), RNG.uniform(0.5, 2, (3,))
    values, _ = assert_matches_torch(
        lambda m, nnf, p, t, w: nnf.binary_cross_entropy(p, t, w, reduction=reduction),
        [p, t, w], [True, True, False])
    close(values[0], ref.bce(p, t, w, reduction))
    x = randn(4, 3) * 3
    values, _ = assert_matches_torch(
        lambda m, nnf, x, t, w, pw: nnf.binary_cross_entropy_with_logits(
            x, t, w, reduction=reduction, pos_weight=pw), [x, t, w, pw],
        [True, True, False, False])
    close(values[0], ref.bce_with_logits(x, t, w, pw, reduction))


def test_bce_with_logits_is_stable_for_huge_logits():
    x = lt.tensor([-500.0, 500.0], requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, lt.tensor([0.0, 1.0]))
    loss.backward()
    assert loss.item() == 0.0 and x.grad.tolist() == [0.0, 0.0]


def test_kl_div_and_other_losses_match_torch():
    logq, p = ref.log_softmax(randn(3, 4), 1), ref.softmax(randn(3, 4), 1)
    for reduction in ("batchmean", "sum", "none"):
        assert_matches_torch(lambda m, nnf, a, b, r=reduction: nnf.kl_div(a, b, reduction=r),
                             [logq, p], [True, True])
    assert_matches_torch(lambda m, nnf, a, b: nnf.kl_div(a, b, reduction="sum", log_target=True),
                         [logq, np.log(p)], [True, True])
    assert_matches_torch(lambda m, nnf, a, b: nnf.cosine_similarity(a, b, dim=1),
                         [randn(3, 5), randn(3, 5)])
    assert_matches_torch(lambda m, nnf, a, b: nnf.pairwise_distance(a, b), [randn(3, 5), randn(3, 5)])
    assert_matches_torch(lambda m, nnf, a, b: nnf.poisson_nll_loss(a, b), [randn(6), RNG.uniform(
        0, 3, 6)])


def test_loss_reduction_argument_is_checked():
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.mse_loss(lt.ones(2), lt.ones(2), reduction="avg")
    with pytest.warns(UserWarning, match="deprecated"):
        out = F.mse_loss(lt.ones(2), lt.zeros(2), size_average=False)
    assert out.item() == 2.0


# ----------------------------------------------------------- normalisation
def test_layer_norm_matches_reference_and_torch():
    x, w, b = randn(2, 3, 4), randn(3, 4), randn(3, 4)
    values, _ = assert_matches_torch(lambda m, nnf, x, w, b: nnf.layer_norm(x, (3, 4), w, b),
                                     [x, w, b])
    close(values[0], ref.layer_norm(x, (3, 4), w, b))
    with pytest.raises(RuntimeError, match="normalized_shape"):
        F.layer_norm(lt.randn(2, 3), [4])


def test_batch_norm_training_updates_running_stats_like_torch():
    x, w, b = randn(5, 3, 4), randn(3), randn(3)

    def fn(m, nnf, x, w, b):
        mean, var = m.zeros(3), m.ones(3)
        out = nnf.batch_norm(x, mean, var, w, b, training=True, momentum=0.3)
        return out, mean, var

    values, _ = assert_matches_torch(fn, [x, w, b])
    close(values[0], ref.batch_norm_train(x, w, b))
    close(values[1], 0.3 * x.mean((0, 2)))
    close(values[2], 0.7 + 0.3 * x.var((0, 2), ddof=1))
    assert_matches_torch(lambda m, nnf, x, rm, rv: nnf.batch_norm(x, rm, rv, training=False),
                         [x, randn(3), RNG.uniform(0.5, 2, 3)], [True, False, False])


def test_group_instance_rms_norms_match_torch():
    x, w, b = randn(2, 6, 3, 2), randn(6), randn(6)
    values, _ = assert_matches_torch(lambda m, nnf, x, w, b: nnf.group_norm(x, 3, w, b), [x, w, b])
    close(values[0], ref.group_norm(x, 3, w, b))
    assert_matches_torch(lambda m, nnf, x: nnf.instance_norm(x), [randn(2, 3, 5)])
    assert_matches_torch(lambda m, nnf, x, w: nnf.rms_norm(x, (4,), w, eps=1e-6),
                         [randn(3, 4), randn(4)])


def test_normalize_is_finite_at_zero_rows_like_torch():
    x = lt.tensor([[0.0, 0.0], [3.0, 4.0]], requires_grad=True)
    y = F.normalize(x, dim=1)
    y.sum().backward()
    assert y.tolist() == [[0.0, 0.0], pytest.approx([0.6, 0.8])]
    # x / max(||x||, eps): the zero row's gradient is 1/eps, finite (not NaN).
    assert x.grad.tolist()[0] == pytest.approx([1e12, 1e12], rel=1e-5)
    assert_matches_torch(lambda m, nnf, x: nnf.normalize(x, dim=1),
                         [np.array([[0.0, 0.0], [3.0, 4.0]])], rtol=1e-4, atol=1e-3)
    assert_matches_torch(lambda m, nnf, x: nnf.normalize(x, p=1.0, dim=0), [randn(3, 4)])


# ----------------------------------------------------------------- dropout
def test_dropout_zeroes_a_fraction_p_and_rescales():
    lt.manual_seed(0)
    x = lt.ones(200, 100)
    y = F.dropout(x, 0.3)
    values = np.array(y.tolist())
    assert set(np.unique(values).round(5)) <= {0.0, round(1 / 0.7, 5)}
    assert abs((values == 0).mean() - 0.3) < 0.02
    assert F.dropout(x, 0.3, training=False) is x
    assert F.dropout(x, 0.0) is x
    assert F.dropout(x, 1.0).sum().item() == 0.0
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, 1.5)


def test_dropout_is_reproducible_and_dropout2d_drops_whole_channels():
    lt.manual_seed(7)
    a = F.dropout(lt.ones(10, 10)).tolist()
    lt.manual_seed(7)
    assert F.dropout(lt.ones(10, 10)).tolist() == a
    y = np.array(F.dropout2d(lt.ones(4, 8, 3, 3), 0.5).tolist())
    per_channel = y.reshape(4, 8, 9)
    assert np.all(per_channel.min(-1) == per_channel.max(-1))


def test_dropout_gradient_uses_the_same_mask():
    x = lt.ones(50, requires_grad=True)
    y = F.dropout(x, 0.5)
    y.sum().backward()
    assert x.grad.tolist() == y.detach().tolist()


# ------------------------------------------------ embedding, one_hot, pad
def test_embedding_matches_torch_with_padding_idx():
    w, idx = randn(6, 3), np.array([[0, 2, 5], [2, 2, 1]])
    _, grads = assert_matches_torch(lambda m, nnf, i, w: nnf.embedding(i, w, padding_idx=2),
                                    [idx, w], [False, True])
    assert np.all(grads[1][2] == 0)


def test_embedding_max_norm_renormalises_used_rows_like_torch():
    def fn(m, nnf, i, w):
        w = w.detach().clone()
        out = nnf.embedding(i, w, max_norm=1.0)
        return out, w

    w = randn(5, 4) * 3
    values, _ = assert_matches_torch(fn, [np.array([0, 3]), w], [False, False])
    norms = np.linalg.norm(values[1], axis=1)
    assert norms[0] <= 1.0 + 1e-5 and norms[3] <= 1.0 + 1e-5
    assert np.allclose(values[1][1], w[1])


def test_one_hot():
    out = F.one_hot(lt.tensor([0, 2, 1]), 4)
    assert out.dtype == lt.int64 and out.tolist() == np.eye(4, dtype=int)[[0, 2, 1]].tolist()


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_matches_numpy_and_torch(mode):
    x = randn(2, 3, 4, 5)
    values, _ = assert_matches_torch(lambda m, nnf, x: nnf.pad(x, (1, 2, 2, 1), mode=mode), [x])
    np_mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
               "circular": "wrap"}[mode]
    close(values[0], np.pad(x, [(0, 0), (0, 0), (2, 1), (1, 2)], mode=np_mode))


def test_constant_pad_with_value_and_cropping():
    x = randn(3, 4)
    values, _ = assert_matches_torch(lambda m, nnf, x: nnf.pad(x, (-1, 2, 1, 0), value=2.5), [x])
    expected = np.pad(x[:, 1:], [(1, 0), (0, 2)], constant_values=2.5)
    close(values[0], expected)
    with pytest.raises(RuntimeError, match="divisible by 2"):
        F.pad(lt.ones(2), (1,))


# ------------------------------------------------------------------ linear
def test_linear_and_bilinear_match_reference_and_torch():
    x, w, b = randn(4, 3), randn(5, 3), randn(5)
    values, _ = assert_matches_torch(lambda m, nnf, x, w, b: nnf.linear(x, w, b), [x, w, b])
    close(values[0], x @ w.T + b)
    x1, x2, w2 = randn(4, 2), randn(4, 3), randn(5, 2, 3)
    values, _ = assert_matches_torch(lambda m, nnf, a, c, w: nnf.bilinear(a, c, w), [x1, x2, w2])
    close(values[0], np.einsum("ni,oij,nj->no", x1, w2, x2))
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        F.linear(lt.ones(2, 3), lt.ones(4, 5))


def test_functional_ops_pass_gradcheck_in_float64():
    def leaf(*shape):
        return lt.tensor(randn(*shape), dtype=lt.float64, requires_grad=True)

    target = lt.tensor([1, 0, 2])
    checks = [
        (lambda x: F.cross_entropy(x, target, label_smoothing=0.1), (leaf(3, 4),)),
        (lambda x: F.max_pool2d(x, 2, 1), (leaf(1, 1, 3, 3),)),
        (lambda x: F.avg_pool2d(x, 2, 1, 1), (leaf(1, 1, 3, 3),)),
        (lambda x, w, b: F.layer_norm(x, (4,), w, b), (leaf(2, 4), leaf(4), leaf(4))),
        (lambda x: F.gelu(x), (leaf(5),)),
        (lambda x: F.softplus(x), (leaf(5),)),
        (lambda x: F.pad(x, (1, 1), mode="reflect"), (leaf(1, 2, 4),)),
        (lambda x, w: F.conv1d(x, w, padding=1, groups=2), (leaf(1, 2, 5), leaf(4, 1, 3))),
    ]
    for fn, inputs in checks:
        assert gradcheck(fn, inputs)


def test_torch_oracle_available_or_skipped_cleanly():
    if torch is None:
        pytest.skip("torch not installed: numpy references only")
    assert math.isfinite(run_lazyt(lambda m, nnf, x: nnf.relu(x).sum(), [randn(3)])[0][0])
