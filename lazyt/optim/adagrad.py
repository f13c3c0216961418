"""Adagrad (lr_decay, weight decay, initial accumulator, eps, maximize), PyTorch's algorithm."""

from __future__ import annotations

from typing import Callable

from lazyt import creation, dtypes
from lazyt.optim.optimizer import (
    Optimizer,
    _no_grad_step,
    check_fused,
    check_lr,
    closure_loss,
    lr_value,
)


class Adagrad(Optimizer):
    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10,
                 foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        check_lr(lr)
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: "
                             f"{initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        check_fused(fused, foreach, differentiable)
        for group in self.param_groups:
            for param in group["params"]:
                state = self.state[param]
                state["step"] = creation.tensor(0.0, dtype=dtypes.float32)
                state["sum"] = creation.full_like(param, group["initial_accumulator_value"])

    @_no_grad_step
    def step(self, closure: Callable | None = None):
        loss = closure_loss(closure)
        for group in self.param_groups:
            lr, lr_decay = lr_value(group["lr"]), group["lr_decay"]
            weight_decay, eps = group["weight_decay"], group["eps"]
            as_tensors = self._scalars_as_tensors(group)
            for param in self._params_with_grad(group):
                state = self.state[param]
                state["step"].add_(1)
                grad = -param.grad if group["maximize"] else param.grad
                if weight_decay != 0:
                    grad = grad + param * weight_decay
                state["sum"].add_(grad * grad)
                std = state["sum"].sqrt() + eps
                if as_tensors:
                    step = state["step"].to(param.dtype)
                    clr = lr / ((step - 1) * lr_decay + 1)
                    param.sub_(grad / std * clr)
                else:
                    clr = lr / (1 + (float(state["step"]) - 1) * lr_decay)
                    param.add_(grad / std, alpha=-clr)
        return loss
