"""Memory formats and layouts as PyTorch names them: lt.contiguous_format,
lt.preserve_format, lt.channels_last, lt.channels_last_3d, lt.strided.

A memory format is only a stride order: channels_last is NCHW data whose
strides are those of NHWC (C fastest), exactly PyTorch's. This module knows the
strides each format gives a shape and whether a (shape, strides) pair is in a
format; the tensor methods that take `memory_format=` (contiguous, to, clone,
the *_like functions) ask it. lazyt has one layout, strided.
"""

from __future__ import annotations


class memory_format:  # noqa: N801 - PyTorch's name
    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"lazyt.{self.name}"

    def __reduce__(self):
        return (_format_by_name, (self.name,))


class layout:  # noqa: N801 - PyTorch's name
    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"lazyt.{self.name}"


contiguous_format = memory_format("contiguous_format")
preserve_format = memory_format("preserve_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
strided = layout("strided")

_FORMATS = {f.name: f for f in (contiguous_format, preserve_format, channels_last,
                                channels_last_3d)}
# Dimensions from the fastest-varying to the slowest, per channels-last format.
_CHANNELS_LAST_ORDER = {"channels_last": (1, 3, 2, 0), "channels_last_3d": (1, 4, 3, 2, 0)}


def _format_by_name(name: str) -> memory_format:
    return _FORMATS[name]


def check_memory_format(fmt, ndim: int | None = None) -> memory_format:
    """Validate a user's memory_format argument (and its rank for channels_last)."""
    if fmt is None:
        return preserve_format
    if not isinstance(fmt, memory_format):
        raise TypeError(f"memory_format must be torch.memory_format, not {type(fmt).__name__}")
    order = _CHANNELS_LAST_ORDER.get(fmt.name)
    if order is not None and ndim is not None and ndim != len(order):
        raise RuntimeError(f"required rank {len(order)} tensor to use {fmt.name} format")
    return fmt


def check_layout(value) -> None:
    if value is not None and value is not strided:
        raise RuntimeError(f"lazyt supports only the strided layout, got {value!r}")


def channels_last_permutation(fmt: memory_format) -> tuple[int, ...] | None:
    """The permutation that lists dims slowest-first for a channels-last format (else None)."""
    order = _CHANNELS_LAST_ORDER.get(fmt.name)
    return None if order is None else tuple(reversed(order))


def is_in_format(shape: tuple[int, ...], strides: tuple[int, ...], fmt: memory_format) -> bool:
    """PyTorch's is_contiguous(memory_format=fmt): size-1 dims may have any stride."""
    fmt = check_memory_format(fmt)
    if fmt is preserve_format:
        raise RuntimeError("is_contiguous: preserve_format is not a valid memory format to test")
    order = _CHANNELS_LAST_ORDER.get(fmt.name)
    if order is None:
        order = tuple(reversed(range(len(shape))))
    elif len(shape) != len(order):
        return False
    expected = 1
    for dim in order:
        if shape[dim] == 0:
            return True
        if shape[dim] != 1:
            if strides[dim] != expected:
                return False
            expected *= shape[dim]
    return True


def suggest_memory_format(shape: tuple[int, ...], strides: tuple[int, ...]) -> memory_format:
    """The format a preserve_format copy keeps: channels_last when the strides are that,
    and not also plain contiguous (PyTorch's suggest_memory_format)."""
    for fmt in (channels_last, channels_last_3d):
        if len(shape) == len(_CHANNELS_LAST_ORDER[fmt.name]) and \
                is_in_format(shape, strides, fmt) and \
                not is_in_format(shape, strides, contiguous_format):
            return fmt
    return contiguous_format


FUNCTIONS = {"contiguous_format": contiguous_format, "preserve_format": preserve_format,
             "channels_last": channels_last, "channels_last_3d": channels_last_3d,
             "strided": strided, "memory_format": memory_format, "layout": layout}
