"""F.grid_sample (and lt.grid_sampler_2d/3d): sample an (N, C, *spatial) input
at the normalised [-1, 1] coordinates of a grid, bilinearly (trilinearly)
or at the nearest pixel, with PyTorch's zeros/border/reflection padding and
align_corners conventions.

Coordinates are lazyt ops on the grid (so the gradient reaches the grid
through the interpolation weights), and the input is read with one gather
per corner of the interpolation cell, or per tap of the 4x4 bicubic
neighbourhood (its gradient scatter-adds into the input).
"""

from __future__ import annotations

import math
import warnings

from lazyt import dtypes
from lazyt.elementwise import where
from lazyt.tensor import Tensor

_MODES = {"bilinear": 0, "nearest": 1, "bicubic": 2}
_PADDINGS = {"zeros": 0, "border": 1, "reflection": 2}


def _unnormalise(coord: Tensor, size: int, align_corners: bool) -> Tensor:
    if align_corners:
        return (coord + 1) / 2 * (size - 1)
    return ((coord + 1) * size - 1) / 2


def _reflect(coord: Tensor, twice_low: int, twice_high: int) -> Tensor:
    """PyTorch's reflect_coordinates: fold coord into [low, high] by mirroring."""
    if twice_low == twice_high:
        return coord * 0.0
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    distance = (coord - low).abs()
    extra = distance.fmod(span)
    flips = (distance / span).floor().detach()
    return where(flips.fmod(2) == 0, extra + low, span - extra + low)


def _source_index(coord: Tensor, size: int, padding: str, align_corners: bool) -> Tensor:
    """Grid coordinate -> input pixel coordinate, padding applied (border/reflection)."""
    return _pad_coordinate(_unnormalise(coord, size, align_corners), size, padding,
                           align_corners)


def _pad_coordinate(coord: Tensor, size: int, padding: str, align_corners: bool) -> Tensor:
    """PyTorch's compute_coordinates: clip (border) or mirror then clip (reflection)."""
    if padding == "border":
        coord = coord.clamp(0, size - 1)
    elif padding == "reflection":
        if align_corners:
            coord = _reflect(coord, 0, 2 * (size - 1))
        else:
            coord = _reflect(coord, -1, 2 * size - 1)
        coord = coord.clamp(0, size - 1)
    return coord


def _read(flat_input: Tensor, corner: list[Tensor], in_size: tuple) -> Tensor:
    """input[n, c, corner...] for every grid point ((N, C, points); 0 outside the input)."""
    inside = None
    flat_index = None
    stride = 1
    for index, size in zip(reversed(corner), reversed(in_size)):
        ok = (index >= 0) & (index < size)
        inside = ok if inside is None else inside & ok
        term = index.clamp(0, size - 1) * stride
        flat_index = term if flat_index is None else flat_index + term
        stride *= size
    batch, channels = flat_input.shape[0], flat_input.shape[1]
    gather_index = flat_index.unsqueeze(1).expand(batch, channels, flat_index.shape[1])
    values = flat_input.gather(2, gather_index)
    return where(inside.unsqueeze(1), values, 0.0)


def _grid_sample(input: Tensor, grid: Tensor, mode: str, padding_mode: str,
                 align_corners: bool) -> Tensor:
    dims = input.ndim - 2
    in_size = tuple(input.shape[2:])
    out_size = tuple(grid.shape[1:-1])
    batch, channels = input.shape[0], input.shape[1]
    points = grid.reshape(batch, math.prod(out_size), dims)
    # grid[..., 0] indexes the last spatial dim (x -> W), grid[..., 1] the one before.
    coords = [_source_index(points[:, :, dims - 1 - d], in_size[d], padding_mode, align_corners)
              for d in range(dims)]
    flat_input = input.reshape(batch, channels, math.prod(in_size))
    if mode == "bicubic":
        out = _bicubic(flat_input, points, in_size, padding_mode, align_corners)
    elif mode == "nearest":
        corner = [c.round().detach().to(dtypes.int64) for c in coords]
        # The grid's gradient is 0 here, but (as in PyTorch) it has one.
        no_gradient = where(points.isnan(), 0.0, points * 0.0).sum(2).unsqueeze(1)
        out = _read(flat_input, corner, in_size) + no_gradient
    else:
        lows = [c.floor().detach() for c in coords]
        fractions = [c - low for c, low in zip(coords, lows)]
        lows = [low.to(dtypes.int64) for low in lows]
        out = None
        for corner_bits in range(2 ** dims):
            corner, weight = [], None
            for d in range(dims):
                upper = (corner_bits >> d) & 1
                corner.append(lows[d] + upper)
                w = fractions[d] if upper else 1 - fractions[d]
                weight = w if weight is None else weight * w
            term = _read(flat_input, corner, in_size) * weight.unsqueeze(1)
            out = term if out is None else out + term
    return out.reshape(batch, channels, *out_size)


_CUBIC_A = -0.75  # PyTorch's bicubic convolution constant


def _cubic_weights(t: Tensor) -> list[Tensor]:
    """The four cubic-convolution weights of taps -1, 0, 1, 2 at fraction t."""
    a = _CUBIC_A

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _bicubic(flat_input: Tensor, points: Tensor, in_size: tuple, padding: str,
             align_corners: bool) -> Tensor:
    """4x4 taps around each point, each tap's coordinate padded on its own (as PyTorch's)."""
    height, width = in_size
    x = _unnormalise(points[:, :, 0], width, align_corners)
    y = _unnormalise(points[:, :, 1], height, align_corners)
    x0, y0 = x.floor().detach(), y.floor().detach()
    x_weights, y_weights = _cubic_weights(x - x0), _cubic_weights(y - y0)

    def tap(base: Tensor, offset: int, size: int) -> Tensor:
        padded = _pad_coordinate(base + offset, size, padding, align_corners).detach()
        # PyTorch truncates the padded coordinate toward zero.
        return padded.trunc().to(dtypes.int64)

    out = None
    for i, y_weight in enumerate(y_weights):
        row = tap(y0, i - 1, height)
        for j, x_weight in enumerate(x_weights):
            term = _read(flat_input, [row, tap(x0, j - 1, width)], in_size) * \
                (y_weight * x_weight).unsqueeze(1)
            out = term if out is None else out + term
    return out


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear",
                padding_mode: str = "zeros", align_corners: bool | None = None) -> Tensor:
    if mode not in _MODES:
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in _PADDINGS:
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn("Default grid_sample and affine_grid behavior has changed to "
                      "align_corners=False since 1.3.0. Please specify align_corners=True if the "
                      "old behavior is desired. See the documentation of grid_sample for "
                      "details.", stacklevel=2)
        align_corners = False
    return _grid_sampler(input, grid, mode, padding_mode, align_corners)


def _grid_sampler(input: Tensor, grid: Tensor, mode: str, padding_mode: str,
                  align_corners: bool) -> Tensor:
    if input.ndim not in (4, 5) or grid.ndim != input.ndim:
        raise RuntimeError(f"grid_sampler(): expected 4D or 5D input and grid with same number "
                           f"of dimensions, but got input with sizes {list(input.shape)} and "
                           f"grid with sizes {list(grid.shape)}")
    if input.dtype != grid.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have same dtype, but "
                           f"input has {input.dtype} and grid has {grid.dtype}")
    if grid.shape[0] != input.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, "
                           f"but got input with sizes {list(input.shape)} and grid with sizes "
                           f"{list(grid.shape)}")
    if grid.shape[-1] != input.ndim - 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {input.ndim - 2} in "
                           f"last dimension, but got grid with sizes {list(grid.shape)}")
    if mode == "bicubic" and input.ndim != 4:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    return _grid_sample(input, grid, mode, padding_mode, align_corners)


def _mode_names(interpolation_mode: int, padding_mode: int) -> tuple[str, str]:
    modes = {v: k for k, v in _MODES.items()}
    paddings = {v: k for k, v in _PADDINGS.items()}
    return modes[interpolation_mode], paddings[padding_mode]


def grid_sampler_2d(input: Tensor, grid: Tensor, interpolation_mode: int, padding_mode: int,
                    align_corners: bool) -> Tensor:
    """ATen's grid_sampler_2d: the modes as numbers (bilinear 0, nearest 1, bicubic 2;
    zeros 0, border 1, reflection 2)."""
    mode, padding = _mode_names(interpolation_mode, padding_mode)
    return _grid_sampler(input, grid, mode, padding, align_corners)


def grid_sampler_3d(input: Tensor, grid: Tensor, interpolation_mode: int, padding_mode: int,
                    align_corners: bool) -> Tensor:
    mode, padding = _mode_names(interpolation_mode, padding_mode)
    return _grid_sampler(input, grid, mode, padding, align_corners)
