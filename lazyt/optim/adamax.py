"""Adamax (Adam with the infinity norm), PyTorch's single-tensor algorithm."""

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
    step_value,
    zero_step,
)


class Adamax(Optimizer):
    def __init__(self, params, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        super().__init__(params, defaults)

    @_no_grad_step
    def step(self, closure: Callable | None = None):
        loss = closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, eps, weight_decay = lr_value(group["lr"]), group["eps"], group["weight_decay"]
            as_tensors = self._scalars_as_tensors(group)
            for param in self._params_with_grad(group):
                state = self.state[param]
                if len(state) == 0:
                    state["step"] = zero_step(param)
                    state["exp_avg"] = creation.zeros_like(param)
                    state["exp_inf"] = creation.zeros_like(param)
                grad = -param.grad if group["maximize"] else param.grad
                state["step"].add_(1)
                if weight_decay != 0:
                    grad = grad + param * weight_decay
                exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
                exp_avg.lerp_(grad, 1 - beta1)
                exp_inf.mul_(beta2).maximum_(grad.abs() + eps)
                bias_correction = 1 - beta1 ** step_value(state["step"], as_tensors)
                add_scaled(param, exp_avg / exp_inf, -(lr / bias_correction))
        return loss
