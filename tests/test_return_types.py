"""Ops with several results return lt.return_types tuples, as torch.return_types."""

import pickle

import lazyt as lt


def test_named_results_print_and_pickle_like_pytorchs():
    result = lt.tensor([[1.0, 2.0], [3.0, 4.0]]).max(1)
    assert type(result) is lt.return_types.max and isinstance(result, tuple)
    assert repr(result) == ("lazyt.return_types.max(\nvalues=tensor([2., 4.]),\n"
                            "indices=tensor([1, 1]))")
    values, indices = result
    assert values.tolist() == [2.0, 4.0] and result.indices.tolist() == [1, 1]
    assert pickle.loads(pickle.dumps(result)).values.tolist() == [2.0, 4.0]


def test_each_op_has_its_own_return_type():
    x = lt.tensor([3.0, 1.0, 2.0])
    assert type(x.min(0)) is lt.return_types.min
    assert type(x.sort()) is lt.return_types.sort
    assert type(x.topk(2)) is lt.return_types.topk
    assert type(x.kthvalue(1)) is lt.return_types.kthvalue
    assert type(x.median(0)) is lt.return_types.median
    assert type(lt.aminmax(x)) is lt.return_types.aminmax
    assert lt.aminmax(x)._fields == ("min", "max")
    assert type(lt.linalg.svd(lt.eye(2))) is lt.return_types.linalg_svd
