"""View copies (`*_copy`), view scatters, in-place view ops (`squeeze_`, `t_`,
`as_strided_`, `resize_`, ...), strided creation, ATen names (`unsafe_split`,
`sum_to_size`, `constant_pad_nd`, `lt.ops.aten.slice`), H/mH and the lt.fft
shifts, compared with PyTorch (skipped without it)."""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lazyt as lt

torch = pytest.importorskip("torch")


def _pair(shape, dtype=np.float64, seed=0):
    data = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return lt.tensor(data), torch.tensor(data)


def _same(got, expected):
    if isinstance(expected, (tuple, list)):
        assert isinstance(got, (tuple, list)) and len(got) == len(expected)
        for g, e in zip(got, expected):
            _same(g, e)
        return
    assert tuple(got.shape) == tuple(expected.shape)
    assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=1e-6,
                               atol=1e-9)


# ------------------------------------------------------------------ *_copy
COPY_CASES = [
    ("alias_copy", (3, 4), (), {}),
    ("as_strided_copy", (3, 4), ((2, 2), (1, 2), 1), {}),
    ("diagonal_copy", (3, 4, 5), (1, 0, 2), {}),
    ("expand_copy", (3, 1), ((2, 3, 4),), {}),
    ("permute_copy", (2, 3, 4), ((2, 0, 1),), {}),
    ("squeeze_copy", (2, 1, 3, 1), (), {}),
    ("squeeze_copy", (2, 1, 3, 1), ((1, 3),), {}),
    ("t_copy", (3, 4), (), {}),
    ("transpose_copy", (2, 3, 4), (0, 2), {}),
    ("unfold_copy", (7, 3), (0, 3, 2), {}),
    ("unsqueeze_copy", (3, 4), (-1,), {}),
    ("view_copy", (3, 4), ((2, 6),), {}),
    ("view_copy", (3, 4), ([-1],), {}),
    ("unbind_copy", (3, 4), (1,), {}),
    ("split_with_sizes_copy", (5, 4), ([2, 3],), {}),
]


@pytest.mark.parametrize("name, shape, args, kwargs", COPY_CASES)
def test_copy_ops_match_torch_and_own_their_storage(name, shape, args, kwargs):
    x, xt = _pair(shape)
    got = getattr(lt, name)(x, *args, **kwargs)
    expected = getattr(torch, name)(xt, *args, **kwargs)
    _same(got, expected)
    for t in got if isinstance(got, tuple) else (got,):
        assert t.is_contiguous()
        assert t.untyped_storage().data_ptr() != x.untyped_storage().data_ptr()


@pytest.mark.parametrize("name, shape, args, kwargs", COPY_CASES)
def test_copy_ops_gradients_match_torch(name, shape, args, kwargs):
    x, xt = _pair(shape)
    x.requires_grad_(True)
    xt.requires_grad_(True)
    got = getattr(lt, name)(x, *args, **kwargs)
    expected = getattr(torch, name)(xt, *args, **kwargs)
    got = got if isinstance(got, tuple) else (got,)
    expected = expected if isinstance(expected, (tuple, list)) else (expected,)
    weights = [np.arange(t.numel(), dtype=np.float64).reshape(tuple(t.shape)) for t in expected]
    sum(((g * lt.tensor(w)).sum() for g, w in zip(got, weights)), lt.tensor(0.0)).backward()
    sum((e * torch.tensor(w)).sum() for e, w in zip(expected, weights)).backward()
    _same(x.grad, xt.grad)


def test_copy_ops_write_out_like_torch():
    x, xt = _pair((3, 4))
    out = lt.empty(4, 3, dtype=lt.float64)
    assert lt.t_copy(x, out=out) is out
    _same(out, torch.t_copy(xt))
    outs = [lt.empty(3, dtype=lt.float64) for _ in range(4)]
    assert lt.unbind_copy(x, 1, out=outs) is None  # PyTorch returns None here too
    _same(outs, torch.unbind_copy(xt, 1))
    with pytest.raises(TypeError, match="must be tuple of Tensors"):
        lt.split_with_sizes_copy(x, [1, 2], out=lt.empty(3))


def test_copy_ops_errors_name_the_shapes():
    x = lt.zeros(3, 4)
    with pytest.raises(RuntimeError, match="shape '\\[5\\]' is invalid for input of size 12"):
        lt.view_copy(x, (5,))
    with pytest.raises(IndexError, match="Dimension out of range"):
        lt.transpose_copy(x, 0, 2)
    with pytest.raises(TypeError, match="must be Tensor"):
        lt.alias_copy([1, 2])


def test_copies_and_scatters_build_pending_graphs_in_deferred_mode():
    x, xt = _pair((3, 4))
    with lt.deferred():
        y = x * 2.0
        copied = lt.t_copy(y)
        scattered = lt.select_scatter(y, lt.zeros(4, dtype=lt.float64), 0, 1)
        summed = y.sum_to_size(1, 4)
        assert copied._is_pending and summed._is_pending
    lt.debug.reset_stats()
    _same(copied, (xt * 2.0).t())
    _same(scattered, torch.select_scatter(xt * 2.0, torch.zeros(4, dtype=torch.float64), 0, 1))
    _same(summed, (xt * 2.0).sum_to_size(1, 4))
    assert lt.debug.stats()["extern_calls"] == 0


# ---------------------------------------------------------------- scatters
SCATTER_CASES = [
    ("select_scatter", (3, 4), (4,), (0, 1)),
    ("select_scatter", (3, 4), (3,), (1, -1)),
    ("slice_scatter", (6, 4), (2, 4), (0, 1, 5, 2)),
    ("slice_scatter", (3, 6), (3, 3), (1, None, None, 2)),
    ("diagonal_scatter", (3, 4), (3,), ()),
    ("diagonal_scatter", (2, 3, 4), (2, 3), (1, 1, 2)),
]


@pytest.mark.parametrize("name, shape, src_shape, args", SCATTER_CASES)
def test_scatters_match_torch_values_and_gradients(name, shape, src_shape, args):
    x, xt = _pair(shape)
    src, srct = _pair(src_shape, seed=1)
    for t in (x, xt, src, srct):
        t.requires_grad_(True)
    got = getattr(lt, name)(x, src, *args)
    expected = getattr(torch, name)(xt, srct, *args)
    _same(got, expected)
    weight = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    (got * lt.tensor(weight)).sum().backward()
    (expected * torch.tensor(weight)).sum().backward()
    _same(x.grad, xt.grad)
    _same(src.grad, srct.grad)
    _same(getattr(x.detach(), name)(src.detach(), *args), expected)  # the method


@settings(max_examples=15, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), data=st.data())
def test_slice_and_select_scatter_match_torch_on_drawn_shapes(shape, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    size = shape[dim]
    start = data.draw(st.integers(-size - 1, size + 1))
    end = data.draw(st.one_of(st.none(), st.integers(-size - 1, size + 1)))
    step = data.draw(st.integers(1, 3))
    x, xt = _pair(tuple(shape))
    region = xt[(slice(None),) * (dim % len(shape)) + (slice(start, end, step),)]
    src, srct = _pair(tuple(region.shape), seed=1)
    _same(lt.slice_scatter(x, src, dim, start, end, step),
          torch.slice_scatter(xt, srct, dim, start, end, step))
    index = data.draw(st.integers(-size, size - 1))
    src, srct = _pair(tuple(xt.select(dim, index).shape), seed=2)
    _same(lt.select_scatter(x, src, dim, index), torch.select_scatter(xt, srct, dim, index))


def test_scatter_size_mismatch_is_torchs_error():
    with pytest.raises(RuntimeError, match=r"src size = \[3\], slice size = \[4\]"):
        lt.select_scatter(lt.zeros(3, 4), lt.zeros(3), 0, 0)
    with pytest.raises(RuntimeError, match="slice step must be positive"):
        lt.slice_scatter(lt.zeros(3, 4), lt.zeros(3, 4), 0, 0, 3, 0)


def test_as_strided_scatter_addresses_the_inputs_storage():
    base, base_t = lt.arange(8.0), torch.arange(8.0)
    for view, view_t in ((base[1:5], base_t[1:5]), (base[1::2], base_t[1::2]),
                         (base.view(2, 4).t(), base_t.view(2, 4).t())):
        for offset in (0, 1, 3):
            src = lt.tensor([9.0, 8.0])
            expected = torch.as_strided_scatter(view_t, torch.tensor([9.0, 8.0]), (2,), (2,),
                                                offset)
            got = lt.as_strided_scatter(view, src, (2,), (2,), offset)
            _same(got, expected)
            assert got.stride() == expected.stride()
    np.testing.assert_array_equal(base.numpy(), np.arange(8.0))  # input untouched


def test_as_strided_scatter_gradient_is_the_composite_ones():
    # PyTorch's own backward for as_strided_scatter is an expected failure of its
    # gradcheck (it gives self the written region's gradient); lazyt's is the
    # gradient of clone + as_strided(...).copy_(src), checked here against torch.
    x, xt = _pair((3, 3))
    src, srct = _pair((2, 2), seed=1)
    for t in (x, xt, src, srct):
        t.requires_grad_(True)
    weight = np.arange(9.0).reshape(3, 3)
    (lt.as_strided_scatter(x, src, (2, 2), (1, 2), 1) * lt.tensor(weight)).sum().backward()
    composite = xt.clone()
    composite.as_strided((2, 2), (1, 2), 1).copy_(srct)
    (composite * torch.tensor(weight)).sum().backward()
    _same(x.grad, xt.grad)
    _same(src.grad, srct.grad)


# ------------------------------------------------------------- ATen names
def test_aten_slice_is_a_view_like_torchs():
    x, xt = _pair((4, 6))
    got = lt.ops.aten.slice.Tensor(x, 1, -10, 100, 2)
    _same(got, torch.ops.aten.slice.Tensor(xt, 1, -10, 100, 2))
    assert got.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()
    _same(lt.ops.aten.slice(x, 0, 3, 1), torch.ops.aten.slice(xt, 0, 3, 1))
    with pytest.raises(RuntimeError, match="slice step must be positive"):
        lt.ops.aten.slice.Tensor(x, 0, 0, 2, 0)


def test_unsafe_split_and_chunk_match_torch():
    x, xt = _pair((5, 4))
    _same(lt.unsafe_split(x, 2), torch.unsafe_split(xt, 2))
    _same(x.unsafe_chunk(3, 1), xt.unsafe_chunk(3, 1))
    _same(lt.unsafe_split_with_sizes(x, [1, 4]), torch.unsafe_split_with_sizes(xt, [1, 4]))


@pytest.mark.parametrize("shape, size", [((3, 4), (1, 4)), ((3, 4), (4,)), ((2, 3, 4), (3, 1)),
                                         ((3, 4), (3, 4)), ((), ())])
def test_sum_to_size_matches_torch(shape, size):
    x, xt = _pair(shape)
    if size:
        _same(x.sum_to_size(*size), xt.sum_to_size(*size))
    _same(x.sum_to_size(size), xt.sum_to_size(size))
    flags = lt.tensor(np.ones(shape, dtype=bool))
    _same(flags.sum_to_size(size), torch.ones(shape, dtype=torch.bool).sum_to_size(size))


def test_sum_to_size_error_names_both_sizes():
    with pytest.raises(RuntimeError, match=r"size \{\[2, 4\]\} is not expandable to size "
                                           r"\{\[3, 4\]\}"):
        lt.zeros(3, 4).sum_to_size(2, 4)


def test_constant_pad_nd_matches_torch():
    x, xt = _pair((3, 4))
    _same(lt.constant_pad_nd(x, (1, 2, -1, 0), 3.0), torch.constant_pad_nd(xt, (1, 2, -1, 0), 3.0))
    _same(lt.constant_pad_nd(x, [2, 2, 2, 2]), torch.constant_pad_nd(xt, [2, 2, 2, 2]))
    with pytest.raises(RuntimeError, match="Length of pad must be even but instead it equals 1"):
        lt.constant_pad_nd(x, [2])


# ------------------------------------------------------- strided creation
def test_strided_creation_has_torchs_strides():
    assert lt.empty_strided((2, 3), (1, 2)).stride() == (1, 2)
    assert lt.empty_strided((2, 3), (0, 0)).untyped_storage().nbytes() == 4
    got = lt.empty_permuted((2, 3, 4), (2, 0, 1), dtype=lt.int64)
    expected = torch.empty_permuted((2, 3, 4), (2, 0, 1))
    assert got.stride() == expected.stride() and got.dtype is lt.int64
    y = lt.zeros(2, dtype=lt.float64).new_empty_strided((2, 3), (3, 1))
    assert y.dtype is lt.float64 and y.stride() == (3, 1)
    with pytest.raises(RuntimeError, match="dimensionality of sizes \\(2\\) must match"):
        lt.empty_strided((2, 3), (1,))
    with pytest.raises(RuntimeError, match="Duplicate dim not allowed"):
        lt.empty_permuted((2, 3, 4), (2, 0, 0))


# --------------------------------------------------------------- H, mH, fft
def test_h_and_mh_are_transposes_for_real_tensors():
    x, xt = _pair((3, 4))
    _same(x.H, xt.H)
    b, bt = _pair((2, 3, 4))
    _same(b.mH, bt.mH)
    with pytest.raises(RuntimeError, match="consider using tensor.mH"):
        _ = b.H
    with pytest.raises(RuntimeError, match="Got 1-D tensor"):
        _ = lt.zeros(3).mH


@pytest.mark.parametrize("dim", [None, 0, 1, (0, 2), (-1,)])
@pytest.mark.parametrize("name", ["fftshift", "ifftshift"])
def test_fft_shifts_match_torch(name, dim):
    x, xt = _pair((3, 4, 5))
    _same(getattr(lt.fft, name)(x, dim=dim), getattr(torch.fft, name)(xt, dim=dim))


def test_tensor_split_takes_a_tensor_count_or_indices():
    x, xt = _pair((5, 4))
    _same(lt.tensor_split(x, lt.tensor(3)), torch.tensor_split(xt, torch.tensor(3)))
    _same(x.tensor_split(lt.tensor([1, 3]), 1), xt.tensor_split(torch.tensor([1, 3]), 1))
    with pytest.raises(RuntimeError, match="to have dtype of long, but got Float"):
        lt.tensor_split(x, lt.tensor(2.0))
    with pytest.raises(RuntimeError, match="number of sections must be larger than 0, got 0"):
        lt.tensor_split(x, 0)


# ---------------------------------------------------------- in-place views
INPLACE_CASES = [
    ("squeeze_", (3, 1, 4, 1), ()),
    ("squeeze_", (3, 1, 4, 1), (1,)),
    ("squeeze_", (3, 1, 4, 1), ((1, 3),)),
    ("unsqueeze_", (3, 4), (1,)),
    ("t_", (3, 4), ()),
    ("transpose_", (2, 3, 4), (0, 2)),
    ("swapaxes_", (2, 3, 4), (1, 2)),
    ("as_strided_", (3, 4), ((2, 2), (1, 2), 1)),
]


@pytest.mark.parametrize("name, shape, args", INPLACE_CASES)
@pytest.mark.parametrize("mode", ["eager", "deferred"])
def test_inplace_view_ops_change_the_tensors_own_layout(name, shape, args, mode):
    x, xt = _pair(shape)
    with lt.deferred() if mode == "deferred" else contextlib.nullcontext():
        y = x * 2.0  # pending in deferred mode
        returned = getattr(y, name)(*args)
        z = y + 1.0
    yt = xt * 2.0
    getattr(yt, name)(*args)
    assert returned is y
    assert y.stride() == yt.stride() and y.storage_offset() == yt.storage_offset()
    _same(y, yt)
    _same(z, yt + 1.0)


@pytest.mark.parametrize("name, shape, args", INPLACE_CASES)
def test_inplace_view_ops_record_the_view_for_autograd(name, shape, args):
    x, xt = _pair(shape)
    x.requires_grad_(True)
    xt.requires_grad_(True)
    y, yt = x * 2.0, xt * 2.0
    getattr(y, name)(*args)
    getattr(yt, name)(*args)
    assert y.grad_fn is not None and y.grad_fn.next_functions[0][0].name() == "MulBackward0"
    weight = np.arange(yt.numel(), dtype=np.float64).reshape(tuple(yt.shape))
    (y * lt.tensor(weight)).sum().backward()
    (yt * torch.tensor(weight)).sum().backward()
    _same(x.grad, xt.grad)


def test_inplace_view_of_a_grad_leaf_is_torchs_error_but_works_without_grad():
    x = lt.zeros(3, 1, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        x.squeeze_()
    with lt.no_grad():
        x.squeeze_()
    assert x.shape == (3,) and x.is_leaf and x.requires_grad


def test_deferred_inplace_view_keeps_earlier_pending_views_right():
    x, xt = _pair((2, 3))
    with lt.deferred():
        a = x * 2.0
        row = a[0]
        col = a.t()[1]
        a.t_()
        written = lt.ones(3, 1)
        written.add_(1.0)  # a pending write into a realised tensor
        written.squeeze_()
    _same(row, (xt * 2.0)[0])
    _same(col, (xt * 2.0).t()[1])
    _same(a, (xt * 2.0).t())
    _same(written, torch.full((3,), 2.0))


def test_inplace_view_of_a_view_of_a_grad_leaf_is_torchs_error():
    x = lt.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        x[0:1].squeeze_()


def test_retained_grad_follows_the_inplace_view():
    x = lt.ones(2, 3, dtype=lt.float64, requires_grad=True)
    y = x * 1
    y.retain_grad()
    y.t_()
    weight = lt.arange(6.0, dtype=lt.float64).reshape(3, 2)
    (y * weight).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), weight.numpy())


def test_inplace_view_ops_bump_the_version():
    x = lt.zeros(2, 3)
    before = x._version
    x.t_()
    assert x._version == before + 1


def test_resize_keeps_values_and_offset_like_torch():
    x, xt = _pair((2, 3))
    x.resize_(4, 5)
    xt.resize_(4, 5)
    assert x.shape == (4, 5) and x.stride() == (5, 1)
    np.testing.assert_array_equal(x.reshape(-1)[:6].numpy(), xt.reshape(-1)[:6].numpy())
    v, vt = _pair((3, 4))
    part, part_t = v[1:, :2], vt[1:, :2]
    part.resize_(2, 2)  # the same size: the strides stay
    part_t.resize_(2, 2)
    assert part.stride() == part_t.stride() == (4, 1)
    part.resize_(3, 2)
    part_t.resize_(3, 2)
    assert part.stride() == part_t.stride() and part.storage_offset() == part_t.storage_offset()
    _same(part, part_t)
    y = lt.zeros(5)
    assert y.resize_as_(lt.zeros(2, 2)) is y and y.shape == (2, 2)
    assert lt.resize_as_(lt.zeros(1), lt.zeros(3)).shape == (3,)
    z = lt.zeros(3, 4)
    assert lt.as_strided_(z, (2, 2), (1, 4), 1) is z and z.stride() == (1, 4)
    with pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
        lt.zeros(2, requires_grad=True).resize_(4)


# ----------------------------------------------------------------- bad input
BAD_INPUT = [
    "M.select_scatter(M.zeros(3, 4), M.zeros(4), 2, 0)",
    "M.select_scatter(M.zeros(3, 4), M.zeros(4), 0, 5)",
    "M.select_scatter(M.zeros(3, 4), M.zeros(4, dtype=M.int64), 0, 1)",
    "M.select_scatter(M.zeros(()), M.zeros(()), 0, 0)",
    "M.slice_scatter(M.zeros(3, 4), M.zeros(3, 4), 2)",
    "M.slice_scatter(M.zeros(3, 4), M.zeros(3, 4), 0, 5, 10)",
    "M.slice_scatter(M.zeros(3, 4), M.zeros(0, 4), 0, 5, 10)",
    "M.slice_scatter(M.zeros(3, 4), M.zeros(1, 4), 0, -1)",
    "M.diagonal_scatter(M.zeros(3, 4), M.zeros(3), 0, 0, 0)",
    "M.diagonal_scatter(M.zeros(3), M.zeros(3))",
    "M.diagonal_scatter(M.zeros(3, 4), M.zeros(2), 1)",
    "M.as_strided_scatter(M.zeros(3, 4), M.zeros(100), (100,), (1,))",
    "M.as_strided_scatter(M.zeros(3, 4), M.zeros(2), (2,), (1,), -1)",
    "M.as_strided_scatter(M.zeros(3, 4), M.zeros(2), (2,), (1, 2))",
    "M.as_strided_scatter(M.zeros(3).expand(2, 3), M.zeros(2), (2,), (1,))",
    "M.as_strided_copy(M.zeros(3), (5,), (1,))",
    "M.expand_copy(M.zeros(3, 2), (3, 3))",
    "M.permute_copy(M.zeros(3, 2), (0,))",
    "M.permute_copy(M.zeros(3, 2), (0, 0))",
    "M.squeeze_copy(M.zeros(3, 2), 3)",
    "M.t_copy(M.zeros(3, 2, 1))",
    "M.unfold_copy(M.zeros(3), 0, 4, 1)",
    "M.unfold_copy(M.zeros(3), 0, 2, 0)",
    "M.unsqueeze_copy(M.zeros(3), 3)",
    "M.view_copy(M.zeros(3, 4).t(), (12,))",
    "M.view_copy(M.zeros(3, 4), -1)",
    "M.unbind_copy(M.zeros(()))",
    "M.unbind_copy(M.zeros(2, 3), 2)",
    "M.split_with_sizes_copy(M.zeros(5), [2, 2])",
    "M.split_with_sizes_copy(M.zeros(5), [6, -1])",
    "M.diagonal_copy(M.zeros(3), 0)",
    "M.unsafe_split(M.zeros(3), 0)",
    "M.unsafe_split(M.zeros(3), -1)",
    "M.unsafe_chunk(M.zeros(3), -1)",
    "M.zeros(3, 4).sum_to_size(5)",
    "M.zeros(3, 4).sum_to_size(-1)",
    "M.zeros(3, 4).sum_to_size(2.5)",
    "M.constant_pad_nd(M.zeros(3), (-2, -2))",
    "M.constant_pad_nd(M.zeros(3), (1, 1), 'a')",
    "M.empty_strided((2, 3), (1, 2, 3))",
    "M.empty_strided((2, -3), (1, 2))",
    "M.empty_strided((2, 3), (1, -2))",
    "M.empty_strided(2, 1)",
    "M.empty_permuted((2, 3), (0, 2))",
    "M.empty_permuted((2, 3), (-1, 0))",
    "M.empty_permuted((2, 3), (0,))",
    "M.zeros(2).new_empty_strided((2,), (1, 1))",
    "M.zeros(3, 1).squeeze_(2)",
    "M.zeros(3, 1).unsqueeze_(3)",
    "M.zeros(3, 1, 1).t_()",
    "M.zeros(3, 1).transpose_(0, 2)",
    "M.zeros(3).as_strided_((4,), (1,))",
    "M.zeros(3).as_strided_((2,), (1,), -1)",
    "M.zeros(3).as_strided_((2,), (1, 1))",
    "M.zeros(3).resize_(-1)",
    "M.zeros(3).resize_(2.5)",
    "M.zeros(3).resize_as_(3)",
    "M.zeros(3).H",
    "M.zeros(3, 4, 5).H",
    "M.zeros(()).mH",
    "M.fft.fftshift(M.zeros(3), 1)",
    "M.fft.ifftshift(M.zeros(3), (0, 0))",
    "M.fft.fftshift(M.zeros(()))",
    "M.tensor_split(M.zeros(3), M.tensor([[1]]))",
    "M.tensor_split(M.zeros(3), M.tensor(2.))",
    "M.tensor_split(M.zeros(3), M.tensor(-1))",
    "M.tensor_split(M.zeros(3), M.tensor([5, 1]))",
    "M.tensor_split(M.zeros(()), 2)",
]


@pytest.mark.parametrize("source", BAD_INPUT)
def test_bad_input_behaves_like_torch(source):
    """Each call raises the exception class torch raises, or returns the same shapes."""
    outcomes = []
    for library in (torch, lt):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = eval(source, {"M": library})
        except Exception as error:  # noqa: BLE001 - the class is what is compared
            outcomes.append(type(error).__name__)
        else:
            results = result if isinstance(result, (tuple, list)) else (result,)
            outcomes.append([tuple(r.shape) for r in results])
    assert outcomes[1] == outcomes[0], source
