"""F.pixel_shuffle, F.pixel_unshuffle and F.channel_shuffle: channel <-> space
(and channel <-> channel) rearrangements,
each one reshape, one permute and one reshape (views where PyTorch's are)."""

from __future__ import annotations

from lazyt.tensor import Tensor


def _check_factor(name: str, input: Tensor, factor: int, what: str) -> None:
    if input.ndim < 3:
        raise RuntimeError(f"{name} expects input to have at least 3 dimensions, but got input "
                           f"with {input.ndim} dimension(s)")
    if factor <= 0:
        raise RuntimeError(f"{name} expects a positive {what}, but got {factor}")


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r)."""
    r = int(upscale_factor)
    _check_factor("pixel_shuffle", input, r, "upscale_factor")
    *lead, channels, height, width = input.shape
    if channels % (r * r):
        raise RuntimeError("pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)="
                           f"{channels} is not divisible by {r * r}")
    n = len(lead)
    out_channels = channels // (r * r)
    split = input.reshape(*lead, out_channels, r, r, height, width)
    order = tuple(range(n)) + (n, n + 3, n + 1, n + 4, n + 2)
    return split.permute(*order).reshape(*lead, out_channels, height * r, width * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H*r, W*r) -> (*, C*r*r, H, W)."""
    r = int(downscale_factor)
    _check_factor("pixel_unshuffle", input, r, "downscale_factor")
    *lead, channels, height, width = input.shape
    if height % r:
        raise RuntimeError("pixel_unshuffle expects height to be divisible by downscale_factor, "
                           f"but input.size(-2)={height} is not divisible by {r}")
    if width % r:
        raise RuntimeError("pixel_unshuffle expects width to be divisible by downscale_factor, "
                           f"but input.size(-1)={width} is not divisible by {r}")
    n = len(lead)
    split = input.reshape(*lead, channels, height // r, r, width // r, r)
    order = tuple(range(n)) + (n, n + 2, n + 4, n + 1, n + 3)
    return split.permute(*order).reshape(*lead, channels * r * r, height // r, width // r)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """(N, g*k, *) -> channels regrouped as (N, k*g, *): a reshape, a transpose, a reshape."""
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of "
                           f"groups:{groups}")
    if input.ndim <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with "
                           f"sizes {list(input.shape)}")
    channels = input.shape[1]
    if channels % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {channels} "
                           f"channels and {groups} groups.")
    batch, rest = input.shape[0], tuple(input.shape[2:])
    grouped = input.reshape(batch, groups, channels // groups, *rest)
    return grouped.transpose(1, 2).reshape(input.shape)
