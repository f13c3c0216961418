"""Argument helpers shared by the functional ops: tuple expansion (PyTorch's
_single/_pair), the legacy size_average/reduce flags, reduction by name."""

from __future__ import annotations

import warnings
from collections.abc import Iterable

from lazyt.tensor import Tensor


def _ntuple(n: int, name: str):
    def parse(x) -> tuple:
        if isinstance(x, Iterable) and not isinstance(x, str):
            values = tuple(x)
            if len(values) == 1 and n > 1:
                return values * n
            if len(values) != n:
                raise ValueError(f"expected {name} to be a single int or a tuple of {n} ints, "
                                 f"got {x!r}")
            return values
        return (x,) * n

    parse.__name__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")
_triple = _ntuple(3, "_triple")


def legacy_reduction(size_average, reduce, reduction: str) -> str:
    """PyTorch's _Reduction.legacy_get_string: the deprecated flags win when given."""
    if size_average is None and reduce is None:
        return reduction
    warnings.warn("size_average and reduce args will be deprecated, please use "
                  f"reduction='{reduction}' instead.", stacklevel=3)
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if size_average and reduce:
        return "mean"
    return "sum" if reduce else "none"


def apply_reduction(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    raise ValueError(f"{reduction} is not a valid value for reduction")
