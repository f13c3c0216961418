"""numpy scalars and arrays next to Tensors, as PyTorch treats them: a numpy
scalar is a Python scalar of its kind (np.bool_ a float), on either side of
an operator; a numpy function of a Tensor gives a Tensor."""

import numpy as np
import pytest

import lazyt as lt


@pytest.mark.parametrize("expr, dtype, values", [
    ("np.float32(3) * t", lt.float32, [3.0, 6.0]),
    ("np.float64(2) + t", lt.float32, [3.0, 4.0]),
    ("np.int64(2) - t", lt.float32, [1.0, 0.0]),
    ("np.float64(7) // t", lt.float32, [7.0, 3.0]),
    ("np.float64(1) < t", lt.bool, [False, True]),
    ("np.float64(3) + ti", lt.float32, [4.0, 5.0]),
    ("np.float32(3) * ti", lt.float32, [3.0, 6.0]),
    ("np.int32(2) * tb", lt.int64, [2, 0]),
    ("ti + np.float16(2)", lt.float32, [3.0, 4.0]),
    ("np.uint8(3) + ti", lt.int64, [4, 5]),
    ("tb + np.bool_(True)", lt.float32, [2.0, 1.0]),
    ("ti * np.bool_(True)", lt.float32, [1.0, 2.0]),
])
def test_numpy_scalars_promote_like_python_scalars(expr, dtype, values):
    operands = {"t": lt.tensor([1.0, 2.0]), "ti": lt.tensor([1, 2]), "tb": lt.tensor([True, False])}
    out = eval(expr, {"np": np}, operands)
    assert isinstance(out, lt.Tensor)
    assert out.dtype is dtype
    assert out.tolist() == values


def test_a_numpy_bool_is_a_float_to_bitwise_ops():
    with pytest.raises(NotImplementedError, match="Float"):
        lt.tensor([True, False]) & np.bool_(True)


def test_numpy_functions_of_a_tensor_give_tensors():
    t = lt.tensor([1.0, -2.0])
    out = np.abs(t)
    assert isinstance(out, lt.Tensor) and out.dtype is lt.float32 and out.tolist() == [1.0, 2.0]
    flags = np.isnan(t)  # (bool results come back as uint8, as PyTorch's do)
    assert isinstance(flags, lt.Tensor) and flags.dtype is lt.uint8 and flags.tolist() == [0, 0]
    both = t + np.array([1.0, 2.0])  # numpy computes it, in float64
    assert isinstance(both, lt.Tensor) and both.dtype is lt.float64 and both.tolist() == [2.0, 0.0]


def test_foreign_operands_still_defer_to_their_own_methods():
    class Other:
        def __radd__(self, other):
            return "other"

    t = lt.tensor([1.0])
    assert t + Other() == "other"
    with pytest.raises(TypeError, match="unsupported operand"):
        t + "x"
    assert (t == None) is False  # noqa: E711


def test_truth_format_and_matmul_with_foreign_operands():
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with no values is ambiguous"):
        bool(lt.tensor([]))
    assert f"{lt.tensor(2.7):.2f}" == "2.70"
    with pytest.raises(TypeError, match="unsupported format string"):
        f"{lt.tensor([1.5, 2.5]):.2f}"
    with pytest.raises(TypeError, match="unsupported operand type"):
        [[1.0, 2.0]] @ lt.ones(2, 1)


def test_dlpack_exchange_shares_memory():
    t = lt.arange(3.0)
    assert np.from_dlpack(t).tolist() == [0.0, 1.0, 2.0]
    shared = lt.from_dlpack(t)
    shared.add_(1)
    assert t.tolist() == [1.0, 2.0, 3.0]
    assert lt.from_dlpack(np.arange(2.0)).dtype is lt.float64
    capsule = lt.utils.dlpack.to_dlpack(t)
    assert type(capsule).__name__ == "PyCapsule"
