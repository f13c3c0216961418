"""Embedding lookups and one_hot: advanced indexing into the weight, whose
gradient scatter-adds into the rows that were read."""

from __future__ import annotations

import math

from lazyt import creation, dtypes, elementwise, indexing, shape_ops
from lazyt.autograd import grad_mode
from lazyt.tensor import Tensor


def normalized_padding_idx(padding_idx: int | None, num_embeddings: int,
                           message: str = "Padding_idx must be within num_embeddings"
                           ) -> int | None:
    """padding_idx as a row number in [0, num_embeddings) (negative counts from the end);
    PyTorch's AssertionError (with its message) outside that range."""
    if padding_idx is None:
        return None
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise AssertionError(message)
    return padding_idx % num_embeddings


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    if weight.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    if input.dtype.is_floating_point or input.dtype is dtypes.bool_:
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got {input.dtype} instead")
    if sparse:
        raise NotImplementedError("embedding(sparse=True): lazyt has no sparse gradients; "
                                  "use sparse=False")
    padding_idx = normalized_padding_idx(padding_idx, weight.shape[0])
    if max_norm is not None:
        _renorm_rows(weight, input, max_norm, norm_type)
    rows = indexing.getitem_recorded_as(weight, input, "EmbeddingBackward0")
    if scale_grad_by_freq:
        rows = _scale_grad_by_frequency(rows, input)
    if padding_idx is None:
        return rows
    # The padding row reads its value but receives no gradient (PyTorch's rule).
    real = (input != padding_idx).unsqueeze(-1)
    return elementwise.where_recorded_as(real, rows, rows.detach(), "EmbeddingBackward0", (1,))


def _scale_grad_by_frequency(rows: Tensor, input: Tensor) -> Tensor:
    """rows unchanged, but each one's gradient divided by how often its index
    occurs in input (scale_grad_by_freq): rows.detach() + (rows - rows.detach()) / f."""
    flat = input.reshape(-1)
    frequency = (flat.unsqueeze(0) == flat.unsqueeze(1)).sum(1).reshape(input.shape)
    detached = rows.detach()
    return detached + (rows - detached) / frequency.unsqueeze(-1).to(rows.dtype)


def _renorm_rows(weight: Tensor, input: Tensor, max_norm: float, norm_type: float) -> None:
    """Scale, in place, the looked-up rows whose norm exceeds max_norm."""
    with grad_mode.no_grad():
        used = creation.zeros(weight.shape[0], dtype=dtypes.bool_, device=weight.device)
        used[input.reshape(-1)] = True
        norms = weight.norm(norm_type, 1, keepdim=True)
        too_big = used.unsqueeze(1) & (norms > max_norm)
        weight.mul_(elementwise.where(too_big, max_norm / (norms + 1e-7), 1.0))


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None,
                  max_norm: float | None = None, norm_type: float = 2.0,
                  scale_grad_by_freq: bool = False, mode: str = "mean",
                  sparse: bool = False, per_sample_weights: Tensor | None = None,
                  include_last_offset: bool = False, padding_idx: int | None = None) -> Tensor:
    """Sums, means or maxima of bags of embeddings: each row of a 2-D input is
    a bag, or a 1-D input is cut into bags where `offsets` start them.

    A (bags, indices) membership mask drives it: sums are one matmul of the
    mask with the looked-up rows, maxima a masked max. Entries equal to
    padding_idx belong to no bag; an empty bag gives zeros."""
    if per_sample_weights is not None and tuple(input.shape) != tuple(per_sample_weights.shape):
        raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is "
                         f"not None, then it must have the same shape as the input "
                         f"({input.shape})")
    if weight.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension "
                         f"{weight.ndim}")
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated "
                             "is a mini-batch of fixed length sequences. However, found offsets "
                             f"of type {type(offsets)}")
        offsets = creation.arange(0, input.numel(), max(input.shape[1], 1), device=input.device)
        include_last_offset = False
        input = input.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor")
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{input.ndim}")
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise ValueError("max mode does not support sparse weights")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError("embedding_bag: per_sample_weights was not None. "
                                  "per_sample_weights is only supported for mode='sum' "
                                  f"(got mode='{mode}'). Please open a feature request on "
                                  "GitHub.")
    if sparse:
        raise NotImplementedError("embedding_bag(sparse=True): lazyt has no sparse gradients; "
                                  "use sparse=False")
    padding_idx = normalized_padding_idx(padding_idx, weight.shape[0])
    if max_norm is not None:
        _renorm_rows(weight, input, max_norm, norm_type)
    members = _bag_membership(input, offsets, include_last_offset, padding_idx)
    rows = weight[input]
    if scale_grad_by_freq:
        rows = _scale_grad_by_frequency(rows, input)
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.unsqueeze(-1)
    counts = members.sum(1, keepdim=True)
    if mode == "max":
        candidates = elementwise.where(members.unsqueeze(-1), rows.unsqueeze(0), -math.inf)
        largest, _ = candidates.max(1)
        return elementwise.where(counts > 0, largest, 0.0)
    sums = members.to(rows.dtype) @ rows
    if mode == "sum":
        return sums
    return sums / counts.clamp(min=1).to(rows.dtype)


def _bag_membership(input: Tensor, offsets: Tensor, include_last_offset: bool,
                    padding_idx: int | None) -> Tensor:
    """(bags, len(input)) bool: entry j belongs to bag b (and is not padding)."""
    starts = offsets[:-1] if include_last_offset else offsets
    positions = creation.arange(input.shape[0], device=input.device)
    # The bag of entry j: the last start at or before j.
    bag_of = (starts.unsqueeze(0) <= positions.unsqueeze(1)).sum(1) - 1
    bags = creation.arange(starts.shape[0], device=input.device)
    members = bag_of.unsqueeze(0) == bags.unsqueeze(1)
    if include_last_offset and offsets.shape[0] > 0:
        members = members & (positions < offsets[-1]).unsqueeze(0)
    if padding_idx is not None:
        members = members & (input != padding_idx).unsqueeze(0)
    return members


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    return shape_ops.one_hot(tensor, num_classes)
