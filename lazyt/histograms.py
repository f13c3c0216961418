"""Histograms with bin edges: histogram (1-d, over all elements) and histogramdd
(points in the input's innermost dimension), with weights and densities.

Frontend layer beside lazyt/counting.py (whose histc has no edges): bin edges are
a linspace over the range (the data's min and max when no range is given) or the
caller's edge tensors; each point's bin is lazyt's searchsorted (upper bound, as
PyTorch's kernel; the last bin includes its right edge), points outside the edges
or NaN are dropped, and the counts are one scatter_add into the flattened
histogram. Follows aten/src/ATen/native/Histogram.cpp.
"""

from __future__ import annotations

import builtins
import math

from lazyt import counting, creation, dtypes, indexing, reductions, return_types
from lazyt import elementwise as ew
from lazyt.tensor import Tensor

histogram_result = return_types.histogram
histogramdd_result = return_types.histogramdd


def _torch_name(dtype) -> str:
    return ew.TORCH_NAMES.get(dtype.name, dtype.name)


def _outer_edges(points: Tensor, dims: int, range) -> list[tuple[float, float]]:  # noqa: A002
    """(leftmost, rightmost) edge per dimension: the range, or the data's min and max."""
    if range is not None:
        if len(range) != 2 * dims:
            raise RuntimeError(f"torch.histogramdd: for a {dims}-dimensional histogram, range "
                               f"should have {2 * dims} elements, but got {len(range)}")
        bounds = [(float(range[2 * d]), float(range[2 * d + 1])) for d in builtins.range(dims)]
    elif points.shape[0] > 0:
        lows = reductions.amin(points, 0).tolist()
        highs = reductions.amax(points, 0).tolist()
        bounds = list(zip(lows, highs))
    else:
        bounds = [(0.0, 1.0)] * dims
    checked = []
    for d, (low, high) in enumerate(bounds):
        if not (math.isfinite(low) and math.isfinite(high)):
            raise RuntimeError(f"torch.histogramdd: dimension {d}'s range [{_number(low)}, "
                               f"{_number(high)}] is not finite")
        if low > high:
            raise RuntimeError(f"torch.histogramdd: min should not exceed max, but got min "
                               f"{_number(low)} max {_number(high)} for dimension {d}")
        # An empty range is widened (numpy's rule; it also keeps densities finite).
        checked.append((low - 0.5, high + 0.5) if low == high else (low, high))
    return checked



def _number(value: float) -> str:
    """A double as C++ streams print it in PyTorch's messages (1, 2.5, inf)."""
    return str(int(value)) if math.isfinite(value) and value == int(value) else f"{value:g}"


def _bin_edges(name: str, points: Tensor, bins, range) -> list[Tensor]:  # noqa: A002
    """One edge tensor per dimension, after PyTorch's checks."""
    dims = points.shape[1]
    specs = list(bins) if isinstance(bins, (list, tuple)) else [bins] * dims
    if len(specs) != dims:
        raise RuntimeError("histogramdd: The size of bins must be equal to the innermost "
                           "dimension of the input.")
    if all(isinstance(spec, Tensor) for spec in specs):
        if range is not None:
            raise TypeError(f"{name}(): range cannot be given together with bin edge tensors")
        edges = []
        for d, spec in enumerate(specs):
            if spec.ndim != 1:
                raise RuntimeError(f"torch.histogramdd: bins tensor should have one dimension, "
                                   f"but got {spec.ndim} dimensions in the bins tensor for "
                                   f"dimension {d}")
            if spec.numel() < 2:
                raise RuntimeError(f"torch.{name}(): bins must be > 0, but got "
                                   f"{spec.numel() - 1} for dimension {d}")
            if spec.dtype is not points.dtype:
                raise RuntimeError(f"torch.histogramdd: input tensor and bins tensors should "
                                   f"have the same dtype, but got input "
                                   f"{_torch_name(points.dtype)} and bins for dimension {d} "
                                   f"{_torch_name(spec.dtype)}")
            edges.append(ew.clone(spec))
        return edges
    counts = []
    for d, spec in enumerate(specs):
        if isinstance(spec, Tensor) or not isinstance(spec, int) or isinstance(spec, bool):
            raise TypeError(f"{name}(): argument 'bins' must be an int, a sequence of ints or "
                            f"a sequence of tensors, not {type(spec).__name__}")
        if spec <= 0:
            raise RuntimeError(f"torch.{name}(): bins must be > 0, but got {spec} for dimension "
                               f"{d}")
        counts.append(spec)
    return [creation.linspace(low, high, count + 1, dtype=points.dtype)
            for (low, high), count in zip(_outer_edges(points, dims, range), counts)]


def _histogramdd(name: str, points: Tensor, bins, range, weight, density: bool):  # noqa: A002
    """(hist, edges) for points (M, N): the engine under histogram and histogramdd."""
    if points.dtype.kind != "f":
        raise NotImplementedError(f"\"histogramdd\" not implemented for "
                                  f"'{_torch_name(points.dtype).capitalize()}'")
    if weight is not None:
        if tuple(weight.shape) != tuple(points.shape[:-1]):
            raise RuntimeError(f"torch.histogramdd: if weight tensor is provided it should have "
                               f"the same shape as the input tensor excluding its innermost "
                               f"dimension, but got input with shape {list(points.shape)} and "
                               f"weight with shape {list(weight.shape)}")
        if weight.dtype is not points.dtype:
            raise RuntimeError(f"torch.histogramdd: if weight tensor is provided, it should have "
                               f"the same dtype as the input tensor, but got input "
                               f"{_torch_name(points.dtype)} and weight "
                               f"{_torch_name(weight.dtype)}")
    edges = _bin_edges(name, points, bins, range)
    bin_counts = [e.numel() - 1 for e in edges]
    total = 1
    for count in bin_counts:
        total *= count
    rows = points.shape[0]
    flat_bin = creation.zeros((rows,), dtype=dtypes.int64)
    inside = creation.ones((rows,), dtype=dtypes.bool_)
    for d, (e, count) in enumerate(zip(edges, bin_counts)):
        x = points.select(1, d)
        position = ew.sub(counting.searchsorted(e, x, right=True), 1)
        # The last bin includes its right edge; points outside are dropped below.
        position = ew.clamp(position, 0, max(count - 1, 0))
        within = ew.logical_and(ew.apply("ge", x, e[0]), ew.apply("le", x, e[-1]))
        inside = ew.logical_and(inside, within)
        flat_bin = ew.add(ew.mul(flat_bin, count), position)
    values = creation.ones((rows,), dtype=points.dtype) if weight is None else weight
    values = ew.where(inside, values, 0.0)
    flat_bin = ew.where(inside, flat_bin, 0)
    hist = creation.zeros((total,), dtype=points.dtype)
    if rows and total:
        hist = indexing.scatter_add(hist, 0, flat_bin, values)
    hist = hist.reshape(bin_counts)
    if density:
        hist = ew.true_divide(hist, reductions.sum(hist))
        for d, e in enumerate(edges):
            shape = [1] * len(edges)
            shape[d] = bin_counts[d]
            hist = ew.true_divide(hist, e.diff().reshape(shape))
    return hist, edges


def histogram(input: Tensor, bins=100, *, range=None, weight: Tensor | None = None,  # noqa: A002
              density: bool = False):
    """Histogram of all of input's elements: (hist, bin_edges)."""
    if isinstance(bins, Tensor) and bins.ndim != 1:
        raise RuntimeError(f"torch.histogram(): bins tensor should have one dimension, but got "
                           f"{bins.ndim} dimensions in the bins tensor")
    if weight is not None and tuple(weight.shape) != tuple(input.shape):
        raise RuntimeError(f"torch.histogram(): if weight tensor is provided it should have the "
                           f"same shape as the input tensor, but got input with shape "
                           f"{list(input.shape)} and weight with shape {list(weight.shape)}")
    hist, edges = _histogramdd("histogram", input.reshape(-1, 1), [bins], range,
                               None if weight is None else weight.reshape(-1), density)
    return histogram_result(hist, edges[0])


def histogramdd(input: Tensor, bins=10, *, range=None, weight: Tensor | None = None,  # noqa: A002
                density: bool = False):
    """Histogram of the points in input's innermost dimension: (hist, bin_edges)."""
    if input.ndim < 2:
        raise RuntimeError(f"torch.histogramdd: input tensor should have at least 2 dimensions, "
                           f"but got {input.ndim}")
    points = input.reshape(-1, input.shape[-1])
    flat_weight = None if weight is None else \
        (weight.reshape(-1) if tuple(weight.shape) == tuple(input.shape[:-1]) else weight)
    if weight is not None and flat_weight is weight:
        raise RuntimeError(f"torch.histogramdd: if weight tensor is provided it should have the "
                           f"same shape as the input tensor excluding its innermost dimension, "
                           f"but got input with shape {list(input.shape)} and weight with shape "
                           f"{list(weight.shape)}")
    hist, edges = _histogramdd("histogramdd", points, bins, range, flat_weight, density)
    return histogramdd_result(hist, tuple(edges))


FUNCTIONS = {"histogram": histogram, "histogramdd": histogramdd}
TENSOR_METHODS = {"histogram": histogram}
