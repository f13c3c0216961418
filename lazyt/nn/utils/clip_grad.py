"""nn.utils: gradient clipping and parameter <-> vector conversion."""

from __future__ import annotations

import math
from collections.abc import Iterable

from lazyt import creation, shape_ops
from lazyt.autograd import grad_mode
from lazyt.tensor import Tensor


def _grads(parameters) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def get_total_norm(tensors: Iterable[Tensor], norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if not tensors:
        return creation.tensor(0.0)
    norm_type = float(norm_type)
    if norm_type == math.inf:
        total = shape_ops.stack([t.detach().abs().amax() for t in tensors]).amax()
    else:
        norms = shape_ops.stack([t.detach().norm(norm_type) for t in tensors])
        total = norms.norm(norm_type)
    if error_if_nonfinite and not bool(total.isfinite()):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           "`parameters` is non-finite, so it cannot be clipped. To disable this "
                           "error and scale the gradients by the non-finite norm anyway, set "
                           "`error_if_nonfinite=False`")
    return total


def clip_grads_with_norm_(parameters, max_norm: float, total_norm: Tensor,
                          foreach=None) -> None:
    grads = _grads(parameters)
    clip_coef = (max_norm / (total_norm + 1e-6)).clamp(max=1.0)
    with grad_mode.no_grad():
        for g in grads:
            g.mul_(clip_coef.to(g.dtype))


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """Scale all gradients together so that their joint norm is at most max_norm;
    returns the joint norm before clipping."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    parameters = list(parameters)
    grads = _grads(parameters)
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    if grads:
        clip_grads_with_norm_(parameters, max_norm, total)
    return total


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    with grad_mode.no_grad():
        for g in _grads(parameters):
            g.clamp_(-clip_value, clip_value)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    return shape_ops.cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    offset = 0
    with grad_mode.no_grad():
        for param in parameters:
            n = param.numel()
            param.copy_(vec[offset:offset + n].view_as(param))
            offset += n
