"""RAdam (Adam with a rectified adaptive learning rate), PyTorch's single-tensor algorithm."""

from __future__ import annotations

from lazyt import creation
from lazyt.elementwise import where
from lazyt.optim._checks import check_adam_arguments
from lazyt.optim.optimizer import SingleTensorOptimizer, decayed_grad, lr_value, step_value
from lazyt.tensor import Tensor


class RAdam(SingleTensorOptimizer):
    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, decoupled_weight_decay: bool = False,
                 *, foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False) -> None:
        check_adam_arguments(lr, betas, eps, weight_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "decoupled_weight_decay": decoupled_weight_decay,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def _update_param(self, group: dict, param: Tensor) -> None:
        beta1, beta2 = group["betas"]
        lr, eps = lr_value(group["lr"]), group["eps"]
        as_tensors = self._scalars_as_tensors(group)
        state = self._state_for(param, exp_avg=creation.zeros_like,
                                exp_avg_sq=creation.zeros_like)
        state["step"].add_(1)
        step = step_value(state["step"], as_tensors)
        grad = decayed_grad(param, param.grad, group, lr)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).add_(grad * grad * (1 - beta2))
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        bias_corrected_exp_avg = exp_avg / bias_correction1
        # the maximum length of the approximated SMA, and its length at this step
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        if as_tensors:
            adaptive_lr = bias_correction2 ** 0.5 / (exp_avg_sq.sqrt() + eps)
            update = where(rho_t > 5.0, _rectification(rho_t, rho_inf) * adaptive_lr,
                           1.0)
            param.sub_(bias_corrected_exp_avg * lr * update)
        elif rho_t > 5.0:
            adaptive_lr = bias_correction2 ** 0.5 / (exp_avg_sq.sqrt() + eps)
            param.sub_(bias_corrected_exp_avg * lr * adaptive_lr
                       * _rectification(rho_t, rho_inf))
        else:
            param.sub_(bias_corrected_exp_avg * lr)


def _rectification(rho_t, rho_inf: float):
    """RAdam's variance rectification term (defined where rho_t > 4)."""
    return ((rho_t - 4) * (rho_t - 2) * rho_inf
            / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
