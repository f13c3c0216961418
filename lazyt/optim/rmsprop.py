"""RMSprop (alpha, eps, weight decay, momentum, centered, maximize), PyTorch's algorithm."""

from __future__ import annotations

from typing import Callable

from lazyt import creation
from lazyt.optim.optimizer import (
    Optimizer,
    _no_grad_step,
    check_lr,
    closure_loss,
    lr_value,
    new_step,
)
from lazyt.tensor import Tensor


class RMSprop(Optimizer):
    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 capturable: bool = False, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps,
                    "centered": centered, "weight_decay": weight_decay, "capturable": capturable,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable}
        super().__init__(params, defaults)

    @_no_grad_step
    def step(self, closure: Callable | None = None):
        loss = closure_loss(closure)
        for group in self.param_groups:
            lr, alpha, eps = lr_value(group["lr"]), group["alpha"], group["eps"]
            momentum, weight_decay = group["momentum"], group["weight_decay"]
            for param in self._params_with_grad(group):
                state = self.state[param]
                if len(state) == 0:
                    state["step"] = new_step(param)
                    state["square_avg"] = creation.zeros_like(param)
                    if momentum > 0:
                        state["momentum_buffer"] = creation.zeros_like(param)
                    if group["centered"]:
                        state["grad_avg"] = creation.zeros_like(param)
                grad = -param.grad if group["maximize"] else param.grad
                state["step"].add_(1)
                if weight_decay != 0:
                    grad = grad + param * weight_decay
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
                if isinstance(lr, Tensor):
                    param.sub_(update * lr)
                else:
                    param.add_(update, alpha=-lr)
        return loss
