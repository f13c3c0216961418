"""Loss functions of lazyt.nn.functional: PyTorch's formulas, reductions and
argument checks, written with lazyt tensor ops (so their gradients come from
autograd and their kernels fuse in deferred/compiled mode).

Class-index losses pick the target's log-probability with `gather` along the
class dim (an extern op whose bounds check names a bad target); ignored
targets are masked, and the 'mean' reduction divides by the total weight of
the targets kept, as PyTorch does.
"""

from __future__ import annotations

import warnings

from lazyt import creation, dtypes
from lazyt.elementwise import where
from lazyt.indexing import checked_index
from lazyt.nn._functional._utils import apply_reduction, legacy_reduction
from lazyt.nn._functional.activation import softplus
from lazyt.nn._functional.linear import linear
from lazyt.nn._functional.normalization import l2_norm
from lazyt.regions import edges_of, run_region
from lazyt.runtime.launch import PROBABILITY_OUT_OF_RANGE, TARGET_OUT_OF_BOUNDS
from lazyt.tensor import Tensor


def _check_reduction(reduction: str) -> None:
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _class_shape_check(input: Tensor, target: Tensor, func: str) -> int:
    """Validate (input, target) of a class-index loss; return the class dim."""
    if input.ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.ndim})")
    if target.dtype.is_floating_point or target.dtype is dtypes.bool_:
        raise RuntimeError(f"{func}: expected target of an integer dtype (class indices, "
                           f"lazyt.int64), but got {target.dtype}")
    if input.ndim == 1:
        if target.ndim != 0:
            raise RuntimeError(f"{func}: for 1-D input (C,) the target must be 0-D, got target "
                               f"of shape {list(target.shape)}")
        return 0
    if target.ndim >= 1 and input.shape[0] != target.shape[0]:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                         f"batch_size ({target.shape[0]}).")
    expected = (input.shape[0],) + tuple(input.shape[2:])
    if tuple(target.shape) != expected:
        raise RuntimeError(f"{func}: expected target of shape {list(expected)} for input of "
                           f"shape {list(input.shape)}, got {list(target.shape)}")
    return 1


def _check_weight(weight: Tensor | None, classes: int) -> None:
    if weight is not None and (weight.ndim != 1 or weight.shape[0] != classes):
        raise RuntimeError(f"weight tensor should be defined either for all {classes} classes "
                           f"or no classes but got weight tensor of shape: {list(weight.shape)}")


def _picked_log_probs(input: Tensor, target: Tensor, weight: Tensor | None,
                      ignore_index: int, class_dim: int):
    """(-input[target] * w[target] masked, per-element weight) for nll_loss."""
    keep = target != ignore_index
    safe_target = where(keep, target, 0)
    classes = input.shape[class_dim]
    # input[target] as a masked sum over the classes, not a gather: it fuses
    # with the log_softmax before it (and its gradient with what follows).
    positions = creation.arange(classes, device=input.device).reshape(
        [classes if d == class_dim else 1 for d in range(input.ndim)])
    # A bad target raises "Target 7 is out of bounds." from the kernel that
    # reads it (now, or at realisation in deferred mode).
    checked = checked_index(safe_target, classes, class_dim, TARGET_OUT_OF_BOUNDS)
    # Masked by `keep` too, so an ignored target's gradient is 0 even when the
    # mean divides by a total weight of 0 (PyTorch: nan loss, zero gradient).
    onehot = (checked.unsqueeze(class_dim) == positions) & keep.unsqueeze(class_dim)
    picked = where(onehot, input, 0.0).sum(class_dim)
    if weight is None:
        element_weight = keep.to(input.dtype)
    else:
        # weight[target] by the same masked sum: indexing with a 0-d target inside an
        # eager region read its value once and replayed it for later targets.
        element_weight = where(onehot, _along(weight, class_dim, input.ndim), 0.0).sum(class_dim)
    return -picked * element_weight, element_weight


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
             size_average=None, ignore_index: int = -100, reduce=None,
             reduction: str = "mean") -> Tensor:
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    class_dim = _class_shape_check(input, target, "nll_loss")
    _check_weight(weight, input.shape[class_dim])

    def loss_of(input, target, weight):
        return _nll_loss(input, target, weight, ignore_index, reduction, class_dim)

    # One fused region in eager mode (regions.py): a few kernels, one grad_fn.
    tensors = (input, target, weight)  # (PyTorch: an edge for the input only)
    return run_region("nll_loss", loss_of, tensors, (ignore_index, reduction),
                      "NllLossBackward0", edges=edges_of(tensors, (0,)))


def _nll_loss(input: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int,
              reduction: str, class_dim: int) -> Tensor:
    loss, element_weight = _picked_log_probs(input, target, weight, ignore_index, class_dim)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / element_weight.sum()


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")

    def loss_of(input, target, weight):
        return _cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing)

    # One fused region in eager mode (regions.py): a few kernels, one grad_fn
    # named as PyTorch's.
    if target.dtype.is_floating_point:
        grad_name = "DivBackward1" if reduction == "mean" else "NegBackward0"
    else:
        grad_name = "NllLossBackward0" if label_smoothing == 0.0 else "AddBackward0"
    tensors = (input, target, weight)
    # (PyTorch: NllLossBackward0 over a LogSoftmaxBackward0 node; the region's
    # gradient is the whole of it, passed on through that node.)
    edges = edges_of(tensors, (0,), {0: "LogSoftmaxBackward0"}) \
        if grad_name == "NllLossBackward0" else None
    return run_region("cross_entropy", loss_of, tensors,
                      (ignore_index, reduction, label_smoothing), grad_name, edges=edges)


def _cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int,
                   reduction: str, label_smoothing: float) -> Tensor:
    class_dim = 0 if input.ndim == 1 else 1
    if input.ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.ndim})")
    classes = input.shape[class_dim]
    _check_weight(weight, classes)
    log_probs = input.log_softmax(class_dim)
    if target.dtype.is_floating_point:
        return _cross_entropy_probabilities(log_probs, target, weight, reduction,
                                            label_smoothing, class_dim)
    if label_smoothing == 0.0:
        return nll_loss(log_probs, target, weight, None, ignore_index, None, reduction)
    _class_shape_check(input, target, "cross_entropy")
    nll, element_weight = _picked_log_probs(log_probs, target, weight, ignore_index, class_dim)
    keep = target != ignore_index
    if weight is None:
        smooth = -log_probs.sum(class_dim)
    else:
        smooth = -(log_probs * _along(weight, class_dim, input.ndim)).sum(class_dim)
    smooth = smooth * keep
    if reduction == "none":
        combined = nll * (1.0 - label_smoothing) + smooth * (label_smoothing / classes)
        return combined
    if reduction == "sum":
        return nll.sum() * (1.0 - label_smoothing) + smooth.sum() * (label_smoothing / classes)
    total_weight = element_weight.sum()
    if weight is None:
        smooth_mean = smooth.sum() / keep.sum()
    else:
        smooth_mean = smooth.sum() / total_weight
    return (nll.sum() / total_weight) * (1.0 - label_smoothing) + \
        smooth_mean * (label_smoothing / classes)


def _along(weight: Tensor, class_dim: int, ndim: int) -> Tensor:
    """A (C,) weight shaped to broadcast along class_dim of an ndim-D tensor."""
    return weight.reshape((-1,) + (1,) * (ndim - class_dim - 1))


def _cross_entropy_probabilities(log_probs: Tensor, target: Tensor, weight: Tensor | None,
                                 reduction: str, label_smoothing: float,
                                 class_dim: int) -> Tensor:
    if tuple(target.shape) != tuple(log_probs.shape):
        raise RuntimeError(f"cross_entropy: with class-probability targets the target must have "
                           f"the input's shape {list(log_probs.shape)}, got "
                           f"{list(target.shape)}")
    classes = log_probs.shape[class_dim]
    if label_smoothing > 0.0:
        target = target * (1.0 - label_smoothing) + label_smoothing / classes
    weighted = log_probs * target
    if weight is not None:
        weighted = weighted * _along(weight, class_dim, log_probs.ndim)
    loss = -weighted.sum(class_dim)
    return apply_reduction(loss, reduction)


def _warn_size(input: Tensor, target: Tensor) -> None:
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size "
                      f"({input.shape}). This will likely lead to incorrect results due to "
                      "broadcasting. Please ensure they have the same size.", stacklevel=3)


def _weighted_pointwise(loss: Tensor, input: Tensor, weight: Tensor | None,
                        reduction: str) -> Tensor:
    """mse/l1 with PyTorch 2.13's optional elementwise weight."""
    if weight is None:
        return apply_reduction(loss, reduction)
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "mean":
        return loss.sum() / weight.sum()
    return apply_reduction(loss, reduction)


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    _warn_size(input, target)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)

    def loss_of(input, target, weight):
        diff = input - target
        return _weighted_pointwise(diff * diff, input, weight, reduction)

    # One fused region in eager mode (regions.py), one grad_fn.
    return run_region("mse_loss", loss_of, (input, target, weight), (reduction,),
                      "MseLossBackward0")


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    _warn_size(input, target)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    return _weighted_pointwise((input - target).abs(), input, weight, reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    _warn_size(input, target)
    _check_reduction(reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    diff = input - target
    abs_diff = diff.abs()
    loss = where(abs_diff < delta, diff * diff * 0.5, (abs_diff - 0.5 * delta) * delta)
    if weight is not None:
        if tuple(weight.shape) != tuple(input.shape):
            raise ValueError("Weights and input must have the same size.")
        loss = loss * weight
    return apply_reduction(loss, reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    _warn_size(input, target)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")

    def loss_of(input, target):
        diff = input - target
        abs_diff = diff.abs()
        if beta == 0.0:
            loss = abs_diff
        else:
            loss = where(abs_diff < beta, diff * diff * (0.5 / beta), abs_diff - 0.5 * beta)
        return apply_reduction(loss, reduction)

    return run_region("smooth_l1_loss", loss_of, (input, target), (beta, reduction),
                      "SmoothL1LossBackward0")


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input "
                         f"size ({input.shape}) is deprecated. Please ensure they have the same "
                         "size.")

    def loss_of(input, target, weight):
        # PyTorch clamps each log term at -100 so that a 0 or 1 prediction stays finite.
        log_p = input.log().clamp(min=-100.0)
        log_not_p = (1.0 - input).log().clamp(min=-100.0)
        loss = -(target * log_p + (1.0 - target) * log_not_p)
        # "all elements of input should be between 0 and 1" (NaN included) from the
        # kernel computing the loss: now in eager mode, at realisation in deferred.
        outside = where((input >= 0) & (input <= 1), 0, 1)
        loss = loss + checked_index(outside, 1, 0, PROBABILITY_OUT_OF_RANGE)
        if weight is not None:
            loss = loss * weight
        return apply_reduction(loss, reduction)

    tensors = (input, target, weight)
    return run_region("binary_cross_entropy", loss_of, tensors, (reduction,),
                      "BinaryCrossEntropyBackward0", edges=edges_of(tensors, (0, 1)))


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Tensor | None = None, size_average=None,
                                     reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({target.shape}) must be the same as input size "
                         f"({input.shape})")

    def loss_of(input, target, weight, pos_weight):
        # (1 - t) * x - log(sigmoid(x)) * (1 + (pos_weight - 1) * t), with
        # -log(sigmoid(x)) = softplus(-x) computed without overflow.
        neg_log_sigmoid = softplus(-input)
        if pos_weight is None:
            loss = (1.0 - target) * input + neg_log_sigmoid
        else:
            log_weight = (pos_weight - 1.0) * target + 1.0
            loss = (1.0 - target) * input + log_weight * neg_log_sigmoid
        if weight is not None:
            loss = loss * weight
        return apply_reduction(loss, reduction)

    # One fused region in eager mode (regions.py), one grad_fn.
    return run_region("binary_cross_entropy_with_logits", loss_of,
                      (input, target, weight, pos_weight), (reduction,),
                      "BinaryCrossEntropyWithLogitsBackward0")


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    reduction = legacy_reduction(size_average, reduce, reduction)
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", stacklevel=2)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        # PyTorch's xlogy(target, target) - target * input: 0 * log(0) is 0, and a
        # negative or nan target gives nan.
        loss = target.xlogy(target) - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return apply_reduction(loss, reduction)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean") -> Tensor:
    reduction = legacy_reduction(size_average, reduce, reduction)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        stirling = target * target.log() - target + 0.5 * (2 * 3.141592653589793 * target).log()
        loss = loss + where(target > 1, stirling, target * 0.0)
    return apply_reduction(loss, reduction)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    reduction = legacy_reduction(size_average, reduce, reduction)
    if not input1.ndim == input2.ndim == target.ndim:
        raise RuntimeError("margin_ranking_loss : All input tensors should have same dimension "
                           f"but got sizes: input1: {input1.shape}, input2: {input2.shape}, "
                           f"target: {target.shape} ")
    loss = (-target * (input1 - input2) + margin).clamp(min=0)
    return apply_reduction(loss, reduction)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps)) along dim."""
    norm1 = l2_norm(x1, dim).clamp(min=eps)
    norm2 = l2_norm(x2, dim).clamp(min=eps)
    return ((x1 / norm1) * (x2 / norm2)).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    diff = x1 - x2 + eps
    if p == 2.0:
        out = l2_norm(diff, -1)
        return out if keepdim else out.squeeze(-1)
    return diff.norm(p, -1, keepdim=keepdim)


def linear_cross_entropy(input: Tensor, linear_weight: Tensor, target: Tensor,
                         linear_bias: Tensor | None = None, weight: Tensor | None = None,
                         reduction: str = "mean", ignore_index: int | None = None,
                         label_smoothing: float = 0.0, options=None) -> Tensor:
    """cross_entropy(linear(input, W, b) shaped (*batch, C, *out_features), target).

    linear_weight is (C, *out_features, in_features). PyTorch's `options` choose a
    chunked, memory-saving schedule of the same sum; lazyt computes it one way (its
    scheduler fuses the logits with the softmax), so options are accepted and unused.
    """
    if input.ndim < 1 or input.ndim > 2:
        raise RuntimeError(f"expected input with dimensionality 1 or 2, got {input.ndim}")
    if linear_weight.ndim < 2:
        raise RuntimeError("expected linear_weight with dimensionality at least 2, got "
                           f"{linear_weight.ndim}")
    batch = tuple(input.shape[:-1])
    in_features = input.shape[-1]
    if in_features != linear_weight.shape[-1]:
        raise RuntimeError("expected equal input and linear_weight last dimensions "
                           f"(in_features), got {in_features} and {linear_weight.shape[-1]}, "
                           "respectively")
    classes = linear_weight.shape[0]
    out_features = tuple(linear_weight.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (classes, *out_features):
        raise RuntimeError(f"expected linear_bias shape {(classes, *out_features)}, got "
                           f"{tuple(linear_bias.shape)}")
    if out_features and not batch:
        raise RuntimeError(f"K-dimensional loss defined by linear_weight shape "
                           f"{tuple(linear_weight.shape)} requires batched input, (N, "
                           f"{in_features}), got unbatched input with shape "
                           f"{tuple(input.shape)}")
    logits_shape = (*batch, classes, *out_features)
    if tuple(target.shape) == logits_shape and ignore_index is not None:
        raise RuntimeError("ignore_index cannot be specified when target contains probabilities")
    flat_bias = None if linear_bias is None else linear_bias.reshape(-1)
    logits = linear(input, linear_weight.reshape(-1, in_features), flat_bias).reshape(
        logits_shape)
    return cross_entropy(logits, target, weight=weight, reduction=reduction,
                         ignore_index=-100 if ignore_index is None else ignore_index,
                         label_smoothing=label_smoothing)
