"""ASGD (averaged stochastic gradient descent), PyTorch's single-tensor algorithm."""

from __future__ import annotations

from typing import Callable

from lazyt import creation, dtypes
from lazyt.optim.optimizer import (
    Optimizer,
    _no_grad_step,
    check_lr,
    closure_loss,
    lr_value,
    zero_step,
)
from lazyt.tensor import Tensor


class ASGD(Optimizer):
    def __init__(self, params, lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75,
                 t0: float = 1e6, weight_decay: float = 0, foreach: bool | None = None,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        check_lr(lr)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0,
                    "weight_decay": weight_decay, "foreach": foreach, "maximize": maximize,
                    "capturable": capturable, "differentiable": differentiable}
        super().__init__(params, defaults)

    @_no_grad_step
    def step(self, closure: Callable | None = None):
        loss = closure_loss(closure)
        for group in self.param_groups:
            lr, lambd, alpha = lr_value(group["lr"]), group["lambd"], group["alpha"]
            t0, weight_decay = group["t0"], group["weight_decay"]
            as_tensors = self._scalars_as_tensors(group)
            for param in self._params_with_grad(group):
                state = self.state[param]
                if len(state) == 0:
                    state["step"] = zero_step(param)
                    state["eta"] = (lr.detach().to(dtypes.float32).clone()
                                    if isinstance(lr, Tensor) else
                                    creation.tensor(lr, dtype=dtypes.float32,
                                                    device=param.device))
                    state["mu"] = creation.ones((), dtype=dtypes.float32, device=param.device)
                    state["ax"] = creation.zeros_like(param)
                grad = -param.grad if group["maximize"] else param.grad
                step_t, eta, mu, ax = state["step"], state["eta"], state["mu"], state["ax"]
                step_t.add_(1)
                if weight_decay != 0:
                    grad = grad + param * weight_decay
                if as_tensors:
                    param.mul_(1 - lambd * eta)
                    param.sub_(grad * eta)
                    ax.add_((param - ax) * mu)
                    eta.copy_(lr / ((1 + lambd * lr * step_t) ** alpha))
                    mu.copy_(1 / (step_t - t0).clamp(min=1))
                    continue
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
        return loss
