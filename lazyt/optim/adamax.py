"""Adamax (Adam with the infinity norm), PyTorch's single-tensor algorithm."""

from __future__ import annotations

from lazyt import creation
from lazyt.optim._checks import check_adam_arguments
from lazyt.optim.optimizer import (
    SingleTensorOptimizer,
    add_scaled,
    decayed_grad,
    lr_value,
    step_value,
)
from lazyt.tensor import Tensor


class Adamax(SingleTensorOptimizer):
    def __init__(self, params, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        check_adam_arguments(lr, betas, eps, weight_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        super().__init__(params, defaults)

    def _update_param(self, group: dict, param: Tensor) -> None:
        beta1, beta2 = group["betas"]
        lr, eps = lr_value(group["lr"]), group["eps"]
        as_tensors = self._scalars_as_tensors(group)
        state = self._state_for(param, exp_avg=creation.zeros_like,
                                exp_inf=creation.zeros_like)
        state["step"].add_(1)
        grad = decayed_grad(param, param.grad, group)
        exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_inf.mul_(beta2).maximum_(grad.abs() + eps)
        bias_correction = 1 - beta1 ** step_value(state["step"], as_tensors)
        add_scaled(param, exp_avg / exp_inf, -(lr / bias_correction))
