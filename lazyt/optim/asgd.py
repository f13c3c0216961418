"""ASGD (averaged stochastic gradient descent), PyTorch's single-tensor algorithm."""

from __future__ import annotations

from functools import partial

from lazyt import creation, dtypes
from lazyt.optim._checks import check_lr, check_non_negative
from lazyt.optim.optimizer import SingleTensorOptimizer, decayed_grad, lr_value, new_one
from lazyt.tensor import Tensor


class ASGD(SingleTensorOptimizer):
    def __init__(self, params, lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75,
                 t0: float = 1e6, weight_decay: float = 0, foreach: bool | None = None,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        check_lr(lr)
        check_non_negative("weight_decay", weight_decay)
        defaults = {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0,
                    "weight_decay": weight_decay, "foreach": foreach, "maximize": maximize,
                    "capturable": capturable, "differentiable": differentiable}
        super().__init__(params, defaults)

    def _update_param(self, group: dict, param: Tensor) -> None:
        lr, lambd, alpha = lr_value(group["lr"]), group["lambd"], group["alpha"]
        t0 = group["t0"]
        as_tensors = self._scalars_as_tensors(group)
        state = self._state_for(param, eta=partial(_initial_eta, lr), mu=new_one,
                                ax=creation.zeros_like)
        step_t, eta, mu, ax = state["step"], state["eta"], state["mu"], state["ax"]
        step_t.add_(1)
        grad = decayed_grad(param, param.grad, group)
        if as_tensors:
            param.mul_(1 - lambd * eta)
            param.sub_(grad * eta)
            ax.add_((param - ax) * mu)
            eta.copy_(lr / ((1 + lambd * lr * step_t) ** alpha))
            mu.copy_(1 / (step_t - t0).clamp(min=1))
            return
        eta_value = float(eta)
        param.mul_(1 - lambd * eta_value)  # decay term
        param.add_(grad, alpha=-eta_value)
        if float(mu) != 1:
            ax.add_((param - ax) * mu)
        else:
            ax.copy_(param)
        step = float(step_t)
        # as PyTorch: through a tensor of the default dtype (as_tensor)
        new_eta = lr / ((1 + lambd * lr * step) ** alpha)
        eta.copy_(new_eta if isinstance(new_eta, Tensor) else creation.tensor(new_eta))
        mu.copy_(creation.tensor(1 / max(1, step - t0)))


def _initial_eta(lr, param: Tensor) -> Tensor:
    """eta's start: the learning rate as a float32 0-d tensor."""
    if isinstance(lr, Tensor):
        return lr.detach().to(dtypes.float32).clone()
    return creation.tensor(lr, dtype=dtypes.float32, device=param.device)
