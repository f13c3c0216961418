"""Embedding lookups and one_hot: advanced indexing into the weight, whose
gradient scatter-adds into the rows that were read."""

from __future__ import annotations

from lazyt import creation, dtypes, elementwise, indexing, shape_ops
from lazyt.autograd import grad_mode
from lazyt.tensor import Tensor


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    if input.dtype.is_floating_point or input.dtype is dtypes.bool_:
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got {input.dtype} instead")
    if sparse:
        raise NotImplementedError("embedding(sparse=True): lazyt has no sparse gradients; "
                                  "use sparse=False")
    if scale_grad_by_freq:
        raise NotImplementedError("embedding(scale_grad_by_freq=True) is not supported")
    num_embeddings = weight.shape[0]
    if padding_idx is not None:
        if not -num_embeddings <= padding_idx < num_embeddings:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx %= num_embeddings
    if max_norm is not None:
        _renorm_rows(weight, input, max_norm, norm_type)
    rows = indexing.getitem_recorded_as(weight, input, "EmbeddingBackward0")
    if padding_idx is None:
        return rows
    # The padding row reads its value but receives no gradient (PyTorch's rule).
    real = (input != padding_idx).unsqueeze(-1)
    return elementwise.where_recorded_as(real, rows, rows.detach(), "EmbeddingBackward0", (1,))


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
    """The 2-D form (bags of equal length, one per row of input) only."""
    if offsets is not None or input.ndim != 2:
        raise NotImplementedError("embedding_bag: only 2-D input without offsets is supported")
    rows = embedding(input, weight, padding_idx, max_norm, norm_type)
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.unsqueeze(-1)
    if mode == "sum":
        return rows.sum(1)
    if mode == "mean":
        return rows.mean(1)
    if mode == "max":
        return rows.amax(1)
    raise ValueError(f"mode has to be one of sum, mean or max, got {mode}")


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    return shape_ops.one_hot(tensor, num_classes)
