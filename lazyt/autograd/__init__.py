"""Autograd: grad mode and the backward graph, built from lazyt's own ops.

grad_mode.py holds the hooks the op modules call; importing function.py
registers the recorders behind them, engine.py gives Tensor its backward
methods, rules.py holds one gradient rule per op, gradcheck.py checks them.
"""

from lazyt.autograd.engine import backward, grad
from lazyt.autograd.function import Function, FunctionCtx  # registers the recorders
from lazyt.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    record_view,
    set_grad_enabled,
)
from lazyt.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = ["Function", "FunctionCtx", "GradcheckError", "backward", "enable_grad", "grad",
           "gradcheck", "gradgradcheck", "inference_mode", "is_grad_enabled", "no_grad",
           "record_view", "set_grad_enabled"]
