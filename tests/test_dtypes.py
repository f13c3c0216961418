"""Type promotion matches PyTorch for every dtype pair, scalars and 0-d tensors."""

from __future__ import annotations

import itertools

import pytest

import lazyt as lt
from lazyt import dtypes

torch = pytest.importorskip("torch")

NAMES = [d.name for d in dtypes.ALL_DTYPES]


def _pair(name_a, name_b, shape_a=(2,), shape_b=(2,)):
    a = lt.zeros(shape_a, dtype=getattr(lt, name_a))
    b = lt.zeros(shape_b, dtype=getattr(lt, name_b))
    ta = torch.zeros(shape_a, dtype=getattr(torch, name_a))
    tb = torch.zeros(shape_b, dtype=getattr(torch, name_b))
    return a, b, ta, tb


@pytest.mark.parametrize("name_a,name_b", list(itertools.product(NAMES, NAMES)))
def test_tensor_tensor_promotion_matches_torch(name_a, name_b):
    a, b, ta, tb = _pair(name_a, name_b)
    assert lt.promote_types(a.dtype, b.dtype).name == str(
        torch.promote_types(ta.dtype, tb.dtype)).split(".")[1]
    assert (a * b).dtype.name == str((ta * tb).dtype).split(".")[1]


@pytest.mark.parametrize("name_a,name_b", list(itertools.product(NAMES, NAMES)))
def test_zero_dim_tensor_promotion_matches_torch(name_a, name_b):
    a, b, ta, tb = _pair(name_a, name_b, (2,), ())
    assert lt.result_type(a, b).name == str(torch.result_type(ta, tb)).split(".")[1]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("scalar", [2, 2.5, True])
def test_python_scalar_promotion_matches_torch(name, scalar):
    a = lt.ones(3, dtype=getattr(lt, name))
    ta = torch.ones(3, dtype=getattr(torch, name))
    assert lt.result_type(a, scalar).name == str(torch.result_type(ta, scalar)).split(".")[1]


@pytest.mark.parametrize("name", NAMES)
def test_true_division_and_transcendentals_of_ints_give_default_float(name):
    a = lt.ones(3, dtype=getattr(lt, name))
    ta = torch.ones(3, dtype=getattr(torch, name))
    assert (a / a).dtype.name == str((ta / ta).dtype).split(".")[1]
    if name != "bool":
        assert a.exp().dtype.name == str(ta.exp().dtype).split(".")[1]


def test_default_dtype_switch_changes_float_literals():
    previous = lt.get_default_dtype()
    try:
        lt.set_default_dtype(lt.float64)
        assert lt.tensor([1.5]).dtype is lt.float64
        assert (lt.arange(3) * 0.5).dtype is lt.float64
    finally:
        lt.set_default_dtype(previous)
    assert lt.tensor([1.5]).dtype is lt.float32


def test_integer_arithmetic_wraps_like_torch():
    x = lt.tensor([120, 127], dtype=lt.int8) + 10
    assert x.tolist() == torch.tensor([120, 127], dtype=torch.int8).add(10).tolist()
    y = lt.tensor([250], dtype=lt.uint8) * 2
    assert y.tolist() == [244]


def test_dtype_aliases():
    assert lt.float is lt.float32 and lt.double is lt.float64 and lt.half is lt.float16
    assert lt.long is lt.int64 and lt.int is lt.int32 and lt.short is lt.int16
    assert repr(lt.float32) == "lazyt.float32"
