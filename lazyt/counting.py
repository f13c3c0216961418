"""Searching, counting and sampling: searchsorted/bucketize, unique and
unique_consecutive, bincount, histc, cummax/cummin, multinomial, nonzero_static.

searchsorted runs PyTorch's binary search on all values at once, as
log2(n) steps of gathers and compares (no data-dependent sizes). The others have output
sizes that depend on the data (unique's groups, bincount's largest value,
histc's data range), so they realise their input, as `nonzero` does, read
those few scalars, and then compute the result with lazyt kernels: sorting
through the declared sort extern (lazyt/linalg.py), group starts through the
nonzero kernel, counts through the scatter kernel (indexing.scatter_kernel).
"""

from __future__ import annotations

import numpy as np

from lazyt import creation, dtypes, indexing, linalg, reductions, return_types, shape_ops
from lazyt import elementwise as ew
from lazyt.autograd import grad_mode
from lazyt.ir.node import make_node
from lazyt.ir.view import prod
from lazyt.tensor import Tensor, normalize_dim

_TORCH_TYPE = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
               "uint8": "Byte", "bool": "Bool", "float32": "Float", "float64": "Double",
               "float16": "Half", "bfloat16": "BFloat16"}


def _type_name(dtype) -> str:
    return _TORCH_TYPE.get(dtype.name, dtype.name)


# ------------------------------------------------------------------ searchsorted
def searchsorted(sorted_sequence: Tensor, input, *, out_int32: bool = False, right: bool = False,
                 side: str | None = None, sorter: Tensor | None = None) -> Tensor:
    """Index of each value of input within sorted_sequence's last dim (lower bound,
    or upper bound with right=True / side='right'); NaN sorts last, as in PyTorch."""
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got "
                               f"{side}")
        if side == "left" and right:
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, "
                               "got side of left while right was True")
        right = side == "right"
    if sorted_sequence.ndim == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should have positive "
                           "dimension, but got 0 dimension")
    scalar = not isinstance(input, Tensor)
    values = creation.tensor(input, dtype=sorted_sequence.dtype) if scalar else input
    if sorted_sequence.ndim > 1 and (scalar or tuple(sorted_sequence.shape[:-1])
                                     != tuple(values.shape[:-1])):
        raise RuntimeError(
            "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
            "dimensions of boundaries tensor and input value tensor must match, but we got "
            f"boundaries tensor {list(sorted_sequence.shape)} and input value tensor "
            f"{list(values.shape)}")
    if sorter is not None:
        if sorter.dtype is not dtypes.int64:
            raise RuntimeError(f"torch.searchsorted(): sorter must be a tensor of long dtype but "
                               f"got dtype {_type_name(sorter.dtype)}")
        if tuple(sorter.shape) != tuple(sorted_sequence.shape):
            raise RuntimeError(
                f"torch.searchsorted(): boundary and sorter must have the same size, but got "
                f"boundary tensor {list(sorted_sequence.shape)}and got sorter tensor "
                f"{list(sorter.shape)}")
        sorted_sequence = indexing.gather(sorted_sequence, -1, sorter)
    out_dtype = dtypes.int32 if out_int32 else dtypes.int64
    with grad_mode.no_grad():
        return ew.cast(_binary_search(sorted_sequence, values, right), out_dtype)


def _binary_search(boundaries: Tensor, values: Tensor, right: bool) -> Tensor:
    """PyTorch's binary search, run on every value at once: a fixed number of
    halving steps of gathers and compares (lazyt kernels, fused when deferred).
    Taking the same steps gives the same answer as PyTorch even where the
    boundaries are not quite sorted (NaN at the end, ties)."""
    size = boundaries.shape[-1]
    low = creation.zeros(tuple(values.shape), dtype=dtypes.int64)
    high = creation.full(tuple(values.shape), size, dtype=dtypes.int64)
    for _ in range(size.bit_length()):
        searching = ew.apply("lt", low, high)
        middle = ew.add(low, ew.floor_divide(ew.sub(high, low), 2))
        probe = ew.apply("minimum", middle, creation.full((), max(size - 1, 0),
                                                          dtype=dtypes.int64))
        if boundaries.ndim == 1:
            bound = indexing.getitem(boundaries, probe)
        else:
            bound = indexing.gather(boundaries, -1, probe)
        # Move right while !(bound >= value) (!(bound > value) for right=True).
        go_right = ew.logical_not(ew.apply("gt" if right else "ge", bound, values))
        low = ew.where(ew.logical_and(searching, go_right), ew.add(middle, 1), low)
        high = ew.where(ew.logical_and(searching, ew.logical_not(go_right)), middle, high)
    return low


def bucketize(input, boundaries: Tensor, *, out_int32: bool = False,
              right: bool = False) -> Tensor:
    """The bucket of each value of input among 1-d boundaries (searchsorted's index)."""
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


# ------------------------------------------------------------------ unique
def _group_starts(is_new: Tensor) -> Tensor:
    """int64 positions where is_new (1-d bool) is True: the first row of each group."""
    return indexing.nonzero(is_new).reshape(-1)


def _groups(rows: Tensor, order: Tensor | None, return_inverse: bool,
            return_counts: bool):
    """Unique consecutive rows of `rows` (n, m) (already in order; `order`, if
    given, maps each position back to its original row): (first row index of
    each group, inverse per original row, count per group)."""
    n = rows.shape[0]
    if n == 0:
        empty = creation.zeros(0, dtype=dtypes.int64)
        return empty, empty, empty
    with grad_mode.no_grad():
        differs = ew.apply("ne", rows.narrow(0, 1, n - 1), rows.narrow(0, 0, n - 1))
        if rows.ndim > 1:
            differs = reductions.any_(differs, 1)
        is_new = shape_ops.cat([creation.ones(1, dtype=dtypes.bool_), differs])
        starts = _group_starts(is_new)
        counts = inverse = None
        if return_counts:
            ends = shape_ops.cat([starts, creation.full((1,), n, dtype=dtypes.int64)])
            counts = ew.sub(ends.narrow(0, 1, starts.shape[0]), starts)
        if return_inverse:
            group = ew.sub(reductions.cumsum(is_new, 0), 1)
            if order is not None:
                inverse = creation.zeros(n, dtype=dtypes.int64)
                indexing.scatter_kernel(inverse, 0, order, group, None)
            else:
                inverse = group
    return starts, inverse, counts


def _lexicographic_order(rows: Tensor) -> Tensor:
    """A stable order of the rows of a 2-d tensor, lexicographically: one stable
    sort (the sort extern) per column, last column first."""
    order = creation.arange(rows.shape[0])
    for column in reversed(range(rows.shape[1])):
        keys = indexing.index_select(rows.select(1, column), 0, order)
        order = indexing.index_select(order, 0, linalg.argsort(keys, stable=True))
    return order


def _unique_result(values, inverse, counts, return_inverse: bool, return_counts: bool):
    if return_inverse and return_counts:
        return values, inverse, counts
    if return_inverse:
        return values, inverse
    if return_counts:
        return values, counts
    return values


def _unique(input: Tensor, consecutive: bool, return_inverse: bool, return_counts: bool,
            dim: int | None):
    if dim is None:
        flat = input.reshape(-1)
        order = None
        if not consecutive and flat.numel():
            flat, order = linalg.sort(flat, stable=True)
        starts, inverse, counts = _groups(flat, order, return_inverse, return_counts)
        values = indexing.index_select(flat, 0, starts) if flat.numel() else ew.clone(flat)
        if inverse is not None:
            inverse = inverse.reshape(input.shape)
        return _unique_result(values, inverse, counts, return_inverse, return_counts)
    dim = normalize_dim(dim, input.ndim)
    if any(size == 0 for d, size in enumerate(input.shape) if d != dim):
        raise RuntimeError("There are 0 sized dimensions, and they aren't selected, so unique "
                           "cannot be applied")
    moved = input.movedim(dim, 0)
    rows = moved.reshape(moved.shape[0], prod(moved.shape[1:]))
    order = None
    if not consecutive and rows.shape[0]:
        order = _lexicographic_order(rows)
        rows = indexing.index_select(rows, 0, order)
    starts, inverse, counts = _groups(rows, order, return_inverse, return_counts)
    picked = indexing.index_select(rows, 0, starts) if rows.shape[0] else rows
    values = picked.reshape(starts.shape[0], *moved.shape[1:]).movedim(0, dim)
    values = ew.clone(values).contiguous()
    return _unique_result(values, inverse, counts, return_inverse, return_counts)


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim: int | None = None):
    """The distinct values (or slices along dim) of input in ascending order, with
    the inverse indices and counts on request. Like PyTorch on the CPU, the
    result is sorted whether or not sorted=True."""
    return _unique(input, False, return_inverse, return_counts, dim)


def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim: int | None = None):
    """Collapse runs of equal consecutive values (or slices along dim)."""
    return _unique(input, True, return_inverse, return_counts, dim)


# ------------------------------------------------------------------ bincount, histc
def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """Occurrences (or summed weights) of each value 0..max(input) of a 1-d int tensor."""
    if input.dtype.kind not in "iu" or input.dtype is dtypes.bool_:
        raise NotImplementedError(f"\"bincount_cpu\" not implemented for "
                                  f"'{_type_name(input.dtype)}'")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if input.ndim != 1:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is not None and (weights.ndim != 1 or weights.shape[0] != input.shape[0]):
        raise RuntimeError("weights should be 1-d and have the same length as input")
    size = minlength
    if input.numel():
        low, high = reductions.aminmax(input)
        if int(low.item()) < 0:
            raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
        size = max(size, int(high.item()) + 1)
    if weights is None:
        dtype = dtypes.int64
    else:
        dtype = weights.dtype if weights.dtype.kind == "f" else dtypes.float64
    out = creation.zeros(size, dtype=dtype)
    if input.numel():
        with grad_mode.no_grad():
            indexing.scatter_kernel(out, 0, input.to(dtypes.int64),
                                    1 if weights is None else weights.to(dtype), "add")
    return out


def _format_bound(value: float) -> str:
    """A float as C++'s stream prints it in PyTorch's messages (1, 2.5, inf, -nan)."""
    if value != value:
        return "-nan"
    return f"{value:g}"


def histc(input: Tensor, bins: int = 100, min=0, max=0) -> Tensor:  # noqa: A002
    """A histogram of bins equal-width bins over [min, max] (the data's range when
    min == max); values outside the range and NaN are not counted."""
    if input.dtype.kind != "f":
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for "
                                  f"'{_type_name(input.dtype)}'")
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    low, high = float(min), float(max)
    if low > high:
        raise RuntimeError("torch.histc: max must be larger than min")
    if low == high and input.numel():
        data_low, data_high = reductions.aminmax(input)
        low, high = float(data_low.item()), float(data_high.item())
    if low == high:
        low, high = low - 1, high + 1
    if not (np.isfinite(low) and np.isfinite(high)):
        raise RuntimeError(f"torch.histc: range of [{_format_bound(low)}, "
                           f"{_format_bound(high)}] is not finite")
    dtype = input.dtype
    # The bin edges are input.dtype values, and PyTorch computes the bin in that type.
    left = float(np.asarray(low, dtype=dtype.numpy_storage))
    width = float(np.asarray(high, dtype=dtype.numpy_storage) - np.asarray(low, dtype=dtype.numpy_storage))
    out = creation.zeros(bins + 1, dtype=dtype)  # the last bin collects what is not counted
    if input.numel():
        with grad_mode.no_grad():
            x = input.reshape(-1)
            inside = ew.logical_and(ew.apply("ge", x, left), ew.apply("le", x, high))
            position = ew.div(ew.mul(ew.sub(x, left), float(bins)), width)
            bin_index = ew.apply("minimum", ew.cast(ew.where(inside, position, float(bins)), dtypes.int64),
                                   creation.full((), bins - 1, dtype=dtypes.int64))
            bin_index = ew.where(inside, bin_index, bins)
            indexing.scatter_kernel(out, 0, bin_index, 1, "add")
    return ew.clone(out.narrow(0, 0, bins))


# ------------------------------------------------------------------ running extrema
_cummax_result = return_types.cummax
_cummin_result = return_types.cummin


def _running_extreme(input: Tensor, dim: int, op: str, result):
    dim = normalize_dim(dim, input.ndim)
    if input.ndim == 0:
        return result(ew.clone(input), creation.zeros((), dtype=dtypes.int64))
    if input.numel() == 0:
        return result(ew.clone(input), creation.zeros(tuple(input.shape), dtype=dtypes.int64))
    with grad_mode.no_grad():
        running = Tensor._from_node(make_node("scan", input.dtype, input._shape,
                                              (input._load(),), (op, (dim,))))
        # The index of the running extreme is the last position that equals it
        # (PyTorch's ties rule); a NaN is its own extreme from where it appears.
        reached = ew.apply("eq", input, running)
        if input.dtype.kind == "f":
            reached = ew.logical_or(reached, ew.isnan(input))
        shape = [1] * input.ndim
        shape[dim] = input.shape[dim]
        positions = creation.arange(input.shape[dim]).reshape(shape)
        candidates = ew.where(reached, positions, 0)
        indices = Tensor._from_node(make_node("scan", dtypes.int64, candidates._shape,
                                              (candidates._load(),), ("max", (dim,))))
    return result(indexing.gather(input, dim, indices), indices)


def cummax(input: Tensor, dim: int):
    """Running maximum along dim and the index where each was reached."""
    return _running_extreme(input, dim, "max", _cummax_result)


def cummin(input: Tensor, dim: int):
    """Running minimum along dim and the index where each was reached."""
    return _running_extreme(input, dim, "min", _cummin_result)


# ------------------------------------------------------------------ multinomial
def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator=None) -> Tensor:
    """Category indices drawn from each row of (unnormalised) probabilities, with
    the default (or given) lazyt Generator: the same seed gives the same draws."""
    if input.dtype.kind != "f":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{_type_name(input.dtype)}")
    if input.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    categories = input.shape[-1]
    if categories > 2 ** 24:
        raise RuntimeError("number of categories cannot exceed 2^24")
    if not replacement and num_samples > categories:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    probs = input if input.ndim == 2 else input.unsqueeze(0)
    rows = probs.shape[0]
    with grad_mode.no_grad():
        if probs.numel():  # PyTorch reads the probabilities to check them, so do we
            below = ew.logical_or(ew.apply("lt", probs, 0), ew.isnan(probs))
            infinite = ew.apply("isinf", probs)
            if not replacement:  # (PyTorch's two code paths word it differently)
                if bool(reductions.any_(ew.logical_or(below, infinite)).item()):
                    raise RuntimeError("probability tensor contains either `inf`, `nan` or "
                                       "element < 0")
            elif bool(reductions.any_(below).item()):
                raise RuntimeError("invalid multinomial distribution (encountering probability "
                                   "entry < 0)")
            elif bool(reductions.any_(infinite).item()):
                raise RuntimeError("invalid multinomial distribution (encountering probability "
                                   "entry = infinity or NaN)")
            if bool(reductions.any_(ew.apply("le", reductions.sum(probs, -1), 0)).item()):
                raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        draws = creation._random((rows, num_samples), "uniform", dtypes.float64, generator)
        weights = ew.cast(probs, dtypes.float64)
        if replacement:
            # Inverse CDF: the number of categories whose cumulative weight is <= u * total.
            cdf = reductions.cumsum(weights, -1)
            target = ew.mul(draws, cdf.narrow(-1, categories - 1, 1))
            below = ew.apply("le", cdf.unsqueeze(1), target.unsqueeze(-1))
            picked = reductions.sum(below, -1)
            picked = ew.apply("minimum", picked, creation.full((), categories - 1, dtype=dtypes.int64))
        else:
            # Exponential races (PyTorch's own method): the k smallest E_i / p_i win.
            # Zero-probability categories are only picked once all others are.
            exponential = creation._random((rows, categories), "uniform", dtypes.float64,
                                           generator)
            exponential = ew.neg(ew.apply("log1p", ew.neg(exponential)))
            keys = ew.div(weights, exponential)
            keys = ew.where(ew.apply("gt", weights, 0), keys, -1.0)
            picked = linalg.topk(keys, num_samples, -1).indices
    return picked if input.ndim == 2 else picked.reshape(num_samples)


# ------------------------------------------------------------------ nonzero_static
def nonzero_static(input: Tensor, *, size: int, fill_value: int = -1) -> Tensor:
    """nonzero's (n, ndim) coordinates cut or padded with fill_value to `size` rows."""
    if size < 0:
        raise RuntimeError("nonzero_static: 'size' must be an non-negative integer")
    coords = indexing.nonzero(input)
    count = coords.shape[0]
    if count >= size:
        return ew.clone(coords.narrow(0, 0, size))
    padding = creation.full((size - count, input.ndim), fill_value, dtype=dtypes.int64)
    return shape_ops.cat([coords, padding], 0)


FUNCTIONS = {
    "searchsorted": searchsorted, "bucketize": bucketize, "unique": unique,
    "unique_consecutive": unique_consecutive, "bincount": bincount, "histc": histc,
    "cummax": cummax, "cummin": cummin, "multinomial": multinomial,
    "nonzero_static": nonzero_static,
}
TENSOR_METHODS = {
    "unique": unique, "unique_consecutive": unique_consecutive, "bincount": bincount,
    "histc": histc, "cummax": cummax, "cummin": cummin, "multinomial": multinomial,
    "nonzero_static": nonzero_static,
}
