"""Gradient rules: one per recorded op name, written only with lazyt tensor ops.

Each rule is data: the PyTorch name of its backward node, which saved values
each input's gradient needs ("x0", "x1", ... the operands, "out" the result),
and a function `backward(ctx, grad) -> (grad of each operand, ...)`. `ctx` is
the node (lazyt/autograd/function.py): `ctx.input(i)`, `ctx.output()`,
`ctx.shape(i)`, `ctx.dtype(i)`, `ctx.kw` (the op's record context) and
`ctx.needs_input_grad`. A rule may return a gradient in the broadcast shape
or the computing dtype; the node sums and casts it back to the input's.

Because the rules are tensor ops, the backward pass is IR like the forward
one (fused in deferred/compiled mode), and with create_graph=True it is
itself recorded, so higher derivatives come for free.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

from lazyt import creation, dtypes, elementwise, indexing, linalg, reductions
from lazyt.autograd import grad_mode
from lazyt.autograd.rules_special import SPECIAL_RULES


@dataclass(frozen=True)
class GradRule:
    op: str
    name: str  # the backward node's name, as PyTorch calls it
    saves: dict[int, tuple[str, ...]] = field(default_factory=dict)
    backward: Callable | None = None
    # For ops whose PyTorch node name depends on arguments (sum vs sum(dim), ...).
    name_for: Callable | None = None
    # Extra kw to capture when the op is recorded: capture(operands, out, kw) -> dict.
    capture: Callable | None = None

    # Which operands are the node's edges, in PyTorch's order (None: all, in
    # order): edges_for(operands) -> operand indices.
    edges_for: Callable | None = None

    def node_name(self, operands, kw: dict, out) -> str:
        """PyTorch's name of the node: the op's call site may name it
        (`grad_name`: which API made a view, say), else the rule does."""
        if kw.get("grad_name") is not None:
            return kw["grad_name"]
        return self.name_for(operands, kw, out) if self.name_for is not None else self.name


RULES: dict[str, GradRule] = {}


def rule(op: str, name: str, saves: dict[int, tuple[str, ...]] | None = None,
         name_for: Callable | None = None, capture: Callable | None = None,
         edges_for: Callable | None = None):
    """Register the decorated function as op's gradient rule."""
    def register(fn: Callable) -> Callable:
        RULES[op] = GradRule(op, name, saves or {}, fn, name_for, capture, edges_for)
        return fn

    return register


def _need(ctx, i: int) -> bool:
    return ctx.needs_input_grad[i]


def _is_tensor(x) -> bool:
    return hasattr(type(x), "_requires_grad")  # on the type: never realises a pending tensor


# ------------------------------------------------------------------ unary
@rule("neg", "NegBackward0")
def neg_backward(ctx, grad):
    return (-grad,)


@rule("abs", "AbsBackward0", {0: ("x0",)})
def abs_backward(ctx, grad):
    return (grad * ctx.input(0).sign(),)


@rule("exp", "ExpBackward0", {0: ("out",)})
def exp_backward(ctx, grad):
    return (grad * ctx.output(),)


@rule("exp2", "Exp2Backward0", {0: ("out",)})
def exp2_backward(ctx, grad):
    return (grad * ctx.output() * math.log(2.0),)


@rule("log", "LogBackward0", {0: ("x0",)})
def log_backward(ctx, grad):
    return (grad / ctx.input(0),)


@rule("log2", "Log2Backward0", {0: ("x0",)})
def log2_backward(ctx, grad):
    return (grad / (ctx.input(0) * math.log(2.0)),)


@rule("log10", "Log10Backward0", {0: ("x0",)})
def log10_backward(ctx, grad):
    return (grad / (ctx.input(0) * math.log(10.0)),)


@rule("log1p", "Log1PBackward0", {0: ("x0",)})
def log1p_backward(ctx, grad):
    return (grad / (ctx.input(0) + 1),)


@rule("expm1", "Expm1Backward0", {0: ("out",)})
def expm1_backward(ctx, grad):
    return (grad * (ctx.output() + 1),)


@rule("sqrt", "SqrtBackward0", {0: ("out",)})
def sqrt_backward(ctx, grad):
    return (grad / (2 * ctx.output()),)


@rule("rsqrt", "RsqrtBackward0", {0: ("out",)})
def rsqrt_backward(ctx, grad):
    out = ctx.output()
    return (grad * (out * out * out) * -0.5,)


@rule("sin", "SinBackward0", {0: ("x0",)})
def sin_backward(ctx, grad):
    return (grad * ctx.input(0).cos(),)


@rule("cos", "CosBackward0", {0: ("x0",)})
def cos_backward(ctx, grad):
    return (grad * -ctx.input(0).sin(),)


@rule("tan", "TanBackward0", {0: ("out",)})
def tan_backward(ctx, grad):
    out = ctx.output()
    return (grad * (1 + out * out),)


@rule("asin", "AsinBackward0", {0: ("x0",)})
def asin_backward(ctx, grad):
    x = ctx.input(0)
    return (grad * (1 - x * x).rsqrt(),)


@rule("acos", "AcosBackward0", {0: ("x0",)})
def acos_backward(ctx, grad):
    x = ctx.input(0)
    return (-grad * (1 - x * x).rsqrt(),)


@rule("atan", "AtanBackward0", {0: ("x0",)})
def atan_backward(ctx, grad):
    x = ctx.input(0)
    return (grad / (1 + x * x),)


@rule("sinh", "SinhBackward0", {0: ("x0",)})
def sinh_backward(ctx, grad):
    return (grad * ctx.input(0).cosh(),)


@rule("cosh", "CoshBackward0", {0: ("x0",)})
def cosh_backward(ctx, grad):
    return (grad * ctx.input(0).sinh(),)


@rule("tanh", "TanhBackward0", {0: ("out",)})
def tanh_backward(ctx, grad):
    out = ctx.output()
    return (grad * (1 - out * out),)


@rule("sigmoid", "SigmoidBackward0", {0: ("out",)})
def sigmoid_backward(ctx, grad):
    out = ctx.output()
    return (grad * out * (1 - out),)


_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


@rule("erf", "ErfBackward0", {0: ("x0",)})
def erf_backward(ctx, grad):
    x = ctx.input(0)
    return (grad * (-(x * x)).exp() * _TWO_OVER_SQRT_PI,)


@rule("erfc", "ErfcBackward0", {0: ("x0",)})
def erfc_backward(ctx, grad):
    x = ctx.input(0)
    return (grad * (-(x * x)).exp() * -_TWO_OVER_SQRT_PI,)


@rule("reciprocal", "ReciprocalBackward0", {0: ("out",)})
def reciprocal_backward(ctx, grad):
    out = ctx.output()
    return (-grad * (out * out),)


@rule("relu", "ReluBackward0", {0: ("out",)})
def relu_backward(ctx, grad):
    # (zero where the output is <= 0: a NaN output passes the gradient, as PyTorch's)
    return (elementwise.where(elementwise.apply("le", ctx.output(), 0), 0.0, grad),)


def _zero_gradient(ctx, grad):
    """Piecewise-constant ops: the gradient is zero almost everywhere."""
    return (creation.zeros_like(grad),)


for _op in ("sign", "floor", "ceil", "round", "trunc"):
    rule(_op, _op.capitalize() + "Backward0")(_zero_gradient)


@rule("frac", "FracBackward0")
def frac_backward(ctx, grad):
    return (grad,)


# ----------------------------------------------------------------- binary
def _tensor_first(operands):
    """x + 2 and 2 + x are both add(x, 2) in PyTorch: the tensor's edge first,
    the number's (None) second."""
    return (1, 0) if not _is_tensor(operands[0]) and _is_tensor(operands[1]) else None


def _tensors_only(operands):
    """Edges for the tensor operands only (PyTorch's Scalar overloads:
    x ** 2, 2 ** x, 2 - x)."""
    kept = tuple(i for i, x in enumerate(operands) if _is_tensor(x))
    return None if len(kept) == len(operands) else kept


def _sub_name(operands, kw, out) -> str:
    return "SubBackward0" if _is_tensor(operands[0]) else "RsubBackward1"


@rule("add", "AddBackward0", edges_for=_tensor_first)
def add_backward(ctx, grad):
    return (grad, grad)


@rule("sub", "SubBackward0", name_for=_sub_name,
      edges_for=lambda operands: None if _is_tensor(operands[0]) else (1,))
def sub_backward(ctx, grad):
    return (grad, -grad if _need(ctx, 1) else None)


@rule("mul", "MulBackward0", {0: ("x1",), 1: ("x0",)}, edges_for=_tensor_first)
def mul_backward(ctx, grad):
    if (_need(ctx, 0) and _need(ctx, 1) and ctx.input(0) is ctx.input(1)
            and not grad_mode.is_grad_enabled()):
        # x * x: both gradients are grad * x, built once (the engine sums the
        # two). Outside create_graph only, where their own graph is not seen.
        both = grad * ctx.input(0)
        return both, both
    return (grad * ctx.input(1) if _need(ctx, 0) else None,
            grad * ctx.input(0) if _need(ctx, 1) else None)


@rule("div", "DivBackward0", {0: ("x1",), 1: ("x0", "x1")})
def div_backward(ctx, grad):
    b = ctx.input(1)
    grad_a = grad / b if _need(ctx, 0) else None
    grad_b = -grad * ctx.input(0) / (b * b) if _need(ctx, 1) else None
    return grad_a, grad_b


@rule("floordiv", "FloorDivideBackward0")
def floordiv_backward(ctx, grad):
    raise RuntimeError("derivative for aten::floor_divide is not implemented")


@rule("remainder", "RemainderBackward0", {1: ("x0", "x1")})
def remainder_backward(ctx, grad):
    grad_b = None
    if _need(ctx, 1):
        grad_b = -grad * elementwise.div(ctx.input(0), ctx.input(1), rounding_mode="floor")
    return grad, grad_b


@rule("fmod", "FmodBackward0", {1: ("x0", "x1")})
def fmod_backward(ctx, grad):
    grad_b = None
    if _need(ctx, 1):
        grad_b = -grad * elementwise.div(ctx.input(0), ctx.input(1), rounding_mode="trunc")
    return grad, grad_b


def _pow_name(operands, kw, out) -> str:
    base_is_tensor, exp_is_tensor = _is_tensor(operands[0]), _is_tensor(operands[1])
    if base_is_tensor and exp_is_tensor:
        return "PowBackward1"
    return "PowBackward0" if base_is_tensor else "PowBackward2"


@rule("pow", "PowBackward0", {0: ("x0", "x1"), 1: ("x0", "x1", "out")}, _pow_name,
      edges_for=_tensors_only)
def pow_backward(ctx, grad):
    a, b = ctx.input(0), ctx.input(1)
    grad_a = grad_b = None
    if _need(ctx, 0):
        if not _is_tensor(b):
            grad_a = creation.zeros_like(grad) if b == 0 else grad * (b * a ** (b - 1))
        else:
            grad_a = grad * elementwise.where(b == 0, 0.0, b * a ** (b - 1))
    if _need(ctx, 1):
        out = ctx.output()
        if not _is_tensor(a):
            # d/db a**b = a**b log(a); PyTorch's convention: 0 where a == 0 and b >= 0.
            log_a = math.log(a) if a > 0 else (float("-inf") if a == 0 else float("nan"))
            grad_b = grad * (out * log_a if a != 0 else elementwise.where(b >= 0, 0.0, out * log_a))
        else:
            grad_b = grad * elementwise.where((a == 0) & (b >= 0), 0.0, out * a.log())
    return grad_a, grad_b


@rule("atan2", "Atan2Backward0", {0: ("x0", "x1"), 1: ("x0", "x1")})
def atan2_backward(ctx, grad):
    a, b = ctx.input(0), ctx.input(1)
    scale = grad / (a * a + b * b)
    return (scale * b if _need(ctx, 0) else None,
            scale * -a if _need(ctx, 1) else None)


@rule("copysign", "CopysignBackward0", {0: ("x0", "out")})
def copysign_backward(ctx, grad):
    grad_a = None
    if _need(ctx, 0):
        x = ctx.input(0)
        grad_a = elementwise.where(x == 0, 0.0, grad * x.sign() * ctx.output().sign())
    return grad_a, (creation.zeros_like(grad) if _need(ctx, 1) else None)


def _extremum_backward(ctx, grad, pick_a):
    """maximum/minimum: the gradient goes to the chosen operand, split on ties
    (PyTorch); against a Python number (clamp) a tie keeps the gradient."""
    a, b = ctx.input(0), ctx.input(1)
    if not _is_tensor(b):
        keep = (a >= b) if pick_a == "ge" else (a <= b)
        return elementwise.where(keep, grad, 0.0), None
    a_wins = (a > b) if pick_a == "ge" else (a < b)
    b_wins = (a < b) if pick_a == "ge" else (a > b)
    tie = grad * 0.5
    grad_a = elementwise.where(a_wins, grad, elementwise.where(b_wins, 0.0, tie)) if _need(ctx, 0) else None
    grad_b = elementwise.where(b_wins, grad, elementwise.where(a_wins, 0.0, tie)) if _need(ctx, 1) else None
    return grad_a, grad_b


@rule("clamp", "ClampBackward1", {0: ("x0",)}, lambda operands, kw, out: kw["grad_name"])
def clamp_backward(ctx, grad):
    """Number bounds: the gradient passes where the input is within them."""
    x, low, high = ctx.input(0), ctx.kw["min"], ctx.kw["max"]
    inside = x >= low if low is not None else None
    if high is not None:
        inside = x <= high if inside is None else inside & (x <= high)
    return (elementwise.where(inside, grad, 0.0),)


@rule("maximum", "MaximumBackward0", {0: ("x0", "x1"), 1: ("x0", "x1")})
def maximum_backward(ctx, grad):
    return _extremum_backward(ctx, grad, "ge")


@rule("minimum", "MinimumBackward0", {0: ("x0", "x1"), 1: ("x0", "x1")})
def minimum_backward(ctx, grad):
    return _extremum_backward(ctx, grad, "le")


@rule("where", "WhereBackward0", {1: ("x0",), 2: ("x0",)},
      edges_for=lambda operands: (1, 2))  # the condition is no edge
def where_backward(ctx, grad):
    cond = ctx.input(0) if (_need(ctx, 1) or _need(ctx, 2)) else None
    return (None,
            elementwise.where(cond, grad, 0.0) if _need(ctx, 1) else None,
            elementwise.where(cond, 0.0, grad) if _need(ctx, 2) else None)


@rule("cast", "ToCopyBackward0")
def cast_backward(ctx, grad):
    return (grad,)


@rule("clone", "CloneBackward0")
def clone_backward(ctx, grad):
    return (grad,)


# ------------------------------------------------------------- reductions
def _unreduce(grad, shape: tuple[int, ...], axes: tuple[int, ...], keepdim: bool):
    """A reduced gradient, broadcast back over the reduced axes."""
    if not keepdim and len(axes) == len(shape) and not grad_mode.is_grad_enabled():
        # Every axis reduced: the 0-d gradient expands to `shape` as it is (no
        # reshape to all ones first). Outside create_graph only, where the
        # gradient's own graph is not seen (with it: PyTorch's, as below).
        return grad.expand(shape)
    if not keepdim and axes:
        grad = grad.reshape(tuple(1 if d in axes else s for d, s in enumerate(shape)))
    return grad.expand(shape)


def _all_axes(kw, shape) -> bool:
    return not kw["keepdim"] and len(kw["axes"]) == len(shape)


def _sum_name(operands, kw, out) -> str:
    return "SumBackward0" if _all_axes(kw, operands[0].shape) else "SumBackward1"


def _prod_name(operands, kw, out) -> str:
    return "ProdBackward0" if _all_axes(kw, operands[0].shape) else "ProdBackward1"


@rule("sum", "SumBackward0", name_for=_sum_name)
def sum_backward(ctx, grad):
    return (_unreduce(grad, ctx.shape(0), ctx.kw["axes"], ctx.kw["keepdim"]),)


@rule("prod", "ProdBackward0", {0: ("x0",)}, _prod_name)
def prod_backward(ctx, grad):
    """d prod / d x_i = product of the others, exact when the slice has zeros."""
    x = ctx.input(0)
    axes, keepdim = ctx.kw["axes"], ctx.kw["keepdim"]
    grad = _unreduce(grad, ctx.shape(0), axes, keepdim)
    if not axes:
        return (grad,)
    is_zero = x == 0
    nonzero = elementwise.where(is_zero, 1.0, x)
    prod_nonzero = nonzero.prod(axes, keepdim=True) if len(axes) == 1 else \
        _prod_over(nonzero, axes)
    zeros = is_zero.to(x.dtype).sum(axes, keepdim=True)
    others = elementwise.where(zeros == 0, prod_nonzero / nonzero,
                   elementwise.where(is_zero & (zeros == 1), prod_nonzero, 0.0))
    return (grad * others,)


def _prod_over(x, axes):
    for axis in axes:
        x = x.prod(axis, keepdim=True)
    return x


def _extreme_backward(ctx, grad):
    """amax/amin: the gradient is shared evenly between the tied extremes."""
    x, out = ctx.input(0), ctx.output()
    axes, keepdim = ctx.kw["axes"], ctx.kw["keepdim"]
    out = _unreduce(out, ctx.shape(0), axes, keepdim)
    mask = (x == out).to(grad.dtype)
    count = mask.sum(axes, keepdim=True) if axes else mask
    return (_unreduce(grad, ctx.shape(0), axes, keepdim) * mask / count,)


rule("amax", "AmaxBackward0", {0: ("x0", "out")})(_extreme_backward)
rule("amin", "AminBackward0", {0: ("x0", "out")})(_extreme_backward)


def _select_extreme_backward(ctx, grad):
    """max(dim)/min(dim): the gradient goes to the returned index only."""
    dim, keepdim, indices = ctx.kw["dim"], ctx.kw["keepdim"], ctx.kw["indices"]
    shape = ctx.shape(0)
    if len(shape) == 0:
        return (grad,)
    if not keepdim:
        grad, indices = grad.unsqueeze(dim), indices.unsqueeze(dim)
    # A one-hot select rather than a scatter into zeros: elementwise, so it
    # fuses with what produces grad and what reads the result.
    dim = dim % len(shape)
    positions = creation.arange(shape[dim], device=grad.device).reshape(
        [shape[dim] if d == dim else 1 for d in range(len(shape))])
    return (elementwise.where(indices == positions, grad, 0.0),)


# max()/min() over every element: PyTorch's MaxBackward1 shares the gradient
# between ties like amax.
rule("max_all", "MaxBackward1", {0: ("x0", "out")})(_extreme_backward)
rule("min_all", "MinBackward1", {0: ("x0", "out")})(_extreme_backward)


def _mean_name(operands, kw, out) -> str:
    return "MeanBackward0" if kw["all_dims"] else "MeanBackward1"


@rule("mean", "MeanBackward0", name_for=_mean_name)
def mean_backward(ctx, grad):
    count = ctx.kw["count"]
    return (_unreduce(grad, ctx.shape(0), ctx.kw["axes"], ctx.kw["keepdim"]) / count,)


def _centered_over_denominator(ctx):
    """(x - mean(x)) / (N - correction), over the reduced axes."""
    x, axes = ctx.input(0), ctx.kw["axes"]
    centered = x - x.mean(axes, keepdim=True) if axes else x - x
    return centered / ctx.kw["denominator"]


@rule("var", "VarBackward0", {0: ("x0",)})
def var_backward(ctx, grad):
    grad = _unreduce(grad, ctx.shape(0), ctx.kw["axes"], ctx.kw["keepdim"])
    return (2.0 * grad * _centered_over_denominator(ctx),)


@rule("std", "StdBackward0", {0: ("x0", "out")})
def std_backward(ctx, grad):
    shape, axes, keepdim = ctx.shape(0), ctx.kw["axes"], ctx.kw["keepdim"]
    out = ctx.output()
    # PyTorch's std_backward: zero where the std is 0 (constant input), not 0/0.
    grad = _unreduce((grad / out).masked_fill(out == 0, 0), shape, axes, keepdim)
    return (grad * _centered_over_denominator(ctx),)


@rule("logsumexp", "LogsumexpBackward0", {0: ("x0", "out")})
def logsumexp_backward(ctx, grad):
    shape, axes, keepdim = ctx.shape(0), ctx.kw["axes"], ctx.kw["keepdim"]
    out = _unreduce(ctx.output(), shape, axes, keepdim)
    return (_unreduce(grad, shape, axes, keepdim) * (ctx.input(0) - out).exp(),)


@rule("softmax", "SoftmaxBackward0", {0: ("out",)})
def softmax_backward(ctx, grad):
    """PyTorch's formula, from the result: out * (grad - sum(grad * out))."""
    out = ctx.output()
    return (out * (grad - (grad * out).sum(ctx.kw["dim"], keepdim=True)),)


@rule("log_softmax", "LogSoftmaxBackward0", {0: ("out",)})
def log_softmax_backward(ctx, grad):
    """PyTorch's formula, from the result: grad - exp(out) * sum(grad). Read
    from the stored result, the gradient needs no max or sum of exps again."""
    return (grad - ctx.output().exp() * grad.sum(ctx.kw["dim"], keepdim=True),)


rule("max_dim", "MaxBackward0")(_select_extreme_backward)
rule("min_dim", "MinBackward0")(_select_extreme_backward)


def _reverse_cumsum(x, dim: int):
    return x.flip(dim).cumsum(dim).flip(dim)


@rule("cumsum", "CumsumBackward0")
def cumsum_backward(ctx, grad):
    return (_reverse_cumsum(grad, ctx.kw["dim"]),)


@rule("cumprod", "CumprodBackward0", {0: ("x0", "out")})
def cumprod_backward(ctx, grad):
    """Exact with zeros: before the first zero of a slice the usual
    sum_{j>=i} g_j out_j / x_i; at it, the same sum with that zero read as 1;
    after it, zero."""
    x, out, dim = ctx.input(0), ctx.output(), ctx.kw["dim"]
    is_zero = x == 0
    zeros_so_far = is_zero.to(x.dtype).cumsum(dim)
    before_first = zeros_so_far == 0
    first_zero = is_zero & (zeros_so_far == 1)
    safe_x = elementwise.where(is_zero, 1.0, x)
    plain = _reverse_cumsum(grad * out, dim) / safe_x
    at_zero = _reverse_cumsum(grad * elementwise.where(first_zero, 1.0, x).cumprod(dim), dim)
    return (elementwise.where(before_first, plain, elementwise.where(first_zero, at_zero, 0.0)),)


@rule("cummax", "CummaxBackward0", {0: ("x0", "out")})
def cummax_backward(ctx, grad):
    return (_running_extreme_backward(ctx, grad),)


@rule("cummin", "CumminBackward0", {0: ("x0", "out")})
def cummin_backward(ctx, grad):
    return (_running_extreme_backward(ctx, grad),)


def _running_extreme_backward(ctx, grad):
    """Each output's gradient goes to the last position holding the running extreme."""
    x, out, dim = ctx.input(0), ctx.output(), ctx.kw["dim"]
    with grad_mode.no_grad():
        shape = [1] * x.ndim
        shape[dim] = x.shape[dim]
        position = creation.arange(x.shape[dim], device=x.device).reshape(shape).expand(x.shape)
        holder = elementwise.where(x == out, position, 0)
        indices = reductions.cummax(holder, dim)
    return creation.zeros(ctx.shape(0), dtype=grad.dtype, device=grad.device).scatter_add(dim, indices, grad)


# ---------------------------------------------------------------- matmul
def _matmul_name(operands, kw, out) -> str:
    ranks = (operands[0].ndim, operands[1].ndim)
    return {(1, 1): "DotBackward0", (2, 1): "MvBackward0", (2, 2): "MmBackward0",
            (3, 3): "BmmBackward0"}.get(ranks, "MatmulBackward0")


@rule("matmul", "MmBackward0", {0: ("x1",), 1: ("x0",)}, _matmul_name)
def matmul_backward(ctx, grad):
    """torch.matmul's rule, 1-D operands and broadcast batches included."""
    a_rank, b_rank = len(ctx.shape(0)), len(ctx.shape(1))
    if a_rank == 1 and b_rank == 1:
        return (grad * ctx.input(1) if _need(ctx, 0) else None,
                grad * ctx.input(0) if _need(ctx, 1) else None)
    g = grad.unsqueeze(-2) if a_rank == 1 else grad
    g = g.unsqueeze(-1) if b_rank == 1 else g
    grad_a = grad_b = None
    if _need(ctx, 0):
        b = ctx.input(1)
        b = b.unsqueeze(-1) if b_rank == 1 else b
        grad_a = linalg.matmul(g, b.mT)
        grad_a = grad_a.squeeze(-2) if a_rank == 1 else grad_a
    if _need(ctx, 1):
        a = ctx.input(0)
        a = a.unsqueeze(0) if a_rank == 1 else a
        if a_rank == 2 and b_rank == 2 and ctx.kw.get("mat2_transposed"):
            # b is a transposed matrix (linear's weight.t()): its gradient in
            # the same layout (linalg.stored_transposed)
            grad_b = linalg.matmul(g.mT, a).mT
        else:
            grad_b = linalg.matmul(a.mT, g)
        grad_b = grad_b.squeeze(-1) if b_rank == 1 else grad_b
    return grad_a, grad_b


# ------------------------------------------------------- combine / reorder
@rule("cat", "CatBackward0")
def cat_backward(ctx, grad):
    dim, grads, start = ctx.kw["dim"], [], 0
    for i in range(len(ctx.needs_input_grad)):
        if tuple(ctx.shape(i)) == (0,):  # (a 1-D empty input, which cat skips)
            grads.append(creation.zeros((0,), dtype=grad.dtype) if _need(ctx, i) else None)
            continue
        length = ctx.shape(i)[dim]
        grads.append(grad.narrow(dim, start, length) if _need(ctx, i) else None)
        start += length
    return tuple(grads)


@rule("roll", "RollBackward0")
def roll_backward(ctx, grad):
    shifts, dims = ctx.kw["shifts"], ctx.kw["dims"]
    back = -shifts if isinstance(shifts, int) else tuple(-s for s in shifts)
    return (grad.roll(back, dims),)


@rule("repeat", "RepeatBackward0")
def repeat_backward(ctx, grad):
    """Each input element was copied once per repetition: sum the copies."""
    sizes, shape = ctx.kw["sizes"], ctx.shape(0)
    padded = (1,) * (len(sizes) - len(shape)) + tuple(shape)
    split = []
    for r, s in zip(sizes, padded):
        split += [r, s]
    if 0 in split:
        return (creation.zeros(shape, dtype=grad.dtype),)
    summed = grad.reshape(split).sum(tuple(range(0, 2 * len(sizes), 2)))
    return (summed.reshape(shape),)


@rule("trace", "TraceBackward0")
def trace_backward(ctx, grad):
    rows, cols = ctx.shape(0)
    return (creation.eye(rows, cols, dtype=grad.dtype) * grad,)


@rule("stack", "StackBackward0")
def stack_backward(ctx, grad):
    dim = ctx.kw["dim"]
    return tuple(grad.select(dim, i) if _need(ctx, i) else None
                 for i in range(len(ctx.needs_input_grad)))


@rule("flip", "FlipBackward0")
def flip_backward(ctx, grad):
    return (grad.flip(ctx.kw["dims"]),)


# --------------------------------------------------------------- indexing
@rule("gather", "GatherBackward0")
def gather_backward(ctx, grad):
    zeros = creation.zeros(ctx.shape(0), dtype=grad.dtype, device=grad.device)
    return (zeros.scatter_add(ctx.kw["dim"], ctx.kw["index"], grad),)


def _gathered_to_shape(grad, dim: int, index, shape):
    """grad.gather(dim, index), zero-padded to `shape` when index is smaller."""
    picked = grad.gather(dim, index)
    if tuple(picked.shape) == tuple(shape):
        return picked
    with grad_mode.no_grad():
        out = creation.zeros(shape, dtype=grad.dtype, device=grad.device)
    out[tuple(slice(0, s) for s in picked.shape)] = picked
    return out


@rule("scatter", "ScatterBackward0")
def scatter_backward(ctx, grad):
    dim, index = ctx.kw["dim"], ctx.kw["index"]
    grad_src = _gathered_to_shape(grad, dim, index, ctx.shape(1)) if _need(ctx, 1) else None
    grad_input = indexing.scatter(grad, dim, index, value=0.0) if _need(ctx, 0) else None
    return grad_input, grad_src


@rule("scatter_add", "ScatterAddBackward0")
def scatter_add_backward(ctx, grad):
    dim, index = ctx.kw["dim"], ctx.kw["index"]
    grad_src = _gathered_to_shape(grad, dim, index, ctx.shape(1)) if _need(ctx, 1) else None
    return grad, grad_src


def _index_tuple(index) -> tuple:
    return index if isinstance(index, tuple) else (index,)


@rule("index", "IndexBackward0")
def index_backward(ctx, grad):
    """Advanced indexing: scatter-add the gradient back (repeated indices add up)."""
    index = ctx.kw["index"]
    with grad_mode.no_grad():
        out = creation.zeros(ctx.shape(0), dtype=grad.dtype, device=grad.device)
        out.index_put_(_index_tuple(index), grad, accumulate=True)
    grad_mode.record("index_backward", out, (grad,), index=index)
    return (out,)


@rule("index_backward", "IndexBackwardBackward0")
def index_backward_backward(ctx, grad):
    return (grad[ctx.kw["index"]],)


# ------------------------------------------------------------------- views
def _reshape_name(operands, kw, out) -> str:
    before, after = tuple(operands[0].shape), tuple(out.shape)
    if len(after) == len(before) + 1 and tuple(s for s in after if s != 1) == tuple(
            s for s in before if s != 1):
        return "UnsqueezeBackward0"
    if len(after) < len(before) and tuple(s for s in after if s != 1) == tuple(
            s for s in before if s != 1):
        return "SqueezeBackward0"
    return "ViewBackward0"


@rule("view_reshape", "ViewBackward0", name_for=_reshape_name)
def view_reshape_backward(ctx, grad):
    return (grad.reshape(ctx.shape(0)),)


def _permute_name(operands, kw, out) -> str:
    moved = [i for i, d in enumerate(kw["order"]) if i != d]
    return "TransposeBackward0" if len(moved) == 2 else "PermuteBackward0"


@rule("view_permute", "PermuteBackward0", name_for=_permute_name)
def view_permute_backward(ctx, grad):
    order = ctx.kw["order"]
    inverse = [0] * len(order)
    for i, d in enumerate(order):
        inverse[d] = i
    return (grad.permute(*inverse),)


@rule("view_expand", "ExpandBackward0")
def view_expand_backward(ctx, grad):
    return (grad,)  # the node sums the gradient back to the input's shape


def _basic_index_name(operands, kw, out) -> str:
    items = _index_tuple(kw["index"])
    for item in reversed(items):
        if item is None:
            return "UnsqueezeBackward0"
        if isinstance(item, slice):
            if item != slice(None):
                return "SliceBackward0"
            continue
        if item is Ellipsis:
            continue
        return "SelectBackward0"
    return "AliasBackward0"


@rule("view_index", "SliceBackward0", name_for=_basic_index_name)
def view_index_backward(ctx, grad):
    """Basic indexing (ints, slices with steps, None, ...): place the gradient
    at the viewed elements of a zero gradient of the base's shape."""
    index = ctx.kw["index"]
    with grad_mode.no_grad():
        out = creation.zeros(ctx.shape(0), dtype=grad.dtype, device=grad.device)
        out[index] = grad
    grad_mode.record("view_index_backward", out, (grad,), index=index)
    return (out,)


@rule("view_index_backward", "SliceBackwardBackward0")
def view_index_backward_backward(ctx, grad):
    return (grad[ctx.kw["index"]],)


@rule("view_diagonal", "DiagonalBackward0")
def view_diagonal_backward(ctx, grad):
    kw = ctx.kw
    with grad_mode.no_grad():
        out = creation.zeros(ctx.shape(0), dtype=grad.dtype, device=grad.device)
        out.diagonal(kw["offset"], kw["dim1"], kw["dim2"]).copy_(grad)
    grad_mode.record("view_diagonal_backward", out, (grad,), **kw)
    return (out,)


@rule("view_diagonal_backward", "DiagonalBackwardBackward0")
def view_diagonal_backward_backward(ctx, grad):
    kw = ctx.kw
    return (grad.diagonal(kw["offset"], kw["dim1"], kw["dim2"]),)


def _layout_of(t):
    """The (shape, strides, offset) view of t, without realising a pending tensor."""
    return t._layout() if hasattr(t, "_layout") else t._view


def _strided_layouts(operands, out, kw) -> dict:
    return {"source": _layout_of(out), "target": _layout_of(operands[0])}


def _storage_positions(layout):
    """Storage index of every element of a strided layout (an int64 tensor)."""
    positions = creation.full(tuple(layout.shape), layout.offset, dtype=dtypes.int64)
    for d, (size, stride) in enumerate(zip(layout.shape, layout.strides)):
        if size > 1 and stride != 0:
            steps = [1] * len(layout.shape)
            steps[d] = size
            positions = positions + (creation.arange(size) * stride).reshape(steps)
    return positions


def _storage_span(layout) -> int:
    if 0 in layout.shape:
        return 0
    return layout.offset + sum(max(0, (s - 1) * st) for s, st in
                               zip(layout.shape, layout.strides)) + 1


def strided_scatter_add(grad, source, target):
    """Move grad, laid out as `source` over a storage, to the `target` layout
    over the same storage, adding elements that share a storage slot."""
    with grad_mode.no_grad():
        flat = creation.zeros(max(_storage_span(source), _storage_span(target)), dtype=grad.dtype)
        flat.index_put_((_storage_positions(source).reshape(-1),), grad.reshape(-1),
                        accumulate=True)
        out = flat[_storage_positions(target)]
    grad_mode.record("strided_scatter_add", out, (grad,), source=source, target=target)
    return out


@rule("view_as_strided", "AsStridedBackward0", capture=_strided_layouts)
def view_as_strided_backward(ctx, grad):
    """Any strided view of the base (sliding windows may overlap): each base
    element gets the sum of the gradients of the view elements stored there."""
    return (strided_scatter_add(grad, ctx.kw["source"], ctx.kw["target"]),)


@rule("strided_scatter_add", "AsStridedBackwardBackward0")
def strided_scatter_add_backward(ctx, grad):
    # Linear, and its adjoint swaps the layouts (the base layout never overlaps).
    return (strided_scatter_add(grad, ctx.kw["target"], ctx.kw["source"]),)


@rule("norm2", "LinalgVectorNormBackward0", {0: ("x0", "out")})
def norm2_backward(ctx, grad):
    """The 2-norm over axes: x / norm, and 0 where the norm is 0 (as PyTorch)."""
    x, out = ctx.input(0), ctx.output()
    axes, keepdim = ctx.kw["axes"], ctx.kw["keepdim"]
    norm = _unreduce(out, ctx.shape(0), axes, keepdim)
    safe = elementwise.where(norm == 0, 1.0, norm)
    return (_unreduce(grad, ctx.shape(0), axes, keepdim) * x / safe,)


# --------------------------------------------------- in-place-only writes
@rule("copy", "CopyBackwards")
def copy_backward(ctx, grad):
    """The old value is overwritten: it gets a zero gradient (as in PyTorch)."""
    return (creation.zeros_like(grad) if _need(ctx, 0) else None), grad


@rule("fill", "FillBackward0")
def fill_backward(ctx, grad):
    return (creation.zeros_like(grad),)


@rule("setitem", "CopySlices")
def setitem_backward(ctx, grad):
    """target[index] = value: the old target keeps the gradient outside the
    written region; the value gets the region's gradient."""
    index = ctx.kw["index"]
    grad_old = grad_value = None
    if _need(ctx, 0):
        with grad_mode.no_grad():
            keep = creation.ones(ctx.shape(0), dtype=grad.dtype)
            keep[index] = 0.0
        grad_old = grad * keep
    if _need(ctx, 1):
        grad_value = grad[index]
    return grad_old, grad_value


@rule("index_put", "IndexPutBackward0")
def index_put_backward(ctx, grad):
    """target[index] = value (or += with accumulate), advanced indices allowed."""
    index, accumulate = ctx.kw["index"], ctx.kw.get("accumulate", False)
    grad_old = grad_value = None
    if _need(ctx, 0):
        if accumulate:
            grad_old = grad
        else:
            with grad_mode.no_grad():
                keep = creation.ones(ctx.shape(0), dtype=grad.dtype)
                keep[index] = 0.0
            grad_old = grad * keep
    if _need(ctx, 1):
        grad_value = grad[index]
    return grad_old, grad_value


# The special-function rows' rules live in their own file (rules_special.py).
for _op, _name, _saves, _backward in SPECIAL_RULES:
    rule(_op, _name, _saves)(_backward)
