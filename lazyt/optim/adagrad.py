"""Adagrad (lr_decay, weight decay, initial accumulator, eps, maximize), PyTorch's algorithm."""

from __future__ import annotations

from lazyt import creation, dtypes
from lazyt.optim._checks import check_fused, check_lr, check_non_negative
from lazyt.optim.optimizer import SingleTensorOptimizer, decayed_grad, lr_value
from lazyt.tensor import Tensor


class Adagrad(SingleTensorOptimizer):
    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10,
                 foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        check_lr(lr)
        check_non_negative("lr_decay", lr_decay)
        check_non_negative("weight_decay", weight_decay)
        check_non_negative("initial_accumulator_value", initial_accumulator_value)
        check_non_negative("epsilon", eps)
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        check_fused(fused, foreach, differentiable)
        for group in self.param_groups:
            for param in group["params"]:
                state = self.state[param]
                state["step"] = creation.tensor(0.0, dtype=dtypes.float32)
                state["sum"] = creation.full_like(param, group["initial_accumulator_value"])

    def _update_param(self, group: dict, param: Tensor) -> None:
        lr, lr_decay, eps = lr_value(group["lr"]), group["lr_decay"], group["eps"]
        as_tensors = self._scalars_as_tensors(group)
        state = self.state[param]
        state["step"].add_(1)
        grad = decayed_grad(param, param.grad, group)
        state["sum"].add_(grad * grad)
        std = state["sum"].sqrt() + eps
        if as_tensors:
            step = state["step"].to(param.dtype)
            clr = lr / ((step - 1) * lr_decay + 1)
            param.sub_(grad / std * clr)
        else:
            clr = lr / (1 + (float(state["step"]) - 1) * lr_decay)
            param.add_(grad / std, alpha=-clr)
