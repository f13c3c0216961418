"""Vector and matrix norms: linalg.vector_norm, linalg.matrix_norm, linalg.norm
and torch.norm / Tensor.norm.

Vector norms and the Frobenius, 1 and inf matrix norms are reductions of
lazyt ops (the 2-norm is reductions.norm, whose recorded gradient is 0 at 0
as in PyTorch); the nuclear and spectral (2, -2) norms reduce the singular
values from the SVD extern (lazyt/linalg_decompositions.py).
"""

from __future__ import annotations

import math

from lazyt import creation, dtypes, reductions
from lazyt import elementwise as ew
from lazyt.autograd.function import Function
from lazyt.linalg_decompositions import svdvals
from lazyt.linalg_products import _type_name, write_out
from lazyt.tensor import Tensor, normalize_dim


def _as_dims(dim) -> tuple[int, ...] | None:
    if dim is None:
        return None
    return (dim,) if isinstance(dim, int) else tuple(dim)


def _cast_for_norm(x: Tensor, dtype, op_name: str) -> Tensor:
    if x.dtype.kind != "f":
        raise RuntimeError(f"{op_name}: Expected a floating point or complex tensor as input. "
                           f"Got {_type_name(x)}")
    if dtype is None:
        return x
    dtype = dtypes.to_dtype(dtype)
    if dtype.kind == "f" and dtype.itemsize < x.dtype.itemsize:
        raise RuntimeError(f"{op_name}: the dtype of the input ({_type_name(x)}) should be "
                           f"convertible without narrowing to the specified dtype "
                           f"({ew.TORCH_NAMES[dtype.name]})")
    return ew.cast_if(x, dtype)


def vector_norm(x: Tensor, ord=2, dim=None, keepdim: bool = False, *, dtype=None,
                out=None) -> Tensor:
    """The ord-norm of x over dim (all elements when dim is None)."""
    if isinstance(ord, str) or not isinstance(ord, (int, float)):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' must be Number, not "
                        f"{type(ord).__name__}")
    x = _cast_for_norm(x, dtype, "linalg.vector_norm")
    if x.dtype in (dtypes.float16, dtypes.bfloat16):  # (summed in float32, as PyTorch does)
        result = ew.cast(vector_norm(ew.cast(x, dtypes.float32), ord, dim, keepdim), x.dtype)
        return write_out(result, out, "linalg_vector_norm", (x,))
    dims = _as_dims(dim)
    if dims is not None and len(dims) == 0:
        dims = None
    axes = tuple(range(x.ndim)) if dims is None else \
        tuple(normalize_dim(d, x.ndim) for d in dims)
    reduced = 1
    for axis in axes:
        reduced *= x.shape[axis] if x.ndim else 1
    if ord < 0 or math.isinf(ord):
        if reduced == 0:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {_ord_name(ord)} norm on "
                               "an empty tensor because the operation does not have an identity")
    reduce_dim = dims if dims is not None else None
    if ord == 2:
        result = reductions.norm(x, 2, reduce_dim, keepdim)
    else:
        magnitude = ew.apply("abs", x)
        over = reduce_dim if reduce_dim is not None else tuple(range(x.ndim))
        if ord == math.inf:
            result = reductions.amax(magnitude, over, keepdim)
        elif ord == -math.inf:
            result = reductions.amin(magnitude, over, keepdim)
        elif ord == 0:
            # The count of nonzeros, through sign(|x|) so that it stays on x's graph (PyTorch's
            # result requires grad; its gradient is 0); NaN counts as nonzero, as ne says.
            nonzero = ew.where(ew.apply("isnan", x), 1.0, ew.apply("sign", magnitude))
            result = reductions.sum(nonzero, reduce_dim, keepdim)
        elif ord == 1:
            result = reductions.sum(magnitude, reduce_dim, keepdim)
        else:
            result = VectorNormP.apply(x, ord, reduce_dim, keepdim)
    return write_out(result, out, "linalg_vector_norm", (x,))


class VectorNormP(Function):
    """sum(|x|^p)^(1/p) for p other than 0, 1, 2 and inf, with PyTorch's
    gradient (its subgradient 0 where x or the norm is 0, not NaN)."""

    grad_fn_name = "LinalgVectorNormBackward0"

    @staticmethod
    def forward(ctx, x, ord, dims, keepdim):
        magnitude = ew.apply("abs", x)
        norm = ew.pow(reductions.sum(ew.pow(magnitude, ord), dims, keepdim), 1.0 / ord)
        ctx.ord, ctx.dims, ctx.keepdim = ord, dims, keepdim
        ctx.save_for_backward(x, norm)
        return norm

    @staticmethod
    def backward(ctx, grad):
        x, norm = ctx.saved_tensors
        p = ctx.ord
        if not ctx.keepdim:
            axes = range(x.ndim) if ctx.dims is None else \
                sorted(normalize_dim(d, x.ndim) for d in ctx.dims)
            for axis in axes:
                grad, norm = grad.unsqueeze(axis), norm.unsqueeze(axis)
        sign, magnitude = ew.apply("sign", x), ew.apply("abs", x)
        if p < 1:
            scaled = ew.where(ew.apply("eq", x, 0), 0.0, ew.mul(sign, ew.pow(magnitude, p - 1)))
            return ew.mul(ew.mul(scaled, grad), ew.pow(norm, 1 - p)), None, None, None
        if p < 2:
            scaled = ew.mul(sign, ew.pow(magnitude, p - 1))
        else:
            scaled = ew.mul(x, ew.pow(magnitude, p - 2))
        zero_norm = ew.apply("eq", norm, 0)
        factor = ew.where(zero_norm, 0.0, ew.div(grad, ew.where(zero_norm, 1.0,
                                                                 ew.pow(norm, p - 1))))
        return ew.mul(scaled, factor), None, None, None


def _ord_name(ord) -> str:
    if ord == math.inf:
        return "inf"
    if ord == -math.inf:
        return "-inf"
    return str(ord)


_MATRIX_ORDERS = ("fro", "nuc", math.inf, -math.inf, 1, -1, 2, -2)


def matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None,
                out=None) -> Tensor:
    """The ord-norm of the matrices spanned by the two dims of dim."""
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                           "dimensions.")
    A = _cast_for_norm(A, dtype, "linalg.matrix_norm")
    dims = _as_dims(dim)
    if dims is None or len(dims) != 2:
        shown = " ".join(str(d) for d in (dims or ()))
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {shown}")
    if ord not in _MATRIX_ORDERS:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    row, col = (normalize_dim(d, A.ndim) for d in dims)
    if row == col:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dims[0]}, "
                           f"{dims[1]})")
    if ord == "fro":
        result = vector_norm(A, 2, (row, col), keepdim)
    elif ord in ("nuc", 2, -2):
        values = svdvals(A.movedim((row, col), (-2, -1)))
        if ord == "nuc":
            result = reductions.sum(values, -1)
        elif values.shape[-1] == 0:
            result = creation.zeros(values.shape[:-1], dtype=values.dtype)
        else:
            result = (reductions.amax if ord == 2 else reductions.amin)(values, -1)
        if keepdim:
            for axis in sorted((row, col)):
                result = result.unsqueeze(axis)
    else:
        # 1 / -1: the largest / smallest column sum; inf / -inf: the same over rows.
        summed, across = (row, col) if ord in (1, -1) else (col, row)
        sums = reductions.sum(ew.apply("abs", A), summed, keepdim=True)
        pick = reductions.amax if ord in (1, math.inf) else reductions.amin
        if A.numel() == 0 and ord in (1, math.inf):  # PyTorch: 0 for no elements (a sum of none)
            result = reductions.sum(sums, across, keepdim=True)
        else:
            result = pick(sums, across, keepdim=True)
        if not keepdim:
            result = result.squeeze((row, col))
    return write_out(result, out, "linalg_matrix_norm", (A,))


def norm(A: Tensor, ord=None, dim=None, keepdim: bool = False, *, out=None,
         dtype=None) -> Tensor:
    """linalg.norm: a vector norm over one dim (or all, without ord), a matrix norm over two."""
    dims = _as_dims(dim)
    if isinstance(ord, str):
        return matrix_norm(A, ord, dims if dims is not None else (-2, -1), keepdim,
                           dtype=dtype, out=out)
    if dims is None:
        if ord is None:
            return vector_norm(A, 2, None, keepdim, dtype=dtype, out=out)
        if A.ndim not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must "
                               f"be 1D or 2D. Got {A.ndim}D.")
        dims = tuple(range(A.ndim))
    if len(dims) == 1:
        return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype, out=out)
    if len(dims) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype, out=out)
    raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got "
                       f"{list(dims)}")


def torch_norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, out=None,
               dtype=None) -> Tensor:
    """torch.norm / Tensor.norm: 'fro' over up to two dims is the vector 2-norm,
    'nuc' a matrix norm, a number a vector norm."""
    dims = _as_dims(dim)
    if isinstance(p, str):
        if p == "fro" and (dims is None or len(dims) <= 2):
            return vector_norm(input, 2, dims, keepdim, dtype=dtype, out=out)
        if dims is None:
            dims = tuple(range(input.ndim))
        return matrix_norm(input, p, dims, keepdim, dtype=dtype, out=out)
    return vector_norm(input, 2.0 if p is None else p, dims, keepdim, dtype=dtype, out=out)


FUNCTIONS = {"norm": torch_norm}
TENSOR_METHODS = {"norm": torch_norm}
# lt.linalg.X (lazyt/linalg.py resolves these names on first use).
LINALG = {"norm": norm, "vector_norm": vector_norm, "matrix_norm": matrix_norm}
