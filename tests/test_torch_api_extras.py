"""PyTorch names scripts call that are not ops of their own: settings flags,
predicates, legacy constructors and fills, window functions; values and
messages are PyTorch's."""

import math
import warnings

import numpy as np
import pytest

import lazyt as lt


def test_determinism_and_precision_flags_round_trip():
    try:
        lt.set_deterministic_debug_mode("warn")
        assert lt.get_deterministic_debug_mode() == 1
        assert lt.are_deterministic_algorithms_enabled()
        assert lt.is_deterministic_algorithms_warn_only_enabled()
        lt.use_deterministic_algorithms(True)
        assert lt.get_deterministic_debug_mode() == 2
        with pytest.raises(RuntimeError, match="expected one of `default`, `warn`, `error`"):
            lt.set_deterministic_debug_mode("x")
        with pytest.raises(TypeError, match="must be bool, not str"):
            lt.use_deterministic_algorithms("yes")
    finally:
        lt.use_deterministic_algorithms(False)
    assert lt.get_deterministic_debug_mode() == 0
    lt.set_float32_matmul_precision("high")
    assert lt.get_float32_matmul_precision() == "high"
    with pytest.warns(UserWarning, match="is not one of 'highest', 'high', or 'medium'"):
        lt.set_float32_matmul_precision("x")
    lt.set_float32_matmul_precision("highest")


def test_inference_mode_state_and_decorator_forms():
    assert not lt.is_inference_mode_enabled()
    with lt.inference_mode():
        assert lt.is_inference_mode_enabled() and not lt.is_grad_enabled()
    with lt.no_grad(), lt.inference_mode(False):
        assert lt.is_grad_enabled() and not lt.is_inference_mode_enabled()

    @lt.inference_mode
    def bare():
        return lt.is_grad_enabled()

    assert bare() is False and lt.is_grad_enabled()


def test_tensor_predicates_and_aliases():
    t = lt.ones(2)
    assert t.is_cpu and not t.is_sparse and not t.is_quantized and t.get_device() == -1
    assert t.is_signed() and not lt.tensor([1], dtype=lt.uint8).is_signed()
    assert lt.tensor([0.0]).is_nonzero() is False
    with pytest.raises(RuntimeError, match="more than one value is ambiguous"):
        t.is_nonzero()
    assert lt.typename(t) == "lazyt.FloatTensor" and lt.typename(3) == "int"
    assert lt.is_storage(t.untyped_storage()) and not lt.is_storage(t)
    x = lt.tensor([1.0, -2.0])
    x.absolute_()
    assert x.tolist() == [1.0, 2.0]
    x.greater_(1.5)
    assert x.tolist() == [0.0, 1.0]


def test_legacy_new_constructor():
    x = lt.ones(2, 3)
    assert tuple(x.new(2, 2).shape) == (2, 2) and x.new(2, 2).dtype is lt.float32
    assert x.new([1, 2]).tolist() == [1.0, 2.0] and tuple(x.new().shape) == (0,)
    assert tuple(x.new(lt.Size([3])).shape) == (3,)
    with pytest.raises(TypeError, match="expected lazyt.FloatTensor"):
        x.new(lt.tensor([1, 2]))


def test_fill_diagonal_wraps_tall_matrices():
    a = lt.zeros(7, 3).fill_diagonal_(5, wrap=True)
    assert a.nonzero().tolist() == [[0, 0], [1, 1], [2, 2], [4, 0], [5, 1], [6, 2]]
    assert lt.zeros(7, 3).fill_diagonal_(5).sum().item() == 15.0
    assert lt.zeros(2, 2, 2).fill_diagonal_(1).sum().item() == 2.0
    with pytest.raises(RuntimeError, match="all dimensions of input must be of equal length"):
        lt.zeros(2, 3, 2).fill_diagonal_(1)


def test_legacy_range_and_vander():
    with pytest.warns(UserWarning, match="torch.range is deprecated"):
        r = lt.range(1, 4)
    assert r.dtype is lt.float32 and r.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert lt.vander(lt.tensor([1, 2, 3])).tolist() == [[1, 1, 1], [4, 2, 1], [9, 3, 1]]
    assert lt.vander(lt.tensor([1.0, 2.0]), N=3, increasing=True).tolist() == \
        [[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]]
    with pytest.raises(RuntimeError, match="x must be a one-dimensional tensor"):
        lt.vander(lt.ones(2, 2))


def test_random_fills_have_their_distributions():
    lt.manual_seed(0)
    g = lt.zeros(100000).geometric_(0.25)
    assert g.min().item() == 1.0 and abs(g.mean().item() - 4.0) < 0.1
    logs = lt.zeros(100000).log_normal_(0.0, 0.5).log()
    assert abs(logs.mean().item()) < 0.01 and abs(logs.std().item() - 0.5) < 0.01
    c = lt.zeros(100000).cauchy_(1.0, 2.0)
    assert abs(c.median().item() - 1.0) < 0.05
    with pytest.raises(RuntimeError, match="geometric_ expects p to be in"):
        lt.zeros(3).geometric_(0)


def test_window_functions_match_their_formulas():
    n = np.arange(4)
    np.testing.assert_allclose(lt.hann_window(4).numpy(), 0.5 - 0.5 * np.cos(2 * math.pi * n / 4),
                               atol=1e-6)
    np.testing.assert_allclose(lt.hann_window(4, periodic=False).numpy(),
                               0.5 - 0.5 * np.cos(2 * math.pi * n / 3), atol=1e-6)
    np.testing.assert_allclose(lt.hamming_window(5, True, 0.5, 0.5).numpy(),
                               0.5 - 0.5 * np.cos(2 * math.pi * np.arange(5) / 5), atol=1e-6)
    np.testing.assert_allclose(lt.kaiser_window(5, False, 8.0).numpy(),
                               np.kaiser(5, 8.0), atol=1e-5)
    np.testing.assert_allclose(lt.blackman_window(5, periodic=False).numpy(),
                               np.blackman(5), atol=1e-6)
    np.testing.assert_allclose(lt.bartlett_window(5, periodic=False).numpy(),
                               np.bartlett(5), atol=1e-6)
    assert lt.hann_window(1).tolist() == [1.0] and lt.hann_window(0).numel() == 0
    assert lt.hann_window(3, dtype=lt.float64).dtype is lt.float64
    with pytest.raises(RuntimeError, match="hann_window requires non-negative window_length"):
        lt.hann_window(-1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert lt.hann_window(3, requires_grad=True).requires_grad


def test_fft_sample_frequencies():
    np.testing.assert_allclose(lt.fft.fftfreq(5).numpy(), np.fft.fftfreq(5), atol=1e-7)
    np.testing.assert_allclose(lt.fft.fftfreq(4, d=0.5).numpy(), np.fft.fftfreq(4, 0.5))
    np.testing.assert_allclose(lt.fft.rfftfreq(5).numpy(), np.fft.rfftfreq(5), atol=1e-7)
    assert lt.fft.fftfreq(5, dtype=lt.float64).dtype is lt.float64
    assert lt.fft.fftfreq(1).tolist() == [0.0] and lt.fft.fftfreq(0).numel() == 0
    with pytest.raises(RuntimeError, match="negative dimension -1"):
        lt.fft.fftfreq(-1)


def test_view_as_another_dtype_reinterprets_the_bytes():
    assert lt.tensor([1.0]).view(lt.int32).tolist() == [1065353216]
    assert lt.tensor([1, 2], dtype=lt.int32).view(lt.int64).tolist() == [1 + (2 << 32)]
    halves = lt.arange(6.0).reshape(2, 3).view(lt.float16)
    assert tuple(halves.shape) == (2, 6) and halves.stride() == (6, 1)
    with pytest.raises(RuntimeError, match=r"self.size\(-1\) must be divisible by 2 to view "
                                           r"Float as Long \(different element sizes\), but got 3"):
        lt.arange(6.0).reshape(2, 3).view(lt.int64)
    with pytest.raises(RuntimeError, match=r"self.stride\(-1\) must be 1"):
        lt.arange(6.0).reshape(2, 3).t().view(lt.float16)
    x = lt.zeros(2)
    x.view(lt.int32).add_(1)  # (the same memory: x sees the write)
    assert x.view(lt.int32).tolist() == [1, 1]
    with lt.deferred():
        y = lt.zeros(2)
        y.view(lt.int32).fill_(1065353216)
        doubled = y * 2
    assert doubled.tolist() == [2.0, 2.0]


def test_generator_state_seeds_and_fork_rng():
    g = lt.Generator().manual_seed(3)
    state = g.get_state()
    assert state.dtype is lt.uint8 and state.ndim == 1
    first = lt.rand(2, generator=g).tolist()
    g.set_state(state)
    assert lt.rand(2, generator=g).tolist() == first
    assert lt.Generator().manual_seed(-1).initial_seed() == 2 ** 64 - 1
    with pytest.raises(ValueError, match="Overflow when unpacking long long"):
        lt.manual_seed(2 ** 64)
    lt.manual_seed(0)
    with lt.random.fork_rng():
        inside = lt.rand(3).tolist()
    assert lt.rand(3).tolist() == inside


def test_set_dim_order_ger_and_nn_methods():
    a, b = lt.zeros(3), lt.arange(4.0).reshape(2, 2)
    a.set_(b)
    assert tuple(a.shape) == (2, 2) and a.data_ptr() == b.data_ptr()
    a.add_(1)
    assert b.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert tuple(lt.zeros(2).set_().shape) == (0,)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        lt.ones(2, requires_grad=True).set_(lt.ones(3))
    assert lt.ones(2, 3, 4).permute(2, 0, 1).dim_order() == (1, 2, 0)
    assert lt.ger(lt.tensor([1.0, 2.0]), lt.tensor([3.0, 4.0])).tolist() == [[3.0, 4.0],
                                                                              [6.0, 8.0]]
    assert lt.tensor([-1.0, 0.2, 3.0]).hardshrink(0.5).tolist() == [-1.0, 0.0, 3.0]
    assert lt.tensor([-1.0, 2.0]).prelu(lt.tensor([0.25])).tolist() == [-0.25, 2.0]


def test_make_tensor_respects_bounds_dtype_and_layout():
    from lazyt.testing import make_tensor

    ints = make_tensor((50,), dtype=lt.int64, device="cpu", low=-3, high=3)
    assert ints.dtype is lt.int64 and -3 <= ints.min().item() and ints.max().item() < 3
    floats = make_tensor(3, 4, dtype=lt.float32, device="cpu", noncontiguous=True,
                         exclude_zero=True, requires_grad=True)
    assert not floats.is_contiguous() and tuple(floats.shape) == (3, 4)
    assert floats.requires_grad and bool((floats != 0).all())
    assert make_tensor(2, dtype=lt.bool, device="cpu").dtype is lt.bool
    with pytest.raises(TypeError, match="device"):
        make_tensor(3, dtype=lt.float32)
