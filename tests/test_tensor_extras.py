"""as_strided/unfold views, repeat_interleave, one-argument where, `in`,
clamp_min/max, finfo/iinfo: against PyTorch when it is installed."""

from __future__ import annotations

import numpy as np
import pytest

import lazyt as lt

torch = pytest.importorskip("torch")


def test_unfold_is_a_view_with_pytorch_strides_and_gradient():
    a = lt.arange(24.0).reshape(4, 6).requires_grad_()
    ta = torch.arange(24.0).reshape(4, 6).requires_grad_()
    w, tw = a.unfold(1, 3, 2), ta.unfold(1, 3, 2)
    assert w.shape == tw.shape and w.stride() == tw.stride()
    assert w.tolist() == tw.tolist()
    assert w.untyped_storage().data_ptr() == a.untyped_storage().data_ptr()
    (w * w).sum().backward()
    (tw * tw).sum().backward()
    assert a.grad.tolist() == ta.grad.tolist()


def test_as_strided_matches_pytorch_and_checks_bounds():
    x, tx = lt.arange(10.0), torch.arange(10.0)
    assert x.as_strided((3, 3), (1, 2), 1).tolist() == tx.as_strided((3, 3), (1, 2), 1).tolist()
    with pytest.raises(RuntimeError):
        x.as_strided((4, 4), (4, 1))


def test_repeat_interleave_matches_pytorch():
    t = [[1, 2], [3, 4]]
    assert lt.repeat_interleave(lt.tensor(t), 2).tolist() == \
        torch.repeat_interleave(torch.tensor(t), 2).tolist()
    assert lt.tensor(t).repeat_interleave(lt.tensor([1, 2]), dim=0).tolist() == \
        torch.tensor(t).repeat_interleave(torch.tensor([1, 2]), dim=0).tolist()
    assert lt.tensor(t).repeat_interleave(3, dim=1).tolist() == \
        torch.tensor(t).repeat_interleave(3, dim=1).tolist()


def test_where_with_only_a_condition_is_nonzero_as_tuple():
    cond = [[True, False], [False, True]]
    got = lt.where(lt.tensor(cond))
    want = torch.where(torch.tensor(cond))
    assert [g.tolist() for g in got] == [w.tolist() for w in want]


def test_membership_and_clamp_min_max():
    x = lt.tensor([1.0, -2.0, 3.0])
    assert 3.0 in x and 5.0 not in x
    assert lt.clamp_min(x, 0).tolist() == [1.0, 0.0, 3.0]
    assert x.clamp_max(1.5).tolist() == [1.0, -2.0, 1.5]


@pytest.mark.parametrize("name", ["float16", "bfloat16", "float32", "float64"])
def test_finfo_matches_pytorch(name):
    mine, theirs = lt.finfo(getattr(lt, name)), torch.finfo(getattr(torch, name))
    assert (mine.eps, mine.max, mine.min, mine.tiny, mine.bits) == \
        (theirs.eps, theirs.max, theirs.min, theirs.tiny, theirs.bits)


@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo_matches_pytorch(name):
    mine, theirs = lt.iinfo(getattr(lt, name)), torch.iinfo(getattr(torch, name))
    assert (mine.min, mine.max, mine.bits) == (theirs.min, theirs.max, theirs.bits)


def test_median_is_the_lower_median_like_pytorch():
    a = [[3.0, 1.0, 2.0, 5.0], [4.0, 4.0, 1.0, 0.0]]
    got, want = lt.tensor(a).median(1), torch.tensor(a).median(1)
    assert got.values.tolist() == want.values.tolist()
    assert got.indices.tolist() == want.indices.tolist()
    assert lt.tensor(a).median().item() == torch.tensor(a).median().item()


def test_addcmul_and_addcdiv_match_pytorch():
    x, y, z = ([1.0, 2.0], [3.0, -4.0], [0.5, 2.0])
    assert lt.addcmul(lt.tensor(x), lt.tensor(y), lt.tensor(z), value=0.5).tolist() == \
        torch.addcmul(torch.tensor(x), torch.tensor(y), torch.tensor(z), value=0.5).tolist()
    assert lt.addcdiv(lt.tensor(x), lt.tensor(y), lt.tensor(z), value=2).tolist() == \
        torch.addcdiv(torch.tensor(x), torch.tensor(y), torch.tensor(z), value=2).tolist()


def test_gather_and_index_select_reject_negative_indices_like_pytorch():
    with pytest.raises(RuntimeError):
        lt.zeros(3).gather(0, lt.tensor([-1]))
    with pytest.raises(IndexError):
        lt.zeros(3).index_select(0, lt.tensor([-1]))
    assert lt.arange(5)[lt.tensor([-1])].tolist() == [4]  # indexing does count from the end


def test_errors_use_pytorch_classes():
    with pytest.raises(NotImplementedError):
        lt.tensor([1, 2]).softmax(0)
    with pytest.raises(RuntimeError, match="negative dimension -1"):
        lt.ones(-1)
    with pytest.raises(RuntimeError, match="zeros: Dimension size must be non-negative"):
        lt.zeros(-1)  # PyTorch's zeros has a message of its own
    with pytest.raises(IndexError, match="Target -1 is out of bounds"):
        lt.nn.functional.cross_entropy(lt.zeros(2, 3), lt.tensor([0, -1]))
    assert lt.zeros(3).gather(0, lt.tensor([2], dtype=lt.int32)).tolist() == [0.0]


def test_round_decimals_sign_of_zero_isin_and_trace_match_pytorch():
    assert lt.tensor([1.2345, -2.5]).round(decimals=2).tolist() == \
        torch.tensor([1.2345, -2.5]).round(decimals=2).tolist()
    assert lt.tensor([-0.0, 0.0, -2.0]).sign().tolist() == [0.0, 0.0, -1.0]
    assert str(lt.tensor([-0.0]).sign().item()) == "0.0"
    assert lt.isin(lt.tensor([1, 2, 3]), lt.tensor([2, 5])).tolist() == [False, True, False]
    assert lt.arange(9.0).reshape(3, 3).trace().item() == 12.0


def test_legacy_tensor_constructors_match_pytorch():
    assert lt.Tensor([1, 2]).dtype is lt.float32 and lt.Tensor([1, 2]).tolist() == [1.0, 2.0]
    assert lt.Tensor(2, 3).shape == (2, 3)
    assert lt.LongTensor([1, 2]).dtype is lt.int64
    assert lt.FloatTensor(3).shape == (3,)
    assert isinstance(lt.rand(2), lt.Tensor)


def test_parameter_prints_like_pytorch():
    text = str(lt.nn.Parameter(lt.ones(2)))
    assert text == str(torch.nn.Parameter(torch.ones(2)))


@pytest.mark.parametrize("equation,shapes", [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 4)]), ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]), ("bij,jk->bik", [(5, 2, 3), (3, 4)]), ("i,j->ij", [(3,), (4,)]),
    ("bij,bij->b", [(5, 2, 3), (5, 2, 3)]),
])
def test_einsum_matches_pytorch(equation, shapes):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    got = lt.einsum(equation, *[lt.tensor(a) for a in arrays])
    want = torch.einsum(equation, *[torch.tensor(a) for a in arrays])
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-5)
