"""F.ctc_loss: the connectionist temporal classification loss, as the forward
(alpha) recursion of the CTC paper in log space, one step per time frame,
written with lazyt ops so that autograd differentiates the recursion.

The targets are extended with blanks (b, y1, b, y2, ..., b); alpha[s] is the
log-probability of all alignments of the first t frames ending at extended
position s. A step combines alpha[s], alpha[s-1] and (when y_s is no blank
and differs from y_{s-2}) alpha[s-2]; frames past a sample's input length
leave its alpha unchanged. The loss is -log(alpha[2L] + alpha[2L-1]).

PyTorch's gradient is the one through a log_softmax that its inputs are
assumed to come out of (exp(log_probs) is added on every frame that counts);
the same term is added here, with no effect on the value.
"""

from __future__ import annotations

import math

from lazyt import creation, dtypes
from lazyt.elementwise import where
from lazyt.shape_ops import cat, stack
from lazyt.tensor import Tensor


def _as_lengths(lengths, name: str) -> list[int]:
    if isinstance(lengths, Tensor):
        if lengths.dtype.is_floating_point or lengths.dtype is dtypes.bool_:
            raise RuntimeError(f"{name} must be integral")
        return [int(v) for v in lengths.reshape(-1).tolist()]
    return [int(v) for v in lengths]


def _log_add(*terms: Tensor) -> Tensor:
    """log(sum(exp(terms))), -inf where every term is -inf, with finite gradients."""
    largest = terms[0]
    for term in terms[1:]:
        largest = largest.maximum(term)
    hopeless = largest == -math.inf
    shift = where(hopeless, 0.0, largest).detach()
    total = sum((term - shift).exp() for term in terms[1:]) + (terms[0] - shift).exp()
    return where(hopeless, -math.inf, where(hopeless, 1.0, total).log() + shift)


def _padded_targets(targets: Tensor, target_lengths: list[int], batch: int) -> Tensor:
    """(N, S) targets: a padded 2-D tensor as it is, concatenated 1-D ones cut up."""
    if targets.ndim == 2:
        return targets
    longest = max(target_lengths, default=0)
    rows, start = [], 0
    for length in target_lengths:
        row = targets[start:start + length]
        rows.append(cat([row, row.new_zeros(longest - length)]) if length < longest else row)
        start += length
    if not rows:
        return targets.new_zeros(batch, 0)
    return stack(rows)


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths, target_lengths,
             blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """CTC loss of (T, N, C) (or unbatched (T, C)) log-probabilities."""
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    unbatched = log_probs.ndim == 2
    if unbatched:
        log_probs = log_probs.unsqueeze(1)
        targets = targets.unsqueeze(0) if targets.ndim == 1 and isinstance(
            target_lengths, Tensor) and target_lengths.ndim == 0 else targets
    if log_probs.ndim != 3:
        raise RuntimeError(f"ctc_loss: expected log_probs to be 2-D or 3-D (T, N, C), got "
                           f"{list(log_probs.shape)}")
    frames, batch, classes = log_probs.shape
    input_lengths = _as_lengths(input_lengths, "input_lengths")
    target_lengths = _as_lengths(target_lengths, "target_lengths")
    if not 0 <= blank < classes:
        raise RuntimeError("blank must be in label range")
    if len(input_lengths) != batch:
        raise RuntimeError(f"input_lengths must be of size batch_size, but got "
                           f"{len(input_lengths)} and batch size {batch}")
    if len(target_lengths) != batch:
        raise RuntimeError(f"target_lengths must be of size batch_size, but got "
                           f"{len(target_lengths)} and batch size {batch}")
    for length in input_lengths:
        if length > frames or length < 0:
            raise RuntimeError(f"Expected input_lengths to have value at most {frames}, but got "
                               f"value {length} (while checking arguments for ctc_loss_cpu)")
    if targets.ndim == 2 and targets.shape[0] != batch:
        raise RuntimeError(f"Expected tensor to have size at least {batch} at dimension 0, but "
                           f"got size {targets.shape[0]} for argument #2 'targets' (while "
                           "checking arguments for ctc_loss_cpu)")
    padded = _padded_targets(targets, target_lengths, batch).to(dtypes.int64)
    if targets.ndim == 2 and any(length > padded.shape[1] for length in target_lengths):
        raise RuntimeError(f"Expected tensor to have size at least {max(target_lengths)} at "
                           f"dimension 1, but got size {padded.shape[1]} for argument #2 "
                           "'targets' (while checking arguments for ctc_loss_cpu)")
    losses = _ctc_losses(log_probs, padded, input_lengths, target_lengths, blank, zero_infinity)
    if unbatched:
        losses = losses.squeeze(0)
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    divisors = creation.tensor([max(length, 1) for length in target_lengths],
                               dtype=losses.dtype, device=losses.device)
    return (losses / divisors.reshape(losses.shape)).mean()


def _ctc_losses(log_probs: Tensor, targets: Tensor, input_lengths: list[int],
                target_lengths: list[int], blank: int, zero_infinity: bool) -> Tensor:
    """(N,) negative log-likelihoods by the alpha recursion."""
    frames, batch, _ = log_probs.shape
    longest = targets.shape[1]
    device = log_probs.device
    # The extended labels (N, 2S+1): blank, y1, blank, y2, ..., blank.
    blanks = creation.full((batch, longest), blank, dtype=dtypes.int64, device=device)
    extended = cat([stack([blanks, targets], 2).reshape(batch, 2 * longest),
                    creation.full((batch, 1), blank, dtype=dtypes.int64, device=device)], 1)
    positions = 2 * longest + 1
    emissions = log_probs.gather(2, extended.unsqueeze(0).expand(frames, batch, positions))
    # alpha[s-2] may feed alpha[s] when y_s is no blank and differs from y_{s-2}.
    two_back = cat([extended.new_full((batch, 2), blank), extended[:, :-2]], 1)
    may_skip = (extended != blank) & (extended != two_back)
    lengths = creation.tensor(target_lengths, dtype=dtypes.int64, device=device).unsqueeze(1)
    index = creation.arange(positions, device=device).unsqueeze(0)
    within = index < 2 * lengths + 1
    negative_inf = -math.inf
    start = where((index < 2) & within, emissions[0], negative_inf)
    alpha = start
    still_reading = creation.tensor(input_lengths, dtype=dtypes.int64, device=device)
    still_reading = still_reading.unsqueeze(1)
    fill = creation.full((batch, 1), negative_inf, dtype=log_probs.dtype, device=device)
    for t in range(1, max(input_lengths, default=0)):
        one_back = cat([fill, alpha[:, :-1]], 1)
        skipped = where(may_skip, cat([fill, fill, alpha[:, :-2]], 1), negative_inf)
        stepped = where(within, _log_add(alpha, one_back, skipped) + emissions[t], negative_inf)
        alpha = where(t < still_reading, stepped, alpha)
    last = (2 * lengths).clamp(max=positions - 1)
    end_blank = alpha.gather(1, last).squeeze(1)
    end_label = where(lengths.squeeze(1) > 0, alpha.gather(1, (last - 1).clamp(min=0)).squeeze(1),
                      negative_inf)
    losses = -_log_add(end_blank, end_label)
    # PyTorch's gradient adds exp(log_probs) on every frame read (the gradient
    # through the log_softmax it assumes): a term of value 0.
    frame_index = creation.arange(frames, device=device).reshape(frames, 1, 1)
    read = frame_index < still_reading.reshape(1, batch, 1)
    weighted = where(read, log_probs * log_probs.detach().exp(), 0.0).sum((0, 2))
    losses = losses + (weighted - weighted.detach())
    if zero_infinity:
        infinite = losses == math.inf
        losses = where(infinite, 0.0, losses)
    return losses
