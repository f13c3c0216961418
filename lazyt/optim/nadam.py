"""NAdam (Adam with Nesterov momentum and momentum decay), PyTorch's single-tensor algorithm."""

from __future__ import annotations

from typing import Callable

from lazyt import creation, dtypes
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


class NAdam(Optimizer):
    def __init__(self, params, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay,
                    "decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    @_no_grad_step
    def step(self, closure: Callable | None = None):
        loss = closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, eps, weight_decay = lr_value(group["lr"]), group["eps"], group["weight_decay"]
            momentum_decay = group["momentum_decay"]
            as_tensors = self._scalars_as_tensors(group)
            for param in self._params_with_grad(group):
                state = self.state[param]
                if len(state) == 0:
                    state["step"] = zero_step(param)
                    state["mu_product"] = creation.ones((), dtype=dtypes.float32,
                                                        device=param.device)
                    state["exp_avg"] = creation.zeros_like(param)
                    state["exp_avg_sq"] = creation.zeros_like(param)
                grad = -param.grad if group["maximize"] else param.grad
                state["step"].add_(1)
                step = step_value(state["step"], as_tensors)
                bias_correction2 = 1 - beta2 ** step
                if weight_decay != 0:
                    if group["decoupled_weight_decay"]:
                        param.mul_(1 - lr * weight_decay)
                    else:
                        grad = grad + param * weight_decay
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
        return loss
