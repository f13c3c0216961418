"""Reductions and scans: sum, mean, prod, max/min, arg-reductions, var/std,
norm, logsumexp, all/any, cumsum/cumprod, softmax/log_softmax.

Each builds a "reduce" (or "scan") node over the input's IR; dims, keepdim
and result dtypes follow PyTorch. Composite reductions (mean, var, softmax)
are written with other tensor ops, so they stay IR too.
"""

from __future__ import annotations

import builtins
import math
import warnings

from lazyt import dtypes, eager_cache, modes, return_types
from lazyt import elementwise as ew
from lazyt.autograd import grad_mode
from lazyt.dtypes import DType
from lazyt.ir.node import Node, make_node
from lazyt.tensor import _C_TYPE_NAMES, Tensor, normalize_dim


def _dims(x: Tensor, dim, allow_empty_tuple_all: bool = True) -> tuple[int, ...]:
    """Normalise dim=None/int/tuple to sorted axes; None (or ()) means all."""
    ndim = len(x._shape)
    if type(dim) is int and ndim > 0 and -ndim <= dim < ndim:  # (the common case, first)
        return (dim % ndim,)
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0 and allow_empty_tuple_all):
        return tuple(range(x.ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    axes = tuple(sorted(normalize_dim(d, x.ndim) for d in dims))
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"dim {axes[0]} appears multiple times in the list of dims")
    return tuple(a for a in axes if a < builtins.max(x.ndim, 1) and x.ndim > 0)


def _reduced_shape(shape, axes) -> tuple[int, ...]:
    return tuple(1 if d in axes else s for d, s in enumerate(shape))


def reduce(x: Tensor, op: str, axes: tuple[int, ...], keepdim: bool, dtype: DType,
           grad_op: str | None = None, grad_name: str | None = None) -> Tensor:
    """Reduce x over axes with op, result in dtype (keepdim shape first, then
    squeezed). `grad_name` names the grad_fn where PyTorch's name depends on
    the overload called (sum() vs sum(dim))."""
    def reduced() -> Node:  # (keeping the reduced axes)
        return make_node("reduce", dtype, _reduced_shape(x._shape, axes), (x._load(),),
                         (op, axes))

    if modes.is_deferred():
        # The squeezed result as one pending tensor: the keepdim result would
        # be a pending tensor nothing else reads (its view's base).
        node = reduced()
        if not keepdim and axes:
            squeezed = tuple(s for d, s in enumerate(x._shape) if d not in axes)
            node = make_node("movement", dtype, squeezed, (node,), ("squeeze", (axes,)))
        out = Tensor._from_node(node)
    else:
        out = eager_cache.computed(
            eager_cache.key_for(("reduce", op, axes, dtype), (x,)), (x,), reduced)
        if not keepdim and axes:
            out = out._move("squeeze", (axes,))
    if grad_name is None:
        grad_mode.record(grad_op or op, out, (x,), axes=axes, keepdim=keepdim)
    else:
        grad_mode.record(grad_op or op, out, (x,), axes=axes, keepdim=keepdim,
                         grad_name=grad_name)
    return out


def _check_nonempty(x: Tensor, axes, name: str) -> None:
    if x.numel() == 0 and (not axes or len(axes) == x.ndim or
                           builtins.any(x.shape[a] == 0 for a in axes)):
        if len(axes) == x.ndim:
            raise RuntimeError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument.")
        raise IndexError(f"{name}(): Expected reduction dim {axes[0]} to have non-zero size.")


def _sum_dtype(x: Tensor, dtype) -> DType:
    if dtype is not None:
        return dtypes.to_dtype(dtype)
    return dtypes.int64 if x.dtype.kind in "iub" else x.dtype


def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A001
    out_dtype = _sum_dtype(input, dtype)
    x = ew.cast_if(input, out_dtype)
    return reduce(x, "sum", _dims(input, dim), keepdim, out_dtype,
                  grad_name="SumBackward0" if dim is None else "SumBackward1")


def nansum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    cleaned = ew.where(ew.isnan(input), 0, input) if input.dtype.kind == "f" else input
    return sum(cleaned, dim, keepdim, dtype=dtype)


def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    out_dtype = dtypes.to_dtype(dtype) if dtype is not None else input.dtype
    if out_dtype.kind != "f":
        raise RuntimeError(
            f"mean(): could not infer output dtype. {'Input' if dtype is None else 'Optional'} "
            "dtype must be either a floating point or complex dtype. Got: "
            f"{ew.TORCH_NAMES[out_dtype.name]}")
    axes = _dims(input, dim)
    count = math.prod(input.shape[a] for a in axes)
    # Recorded as one op, as PyTorch's MeanBackward0/1 (not a sum and a div).
    with grad_mode.no_grad():
        out = ew.div(sum(input, dim, keepdim, dtype=out_dtype), float(count))
    grad_mode.record("mean", out, (input,), axes=axes, keepdim=keepdim, count=float(count),
                     all_dims=dim is None)
    return out


def nanmean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    not_nan = ew.logical_not(ew.isnan(input))
    return ew.div(nansum(input, dim, keepdim, dtype=dtype), sum(not_nan, dim, keepdim))


def prod(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    out_dtype = _sum_dtype(input, dtype)
    x = ew.cast_if(input, out_dtype)
    axes = _dims(input, dim) if dim is not None else tuple(range(input.ndim))
    if out_dtype is dtypes.bool_:  # a product of bools is their conjunction
        return reduce(x, "all", axes, keepdim, out_dtype, "prod")
    return reduce(x, "prod", axes, keepdim, out_dtype,
                  grad_name="ProdBackward0" if dim is None else "ProdBackward1")


def amax(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    axes = _dims(input, dim)
    _check_nonempty(input, axes, "amax")
    return reduce(input, "max", axes, keepdim, input.dtype, "amax")


def amin(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    axes = _dims(input, dim)
    _check_nonempty(input, axes, "amin")
    return reduce(input, "min", axes, keepdim, input.dtype, "amin")


def _arg_reduce(input: Tensor, op: str, dim, keepdim: bool) -> Tensor:
    if dim is None:
        x = input.reshape(-1)
        _check_nonempty(x, (0,), op)
        out = reduce(x, op, (0,), False, dtypes.int64)
        if keepdim:
            out = out.reshape((1,) * input.ndim)
        return out
    axis = normalize_dim(dim, input.ndim)
    if input.ndim == 0:
        return reduce(input, op, (), keepdim, dtypes.int64)
    _check_nonempty(input, (axis,), op)
    return reduce(input, op, (axis,), keepdim, dtypes.int64)


def argmax(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return _arg_reduce(input, "argmax", dim, keepdim)


def argmin(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return _arg_reduce(input, "argmin", dim, keepdim)


def _max_min(input: Tensor, dim, keepdim: bool, which: str):
    if isinstance(dim, Tensor):
        return ew.apply("maximum" if which == "max" else "minimum", input, dim)
    if dim is None:
        if input.numel() == 0:
            raise RuntimeError(
                f"{which}(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument.")
        with grad_mode.no_grad():
            out = (amax if which == "max" else amin)(input)
        grad_mode.record(which + "_all", out, (input,), axes=tuple(range(input.ndim)),
                         keepdim=False)
        return out
    values = (amax if which == "max" else amin)(input, dim, keepdim)
    indices = _arg_reduce(input, "arg" + which, dim, keepdim)
    grad_mode.record(which + "_dim", values, (input,), indices=indices,
                     dim=normalize_dim(dim, input.ndim), keepdim=keepdim)
    return (return_types.max if which == "max" else return_types.min)(values, indices)


def max(input: Tensor, dim=None, keepdim: bool = False):  # noqa: A001
    return _max_min(input, dim, keepdim, "max")


def min(input: Tensor, dim=None, keepdim: bool = False):  # noqa: A001
    return _max_min(input, dim, keepdim, "min")


def _correction(unbiased, correction) -> float:
    if correction is not None:
        return correction
    if unbiased is None:
        return 1
    return 1 if unbiased else 0


def var(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    return _var_or_std(input, dim, unbiased, keepdim, correction, "var")


def _var_or_std(input: Tensor, dim, unbiased, keepdim: bool, correction, which: str,
                name: str | None = None) -> Tensor:
    """var or std, recorded as one op (PyTorch's VarBackward0 / StdBackward0);
    `name`: the op the user called, for the warning (var_mean)."""
    if isinstance(dim, bool):  # var(unbiased) positional form
        dim, unbiased = None, dim
    if input.dtype.kind != "f":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    axes = _dims(input, dim)
    count = math.prod(input.shape[a] for a in axes)
    denom = float(builtins.max(0, count - _correction(unbiased, correction)))
    if denom <= 0:
        warnings.warn(f"{name or which}(): degrees of freedom is <= 0. Correction should be "
                      "strictly less than the reduction factor (input numel divided by output "
                      "numel).", UserWarning, stacklevel=3)
    with grad_mode.no_grad():
        mu = mean(input, axes or None, keepdim=True) if input.ndim else input
        centered = ew.sub(input, mu)
        out = ew.div(sum(ew.mul(centered, centered), axes or None, keepdim), denom)
        if which == "std":
            out = ew.apply("sqrt", out)
    grad_mode.record(which, out, (input,), axes=axes, keepdim=keepdim, denominator=denom)
    return out


def std(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    return _var_or_std(input, dim, unbiased, keepdim, correction, "std")


def var_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    if isinstance(dim, bool):  # var_mean(x, unbiased) positional form
        dim, unbiased = None, dim
    return (_var_or_std(input, dim, unbiased, keepdim, correction, "var", "var_mean"),
            mean(input, dim, keepdim))


def std_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    if isinstance(dim, bool):  # std_mean(x, unbiased) positional form
        dim, unbiased = None, dim
    return (_var_or_std(input, dim, unbiased, keepdim, correction, "std", "std_mean"),
            mean(input, dim, keepdim))


def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    if input.dtype.kind != "f":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {ew.TORCH_NAMES[input.dtype.name]}")
    x = ew.cast_if(input, dtypes.to_dtype(dtype)) if dtype is not None else input
    if x.dtype in (dtypes.float16, dtypes.bfloat16):  # (summed in float32, as PyTorch does)
        return ew.cast(norm(ew.cast(x, dtypes.float32), p, dim, keepdim), x.dtype)
    if p in ("fro", 2, 2.0, None):
        # Recorded as one op: the composite's gradient is NaN at 0, PyTorch's is 0.
        with grad_mode.no_grad():
            out = ew.apply("sqrt", sum(ew.mul(x, x), dim, keepdim))
        grad_mode.record("norm2", out, (x,), axes=_dims(x, dim), keepdim=keepdim)
        return out
    a = ew.apply("abs", x)
    if p == float("inf"):
        return amax(a, dim if dim is not None else (), keepdim)
    if p == float("-inf"):
        return amin(a, dim if dim is not None else (), keepdim)
    if p == 0:
        return sum(ew.cast(ew.apply("ne", x, 0), x.dtype), dim, keepdim)
    if p == 1:
        return sum(a, dim, keepdim)
    if isinstance(p, str):
        raise RuntimeError(f"norm(): unsupported norm type {p!r} for a vector norm")
    return ew.pow(sum(ew.pow(a, p), dim, keepdim), 1.0 / p)


def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    x = input if input.dtype.kind == "f" else ew.cast(input, dtypes.get_default_dtype())
    axes = _dims(x, dim)
    with grad_mode.no_grad():
        if x.numel() == 0:
            out = ew.apply("log", sum(ew.apply("exp", x), axes or None, keepdim))
        else:
            m = amax(x, axes, keepdim=True)
            m = ew.where(ew.apply("isinf", m), 0.0, m)
            s = sum(ew.apply("exp", ew.sub(x, m)), axes or None, keepdim=True)
            out = ew.add(ew.apply("log", s), m)
            out = out if keepdim or not axes else out.squeeze(axes)
    grad_mode.record("logsumexp", out, (x,), axes=axes, keepdim=keepdim)
    return out


def _logical_reduce(input: Tensor, op: str, dim, keepdim: bool) -> Tensor:
    """all/any give bool, except for uint8 inputs, which give uint8 (PyTorch's legacy rule)."""
    axes = _dims(input, dim)
    out = reduce(ew.cast_if(input, dtypes.bool_), op, axes, keepdim, dtypes.bool_)
    return ew.cast(out, dtypes.uint8) if input.dtype is dtypes.uint8 else out


def all_(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return _logical_reduce(input, "all", dim, keepdim)


def any_(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return _logical_reduce(input, "any", dim, keepdim)


def count_nonzero(input: Tensor, dim=None) -> Tensor:
    return sum(ew.apply("ne", input, 0), dim)


def _scan(input: Tensor, op: str, dim: int, dtype) -> Tensor:
    out_dtype = _sum_dtype(input, dtype) if op in ("sum", "prod") else input.dtype
    x = ew.cast_if(input, out_dtype)
    if x.ndim == 0:
        return ew.clone(x)
    axis = normalize_dim(dim, x.ndim)
    node = make_node("scan", out_dtype, x._shape, (x._load(),), (op, (axis,)))
    out = Tensor._from_node(node)
    grad_mode.record("cum" + op, out, (x,), dim=axis)
    return out


def cumsum(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    return _scan(input, "sum", dim, dtype)


def cumprod(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    return _scan(input, "prod", dim, dtype)


def _softmax_input(input: Tensor, dim, dtype, name: str) -> tuple[Tensor, int]:
    """(the input in the requested dtype, the dim) of (log_)softmax."""
    x = ew.cast_if(input, dtypes.to_dtype(dtype)) if dtype is not None else input
    if x.dtype.kind != "f":
        raise NotImplementedError(f"\"{name}_lastdim_kernel_impl\" not implemented for "
                           f"'{ew.TORCH_NAMES[x.dtype.name]}'")
    return x, _implicit_dim(x, dim)


def _shifted(x: Tensor, dim: int) -> Tensor:
    """x - max(x) along dim: the numerically safe start of (log_)softmax."""
    return ew.sub(x, amax(x, dim, keepdim=True))


def softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    return _with_rule("softmax", _softmax_values, input, dim, dtype)


def log_softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    return _with_rule("log_softmax", _log_softmax_values, input, dim, dtype)


def _with_rule(name: str, values, input: Tensor, dim, dtype) -> Tensor:
    """(log_)softmax: its values as one fused region in eager mode
    (regions.py: one kernel, not four), behind the gradient rule PyTorch's
    node has, which reads the result (SoftmaxBackward0 and
    LogSoftmaxBackward0 keep the result, not the input)."""
    from lazyt.regions import run_region  # cycle: regions' GradNode -> rules -> this module

    x, dim = _softmax_input(input, dim, dtype, name)
    with grad_mode.no_grad():
        out = ew.clone(x) if x.numel() == 0 else \
            run_region(name, lambda t: values(t, dim), (x,), (dim,))
    grad_mode.record(name, out, (x,), dim=dim)
    return out


def _softmax_values(x: Tensor, dim: int) -> Tensor:
    e = ew.apply("exp", _shifted(x, dim))
    # Scaled by the reciprocal of the sum, as PyTorch's CPU kernel does: one
    # division per row instead of per element.
    # Row-major, as PyTorch's softmax (it makes its input contiguous first).
    return ew.apply_row_major("mul", e, ew.apply("reciprocal", _sum_of_exps(e, dim)))


def _log_softmax_values(x: Tensor, dim: int) -> Tensor:
    shifted = _shifted(x, dim)
    return ew.apply_row_major("sub", shifted,
                              ew.apply("log", _sum_of_exps(ew.apply("exp", shifted), dim)))


def _sum_of_exps(exps: Tensor, dim: int) -> Tensor:
    """(log_)softmax's sum of exp(x - max) along dim (kept): a sum like any
    other. (A float32 accumulator marked reassoc would vectorise twice as
    wide as float64, but its bits would depend on how the vectoriser
    interleaves the loop, which differs between a kernel of softmax alone
    (eager) and one fused with more work (deferred); on the CPU the sum's
    float32 lanes are written out instead: codegen/sum_lanes.py.)"""
    return sum(exps, dim, keepdim=True)


def _implicit_dim(x: Tensor, dim) -> int:
    if dim is None:
        dim = 0 if x.ndim in (0, 1, 3) else 1  # PyTorch's legacy implicit choice
    return normalize_dim(dim, x.ndim)


def aminmax(input: Tensor, *, dim=None, keepdim: bool = False):
    if dim is None and input.numel() == 0:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                           "operation has no identity.")
    if dim is not None and input.ndim and input.shape[normalize_dim(dim, input.ndim)] == 0:
        raise IndexError(f"aminmax: Expected reduction dim {dim} to have non-zero size.")
    d = () if dim is None else dim
    return return_types.aminmax(amin(input, d, keepdim), amax(input, d, keepdim))


FUNCTIONS = {
    "sum": sum, "nansum": nansum, "mean": mean, "nanmean": nanmean, "prod": prod,
    "amax": amax, "amin": amin, "argmax": argmax, "argmin": argmin, "max": max, "min": min,
    "var": var, "std": std, "var_mean": var_mean, "std_mean": std_mean, "norm": norm,
    "logsumexp": logsumexp, "all": all_, "any": any_, "count_nonzero": count_nonzero,
    "cumsum": cumsum, "cumprod": cumprod, "softmax": softmax, "log_softmax": log_softmax,
    "aminmax": aminmax,
}
TENSOR_METHODS = dict(FUNCTIONS)
TENSOR_METHODS.pop("var_mean")
TENSOR_METHODS.pop("std_mean")


def _cumulative_inplace(op):
    """x.cumsum_(dim, dtype=...) and x.cumprod_: op(x) written into x; a dtype
    other than x's is refused, as PyTorch does."""
    def method(self: Tensor, dim: int, *, dtype=None) -> Tensor:
        if dtype is not None and dtype is not self.dtype:
            raise RuntimeError(f"Bad in-place call: input tensor dtype "
                               f"{_C_TYPE_NAMES[self.dtype.name]} and output tensor dtype "
                               f"{_C_TYPE_NAMES[dtype.name]} should match")
        return ew.copy_(self, op(self, dim, dtype=dtype))

    method.__name__ = op.__name__ + "_"
    return method


TENSOR_METHODS["cumsum_"] = _cumulative_inplace(cumsum)
TENSOR_METHODS["cumprod_"] = _cumulative_inplace(cumprod)
