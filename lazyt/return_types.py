"""lt.return_types: the named tuples ops return, as torch.return_types.

`lt.max(x, 0)` gives a `lt.return_types.max`: a tuple with named fields
(`.values`, `.indices`) that prints as PyTorch's does,

    lazyt.return_types.max(
    values=tensor([2., 4.]),
    indices=tensor([1, 1]))

and pickles by its name here.
"""

from __future__ import annotations

from collections import namedtuple


def _repr(self) -> str:
    fields = ",\n".join(f"{name}={value!r}" for name, value in zip(self._fields, self))
    return f"lazyt.return_types.{type(self).__name__}(\n{fields})"


def _structseq(name: str, fields: str) -> type:
    cls = namedtuple(name, fields.split(), module=__name__)
    cls.__repr__ = _repr
    return cls


max = _structseq("max", "values indices")  # noqa: A001 - PyTorch's names
min = _structseq("min", "values indices")  # noqa: A001
median = _structseq("median", "values indices")
nanmedian = _structseq("nanmedian", "values indices")
mode = _structseq("mode", "values indices")
kthvalue = _structseq("kthvalue", "values indices")
sort = _structseq("sort", "values indices")
topk = _structseq("topk", "values indices")
cummax = _structseq("cummax", "values indices")
cummin = _structseq("cummin", "values indices")
aminmax = _structseq("aminmax", "min max")
frexp = _structseq("frexp", "mantissa exponent")
histogram = _structseq("histogram", "hist bin_edges")
histogramdd = _structseq("histogramdd", "hist bin_edges")
svd = _structseq("svd", "U S V")
qr = _structseq("qr", "Q R")
geqrf = _structseq("geqrf", "a tau")
triangular_solve = _structseq("triangular_solve", "solution cloned_coefficient")
lu_unpack = _structseq("lu_unpack", "P L U")
linalg_slogdet = _structseq("linalg_slogdet", "sign logabsdet")
linalg_eigh = _structseq("linalg_eigh", "eigenvalues eigenvectors")
linalg_svd = _structseq("linalg_svd", "U S Vh")
linalg_qr = _structseq("linalg_qr", "Q R")
linalg_lstsq = _structseq("linalg_lstsq", "solution residuals rank singular_values")
linalg_cholesky_ex = _structseq("linalg_cholesky_ex", "L info")
linalg_inv_ex = _structseq("linalg_inv_ex", "inverse info")
linalg_solve_ex = _structseq("linalg_solve_ex", "result info")
linalg_lu = _structseq("linalg_lu", "P L U")
linalg_lu_factor = _structseq("linalg_lu_factor", "LU pivots")
linalg_lu_factor_ex = _structseq("linalg_lu_factor_ex", "LU pivots info")
linalg_ldl_factor = _structseq("linalg_ldl_factor", "LD pivots")
linalg_ldl_factor_ex = _structseq("linalg_ldl_factor_ex", "LD pivots info")
