"""Dropout family: a random keep-mask (lazyt's counter-based RNG, so
lt.manual_seed reproduces it) times the input, scaled by 1 / (1 - p)."""

from __future__ import annotations

from lazyt import creation, elementwise
from lazyt.tensor import Tensor


def _check_p(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _apply_mask(input: Tensor, mask_shape: tuple, p: float, inplace: bool) -> Tensor:
    if p == 1.0:
        out = input * 0.0
    else:
        keep = creation.rand(mask_shape, dtype=input.dtype, device=input.device) >= p
        out = input * (keep * (1.0 / (1.0 - p)))
    if inplace:
        input.copy_(out)
        return input
    return out


def dropout(input: Tensor, p: float = 0.5, training: bool = True,
            inplace: bool = False) -> Tensor:
    _check_p(p)
    if not training or p == 0.0:
        return input
    return _apply_mask(input, tuple(input.shape), p, inplace)


def _feature_dropout(name: str, dims: int, input: Tensor, p: float, training: bool,
                     inplace: bool) -> Tensor:
    _check_p(p)
    if input.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(f"{name}: Expected {dims + 1}D or {dims + 2}D input, but received "
                           f"a {input.ndim}D input")
    if not training or p == 0.0:
        return input
    # One draw per (sample, channel): the whole feature map is kept or dropped.
    lead = input.ndim - dims
    mask_shape = tuple(input.shape[:lead]) + (1,) * dims
    return _apply_mask(input, mask_shape, p, inplace)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    return _feature_dropout("dropout1d", 1, input, p, training, inplace)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    return _feature_dropout("dropout2d", 2, input, p, training, inplace)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    return _feature_dropout("dropout3d", 3, input, p, training, inplace)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    """Dropout for SELU networks: dropped units take SELU's negative saturation
    value and an affine map keeps the mean and variance."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    alpha = -_SELU_ALPHA * _SELU_SCALE
    a = ((1.0 - p) * (1.0 + p * alpha * alpha)) ** -0.5
    b = -a * alpha * p
    keep = creation.rand(tuple(input.shape), dtype=input.dtype, device=input.device) >= p
    out = elementwise.where(keep, input, alpha) * a + b
    if inplace:
        input.copy_(out)
        return input
    return out


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """alpha_dropout with one draw per (sample, channel) feature map (ATen's
    formula: kept maps are scaled by a and shifted by alpha*a*p, dropped ones
    take (p - 1)*alpha*a, alpha = SELU's saturation)."""
    _check_p(p)
    if not training or p == 0.0 or input.numel() == 0:
        return input
    if input.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    if p == 1.0:
        out = input * 0.0
    else:
        alpha = _SELU_ALPHA * _SELU_SCALE
        a = 1.0 / ((alpha * alpha * p + 1) * (1 - p)) ** 0.5
        mask_shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
        keep = (creation.rand(mask_shape, dtype=input.dtype, device=input.device) >= p)
        keep = keep.to(input.dtype)
        out = input * (keep * a) + ((keep - 1.0) * (alpha * a) + alpha * a * p)
    if inplace:
        input.copy_(out)
        return input
    return out
