"""Margin, embedding and likelihood losses of lazyt.nn.functional (the ones
PyTorch implements in ATen beside cross_entropy): hinge/cosine embedding,
soft margin, multi(-label) margin, triplet losses and the Gaussian NLL.

Each is written with lazyt ops, so autograd differentiates it and deferred
mode fuses it. A class index picked per sample is a masked sum over a
one-hot comparison (it fuses; a gather would be a kernel boundary), and a bad
target raises PyTorch's error from the kernel that reads it (`checked_index`).
"""

from __future__ import annotations

import math

from lazyt import creation, dtypes
from lazyt.autograd import grad_mode
from lazyt.elementwise import TORCH_NAMES, where
from lazyt.indexing import checked_index
from lazyt.nn._functional._utils import apply_reduction, legacy_reduction
from lazyt.nn._functional.activation import logsigmoid
from lazyt.nn._functional.loss import pairwise_distance
from lazyt.runtime.launch import MULTI_MARGIN_TARGET_OUT_OF_RANGE, MULTILABEL_TARGET_OUT_OF_RANGE
from lazyt.tensor import Tensor

_COSINE_EPSILON = 1e-12


def _check_reduction(reduction: str) -> None:
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _shape_list(tensor: Tensor) -> list:
    return list(tensor.shape)


def _check_long_target(target: Tensor) -> None:
    if target.dtype is not dtypes.int64:
        raise RuntimeError(f"expected scalar type Long but found {TORCH_NAMES[target.dtype.name]}")


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0,
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """x where the target is 1, max(0, margin - x) where it is -1 (ATen's formula)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    zeros = creation.zeros_like(input)
    margin_clamp = (margin - input).clamp(min=0)
    output_margin = where(target != 1, margin_clamp, zeros)
    output_self = where(target != -1, input, zeros)
    return apply_reduction(output_margin + output_self, reduction)


def soft_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """log(1 + exp(-target * input)), reduced."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    return apply_reduction((-(input * target)).exp().log1p(), reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """1 - cos(x1, x2) where the target is 1, max(0, cos - margin) where it is -1."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    target_dim = target.ndim
    if target_dim not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if target_dim == 1 and not (input1.ndim == 2 and input2.ndim == 2):
        raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with "
                           f"sizes {_shape_list(input1)} and {_shape_list(input2)}.")
    if target_dim == 0 and not (input1.ndim == 1 and input2.ndim == 1):
        raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs with "
                           f"sizes {_shape_list(input1)} and {_shape_list(input2)}.")
    prod_sum = (input1 * input2).sum(target_dim)
    mag_square1 = (input1 * input1).sum(target_dim) + _COSINE_EPSILON
    mag_square2 = (input2 * input2).sum(target_dim) + _COSINE_EPSILON
    cos = prod_sum / (mag_square1 * mag_square2).sqrt()
    zeros = creation.zeros_like(cos)
    output_pos = where(target == 1, 1 - cos, zeros)
    output_neg = where(target == -1, (cos - margin).clamp(min=0), zeros)
    return apply_reduction(output_pos + output_neg, reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average=None, reduce=None,
                                reduction: str = "mean") -> Tensor:
    """Per-class logistic loss, averaged over the classes (the last dim)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.ndim - 1
    loss = loss.sum(class_dim) / input.shape[class_dim]
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    return apply_reduction(loss, reduction)


def _frames_and_classes(input: Tensor) -> tuple[int, int]:
    """(batch size, class count) of a 0-D, 1-D or 2-D margin-loss input."""
    if input.ndim == 0:
        return 1, 1
    if input.ndim == 1:
        return 1, input.shape[0]
    return input.shape[0], input.shape[1]


def _one_hot_rows(index: Tensor, classes: int) -> Tensor:
    """(..., classes) bool: index[...] == class."""
    return index.unsqueeze(-1) == creation.arange(classes)


def _reduce_margin_loss(loss: Tensor, reduction: str, keep_batch: bool) -> Tensor:
    """PyTorch's margin losses return (N,) for 'none' only with a batch dim."""
    if reduction == "none":
        return loss if keep_batch else loss.reshape(())
    return apply_reduction(loss, reduction)


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, size_average=None, reduce=None,
                      reduction: str = "mean") -> Tensor:
    """sum over j != y of max(0, margin - x[y] + x[j])^p * weight[y] / C, per sample."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.ndim != 1:
        raise ValueError("weight must be one-dimensional")
    if input.numel() == 0 or input.ndim > 2:
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch size, "
                           f"but got: {_shape_list(input)}")
    frames, classes = _frames_and_classes(input)
    if target.ndim > 1 or target.numel() != frames:
        raise RuntimeError(f"multi_margin_loss: target tensor should be 1-D with size equal to "
                           f"the number of input samples (batch size). Expected target size "
                           f"[{frames}], but got {_shape_list(target)}. Input has shape "
                           f"{_shape_list(input)}.")
    if weight is not None and weight.numel() != classes:  # (PyTorch checks it before dtypes)
        raise RuntimeError(f"inconsistent weight size, expected {classes} but got "
                           f"{_shape_list(weight)}")
    _check_long_target(target)
    if weight is not None and weight.requires_grad and grad_mode.is_grad_enabled():
        raise RuntimeError("The function 'multi_margin_loss' is not differentiable with respect "
                           "to argument 'weight'. This input cannot have requires_grad True.")
    rows = input.reshape(frames, classes)
    # "target out of range" from the kernel that reads the target.
    picked = checked_index(target.reshape(frames), classes, 0, MULTI_MARGIN_TARGET_OUT_OF_RANGE)
    is_target = _one_hot_rows(picked, classes)
    target_score = where(is_target, rows, 0.0).sum(1, keepdim=True)
    violation = (margin - target_score + rows).clamp(min=0)
    if p == 2:
        violation = violation * violation
    if weight is not None:
        violation = violation * where(is_target, weight, 0.0).sum(1, keepdim=True)
    loss = where(is_target, 0.0, violation).sum(1) / classes
    return _reduce_margin_loss(loss, reduction, keep_batch=target.ndim > 0)


def multilabel_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                           reduction: str = "mean") -> Tensor:
    """sum over targets j (up to the first -1) and non-targets k of
    max(0, 1 - (x[y_j] - x[k])) / C, per sample."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if input.ndim > 2 or (input.ndim == 2 and input.shape[1] == 0) or \
            (input.ndim == 1 and input.numel() == 0):
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch size, "
                           f"but got: {_shape_list(input)}")
    frames, classes = _frames_and_classes(input)
    expected = (classes,) if input.ndim <= 1 else (frames, classes)
    if input.ndim == 0:
        expected = () if target.ndim == 0 else (1,)
    if tuple(target.shape) != expected:
        raise RuntimeError(f"inconsistent target size: {_shape_list(target)} for input of size: "
                           f"{_shape_list(input)}")
    _check_long_target(target)
    rows = input.reshape(frames, classes)
    labels = target.reshape(frames, classes)
    # Every label must lie in [-1, C): checked (shifted by one) where it is read.
    labels = checked_index(labels + 1, classes + 1, 1, MULTILABEL_TARGET_OUT_OF_RANGE) - 1
    # A sample's targets are its labels before the first -1.
    listed = (labels == -1).to(dtypes.int64).cumsum(1) == 0
    label_hits = _one_hot_rows(labels, classes) & listed.unsqueeze(-1)  # (N, label, class)
    is_target = label_hits.any(1)  # (N, class)
    label_score = where(label_hits, rows.unsqueeze(1), 0.0).sum(2)  # x[y_j]: (N, label)
    hinge = (1 - label_score.unsqueeze(2) + rows.unsqueeze(1)).clamp(min=0)  # (N, label, class)
    counted = listed.unsqueeze(2) & ~is_target.unsqueeze(1)
    loss = where(counted, hinge, 0.0).sum((1, 2)) / classes
    return _reduce_margin_loss(loss, reduction, keep_batch=input.ndim == 2)


def _check_triplet_dims(anchor: Tensor, positive: Tensor, negative: Tensor) -> None:
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the "
                           f"same number of dimensions, but got: anchor {anchor.ndim}D, positive "
                           f"{positive.ndim}D, and negative {negative.ndim}D inputs")


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor,
                        margin: float = 1.0, p: float = 2, eps: float = 1e-6,
                        swap: bool = False, size_average=None, reduce=None,
                        reduction: str = "mean") -> Tensor:
    """max(0, margin + d(a, p) - d(a, n)) with the p-norm pairwise distance."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet_dims(anchor, positive, negative)
    dist_pos = pairwise_distance(anchor, positive, p, eps)
    dist_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        dist_neg = dist_neg.minimum(pairwise_distance(positive, negative, p, eps))
    return apply_reduction((margin + dist_pos - dist_neg).clamp(min=0), reduction)


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function=None, margin: float = 1.0,
                                      swap: bool = False, reduction: str = "mean") -> Tensor:
    """triplet_margin_loss with any distance (pairwise_distance by default)."""
    _check_reduction(reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet_dims(anchor, positive, negative)
    if distance_function is None:
        distance_function = pairwise_distance
    dist_pos = distance_function(anchor, positive)
    dist_neg = distance_function(anchor, negative)
    if swap:
        dist_neg = dist_neg.minimum(distance_function(positive, negative))
    return apply_reduction((margin + dist_pos - dist_neg).clamp(min=0), reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var, full: bool = False,
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """0.5 * (log(var) + (input - target)^2 / var), var clamped at eps."""
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * creation.ones_like(input)
    elif bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (input.ndim == var.ndim and
                  sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    # PyTorch clamps a clone under no_grad: the gradient passes the clamp unchanged.
    var = var + (var.clamp(min=eps) - var).detach()
    diff = input - target
    loss = 0.5 * (var.log() + diff * diff / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return apply_reduction(loss, reduction)
