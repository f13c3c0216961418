"""torch.special's orthogonal polynomials of x and degree n: Chebyshev T/U/V/W (and their
shifted forms on [0, 1]), Hermite H and He, Laguerre L, Legendre P.

Frontend layer, composed of lazyt ops (lazyt/special.py exports them). PyTorch evaluates
each element's three-term recurrence up to its own n; here the recurrence is unrolled
up to the largest n (truncated toward zero, as PyTorch casts it) among the elements
that need it (one realised read), keeping each element's value at its own step. The
special cases come first, as in PyTorch: n < 0 (or not finite) gives 0, the end points
|x| = 1 (x = 0, 1 for the shifted forms) their exact values, and for |x| < 1 and
n above a small threshold the Chebyshev families use their trigonometric closed forms
(computed in float64). Hermite polynomials of degree above 128 (float32) or 512
(float64) are NaN, PyTorch's overflow guard. None of them has a gradient in PyTorch.
"""

from __future__ import annotations

import math

from lazyt import dtypes, reductions
from lazyt import elementwise as ew
from lazyt.math_ops import _as_float_tensor, _float_dtype
from lazyt.tensor import Tensor, broadcast_shapes

_HERMITE_LIMIT = {"float32": 128, "float64": 512}


def _operands(name: str, x, n) -> tuple[Tensor, Tensor]:
    """x and n as tensors of the result dtype (ints and bools promote to the default
    float); n truncated toward zero, NaN/inf n made negative (PyTorch's int cast)."""
    if not isinstance(x, Tensor) and not isinstance(n, Tensor):
        raise TypeError(f"{name}(): expected at least one Tensor argument")
    dtype = _float_dtype(x, n)
    x, n = _as_float_tensor(x, dtype), _as_float_tensor(n, dtype)
    n = ew.where(ew.isfinite(n), ew.apply("trunc", n), -1.0)
    shape = broadcast_shapes(x.shape, n.shape)
    return x.expand(shape), n.expand(shape)


def _ones(n: Tensor) -> Tensor:
    return ew.add(ew.mul(n, 0.0), 1.0)  # n is finite here


def _even(n: Tensor) -> Tensor:
    return ew.apply("eq", ew.fmod(n, 2.0), 0.0)


def _run_recurrence(n: Tensor, needed: Tensor, values: dict, step) -> Tensor:
    """The value at degree n of a three-term recurrence: `values` holds degrees 0 and 1,
    step(k, value at k - 2, value at k - 1) gives degree k; run up to the largest n
    where `needed`."""
    result = ew.where(ew.apply("eq", n, 0.0), values[0], 0.0)
    result = ew.where(ew.apply("eq", n, 1.0), values[1], result)
    largest = reductions.amax(ew.where(needed, n, 0.0)).item() if n.numel() else 0.0
    previous, current = values[0], values[1]
    for degree in range(2, int(largest) + 1):
        previous, current = current, step(degree, previous, current)
        result = ew.where(ew.apply("eq", n, float(degree)), current, result)
    return result


def _in_float64(t: Tensor) -> Tensor:
    return ew.cast_if(t, dtypes.float64)


def _chebyshev(name: str, x, n, kind: str, shifted: bool) -> Tensor:
    x, n = _operands(name, x, n)
    dtype = x.dtype
    y = ew.sub(ew.add(x, x), 1.0) if shifted else x  # shifted: the argument is 2x - 1
    two_y = ew.add(y, y)
    start = {"t": y, "u": two_y, "v": ew.sub(two_y, 1.0), "w": ew.add(two_y, 1.0)}[kind]
    one = _ones(n)
    if shifted:
        lower, upper = ew.apply("eq", x, 0.0), ew.apply("eq", x, 1.0)
    else:
        lower = ew.apply("eq", x, -1.0)
        upper = ew.apply("eq", x, 1.0)
    threshold = {"t": 6, "u": 8, "v": 8, "w": 8}[kind] if not shifted else (
        4 if kind == "w" else 6)
    closed_form = ew.logical_and(ew.apply("gt", n, float(threshold)),
                                 ew.apply("lt", ew.apply("abs", y), 1.0))
    recurrent = ew.logical_not(ew.logical_or(closed_form, ew.logical_or(lower, upper)))
    value = _run_recurrence(n, ew.logical_and(recurrent, ew.apply("ge", n, 0.0)),
                            {0: one, 1: start},
                            lambda k, p, q: ew.sub(ew.mul(two_y, q), p))
    value = ew.where(closed_form, ew.cast_if(_chebyshev_closed_form(y, n, kind), dtype), value)
    odd_sign = ew.where(_even(n), 1.0, -1.0)
    n_plus_1, two_n_plus_1 = ew.add(n, 1.0), ew.add(ew.add(n, n), 1.0)
    # values at y = 1 (upper) and y = -1 (lower)
    at_upper = {"t": one, "u": n_plus_1, "v": one, "w": two_n_plus_1}[kind]
    at_lower = {"t": odd_sign, "u": ew.mul(n_plus_1, odd_sign),
                "v": ew.mul(two_n_plus_1, odd_sign), "w": odd_sign}[kind]
    value = ew.where(lower, ew.cast_if(at_lower, dtype), value)
    value = ew.where(upper, ew.cast_if(at_upper, dtype), value)
    return ew.where(ew.apply("lt", n, 0.0), 0.0, value)


def _chebyshev_closed_form(y: Tensor, n: Tensor, kind: str) -> Tensor:
    """T: cos(n t); U: sin((n+1) t) / sin t; V: cos((n+1/2) t) / cos(t/2);
    W: sin((n+1/2) t) / sin(t/2), t = acos y (float64), with PyTorch's fallbacks where
    the divisor vanishes."""
    y, n = _in_float64(y), _in_float64(n)
    angle = ew.apply("acos", ew.where(ew.apply("lt", ew.apply("abs", y), 1.0), y, 0.0))
    if kind == "t":
        return ew.apply("cos", ew.mul(n, angle))
    if kind == "u":
        divisor = ew.apply("sin", angle)
        n_plus_1 = ew.add(n, 1.0)
        fallback = ew.div(ew.mul(n_plus_1, ew.apply("cos", ew.mul(n_plus_1, angle))), y)
        safe = ew.where(ew.apply("ne", divisor, 0.0), divisor, 1.0)
        return ew.where(ew.apply("ne", divisor, 0.0),
                        ew.div(ew.apply("sin", ew.mul(n_plus_1, angle)), safe), fallback)
    half = ew.mul(angle, 0.5)
    n_half = ew.mul(ew.add(n, 0.5), angle)
    signed = ew.mul(ew.add(ew.add(n, n), 1.0), ew.where(_even(n), 1.0, -1.0))
    if kind == "v":
        degenerate = ew.apply("eq", ew.apply("sin", half), 1.0)
        divisor = ew.where(degenerate, 1.0, ew.apply("cos", half))
        return ew.where(degenerate, signed, ew.div(ew.apply("cos", n_half), divisor))
    degenerate = ew.apply("eq", ew.apply("cos", half), 1.0)
    divisor = ew.where(degenerate, 1.0, ew.apply("sin", half))
    fallback = ew.where(ew.apply("gt", y, 0.0), ew.add(ew.add(n, n), 1.0),
                        ew.where(_even(n), 1.0, -1.0))
    return ew.where(degenerate, fallback, ew.div(ew.apply("sin", n_half), divisor))


def chebyshev_polynomial_t(input, n) -> Tensor:
    return _chebyshev("chebyshev_polynomial_t", input, n, "t", shifted=False)


def chebyshev_polynomial_u(input, n) -> Tensor:
    return _chebyshev("chebyshev_polynomial_u", input, n, "u", shifted=False)


def chebyshev_polynomial_v(input, n) -> Tensor:
    return _chebyshev("chebyshev_polynomial_v", input, n, "v", shifted=False)


def chebyshev_polynomial_w(input, n) -> Tensor:
    return _chebyshev("chebyshev_polynomial_w", input, n, "w", shifted=False)


def shifted_chebyshev_polynomial_t(input, n) -> Tensor:
    return _chebyshev("shifted_chebyshev_polynomial_t", input, n, "t", shifted=True)


def shifted_chebyshev_polynomial_u(input, n) -> Tensor:
    return _chebyshev("shifted_chebyshev_polynomial_u", input, n, "u", shifted=True)


def shifted_chebyshev_polynomial_v(input, n) -> Tensor:
    return _chebyshev("shifted_chebyshev_polynomial_v", input, n, "v", shifted=True)


def shifted_chebyshev_polynomial_w(input, n) -> Tensor:
    return _chebyshev("shifted_chebyshev_polynomial_w", input, n, "w", shifted=True)


def _hermite(name: str, x, n, physicists: bool) -> Tensor:
    x, n = _operands(name, x, n)
    one = _ones(n)
    limit = _HERMITE_LIMIT.get(x.dtype.name, 1024)
    too_high = ew.apply("gt", n, float(limit))
    if physicists:  # H_(k+1) = 2x H_k - 2k H_(k-1)
        two_x = ew.add(x, x)
        value = _run_recurrence(n, ew.logical_not(too_high), {0: one, 1: two_x},
                                lambda k, p, q: ew.sub(ew.mul(two_x, q), ew.mul(p, 2.0 * (k - 1))))
    else:  # He_(k+1) = x He_k - k He_(k-1)
        value = _run_recurrence(n, ew.logical_not(too_high), {0: one, 1: x},
                                lambda k, p, q: ew.sub(ew.mul(x, q), ew.mul(p, float(k - 1))))
    value = ew.where(too_high, math.nan, value)
    return ew.where(ew.apply("lt", n, 0.0), 0.0, value)


def hermite_polynomial_h(input, n) -> Tensor:
    return _hermite("hermite_polynomial_h", input, n, physicists=True)


def hermite_polynomial_he(input, n) -> Tensor:
    return _hermite("hermite_polynomial_he", input, n, physicists=False)


def laguerre_polynomial_l(input, n) -> Tensor:
    """L_(k+1) = ((2k + 1 - x) L_k - k L_(k-1)) / (k + 1); 1 at x = 0."""
    x, n = _operands("laguerre_polynomial_l", x=input, n=n)
    one = _ones(n)
    one_minus_x = ew.sub(1.0, x)
    value = _run_recurrence(
        n, ew.apply("ne", x, 0.0), {0: one, 1: one_minus_x},
        lambda k, p, q: ew.div(ew.sub(ew.mul(ew.add(one_minus_x, 2.0 * (k - 1)), q),
                                      ew.mul(p, float(k - 1))), float(k)))
    value = ew.where(ew.apply("eq", x, 0.0), 1.0, value)
    return ew.where(ew.apply("lt", n, 0.0), 0.0, value)


def legendre_polynomial_p(input, n) -> Tensor:
    """P_(k+1) = ((2k + 1) x P_k - k P_(k-1)) / (k + 1); +-1 at |x| = 1."""
    x, n = _operands("legendre_polynomial_p", input, n)
    one = _ones(n)
    end = ew.apply("eq", ew.apply("abs", x), 1.0)
    value = _run_recurrence(
        n, ew.logical_not(end), {0: one, 1: x},
        lambda k, p, q: ew.div(ew.sub(ew.mul(ew.mul(x, float(2 * k - 1)), q),
                                      ew.mul(p, float(k - 1))), float(k)))
    at_end = ew.where(ew.logical_or(ew.apply("gt", x, 0.0), _even(n)), 1.0, -1.0)
    value = ew.where(end, ew.cast_if(at_end, x.dtype), value)
    return ew.where(ew.apply("lt", n, 0.0), 0.0, value)
