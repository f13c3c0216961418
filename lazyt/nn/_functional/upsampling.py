"""F.interpolate and the F.upsample* aliases, as separable gathers.

Where it sits: nn.Upsample and friends (modules/upsampling.py) call
`interpolate`. Every mode except 'area' (adaptive average pooling) is
separable: each spatial dim is resampled on its own by gathering `taps`
source positions along it (index_select, whose gradient scatter-adds) and
summing them with per-position weights. The per-dim tables of source indices
and weights are built with lazyt ops in PyTorch's arithmetic (float32 for
float32 inputs, float64 for float64; PyTorch's UpSample.h formulas), cached
per geometry, and the whole resampling runs as one eager region.
"""

from __future__ import annotations

import math
import warnings
from functools import lru_cache

from lazyt import creation, dtypes
from lazyt.nn._functional.pooling import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_avg_pool3d,
)
from lazyt.regions import run_region
from lazyt.shape_ops import stack
from lazyt.tensor import Tensor

_TABLE_CACHE_SIZE = 256
_CUBIC_A = -0.75
_LINEAR_MODES = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}
_ALL_MODES = "nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact"


def _is_integer(x) -> bool:
    return isinstance(x, int) or (isinstance(x, Tensor) and not x.dtype.is_floating_point
                                  and x.ndim == 0)


def _scale_of(in_size: int, out_size: int, align_corners: bool, scale: float | None,
              opmath) -> Tensor:
    """PyTorch's area_pixel_compute_scale as a 0-d tensor of dtype opmath."""
    if align_corners:
        value = (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
        return creation.tensor(value, dtype=opmath)
    if scale is not None and scale > 0:
        return creation.tensor(1.0 / scale, dtype=opmath)
    return creation.tensor(in_size, dtype=opmath) / out_size


@lru_cache(maxsize=_TABLE_CACHE_SIZE)
def _nearest_table(in_size: int, out_size: int, scale: float | None, exact: bool,
                   device: str) -> Tensor:
    """(1, out) source index per output position (nearest / nearest-exact)."""
    dst = creation.arange(out_size)
    if out_size == in_size and not exact:
        index = dst
    elif out_size == 2 * in_size and not exact:
        index = dst // 2
    else:
        # float32 arithmetic whatever the input dtype, as PyTorch's nearest_idx
        factor = _scale_of(in_size, out_size, False, scale, dtypes.float32)
        position = dst.to(dtypes.float32) + 0.5 if exact else dst.to(dtypes.float32)
        index = (position * factor).floor().to(dtypes.int64).clamp(max=in_size - 1)
    return index.reshape(1, out_size).to(device).realize()


@lru_cache(maxsize=_TABLE_CACHE_SIZE)
def _linear_table(in_size: int, out_size: int, scale: float | None, align_corners: bool,
                  opmath, device: str) -> tuple[Tensor, Tensor]:
    """((2, out) source indices, (2, out) weights) of linear interpolation."""
    if out_size == in_size:
        dst = creation.arange(out_size)
        index = stack([dst, dst])
        weight = stack([creation.ones(out_size, dtype=opmath),
                                 creation.zeros(out_size, dtype=opmath)])
        return index.to(device).realize(), weight.to(device).realize()
    factor = _scale_of(in_size, out_size, align_corners, scale, opmath)
    dst = creation.arange(out_size, dtype=opmath)
    source = dst * factor if align_corners else factor * (dst + 0.5) - 0.5
    source = source.clamp(min=0)
    low = source.floor().to(dtypes.int64).clamp(max=in_size - 1)
    lambda1 = (source - low.to(opmath)).clamp(0, 1)
    high = low + (low < in_size - 1).to(dtypes.int64)
    index = stack([low, high])
    weight = stack([1 - lambda1, lambda1])
    return index.to(device).realize(), weight.to(device).realize()


@lru_cache(maxsize=_TABLE_CACHE_SIZE)
def _cubic_table(in_size: int, out_size: int, scale: float | None, align_corners: bool,
                 opmath, device: str) -> tuple[Tensor, Tensor]:
    """((4, out) clamped source indices, (4, out) weights) of bicubic
    interpolation (Keys' cubic convolution, A = -0.75, as PyTorch)."""
    factor = _scale_of(in_size, out_size, align_corners, scale, opmath)
    dst = creation.arange(out_size, dtype=opmath)
    source = dst * factor if align_corners else factor * (dst + 0.5) - 0.5
    start = source.floor()
    t = source - start
    a = _CUBIC_A

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    weight = stack([far(t + 1.0), near(t), near(1.0 - t), far(2.0 - t)])
    first = start.to(dtypes.int64) - 1
    index = stack([(first + k).clamp(0, in_size - 1) for k in range(4)])
    return index.to(device).realize(), weight.to(device).realize()


def _resample_dim(x: Tensor, dim: int, index: Tensor, weight: Tensor | None) -> Tensor:
    """x resampled along dim: sum over taps of x[.., index[tap], ..] * weight[tap]."""
    taps, out_size = index.shape
    shape = [1] * x.ndim
    shape[dim] = out_size
    out = None
    for tap in range(taps):
        picked = x.index_select(dim, index[tap])
        if weight is not None:
            picked = picked * weight[tap].reshape(shape)
        out = picked if out is None else out + picked
    return out


def _resample_nearest(input: Tensor, *indices: Tensor) -> Tensor:
    """Pick one source position per output position along each spatial dim."""
    out = input
    for d, index in enumerate(indices):
        out = _resample_dim(out, 2 + d, index, None)
    return out


def _resample_weighted(input: Tensor, *tables: Tensor) -> Tensor:
    """Weighted taps along each spatial dim in turn ((index, weight) per dim)."""
    out = input
    for d in range(len(tables) // 2):
        out = _resample_dim(out, 2 + d, tables[2 * d], tables[2 * d + 1])
    return out


def _sizes(input: Tensor, size, scale_factor, mode: str, recompute_scale_factor):
    """(output sizes, scale factors or None per dim) as PyTorch's interpolate."""
    dim = input.ndim - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(
                    "Input and output must have the same number of spatial dimensions, but got "
                    f"input with spatial dimensions of {list(input.shape[2:])} and output size "
                    f"of {size}. Please provide input tensor in (N, C, d1, d2, ...,dK) format "
                    "and output size in (o1, o2, ...,oK) format.")
            if not all(_is_integer(x) for x in size):
                raise TypeError("expected size to be one of int or Tuple[int] or Tuple[int, int] "
                                "or Tuple[int, int, int], but got size with types "
                                f"{[type(x) for x in size]}")
            output_size = [int(s) for s in size]
        else:
            output_size = [int(size)] * dim
        scales = [None] * dim
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError(
                    "Input and scale_factor must have the same number of spatial dimensions, "
                    f"but got input with spatial dimensions of {list(input.shape[2:])} and "
                    f"scale_factor of shape {scale_factor}. Please provide input tensor in "
                    "(N, C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) "
                    "format.")
            scales = [float(s) for s in scale_factor]
        else:
            scales = [float(scale_factor)] * dim
        output_size = [math.floor(n * s) for n, s in zip(input.shape[2:], scales)]
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if mode == "area" or recompute_scale_factor:
        if scale_factor is not None:
            output_size = [int(n * s) for n, s in zip(input.shape[2:], scales)]
        scales = [None] * dim
    in_size = list(input.shape[2:])
    if any(n <= 0 for n in in_size) or any(o <= 0 for o in output_size):
        names = "DHW"[3 - dim:]
        given = ", ".join(f"{c}: {n}" for c, n in zip(names, in_size))
        wanted = ", ".join(f"{c}: {n}" for c, n in zip(names, output_size))
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                           f"({given}) and output ({wanted})")
    return tuple(output_size), tuple(scales)


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resample the spatial dims of an (N, C, *spatial) tensor, as PyTorch's."""
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating "
                             "modes: linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    if input.ndim not in (3, 4, 5):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {input.ndim}D) for the modes: {_ALL_MODES} "
                                  f"(got {mode})")
    if mode not in _LINEAR_MODES and mode not in ("nearest", "nearest-exact", "area"):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {input.ndim}D) for the modes: {_ALL_MODES} "
                                  f"(got {mode})")
    output_size, scales = _sizes(input, size, scale_factor, mode, recompute_scale_factor)
    if antialias:
        if not (mode in ("bilinear", "bicubic") and input.ndim == 4):
            raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos "
                             "modes and requires a 4-D tensor as input")
        raise NotImplementedError("interpolate(antialias=True) is not supported by lazyt")
    if mode in _LINEAR_MODES and input.ndim != _LINEAR_MODES[mode]:
        wanted = _LINEAR_MODES[mode]
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs {wanted}D "
                                  "input")
    if not input.dtype.is_floating_point and not (mode.startswith("nearest")
                                                  and input.dtype is dtypes.uint8):
        kernel = {"area": f"adaptive_avg_pool{max(input.ndim - 2, 2)}d", "nearest": "compute_indices_"
                  "weights_nearest", "nearest-exact": "compute_indices_weights_nearest"}.get(
                      mode, "compute_indices_weights_linear" if mode != "bicubic"
                      else "upsample_bicubic2d")
        raise NotImplementedError(f"\"{kernel}\" not implemented for "
                                  f"'{_torch_dtype_name(input.dtype)}'")
    if mode == "area":
        pool = (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[input.ndim - 3]
        return pool(input, output_size)
    device = str(input.device)
    in_size = tuple(input.shape[2:])
    if mode in ("nearest", "nearest-exact"):
        exact = mode == "nearest-exact"
        tables = tuple(_nearest_table(n, o, s, exact, device)
                       for n, o, s in zip(in_size, output_size, scales))
        return run_region("interpolate nearest", _resample_nearest, (input,) + tables, (),
                          f"UpsampleNearest{'Exact' if exact else ''}{input.ndim - 2}"
                          "DBackward0")
    compute = input if input.dtype in (dtypes.float32, dtypes.float64) else \
        input.to(dtypes.float32)
    opmath = compute.dtype
    build = _cubic_table if mode == "bicubic" else _linear_table
    tables = ()
    for n, o, s in zip(in_size, output_size, scales):
        index, weight = build(n, o, s, align_corners, opmath, device)
        tables += (index, weight)
    grad_name = {"linear": "UpsampleLinear1DBackward0", "bilinear": "UpsampleBilinear2DBackward0",
                 "bicubic": "UpsampleBicubic2DBackward0",
                 "trilinear": "UpsampleTrilinear3DBackward0"}[mode]
    out = run_region("interpolate weighted", _resample_weighted, (compute,) + tables, (),
                     grad_name)
    return out if compute is input else out.to(input.dtype)


def _torch_dtype_name(dtype) -> str:
    return {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
            "bool": "Bool"}.get(dtype.name, dtype.name)


def upsample(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    """Deprecated alias of interpolate (warns, as PyTorch)."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size=None, scale_factor=None) -> Tensor:
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size=None, scale_factor=None) -> Tensor:
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
