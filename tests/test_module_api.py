"""Module-level API that scripts use: memory formats and layouts, the legacy tensor
types, default device and thread settings, lt.testing.assert_close, lt.cuda
seeding, and the top-level zero_/fill/index_put. Compared with PyTorch."""

import pytest

from tests._backend import TORCH, lt

needs_torch = pytest.mark.skipif(TORCH is None, reason="torch not installed")


def _both(shape=(2, 3, 4, 5)):
    x = lt.arange(float(lt.tensor(shape).prod().item())).reshape(shape)
    return x, TORCH.tensor(x.numpy())


@needs_torch
@pytest.mark.parametrize("make", [
    lambda m, x: x.contiguous(memory_format=m.channels_last),
    lambda m, x: x.to(memory_format=m.channels_last),
    lambda m, x: x.double(memory_format=m.channels_last),
    lambda m, x: x.to(m.float64, memory_format=m.channels_last),
    lambda m, x: m.zeros_like(x, memory_format=m.channels_last),
    lambda m, x: m.empty_like(x, memory_format=m.channels_last),
    lambda m, x: x.contiguous(memory_format=m.channels_last).clone(),
    lambda m, x: x.contiguous(memory_format=m.channels_last).clone(
        memory_format=m.contiguous_format),
    lambda m, x: m.ones_like(x.contiguous(memory_format=m.channels_last)),
    lambda m, x: x.contiguous(memory_format=m.channels_last).contiguous(),
    lambda m, x: m.empty(2, 3, 4, 5, memory_format=m.channels_last),
])
def test_channels_last_is_a_stride_permutation_like_torch(make):
    x, xt = _both()
    got, want = make(lt, x), make(TORCH, xt)
    assert got.stride() == want.stride()
    assert got.dtype.itemsize == want.dtype.itemsize
    for fmt in ("contiguous_format", "channels_last"):
        assert got.is_contiguous(memory_format=getattr(lt, fmt)) == \
            want.is_contiguous(memory_format=getattr(TORCH, fmt))
    if "empty" not in str(make.__code__.co_names):
        assert (got.numpy() == want.numpy()).all()


@needs_torch
def test_channels_last_5d_and_size_one_dims_like_torch():
    x, xt = _both((2, 3, 1, 4, 2))
    got = x.contiguous(memory_format=lt.channels_last_3d)
    assert got.stride() == xt.contiguous(memory_format=TORCH.channels_last_3d).stride()
    y, yt = _both((2, 1, 1, 1))  # size-1 dims: both formats at once
    assert y.is_contiguous(memory_format=lt.channels_last) == \
        yt.is_contiguous(memory_format=TORCH.channels_last)


def test_memory_format_errors():
    with pytest.raises(RuntimeError, match="required rank 4 tensor to use channels_last format"):
        lt.ones(2, 3).contiguous(memory_format=lt.channels_last)
    with pytest.raises(RuntimeError, match="preserve memory format is unsupported"):
        lt.ones(2, 3).contiguous(memory_format=lt.preserve_format)


def test_channels_last_gradient_flows_back():
    x = lt.randn(2, 3, 2, 2, requires_grad=True)
    (x.contiguous(memory_format=lt.channels_last) * 2).sum().backward()
    assert (x.grad.numpy() == 2).all()


def test_layout_is_strided():
    assert lt.ones(2).layout is lt.strided
    assert lt.zeros_like(lt.ones(2), layout=lt.strided).shape == (2,)


def test_legacy_tensor_types_are_types_checked_by_dtype():
    x = lt.ones(2)
    assert isinstance(x, lt.FloatTensor) and isinstance(x, lt.Tensor)
    assert not isinstance(x, lt.LongTensor)
    assert isinstance(lt.ones(2, dtype=lt.int64), lt.LongTensor)
    assert isinstance(lt.ones(2, dtype=lt.bool), lt.BoolTensor)
    assert issubclass(lt.DoubleTensor, lt.Tensor)
    made = lt.LongTensor([1, 2])
    assert made.dtype == lt.int64 and made.tolist() == [1, 2]
    assert lt.FloatTensor(2, 3).shape == (2, 3)
    assert x.type(lt.DoubleTensor).dtype == lt.float64
    assert x.type("torch.IntTensor").dtype == lt.int32
    assert not isinstance(3.0, lt.FloatTensor)


def test_default_device_and_thread_settings():
    lt.set_default_device("cpu")
    lt.set_default_device(None)
    assert lt.get_default_device().type == "cpu"
    before = lt.get_num_threads()
    try:
        lt.set_num_threads(1)
        assert lt.get_num_threads() == 1
        big = lt.ones(1 << 21)
        assert big.sum().item() == 1 << 21
    finally:
        lt.set_num_threads(before)
    with pytest.raises(RuntimeError):
        lt.set_num_threads(0)
    lt.cuda.manual_seed_all(0)
    lt.cuda.manual_seed(0)


@needs_torch
def test_top_level_zero_fill_index_put_like_torch():
    for m in (lt, TORCH):
        x = m.arange(6.0).reshape(2, 3)
        m.zero_(x)
        assert x.sum().item() == 0
    assert lt.fill(lt.ones(2, dtype=lt.int64), 3).tolist() == \
        TORCH.fill(TORCH.ones(2, dtype=TORCH.int64), 3).tolist()
    for accumulate in (False, True):
        got = lt.index_put(lt.ones(4), (lt.tensor([1, 1]),), lt.tensor([2.0, 3.0]), accumulate)
        want = TORCH.index_put(TORCH.ones(4), (TORCH.tensor([1, 1]),), TORCH.tensor([2.0, 3.0]),
                               accumulate)
        if accumulate:
            assert got.tolist() == want.tolist()
        else:
            assert got.tolist()[1] in (2.0, 3.0)
    base = lt.zeros(3)
    base.index_put((lt.tensor([0]),), lt.tensor(1.0))
    assert base.tolist() == [0.0, 0.0, 0.0]  # out of place


@needs_torch
@pytest.mark.parametrize("pair", [
    ([1.0, 2.0, 3.0], [1.0, 2.5, 3.0], {}),
    ([1, 2, 3], [1, 4, 3], {}),
    ([True, False], [True, True], {}),
    ([[1.0, 2.0], [3.0, 4.0]], [[1.0, 2.0], [3.0, 5.0]], {}),
    ([float("nan")], [float("nan")], {}),
    ([1.0, float("inf")], [1.0, float("-inf")], {}),
    ([1.0], [1.5], {}),
    ([1.0, 2.0], [1.0, 2.0, 3.0], {}),
    ([1.0, 2.0], [1.1, 2.0], {"rtol": 0.2, "atol": 0.0}),
])
def test_assert_close_messages_match_torch(pair):
    actual, expected, options = pair

    def message(m):
        try:
            m.testing.assert_close(m.tensor(actual), m.tensor(expected), **options)
        except AssertionError as error:
            return str(error)
        return None

    assert message(lt) == message(TORCH)


@needs_torch
def test_assert_close_scalars_sequences_and_argument_errors():
    def outcome(m, *args, **kwargs):
        try:
            m.testing.assert_close(*args, **kwargs)
        except (AssertionError, ValueError, TypeError) as error:
            return type(error).__name__, str(error)
        return None

    cases = [
        lambda m: ((1.0, 1.1), {}),
        lambda m: ((1, 2), {}),
        lambda m: (([m.tensor(1.0)], [m.tensor(2.0)]), {}),
        lambda m: (({"a": m.tensor(1.0)}, {"a": m.tensor(2.0)}), {}),
        lambda m: ((m.tensor([1.0]), m.tensor([1.0], dtype=m.float64)), {}),
        lambda m: ((m.tensor([1.0]), m.tensor([1.0], dtype=m.float64)), {"check_dtype": False}),
        lambda m: ((m.tensor([1.0]), m.tensor([1.0])), {"rtol": 1e-3}),
        lambda m: ((m.tensor([1.0]), m.tensor([2.0])), {"msg": "custom"}),
        lambda m: (([1, 2], [1, 2, 3]), {}),
    ]
    for case in cases:
        args_lt, kwargs_lt = case(lt)
        args_t, kwargs_t = case(TORCH)
        assert outcome(lt, *args_lt, **kwargs_lt) == outcome(TORCH, *args_t, **kwargs_t)
