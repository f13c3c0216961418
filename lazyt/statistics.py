"""Statistics over tensors: order statistics (mode, msort, nanmedian, quantile,
nanquantile), covariance (cov, corrcoef), distances and norms (dist, renorm),
and numerical calculus (trapezoid, trapz, cumulative_trapezoid, gradient).

Frontend layer beside lazyt/reductions.py: every function here is a
composition of lazyt ops (order statistics read the sort extern's result
through gather), so gradients come from the ops' own rules and deferred mode
fuses them like any other graph. lazyt/__init__.py publishes FUNCTIONS and
lazyt/methods.py binds TENSOR_METHODS.
"""

from __future__ import annotations

import warnings
from numbers import Number

from lazyt import (
    counting,
    creation,
    dtypes,
    linalg,
    linalg_norms,
    reductions,
    return_types,
    shape_ops,
)
from lazyt import elementwise as ew
from lazyt.tensor import Tensor, normalize_dim

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _torch_name(dtype) -> str:
    return ew.TORCH_NAMES.get(dtype.name, dtype.name)


def _zero_index(shape) -> Tensor:
    return creation.zeros(tuple(shape), dtype=dtypes.int64)


# ---- order statistics -------------------------------------------------------------------------

def mode(input: Tensor, dim: int = -1, keepdim: bool = False):
    """The most frequent value along dim (the smallest of equally frequent ones) and an
    index where it occurs."""
    result = return_types.mode
    if input.ndim == 0:
        return result(ew.clone(input), _zero_index(()))
    dim = normalize_dim(dim, input.ndim)
    if input.shape[dim] == 0:
        raise IndexError(f"mode(): Expected reduction dim {dim} to have non-zero size.")
    values, order = linalg.sort(input, dim)
    # How often each sorted value occurs in its row: the first maximum is the
    # smallest of the most frequent values (the rows are ascending).
    rows = values.movedim(dim, -1).contiguous()
    if rows.dtype is dtypes.bool_:
        rows = ew.cast(rows, dtypes.uint8)
    # Each sorted value's run length: its upper bound minus its lower bound (n log n).
    counts = ew.sub(counting.searchsorted(rows, rows, right=True),
                    counting.searchsorted(rows, rows))
    first = reductions.argmax(counts, -1, keepdim=True)
    # The index at the end of the run: the last occurrence (the sort is stable), which is
    # PyTorch's choice too where its own sort is stable (short rows).
    last = ew.sub(ew.add(first, counts.gather(-1, first)), 1).movedim(-1, dim)
    index = order.gather(dim, last)
    value = input.gather(dim, index)
    if not keepdim:
        value, index = value.squeeze(dim), index.squeeze(dim)
    return result(value, index)


def msort(input: Tensor) -> Tensor:
    """input sorted along its first dimension."""
    if input.ndim == 0:
        return ew.clone(input)
    return linalg.sort(input, 0).values


def _valid_counts(sorted_rows: Tensor) -> Tensor:
    """Non-NaN elements per row (NaNs sort last), keeping the reduced dim (x == x is
    False only for NaN)."""
    return reductions.sum(ew.apply("eq", sorted_rows, sorted_rows), -1,
                          keepdim=True)


def nanmedian(input: Tensor, dim=None, keepdim: bool = False):
    """The lower median of the non-NaN values (NaN where a row is all NaN)."""
    if dim is None:
        flat = input.reshape(-1)
        if flat.numel() == 0:
            return creation.full((), float("nan"), dtype=input.dtype)
        values = linalg.sort(flat).values
        k = ew.clamp_min(ew.floor_divide(ew.sub(_valid_counts(values), 1), 2), 0)
        return values.gather(0, k).reshape(())
    result = return_types.nanmedian
    if input.ndim == 0:
        normalize_dim(dim, 1)
        return result(ew.clone(input), _zero_index(()))
    dim = normalize_dim(dim, input.ndim)
    if input.shape[dim] == 0:
        raise IndexError(f"nanmedian(): Expected reduction dim {dim} to have non-zero size.")
    values, order = linalg.sort(input.movedim(dim, -1), -1)
    k = ew.clamp_min(ew.floor_divide(ew.sub(_valid_counts(values), 1), 2), 0)
    index = order.gather(-1, k).movedim(-1, dim)
    value = input.gather(dim, index)
    if not keepdim:
        value, index = value.squeeze(dim), index.squeeze(dim)
    return result(value, index)


def _quantile(name: str, input: Tensor, q, dim, keepdim: bool, interpolation: str,
              ignore_nan: bool) -> Tensor:
    """PyTorch's quantile: sort, a fractional rank per q, and interpolate between the
    values below and above it."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    if input.numel() == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    if input.dtype not in (dtypes.float32, dtypes.float64):
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest. Got {interpolation}")
    if isinstance(q, Tensor):
        if q.ndim > 1:
            raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
        if q.dtype is not input.dtype:
            raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
        q_scalar = q.ndim == 0
        if q.numel() and not bool(ew.logical_and(ew.apply("ge", q, 0), ew.apply("le", q, 1)).all()):
            raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
        q_values = q.reshape(-1)
    else:
        if not 0 <= float(q) <= 1:
            raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {float(q)}")
        q_scalar = True
        q_values = creation.tensor([float(q)], dtype=input.dtype)
    if dim is None:
        rows = input.reshape(-1)
        out_shape = [1] * input.ndim if keepdim else []
    else:
        dim = normalize_dim(dim, input.ndim)
        rows = input.movedim(dim, -1) if input.ndim else input.reshape(1)
        out_shape = list(input.shape)
        if input.ndim:
            if keepdim:
                out_shape[dim] = 1
            else:
                out_shape.pop(dim)
    ordered = linalg.sort(rows, -1).values
    n = ordered.shape[-1]
    lead = tuple(ordered.shape[:-1])
    with_q = lead + (q_values.numel(),)
    if ignore_nan:
        counts = ew.cast(_valid_counts(ordered), input.dtype)
        ranks = ew.mul(q_values, ew.sub(counts, 1))
        ranks = ew.where(ew.apply("lt", ranks, 0), 0.0, ranks)
    else:
        has_nan = reductions.any_(ew.apply("isnan", ordered), -1, keepdim=True)
        ranks = ew.where(has_nan, float(n - 1), ew.mul(q_values, float(n - 1)))
    ranks = ranks.expand(with_q)
    if interpolation == "lower":
        ranks = ew.apply("floor", ranks)
    elif interpolation == "higher":
        ranks = ew.apply("ceil", ranks)
    elif interpolation == "nearest":
        ranks = ew.apply("round", ranks)
    below_index = ew.cast(ranks, dtypes.int64)
    values = ordered.gather(-1, below_index)
    if interpolation in ("linear", "midpoint"):
        weights = creation.full_like(ranks, 0.5) if interpolation == "midpoint" else \
            ew.sub(ranks, below_index)
        above = ordered.gather(-1, ew.cast(ew.apply("ceil", ranks), dtypes.int64))
        values = ew.lerp(values, above, weights)
    # (*lead, Q) -> (Q, *out_shape), or out_shape for a scalar q.
    values = values.movedim(-1, 0).reshape([q_values.numel()] + out_shape)
    return values.squeeze(0) if q_scalar else values


def quantile(input: Tensor, q, dim=None, keepdim: bool = False, *,
             interpolation: str = "linear") -> Tensor:
    """The q-th quantiles of input along dim (of all elements when dim is None)."""
    return _quantile("quantile", input, q, dim, keepdim, interpolation, ignore_nan=False)


def nanquantile(input: Tensor, q, dim=None, keepdim: bool = False, *,
                interpolation: str = "linear") -> Tensor:
    """quantile ignoring NaNs (NaN where a row is all NaN)."""
    return _quantile("nanquantile", input, q, dim, keepdim, interpolation, ignore_nan=True)


# ---- covariance -------------------------------------------------------------------------------

def _check_weights(name: str, w: Tensor, observations: int, integral: bool) -> None:
    if w.ndim > 1:
        raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got "
                           f"{name} with {w.ndim} dimensions")
    if integral and (w.dtype.kind not in "iu"):
        raise RuntimeError(f"cov(): expected fweights to have integral dtype but got fweights "
                           f"with {w.dtype.name.capitalize()} dtype")
    if not integral and w.dtype.kind != "f":
        raise RuntimeError(f"cov(): expected aweights to have floating point dtype but got "
                           f"aweights with {w.dtype.name.capitalize()} dtype")
    if w.numel() != observations:
        raise RuntimeError(f"cov(): expected {name} to have the same numel as there are "
                           f"observations in the input but got {w.numel()} != {observations}")
    if observations and bool(ew.apply("lt", reductions.amin(w), 0)):
        raise RuntimeError(f"cov(): {name} cannot be negative")


def cov(input: Tensor, *, correction: int = 1, fweights: Tensor | None = None,
        aweights: Tensor | None = None) -> Tensor:
    """The covariance matrix of the variables in input's rows (observations in columns)."""
    if input.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an "
                           f"input with {input.ndim} dimensions")
    if input.dtype is dtypes.bool_:
        raise RuntimeError("cov(): bool dtype is not supported for input")
    rows = input.reshape(1, -1) if input.ndim < 2 else input
    observations = rows.shape[1]
    weights = None
    if fweights is not None:
        _check_weights("fweights", fweights, observations, integral=True)
        weights = fweights
    if aweights is not None:
        _check_weights("aweights", aweights, observations, integral=False)
        weights = aweights if weights is None else ew.mul(weights, aweights)
    if weights is None:
        weight_sum = creation.tensor(observations, dtype=dtypes.int64)
    else:
        weight_sum = reductions.sum(weights)
        if not bool(ew.apply("ne", weight_sum, 0)):
            raise RuntimeError("cov(): weights sum to zero, can't be normalized")
    weighted = rows if weights is None else ew.mul(rows, weights)
    average = ew.true_divide(reductions.sum(weighted, 1), weight_sum)
    if weights is not None and aweights is not None and correction != 0:
        norm_factor = ew.sub(weight_sum, ew.true_divide(
            ew.mul(reductions.sum(ew.mul(weights, aweights)), correction), weight_sum))
    else:
        norm_factor = ew.sub(weight_sum, correction)
    if bool(ew.apply("le", norm_factor, 0)):
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less "
                      "than the number of observations.", UserWarning, stacklevel=2)
        norm_factor = ew.mul(norm_factor, 0)
    centred = ew.sub(rows, average.unsqueeze(1))
    weighted_centred = centred if weights is None else ew.mul(centred, weights)
    products = linalg.matmul(centred, weighted_centred.t())
    return ew.true_divide(products, norm_factor).squeeze()


def corrcoef(input: Tensor) -> Tensor:
    """Pearson correlation coefficients of the variables in input's rows."""
    if input.ndim > 2:
        raise RuntimeError(f"corrcoef(): expected input to have two or fewer dimensions but got "
                           f"an input with {input.ndim} dimensions")
    c = cov(input)
    if c.ndim == 0:
        return ew.true_divide(c, c)
    stddev = ew.apply("sqrt", c.diagonal())
    c = ew.true_divide(c, stddev.reshape(-1, 1))
    c = ew.true_divide(c, stddev.reshape(1, -1))
    return ew.clamp(c, -1, 1)


# ---- distances and norms ----------------------------------------------------------------------

def dist(input: Tensor, other: Tensor, p=2) -> Tensor:
    """The p-norm of input - other (broadcast)."""
    if input.dtype.kind != "f" or other.dtype.kind != "f":
        bad = input if input.dtype.kind != "f" else other
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {_torch_name(bad.dtype)}")
    return linalg_norms.vector_norm(ew.sub(input, other), float(p))


def renorm(input: Tensor, p, dim: int, maxnorm) -> Tensor:
    """Each slice along dim scaled down to p-norm maxnorm where its norm exceeds it."""
    if isinstance(p, complex) or isinstance(maxnorm, complex):
        raise RuntimeError("renorm: p and maxnorm must be real numbers")
    if float(maxnorm) < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if float(p) <= 0:
        raise RuntimeError(f"renorm: expected p to be > 0 but got {p}")
    if input.dtype.kind != "f":
        raise RuntimeError(f"\"renorm_out\" not implemented for '{input.dtype.name.capitalize()}'")
    if input.ndim <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.ndim} "
                           "dimensions")
    dim = normalize_dim(dim, input.ndim)
    others = tuple(d for d in range(input.ndim) if d != dim)
    norms = linalg_norms.vector_norm(input, float(p), others, keepdim=True)
    factor = ew.where(ew.apply("gt", norms, maxnorm),
                      ew.true_divide(maxnorm, ew.add(norms, 1e-7)), 1.0)
    return ew.mul(input, factor)


def renorm_(self: Tensor, p, dim: int, maxnorm) -> Tensor:
    return ew.copy_(self, renorm(self, p, dim, maxnorm))


# ---- numerical integration and differentiation ------------------------------------------------

def _zeros_except(y: Tensor, dim: int) -> Tensor:
    shape = list(y.shape)
    shape.pop(dim)
    return creation.zeros(tuple(shape), dtype=y.dtype)


def _spacing_differences(y: Tensor, x: Tensor, dim: int, name: str) -> Tensor:
    """dx along dim for sample points x, broadcastable against y's differences."""
    if x.ndim == 1:
        if x.shape[0] != y.shape[dim]:
            raise RuntimeError(f"{name}: There must be one `x` value for each sample point")
        shape = [1] * y.ndim
        shape[dim] = x.shape[0]
        x = x.reshape(shape)
    elif x.ndim < y.ndim:
        x = x.reshape((1,) * (y.ndim - x.ndim) + tuple(x.shape))
    n = x.shape[dim]
    return ew.sub(x.narrow(dim, 1, max(n - 1, 0)), x.narrow(dim, 0, max(n - 1, 0)))


def _check_trapezoid_args(name: str, y: Tensor, x, dx) -> None:
    if not isinstance(y, Tensor):
        raise TypeError(f"{name}(): argument 'y' (position 1) must be Tensor, not "
                        f"{type(y).__name__}")
    if x is not None and dx is not None:
        raise TypeError(f"{name}() received an invalid combination of arguments: x and dx "
                        "cannot both be given")
    if y.dtype is dtypes.bool_ or (isinstance(x, Tensor) and x.dtype is dtypes.bool_):
        raise RuntimeError(f"{name}: received a bool input for `{'y' if y.dtype is dtypes.bool_ else 'x'}`"
                           ", but bool is not supported")
    if isinstance(dx, (bool, complex)):
        raise RuntimeError(f"{name}: Currently, we only support dx as a real number.")


def _neighbours(y: Tensor, dim: int) -> tuple[Tensor, Tensor]:
    n = y.shape[dim]
    return y.narrow(dim, 0, n - 1), y.narrow(dim, 1, n - 1)


def trapezoid(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """The trapezoidal rule along dim, at sample points x or with constant spacing dx."""
    _check_trapezoid_args("trapezoid", y, x, dx)
    dim = normalize_dim(dim, y.ndim)
    if y.shape[dim] == 0:
        return _zeros_except(y, dim)
    if isinstance(x, Tensor):
        left, right = _neighbours(y, dim)
        steps = _spacing_differences(y, x, dim, "trapezoid")
        return ew.true_divide(reductions.sum(ew.mul(steps, ew.add(right, left)), dim), 2.0)
    spacing = 1 if dx is None else (dx if x is None else x)
    ends = ew.add(y.select(dim, 0), y.select(dim, -1))
    return ew.mul(ew.sub(reductions.sum(y, dim), ew.mul(ends, 0.5)), float(spacing))


def trapz(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """trapezoid under its older name."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """The running trapezoidal integral along dim (one element shorter than y there)."""
    _check_trapezoid_args("cumulative_trapezoid", y, x, dx)
    dim = normalize_dim(dim, y.ndim)
    if y.shape[dim] == 0:
        return creation.zeros(tuple(y.shape), dtype=y.dtype)
    left, right = _neighbours(y, dim)
    if isinstance(x, Tensor):
        steps = _spacing_differences(y, x, dim, "cumulative_trapezoid")
        return ew.true_divide(reductions.cumsum(ew.mul(steps, ew.add(left, right)), dim), 2.0)
    spacing = 1 if dx is None else (dx if x is None else x)
    return reductions.cumsum(ew.mul(ew.add(left, right), float(spacing) / 2.0), dim)


def _gradient_dims(input: Tensor, dim) -> list[int]:
    if dim is None:
        return list(range(input.ndim))
    dims = [dim] if isinstance(dim, int) else list(dim)
    wrapped = [normalize_dim(d, input.ndim) for d in dims]
    if len(set(wrapped)) != len(wrapped):
        raise RuntimeError(f"dim {wrapped[0]} appears multiple times in the list of dims")
    return wrapped


def _with_edges(center: Tensor, first: Tensor, last: Tensor, dim: int) -> Tensor:
    return shape_ops.cat([first, center, last], dim)


def _gradient_uniform(input: Tensor, h, dim: int, edge_order: int) -> Tensor:
    n = input.shape[dim]

    def part(start, length):
        return input.narrow(dim, start, length)

    center = ew.true_divide(ew.true_divide(ew.sub(part(2, n - 2), part(0, n - 2)), h), 2)
    if edge_order == 1:
        first = ew.true_divide(ew.sub(part(1, 1), part(0, 1)), h)
        last = ew.true_divide(ew.sub(part(n - 1, 1), part(n - 2, 1)), h)
    else:
        first = ew.true_divide(ew.sub(ew.add(ew.mul(part(0, 1), -1.5), ew.mul(part(1, 1), 2.0)),
                                      ew.mul(part(2, 1), 0.5)), h)
        last = ew.true_divide(ew.add(ew.sub(ew.mul(part(n - 3, 1), 0.5), ew.mul(part(n - 2, 1), 2.0)),
                                     ew.mul(part(n - 1, 1), 1.5)), h)
    return _with_edges(center, first, last, dim)


def _gradient_coordinates(input: Tensor, coordinates: Tensor, dim: int, edge_order: int) -> Tensor:
    if coordinates.ndim != 1:
        raise RuntimeError(f"torch.gradient expected each element of spacing to have one "
                           f"dimension, but got an element with {coordinates.ndim} dimensions!")
    n = input.shape[dim]
    shape = [1] * input.ndim
    shape[dim] = -1
    steps = coordinates.diff(1, 0)
    dx1, dx2 = steps.narrow(0, 0, steps.shape[0] - 1), steps.narrow(0, 1, steps.shape[0] - 1)
    total = ew.add(dx1, dx2)
    a = ew.true_divide(ew.neg(dx2), ew.mul(dx1, total)).reshape(shape)
    b = ew.true_divide(ew.sub(dx2, dx1), ew.mul(dx1, dx2)).reshape(shape)
    c = ew.true_divide(dx1, ew.mul(dx2, total)).reshape(shape)

    def part(start, length):
        return input.narrow(dim, start, length)

    center = ew.add(ew.add(ew.mul(a, part(0, n - 2)), ew.mul(b, part(1, n - 2))),
                    ew.mul(c, part(2, n - 2)))
    h0, h1, hl, hm = steps[0], steps[1], steps[-1], steps[-2]
    if edge_order == 1:
        first = ew.true_divide(ew.sub(part(1, 1), part(0, 1)), h0)
        last = ew.true_divide(ew.sub(part(n - 1, 1), part(n - 2, 1)), hl)
    else:
        a = ew.true_divide(ew.neg(ew.add(ew.mul(h0, 2.0), h1)), ew.mul(h0, ew.add(h0, h1)))
        b = ew.true_divide(ew.add(h0, h1), ew.mul(h0, h1))
        c = ew.true_divide(ew.neg(h0), ew.mul(h1, ew.add(h0, h1)))
        first = ew.add(ew.add(ew.mul(a, part(0, 1)), ew.mul(b, part(1, 1))), ew.mul(c, part(2, 1)))
        a = ew.true_divide(hl, ew.mul(hm, ew.add(hl, hm)))
        b = ew.true_divide(ew.neg(ew.add(hl, hm)), ew.mul(hl, hm))
        c = ew.true_divide(ew.add(ew.mul(hl, 2), hm), ew.mul(hl, ew.add(hl, hm)))
        last = ew.add(ew.add(ew.mul(a, part(n - 3, 1)), ew.mul(b, part(n - 2, 1))),
                      ew.mul(c, part(n - 1, 1)))
    return _with_edges(center, first, last, dim)


def gradient(input: Tensor, *, spacing=1, dim=None, edge_order: int = 1) -> tuple[Tensor, ...]:
    """Estimates of input's derivative along each of dim by central differences (first- or
    second-order one-sided differences at the edges)."""
    if input.dtype is dtypes.uint8:
        raise RuntimeError("torch.gradient does not support uint8 input.")
    dims = _gradient_dims(input, dim)
    if spacing is None:
        spacing = 1
    spacings = list(spacing) if isinstance(spacing, (list, tuple)) else [spacing] * len(dims)
    if isinstance(spacing, (list, tuple)):
        if dim is None and len(spacings) != input.ndim:
            raise RuntimeError(
                f"torch.gradient expected spacing to be unspecified, a scalar, or a list of length "
                f"equal to 'self.dim() = {input.ndim}', since dim argument was not given, but got "
                f"a list of length {len(spacings)}")
        if dim is not None and len(spacings) != len(dims):
            raise RuntimeError(
                f"torch.gradient expected spacing to be unspecified, a scalar or it's spacing and "
                f"dim arguments to have the same length, but got a spacing argument of length "
                f"{len(spacings)} and a dim argument of length {len(dims)}.")
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    for d in dims:
        if input.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least "
                               "edge_order+1")
    results = []
    for d, h in zip(dims, spacings):
        if isinstance(h, Tensor) and h.ndim == 0:
            h = h.item()
        if isinstance(h, Tensor):
            results.append(_gradient_coordinates(input, h, d, edge_order))
        elif isinstance(h, Number):
            results.append(_gradient_uniform(input, h, d, edge_order))
        else:
            raise TypeError(f"gradient(): argument 'spacing' must be a number, a list of numbers "
                            f"or a list of tensors, not {type(h).__name__}")
    return tuple(results)


FUNCTIONS = {
    "mode": mode, "msort": msort, "nanmedian": nanmedian, "quantile": quantile,
    "nanquantile": nanquantile, "cov": cov, "corrcoef": corrcoef, "dist": dist,
    "renorm": renorm, "trapezoid": trapezoid, "trapz": trapz,
    "cumulative_trapezoid": cumulative_trapezoid, "gradient": gradient,
}
TENSOR_METHODS = {
    "mode": mode, "msort": msort, "nanmedian": nanmedian, "quantile": quantile,
    "nanquantile": nanquantile, "cov": cov, "corrcoef": corrcoef, "dist": dist,
    "renorm": renorm, "renorm_": renorm_,
}
