"""Creating tensors, dtypes and devices, and converting tensors back to Python and numpy.

Covers tensor()/as_tensor()/from_numpy() dtype inference and memory sharing, the
factory functions (zeros ... eye, rand/randn/randint with manual_seed), the
default dtype, dtype aliases, conversions (float/int/bool/item/tolist/numpy,
__array__), .to()/.cpu()/.double()/..., device objects and the cuda switch.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests._backend import (
    ALL_DTYPES,
    BACKEND,
    FLOAT_DTYPES,
    NUMPY_DTYPE,
    assert_close,
    assert_same_values,
    cast_values,
    dtype_name,
    lt,
    shapes,
    to_numpy,
    value_arrays,
)


@pytest.fixture
def restore_default_dtype():
    saved = lt.get_default_dtype()
    yield
    lt.set_default_dtype(saved)


# ---------------------------------------------------------------- tensor() and dtype inference


@pytest.mark.parametrize(
    ("data", "dtype", "shape"),
    [
        ([[1, 2], [3, 4]], "int64", (2, 2)),
        ([1.0, 2.5], "float32", (2,)),
        ([True, False], "bool", (2,)),
        ([1, 2.5], "float32", (2,)),
        ([True, 2], "int64", (2,)),
        ([True, 2.5], "float32", (2,)),
        (3, "int64", ()),
        (3.5, "float32", ()),
        (False, "bool", ()),
        ([], "float32", (0,)),
        ([[], []], "float32", (2, 0)),
        ([[[1.0]], [[2.0]]], "float32", (2, 1, 1)),
        ((1, 2, 3), "int64", (3,)),
    ],
)
def test_tensor_infers_dtype_and_shape_from_python_data(data, dtype, shape):
    t = lt.tensor(data)
    assert dtype_name(t.dtype) == dtype
    assert t.shape == shape
    assert t.tolist() == (np.array(data, dtype=NUMPY_DTYPE[dtype]).tolist() if shape else data)


def test_tensor_from_a_list_of_0d_tensors_and_numpy_scalars():
    assert lt.tensor([lt.tensor(1.5), lt.tensor(2.0)]).tolist() == [1.5, 2.0]
    assert dtype_name(lt.tensor(np.float64(2.0)).dtype) == "float64"
    assert dtype_name(lt.tensor(np.int32(2)).dtype) == "int32"


@pytest.mark.parametrize("dtype", [d for d in ALL_DTYPES if d != "bfloat16"])
def test_tensor_from_numpy_keeps_the_numpy_dtype_and_copies(dtype):
    array = cast_values(np.array([[0, 1, 2], [3, 4, 5]]), dtype)
    t = lt.tensor(array)
    assert dtype_name(t.dtype) == dtype
    assert_same_values(t, array)
    array[0, 0] = 1
    assert to_numpy(t)[0, 0] == 0


@given(data=st.data())
def test_tensor_with_explicit_dtype_converts_values(data):
    source_dtype = data.draw(st.sampled_from(ALL_DTYPES))
    target = data.draw(st.sampled_from(ALL_DTYPES))
    values = data.draw(value_arrays(source_dtype, data.draw(shapes(max_dims=3, min_side=1)),
                                    float_range=(0.0, 100.0), int_range=(0, 100)))
    t = lt.tensor(values.tolist(), dtype=getattr(lt, target))
    assert_close(t, cast_values(values, target), target, kind="exact")


def test_tensor_from_a_non_contiguous_numpy_array():
    array = np.arange(12, dtype=np.float32).reshape(3, 4)[:, ::2].T
    assert lt.tensor(array).tolist() == array.tolist()


def test_tensor_requires_grad_flag():
    t = lt.tensor([1.0, 2.0], requires_grad=True)
    assert t.requires_grad and t.is_leaf
    assert not lt.tensor([1.0]).requires_grad


# ---------------------------------------------------------------- factories


@pytest.mark.parametrize("factory, fill", [("zeros", 0.0), ("ones", 1.0)])
def test_zeros_and_ones_accept_varargs_tuples_and_lists(factory, fill):
    make = getattr(lt, factory)
    for t in (make(2, 3), make((2, 3)), make([2, 3])):
        assert t.shape == (2, 3) and t.dtype == lt.float32
        assert t.tolist() == [[fill] * 3] * 2
        assert t.stride() == (3, 1)
    assert make(()).shape == () and make(()).item() == fill
    assert make(0).shape == (0,)
    assert make(2, 0, 3).stride() == (3, 3, 1)
    assert make(2, dtype=lt.int32).tolist() == [int(fill)] * 2
    assert dtype_name(make(2, dtype=lt.bool).dtype) == "bool"


def test_full_infers_dtype_from_the_fill_value():
    assert dtype_name(lt.full((2, 2), 7).dtype) == "int64"
    assert dtype_name(lt.full((2,), 1.5).dtype) == "float32"
    assert dtype_name(lt.full((2,), True).dtype) == "bool"
    assert lt.full((2, 3), 2.5).tolist() == [[2.5] * 3] * 2
    assert lt.full((3,), 4, dtype=lt.float64).tolist() == [4.0] * 3


def test_empty_has_shape_and_dtype():
    t = lt.empty(3, 4, dtype=lt.int16)
    assert t.shape == (3, 4) and dtype_name(t.dtype) == "int16" and t.is_contiguous()
    assert lt.empty((2,)).dtype == lt.float32


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_like_factories_copy_shape_and_dtype(dtype):
    source = lt.ones(2, 3, dtype=getattr(lt, dtype))
    assert lt.zeros_like(source).shape == (2, 3)
    assert dtype_name(lt.zeros_like(source).dtype) == dtype
    assert not np.any(to_numpy(lt.zeros_like(source)))
    assert np.all(to_numpy(lt.ones_like(source)))
    assert dtype_name(lt.ones_like(source).dtype) == dtype
    full = lt.full_like(source, 1)
    assert dtype_name(full.dtype) == dtype and np.all(to_numpy(full) == 1)
    assert dtype_name(lt.zeros_like(source, dtype=lt.float64).dtype) == "float64"


def test_like_factories_preserve_strides_of_a_dense_transposed_input():
    transposed = lt.ones(2, 3).t()
    assert lt.zeros_like(transposed).stride() == (1, 3)
    assert lt.ones_like(transposed).stride() == (1, 3)
    assert lt.full_like(transposed, 2.0).stride() == (1, 3)


def test_rand_is_uniform_in_zero_one():
    lt.manual_seed(0)
    samples = to_numpy(lt.rand(20000))
    assert samples.dtype == np.float32
    assert samples.min() >= 0.0 and samples.max() < 1.0
    assert abs(samples.mean() - 0.5) < 0.02
    assert abs(samples.var() - 1 / 12) < 0.01
    assert len(np.unique(samples)) > 19000
    assert lt.rand(2, 3).shape == (2, 3) and lt.rand((4,)).shape == (4,)
    assert dtype_name(lt.rand(3, dtype=lt.float64).dtype) == "float64"


def test_randn_has_mean_zero_and_std_one():
    lt.manual_seed(1)
    samples = to_numpy(lt.randn(20000)).astype(np.float64)
    assert abs(samples.mean()) < 0.05
    assert abs(samples.std() - 1.0) < 0.05
    assert 0.6 < np.mean(np.abs(samples) < 1.0) < 0.76  # ~68% within one sigma
    assert lt.randn(3, 4).shape == (3, 4)
    assert dtype_name(lt.randn(3, dtype=lt.float64).dtype) == "float64"


def test_randint_covers_its_half_open_range():
    lt.manual_seed(2)
    samples = to_numpy(lt.randint(3, 10, (5000,)))
    assert samples.dtype == np.int64
    assert set(np.unique(samples).tolist()) == set(range(3, 10))
    high_only = to_numpy(lt.randint(4, (1000,)))
    assert set(np.unique(high_only).tolist()) == {0, 1, 2, 3}
    assert lt.randint(0, 5, (2, 3)).shape == (2, 3)
    assert dtype_name(lt.randint(0, 5, (2,), dtype=lt.int32).dtype) == "int32"


@pytest.mark.parametrize("factory", ["rand", "randn", "randint"])
def test_manual_seed_makes_random_factories_reproducible(factory):
    def draw():
        if factory == "randint":
            return to_numpy(lt.randint(0, 1000, (50,)))
        return to_numpy(getattr(lt, factory)(50))

    lt.manual_seed(1234)
    first = draw()
    second = draw()
    lt.manual_seed(1234)
    again = draw()
    lt.manual_seed(4321)
    other = draw()
    assert np.array_equal(first, again)
    assert not np.array_equal(first, second)
    assert not np.array_equal(first, other)


@given(start=st.integers(-20, 20), length=st.integers(0, 30), step=st.integers(-4, 4).filter(bool))
def test_arange_with_int_arguments_matches_numpy(start, length, step):
    end = start + length * step // abs(step)
    t = lt.arange(start, end, step)
    assert dtype_name(t.dtype) == "int64"
    assert t.tolist() == np.arange(start, end, step).tolist()


@given(start=st.floats(-10, 10), span=st.floats(0, 20), step=st.floats(0.05, 3.0))
def test_arange_with_float_arguments_has_ceil_length(start, span, step):
    end = start + span
    t = lt.arange(start, end, step)
    assert dtype_name(t.dtype) == "float32"
    assert t.shape == (math.ceil((end - start) / step),)
    expected = start + step * np.arange(t.shape[0], dtype=np.float64)
    assert_close(t, expected, "float32", rtol=1e-5, atol=1e-5)


def test_arange_forms_and_dtypes():
    assert lt.arange(5).tolist() == [0, 1, 2, 3, 4]
    assert lt.arange(1, 4).tolist() == [1, 2, 3]
    assert lt.arange(0, -3, -1).tolist() == [0, -1, -2]
    assert lt.arange(0).shape == (0,)
    assert lt.arange(0, 1, 0.25).tolist() == [0.0, 0.25, 0.5, 0.75]
    assert lt.arange(0, 1, 0.1).shape == (10,)
    assert dtype_name(lt.arange(1.0, 4).dtype) == "float32"
    assert dtype_name(lt.arange(5, dtype=lt.float64).dtype) == "float64"
    assert lt.arange(5, dtype=lt.float32).tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


@given(start=st.floats(-100, 100), end=st.floats(-100, 100), steps=st.integers(0, 50))
def test_linspace_matches_numpy(start, end, steps):
    t = lt.linspace(start, end, steps)
    assert dtype_name(t.dtype) == "float32"
    expected = np.linspace(start, end, steps)
    assert_close(t, expected, "float32", rtol=1e-5, atol=1e-4)
    if steps >= 2:
        assert math.isclose(t[0].item(), start, rel_tol=1e-6, abs_tol=1e-5)
        assert math.isclose(t[-1].item(), end, rel_tol=1e-6, abs_tol=1e-5)


@pytest.mark.parametrize(("n", "m"), [(0, None), (1, None), (3, None), (2, 4), (4, 2), (3, 0)])
def test_eye_matches_numpy(n, m):
    t = lt.eye(n) if m is None else lt.eye(n, m)
    assert_close(t, np.eye(n, m), "float32", kind="exact")
    assert dtype_name(lt.eye(3, dtype=lt.int64).dtype) == "int64"


# ---------------------------------------------------------------- sharing memory with numpy


@pytest.mark.parametrize("dtype", [d for d in ALL_DTYPES if d != "bfloat16"])
def test_from_numpy_shares_memory_both_ways(dtype):
    array = cast_values(np.arange(6).reshape(2, 3) % 2, dtype)
    t = lt.from_numpy(array)
    assert dtype_name(t.dtype) == dtype
    array[0, 0] = 1
    assert to_numpy(t)[0, 0] == 1
    t[1, 2] = 0
    assert array[1, 2] == 0


def test_from_numpy_keeps_numpy_strides():
    array = np.arange(12, dtype=np.float32).reshape(3, 4)[:, ::2]
    t = lt.from_numpy(array)
    assert t.stride() == (4, 2) and t.shape == (3, 2)
    assert t.tolist() == array.tolist()
    array[2, 1] = -1.0
    assert t[2, 1].item() == -1.0


def test_from_numpy_rejects_negative_strides():
    with pytest.raises(ValueError):
        lt.from_numpy(np.arange(5.0)[::-1])


def test_numpy_and_array_protocol_share_memory():
    t = lt.arange(4.0)
    view = t.numpy()
    assert view.dtype == np.float32
    view[0] = 10.0
    assert t[0].item() == 10.0
    t[1] = 20.0
    assert view[1] == 20.0
    as_array = np.asarray(t)
    assert as_array.dtype == np.float32 and as_array.tolist() == [10.0, 20.0, 2.0, 3.0]
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    assert np.asarray(lt.tensor([1, 2], dtype=lt.int16)).dtype == np.int16


def test_as_tensor_shares_numpy_memory_unless_converting():
    array = np.arange(3.0)
    shared = lt.as_tensor(array)
    assert dtype_name(shared.dtype) == "float64"
    array[0] = 7.0
    assert shared[0].item() == 7.0
    converted = lt.as_tensor(array, dtype=lt.float32)
    array[1] = 8.0
    assert converted[1].item() == 1.0
    existing = lt.ones(2)
    assert lt.as_tensor(existing) is existing
    assert lt.as_tensor([1, 2]).tolist() == [1, 2]


# ---------------------------------------------------------------- dtypes


@pytest.mark.parametrize(
    ("alias", "name"),
    [("float", "float32"), ("double", "float64"), ("half", "float16"), ("short", "int16"),
     ("int", "int32"), ("long", "int64")],
)
def test_dtype_aliases_are_the_same_objects(alias, name):
    assert getattr(lt, alias) is getattr(lt, name)


def test_dtypes_are_distinct_and_comparable():
    dtypes = [getattr(lt, name) for name in ALL_DTYPES]
    for i, a in enumerate(dtypes):
        for j, b in enumerate(dtypes):
            assert (a == b) == (i == j)
    assert len({hash(d) for d in dtypes}) == len(dtypes)


def test_default_dtype_is_float32_and_drives_float_creation(restore_default_dtype):
    assert lt.get_default_dtype() == lt.float32
    lt.set_default_dtype(lt.float64)
    assert lt.get_default_dtype() == lt.float64
    assert lt.tensor([1.0]).dtype == lt.float64
    assert lt.zeros(2).dtype == lt.float64
    assert lt.rand(2).dtype == lt.float64
    assert lt.arange(0.0, 1.0, 0.5).dtype == lt.float64
    assert (lt.tensor([1, 2]) * 2.5).dtype == lt.float64
    assert (lt.tensor([1, 2]) / 2).dtype == lt.float64
    assert lt.tensor([1, 2]).dtype == lt.int64
    lt.set_default_dtype(lt.float32)
    assert lt.tensor([1.0]).dtype == lt.float32


def test_set_default_dtype_rejects_integer_types(restore_default_dtype):
    with pytest.raises(TypeError):
        lt.set_default_dtype(lt.int32)


# ---------------------------------------------------------------- conversions


def test_python_number_conversions_of_one_element_tensors():
    assert float(lt.tensor([[2.5]])) == 2.5
    assert int(lt.tensor(-2.7)) == -2
    assert int(lt.tensor([7])) == 7
    assert bool(lt.tensor(0.0)) is False and bool(lt.tensor([3])) is True
    assert type(lt.tensor(1.5).item()) is float
    assert type(lt.tensor(3).item()) is int
    assert type(lt.tensor(True).item()) is bool
    assert lt.tensor([[4.0]]).item() == 4.0


@given(data=st.data())
def test_tolist_matches_numpy_tolist(data):
    dtype = data.draw(st.sampled_from(ALL_DTYPES))
    values = data.draw(value_arrays(dtype, data.draw(shapes())))
    t = lt.tensor(values, dtype=getattr(lt, dtype))
    assert t.tolist() == values.tolist()
    if values.size == 1 and values.ndim == 0:
        assert t.item() == values.item()


@given(data=st.data())
def test_numpy_round_trip_keeps_values_and_dtype(data):
    dtype = data.draw(st.sampled_from([d for d in ALL_DTYPES if d != "bfloat16"]))
    values = data.draw(value_arrays(dtype, data.draw(shapes())))
    result = lt.tensor(values).numpy()
    assert result.dtype == values.dtype and result.shape == values.shape
    assert np.array_equal(result, values)


@pytest.mark.parametrize(
    ("method", "dtype"),
    [("double", "float64"), ("float", "float32"), ("half", "float16"), ("int", "int32"),
     ("long", "int64"), ("bool", "bool")],
)
def test_dtype_conversion_methods(method, dtype):
    source = lt.tensor([-2.7, 0.0, 1.5, 3.0])
    converted = getattr(source, method)()
    assert dtype_name(converted.dtype) == dtype
    expected = cast_values(np.array([-2.7, 0.0, 1.5, 3.0], dtype=np.float32), dtype)
    assert_close(converted, expected, dtype, kind="exact")
    assert source.dtype == lt.float32


def test_to_changes_dtype_and_returns_self_when_nothing_changes():
    t = lt.tensor([1.5, -2.5])
    assert t.to(lt.float64).dtype == lt.float64
    assert t.to(dtype=lt.int64).tolist() == [1, -2]
    assert t.to(dtype=lt.float32) is t
    assert t.to("cpu") is t
    assert t.to(device="cpu") is t
    assert t.to(lt.device("cpu")) is t
    assert t.cpu() is t
    both = t.to(device="cpu", dtype=lt.float16)
    assert both.dtype == lt.float16 and both.device.type == "cpu"


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_float_to_int_conversion_truncates_toward_zero(dtype):
    t = lt.tensor([-3.75, -0.5, 0.5, 2.99], dtype=getattr(lt, dtype))
    assert t.long().tolist() == [-3, 0, 0, 2]
    assert t.bool().tolist() == [True, True, True, True]


def test_repr_matches_pytorch_format():
    assert repr(lt.tensor([1.0, 4.0])) == "tensor([1., 4.])"
    assert repr(lt.tensor([1.5, 2.0])) == "tensor([1.5000, 2.0000])"
    assert repr(lt.tensor(3.5)) == "tensor(3.5000)"
    assert repr(lt.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(lt.tensor([True, False])) == "tensor([ True, False])"
    assert repr(lt.tensor([[1.0, 4.0], [2.0, 1.0]])) == "tensor([[1., 4.],\n        [2., 1.]])"
    assert str(lt.tensor([1.0, 4.0])) == "tensor([1., 4.])"


# ---------------------------------------------------------------- devices


def test_cpu_device_objects():
    cpu = lt.device("cpu")
    assert cpu.type == "cpu"
    assert lt.ones(2).device == cpu
    assert lt.ones(2).device.type == "cpu"
    assert lt.ones(2, device="cpu").device == cpu
    assert lt.ones(2, device=cpu).device == cpu
    assert str(cpu) == "cpu"


def test_cuda_device_objects_parse_the_index():
    assert lt.device("cuda:1").type == "cuda"
    assert lt.device("cuda:1").index == 1
    assert str(lt.device("cuda:0")) == "cuda:0"
    assert lt.device("cuda").index is None
    assert lt.device("cuda", 2) == lt.device("cuda:2")


def test_cuda_device_count_agrees_with_is_available():
    count = lt.cuda.device_count()
    assert isinstance(count, int) and count >= 0
    assert lt.cuda.is_available() == (count > 0)


# A CPU-only PyTorch build raises AssertionError ("Torch not compiled with CUDA
# enabled"); the lazyt contract is RuntimeError.
NO_CUDA_ERRORS = (RuntimeError, AssertionError) if BACKEND == "torch" else RuntimeError


def test_cuda_tensors_work_or_raise_runtime_error():
    if lt.cuda.is_available():
        on_gpu = lt.tensor([1.0, 2.0], device="cuda")
        assert on_gpu.device.type == "cuda"
        assert (on_gpu * 2).cpu().tolist() == [2.0, 4.0]
        assert lt.ones(2).cuda().device.type == "cuda"
        assert lt.ones(2).to("cuda:0").device == lt.device("cuda:0")
    else:
        with pytest.raises(NO_CUDA_ERRORS):
            lt.zeros(2, device="cuda")
        with pytest.raises(NO_CUDA_ERRORS):
            lt.ones(2).cuda()
        with pytest.raises(NO_CUDA_ERRORS):
            lt.ones(2).to("cuda")


def test_mixing_devices_raises_runtime_error_naming_both():
    if not lt.cuda.is_available():
        pytest.skip("needs a CUDA device")
    with pytest.raises(RuntimeError, match="(?s)(cuda.*cpu|cpu.*cuda)"):
        lt.ones(2, device="cuda") + lt.ones(2)


def test_version_is_a_nonempty_string():
    assert isinstance(lt.__version__, str) and lt.__version__
