"""The LU family: linalg.lu, lu_factor(_ex), lu_solve, lu_unpack, and the
deprecated torch.lu / torch.lu_solve.

One extern does the factorisation (LAPACK getrf with partial pivoting:
lazyt/runtime/cpu.py `lu_factor`, counted in extern_calls); `LinalgLu` wraps
it as an autograd Function whose backward is PyTorch's linalg_lu_backward
written with lazyt ops. Everything else is lazyt ops on the factors: the
packed LU is L and U added, lu_unpack builds the permutation from the row
swaps with gather/scatter, and lu_solve is triangular solves (so gradients
with respect to LU and B come from the ops it is made of).
"""

from __future__ import annotations

import numpy as np

from lazyt import creation, dtypes, indexing, return_types, shape_ops
from lazyt import elementwise as ew
from lazyt.autograd.function import Function
from lazyt.linalg import matmul
from lazyt.linalg_decompositions import (
    LinAlgError,
    _batch_prefix,
    _check_input,
    _lapack,
    _tensor,
    write_outs,
)
from lazyt.linalg_products import _type_name, write_out
from lazyt.linalg_solvers import solve_triangular
from lazyt.tensor import Tensor, broadcast_shapes

lu_result = return_types.linalg_lu
lu_factor_result = return_types.linalg_lu_factor
lu_factor_ex_result = return_types.linalg_lu_factor_ex
lu_unpack_result = return_types.lu_unpack


# ------------------------------------------------------------ unpacking
def permutation_from_pivots(pivots: Tensor, m: int, dtype) -> Tensor:
    """P (..., m, m) with A = P L U from LAPACK's 1-based row swaps: the swaps
    applied in order to 0..m-1 give perm with (P^T A)[r] = A[perm[r]]."""
    batch = tuple(pivots.shape[:-1])
    perm = creation.arange(m, dtype=dtypes.int64).expand(*batch, m).contiguous()
    swaps = ew.sub(ew.cast(pivots, dtypes.int64), 1)
    for i in range(pivots.shape[-1]):
        target = swaps.narrow(-1, i, 1)
        here = creation.full((*batch, 1), i, dtype=dtypes.int64)
        moved, staying = perm.narrow(-1, i, 1), indexing.gather(perm, -1, target)
        perm = indexing.scatter(perm, -1, target, moved)
        perm = indexing.scatter(perm, -1, here, staying)
    return ew.cast(shape_ops.one_hot(perm, m), dtype).mT


def _unpack_factors(LU: Tensor) -> tuple[Tensor, Tensor]:
    """The unit lower L (m, k) and upper U (k, n) packed in LU (m, n)."""
    m, n = LU.shape[-2], LU.shape[-1]
    k = min(m, n)
    L = ew.add(LU.narrow(-1, 0, k).tril(-1), creation.eye(m, k, dtype=LU.dtype))
    return L, LU.narrow(-2, 0, k).triu()


def _pack_factors(L: Tensor, U: Tensor) -> Tensor:
    """L below the diagonal and U on and above it, in one (m, n) matrix."""
    m, k, n = L.shape[-2], L.shape[-1], U.shape[-1]
    batch = tuple(L.shape[:-2])
    lower, upper = L.tril(-1), U
    if n > k:
        lower = shape_ops.cat([lower, creation.zeros((*batch, m, n - k), dtype=L.dtype)], -1)
    if m > k:
        upper = shape_ops.cat([upper, creation.zeros((*batch, m - k, n), dtype=U.dtype)], -2)
    return ew.add(lower, upper)


def lu_unpack(LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True,
              unpack_pivots: bool = True, *, out=None):
    if LU_data.ndim < 2:
        raise RuntimeError(f"torch.lu_unpack: Expected tensor with 2 or more dimensions. Got "
                           f"size: {list(LU_data.shape)} instead")
    if LU_pivots.dtype is not dtypes.int32:
        raise RuntimeError("torch.lu_unpack: LU_pivots is expected to be a contiguous tensor of "
                           "torch.int32 dtype.\nNote: this function is intended to be used with "
                           "the output produced by torch.linalg.lu_factor")
    empty = creation.zeros((0,), dtype=LU_data.dtype)
    L, U = _unpack_factors(LU_data) if unpack_data else (empty, empty)
    P = permutation_from_pivots(LU_pivots, LU_data.shape[-2], LU_data.dtype) \
        if unpack_pivots else empty
    return write_outs(lu_unpack_result(P, L, U), out, "lu_unpack", (LU_data,))


# ---------------------------------------------------------- factorising
def _lu_backward(grad_L: Tensor, grad_U: Tensor, P: Tensor, L: Tensor, U: Tensor) -> Tensor:
    """PyTorch's linalg_lu_backward (real case), for square, wide and tall A."""
    m, n = L.shape[-2], U.shape[-1]
    k = min(m, n)
    if m == n:
        grad_a = ew.add(matmul(L.mT, grad_L).tril(-1), matmul(grad_U, U.mT).triu())
        grad_a = solve_triangular(U.mT, grad_a, upper=False, left=False)
        grad_a = solve_triangular(L.mT, grad_a, upper=True, unitriangular=True)
        return matmul(P, grad_a)
    if m < n:
        U1, grad_U1, grad_U2 = U.narrow(-1, 0, k), grad_U.narrow(-1, 0, k), \
            grad_U.narrow(-1, k, n - k)
        grad_a = ew.sub(matmul(L.mT, grad_L), matmul(grad_U.triu(), U.mT))
        grad_a = solve_triangular(U1.mT, grad_a.tril(-1), upper=False, left=False)
        grad_a = shape_ops.cat([ew.add(grad_a, grad_U1.triu()), grad_U2], -1)
        grad_a = solve_triangular(L.mT, grad_a, upper=True, unitriangular=True)
        return matmul(P, grad_a)
    L1, grad_L1, grad_L2 = L.narrow(-2, 0, k), grad_L.narrow(-2, 0, k), \
        grad_L.narrow(-2, k, m - k)
    grad_a = ew.sub(matmul(grad_U, U.mT), matmul(L.mT, grad_L.tril(-1)))
    grad_a = solve_triangular(L1.mT, grad_a.triu(), upper=True, unitriangular=True)
    grad_a = shape_ops.cat([ew.add(grad_a, grad_L1.tril(-1)), grad_L2], -2)
    grad_a = solve_triangular(U.mT, grad_a, upper=False, left=False)
    return matmul(P, grad_a)


class LinalgLu(Function):
    """A = P L U by the getrf extern; also returns the pivots and getrf's info
    (not differentiable)."""

    @staticmethod
    def forward(ctx, A):
        packed, pivots_np, info_np = _lapack("lu_factor", A)
        pivots = _tensor(pivots_np, dtypes.int32)
        info = _tensor(info_np, dtypes.int32)
        L, U = _unpack_factors(_tensor(packed, A.dtype))
        P = permutation_from_pivots(pivots, A.shape[-2], A.dtype)
        ctx.mark_non_differentiable(P, pivots, info)
        ctx.save_for_backward(P, L, U)
        return P, L, U, pivots, info

    @staticmethod
    def backward(ctx, grad_P, grad_L, grad_U, grad_pivots, grad_info):
        P, L, U = ctx.saved_tensors
        return _lu_backward(grad_L, grad_U, P, L, U)


def _factorise(A: Tensor, pivot: bool, op_name: str):
    if A.ndim < 2:
        raise RuntimeError(f"torch.lu_factor: Expected tensor with 2 or more dimensions. Got "
                           f"size: {list(A.shape)} instead")
    if A.dtype.kind != "f":
        raise NotImplementedError(f"\"lu_cpu\" not implemented for '{_type_name(A)}'")
    _check_input(A, op_name, square=False)
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    return LinalgLu.apply(A)


def _raise_if_singular(info: Tensor, op_name: str) -> None:
    values = info.numpy()
    if np.any(values):
        element = int(np.flatnonzero(values.reshape(-1))[0])
        where = int(values.reshape(-1)[element])  # (PyTorch prints getrf's 1-based info)
        prefix = _batch_prefix(values.reshape(values.shape + (1, 1)), element)
        raise LinAlgError(f"{op_name}: {prefix}U[{where},{where}] is zero and using it on "
                          "lu_solve would result in a division by zero. If you still want to "
                          "perform the factorization, consider calling linalg.lu(A, pivot) or "
                          "linalg.lu_factor_ex(A, pivot)")


def lu(A: Tensor, *, pivot: bool = True, out=None):
    P, L, U, _, _ = _factorise(A, pivot, "linalg.lu")
    return write_outs(lu_result(P, L, U), out, "linalg_lu", (A,))


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False, out=None):
    _, L, U, pivots, info = _factorise(A, pivot, "linalg.lu_factor_ex")
    if check_errors:
        _raise_if_singular(info, "torch.linalg.lu_factor_ex")
    return write_outs(lu_factor_ex_result(_pack_factors(L, U), pivots, info), out,
                      "linalg_lu_factor_ex", (A,))


def lu_factor(A: Tensor, *, pivot: bool = True, out=None):
    _, L, U, pivots, info = _factorise(A, pivot, "linalg.lu_factor")
    _raise_if_singular(info, "torch.linalg.lu_factor")
    return write_outs(lu_factor_result(_pack_factors(L, U), pivots), out, "linalg_lu_factor",
                      (A,))


def torch_lu(A: Tensor, pivot: bool = True, get_infos: bool = False, out=None):
    """torch.lu (deprecated): (LU, pivots) or, with get_infos, (LU, pivots, info)."""
    LU, pivots, info = lu_factor_ex(A, pivot=pivot, check_errors=not get_infos)
    result = (LU, pivots, info) if get_infos else (LU, pivots)
    return write_outs(result, out, "lu", (A,))


# -------------------------------------------------------------- solving
def lu_solve(LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True,
             adjoint: bool = False, out=None) -> Tensor:
    """X with A X = B (left) or X A = B, A = P L U given as lu_factor's output;
    adjoint solves with A^T instead."""
    name = "linalg.lu_solve"
    if LU.dtype is not B.dtype:
        raise RuntimeError(f"{name}: Expected LU and B to have the same dtype, but found LU of "
                           f"type {_type_name(LU)} and B of type {_type_name(B)} instead")
    _check_input(LU, name)
    if B.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor B must have at least 2 dimensions.")
    n = LU.shape[-1]
    if (B.shape[-2] if left else B.shape[-1]) != n:
        equation = "AX = B" if left else "XA = B"
        raise RuntimeError(f"{name}: Incompatible shapes of A and B for the equation {equation} "
                           f"({n}x{n} and {B.shape[-2]}x{B.shape[-1]})")
    if tuple(pivots.shape) != tuple(LU.shape[:-1]):
        raise RuntimeError(f"{name}: Expected pivots to have shape {list(LU.shape[:-1])}, but "
                           f"got {list(pivots.shape)}")
    if pivots.dtype is not dtypes.int32:
        raise RuntimeError(f"{name}: Expected pivots to be integers. Got {_type_name(pivots)}")
    batch = broadcast_shapes(tuple(LU.shape[:-2]), tuple(B.shape[:-2]))
    P = permutation_from_pivots(pivots, n, LU.dtype)
    L, U = _unpack_factors(LU)
    rhs = B if left else B.mT
    transposed = adjoint == left  # right-side solves are the transposed left-side ones
    if not transposed:  # A X = rhs: X = U^-1 L^-1 P^T rhs
        X = solve_triangular(L, matmul(P.mT, rhs), upper=False, unitriangular=True)
        X = solve_triangular(U, X, upper=True)
    else:  # A^T X = rhs: X = P L^-T U^-T rhs
        X = solve_triangular(U.mT, rhs, upper=False)
        X = matmul(P, solve_triangular(L.mT, X, upper=True, unitriangular=True))
    X = X if left else X.mT
    X = X.expand(*batch, *X.shape[-2:]) if tuple(X.shape[:-2]) != batch else X
    return write_out(X, out, "linalg_lu_solve", (LU, B))


def torch_lu_solve(b: Tensor, LU_data: Tensor, LU_pivots: Tensor, *, out=None) -> Tensor:
    """torch.lu_solve (deprecated): linalg.lu_solve with the right-hand side first."""
    return lu_solve(LU_data, LU_pivots, b, out=out)


FUNCTIONS = {"lu": torch_lu, "lu_solve": torch_lu_solve, "lu_unpack": lu_unpack}
TENSOR_METHODS = {"lu": torch_lu, "lu_solve": torch_lu_solve}
# lt.linalg.X (lazyt/linalg.py resolves these names on first use).
LINALG = {"lu": lu, "lu_factor": lu_factor, "lu_factor_ex": lu_factor_ex, "lu_solve": lu_solve}
