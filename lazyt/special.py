"""lazyt.special: torch.special's names for lazyt's elementwise math.

Re-exports only: each name is a table op (ir/ops.py) or a composition from
lazyt/math_ops.py, elementwise.py or reductions.py under PyTorch's special name.
"""

from __future__ import annotations

import math as _math

from lazyt import elementwise as _elementwise
from lazyt import math_ops as _math_ops
from lazyt import reductions as _reductions
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
