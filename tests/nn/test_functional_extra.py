"""The newer nn.functional surface against PyTorch: pdist, channel_shuffle,
rrelu, feature_alpha_dropout, max_unpool, adaptive max pooling with indices,
integer pooling, embedding_bag with offsets, the native_* normalisations,
_softmax_backward_data, out= on the functionals and their nn modules."""

import numpy as np
import pytest

import lazyt as lt
import lazyt.nn.functional as F
from tests.nn._helpers import assert_matches_torch

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(11)


def randn(*shape):
    return RNG.standard_normal(shape)


@pytest.mark.parametrize("p", [0.0, 1.0, 2.0, 3.0, float("inf")])
def test_pdist_matches_torch(p):
    assert_matches_torch(lambda m, nnf, x: nnf.pdist(x, p), [randn(5, 3)], dtype="float64")


def test_pdist_errors_and_small_inputs_match_torch():
    assert_matches_torch(lambda m, nnf, x: nnf.pdist(x), [randn(1, 3)])
    with pytest.raises(RuntimeError, match="pdist only supports 2D tensors, got: 3D"):
        F.pdist(lt.ones(2, 3, 4))
    with pytest.raises(RuntimeError, match="pdist only supports non-negative p values"):
        F.pdist(lt.ones(2, 3), -1.0)


def test_channel_shuffle_and_module_match_torch():
    x = randn(2, 6, 3, 2)
    assert_matches_torch(lambda m, nnf, x: nnf.channel_shuffle(x, 3), [x])
    assert_matches_torch(lambda m, nnf, x: m.nn.ChannelShuffle(2)(x), [x])
    with pytest.raises(RuntimeError, match="Number of channels must be divisible by groups. "
                                           "Got 6 channels and 4 groups."):
        F.channel_shuffle(lt.ones(2, 6, 3), 4)
    with pytest.raises(RuntimeError, match="channel_shuffle expects input with > 2 dims"):
        F.channel_shuffle(lt.ones(2, 6), 2)


def test_rrelu_eval_is_leaky_relu_with_the_mean_slope_and_training_draws_slopes():
    x = randn(4, 5)
    assert_matches_torch(lambda m, nnf, x: nnf.rrelu(x, 0.1, 0.3), [x])
    assert_matches_torch(lambda m, nnf, x: m.nn.RReLU(0.2, 0.4).eval()(x), [x])
    lt.manual_seed(0)
    t = lt.tensor(x, requires_grad=True)
    y = F.rrelu(t, 0.1, 0.3, training=True)
    y.sum().backward()
    negative = x < 0
    slopes = y.detach().numpy()[negative] / x[negative]
    assert np.all((slopes >= 0.1 - 1e-6) & (slopes <= 0.3 + 1e-6))
    assert len(np.unique(np.round(slopes, 5))) > 1  # one draw per element
    np.testing.assert_allclose(t.grad.numpy()[negative], slopes, rtol=1e-5)
    np.testing.assert_array_equal(y.detach().numpy()[~negative], x[~negative])
    with pytest.raises(RuntimeError, match="Lower bound should be less than or equal"):
        F.rrelu(t, 0.5, 0.2, training=True)


def test_feature_alpha_dropout_drops_whole_channels_to_the_selu_fixed_value():
    assert_matches_torch(lambda m, nnf, x: nnf.feature_alpha_dropout(x, 0.5, training=False),
                         [randn(3, 4, 5)])
    lt.manual_seed(0)
    p = 0.5
    out = F.feature_alpha_dropout(lt.tensor(randn(8, 16, 5)), p, training=True).numpy()
    alpha = 1.6732632423543772848170429916717 * 1.0507009873554804934193349852946
    a = 1.0 / np.sqrt((alpha * alpha * p + 1) * (1 - p))
    dropped_value = -alpha * a + alpha * a * p
    dropped = np.all(np.isclose(out, dropped_value, atol=1e-6), axis=-1)  # whole maps
    assert 0 < dropped.sum() < dropped.size
    with pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions"):
        F.feature_alpha_dropout(lt.ones(4), 0.5, training=True)
    assert repr(lt.nn.FeatureAlphaDropout(0.2)) == repr(torch.nn.FeatureAlphaDropout(0.2))


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_max_unpool_inverts_max_pool_like_torch(dims):
    shape = (2, 3) + (4,) * dims
    x = randn(*shape)

    def roundtrip(m, nnf, x):
        pool = getattr(nnf, f"max_pool{dims}d")
        unpool = getattr(m.nn, f"MaxUnpool{dims}d")(2, stride=2)
        pooled, indices = pool(x, 2, stride=2, return_indices=True)
        return unpool(pooled, indices, output_size=(5,) * dims)

    assert_matches_torch(roundtrip, [x])


def test_max_unpool_output_size_errors_match_torch():
    pooled, indices = F.max_pool2d(lt.ones(1, 1, 4, 4), 2, return_indices=True)
    with pytest.raises(ValueError, match=r"invalid output_size \"\[7, 4\]\" \(dim 0 must be "
                                         r"between 2 and 6\)"):
        F.max_unpool2d(pooled, indices, 2, output_size=[7, 4])


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_adaptive_max_pool_with_indices_matches_torch(dims):
    x = randn(*((2, 3) + (5,) * dims))

    def pool(m, nnf, x):
        out, indices = getattr(nnf, f"adaptive_max_pool{dims}d")(x, 3, return_indices=True)
        return out, indices

    assert_matches_torch(pool, [x])
    assert_matches_torch(lambda m, nnf, x: getattr(m.nn, f"AdaptiveMaxPool{dims}d")(2)(x), [x])


def test_integer_pooling_matches_torch():
    x = RNG.integers(-50, 50, (2, 3, 6, 6))
    assert_matches_torch(lambda m, nnf, x: nnf.max_pool2d(x, 3, stride=2, padding=1), [x])
    assert_matches_torch(lambda m, nnf, x: nnf.avg_pool2d(x, 3, stride=2, padding=1), [x])
    assert_matches_torch(lambda m, nnf, x: nnf.avg_pool2d(x, 2, divisor_override=3), [x])
    assert F.avg_pool2d(lt.tensor(x), 2).dtype == lt.int64


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_with_offsets_matches_torch(mode):
    weight = randn(10, 3)
    indices = np.array([1, 2, 4, 5, 4, 3, 2, 9, 0, 0])
    offsets = np.array([0, 3, 3, 7])  # an empty bag

    def bag(m, nnf, weight, indices, offsets):
        return nnf.embedding_bag(indices, weight, offsets, mode=mode, padding_idx=4)

    assert_matches_torch(bag, [weight, indices, offsets])

    def last_offset(m, nnf, weight, indices, offsets):
        return nnf.embedding_bag(indices, weight, offsets, mode=mode, include_last_offset=True)

    assert_matches_torch(last_offset, [weight, indices, np.array([0, 2, 2, 6, 10])])


def test_embedding_bag_per_sample_weights_2d_input_and_module_match_torch():
    weight, indices = randn(8, 4), RNG.integers(0, 8, (3, 5))
    assert_matches_torch(lambda m, nnf, w, i, s: nnf.embedding_bag(
        i, w, mode="sum", per_sample_weights=s), [weight, indices, randn(3, 5)],
        [True, False, True])
    assert_matches_torch(lambda m, nnf, w, i: m.nn.EmbeddingBag.from_pretrained(
        w, freeze=False, mode="max")(i), [weight, indices])
    assert repr(lt.nn.EmbeddingBag(4, 3, padding_idx=1)) == \
        repr(torch.nn.EmbeddingBag(4, 3, padding_idx=1))
    with pytest.raises(NotImplementedError, match="per_sample_weights is only supported for "
                                                  "mode='sum'"):
        F.embedding_bag(lt.tensor(indices), lt.tensor(weight), mode="mean",
                        per_sample_weights=lt.ones(3, 5))
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        F.embedding_bag(lt.tensor([1, 2]), lt.tensor(weight))


def test_native_normalisations_return_out_mean_rstd_like_torch():
    x = randn(4, 6, 5)
    assert_matches_torch(lambda m, nnf, x, w, b: m.native_layer_norm(x, [5], w, b, 1e-5),
                         [x, randn(5), randn(5)], dtype="float64")
    assert_matches_torch(lambda m, nnf, x, w, b: m.native_group_norm(x, w, b, 4, 6, 5, 3, 1e-5),
                         [x, randn(6), randn(6)], dtype="float64")
    for training in (True, False):
        def batch_norm(m, nnf, x, w, b, training=training):
            running_mean, running_var = m.zeros(6, dtype=x.dtype), m.ones(6, dtype=x.dtype)
            out = m.native_batch_norm(x, w, b, running_mean, running_var, training, 0.3, 1e-5)
            return (*out, running_mean, running_var)

        assert_matches_torch(batch_norm, [x, randn(6), randn(6)], dtype="float64")


def test_softmax_backward_data_matches_torch():
    assert_matches_torch(lambda m, nnf, g, y: m._softmax_backward_data(g, y.softmax(1), 1,
                                                                       m.float64),
                         [randn(3, 4), randn(3, 4)], dtype="float64")


@pytest.mark.parametrize("name, args", [
    ("gelu", ()), ("hardshrink", ()), ("logsigmoid", ()), ("softplus", ()), ("softshrink", ()),
    ("avg_pool2d", (2,)),
])
def test_functionals_write_out_like_torch(name, args):
    x = randn(2, 3, 4, 4)
    got = lt.empty(0)
    result = getattr(F, name)(lt.tensor(x, dtype=lt.float32), *args, out=got)
    want = getattr(torch.nn.functional, name)(torch.tensor(x, dtype=torch.float32), *args)
    assert result is got
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(TypeError, match="unexpected keyword argument 'out'"):
        F.relu6(lt.ones(2), out=lt.empty(2))


def test_inplace_hardsigmoid_and_mish_write_their_input():
    for name in ("hardsigmoid", "mish"):
        x = randn(5)
        t = lt.tensor(x, dtype=lt.float32)
        assert getattr(F, name)(t, inplace=True) is t
        want = getattr(torch.nn.functional, name)(torch.tensor(x, dtype=torch.float32))
        np.testing.assert_allclose(t.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)


def test_unfold_of_an_empty_batch_has_torch_shape():
    got = F.unfold(lt.ones(0, 2, 4, 4), 2)
    assert tuple(got.shape) == tuple(torch.nn.functional.unfold(torch.ones(0, 2, 4, 4), 2).shape)


@pytest.mark.parametrize("dims", [2, 3])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_grid_sample_matches_torch_with_gradients_for_input_and_grid(dims, mode):
    x = randn(*((2, 3) + (4, 5, 3)[:dims]))
    grid = RNG.random((2,) + (3, 4, 2)[:dims] + (dims,)) * 3 - 1.5  # partly outside
    for padding_mode in ("zeros", "border", "reflection"):
        for align_corners in (False, True):
            def sample(m, nnf, x, g, padding_mode=padding_mode, align_corners=align_corners):
                return nnf.grid_sample(x, g, mode=mode, padding_mode=padding_mode,
                                       align_corners=align_corners)

            assert_matches_torch(sample, [x, grid], dtype="float64")


def test_grid_sampler_takes_aten_mode_numbers_and_rejects_bad_arguments():
    x, grid = randn(1, 2, 4, 4), RNG.random((1, 3, 3, 2)) * 2 - 1
    assert_matches_torch(lambda m, nnf, x, g: m.grid_sampler_2d(x, g, 0, 2, False), [x, grid])
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        F.grid_sample(lt.ones(1, 1, 2, 2), lt.zeros(1, 1, 1, 2))
    with pytest.raises(ValueError, match="expected padding_mode to be 'zeros', 'border', or "
                                         "'reflection', but got: 'wrap'"):
        F.grid_sample(lt.ones(1, 1, 2, 2), lt.zeros(1, 1, 1, 2), padding_mode="wrap",
                      align_corners=False)
    with pytest.raises(RuntimeError, match="expected grid to have size 2 in last dimension"):
        F.grid_sample(lt.ones(1, 1, 2, 2), lt.zeros(1, 1, 1, 3), align_corners=False)
    with pytest.raises(RuntimeError, match="bicubic interpolation only supports 4D input"):
        F.grid_sample(lt.ones(1, 1, 2, 2, 2), lt.zeros(1, 1, 1, 1, 3), mode="bicubic",
                      align_corners=False)


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_bicubic_grid_sample_matches_torch(padding_mode):
    x, grid = randn(2, 2, 4, 5), RNG.random((2, 3, 4, 2)) * 3 - 1.5
    for align_corners in (False, True):
        def sample(m, nnf, x, g, align_corners=align_corners):
            return nnf.grid_sample(x, g, mode="bicubic", padding_mode=padding_mode,
                                   align_corners=align_corners)

        assert_matches_torch(sample, [x, grid], dtype="float64")


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_non_constant_pad_accepts_only_pytorchs_rank_combinations(mode):
    """A (k+1)- or (k+2)-d input with k padded dims (k = 1, 2, 3); anything
    else is PyTorch's NotImplementedError (or, for more padded dims than the
    input has, its RuntimeError), with its message."""
    for ndim in range(1, 7):
        for k in (1, 2, 3, 4):
            shape, padding = (3,) * ndim, (1,) * (2 * k)
            try:
                expected = torch.nn.functional.pad(torch.ones(shape), padding, mode=mode)
            except (NotImplementedError, RuntimeError) as error:
                with pytest.raises(type(error)) as caught:
                    lt.nn.functional.pad(lt.ones(shape), padding, mode=mode)
                assert str(caught.value) == str(error)
                continue
            got = lt.nn.functional.pad(lt.ones(shape), padding, mode=mode)
            assert tuple(got.shape) == tuple(expected.shape)
