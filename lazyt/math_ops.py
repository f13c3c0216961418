"""Elementwise math written as compositions of op-table rows, and the in-place variants
PyTorch has for them.

Frontend layer beside lazyt/elementwise.py (which binds the table's rows): xlogy,
logit, sinc, heaviside, float_power, polygamma, ... are a few table ops each, with
PyTorch's dtype rules and special values; their gradients come from the rows'
rules. Where a naive formula would give a NaN gradient through the branch `where`
does not pick (0 * inf), the operand is made safe first, as PyTorch's own
formulas are. lazyt/special.py re-exports these under torch.special's names.
"""

from __future__ import annotations

import math

from lazyt import creation, dtypes
from lazyt.elementwise import (
    TORCH_NAMES,
    _can_cast,
    apply,
    cast_if,
    clamp,
    clamp_max,
    clamp_min,
    copy_,
    logical_and,
    logical_or,
    logical_xor,
    nan_to_num,
    where,
)
from lazyt.elementwise import pow as tensor_pow
from lazyt.tensor import Tensor


def _float_dtype(*operands) -> dtypes.DType:
    """The dtype a float-valued op computes in: the promoted one, ints/bools to the default."""
    promoted = dtypes.result_type(*operands)
    return promoted if promoted.kind == "f" else dtypes.get_default_dtype()


def _as_float(x, dtype: dtypes.DType):
    return cast_if(x, dtype) if isinstance(x, Tensor) else float(x)


def sgn(input: Tensor) -> Tensor:
    """sign for real tensors (sgn differs from sign only for complex ones)."""
    return apply("sign", input)


def sinc(input: Tensor) -> Tensor:
    """sin(pi x) / (pi x), 1 at 0; the divisor is made nonzero there so the gradient at 0
    is 0 (PyTorch's), not 0/0."""
    dtype = _float_dtype(input)
    x = cast_if(input, dtype)
    is_zero = apply("eq", x, 0)
    scaled = apply("mul", where(is_zero, 1.0, x), math.pi)
    return where(is_zero, 1.0, apply("div", apply("sin", scaled), scaled))


def deg2rad(input: Tensor) -> Tensor:
    return apply("mul", cast_if(input, _float_dtype(input)), math.pi / 180.0)


def rad2deg(input: Tensor) -> Tensor:
    return apply("mul", cast_if(input, _float_dtype(input)), 180.0 / math.pi)


def xlogy(input, other) -> Tensor:
    """x * log(y), 0 where x == 0 unless y is NaN (PyTorch)."""
    return _x_times(input, other, "log")


def xlog1py(input, other) -> Tensor:
    """x * log1p(y), 0 where x == 0 unless y is NaN (PyTorch)."""
    return _x_times(input, other, "log1p")


def _x_times(x, y, log_op: str) -> Tensor:
    if not isinstance(x, Tensor) and not isinstance(y, Tensor):
        raise TypeError(f"x{log_op}y(): expected at least one Tensor argument")
    dtype = _float_dtype(x, y)
    x, y = _as_float_tensor(x, dtype), _as_float_tensor(y, dtype)
    # PyTorch: 0 where x == 0 (y not NaN), with the gradient log(y) for x kept where y > 0;
    # where y cannot be logged there, log reads a stand-in so no -inf meets the 0.
    bad = apply("le", y, -1.0 if log_op == "log1p" else 0.0)
    stand_in = logical_and(apply("eq", x, 0.0), bad)
    safe_y = where(stand_in, 0.0 if log_op == "log1p" else 1.0, y)
    return apply("add", apply("mul", x, apply(log_op, safe_y)), 0.0)  # + 0: no -0 results


def _as_float_tensor(x, dtype: dtypes.DType) -> Tensor:
    """x as a tensor of dtype: a Python number becomes a 0-d tensor (it broadcasts)."""
    return cast_if(x, dtype) if isinstance(x, Tensor) else creation.full((), float(x),
                                                                          dtype=dtype)


def entr(input: Tensor) -> Tensor:
    """-x log x for x > 0, 0 at 0, -inf below; NaN stays NaN."""
    dtype = _float_dtype(input)
    x = cast_if(input, dtype)
    positive = apply("gt", x, 0.0)
    value = apply("neg", apply("mul", x, apply("log", where(positive, x, 1.0))))
    value = where(apply("eq", x, 0.0), 0.0, value)
    return where(apply("lt", x, 0.0), -math.inf, value)


def logit(input: Tensor, eps: float | None = None) -> Tensor:
    """log(x / (1 - x)), x first clamped to [eps, 1 - eps] when eps is given."""
    x = cast_if(input, _float_dtype(input))
    if eps is not None:
        x = clamp(x, eps, 1.0 - eps)
    return apply("log", apply("div", x, apply("sub", 1.0, x)))


def heaviside(input: Tensor, values) -> Tensor:
    """values where input == 0, else (input > 0): NaN gives 0."""
    if not isinstance(values, Tensor):
        raise TypeError(f"heaviside(): argument 'values' (position 2) must be Tensor, "
                        f"not {type(values).__name__}")
    if input.dtype is not values.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes")
    positive = cast_if(apply("gt", input, 0), input.dtype)
    return where(apply("eq", input, 0), values, positive)


def float_power(input, exponent) -> Tensor:
    """pow computed in float64, whatever the operands' dtypes (PyTorch)."""
    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        raise TypeError("float_power(): expected at least one Tensor argument")
    base = _as_float(input, dtypes.float64)
    power = _as_float(exponent, dtypes.float64)
    if not isinstance(base, Tensor):
        return apply("pow", base, power)
    return tensor_pow(base, power)


def float_power_(self: Tensor, exponent) -> Tensor:
    if self.dtype is not dtypes.float64:
        raise RuntimeError(f"the base given to float_power_ has dtype "
                           f"{TORCH_NAMES[self.dtype.name]} but the operation's result requires "
                           f"dtype Double")
    return copy_(self, float_power(self, exponent))


def polygamma(n: int, input: Tensor) -> Tensor:
    """The n-th derivative of digamma: digamma for n = 0, else
    (-1)^(n+1) n! zeta(n + 1, x)."""
    if isinstance(n, Tensor):
        n = int(n.item())
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    if n == 0:
        return apply("digamma", input)
    zeta = apply("zeta", float(n + 1), cast_if(input, _float_dtype(input)))
    return apply("mul", zeta, (-1.0) ** (n + 1) * math.factorial(n))


def multigammaln(input: Tensor, p: int) -> Tensor:
    """log of the multivariate gamma function of dimension p."""
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    x = cast_if(input, _float_dtype(input))
    total = p * (p - 1) / 4.0 * math.log(math.pi)
    result = apply("add", apply("lgamma", x), total)
    for j in range(1, p):
        result = apply("add", result, apply("lgamma", apply("sub", x, j / 2.0)))
    return result


def _inplace_of(fn, name: str):
    """self.name(...) = self.copy_(fn(self, ...)), with PyTorch's cast check."""
    def method(self, *args, **kwargs):
        result = fn(self, *args, **kwargs)
        if not _can_cast(result.dtype, self.dtype):
            raise RuntimeError(f"result type {TORCH_NAMES[result.dtype.name]} can't be cast to "
                               f"the desired output type {TORCH_NAMES[self.dtype.name]}")
        return copy_(self, result)

    method.__name__ = name
    return method


def _logical_inplace(fn, name: str):
    """logical_and_ and friends write their bool result in self's dtype (no cast check)."""
    def method(self, other):
        return copy_(self, fn(self, other))

    method.__name__ = name
    return method


FUNCTIONS = {
    "sgn": sgn, "sinc": sinc, "deg2rad": deg2rad, "rad2deg": rad2deg, "xlogy": xlogy,
    "logit": logit, "heaviside": heaviside, "float_power": float_power,
    "polygamma": polygamma, "mvlgamma": multigammaln,
}

TENSOR_METHODS = {
    "sgn": sgn, "sinc": sinc, "deg2rad": deg2rad, "rad2deg": rad2deg, "xlogy": xlogy,
    "logit": logit, "heaviside": heaviside, "float_power": float_power,
    "polygamma": lambda self, n: polygamma(n, self),
    "polygamma_": lambda self, n: copy_(self, polygamma(n, self)),
    "mvlgamma": lambda self, p: multigammaln(self, p),
    "mvlgamma_": lambda self, p: copy_(self, multigammaln(self, p)),
    "float_power_": float_power_,
    "sgn_": _inplace_of(sgn, "sgn_"), "sinc_": _inplace_of(sinc, "sinc_"),
    "deg2rad_": _inplace_of(deg2rad, "deg2rad_"), "rad2deg_": _inplace_of(rad2deg, "rad2deg_"),
    "xlogy_": _inplace_of(xlogy, "xlogy_"), "logit_": _inplace_of(logit, "logit_"),
    "heaviside_": _inplace_of(heaviside, "heaviside_"),
    "nan_to_num_": _inplace_of(nan_to_num, "nan_to_num_"),
    "clamp_min_": _inplace_of(clamp_min, "clamp_min_"),
    "clamp_max_": _inplace_of(clamp_max, "clamp_max_"),
    "logical_and_": _logical_inplace(logical_and, "logical_and_"),
    "logical_or_": _logical_inplace(logical_or, "logical_or_"),
    "logical_xor_": _logical_inplace(logical_xor, "logical_xor_"),
    "__ilshift__": lambda self, other: self.bitwise_left_shift_(other),
    "__irshift__": lambda self, other: self.bitwise_right_shift_(other),
}
