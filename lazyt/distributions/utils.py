"""Helpers shared by lt.distributions (torch.distributions.utils' names): parameter
broadcasting, probs <-> logits, and a cached property for derived parameters.

Everything is a lazyt op: the helpers build IR like any other frontend code.
"""

from __future__ import annotations

import math
from numbers import Number

from lazyt import creation, dtypes, elementwise, shape_ops
from lazyt.nn._functional import activation
from lazyt.tensor import Size, Tensor

where = elementwise.FUNCTIONS["where"]


class lazy_property:  # noqa: N801 - PyTorch's name
    """A derived parameter computed on first read and then stored on the instance
    (so a distribution given `probs` computes `logits` once, and only `probs` is
    validated and shown in the repr)."""

    def __init__(self, function):
        self.function = function
        self.__doc__ = function.__doc__
        self.__name__ = function.__name__

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        value = self.function(instance)
        instance.__dict__[self.function.__name__] = value
        return value


def broadcast_all(*values):
    """Tensors and numbers broadcast to one shape; numbers take the dtype of the
    first tensor among the values (else the default dtype)."""
    if not all(isinstance(v, (Tensor, Number)) for v in values):
        raise ValueError("Input arguments must all be instances of Number, "
                         "torch.Tensor or objects implementing __torch_function__.")
    like = next((v for v in values if isinstance(v, Tensor)), None)
    dtype = like.dtype if like is not None else dtypes.get_default_dtype()
    tensors = [v if isinstance(v, Tensor) else creation.tensor(v, dtype=dtype) for v in values]
    return tuple(shape_ops.broadcast_tensors(*tensors))


def sum_rightmost(value: Tensor, dims: int) -> Tensor:
    """The sum over the last `dims` dimensions (the event dimensions of a log density)."""
    if dims == 0:
        return value
    return value.reshape(tuple(value.shape[:value.dim() - dims]) + (-1,)).sum(-1)


def clamp_probs(probs: Tensor) -> Tensor:
    eps = dtypes.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    clamped = clamp_probs(probs)
    if is_binary:
        return clamped.log() - (-clamped).log1p()
    return clamped.log()


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    if is_binary:
        return logits.sigmoid()
    return logits.softmax(-1)


def softplus(x: Tensor) -> Tensor:
    """log(1 + exp(x)), with nn.functional's overflow guard and exact gradient at 0."""
    return activation.softplus(x)


def extended_shape(sample_shape, batch_shape, event_shape) -> Size:
    return Size(tuple(sample_shape) + tuple(batch_shape) + tuple(event_shape))


LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def check_one_of(probs, logits) -> None:
    """A distribution takes its parameter as probs or as logits, exactly one."""
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")


class BinaryParameters:
    """probs and logits of a success probability (Bernoulli, Binomial, Geometric):
    the one not given is derived from the other on first read."""

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)
