"""Solvers and matrix functions built on the decompositions: triangular and
Cholesky solves, the `_ex` variants (an `info` tensor instead of an error),
cond, tensorinv/tensorsolve, vander, matrix_exp, householder_product.

Nothing here calls a library itself: triangular systems go through the
solve extern of lazyt/linalg_decompositions.py on the triangle PyTorch reads
(so gradients come out projected onto it, as PyTorch's do), and everything
else is lazyt ops. Two ops whose PyTorch gradient is not the derivative of
what they read (cholesky_solve, cholesky_inverse: PyTorch differentiates
them as functions of the whole factor) are Functions with PyTorch's formula.
"""

from __future__ import annotations

import math

import numpy as np

from lazyt import creation, dtypes, reductions, return_types, shape_ops
from lazyt import elementwise as ew
from lazyt.autograd.function import Function
from lazyt.linalg import matmul
from lazyt.linalg_decompositions import (
    LinalgCholeskyEx,
    LinAlgError,
    LinalgInvEx,
    LinalgSolveEx,
    _check_input,
    _lapack,
    _tensor,
    qr,
    solve,
    svdvals,
    write_outs,
)
from lazyt.linalg_norms import matrix_norm
from lazyt.linalg_products import _type_name, write_out
from lazyt.tensor import Tensor, broadcast_shapes

cholesky_ex_result = return_types.linalg_cholesky_ex
inv_ex_result = return_types.linalg_inv_ex
solve_ex_result = return_types.linalg_solve_ex
triangular_solve_result = return_types.triangular_solve
torch_qr_result = return_types.qr
geqrf_result = return_types.geqrf


def _int32_tensor(array: np.ndarray) -> Tensor:
    return creation.tensor(np.asarray(array, dtype=np.int32), dtype=dtypes.int32)


def _lu_info(A: Tensor) -> np.ndarray:
    """getrf's info per matrix (the first zero pivot, 1-based; 0: invertible)."""
    return _lapack("lu_factor", A)[2]


# ------------------------------------------------------- triangular solves
def _triangle(A: Tensor, upper: bool, unitriangular: bool) -> Tensor:
    """The part of A a triangular solver reads (a unit diagonal when unitriangular)."""
    if not unitriangular:
        return A.triu() if upper else A.tril()
    strict = A.triu(1) if upper else A.tril(-1)
    return ew.add(strict, creation.eye(A.shape[-1], dtype=A.dtype))


def _solve_broadcast(A: Tensor, B: Tensor) -> Tensor:
    """X with A X = B for square A (..., n, n) and B (..., n, k), batches broadcast."""
    batch = broadcast_shapes(tuple(A.shape[:-2]), tuple(B.shape[:-2]))
    n = A.shape[-1]
    return LinalgSolveEx.apply(A.expand(*batch, n, n), B.expand(*batch, *B.shape[-2:]))


def _substitute(T: Tensor, B: Tensor, upper: bool) -> Tensor:
    """X with T X = B for triangular T by substitution, one row per step (lazyt
    ops). Only for a singular T, where the solve extern refuses and LAPACK's
    trsm divides by the zero (inf/NaN results, as PyTorch returns)."""
    n = T.shape[-1]
    batch = broadcast_shapes(tuple(T.shape[:-2]), tuple(B.shape[:-2]))
    T, B = T.expand(*batch, n, n), B.expand(*batch, *B.shape[-2:])
    solved: dict[int, Tensor] = {}
    for i in (range(n - 1, -1, -1) if upper else range(n)):
        row = B.narrow(-2, i, 1)
        known = list(range(i + 1, n)) if upper else list(range(i))
        if known:
            coefficients = T.narrow(-2, i, 1).narrow(-1, known[0], len(known))
            values = shape_ops.cat([solved[j] for j in known], -2)
            row = ew.sub(row, matmul(coefficients, values))
        solved[i] = ew.div(row, T.narrow(-2, i, 1).narrow(-1, i, 1))
    return shape_ops.cat([solved[i] for i in range(n)], -2)


def _triangular_solve(T: Tensor, B: Tensor, upper: bool) -> Tensor:
    """X with T X = B for the triangular T (the solve extern; substitution if T is singular)."""
    try:
        return _solve_broadcast(T, B)
    except LinAlgError:
        return _substitute(T, B, upper)


def _check_triangular_operands(A: Tensor, B: Tensor, op_name: str, left: bool) -> None:
    if A.ndim >= 2 and A.dtype.kind != "f":
        raise NotImplementedError(f"\"triangular_solve_cpu\" not implemented for "
                                  f"'{_type_name(A)}'")
    _check_input(A, op_name)
    if B.ndim < 2:
        raise RuntimeError(f"{op_name}: The input tensor B must have at least 2 dimensions.")
    n = A.shape[-1]
    if (B.shape[-2] if left else B.shape[-1]) != n:
        rows, cols = B.shape[-2], B.shape[-1]
        equation = "AX = B" if left else "XA = B"
        raise RuntimeError(f"{op_name}: Incompatible shapes of A and B for the equation "
                           f"{equation} ({n}x{n} and {rows}x{cols})")


def solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True,
                     unitriangular: bool = False, out=None) -> Tensor:
    """X with AX = B (left) or XA = B for triangular A; only A's triangle is read."""
    _check_triangular_operands(A, B, "linalg.solve_triangular", left)
    dtype = dtypes.result_type(A, B)
    T = _triangle(ew.cast_if(A, dtype), upper, unitriangular)
    rhs = ew.cast_if(B, dtype)
    X = _triangular_solve(T, rhs, upper) if left else \
        _triangular_solve(T.mT, rhs.mT, not upper).mT
    return write_out(X, out, "linalg_solve_triangular", (A, B))


def triangular_solve(input: Tensor, A: Tensor, upper: bool = True, transpose: bool = False,
                     unitriangular: bool = False, *, out=None):
    """torch.triangular_solve (deprecated): (solution of op(A) X = input, a copy of A)."""
    _check_triangular_operands(A, input, "torch.triangular_solve", True)
    if input.dtype is not A.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type "
                           f"{_type_name(input)} and A of type {_type_name(A)} instead.")
    T = _triangle(A, upper, unitriangular)
    X = _triangular_solve(T.mT if transpose else T, input, upper != transpose)
    batch = tuple(X.shape[:-2])
    cloned = ew.clone(A.expand(*batch, *A.shape[-2:]))
    return write_outs(triangular_solve_result(X, cloned), out, "triangular_solve", (input, A))


# -------------------------------------------------------- Cholesky family
def _cholesky_solve_values(B: Tensor, L: Tensor, upper: bool) -> Tensor:
    """(L L^T)^-1 B (U^T U when upper) by two triangular solves on L's triangle."""
    T = L.triu() if upper else L.tril()
    lower = T.mT if upper else T
    return LinalgSolveEx.apply(lower.mT, LinalgSolveEx.apply(lower, B))


class CholeskySolve(Function):
    """PyTorch differentiates cholesky_solve as a function of the whole of L."""

    @staticmethod
    def forward(ctx, B, L, upper):
        X = _cholesky_solve_values(B, L, upper)
        ctx.upper = upper
        ctx.save_for_backward(L, X)
        return X

    @staticmethod
    def backward(ctx, grad):
        L, X = ctx.saved_tensors
        grad_B = CholeskySolve.apply(grad, L, ctx.upper)
        common = matmul(grad_B, X.mT)
        common = ew.add(common, common.mT)
        grad_L = ew.neg(matmul(L, common) if ctx.upper else matmul(common, L))
        return grad_B, grad_L, None


def cholesky_solve(input: Tensor, input2: Tensor, upper: bool = False, *, out=None) -> Tensor:
    """X with A X = input for A = L L^T (input2 = L; U^T U when upper)."""
    B, L = input, input2
    if B.ndim < 2 or L.ndim < 2:
        raise RuntimeError(f"b should have at least 2 dimensions, but has {B.ndim} dimensions "
                           "instead" if B.ndim < 2 else
                           f"u should have at least 2 dimensions, but has {L.ndim} dimensions "
                           "instead")
    if B.dtype is not L.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but got b of type "
                           f"{_type_name(B)} and A of type {_type_name(L)} instead.")
    _check_input(L, "cholesky_solve")
    if B.shape[-2] != L.shape[-1]:
        raise RuntimeError(f"Incompatible matrix sizes for cholesky_solve: each A matrix is "
                           f"{L.shape[-1]} by {L.shape[-1]} but each b matrix is "
                           f"{B.shape[-2]} by {B.shape[-1]}")
    batch = broadcast_shapes(tuple(B.shape[:-2]), tuple(L.shape[:-2]))
    X = CholeskySolve.apply(B.expand(*batch, *B.shape[-2:]), L.expand(*batch, *L.shape[-2:]),
                            upper)
    return write_out(X, out, "cholesky_solve", (B, L))


class CholeskyInverse(Function):
    """(L L^T)^-1; PyTorch's gradient as a function of the whole of L."""

    @staticmethod
    def forward(ctx, L, upper):
        eye = creation.eye(L.shape[-1], dtype=L.dtype).expand(*L.shape)
        inverse = _cholesky_solve_values(eye, L, upper)
        ctx.upper = upper
        ctx.save_for_backward(L, inverse)
        return inverse

    @staticmethod
    def backward(ctx, grad):
        L, inverse = ctx.saved_tensors
        common = matmul(inverse, matmul(ew.add(grad, grad.mT), inverse))
        return ew.neg(matmul(L, common) if ctx.upper else matmul(common, L)), None


def cholesky_inverse(input: Tensor, upper: bool = False, *, out=None) -> Tensor:
    _check_input(input, "cholesky_inverse")
    return write_out(CholeskyInverse.apply(input, upper), out, "cholesky_inverse", (input,))


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False, out=None):
    """(L, info): info is the order of the first leading minor that is not
    positive-definite (0 when the factorisation succeeded); a failed matrix
    gets LAPACK's partial factor (not differentiable)."""
    _check_input(A, "linalg.cholesky")
    batch = tuple(A.shape[:-2])
    try:
        L = LinalgCholeskyEx.apply(A)
        info = creation.zeros(batch, dtype=dtypes.int32)
    except LinAlgError:
        if check_errors:
            raise
        factors, info_np = _lapack("cholesky_ex", A)
        L, info = _tensor(factors, A.dtype), _tensor(info_np, dtypes.int32)
    return write_outs(cholesky_ex_result(L.mT if upper else L, info), out,
                      "linalg_cholesky_ex", (A,))


# ---------------------------------------------------- inverse and solve, _ex
def _solve_by_lu(A: Tensor, B: Tensor) -> Tensor:
    """A^-1 B as LAPACK's getrf + getrs compute it, for a singular A: the
    division by the zero pivot gives PyTorch's inf/NaN results."""
    from lazyt.linalg_lu import LinalgLu  # (linalg_lu imports this module)

    P, L, U, _, _ = LinalgLu.apply(A)
    lower = _triangular_solve(L, matmul(P.mT, B), upper=False)
    return _substitute(U, lower, upper=True)


def inv_ex(A: Tensor, *, check_errors: bool = False, out=None):
    """(inverse, info): info is getrf's first zero pivot (0: invertible); the
    inverse of a singular matrix is NaN here."""
    _check_input(A, "linalg.inv")
    batch = tuple(A.shape[:-2])
    try:
        inverse = LinalgInvEx.apply(A)
        info = creation.zeros(batch, dtype=dtypes.int32)
    except LinAlgError:
        if check_errors:
            raise
        eye = creation.eye(A.shape[-1], dtype=A.dtype).expand(*A.shape)
        inverse = _solve_by_lu(A.detach(), eye)
        info = _int32_tensor(_lu_info(A))
    return write_outs(inv_ex_result(inverse, info), out, "linalg_inv_ex", (A,))


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False, out=None):
    """(solve(A, B), info) with info getrf's first zero pivot per matrix."""
    try:
        result = solve(A, B, left=left)
        info = creation.zeros(tuple(A.shape[:-2]), dtype=dtypes.int32)
    except LinAlgError:
        if check_errors:
            raise
        info = _int32_tensor(_lu_info(A))
        vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
        rhs = B.detach().unsqueeze(-1) if vector else B.detach()
        a = A.detach().mT if not left else A.detach()
        result = _solve_by_lu(a, rhs if left else rhs.mT)
        result = result if left else result.mT
        result = result.squeeze(-1) if vector else result
    return write_outs(solve_ex_result(result, info), out, "linalg_solve_ex", (A, B))


# ------------------------------------------------------------- cond
def cond(A: Tensor, p=None, *, out=None) -> Tensor:
    """The condition number in norm p: through the singular values for p in
    (None, 2, -2), norm(A) * norm(inv(A)) otherwise (inf for a singular A)."""
    if p in (None, 2, -2):
        _check_input(A, "linalg.cond", square=False)
        values = svdvals(A)
        if values.shape[-1] == 0:
            return write_out(creation.zeros(tuple(A.shape[:-2]), dtype=A.dtype), out,
                             "linalg_cond", (A,))
        largest, smallest = reductions.amax(values, -1), reductions.amin(values, -1)
        ratio = ew.div(smallest, largest) if p == -2 else ew.div(largest, smallest)
        return write_out(ratio, out, "linalg_cond", (A,))
    if p not in ("fro", "nuc", math.inf, -math.inf, 1, -1):
        raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
    _check_input(A, f"linalg.cond(ord={p})")
    info = _lu_info(A)
    if np.all(info == 0):
        result = ew.mul(matrix_norm(A, p), matrix_norm(LinalgInvEx.apply(A), p))
    else:  # PyTorch's value for a singular matrix: inf
        safe = ew.where(_int32_tensor(info).unsqueeze(-1).unsqueeze(-1) != 0,
                        creation.eye(A.shape[-1], dtype=A.dtype), A)
        finite = ew.mul(matrix_norm(A, p), matrix_norm(LinalgInvEx.apply(safe), p))
        result = ew.where(_int32_tensor(info) != 0, math.inf, finite)
    return write_out(result, out, "linalg_cond", (A,))


# --------------------------------------------------- tensorinv, tensorsolve
def tensorinv(A: Tensor, ind: int = 2, *, out=None) -> Tensor:
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    rows = math.prod(A.shape[:ind])
    cols = math.prod(A.shape[ind:])
    if rows != cols:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {cols} != {rows}")
    _check_input(A.reshape(rows, cols), "linalg.inv")
    inverse = LinalgInvEx.apply(A.reshape(rows, cols))
    return write_out(inverse.reshape(*A.shape[ind:], *A.shape[:ind]), out, "linalg_tensorinv",
                     (A,))


def tensorsolve(A: Tensor, B: Tensor, dims=None, *, out=None) -> Tensor:
    """X with tensordot(A, X, X.ndim) = B; `dims` of A are moved to the end first."""
    if dims is not None:
        dims = [dims] if isinstance(dims, int) else list(dims)
        A = A.movedim(dims, list(range(A.ndim - len(dims), A.ndim)))
    result_shape = tuple(A.shape[B.ndim:])
    rows, cols = B.numel(), math.prod(result_shape)
    if math.prod(A.shape) != rows * cols or rows != cols:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[other.ndim:"
                           f"]) == prod(self.shape[:other.ndim]), but got {cols} != {rows}")
    X = solve(A.reshape(rows, cols), B.reshape(rows))
    return write_out(X.reshape(result_shape), out, "linalg_tensorsolve", (A, B))


# ---------------------------------------------------------------- vander
def vander(x: Tensor, *, N: int | None = None) -> Tensor:
    """Columns x^0, x^1, ..., x^(N-1) (a cumulative product, so it differentiates)."""
    if x.ndim == 0:  # PyTorch reads a 0-d x as one point
        x = x.reshape(1)
    if x.dtype is dtypes.bool_:
        raise RuntimeError("linalg.vander supports floating point, complex, and integer "
                           f"tensors, but got {_type_name(x)}")
    N = x.shape[-1] if N is None else N
    if N <= 1:
        raise RuntimeError("N must be greater than 1.")
    if x.dtype.kind != "f":
        x = ew.cast_if(x, dtypes.int64)
    powers = reductions.cumprod(x.unsqueeze(-1).expand(*x.shape, N - 1), -1)
    ones = creation.ones((*x.shape, 1), dtype=x.dtype)
    return shape_ops.cat([ones, powers], -1)


# ------------------------------------------------------------- matrix_exp
_TAYLOR_DEGREE = 18
_SCALED_NORM = 0.5


def matrix_exp(A: Tensor) -> Tensor:
    """exp(A) by scaling and squaring: a degree-18 Taylor polynomial (Horner,
    matmuls) of A / 2^s with ||A / 2^s||_1 <= 1/2, squared s times, in float64.
    Written with lazyt ops, so it differentiates through the same matmuls."""
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_exp: The input tensor A must have at least 2 "
                           "dimensions.")
    if A.dtype.kind != "f":
        raise RuntimeError("linalg.matrix_exp: Expected a floating point or complex tensor as "
                           f"input. Got {_type_name(A)}")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.matrix_exp: A must be batches of square matrices, but they "
                           f"are {A.shape[-2]} by {A.shape[-1]} matrices")
    n = A.shape[-1]
    if A.numel() == 0:
        return ew.clone(A)
    if n == 1:
        return ew.apply("exp", A)
    if A.dtype is not dtypes.float64:  # squarings amplify rounding: work in float64
        return ew.cast(matrix_exp(ew.cast(A, dtypes.float64)), A.dtype)
    norm = float(reductions.amax(reductions.sum(ew.apply("abs", A.detach()), -2)).item())
    squarings = 0 if not math.isfinite(norm) or norm <= _SCALED_NORM else \
        math.ceil(math.log2(norm / _SCALED_NORM))
    scaled = ew.mul(A, 2.0 ** -squarings) if squarings else A
    eye = creation.eye(n, dtype=A.dtype)
    result = ew.add(eye, ew.div(scaled, _TAYLOR_DEGREE))
    for k in range(_TAYLOR_DEGREE - 1, 0, -1):
        result = ew.add(eye, ew.div(matmul(scaled, result), k))
    for _ in range(squarings):
        result = matmul(result, result)
    return result


# ----------------------------------------------------- householder_product
def householder_product(A: Tensor, tau: Tensor, *, out=None) -> Tensor:
    """The first n columns of H_1 ... H_k, H_i = I - tau_i v_i v_i^T with v_i
    the i-th column of A below the diagonal and a 1 on it (LAPACK orgqr)."""
    name = "torch.linalg.householder_product"
    if A.ndim < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    m, n = A.shape[-2], A.shape[-1]
    if m < n:
        raise RuntimeError(f"{name}: input.shape[-2] must be greater than or equal to "
                           "input.shape[-1]")
    if tau.ndim != A.ndim - 1:
        raise RuntimeError(f"{name}: Expected tau to have one dimension less than input, but "
                           f"got tau.ndim equal to {tau.ndim} and input.ndim is equal to "
                           f"{A.ndim}")
    k = tau.shape[-1]
    if n < k:
        raise RuntimeError(f"{name}: input.shape[-1] must be greater than or equal to "
                           "tau.shape[-1]")
    if tuple(tau.shape[:-1]) != tuple(A.shape[:-2]):
        raise RuntimeError(f"{name}: Expected batch dimensions of tau to be equal to "
                           f"input.shape[:-2], but got {list(tau.shape[:-1])}")
    if tau.dtype is not A.dtype:
        raise RuntimeError(f"{name}: tau dtype {_type_name(tau)} does not match input dtype "
                           f"{_type_name(A)}")
    reflectors = ew.add(A.narrow(-1, 0, k).tril(-1), creation.eye(m, k, dtype=A.dtype))
    Q = creation.eye(m, dtype=A.dtype).expand(*A.shape[:-2], m, m)
    for i in range(k):
        v = reflectors.narrow(-1, i, 1)
        scale = tau.narrow(-1, i, 1).unsqueeze(-1)
        Q = ew.sub(Q, matmul(ew.mul(matmul(Q, v), scale), v.mT))
    if k == 0:  # still an output of A's and tau's graph (a zero gradient), as in PyTorch
        inputs = ew.add(reductions.sum(A, (-2, -1), keepdim=True),
                        reductions.sum(tau, -1, keepdim=True).unsqueeze(-1))
        Q = ew.where(creation.tensor(True), Q, inputs)
    return write_out(Q.narrow(-1, 0, n), out, "linalg_householder_product", (A, tau))


def geqrf(input: Tensor, *, out=None):
    """LAPACK's QR in Householder form (a, tau): not differentiable, as in PyTorch."""
    if input.ndim < 2:
        raise RuntimeError("torch.geqrf: input must have at least 2 dimensions.")
    _check_input(input, "torch.geqrf", square=False)
    reflectors, tau = _lapack("geqrf", input)
    result = geqrf_result(_tensor(reflectors, input.dtype), _tensor(tau, input.dtype))
    return write_outs(result, out, "geqrf", (input,))


def ormqr(input: Tensor, input2: Tensor, input3: Tensor, left: bool = True,
          transpose: bool = False, *, out=None) -> Tensor:
    """Multiply input3 by Q (or Q^T) of a geqrf result (input, tau = input2),
    from the left or right, one reflector at a time (lazyt ops)."""
    A, tau, C = input, input2, input3
    name = "torch.ormqr"
    for what, t in (("input", A), ("other", C)):
        if t.ndim < 2:
            raise RuntimeError(f"{name}: {what} must have at least 2 dimensions.")
    side = -2 if left else -1
    if tau.shape[-1] != min(C.shape[side], A.shape[-1]):
        raise RuntimeError(f"{name}: tau.shape[-1] must be equal to min(other.shape[{side}], "
                           "input.shape[-1])")
    if C.ndim != A.ndim:
        raise RuntimeError(f"{name}: Expected other to have the same number of dimensions as "
                           f"input, but got other.ndim equal to {C.ndim} and input.ndim is "
                           f"equal to {A.ndim}")
    rows = C.shape[-2] if left else C.shape[-1]
    if A.shape[-2] != rows:
        side = "other.shape[-2]" if left else "other.shape[-1]"
        raise RuntimeError(f"{name}: {side} must be equal to input.shape[-2]")
    k = tau.shape[-1]
    if k > A.shape[-1] or k > rows:
        raise RuntimeError(f"{name}: tau.shape[-1] must be less than or equal to input.shape[-1]")
    if A.dtype is not C.dtype or A.dtype is not tau.dtype:
        raise RuntimeError(f"{name}: Expected input, tau and other to have the same dtype, but "
                           f"got {_type_name(A)}, {_type_name(tau)} and {_type_name(C)}")
    reflectors = ew.add(A.narrow(-1, 0, k).tril(-1), creation.eye(rows, k, dtype=A.dtype))
    # Q = H_1 ... H_k: Q C applies H_k first; Q^T C applies H_1 first; C Q applies H_1 first.
    order = range(k) if transpose == left else range(k - 1, -1, -1)
    result = C
    for i in order:
        v = reflectors.narrow(-1, i, 1)
        scale = tau.narrow(-1, i, 1).unsqueeze(-1)
        if left:
            result = ew.sub(result, matmul(ew.mul(v, scale), matmul(v.mT, result)))
        else:
            result = ew.sub(result, matmul(ew.mul(matmul(result, v), scale), v.mT))
    return write_out(result, out, "ormqr", (A, tau, C))


def torch_qr(input: Tensor, some: bool = True, *, out=None):
    """torch.qr (deprecated): linalg.qr in 'reduced' (some) or 'complete' mode."""
    Q, R = qr(input, mode="reduced" if some else "complete")
    return write_outs(torch_qr_result(Q, R), out, "qr", (input,))


FUNCTIONS = {
    "triangular_solve": triangular_solve, "cholesky_solve": cholesky_solve,
    "cholesky_inverse": cholesky_inverse, "matrix_exp": matrix_exp, "qr": torch_qr,
    "geqrf": geqrf, "ormqr": ormqr,
}
TENSOR_METHODS = dict(FUNCTIONS)
# lt.linalg.X (lazyt/linalg.py resolves these names on first use).
LINALG = {
    "solve_triangular": solve_triangular, "cholesky_ex": cholesky_ex, "inv_ex": inv_ex,
    "solve_ex": solve_ex, "cond": cond, "tensorinv": tensorinv, "tensorsolve": tensorsolve,
    "vander": vander, "matrix_exp": matrix_exp, "householder_product": householder_product,
}
