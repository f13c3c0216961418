"""lazyt.special: torch.special's names for lazyt's elementwise math.

Re-exports only: each name is a table op (ir/ops.py; the Bessel family's helpers are
in codegen/llvm_bessel.py) or a composition from lazyt/math_ops.py, elementwise.py,
reductions.py or special_polynomials.py under PyTorch's special name. Every function
takes out= (lazyt/out_arguments.py), as PyTorch's do.
"""

from __future__ import annotations

import math as _math

from lazyt import elementwise as _elementwise
from lazyt import math_ops as _math_ops
from lazyt import reductions as _reductions
from lazyt import special_polynomials as _polynomials
from lazyt.out_arguments import with_out as _with_out
from lazyt.tensor import Tensor as _Tensor

_table = _elementwise.FUNCTIONS

expit = _table["sigmoid"]
erf = _table["erf"]
erfc = _table["erfc"]
erfinv = _table["erfinv"]
expm1 = _table["expm1"]
exp2 = _table["exp2"]
log1p = _table["log1p"]
gammaln = _table["lgamma"]
digamma = psi = _table["digamma"]
i0 = _table["i0"]
i1 = _table["i1"]
zeta = _table["zeta"]
round = _elementwise.round  # noqa: A001 - PyTorch's name
logit = _math_ops.logit
polygamma = _math_ops.polygamma
multigammaln = _math_ops.multigammaln
sinc = _math_ops.sinc
xlogy = _math_ops.xlogy
xlog1py = _math_ops.xlog1py
entr = _math_ops.entr
erfcx = _table["_special_erfcx"]
i0e = _table["_special_i0e"]
i1e = _table["_special_i1e"]
modified_bessel_i0 = _table["i0"]
modified_bessel_i1 = _table["i1"]
modified_bessel_k0 = _table["_special_modified_bessel_k0"]
modified_bessel_k1 = _table["_special_modified_bessel_k1"]
scaled_modified_bessel_k0 = _table["_special_scaled_modified_bessel_k0"]
scaled_modified_bessel_k1 = _table["_special_scaled_modified_bessel_k1"]
bessel_j0 = _table["_special_bessel_j0"]
bessel_j1 = _table["_special_bessel_j1"]
bessel_y0 = _table["_special_bessel_y0"]
bessel_y1 = _table["_special_bessel_y1"]
airy_ai = _table["_special_airy_ai"]
gammainc = _table["igamma"]
gammaincc = _table["igammac"]
chebyshev_polynomial_t = _polynomials.chebyshev_polynomial_t
chebyshev_polynomial_u = _polynomials.chebyshev_polynomial_u
chebyshev_polynomial_v = _polynomials.chebyshev_polynomial_v
chebyshev_polynomial_w = _polynomials.chebyshev_polynomial_w
shifted_chebyshev_polynomial_t = _polynomials.shifted_chebyshev_polynomial_t
shifted_chebyshev_polynomial_u = _polynomials.shifted_chebyshev_polynomial_u
shifted_chebyshev_polynomial_v = _polynomials.shifted_chebyshev_polynomial_v
shifted_chebyshev_polynomial_w = _polynomials.shifted_chebyshev_polynomial_w
hermite_polynomial_h = _polynomials.hermite_polynomial_h
hermite_polynomial_he = _polynomials.hermite_polynomial_he
laguerre_polynomial_l = _polynomials.laguerre_polynomial_l
legendre_polynomial_p = _polynomials.legendre_polynomial_p
logsumexp = _reductions.logsumexp
softmax = _reductions.softmax
log_softmax = _reductions.log_softmax


def ndtr(input: _Tensor) -> _Tensor:
    """The standard normal CDF: erfc(-x / sqrt 2) / 2 (accurate in the lower tail)."""
    x = _math_ops.cast_if(input, _math_ops._float_dtype(input))
    return _elementwise.apply("mul", erfc(_elementwise.apply("mul", x, -_math.sqrt(0.5))), 0.5)


def ndtri(input: _Tensor) -> _Tensor:
    """The inverse of ndtr: sqrt 2 erfinv(2p - 1), computed in float64 so that float32's
    tails (2p - 1 near -1) keep their accuracy."""
    dtype = _math_ops._float_dtype(input)
    p = _math_ops.cast_if(input, _elementwise.dtypes.float64)
    z = _elementwise.apply("mul", erfinv(_elementwise.apply("sub", _elementwise.apply(
        "mul", p, 2.0), 1.0)), _math.sqrt(2.0))
    return _math_ops.cast_if(z, dtype)


def log_ndtr(input: _Tensor) -> _Tensor:
    return ndtr(input).log()


def spherical_bessel_j0(input: _Tensor) -> _Tensor:
    """sin(x) / x, computed in float64; its Taylor series below |x| = 0.5; 0 at +-inf."""
    dtype = _math_ops._float_dtype(input)
    x = _math_ops.cast_if(input, _elementwise.dtypes.float64)
    square = _elementwise.apply("mul", x, x)
    taylor = 1.0
    for k in range(9, 0, -1):  # 1 - x^2/3! + x^4/5! - ...: terms to x^18 (below 1e-22)
        taylor = _elementwise.apply("sub", 1.0, _elementwise.apply(
            "mul", _elementwise.apply("mul", square, 1.0 / ((2 * k) * (2 * k + 1))), taylor))
    small = _elementwise.apply("lt", _elementwise.apply("abs", x), 0.5)
    safe = _elementwise.where(small, 1.0, x)
    direct = _elementwise.apply("div", _elementwise.apply("sin", safe), safe)
    value = _elementwise.where(small, taylor, direct)
    value = _elementwise.where(_elementwise.apply("isinf", x), 0.0, value)
    return _math_ops.cast_if(value, dtype)


# torch.special's functions all take out=.
for _name in [name for name, value in list(globals().items())
              if not name.startswith("_") and callable(value)]:
    globals()[_name] = _with_out(_name, globals()[_name])
del _name
