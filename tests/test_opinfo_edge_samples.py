"""Edge cases found by running every OpInfo sample (tests/opinfo with
--full), which CI's first-samples run does not reach; expected values are
PyTorch's."""

import pytest

import lazyt as lt


def test_broadcast_shapes_takes_ints_as_1d_shapes():
    assert tuple(lt.broadcast_shapes(2, (3, 1))) == (3, 2)
    assert tuple(lt.broadcast_shapes((5, 1), 5)) == (5, 5)


def test_an_empty_index_gathers_nothing_whatever_its_dtype_or_rank():
    x = lt.randn(5, requires_grad=True)
    out = lt.gather(x, 0, lt.zeros(2, 0, dtype=lt.uint8))
    assert tuple(out.shape) == (2, 0) and out.requires_grad
    out.sum().backward()
    assert x.grad.tolist() == [0.0] * 5
    with pytest.raises(RuntimeError, match="Expected dtype int32/int64 for index"):
        lt.gather(x, 0, lt.ones(2, dtype=lt.uint8))
    assert lt.zeros(5).scatter_add(0, lt.zeros(2, 0, dtype=lt.uint8), lt.randn(2, 0)).tolist() == \
        [0.0] * 5


def test_take_along_dim_wraps_indices_along_a_dim():
    x = lt.arange(5.0)
    assert lt.take_along_dim(x, lt.tensor([-1, -5, -6, 5]), 0).tolist() == [4.0, 0.0, 4.0, 0.0]
    assert lt.take_along_dim(x, lt.tensor([1], dtype=lt.int32)).tolist() == [1.0]


def test_kthvalue_of_a_scalar_and_k_out_of_range():
    values, indices = lt.kthvalue(lt.tensor(3.0), 1)
    assert values.item() == 3.0 and indices.item() == 0
    with pytest.raises(RuntimeError, match=r"kthvalue\(\): selected number k out of range for "
                                           "dimension 0"):
        lt.kthvalue(lt.arange(3.0), 4)


def test_diff_of_order_zero_ignores_prepend_and_append():
    x = lt.randn(5, 5)
    assert lt.diff(x, 0, 0, lt.randn(1, 5), lt.randn(2, 5)).tolist() == x.tolist()


def test_in_place_cumulative_ops_take_their_own_dtype_only():
    x = lt.tensor([1.0, 2.0, 3.0])
    assert x.clone().cumsum_(0, dtype=lt.float32).tolist() == [1.0, 3.0, 6.0]
    assert x.clone().cumprod_(0).tolist() == [1.0, 2.0, 6.0]
    with pytest.raises(RuntimeError, match="Bad in-place call: input tensor dtype float and "
                                           "output tensor dtype double should match"):
        x.cumsum_(0, dtype=lt.float64)


def test_tensor_tolerances_of_matrix_rank_are_per_matrix():
    a = lt.stack([lt.eye(3), lt.diag(lt.tensor([1.0, 1e-3, 0.0]))])
    assert lt.linalg.matrix_rank(a, rtol=lt.tensor([0.0, 1e-2])).tolist() == [3, 1]
    assert tuple(lt.linalg.matrix_rank(lt.zeros(0, 5, 5), rtol=lt.zeros(0)).shape) == (0,)


def test_index_fill_counts_each_filled_slice_once_in_the_value_gradient():
    value = lt.tensor(2.0, requires_grad=True)
    lt.randn(5, 5).index_fill(-1, lt.tensor([2, 1, 4, 2, 2]), value).sum().backward()
    assert value.grad.item() == 15.0


def test_cat_gives_skipped_empty_inputs_an_empty_gradient():
    a, e = lt.randn(2, 3, requires_grad=True), lt.randn(0, requires_grad=True)
    lt.cat([a, e]).sum().backward()
    assert e.grad is not None and tuple(e.grad.shape) == (0,)
    b, c = lt.randn(0, requires_grad=True), lt.randn(0, requires_grad=True)
    lt.cat([b, c]).sum().backward()
    assert tuple(c.grad.shape) == (0,)


def test_half_precision_norms_sum_in_float32():
    x = lt.full((100,), 30.0, dtype=lt.float16)  # (x * x summed in float16 would overflow)
    for value in (lt.linalg.vector_norm(x), lt.norm(x), lt.dist(x, lt.zeros_like(x)),
                  lt.linalg.norm(x)):
        assert value.dtype is lt.float16 and value.item() == 300.0


def test_normal_with_tensor_arguments_broadcasts_in_means_dtype():
    assert tuple(lt.normal(lt.zeros(2, 1), lt.ones(3)).shape) == (2, 3)
    assert lt.normal(lt.zeros(2, dtype=lt.float16), lt.ones(2, dtype=lt.float64)).dtype \
        is lt.float16
    assert lt.normal(0.0, lt.ones(2, dtype=lt.float16)).dtype is lt.float16
    assert lt.normal(lt.zeros(2, dtype=lt.float64), 1.0).dtype is lt.float64


def test_scalars_that_overflow_the_dtype_are_refused_like_pytorch():
    t = lt.zeros(3)
    for write in (lambda: t.__setitem__(0, 1e40), lambda: t.__setitem__([0, 1], 1e40),
                  lambda: t.fill_(2 ** 200)):
        with pytest.raises(RuntimeError, match="value cannot be converted to type float without "
                                               "overflow"):
            write()
    with pytest.raises(RuntimeError, match=r"type c10::Half without overflow"):
        lt.zeros(2, dtype=lt.float16).fill_(1e5)
    with pytest.raises(RuntimeError, match="type int8_t without overflow"):
        lt.zeros(2, dtype=lt.int8)[0] = 200
    assert lt.zeros(2, dtype=lt.uint8).fill_(-1).tolist() == [255, 255]
    assert lt.zeros(1).fill_(float("inf")).tolist() == [float("inf")]


def test_setitem_values_drop_leading_ones_and_fail_like_expand():
    s = lt.zeros(3, 4, 5)
    s[0] = lt.ones(1, 1, 4, 5)
    assert s.sum().item() == 20.0
    with pytest.raises(RuntimeError, match=r"The expanded size of the tensor \(4\) must match the "
                                           r"existing size \(2\) at non-singleton dimension 0"):
        s[0, :, 0] = lt.ones(2)
    with pytest.raises(RuntimeError, match=r"expand\(lazyt.FloatTensor\{\[2, 4, 5\]\}, size=\[4, "
                                           r"5\]\): the number of sizes provided \(2\) must be"):
        s[0] = lt.ones(2, 4, 5)


def test_a_list_holding_sequences_indexes_as_a_tuple():
    t = lt.arange(60.0).reshape(3, 4, 5)
    with pytest.warns(UserWarning, match="non-tuple sequence for multidimensional indexing"):
        picked = t[[[0, 1], [1, 2]]]
    assert picked.tolist() == t[[0, 1], [1, 2]].tolist()


def test_tensors_inside_data_are_read_as_scalars():
    assert lt.tensor([lt.tensor([1.0]), lt.tensor([2.0])]).tolist() == [1.0, 2.0]
    assert lt.tensor([lt.tensor(1, dtype=lt.int32), lt.tensor(2, dtype=lt.int32)]).dtype \
        is lt.int32
    with pytest.raises(ValueError, match="only one element tensors can be converted"):
        lt.tensor([lt.ones(2), lt.ones(2)])
    with pytest.warns(UserWarning, match="To copy construct from a tensor"):
        lt.tensor(lt.ones(2))


def test_relu_passes_the_gradient_of_a_nan_input():
    x = lt.tensor([float("nan"), -1.0, 2.0], requires_grad=True)
    lt.relu(x).sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 1.0]
