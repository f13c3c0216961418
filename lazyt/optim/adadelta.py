"""Adadelta (rho, eps, weight decay, maximize), PyTorch's single-tensor algorithm."""

from __future__ import annotations

from typing import Callable

from lazyt import creation
from lazyt.optim.optimizer import (
    Optimizer,
    _no_grad_step,
    add_scaled,
    check_lr,
    closure_loss,
    lr_value,
    zero_step,
)


class Adadelta(Optimizer):
    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach: bool | None = None, *,
                 capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "capturable": capturable, "foreach": foreach,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    @_no_grad_step
    def step(self, closure: Callable | None = None):
        loss = closure_loss(closure)
        for group in self.param_groups:
            lr, rho, eps = lr_value(group["lr"]), group["rho"], group["eps"]
            weight_decay = group["weight_decay"]
            for param in self._params_with_grad(group):
                state = self.state[param]
                if len(state) == 0:
                    state["step"] = zero_step(param)
                    state["square_avg"] = creation.zeros_like(param)
                    state["acc_delta"] = creation.zeros_like(param)
                state["step"].add_(1)
                grad = -param.grad if group["maximize"] else param.grad
                if weight_decay != 0:
                    grad = grad + param * weight_decay
                square_avg, acc_delta = state["square_avg"], state["acc_delta"]
                square_avg.mul_(rho).add_(grad * grad * (1 - rho))
                std = (square_avg + eps).sqrt()
                delta = (acc_delta + eps).sqrt() / std * grad
                acc_delta.mul_(rho).add_(delta * delta * (1 - rho))
                add_scaled(param, delta, -lr)
        return loss
