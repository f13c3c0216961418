"""Matrix decompositions and solvers: the LAPACK extern ops and what is built on them.

solve, inv, det, slogdet, cholesky, eigh, svd, qr and lstsq realise their
inputs and call numpy.linalg (LAPACK) through the CPU backend's declared
extern (lazyt/runtime/cpu.py `lapack`, counted in `extern_calls`), the way
sort calls its extern in lazyt/linalg.py. Each is an `lt.autograd.Function`
whose backward is written with lazyt ops (matmuls, solves, elementwise), so
gradients of gradients work too. pinv, matrix_rank, svdvals, eigvalsh and
the spectral matrix norms are built from these with lazyt ops.
"""

from __future__ import annotations

import numpy as np

from lazyt import creation, dtypes, reductions, return_types, shape_ops
from lazyt import elementwise as ew
from lazyt.autograd import grad_mode
from lazyt.autograd.function import Function
from lazyt.ir.view import View
from lazyt.linalg import check_cpu_extern, matmul
from lazyt.linalg_products import _check_square, _type_name, diag_embed, write_out
from lazyt.runtime import cpu
from lazyt.runtime.device import CPU
from lazyt.runtime.storage import Storage
from lazyt.tensor import Tensor, broadcast_shapes


class LinAlgError(RuntimeError):
    """torch.linalg.LinAlgError: a decomposition failed on the values (singular,
    not positive-definite); a RuntimeError, as in PyTorch."""


slogdet_result = return_types.linalg_slogdet
eigh_result = return_types.linalg_eigh
svd_result = return_types.linalg_svd
torch_svd_result = return_types.svd
qr_result = return_types.linalg_qr
lstsq_result = return_types.linalg_lstsq


# ------------------------------------------------------ the extern calls
def _check_input(A: Tensor, op_name: str, square: bool = True) -> None:
    """PyTorch's checks on a decomposition's input: at least 2-D, square, float32/64."""
    if A.ndim < 2:
        raise RuntimeError(f"{op_name}: The input tensor A must have at least 2 dimensions.")
    if A.dtype.kind != "f":
        raise RuntimeError(f"{op_name}: Expected a floating point or complex tensor as input. "
                           f"Got {_type_name(A)}")
    if A.dtype.itemsize < 4:
        raise RuntimeError(f"{op_name}: Low precision dtypes not supported. Got {_type_name(A)}")
    if square:
        _check_square(A, op_name)


def _host(t: Tensor) -> np.ndarray:
    """The realised values of t as a numpy array (no copy when possible)."""
    return t.detach()._host_array()


def _tensor(array: np.ndarray, dtype) -> Tensor:
    """A fresh contiguous lazyt tensor holding the extern's result."""
    array = np.array(array, dtype=dtype.numpy_storage, order="C")
    storage = Storage.from_array(dtype, array, CPU)
    return Tensor._make(storage, View.contiguous(tuple(array.shape)))


def write_outs(results: tuple, out, op_name: str, inputs=()):
    """write_out for ops returning several tensors: out is a tuple of tensors,
    returned as the op's named tuple."""
    if out is None:
        return results
    if not isinstance(out, (tuple, list)) or len(out) != len(results):
        raise TypeError(f"{op_name}(): argument 'out' must be a tuple of {len(results)} Tensors")
    written = [write_out(r, o, op_name, inputs) for r, o in zip(results, out)]
    return type(results)(*written) if hasattr(results, "_fields") else tuple(written)


def _lapack(name: str, A: Tensor, *others: Tensor, **options):
    check_cpu_extern(f"linalg.{name}", A, *others)
    return cpu.lapack(name, A.dtype, _host(A), *(_host(t) for t in others), **options)


def _batch_prefix(matrices: np.ndarray, element: int) -> str:
    return f"(Batch element {element}): " if matrices.ndim > 2 else ""


def _raise_singular(op_name: str, A: Tensor) -> None:
    matrices = _host(A)
    element, pivot = cpu.first_zero_pivot(matrices)
    element = max(element, 0)
    raise LinAlgError(f"{op_name}: {_batch_prefix(matrices, element)}The diagonal element "
                      f"{max(pivot, 1)} is zero, the inversion could not be completed because "
                      "the input matrix is singular.")


# ------------------------------------------------------------ inverse
class LinalgInvEx(Function):
    """inv(A); its gradient is -A^-T grad A^-T."""

    @staticmethod
    def forward(ctx, A):
        try:
            out = _tensor(_lapack("inv", A), A.dtype)
        except np.linalg.LinAlgError:
            _raise_singular("linalg.inv", A)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (inverse,) = ctx.saved_tensors
        return ew.neg(matmul(matmul(inverse.mT, grad), inverse.mT))


def inv(A: Tensor, *, out=None) -> Tensor:
    _check_input(A, "linalg.inv")
    return write_out(LinalgInvEx.apply(A), out, "linalg_inv", (A,))


def inverse(input: Tensor, *, out=None) -> Tensor:
    return inv(input, out=out)


# -------------------------------------------------------------- solve
class LinalgSolveEx(Function):
    """X = A^-1 B for A (..., n, n), B (..., n, k) with equal batch dims."""

    @staticmethod
    def forward(ctx, A, B):
        try:
            X = _tensor(_lapack("solve", A, B), A.dtype)
        except np.linalg.LinAlgError:
            matrices = _host(A)
            element, _ = cpu.first_zero_pivot(matrices)
            raise LinAlgError(f"torch.linalg.solve: {_batch_prefix(matrices, max(element, 0))}"
                              "The solver failed because the input matrix is singular.") from None
        ctx.save_for_backward(A, X)
        return X

    @staticmethod
    def backward(ctx, grad):
        A, X = ctx.saved_tensors
        grad_B = LinalgSolveEx.apply(A.mT, grad)
        grad_A = ew.neg(matmul(grad_B, X.mT)) if ctx.needs_input_grad[0] else None
        return grad_A, grad_B


def _is_vector_rhs(A: Tensor, B: Tensor) -> bool:
    """PyTorch's rule: B is a (batch of) vector(s) if 1-D, or if its shape is A's minus one dim."""
    return B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))


def solve(A: Tensor, B: Tensor, *, left: bool = True, out=None) -> Tensor:
    """linalg.solve: X with AX = B (left) or XA = B; A and B broadcast over batches."""
    _check_input(A, "linalg.solve")
    if A.dtype is not B.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A "
                           f"of type {_type_name(A)} and B of type {_type_name(B)} instead")
    vector = _is_vector_rhs(A, B)
    rhs = B.unsqueeze(-1) if vector else B
    if rhs.ndim < 2:
        raise RuntimeError("linalg.solve: The input tensor B must have at least 1 dimensions.")
    if not left:
        if vector:
            raise RuntimeError("linalg.solve: Vector broadcasting of the left hand side is not "
                               "supported for left=False. In this case linalg.solve is "
                               "equivalent to B / A.squeeze(-1)")
        result = solve(A.mT, rhs.mT).mT
        return write_out(result, out, "linalg_solve", (A, B))
    n = A.shape[-1]
    if rhs.shape[-2] != n:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation AX = "
                           f"B ({A.shape[-2]}x{n} and {rhs.shape[-2]}x{rhs.shape[-1]})")
    batch = broadcast_shapes(tuple(A.shape[:-2]), tuple(rhs.shape[:-2]))
    a = A.expand(*batch, n, n)
    b = rhs.expand(*batch, *rhs.shape[-2:])
    X = LinalgSolveEx.apply(a, b)
    return write_out(X.squeeze(-1) if vector else X, out, "linalg_solve", (A, B))


# ---------------------------------------------------------- determinants
class LinalgDet(Function):
    """det(A); its gradient is grad * det(A) * A^-T."""

    @staticmethod
    def forward(ctx, A):
        out = _tensor(np.asarray(_lapack("det", A)), A.dtype)
        ctx.save_for_backward(A, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        A, det_a = ctx.saved_tensors
        scale = ew.mul(grad, det_a).unsqueeze(-1).unsqueeze(-1)
        return ew.mul(scale, inv(A).mT)


def det(A: Tensor, *, out=None) -> Tensor:
    _check_input(A, "linalg.det")
    return write_out(LinalgDet.apply(A), out, "linalg_det", (A,))


class LinalgSlogdet(Function):
    """(sign, log|det A|); the gradient flows through logabsdet only: A^-T."""

    @staticmethod
    def forward(ctx, A):
        sign, logabsdet = _lapack("slogdet", A)
        sign_t = _tensor(np.asarray(sign), A.dtype)
        logabsdet_t = _tensor(np.asarray(logabsdet), A.dtype)
        ctx.save_for_backward(A)  # sign is an output with a zero gradient (as in PyTorch)
        return sign_t, logabsdet_t

    @staticmethod
    def backward(ctx, grad_sign, grad_logabsdet):
        (A,) = ctx.saved_tensors
        return ew.mul(grad_logabsdet.unsqueeze(-1).unsqueeze(-1), inv(A).mT)


def slogdet(A: Tensor, *, out=None):
    _check_input(A, "linalg.slogdet")
    return write_outs(slogdet_result(*LinalgSlogdet.apply(A)), out, "linalg_slogdet", (A,))


def logdet(input: Tensor) -> Tensor:
    """log(det(A)): NaN for a negative determinant, as in PyTorch."""
    sign, logabsdet = slogdet(input)
    return ew.where(ew.apply("lt", sign, 0), float("nan"), logabsdet)


# -------------------------------------------------------------- cholesky
class LinalgCholeskyEx(Function):
    """The lower Cholesky factor L of A = L L^T (only A's lower triangle is read)."""

    @staticmethod
    def forward(ctx, A):
        try:
            L = _tensor(_lapack("cholesky", A), A.dtype)
        except np.linalg.LinAlgError:
            matrices = _host(A)
            element, order = cpu.first_failed_minor(matrices)
            raise LinAlgError(
                f"linalg.cholesky: {_batch_prefix(matrices, max(element, 0))}The factorization "
                "could not be completed because the input is not positive-definite (the leading "
                f"minor of order {max(order, 1)} is not positive-definite).") from None
        ctx.save_for_backward(L)
        return L

    @staticmethod
    def backward(ctx, grad):
        # PyTorch's cholesky_backward: gA = L^-H phi(L^H gL) L^-1, symmetrised.
        (L,) = ctx.saved_tensors
        grad_a = matmul(L.mT, grad).tril()
        grad_a = ew.mul(ew.add(grad_a, grad_a.tril(-1).mT), 0.5)
        grad_a = solve(L.mT, grad_a)
        return solve(L, grad_a, left=False)


def cholesky(A: Tensor, *, upper: bool = False, out=None) -> Tensor:
    _check_input(A, "linalg.cholesky")
    L = LinalgCholeskyEx.apply(A)
    return write_out(L.mT if upper else L, out, "linalg_cholesky", (A,))


def torch_cholesky(input: Tensor, upper: bool = False, *, out=None) -> Tensor:
    """torch.cholesky (deprecated): upper as a positional argument."""
    return cholesky(input, upper=upper, out=out)


# ------------------------------------------------------------------ eigh
class LinalgEigh(Function):
    """Eigenvalues (ascending) and orthonormal eigenvectors of a symmetric A."""

    @staticmethod
    def forward(ctx, A, UPLO):
        values, vectors = _lapack("eigh", A, UPLO=UPLO)
        L, Q = _tensor(values, A.dtype), _tensor(vectors, A.dtype)
        ctx.save_for_backward(L, Q)
        ctx.set_materialize_grads(False)
        return L, Q

    @staticmethod
    def backward(ctx, grad_values, grad_vectors):
        # PyTorch's linalg_eig_backward for Hermitian input.
        L, Q = ctx.saved_tensors
        if grad_values is None:
            grad_values = creation.zeros(tuple(L.shape), dtype=L.dtype)
        if grad_vectors is None:  # eigenvalues only: no gaps divided by
            return matmul(ew.mul(Q, grad_values.unsqueeze(-2)), Q.mT), None
        inner = matmul(Q.mT, grad_vectors)
        inner = ew.mul(ew.sub(inner, inner.mT), 0.5)
        gaps = ew.sub(L.unsqueeze(-2), L.unsqueeze(-1))
        n = L.shape[-1]
        eye = creation.eye(n, dtype=L.dtype, device=None)
        gaps = ew.add(gaps, eye)  # the diagonal (0 gaps) divides by 1
        core = ew.add(ew.mul(ew.div(inner, gaps), ew.sub(1, eye)),
                      diag_embed(grad_values))
        return matmul(Q, matmul(core, Q.mT)), None


def _check_uplo(UPLO: str) -> None:
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")


def eigh(A: Tensor, UPLO: str = "L", *, out=None):
    _check_input(A, "linalg.eigh")
    _check_uplo(UPLO)
    return write_outs(eigh_result(*LinalgEigh.apply(A, UPLO)), out, "linalg_eigh", (A,))


def eigvalsh(A: Tensor, UPLO: str = "L", *, out=None) -> Tensor:
    _check_input(A, "linalg.eigvalsh")
    _check_uplo(UPLO)
    if A.requires_grad:
        return write_out(LinalgEigh.apply(A, UPLO)[0], out, "linalg_eigvalsh", (A,))
    values = _tensor(_lapack("eigvalsh", A, UPLO=UPLO), A.dtype)
    return write_out(values, out, "linalg_eigvalsh", (A,))


# ------------------------------------------------------------------- svd
class LinalgSvd(Function):
    """A = U diag(S) Vh, singular values descending."""

    @staticmethod
    def forward(ctx, A, full_matrices):
        U, S, Vh = _lapack("svd", A, full_matrices=full_matrices)
        outputs = (_tensor(U, A.dtype), _tensor(S, A.dtype), _tensor(Vh, A.dtype))
        ctx.save_for_backward(*outputs)
        ctx.set_materialize_grads(False)
        return outputs

    @staticmethod
    def backward(ctx, grad_U, grad_S, grad_Vh):
        # PyTorch's svd_backward (real case), on the reduced factors.
        U, S, Vh = ctx.saved_tensors
        m, n = U.shape[-2], Vh.shape[-1]
        k = S.shape[-1]
        if grad_S is None:
            grad_S = creation.zeros(tuple(S.shape), dtype=S.dtype)
        if grad_U is None and grad_Vh is None:  # singular values only: no gaps divided by
            return matmul(ew.mul(U.narrow(-1, 0, k), grad_S.unsqueeze(-2)),
                          Vh.narrow(-2, 0, k)), None
        if grad_U is None:
            grad_U = creation.zeros(tuple(U.shape), dtype=U.dtype)
        if grad_Vh is None:
            grad_Vh = creation.zeros(tuple(Vh.shape), dtype=Vh.dtype)
        U, grad_U = U.narrow(-1, 0, k), grad_U.narrow(-1, 0, k)
        Vh, grad_Vh = Vh.narrow(-2, 0, k), grad_Vh.narrow(-2, 0, k)
        U_h_grad_U = matmul(U.mT, grad_U)
        U_h_grad_U = ew.sub(U_h_grad_U, U_h_grad_U.mT)
        V_h_grad_V = matmul(Vh, grad_Vh.mT)
        V_h_grad_V = ew.sub(V_h_grad_V, V_h_grad_V.mT)
        S2 = ew.mul(S, S)
        eye = creation.eye(k, dtype=S.dtype)
        gaps = ew.add(ew.sub(S2.unsqueeze(-2), S2.unsqueeze(-1)), eye)
        core = ew.div(ew.add(ew.mul(U_h_grad_U, S.unsqueeze(-2)),
                             ew.mul(S.unsqueeze(-1), V_h_grad_V)), gaps)
        core = ew.add(core, diag_embed(grad_S))
        if m > n:
            grad_a = matmul(U, core)
            grad_U_over_S = ew.div(grad_U, S.unsqueeze(-2))
            grad_a = ew.sub(ew.add(grad_a, grad_U_over_S),
                            matmul(U, matmul(U.mT, grad_U_over_S)))
            return matmul(grad_a, Vh), None
        if m < n:
            grad_a = matmul(core, Vh)
            grad_Vh_over_S = ew.div(grad_Vh, S.unsqueeze(-1))
            grad_a = ew.sub(ew.add(grad_a, grad_Vh_over_S),
                            matmul(matmul(grad_Vh_over_S, Vh.mT), Vh))
            return matmul(U, grad_a), None
        return matmul(U, matmul(core, Vh)), None


def svd(A: Tensor, full_matrices: bool = True, *, driver=None, out=None):
    _check_input(A, "linalg.svd", square=False)
    return write_outs(svd_result(*LinalgSvd.apply(A, full_matrices)), out, "linalg_svd", (A,))


def torch_svd(input: Tensor, some: bool = True, compute_uv: bool = True, *, out=None):
    """torch.svd: returns V (not Vh); without compute_uv, U and V are zeros."""
    _check_input(input, "linalg.svd", square=False)
    if not compute_uv:
        m, n = input.shape[-2], input.shape[-1]
        batch = tuple(input.shape[:-2])
        return torch_svd_result(creation.zeros((*batch, m, m), dtype=input.dtype),
                                svdvals(input),
                                creation.zeros((*batch, n, n), dtype=input.dtype))
    U, S, Vh = svd(input, full_matrices=not some)
    return write_outs(torch_svd_result(U, S, Vh.mT), out, "svd", (input,))


def svdvals(A: Tensor, *, driver=None, out=None) -> Tensor:
    _check_input(A, "linalg.svdvals", square=False)
    if A.requires_grad:
        return write_out(LinalgSvd.apply(A, False)[1], out, "linalg_svdvals", (A,))
    values = _tensor(_lapack("svd", A, compute_uv=False), A.dtype)
    return write_out(values, out, "linalg_svdvals", (A,))


# -------------------------------------------------------------------- qr
class LinalgQr(Function):
    """A = Q R with Q orthonormal columns, R upper triangular."""

    @staticmethod
    def forward(ctx, A, mode):
        Q, R = _lapack("qr", A, mode=mode)
        Q_t, R_t = _tensor(Q, A.dtype), _tensor(R, A.dtype)
        ctx.save_for_backward(Q_t, R_t)
        return Q_t, R_t

    @staticmethod
    def backward(ctx, grad_Q, grad_R):
        # PyTorch's linalg_qr_backward for m >= n (reduced):
        # gA = [gQ + Q copyltu(M)] R^-H with M = R gR^H - gQ^H Q.
        Q, R = ctx.saved_tensors
        m, n = Q.shape[-2], R.shape[-1]
        if m < n:  # A = [X Y] with X = Q R1 square, Y = Q R2 (PyTorch's wide case)
            R1, R2 = R.narrow(-1, 0, m), R.narrow(-1, m, n - m)
            grad_R1, grad_R2 = grad_R.narrow(-1, 0, m), grad_R.narrow(-1, m, n - m)
            grad_Q = ew.add(grad_Q, matmul(matmul(Q, R2), grad_R2.mT))
            grad_X = LinalgQr._square_backward(Q, R1, grad_Q, grad_R1)
            return shape_ops.cat([grad_X, matmul(Q, grad_R2)], -1), None
        return LinalgQr._square_backward(Q, R, grad_Q, grad_R), None

    @staticmethod
    def _square_backward(Q, R, grad_Q, grad_R):
        """The m >= n case."""
        M = ew.sub(matmul(R, grad_R.mT), matmul(grad_Q.mT, Q))
        lower = M.tril(-1)
        copyltu = ew.add(ew.add(lower, lower.mT), diag_embed(M.diagonal(0, -2, -1)))
        grad_a = ew.add(grad_Q, matmul(Q, copyltu))
        return solve(R.mT, grad_a, left=False)


def qr(A: Tensor, mode: str = "reduced", *, out=None):
    if mode not in ("reduced", "r", "complete"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    _check_input(A, "linalg.qr", square=False)
    if mode == "r":
        R = _tensor(_lapack("qr", A, mode="r"), A.dtype)
        return write_outs(qr_result(creation.zeros((0,), dtype=A.dtype), R), out, "linalg_qr",
                          (A,))
    if mode == "complete" and A.requires_grad and A.shape[-2] > A.shape[-1]:
        raise RuntimeError("The QR decomposition is not differentiable when mode='complete' "
                           "and nrows > ncols.")
    return write_outs(qr_result(*LinalgQr.apply(A, mode)), out, "linalg_qr", (A,))


# ------------------------------------------------ built on the decompositions
def _tolerance(S: Tensor, atol, rtol, m: int, n: int, dtype) -> Tensor:
    """PyTorch's threshold max(atol, rtol * largest singular value)."""
    if rtol is None:
        rtol = 0.0 if atol is not None and (not isinstance(atol, (int, float)) or atol > 0) \
            else dtypes.finfo(dtype).eps * max(m, n)
    atol = 0.0 if atol is None else atol
    # (tensor tolerances are per matrix: they broadcast against the batch dims)
    rtol, atol = (t.unsqueeze(-1) if isinstance(t, Tensor) else t for t in (rtol, atol))
    largest = reductions.amax(S, -1, keepdim=True) if S.shape[-1] else \
        creation.zeros((*S.shape[:-1], 1), dtype=S.dtype)
    return ew.apply("maximum", ew.mul(largest, rtol), ew.cast_if(
        atol if isinstance(atol, Tensor) else creation.tensor(float(atol), dtype=S.dtype),
        S.dtype))


def _pinv_backward(grad: Tensor, pinv_a: Tensor, A: Tensor) -> Tensor:
    """PyTorch's pinv_backward: the gradient of pinv as a function of all of A."""
    m, n = A.shape[-2], A.shape[-1]
    pinv_h, grad_h = pinv_a.mT, grad.mT
    if m <= n:
        K = matmul(grad_h, pinv_a)
        K_pinv_h = matmul(K, pinv_h)
        result = ew.sub(K_pinv_h, matmul(pinv_a, K).mT)
        result = ew.sub(result, matmul(matmul(A, pinv_a), K_pinv_h))
        return ew.add(result, matmul(matmul(pinv_h, pinv_a), ew.sub(grad_h, matmul(K, A))))
    K = matmul(pinv_a, grad_h)
    pinv_h_K = matmul(pinv_h, K)
    result = ew.sub(pinv_h_K, matmul(K, pinv_a).mT)
    result = ew.sub(result, matmul(pinv_h_K, matmul(pinv_a, A)))
    return ew.add(result, matmul(ew.sub(grad_h, matmul(A, K)), matmul(pinv_a, pinv_h)))


class LinalgPinvHermitian(Function):
    """pinv of a symmetric A from eigh (only A's lower triangle is read, as in
    PyTorch); its gradient is PyTorch's pinv_backward on the whole of A."""

    grad_fn_name = "LinalgPinvBackward0"

    @staticmethod
    def forward(ctx, A, atol, rtol):
        values, vectors = eigh(A)
        magnitudes = ew.apply("abs", values)
        threshold = _tolerance(magnitudes, atol, rtol, A.shape[-2], A.shape[-1], A.dtype)
        kept = ew.apply("gt", magnitudes, threshold)
        inverted = ew.where(kept, ew.div(1.0, ew.where(kept, values, 1.0)), 0.0)
        result = matmul(ew.mul(vectors, inverted.unsqueeze(-2)), vectors.mT)
        ctx.save_for_backward(A, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        A, pinv_a = ctx.saved_tensors
        return _pinv_backward(grad, pinv_a, A), None, None


def matrix_rank(A: Tensor, *, atol=None, rtol=None, hermitian: bool = False, tol=None,
                out=None) -> Tensor:
    _check_input(A, "linalg.matrix_rank", square=hermitian)
    if tol is not None:
        atol, rtol = tol, 0.0
    values = ew.apply("abs", eigvalsh(A)) if hermitian else svdvals(A)
    threshold = _tolerance(values, atol, rtol, A.shape[-2], A.shape[-1], A.dtype)
    rank = reductions.sum(ew.apply("gt", values, threshold), -1)
    return write_out(ew.cast_if(rank, dtypes.int64), out, "linalg_matrix_rank", (A,))


def pinv(A: Tensor, *, atol=None, rtol=None, hermitian: bool = False, out=None) -> Tensor:
    """The pseudo-inverse from the reduced SVD, dropping singular values below the tolerance."""
    _check_input(A, "linalg.pinv", square=hermitian)
    if hermitian:
        return write_out(LinalgPinvHermitian.apply(A, atol, rtol), out, "linalg_pinv", (A,))
    U, S, Vh = svd(A, full_matrices=False)
    threshold = _tolerance(S.detach(), atol, rtol, A.shape[-2], A.shape[-1], A.dtype)
    kept = ew.apply("gt", S, threshold)
    safe = ew.where(kept, S, 1.0)
    inverted = ew.where(kept, ew.div(1.0, safe), 0.0)
    result = matmul(Vh.mT, ew.mul(inverted.unsqueeze(-1), U.mT))
    return write_out(result, out, "linalg_pinv", (A,))


_LSTSQ_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def lstsq(A: Tensor, B: Tensor, rcond=None, *, driver=None, out=None):
    """Least squares with PyTorch's outputs per driver (CPU default 'gelsy'):
    residuals (the squared residual norms) only for tall full-rank A and a
    driver other than gelsy; singular values only from gelsd/gelss; no rank
    from gels. The solution is pinv(A) @ B built from lazyt ops when a
    gradient is needed, the extern's otherwise."""
    _check_input(A, "linalg.lstsq", square=False)
    if A.dtype is not B.dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same "
                           f"dtype, but got input's dtype {_type_name(A)} and other's dtype "
                           f"{_type_name(B)}")
    driver = "gelsy" if driver is None else driver
    if driver not in _LSTSQ_DRIVERS:
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of "
                           "(gels, gelsy, gelsd, gelss)")
    if not 0 <= A.ndim - B.ndim <= 1:
        raise RuntimeError("torch.linalg.lstsq: input.dim() must be greater or equal to "
                           "other.dim() and (input.dim() - other.dim()) <= 1")
    vector = B.ndim == A.ndim - 1
    rhs = B.unsqueeze(-1) if vector else B
    if rhs.shape[-2] != A.shape[-2]:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size(-2). Got "
                           f"{A.shape[-2]} and {rhs.shape[-2]}")
    batch = broadcast_shapes(tuple(A.shape[:-2]), tuple(rhs.shape[:-2]))
    m, n = A.shape[-2], A.shape[-1]
    a = A.expand(*batch, m, n)
    b = rhs.expand(*batch, m, rhs.shape[-1])
    solution_np, rank_np, singular_np = _lapack("lstsq", a, b, rcond=rcond)
    differentiable = grad_mode.is_grad_enabled() and (A.requires_grad or B.requires_grad)
    solution = matmul(pinv(a), b) if differentiable else _tensor(solution_np, A.dtype)
    full_rank = bool(np.all(rank_np == n))
    if m > n and (driver == "gels" or (driver != "gelsy" and full_rank)):
        residuals = reductions.sum(ew.square(ew.sub(matmul(a, solution), b)), -2)
    else:  # empty, but still an output of the graph (PyTorch's requires grad)
        residuals = ew.clone(solution.reshape(-1).narrow(0, 0, 0))
    if vector:
        solution = solution.squeeze(-1)
    empty = creation.zeros((0,), dtype=A.dtype)
    rank = creation.zeros((0,), dtype=dtypes.int64) if driver == "gels" else \
        _tensor(rank_np, dtypes.int64)
    singular_values = _tensor(singular_np, A.dtype) if driver in ("gelsd", "gelss") else empty
    return write_outs(lstsq_result(solution, residuals, rank, singular_values), out,
                      "linalg_lstsq", (A, B))


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """torch.pinverse: pinv with a relative cutoff."""
    return pinv(input, rtol=rcond)


FUNCTIONS = {
    "det": det, "logdet": logdet, "slogdet": slogdet, "inverse": inverse,
    "svd": torch_svd, "cholesky": torch_cholesky, "pinverse": pinverse,
}
TENSOR_METHODS = dict(FUNCTIONS)
# lt.linalg.X (lazyt/linalg.py resolves these names on first use).
LINALG = {
    "LinAlgError": LinAlgError, "solve": solve, "inv": inv, "det": det, "slogdet": slogdet,
    "cholesky": cholesky, "eigh": eigh, "eigvalsh": eigvalsh, "svd": svd, "svdvals": svdvals,
    "qr": qr, "matrix_rank": matrix_rank, "pinv": pinv, "lstsq": lstsq,
}
