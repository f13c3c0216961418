"""Basic and advanced indexing, reading and writing, against numpy and PyTorch.

numpy is the reference with one PyTorch difference built in: PyTorch applies
integer indices (and 0-d integer tensors) as select() before the tensor indices,
so `x[0, :, [0, 1]]` has shape (3, 2) for x of shape (2, 3, 4) where numpy gives
(2, 3). The reference applies ints first, then the advanced part, like PyTorch.
"""

from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tests._backend import (
    ALL_DTYPES,
    TORCH,
    Input,
    assert_close,
    basic_indices,
    cast_values,
    check_op,
    inputs,
    is_float,
    is_int,
    lt,
    make_tensor,
    shapes,
    to_numpy,
)

WRITABLE_LAYOUTS = ("contiguous", "transposed", "strided")  # writing into expand() is an error


# ---------------------------------------------------------------- basic indexing


@given(x=inputs(shape=shapes(max_side=5)), data=st.data())
def test_basic_indexing_with_ints_slices_none_and_ellipsis_matches_numpy(x, data):
    index = data.draw(basic_indices(x.values.shape))
    expected = np.asarray(x.values[index])
    check_op(lambda m, t: t[index], [x], expected, x.dtype, kind="exact", msg=repr(index))


def test_negative_indices_count_from_the_end():
    t = lt.arange(12).view(3, 4)
    assert t[-1].tolist() == [8, 9, 10, 11]
    assert t[-1, -2].item() == 10
    assert t[:, -3:-1].tolist() == [[1, 2], [5, 6], [9, 10]]
    assert t[-2:, ::2].tolist() == [[4, 6], [8, 10]]


# ---------------------------------------------------------------- advanced indexing


@dataclass
class IndexItem:
    """One position of an index tuple: a slice, an int, or an integer array (tensor or list)."""

    kind: str
    value: object
    form: str = "tensor"  # "tensor" (int64 / int32) or "list" for arrays
    dtype: str = "int64"

    def build(self, module):
        if self.kind != "array":
            return self.value
        if self.form == "list":
            return self.value.tolist()
        return make_tensor(module, self.value, self.dtype)


def torch_style_getitem(values: np.ndarray, items: list[IndexItem]) -> np.ndarray:
    """numpy indexing with PyTorch's order: ints select first, then the integer arrays."""
    basic, array_positions, out_dim = [], [], 0
    for item in items:
        if item.kind == "int" or item.kind == "array" and np.ndim(item.value) == 0:
            basic.append(int(item.value))  # a 0-d index tensor acts as an int in PyTorch
        else:
            basic.append(item.value if item.kind == "slice" else slice(None))
            if item.kind == "array":
                array_positions.append((out_dim, item.value))
            out_dim += 1
    selected = values[tuple(basic)]
    advanced = [slice(None)] * selected.ndim
    for position, array in array_positions:
        advanced[position] = array
    return np.asarray(selected[tuple(advanced)])


@st.composite
def slices(draw, size):
    bound = size + 2
    start = draw(st.none() | st.integers(-bound, bound))
    stop = draw(st.none() | st.integers(-bound, bound))
    return slice(start, stop, draw(st.none() | st.integers(1, 3)))


@st.composite
def advanced_indices(draw, shape) -> list[IndexItem]:
    """Index tuples mixing slices, ints and broadcastable integer arrays (negative ones too)."""
    consumed = draw(st.integers(1, len(shape)))
    kinds = [draw(st.sampled_from(("slice", "int", "array", "array"))) for _ in range(consumed)]
    kinds = [k if shape[d] > 0 or k == "slice" else "slice" for d, k in enumerate(kinds)]
    array_count = kinds.count("array")
    broadcast = draw(hnp.mutually_broadcastable_shapes(num_shapes=max(array_count, 1), max_dims=2,
                                                       max_side=3))
    array_shapes = iter(broadcast.input_shapes)
    items = []
    for d, kind in enumerate(kinds):
        size = shape[d]
        if kind == "slice":
            items.append(IndexItem("slice", draw(slices(size))))
        elif kind == "int":
            items.append(IndexItem("int", draw(st.integers(-size, size - 1))))
        else:
            array_shape = next(array_shapes)
            array = draw(hnp.arrays(np.int64, array_shape, elements=st.integers(-size, size - 1)))
            form = "list" if array.ndim == 1 and draw(st.booleans()) else "tensor"
            items.append(IndexItem("array", array, form, draw(st.sampled_from(("int64", "int32")))))
    return items


def _index_of(items, module):
    built = tuple(item.build(module) for item in items)
    return built[0] if len(built) == 1 else built


@given(x=inputs(shape=shapes(min_dims=1, max_side=5)), data=st.data())
def test_advanced_indexing_with_integer_arrays_matches_numpy(x, data):
    items = data.draw(advanced_indices(x.values.shape))
    expected = torch_style_getitem(x.values, items)
    check_op(lambda m, t: t[_index_of(items, m)], [x], expected, x.dtype, kind="exact",
             msg=repr(items))


@st.composite
def mask_indices(draw, shape):
    """(leading full slices, boolean mask over the next dims, as tensor or list)."""
    lead = draw(st.integers(0, len(shape) - 1))
    mask_dims = draw(st.integers(1, len(shape) - lead))
    mask = draw(hnp.arrays(np.bool_, shape[lead:lead + mask_dims], elements=st.booleans()))
    as_list = mask.ndim == 1 and draw(st.booleans())
    return lead, mask, as_list


def _mask_index(module, lead, mask, as_list):
    built = mask.tolist() if as_list else make_tensor(module, mask, "bool")
    return built if lead == 0 else (*([slice(None)] * lead), built)


@given(x=inputs(shape=shapes(min_dims=1, max_side=5)), data=st.data())
def test_boolean_mask_indexing_matches_numpy(x, data):
    lead, mask, as_list = data.draw(mask_indices(x.values.shape))
    expected = x.values[(*([slice(None)] * lead), mask)]
    check_op(lambda m, t: t[_mask_index(m, lead, mask, as_list)], [x], expected, x.dtype,
             kind="exact")


@given(x=inputs(shape=shapes(min_dims=1, max_side=5)))
def test_indexing_with_a_comparison_result_selects_elements(x):
    threshold = cast_values(np.asarray(x.values.flat[0] if x.values.size else 0), x.dtype)
    expected = x.values[x.values > threshold]

    def select(m, t):
        bound = make_tensor(m, threshold, x.dtype)
        return t[t > bound]

    check_op(select, [x], expected, x.dtype, kind="exact")


def test_advanced_indexing_returns_a_copy():
    base = lt.arange(6.0)
    picked = base[lt.tensor([0, 2, 4])]
    picked[0] = 100.0
    masked = base[base > 3]
    masked[0] = -1.0
    assert base.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_integer_before_a_slice_and_an_array_is_applied_as_select():
    x = lt.arange(24).view(2, 3, 4)
    result = x[0, :, [0, 1]]
    assert result.shape == (3, 2)
    assert result.tolist() == [[0, 1], [4, 5], [8, 9]]
    assert x[[0, 1], :, [1, 2]].shape == (2, 3)  # separated arrays: their dim goes first
    assert x[:, [0, 2], [1, 3]].tolist() == [[1, 11], [13, 23]]


# ---------------------------------------------------------------- writing through indices


def _scalar_for(dtype: str):
    if dtype == "bool":
        return True
    return 7 if is_int(dtype) else 2.5


def _check_setitem(x: Input, index_for, value_for, expected: np.ndarray) -> None:
    """t[index] = value on lt (and torch), then compare the whole tensor with `expected`."""
    target = x.make(lt)
    target[index_for(lt)] = value_for(lt)
    assert_close(target, expected, x.dtype, kind="exact")
    if TORCH is not None:
        oracle = x.make(TORCH)
        oracle[index_for(TORCH)] = value_for(TORCH)
        assert_close(target, oracle, kind="exact")


@given(x=inputs(shape=shapes(min_dims=1, max_side=5), layouts=WRITABLE_LAYOUTS), data=st.data())
def test_setitem_with_integer_arrays_and_a_scalar(x, data):
    items = data.draw(advanced_indices(x.values.shape))
    value = _scalar_for(x.dtype)
    expected = x.values.copy()
    numpy_index = tuple(item.value for item in items)
    expected[numpy_index] = value  # which elements are written does not depend on dim order
    _check_setitem(x, lambda m: _index_of(items, m), lambda m: value, expected)


@given(x=inputs(shape=shapes(min_dims=1, min_side=1, max_side=5), layouts=WRITABLE_LAYOUTS),
       data=st.data())
def test_setitem_with_a_unique_index_array_and_broadcast_tensor_values(x, data):
    shape = x.values.shape
    dim = data.draw(st.integers(0, x.ndim - 1))
    size = shape[dim]
    order = np.array(data.draw(st.permutations(range(size))), dtype=np.int64)
    index = order[:data.draw(st.integers(0, size))]
    index = np.where(data.draw(hnp.arrays(np.bool_, index.shape)), index - size, index)
    numpy_index = (*([slice(None)] * dim), index)
    target_shape = x.values[numpy_index].shape
    value_shape = tuple(data.draw(st.sampled_from((1, s))) for s in target_shape)
    value_shape = value_shape[data.draw(st.integers(0, len(value_shape))):]
    value = data.draw(inputs(shape=value_shape, dtypes=x.dtype))
    expected = x.values.copy()
    expected[numpy_index] = value.values

    def index_for(m):
        return (*([slice(None)] * dim), make_tensor(m, index, "int64"))

    _check_setitem(x, index_for, value.make, expected)


@given(x=inputs(shape=shapes(min_dims=1, max_side=5), layouts=WRITABLE_LAYOUTS), data=st.data())
def test_setitem_with_a_boolean_mask(x, data):
    lead, mask, as_list = data.draw(mask_indices(x.values.shape))
    numpy_index = (*([slice(None)] * lead), mask)
    value = _scalar_for(x.dtype)
    expected = x.values.copy()
    expected[numpy_index] = value
    _check_setitem(x, lambda m: _mask_index(m, lead, mask, as_list), lambda m: value, expected)

    selected_shape = x.values[numpy_index].shape
    values = data.draw(inputs(shape=selected_shape, dtypes=x.dtype))
    expected = x.values.copy()
    expected[numpy_index] = values.values
    _check_setitem(x, lambda m: _mask_index(m, lead, mask, as_list), values.make, expected)


@given(x=inputs(shape=shapes(max_side=5), layouts=WRITABLE_LAYOUTS), data=st.data())
def test_setitem_with_basic_indices_writes_only_the_selection(x, data):
    index = data.draw(basic_indices(x.values.shape))
    selected_shape = np.asarray(x.values[index]).shape
    value = data.draw(inputs(shape=selected_shape, dtypes=x.dtype))
    expected = x.values.copy()
    expected[index] = value.values
    _check_setitem(x, lambda m: index, value.make, expected)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_setitem_casts_python_scalars_to_the_tensor_dtype(dtype):
    t = lt.zeros(4, dtype=getattr(lt, dtype))
    t[lt.tensor([1, 3])] = 1
    t[0] = True
    expected = cast_values(np.array([1, 1, 0, 1]), dtype)
    assert_close(t, expected, dtype, kind="exact")
    if is_float(dtype):
        t[2] = 0.5
        assert to_numpy(t)[2] == 0.5
