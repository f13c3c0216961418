"""Binding the op families' methods to Tensor: the one place it happens.

tensor.py defines the class with its metadata and view methods; every
computing method lives in an op module's TENSOR_METHODS table (they import
Tensor, so they are bound after it exists, here, by lazyt/__init__.py
importing this module). lazyt/tensor.pyi lists every method with the file
that defines it.
"""

from __future__ import annotations

from lazyt import (
    conversions,
    counting,
    creation,
    elementwise,
    index_ops,
    indexing,
    inplace_methods,
    linalg,
    linalg_decompositions,
    linalg_lu,
    linalg_norms,
    linalg_products,
    linalg_solvers,
    math_ops,
    reductions,
    shape_ops,
    storage_api,
)
from lazyt.tensor import Tensor

for _module in (conversions, elementwise, math_ops, reductions, shape_ops, indexing, index_ops,
                counting, linalg, linalg_products, linalg_norms, linalg_decompositions, creation,
                storage_api, linalg_solvers, linalg_lu):
    for _name, _fn in _module.TENSOR_METHODS.items():
        setattr(Tensor, _name, _fn)
for _name, _fn in inplace_methods.missing_inplace_methods().items():
    setattr(Tensor, _name, _fn)
Tensor.__new__ = staticmethod(creation.legacy_tensor_new)
del _module, _name, _fn
