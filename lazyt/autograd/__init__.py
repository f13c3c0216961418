"""Autograd: grad mode and the backward graph, built from lazyt's own ops."""

from lazyt.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    record_view,
    set_grad_enabled,
)

__all__ = ["enable_grad", "inference_mode", "is_grad_enabled", "no_grad", "record_view",
           "set_grad_enabled"]
