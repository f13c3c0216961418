"""NAdam (Adam with Nesterov momentum and momentum decay), PyTorch's single-tensor algorithm."""

from __future__ import annotations

from lazyt import creation
from lazyt.optim._checks import check_adam_arguments, check_non_negative
from lazyt.optim.optimizer import (
    SingleTensorOptimizer,
    add_scaled,
    decayed_grad,
    lr_value,
    new_one,
    step_value,
)
from lazyt.tensor import Tensor


class NAdam(SingleTensorOptimizer):
    def __init__(self, params, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        check_adam_arguments(lr, betas, eps, weight_decay)
        check_non_negative("momentum_decay", momentum_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay,
                    "decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def _update_param(self, group: dict, param: Tensor) -> None:
        beta1, beta2 = group["betas"]
        lr, eps, momentum_decay = lr_value(group["lr"]), group["eps"], group["momentum_decay"]
        as_tensors = self._scalars_as_tensors(group)
        state = self._state_for(param, mu_product=new_one, exp_avg=creation.zeros_like,
                                exp_avg_sq=creation.zeros_like)
        state["step"].add_(1)
        step = step_value(state["step"], as_tensors)
        bias_correction2 = 1 - beta2 ** step
        grad = decayed_grad(param, param.grad, group, lr)
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        mu_product = state["mu_product"]
        mu_product.mul_(mu)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).add_(grad * grad * (1 - beta2))
        denom = (exp_avg_sq / bias_correction2).sqrt() + eps
        product = mu_product if as_tensors else float(mu_product)
        product_next = product * mu_next
        add_scaled(param, grad / denom, -lr * (1.0 - mu) / (1.0 - product))
        add_scaled(param, exp_avg / denom, (-lr * mu_next) / (1.0 - product_next))
