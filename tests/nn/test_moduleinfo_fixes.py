"""PyTorch behaviours that tests/moduleinfo (torch's module_db as the oracle) found
lazyt missing, pinned without torch: the expected values are PyTorch's documented
results, worked out by hand for these small inputs."""

import math
import pickle

import pytest

import lazyt as lt
import lazyt.nn as nn
import lazyt.nn.functional as F


def test_cross_entropy_with_every_target_ignored_is_nan_with_zero_gradient():
    x = lt.tensor([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]], requires_grad=True)
    loss = nn.CrossEntropyLoss(ignore_index=1)(x, lt.tensor([1, 1]))
    assert math.isnan(loss.item())
    loss.backward()
    assert x.grad.tolist() == [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]


def test_nll_loss_ignored_rows_get_zero_gradient_when_all_are_ignored():
    x = lt.tensor([[-1.0, -2.0], [-0.5, -3.0]], requires_grad=True)
    F.nll_loss(x, lt.tensor([0, 0]), ignore_index=0).backward()
    assert x.grad.tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_kl_div_is_xlogy_so_negative_or_nan_targets_give_nan():
    input = lt.tensor([0.5, 0.5, 0.5, 0.5])
    target = lt.tensor([0.0, 2.0, -1.0, float("nan")])
    loss = F.kl_div(input, target, reduction="none").tolist()
    assert loss[0] == 0.0
    assert loss[1] == pytest.approx(2.0 * (math.log(2.0) - 0.5))
    assert math.isnan(loss[2]) and math.isnan(loss[3])


def test_batch_norm_of_an_empty_batch_is_empty_and_keeps_running_stats():
    bn = nn.BatchNorm1d(3)
    x = lt.randn(0, 3, 4, requires_grad=True)
    out = bn(x)
    assert tuple(out.shape) == (0, 3, 4)
    assert bn.running_mean.tolist() == [0.0, 0.0, 0.0]
    assert bn.running_var.tolist() == [1.0, 1.0, 1.0]
    assert bn.num_batches_tracked.item() == 1
    out.sum().backward()
    assert bn.weight.grad.tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        bn(lt.randn(1, 3))


def test_multihead_attention_out_proj_has_pytorchs_class_name():
    mha = nn.MultiheadAttention(4, 2)
    assert type(mha.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    assert isinstance(mha.out_proj, nn.Linear)
    assert "(out_proj): NonDynamicallyQuantizableLinear(in_features=4" in repr(mha)


def test_triplet_margin_with_distance_loss_defaults_to_a_pairwise_distance_module():
    loss = nn.TripletMarginWithDistanceLoss()
    assert isinstance(loss.distance_function, nn.PairwiseDistance)
    assert repr(loss) == ("TripletMarginWithDistanceLoss(\n  (distance_function): "
                          "PairwiseDistance()\n)")


def test_fold_sums_the_blocks_unfold_takes_out():
    x = lt.arange(16.0).reshape(1, 1, 4, 4)
    cols = F.unfold(x, 2)
    assert F.fold(cols, (4, 4), 2).tolist() == (x * lt.tensor(
        [[1.0, 2.0, 2.0, 1.0], [2.0, 4.0, 4.0, 2.0], [2.0, 4.0, 4.0, 2.0],
         [1.0, 2.0, 2.0, 1.0]])).tolist()
    fold = nn.Fold(output_size=(4, 4), kernel_size=2)
    assert repr(fold) == "Fold(output_size=(4, 4), kernel_size=2, dilation=1, padding=0, stride=1)"
    assert tuple(fold(cols[0]).shape) == (1, 4, 4)  # unbatched (C*k, L)
    assert tuple(nn.Unfold(2, stride=2)(x).shape) == (1, 4, 4)
    with pytest.raises(RuntimeError, match="sliding blocks"):
        F.fold(cols, (5, 5), 2)


def test_lp_pool_is_the_p_norm_of_each_window():
    x = lt.tensor([[[3.0, 4.0, 1.0, 1.0]]])
    assert nn.LPPool1d(2, 2)(x).flatten().tolist() == pytest.approx([5.0, math.sqrt(2.0)])
    assert repr(nn.LPPool2d(2, 3)) == "LPPool2d(norm_type=2, kernel_size=3, stride=None, ceil_mode=False)"


def test_lp_pool_gradient_of_a_nan_window_is_nan_as_in_pytorch():
    x = lt.tensor([[[-1.0, 4.0]]], requires_grad=True)  # (-1) ** 1.5 is nan
    nn.LPPool1d(1.5, 2)(x).sum().backward()
    assert all(math.isnan(g) for g in x.grad.flatten().tolist())


def test_softmax2d_normalises_over_channels():
    x = lt.randn(2, 3, 4, 5)
    assert lt.allclose(nn.Softmax2d()(x), x.softmax(1))
    with pytest.raises(ValueError, match="expected input to be 3D or 4D"):
        nn.Softmax2d()(lt.randn(3, 4))


def test_nll_loss2d_is_a_deprecated_nll_loss():
    with pytest.warns(UserWarning, match="NLLLoss2d has been deprecated"):
        loss = nn.NLLLoss2d()
    assert isinstance(loss, nn.NLLLoss)


def test_fractional_max_pool_windows_follow_the_random_samples():
    x = lt.arange(25.0).reshape(1, 1, 5, 5)
    # u = 0: windows start at int(i * alpha), alpha = (5 - 2) / (3 - 1); last one flush
    pool = nn.FractionalMaxPool2d(2, output_size=3, return_indices=True,
                                  _random_samples=lt.zeros(1, 1, 2))
    out, indices = pool(x)
    assert out.tolist() == [[[[6.0, 7.0, 9.0], [11.0, 12.0, 14.0], [21.0, 22.0, 24.0]]]]
    assert indices.tolist() == [[[[6, 7, 9], [11, 12, 14], [21, 22, 24]]]]
    assert list(pool.state_dict()) == ["_random_samples"]
    random_windows = nn.FractionalMaxPool2d(2, output_ratio=0.5)(lt.randn(2, 3, 8, 8))
    assert tuple(random_windows.shape) == (2, 3, 4, 4)
    with pytest.raises(ValueError, match="output_ratio must be between 0 and 1"):
        nn.FractionalMaxPool3d(2, output_ratio=1.5)


def test_lazy_linear_takes_in_features_from_its_first_input_and_becomes_linear():
    layer = nn.LazyLinear(3)
    assert repr(layer) == "LazyLinear(in_features=0, out_features=3, bias=True)"
    assert type(layer.weight).__name__ == "UninitializedParameter"
    out = layer(lt.randn(2, 5))
    assert type(layer) is nn.Linear and layer.in_features == 5
    assert tuple(layer.weight.shape) == (3, 5) and tuple(out.shape) == (2, 3)
    assert type(layer.weight) is nn.Parameter
    bound = 1 / math.sqrt(5)
    assert all(abs(v) <= bound for v in layer.weight.flatten().tolist())


def test_lazy_module_loads_a_state_dict_before_its_first_forward():
    trained = nn.Conv2d(2, 4, 3)
    lazy = nn.LazyConv2d(4, 3)
    lazy.load_state_dict(trained.state_dict())
    assert tuple(lazy.weight.shape) == (4, 2, 3, 3)
    x = lt.randn(1, 2, 5, 5)
    assert lt.allclose(lazy(x), trained(x))
    # (PyTorch too leaves in_channels at 0 when the state came from a state_dict)
    assert type(lazy) is nn.Conv2d and lazy.in_channels == 0


def test_lazy_batch_norm_and_conv_transpose_materialise_from_the_input():
    bn = nn.LazyBatchNorm2d()
    bn(lt.randn(2, 3, 4, 4))
    assert type(bn) is nn.BatchNorm2d and bn.num_features == 3
    assert bn.running_var.shape == (3,) and bn.weight.tolist() == [1.0, 1.0, 1.0]
    deconv = nn.LazyConvTranspose1d(4, 3, stride=2)
    assert tuple(deconv(lt.randn(2, 3, 5)).shape) == (2, 4, 11)
    assert tuple(deconv.weight.shape) == (3, 4, 3)
    instance = nn.LazyInstanceNorm1d()  # PyTorch: affine and running stats by default
    assert instance.affine and instance.track_running_stats


def test_uninitialized_parameter_pickles_as_a_placeholder():
    from lazyt.nn.parameter import UninitializedParameter  # (not re-exported by torch either)

    restored = pickle.loads(pickle.dumps(UninitializedParameter()))
    assert repr(restored) == "<UninitializedParameter>"


def test_weighted_cross_entropy_with_0d_targets_stays_right_on_replayed_calls():
    # Eager regions replay from the third call; each call has its own target and weights.
    calls = [([0.3, -1.2, 2.0, 0.5], 1, [0.5, 2.5, 0.8, 0.7]),
             ([1.1, 0.2, -0.7, 0.9], 3, [0.5, 2.5, 0.8, 0.7]),
             ([-0.4, 2.2, 0.1, 1.3], 1, [4.2, 0.3, 2.1, 5.6]),
             ([0.8, 0.8, -2.0, 0.0], 2, [1.0, 2.0, 3.0, 4.0])]
    smoothing = 0.1
    for logits, target, weight in calls:
        got = F.cross_entropy(lt.tensor(logits), lt.tensor(target), weight=lt.tensor(weight),
                              label_smoothing=smoothing).item()
        log_probs = lt.tensor(logits).log_softmax(0).tolist()
        nll = -weight[target] * log_probs[target] / weight[target]
        smooth = -sum(w * p for w, p in zip(weight, log_probs)) / weight[target]
        expected = nll * (1 - smoothing) + smooth * smoothing / len(logits)
        assert got == pytest.approx(expected, rel=1e-5)
