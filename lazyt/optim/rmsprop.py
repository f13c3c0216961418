"""RMSprop (alpha, eps, weight decay, momentum, centered, maximize), PyTorch's algorithm."""

from __future__ import annotations

from lazyt import creation
from lazyt.optim._checks import check_lr, check_non_negative
from lazyt.optim.optimizer import SingleTensorOptimizer, add_scaled, decayed_grad, lr_value
from lazyt.tensor import Tensor


class RMSprop(SingleTensorOptimizer):
    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 capturable: bool = False, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        check_lr(lr)
        check_non_negative("epsilon", eps)
        check_non_negative("momentum", momentum)
        check_non_negative("weight_decay", weight_decay)
        check_non_negative("alpha", alpha)
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps,
                    "centered": centered, "weight_decay": weight_decay, "capturable": capturable,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable}
        super().__init__(params, defaults)

    def _update_param(self, group: dict, param: Tensor) -> None:
        lr, alpha, eps = lr_value(group["lr"]), group["alpha"], group["eps"]
        momentum = group["momentum"]
        buffers = ["square_avg"]
        if momentum > 0:
            buffers.append("momentum_buffer")
        if group["centered"]:
            buffers.append("grad_avg")
        state = self._state_for(param, **dict.fromkeys(buffers, creation.zeros_like))
        state["step"].add_(1)
        grad = decayed_grad(param, param.grad, group)
        square_avg = state["square_avg"]
        square_avg.mul_(alpha).add_(grad * grad * (1 - alpha))
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg.lerp_(grad, 1 - alpha)
            avg = (square_avg - grad_avg * grad_avg).sqrt() + eps
        else:
            avg = square_avg.sqrt() + eps
        if momentum > 0:
            buf = state["momentum_buffer"]
            buf.mul_(momentum).add_(grad / avg)
            update = buf
        else:
            update = grad / avg
        add_scaled(param, update, -lr)
