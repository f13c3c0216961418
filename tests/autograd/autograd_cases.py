"""The differentiable ops the autograd tests exercise, as data.

Each Case is a function of the tensor module (`lazyt` or `torch`) and the
input tensors, the input shapes it accepts (a hypothesis strategy), optional
drawn keyword parameters, and the value domain of each input. The same table
drives gradcheck (tests/autograd/test_autograd_gradcheck.py) and the
comparison with PyTorch (tests/autograd/test_autograd_vs_torch.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp


@dataclass
class Case:
    name: str
    fn: Callable  # fn(m, *tensors, **params) -> tensor or tuple of tensors
    shapes: st.SearchStrategy  # -> tuple of input shapes
    domains: tuple[str, ...] = ("any",)
    params: Callable | None = None  # shapes -> strategy of a kwargs dict
    # Some inputs are not differentiable (masks, indices are made inside fn).
    grad_inputs: tuple[int, ...] | None = None
    marks: dict = field(default_factory=dict)


def shape(min_dims=0, max_dims=3, min_side=1, max_side=3):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def one(min_dims=0, max_dims=3, **kw):
    return shape(min_dims, max_dims, **kw).map(lambda s: (s,))


def broadcast_pair(min_dims=0, max_dims=3):
    return hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=min_dims, max_dims=max_dims,
                                             min_side=1, max_side=3).map(lambda r: r.input_shapes)


def fixed(*shapes):
    return st.just(tuple(shapes))


def reduce_params(shapes):
    ndim = len(shapes[0])
    dims = st.none() if ndim == 0 else st.one_of(st.none(), st.integers(-ndim, ndim - 1))
    return st.fixed_dictionaries({"dim": dims, "keepdim": st.booleans()})


def dim_params(shapes):
    ndim = len(shapes[0])
    return st.fixed_dictionaries({"dim": st.integers(-ndim, ndim - 1)})


def _sum(m, x, dim, keepdim):
    return x.sum() if dim is None else x.sum(dim, keepdim=keepdim)


def _mean(m, x, dim, keepdim):
    return x.mean() if dim is None else x.mean(dim, keepdim=keepdim)


def _prod(m, x, dim, keepdim):
    return x.prod() if dim is None else x.prod(dim, keepdim=keepdim)


def _amax(m, x, dim, keepdim):
    return x.amax() if dim is None else x.amax(dim, keepdim=keepdim)


def _amin(m, x, dim, keepdim):
    return x.amin() if dim is None else x.amin(dim, keepdim=keepdim)


def _max_dim(m, x, dim, keepdim):
    return x.max() if dim is None else x.max(dim, keepdim=keepdim).values


def _min_dim(m, x, dim, keepdim):
    return x.min() if dim is None else x.min(dim, keepdim=keepdim).values


def _var(m, x, dim, keepdim):
    return x.var() if dim is None else x.var(dim, keepdim=keepdim)


def _std(m, x, dim, keepdim):
    return x.std() if dim is None else x.std(dim, keepdim=keepdim)


def _logsumexp(m, x, dim, keepdim):
    return m.logsumexp(x, dim=0 if dim is None else dim, keepdim=keepdim)


def _norm(m, x, dim, keepdim):
    return x.norm() if dim is None else x.norm(dim=dim, keepdim=keepdim)


def _index_tensor(m, values):
    return m.tensor(np.asarray(values, dtype=np.int64))


def _gather(m, x, dim):
    rng = np.random.default_rng(sum(x.shape) + dim)
    size = x.shape[dim]
    idx = rng.integers(0, size, size=tuple(x.shape))
    return x.gather(dim, _index_tensor(m, idx))


def _scatter(m, x, src, dim):
    # A permutation along dim: every target is written once (scatter is deterministic).
    rng = np.random.default_rng(len(x.shape) + dim)
    idx = np.argsort(rng.random(tuple(x.shape)), axis=dim)
    return x.scatter(dim, _index_tensor(m, idx), src)


def _scatter_add(m, x, src, dim):
    rng = np.random.default_rng(7 + dim)
    idx = rng.integers(0, x.shape[dim], size=tuple(src.shape))
    return x.scatter_add(dim, _index_tensor(m, idx), src)


def _advanced_index(m, x):
    rows = _index_tensor(m, [x.shape[0] - 1, 0, x.shape[0] - 1])  # a repeated index adds up
    return x[rows] if x.ndim == 1 else x[rows, ..., 0]


def _mask_index(m, x):
    mask = np.arange(int(np.prod(x.shape))).reshape(tuple(x.shape)) % 2 == 0
    return x[m.tensor(mask)]


def _masked_fill(m, x):
    mask = np.arange(int(np.prod(x.shape))).reshape(tuple(x.shape)) % 3 == 0
    return x.masked_fill(m.tensor(mask), 2.5)


def _where(m, x, y):
    cond = m.tensor(np.arange(int(np.prod(np.broadcast_shapes(tuple(x.shape), tuple(y.shape)))))
                    .reshape(np.broadcast_shapes(tuple(x.shape), tuple(y.shape))) % 2 == 0)
    return m.where(cond, x, y)


def _split(m, x):
    return x.split(1, dim=0)


def _chunk(m, x):
    return x.chunk(2, dim=-1)


def _unbind(m, x):
    return x.unbind(-1)


def _sort(m, x):
    return x.sort(dim=-1, descending=True).values


def _topk(m, x):
    return x.topk(min(2, x.shape[-1]), dim=-1).values


def _index_select(m, x):
    return x.index_select(0, _index_tensor(m, [0, x.shape[0] - 1, 0]))


UNARY_ANY = ["neg", "exp", "exp2", "expm1", "sin", "cos", "atan", "sinh", "cosh", "tanh",
             "sigmoid", "erf", "erfc", "relu", "abs", "square"]
UNARY_POSITIVE = ["log", "log2", "log10", "log1p", "sqrt", "rsqrt", "reciprocal"]
UNARY_UNIT = ["asin", "acos", "tan"]
UNARY_NON_INTEGER = ["sign", "floor", "ceil", "round", "trunc", "frac"]


def _method(name):
    return lambda m, x: getattr(x, name)()


CASES: list[Case] = []
CASES += [Case(n, _method(n), one(), ("any",)) for n in UNARY_ANY]
CASES += [Case(n, _method(n), one(), ("positive",)) for n in UNARY_POSITIVE]
CASES += [Case(n, _method(n), one(), ("unit",)) for n in UNARY_UNIT]
CASES += [Case(n, _method(n), one(), ("non_integer",)) for n in UNARY_NON_INTEGER]
CASES += [
    # Binary elementwise ops, broadcasting.
    Case("add", lambda m, a, b: a + b, broadcast_pair(), ("any", "any")),
    Case("add_alpha", lambda m, a, b: m.add(a, b, alpha=2.5), broadcast_pair(), ("any", "any")),
    Case("sub", lambda m, a, b: a - b, broadcast_pair(), ("any", "any")),
    Case("mul", lambda m, a, b: a * b, broadcast_pair(), ("any", "any")),
    Case("div", lambda m, a, b: a / b, broadcast_pair(), ("any", "nonzero")),
    Case("pow", lambda m, a, b: a ** b, broadcast_pair(), ("positive", "any")),
    Case("atan2", lambda m, a, b: m.atan2(a, b), broadcast_pair(), ("nonzero", "nonzero")),
    Case("maximum", lambda m, a, b: m.maximum(a, b), broadcast_pair(), ("any", "any")),
    Case("minimum", lambda m, a, b: m.minimum(a, b), broadcast_pair(), ("any", "any")),
    Case("remainder", lambda m, a, b: m.remainder(a, b), broadcast_pair(), ("fraction", "big")),
    Case("fmod", lambda m, a, b: m.fmod(a, b), broadcast_pair(), ("fraction", "big")),
    Case("copysign", lambda m, a, b: m.copysign(a, b), broadcast_pair(), ("nonzero", "nonzero")),
    Case("where", _where, broadcast_pair(), ("any", "any")),
    Case("lerp", lambda m, a, b: m.lerp(a, b, 0.3), broadcast_pair(), ("any", "any")),
    Case("lerp_tensor_weight", lambda m, a, b: m.lerp(a, b, b.sigmoid()), broadcast_pair(),
         ("any", "any")),
    Case("clamp_tensor", lambda m, a, b: m.clamp(a, min=b), broadcast_pair(), ("any", "any")),
    # With Python scalars.
    Case("radd", lambda m, x: 2.5 + x, one()),
    Case("rsub", lambda m, x: 2.5 - x, one()),
    Case("rdiv", lambda m, x: 2.5 / x, one(), ("nonzero",)),
    Case("pow_scalar", lambda m, x: x ** 2.5, one(), ("positive",)),
    Case("pow_int", lambda m, x: x ** 3, one()),
    Case("pow_neg", lambda m, x: x ** -2, one(), ("nonzero",)),
    Case("rpow", lambda m, x: 2.0 ** x, one()),
    Case("clamp", lambda m, x: x.clamp(-0.5, 0.5), one(), ("off_half",)),
    Case("clamp_min", lambda m, x: x.clamp(min=0.25), one(), ("off_quarter",)),
    Case("masked_fill", _masked_fill, one()),
    # Reductions.
    Case("sum", _sum, one(), params=reduce_params),
    Case("mean", _mean, one(), params=reduce_params),
    Case("prod", _prod, one(), params=reduce_params),
    Case("prod_zeros", _prod, one(min_dims=1), ("with_zeros",), params=reduce_params),
    Case("amax", _amax, one(), params=reduce_params),
    Case("amin", _amin, one(), params=reduce_params),
    Case("max_dim", _max_dim, one(), params=reduce_params),
    Case("min_dim", _min_dim, one(), params=reduce_params),
    Case("var", _var, one(min_dims=1, min_side=2), params=reduce_params),
    Case("std", _std, one(min_dims=1, min_side=2), params=reduce_params),
    Case("norm", _norm, one(), ("nonzero",), params=reduce_params),
    Case("norm_p1", lambda m, x: x.norm(p=1), one(), ("nonzero",)),
    Case("norm_p3", lambda m, x: x.norm(p=3), one(), ("nonzero",)),
    Case("norm_inf", lambda m, x: x.norm(p=float("inf")), one(), ("nonzero",)),
    Case("logsumexp", _logsumexp, one(min_dims=1), params=reduce_params),
    Case("softmax", lambda m, x, dim: m.softmax(x, dim), one(min_dims=1), params=dim_params),
    Case("log_softmax", lambda m, x, dim: m.log_softmax(x, dim), one(min_dims=1),
         params=dim_params),
    Case("cumsum", lambda m, x, dim: m.cumsum(x, dim), one(min_dims=1), params=dim_params),
    Case("cumprod", lambda m, x, dim: m.cumprod(x, dim), one(min_dims=1), params=dim_params),
    Case("cumprod_zeros", lambda m, x, dim: m.cumprod(x, dim), one(min_dims=1),
         ("with_zeros",), params=dim_params),
    # Matrix products (1-D, 2-D, batched and broadcast batches).
    Case("matmul_mm", lambda m, a, b: a @ b, fixed((2, 3), (3, 2)), ("any", "any")),
    Case("matmul_vec_vec", lambda m, a, b: m.matmul(a, b), fixed((3,), (3,)), ("any", "any")),
    Case("matmul_mat_vec", lambda m, a, b: m.matmul(a, b), fixed((2, 3), (3,)), ("any", "any")),
    Case("matmul_vec_mat", lambda m, a, b: m.matmul(a, b), fixed((3,), (3, 2)), ("any", "any")),
    Case("matmul_batched", lambda m, a, b: m.matmul(a, b), fixed((2, 1, 2, 3), (3, 3, 2)),
         ("any", "any")),
    Case("matmul_vec_batched", lambda m, a, b: m.matmul(a, b), fixed((3,), (2, 3, 2)),
         ("any", "any")),
    Case("matmul_batched_vec", lambda m, a, b: m.matmul(a, b), fixed((2, 2, 3), (3,)),
         ("any", "any")),
    Case("mm", lambda m, a, b: m.mm(a, b), fixed((3, 2), (2, 2)), ("any", "any")),
    Case("bmm", lambda m, a, b: m.bmm(a, b), fixed((2, 2, 3), (2, 3, 2)), ("any", "any")),
    Case("dot", lambda m, a, b: m.dot(a, b), fixed((3,), (3,)), ("any", "any")),
    Case("mv", lambda m, a, b: m.mv(a, b), fixed((2, 3), (3,)), ("any", "any")),
    Case("outer", lambda m, a, b: m.outer(a, b), fixed((3,), (2,)), ("any", "any")),
    # Views and movement.
    Case("reshape", lambda m, x: x.reshape(-1), one()),
    Case("view_2d", lambda m, x: x.reshape(x.shape[0], -1), one(min_dims=2)),
    Case("permute", lambda m, x: x.permute(tuple(reversed(range(x.ndim)))), one()),
    Case("transpose", lambda m, x: x.transpose(0, -1), one(min_dims=1)),
    Case("t", lambda m, x: x.t() * 1.5, one(max_dims=2)),
    Case("mT", lambda m, x: x.mT, one(min_dims=2)),
    Case("expand", lambda m, x: x.expand(2, *x.shape), one()),
    Case("expand_ones", lambda m, x: x.reshape(1, -1).expand(3, -1), one()),
    Case("unsqueeze", lambda m, x: x.unsqueeze(0).unsqueeze(-1), one()),
    Case("squeeze", lambda m, x: x.squeeze(), one()),
    Case("flatten", lambda m, x: x.flatten(), one()),
    Case("narrow", lambda m, x: x.narrow(-1, x.shape[-1] - 1, 1), one(min_dims=1)),
    Case("select", lambda m, x: x.select(-1, 0), one(min_dims=1)),
    Case("slice_step", lambda m, x: x[::2], one(min_dims=1)),
    Case("slice_mixed", lambda m, x: x[-1:, None, ..., ::2], one(min_dims=2)),
    Case("getitem_int", lambda m, x: x[0], one(min_dims=1)),
    Case("diagonal", lambda m, x: x.diagonal(), one(min_dims=2)),
    Case("diagonal_offset", lambda m, x: m.diagonal(x, 1, -1, 0), one(min_dims=2)),
    Case("split", _split, one(min_dims=1)),
    Case("chunk", _chunk, one(min_dims=1)),
    Case("unbind", _unbind, one(min_dims=1)),
    Case("flip", lambda m, x: x.flip(0), one(min_dims=1)),
    Case("roll", lambda m, x: x.roll(1, 0), one(min_dims=1)),
    Case("repeat", lambda m, x: x.repeat(2, *([1] * x.ndim)), one()),
    Case("tile", lambda m, x: x.tile((2,)), one(min_dims=1)),
    Case("cat", lambda m, a, b: m.cat([a, b, a], 0), fixed((2, 3), (1, 3)), ("any", "any")),
    Case("cat_last", lambda m, a, b: m.cat([a, b], -1), fixed((2, 3), (2, 1)), ("any", "any")),
    Case("stack", lambda m, a, b: m.stack([a, b], 1), fixed((2, 3), (2, 3)), ("any", "any")),
    Case("tril", lambda m, x: x.tril(), one(min_dims=2)),
    Case("triu", lambda m, x: m.triu(x, 1), one(min_dims=2)),
    # Indexing.
    Case("gather", _gather, one(min_dims=1), params=dim_params),
    Case("scatter", _scatter, fixed((3, 2), (3, 2)), ("any", "any"), params=dim_params),
    Case("scatter_add", _scatter_add, fixed((3, 2), (2, 2)), ("any", "any"),
         params=dim_params),
    Case("index_advanced", _advanced_index, one(min_dims=1)),
    Case("index_mask", _mask_index, one(min_dims=1)),
    Case("index_select", _index_select, one(min_dims=1)),
    Case("masked_select", lambda m, x: m.masked_select(x, x > 0), one(min_dims=1), ("nonzero",)),
    Case("take", lambda m, x: m.take(x, _index_tensor(m, [0, 0, x.numel() - 1])), one()),
    Case("sort", _sort, one(min_dims=1)),
    Case("topk", _topk, one(min_dims=1)),
    # In-place ops on non-leaf tensors (the leaf is cloned first).
    Case("inplace_add", lambda m, a, b: (a * 1.5).add_(b), fixed((2, 3), (3,)), ("any", "any")),
    Case("inplace_mul", lambda m, a, b: (a * 1.5).mul_(b), fixed((2, 3), (3,)), ("any", "any")),
    Case("inplace_div", lambda m, a, b: (a * 1.5).div_(b), fixed((2, 3), (2, 1)),
         ("any", "nonzero")),
    Case("inplace_exp", lambda m, x: (x * 1.5).exp_(), one()),
    Case("inplace_pow", lambda m, x: (x * 1.5).pow_(2), one()),
    Case("inplace_copy", lambda m, a, b: (a * 1.5).copy_(b), fixed((2, 3), (3,)), ("any", "any")),
    Case("inplace_setitem", lambda m, a, b: _setitem(a, b), fixed((3, 3), (3,)), ("any", "any")),
    Case("inplace_view_mul", lambda m, a, b: _view_mul(a, b), fixed((3, 3), (3,)),
         ("any", "any")),
    Case("inplace_clamp", lambda m, x: (x * 1.0).clamp_(-0.5, 0.5), one(), ("off_half",)),
    Case("inplace_masked_fill", lambda m, x: (x * 1.0).masked_fill_(x > 0, 1.0), one(),
         ("nonzero",)),
    Case("inplace_zero_slice", lambda m, x: _zero_slice(x), one(min_dims=1)),
    Case("iadd_chain", lambda m, a, b: _iadd_chain(a, b), broadcast_pair(), ("any", "any")),
]


def _setitem(a, b):
    y = a * 2.0
    y[1] = b * 3.0
    y[:, 0] = b.sum()
    return y


def _view_mul(a, b):
    y = a * 2.0
    y[1:].mul_(b)
    y.t()[0].add_(b * b)
    return y


def _zero_slice(x):
    y = x * 2.0  # (exp would save its output, which zero_ then invalidates, as in PyTorch)
    y[..., :1].zero_()
    return y * x


def _iadd_chain(a, b):
    y = a.exp() + b  # broadcast result, written in place below
    y += b
    y *= a
    return y


CASES_BY_NAME = {c.name: c for c in CASES}
assert len(CASES_BY_NAME) == len(CASES), "duplicate case names"


def draw_values(rng: np.random.Generator, shape: tuple, domain: str) -> np.ndarray:
    """float64 values in the domain where the op is smooth (away from kinks)."""
    size = tuple(shape)
    if domain == "any":
        return rng.standard_normal(size)
    magnitude = rng.uniform(0.3, 1.5, size)
    sign = np.where(rng.random(size) < 0.5, -1.0, 1.0)
    if domain == "positive":
        return magnitude
    if domain == "nonzero":
        return magnitude * sign
    if domain == "unit":
        return rng.uniform(-0.8, 0.8, size)
    if domain == "non_integer":
        return np.round(rng.uniform(-3, 3, size)) + rng.uniform(0.1, 0.4, size) * sign
    if domain == "fraction":
        return rng.uniform(0.2, 0.9, size) * sign
    if domain == "big":
        return rng.uniform(1.5, 2.5, size) * sign
    if domain == "off_half":
        return np.where(rng.random(size) < 0.5, rng.uniform(-0.4, 0.4, size),
                        sign * rng.uniform(0.6, 1.5, size))
    if domain == "off_quarter":
        return np.where(rng.random(size) < 0.5, rng.uniform(-0.5, 0.15, size),
                        rng.uniform(0.35, 1.5, size))
    if domain == "with_zeros":
        values = magnitude * sign
        flat = values.reshape(-1)
        flat[rng.integers(0, flat.size, max(1, flat.size // 3))] = 0.0
        return values
    raise ValueError(domain)


def make_leaf(m, values: np.ndarray, layout: str, dtype_name: str = "float64"):
    """A leaf tensor requiring grad holding `values`, laid out contiguously,
    transposed (permuted strides) or strided (every other element of a buffer)."""
    dtype = getattr(m, dtype_name)
    if layout == "transposed" and values.ndim >= 2:
        order = tuple(reversed(range(values.ndim)))
        t = m.tensor(np.ascontiguousarray(values.transpose(order)), dtype=dtype).permute(*order)
    elif layout == "strided" and values.ndim >= 1:
        wide = np.zeros(values.shape[:-1] + (values.shape[-1] * 2,))
        wide[..., ::2] = values
        t = m.tensor(wide, dtype=dtype)[..., ::2]
    else:
        t = m.tensor(values, dtype=dtype)
    return t.detach().requires_grad_()
