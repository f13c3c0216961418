"""Adadelta (rho, eps, weight decay, maximize), PyTorch's single-tensor algorithm."""

from __future__ import annotations

from lazyt import creation
from lazyt.optim._checks import check_lr, check_non_negative
from lazyt.optim.optimizer import SingleTensorOptimizer, add_scaled, decayed_grad, lr_value
from lazyt.tensor import Tensor


class Adadelta(SingleTensorOptimizer):
    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach: bool | None = None, *,
                 capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        check_non_negative("epsilon", eps)
        check_non_negative("weight_decay", weight_decay)
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "capturable": capturable, "foreach": foreach,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def _update_param(self, group: dict, param: Tensor) -> None:
        lr, rho, eps = lr_value(group["lr"]), group["rho"], group["eps"]
        state = self._state_for(param, square_avg=creation.zeros_like,
                                acc_delta=creation.zeros_like)
        state["step"].add_(1)
        grad = decayed_grad(param, param.grad, group)
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        square_avg.mul_(rho).add_(grad * grad * (1 - rho))
        std = (square_avg + eps).sqrt()
        delta = (acc_delta + eps).sqrt() / std * grad
        acc_delta.mul_(rho).add_(delta * delta * (1 - rho))
        add_scaled(param, delta, -lr)
