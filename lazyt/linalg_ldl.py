"""The LDL family: linalg.ldl_factor, ldl_factor_ex and ldl_solve.

The factorisation is an extern (LAPACK sytrf, lower, Bunch-Kaufman pivoting:
lazyt/runtime/cpu.py `ldl_factor`, counted in extern_calls; not
differentiable, as in PyTorch). ldl_solve is lazyt ops: LAPACK's compact
form means A = M D M^T with M = P(1) L(1) P(2) L(2) ..., so M is built from
LD with matmuls (the pivots only choose which constant permutations and
masks to use) and the system is three solves.
"""

from __future__ import annotations

import numpy as np

from lazyt import creation, dtypes, return_types, shape_ops
from lazyt import elementwise as ew
from lazyt.linalg import matmul
from lazyt.linalg_decompositions import (
    LinAlgError,
    LinalgSolveEx,
    _batch_prefix,
    _check_input,
    _lapack,
    _tensor,
    write_outs,
)
from lazyt.linalg_products import _type_name, write_out
from lazyt.tensor import Tensor, broadcast_shapes

ldl_factor_result = return_types.linalg_ldl_factor
ldl_factor_ex_result = return_types.linalg_ldl_factor_ex


def _factorise(A: Tensor, op_name: str):
    _check_input(A, op_name)
    LD, pivots, info = _lapack("ldl_factor", A.detach())
    return _tensor(LD, A.dtype), _tensor(pivots, dtypes.int32), _tensor(info, dtypes.int32)


def ldl_factor_ex(A: Tensor, *, hermitian: bool = False, check_errors: bool = False, out=None):
    """(LD, pivots, info): LAPACK's compact LDL^T of a symmetric A (its lower
    triangle is read); info > 0 marks an exactly singular D."""
    LD, pivots, info = _factorise(A, "torch.linalg.ldl_factor_ex")
    if check_errors:
        _raise_if_singular(info, "torch.linalg.ldl_factor_ex")
    return write_outs(ldl_factor_ex_result(LD, pivots, info), out, "linalg_ldl_factor_ex", (A,))


def ldl_factor(A: Tensor, *, hermitian: bool = False, out=None):
    LD, pivots, info = _factorise(A, "torch.linalg.ldl_factor_ex")
    _raise_if_singular(info, "torch.linalg.ldl_factor")
    return write_outs(ldl_factor_result(LD, pivots), out, "linalg_ldl_factor", (A,))


def _raise_if_singular(info: Tensor, op_name: str) -> None:
    values = info.numpy()
    if np.any(values):
        element = int(np.flatnonzero(values.reshape(-1))[0])
        prefix = _batch_prefix(values.reshape(values.shape + (1, 1)), element)
        raise LinAlgError(f"{op_name}: {prefix}The factorization could not be completed because "
                          f"the input is not invertible (the diagonal element "
                          f"{int(values.reshape(-1)[element])} of D is zero).")


def _factors(LD: Tensor, pivots: list[int]) -> tuple[Tensor, Tensor]:
    """M and the block-diagonal D with A = M D M^T, for one matrix."""
    n = LD.shape[-1]
    M = creation.eye(n, dtype=LD.dtype)
    d_mask = np.eye(n)
    k = 0
    while k < n:
        step = 1 if pivots[k] > 0 else 2
        swap_with = (pivots[k] if step == 1 else -pivots[k]) - 1
        permutation = np.eye(n)
        permutation[[k + step - 1, swap_with]] = permutation[[swap_with, k + step - 1]]
        column_mask = np.zeros((n, n))
        column_mask[k + step:, k:k + step] = 1
        if step == 2:
            d_mask[k + 1, k] = 1
        unit_lower = ew.add(creation.eye(n, dtype=LD.dtype),
                            ew.mul(LD, creation.tensor(column_mask, dtype=LD.dtype)))
        M = matmul(matmul(M, creation.tensor(permutation, dtype=LD.dtype)), unit_lower)
        k += step
    lower_d = ew.mul(LD, creation.tensor(d_mask, dtype=LD.dtype))
    D = ew.add(lower_d, lower_d.tril(-1).mT)
    return M, D


def ldl_solve(LD: Tensor, pivots: Tensor, B: Tensor, *, hermitian: bool = False,
              out=None) -> Tensor:
    """X with A X = B for A given as ldl_factor's (LD, pivots)."""
    name = "torch.linalg.ldl_solve"
    _check_input(LD, name)
    if B.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor B must have at least 2 dimensions.")
    if LD.dtype is not B.dtype:
        raise RuntimeError(f"{name}: Expected LD and B to have the same dtype, but found LD of "
                           f"type {_type_name(LD)} and B of type {_type_name(B)} instead")
    if pivots.dtype is not dtypes.int32:
        raise RuntimeError(f"{name}: Expected pivots to be integers. Got {_type_name(pivots)}")
    if tuple(pivots.shape) != tuple(LD.shape[:-1]):
        raise RuntimeError(f"{name}: Expected LD.shape[:-1] and pivots.shape to be the same, "
                           f"but got pivots with shape {list(pivots.shape)} instead")
    n = LD.shape[-1]
    if B.shape[-2] != n:
        raise RuntimeError(f"{name}: Incompatible shapes of A and B for the equation AX = B "
                           f"({n}x{n} and {B.shape[-2]}x{B.shape[-1]})")
    batch = broadcast_shapes(tuple(LD.shape[:-2]), tuple(B.shape[:-2]))
    count = int(np.prod(batch))
    factors = LD.expand(*batch, n, n).reshape(count, n, n)
    rhs = B.expand(*batch, *B.shape[-2:]).reshape(count, *B.shape[-2:])
    swaps = pivots.expand(*batch, n).reshape(count, n).tolist()
    solutions = []
    for i in range(count):
        M, D = _factors(factors[i], swaps[i])
        X = LinalgSolveEx.apply(M, rhs[i])
        X = LinalgSolveEx.apply(D, X)
        solutions.append(LinalgSolveEx.apply(M.mT, X))
    X = shape_ops.stack(solutions) if solutions else \
        creation.zeros((0, *B.shape[-2:]), dtype=B.dtype)
    return write_out(X.reshape(*batch, *B.shape[-2:]), out, "linalg_ldl_solve", (LD, B))


# lt.linalg.X (lazyt/linalg.py resolves these names on first use).
LINALG = {"ldl_factor": ldl_factor, "ldl_factor_ex": ldl_factor_ex, "ldl_solve": ldl_solve}
