"""New tensors whose strides the caller chooses: `empty_strided`,
`new_empty_strided` and `empty_permuted` (a dense tensor whose dims are laid
out in memory in a given order). The storage holds exactly the elements the
strides reach, as PyTorch allocates it.
"""

from __future__ import annotations

from lazyt import creation, dtypes, formats
from lazyt.ir.view import View
from lazyt.runtime.device import to_device
from lazyt.runtime.storage import Storage
from lazyt.tensor import Tensor, normalize_shape


def strides_for_order(shape: tuple[int, ...], order) -> tuple[int, ...]:
    """Dense strides with dims laid out outermost-first in `order` (its last dim is innermost)."""
    strides = [0] * len(shape)
    step = 1
    for d in reversed(tuple(order)):
        strides[d] = step
        step *= max(shape[d], 1)
    return tuple(strides)


def _int_tuple(function: str, name: str, position: int, value) -> tuple[int, ...]:
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"{function}(): argument '{name}' (position {position}) must be tuple of "
                        f"ints, not {type(value).__name__}")
    return normalize_shape((value,))


def _strided(shape: tuple[int, ...], strides: tuple[int, ...], dtype, requires_grad: bool,
             ) -> Tensor:
    if len(shape) != len(strides):
        raise RuntimeError(f"dimensionality of sizes ({len(shape)}) must match dimensionality "
                           f"of strides ({len(strides)})")
    creation.check_new_shape(shape, dtype)
    if any(s < 0 for s in strides):
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(shape)} and "
                           f"strides={list(strides)}")
    view = View(shape, strides, 0)
    numel = 0 if 0 in shape else view.storage_extent()[1] + 1
    out = Tensor._make(Storage.allocate(dtype, numel, to_device(None)), view)
    if requires_grad:
        out.requires_grad_(True)
    return out


def _dtype_or_default(dtype, function: str):
    return dtypes.get_default_dtype() if dtype is None else dtypes.dtype_argument(dtype, function)


def empty_strided(size, stride, *, dtype=None, layout=None, device=None,
                  requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    to_device(device)
    formats.check_layout(layout)
    return _strided(_int_tuple("empty_strided", "size", 1, size),
                    _int_tuple("empty_strided", "stride", 2, stride),
                    _dtype_or_default(dtype, "empty_strided"), requires_grad)


def new_empty_strided(self: Tensor, size, stride, *, dtype=None, layout=None, device=None,
                      requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    to_device(device)
    formats.check_layout(layout)
    dtype = self.dtype if dtype is None else dtypes.dtype_argument(dtype, "new_empty_strided")
    return _strided(_int_tuple("new_empty_strided", "size", 1, size),
                    _int_tuple("new_empty_strided", "stride", 2, stride), dtype, requires_grad)


def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None,
                   requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    to_device(device)
    formats.check_layout(layout)
    shape = _int_tuple("empty_permuted", "size", 1, size)
    order = _int_tuple("empty_permuted", "physical_layout", 2, physical_layout)
    if len(order) != len(shape):
        raise RuntimeError("Number of dimensions in size does not match the length of the "
                           f"physical_layout; i.e. len(size) = {len(shape)} is not equal to "
                           f"len(physical_layout) = {len(order)}")
    seen = set()
    for i, d in enumerate(order):
        if not 0 <= d < len(shape):
            raise RuntimeError(
                f"Dimension out of range (expected to be between 0 and {len(shape) - 1}, but got "
                f"{d} at index {i}).  NB: negative dims not currently supported; file an issue "
                "if you want it.")
        if d in seen:
            raise RuntimeError("Duplicate dim not allowed")
        seen.add(d)
    return _strided(shape, strides_for_order(shape, order),
                    _dtype_or_default(dtype, "empty_permuted"), requires_grad)


FUNCTIONS = {"empty_strided": empty_strided, "empty_permuted": empty_permuted}
TENSOR_METHODS = {"new_empty_strided": new_empty_strided}
