"""Rprop (resilient backpropagation: per-element step sizes from gradient
signs), PyTorch's single-tensor algorithm."""

from __future__ import annotations

from functools import partial

from lazyt import creation
from lazyt.elementwise import where
from lazyt.optim._checks import check_lr
from lazyt.optim.optimizer import SingleTensorOptimizer
from lazyt.tensor import Tensor


class Rprop(SingleTensorOptimizer):
    def __init__(self, params, lr: float = 1e-2, etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = {"lr": lr, "etas": etas, "step_sizes": step_sizes, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        super().__init__(params, defaults)

    def _update_param(self, group: dict, param: Tensor) -> None:
        etaminus, etaplus = group["etas"]
        step_size_min, step_size_max = group["step_sizes"]
        state = self._state_for(param, prev=creation.zeros_like,
                                step_size=partial(_initial_step_size, group["lr"]))
        state["step"].add_(1)
        grad = -param.grad if group["maximize"] else param.grad
        prev, step_size = state["prev"], state["step_size"]
        sign = (grad * prev).sign()
        # the factors in the parameter's dtype (where promotes a Python float to it)
        factor = where(sign > 0, etaplus,
                       where(sign < 0, etaminus, creation.ones_like(sign)))
        step_size.mul_(factor).clamp_(step_size_min, step_size_max)
        # where the gradient changed sign: no step, and no sign change next time
        grad = where(factor == etaminus, 0.0, grad)
        param.sub_(grad.sign() * step_size)
        prev.copy_(grad)


def _initial_step_size(lr, param: Tensor) -> Tensor:
    """step_size's start: the learning rate in every element, like the gradient."""
    return creation.full_like(param.grad, float(lr) if isinstance(lr, Tensor) else lr)
