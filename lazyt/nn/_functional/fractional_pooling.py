"""Fractional max pooling (F.fractional_max_pool2d/3d): max over windows whose
starts are drawn pseudo-randomly per (batch, channel) plane from `_random_samples`
in [0, 1), by PyTorch's interval formula, so that the same samples pick the same
windows (and indices) as in PyTorch. Written with lazyt ops: the window starts
are index arithmetic, the values a gather along the flattened plane and a max.
"""

from __future__ import annotations

import math

from lazyt import creation, dtypes
from lazyt.nn._functional._utils import _ntuple
from lazyt.shape_ops import cat
from lazyt.tensor import Tensor


def _window_starts(samples: Tensor, in_size: int, out_size: int, pool: int) -> Tensor:
    """(N, C) samples -> (N, C, out_size) window starts: PyTorch's generate_intervals,
    int((i + u) * alpha) - int(u * alpha) with alpha = (in - pool) / (out - 1), in the
    samples' dtype as there, and the last window flush with the end."""
    last = creation.full(tuple(samples.shape) + (1,), in_size - pool, dtype=dtypes.int64,
                         device=samples.device)
    if out_size == 1:
        return last
    u = samples.unsqueeze(-1)
    alpha = creation.tensor(in_size - pool, dtype=u.dtype, device=u.device) / (out_size - 1)
    steps = creation.arange(out_size - 1, dtype=u.dtype, device=u.device)
    starts = ((steps + u) * alpha).floor() - (u * alpha).floor()
    return cat([starts.to(dtypes.int64), last], -1)


def _fractional_max_pool(name: str, dims: int, input: Tensor, kernel_size, output_size,
                         output_ratio, return_indices: bool, random_samples: Tensor | None):
    if output_size is None and output_ratio is None:
        raise ValueError(f"{name} requires specifying either an output_size or an "
                         "output_ratio")
    if input.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(f"{name}(): Expected {dims + 1}D or {dims + 2}D tensor, but got: "
                           f"{list(input.shape)}")
    kernel = _ntuple(dims, "kernel_size")(kernel_size)
    in_size = tuple(input.shape[-dims:])
    if output_size is None:
        ratio = _ntuple(dims, "output_ratio")(output_ratio)
        out_size = tuple(int(s * r) for s, r in zip(in_size, ratio))
    else:
        out_size = _ntuple(dims, "output_size")(output_size)
    for axis, (o, k, s) in enumerate(zip(out_size, kernel, in_size)):
        if o + k - 1 > s:
            raise RuntimeError(f"{name}(): pool size {k} too large relative to input size "
                               f"{s} with output size {o} (dim {axis})")
    unbatched = input.ndim == dims + 1
    batched = input.unsqueeze(0) if unbatched else input
    batch, channels = batched.shape[0], batched.shape[1]
    if random_samples is None:
        random_samples = creation.rand(batch, channels, dims, dtype=input.dtype,
                                     device=input.device)
    if random_samples.ndim != 3 or random_samples.shape[0] < batch or \
            tuple(random_samples.shape[1:]) != (channels, dims):
        raise RuntimeError(f"{name}(): expected _random_samples of shape "
                           f"{[batch, channels, dims]}, got {list(random_samples.shape)}")
    random_samples = random_samples[:batch]  # (PyTorch reads the first rows only)
    # Which sample draws which dim follows PyTorch's kernels: 2d reads (W, H), 3d (T, H, W).
    # flat_index: (N, C, *out_size, *kernel) positions in the flattened plane.
    flat_index = None
    for axis in range(dims):
        sample = random_samples[:, :, dims - 1 - axis if dims == 2 else axis]
        starts = _window_starts(sample, in_size[axis], out_size[axis], kernel[axis])
        offsets = creation.arange(kernel[axis], dtype=dtypes.int64, device=input.device)
        positions = starts.unsqueeze(-1) + offsets  # (N, C, out, k) along this dim
        shape = ((batch, channels) +
                 tuple(out_size[axis] if i == axis else 1 for i in range(dims)) +
                 tuple(kernel[axis] if i == axis else 1 for i in range(dims)))
        term = positions.reshape(shape) * math.prod(in_size[axis + 1:])
        flat_index = term if flat_index is None else flat_index + term
    windows = math.prod(kernel)
    flat_index = flat_index.reshape(batch, channels, math.prod(out_size) * windows)
    planes = batched.reshape(batch, channels, math.prod(in_size))
    values = planes.gather(2, flat_index).reshape(batch, channels, math.prod(out_size), windows)
    out, arg = values.max(-1)
    out = out.reshape((batch, channels) + out_size)
    if unbatched:
        out = out.squeeze(0)
    if not return_indices:
        return out, None
    indices = flat_index.reshape(batch, channels, math.prod(out_size), windows)
    indices = indices.gather(3, arg.unsqueeze(-1)).reshape((batch, channels) + out_size)
    return out, indices.squeeze(0) if unbatched else indices


def fractional_max_pool2d(input: Tensor, kernel_size, output_size=None, output_ratio=None,
                          return_indices: bool = False, _random_samples: Tensor | None = None):
    out, indices = _fractional_max_pool("fractional_max_pool2d", 2, input, kernel_size,
                                        output_size, output_ratio, return_indices,
                                        _random_samples)
    return (out, indices) if return_indices else out


def fractional_max_pool3d(input: Tensor, kernel_size, output_size=None, output_ratio=None,
                          return_indices: bool = False, _random_samples: Tensor | None = None):
    out, indices = _fractional_max_pool("fractional_max_pool3d", 3, input, kernel_size,
                                        output_size, output_ratio, return_indices,
                                        _random_samples)
    return (out, indices) if return_indices else out
