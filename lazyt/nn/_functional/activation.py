"""Activation functions of lazyt.nn.functional, written with lazyt tensor ops.

Each is a short composition of elementwise ops (one fused kernel in deferred
or compiled mode); the formulas and gradients are PyTorch's. Where composing
the naive formula would give a NaN gradient (softplus overflowing exp), a
small autograd.Function states the gradient directly.
"""

from __future__ import annotations

import math

from lazyt import creation
from lazyt.autograd import Function
from lazyt.elementwise import where
from lazyt.regions import run_region
from lazyt.tensor import Tensor

_SQRT_HALF = 1.0 / math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    return input.relu_() if inplace else input.relu()


def relu_(input: Tensor) -> Tensor:
    return input.relu_()


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    return hardtanh(input, 0.0, 6.0, inplace)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if not input.is_floating_point():  # integer inputs stay integers, bounds truncated
        min_val, max_val = int(min_val), int(max_val)

    def hardtanh_of(input):
        # PyTorch's gradient is 1 strictly inside (min_val, max_val), 0 outside.
        inside = (input > min_val) & (input < max_val)
        return where(inside, input, input.detach().clamp(min_val, max_val))

    return _activation("hardtanh", hardtanh_of, input, (min_val, max_val), inplace,
                       "HardtanhBackward0")


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    return _activation("leaky_relu", lambda x: where(x > 0, x, x * negative_slope), input,
                       (negative_slope,), inplace, "LeakyReluBackward0")


def rrelu(input: Tensor, lower: float = 1.0 / 8.0, upper: float = 1.0 / 3.0,
          training: bool = False, inplace: bool = False) -> Tensor:
    """Randomised leaky ReLU: negative inputs are scaled by a slope drawn from
    U(lower, upper) per element when training, by (lower + upper) / 2 otherwise."""
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    if not training:
        return leaky_relu(input, (lower + upper) / 2.0, inplace)
    slopes = creation.rand(tuple(input.shape), dtype=input.dtype, device=input.device)
    slopes = slopes * (upper - lower) + lower
    out = where(input > 0, input, input * slopes)
    return _maybe_inplace(input, out, inplace)


def rrelu_(input: Tensor, lower: float = 1.0 / 8.0, upper: float = 1.0 / 3.0,
           training: bool = False) -> Tensor:
    return rrelu(input, lower, upper, training, inplace=True)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    return _activation("elu", lambda x: where(x > 0, x, x.clamp(max=0).expm1() * alpha), input,
                       (alpha,), inplace, "EluBackward0")


def _activation(name: str, fn, input: Tensor, consts: tuple, inplace: bool,
                grad_name: str) -> Tensor:
    """fn(input) as one region with PyTorch's grad_fn name (op by op in place)."""
    if inplace:
        return _maybe_inplace(input, fn(input), True)
    return run_region(name, fn, (input,), consts, grad_name)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    return _activation("celu", lambda x: where(x > 0, x, (x.clamp(max=0) / alpha).expm1() * alpha),
                       input, (alpha,), inplace, "CeluBackward0")


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    return _activation(  # (PyTorch's node: an EluBackward0 with selu's scales)
        "selu", lambda x: where(x > 0, x, x.clamp(max=0).expm1() * _SELU_ALPHA) * _SELU_SCALE,
        input, (), inplace, "EluBackward0")


# Composite activations run as eager regions (regions.py): one fused kernel
# and one grad_fn named as PyTorch's, instead of a launch per op.

def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    if approximate not in ("none", "tanh"):
        raise RuntimeError(
            f"approximate argument must be either none or tanh, got '{approximate}'")
    return run_region("gelu", lambda x: _gelu(x, approximate), (input,), (approximate,),
                      "GeluBackward0")


def _gelu(input: Tensor, approximate: str) -> Tensor:
    if approximate == "none":
        return input * ((input * _SQRT_HALF).erf() + 1.0) * 0.5
    inner = (input + input * input * input * 0.044715) * _SQRT_2_OVER_PI
    return input * (inner.tanh() + 1.0) * 0.5


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    if inplace:
        return _maybe_inplace(input, input * input.sigmoid(), inplace)
    return run_region("silu", lambda x: x * x.sigmoid(), (input,), (), "SiluBackward0")


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    if inplace:
        return _maybe_inplace(input, input * softplus(input).tanh(), inplace)
    return run_region("mish", lambda x: x * softplus(x).tanh(), (input,), (), "MishBackward0")


def sigmoid(input: Tensor) -> Tensor:
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:
    return input.tanh()


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    return _activation("hardsigmoid", _hardsigmoid, input, (), inplace, "HardsigmoidBackward0")


def _hardsigmoid(input: Tensor) -> Tensor:
    # NaN stays NaN: only the comparisons that hold pick a constant.
    ramp = where(input >= 3.0, 1.0, input / 6.0 + 0.5)
    return where(input <= -3.0, 0.0, ramp)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    return _activation("hardswish", lambda x: x * (x + 3.0).clamp(0.0, 6.0) / 6.0, input, (),
                       inplace, "HardswishBackward0")


class _Softplus(Function):
    """softplus with PyTorch's gradient sigmoid(beta*x) (0 above the threshold
    region's linear branch is 1); the forward never overflows exp."""

    @staticmethod
    def forward(ctx, input, beta, threshold):
        scaled = input * beta
        smooth = (scaled.clamp(min=0) + (-scaled.abs()).exp().log1p()) / beta
        linear = scaled > threshold
        ctx.save_for_backward(scaled, linear)
        return where(linear, input, smooth)

    @staticmethod
    def backward(ctx, grad):
        scaled, linear = ctx.saved_tensors
        return where(linear, grad, grad * scaled.sigmoid()), None, None


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    return run_region("softplus", lambda x: _Softplus.apply(x, beta, threshold), (input,),
                      (beta, threshold), "SoftplusBackward0")


def softsign(input: Tensor) -> Tensor:
    return input / (input.abs() + 1.0)


def logsigmoid(input: Tensor) -> Tensor:
    return run_region("logsigmoid", lambda x: -_Softplus.apply(-x, 1.0, 20.0), (input,), (),
                      "LogSigmoidBackward0")


def tanhshrink(input: Tensor) -> Tensor:
    return input - input.tanh()


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    if lambd < 0:
        raise RuntimeError(f"lambda must be in range [0, inf] for input dtype {input.dtype}, "
                           f"but found {lambd}.")
    return _activation("softshrink", lambda x: where(
        x > lambd, x - lambd, where(x < -lambd, x + lambd, x * 0.0)), input, (lambd,), False,
        "SoftshrinkBackward0")


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    return _activation("hardshrink", lambda x: where(x.abs() > lambd, x, x * 0.0), input,
                       (lambd,), False, "HardshrinkBackward0")


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    # x <= threshold takes value, so NaN passes through (as in PyTorch)
    return _activation("threshold", lambda x: where(x <= threshold, creation.full_like(x, value),
                                                    x), input, (threshold, value), inplace,
                       "ThresholdBackward0")


def glu(input: Tensor, dim: int = -1) -> Tensor:
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    if input.shape[dim] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim % input.ndim} "
                           f"is size {input.shape[dim]}")
    return _activation("glu", lambda x: _glu(x, dim), input, (dim,), False, "GluBackward0")


def _glu(input: Tensor, dim: int) -> Tensor:
    a, b = input.chunk(2, dim)
    return a * b.sigmoid()


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype=None) -> Tensor:
    return input.softmax(dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype=None) -> Tensor:
    return input.log_softmax(dim, dtype=dtype)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype=None) -> Tensor:
    return (-input).softmax(dim, dtype=dtype)


def _maybe_inplace(input: Tensor, out: Tensor, inplace: bool) -> Tensor:
    """inplace=True writes the result into input (PyTorch's `*_` activations)."""
    if not inplace:
        return out
    input.copy_(out)
    return input


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """max(0, x) + weight * min(0, x); weight is one slope or one per channel (dim 1)."""
    if weight.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {weight.ndim}")
    slopes = weight.numel()
    if slopes != 1:
        if input.ndim == 0:
            raise RuntimeError("Not allow zero-dim input tensor.")
        channels = input.shape[1] if input.ndim >= 2 else 1
        if slopes != channels:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                               f"parameter numbers = {slopes} and channel size = {channels}.")
        weight = weight.reshape((-1,) + (1,) * (input.ndim - 2))
    elif weight.ndim == 1 and input.ndim == 0:
        weight = weight.reshape(())
    return where(input > 0, input, input * weight)
