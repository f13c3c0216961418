"""Binding the op families' methods to Tensor: the one place it happens.

tensor.py defines the class with its metadata and view methods; every
computing method lives in an op module's TENSOR_METHODS table (they import
Tensor, so they are bound after it exists, here, by lazyt/__init__.py
importing this module). lazyt/tensor.pyi lists every method with the file
that defines it.
"""

from __future__ import annotations

from lazyt import (
    combinatorics,
    conversions,
    counting,
    creation,
    elementwise,
    histograms,
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
    real_math,
    reductions,
    shape_ops,
    statistics,
    storage_api,
)
from lazyt.tensor import Tensor

for _module in (conversions, elementwise, math_ops, reductions, shape_ops, indexing, index_ops,
                counting, linalg, linalg_products, linalg_norms, linalg_decompositions, creation,
                storage_api, real_math, statistics, combinatorics, histograms, linalg_solvers,
                linalg_lu):
    for _name, _fn in _module.TENSOR_METHODS.items():
        setattr(Tensor, _name, _fn)
for _name, _fn in inplace_methods.missing_inplace_methods().items():
    setattr(Tensor, _name, _fn)
# In-place view ops, view scatters, ATen names, strided creation (the views branch).
from lazyt import aten_ops, inplace_views, strided_creation, view_copies  # noqa: E402

for _module in (view_copies, aten_ops, strided_creation, inplace_views):
    for _name, _fn in _module.TENSOR_METHODS.items():
        setattr(Tensor, _name, _fn)
Tensor.__new__ = staticmethod(creation.legacy_tensor_new)
del _module, _name, _fn
