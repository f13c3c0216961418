"""SGD with momentum, dampening, weight decay, Nesterov and maximize (PyTorch's algorithm)."""

from __future__ import annotations

from typing import Callable

from lazyt.optim._checks import check_fused, check_tensor_lr
from lazyt.optim.optimizer import Optimizer, _no_grad_step, add_scaled, closure_loss, lr_value
from lazyt.regions import run_region
from lazyt.tensor import Tensor


class SGD(Optimizer):
    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        check_tensor_lr(lr)
        if lr < 0.0:  # (PyTorch's SGD test, which lets a NaN through)
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
                    "foreach": foreach, "differentiable": differentiable, "fused": fused}
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        check_fused(fused, foreach, differentiable)

    @_no_grad_step
    def step(self, closure: Callable | None = None):
        loss = closure_loss(closure)
        for group in self.param_groups:
            params = self._params_with_grad(group)
            grads = [p.grad for p in params]
            # PyTorch keeps no state for a parameter of a group without momentum
            buffers = [self.state[p].get("momentum_buffer") if group["momentum"] != 0
                       else None for p in params]
            if group["momentum"] != 0 and any(b is None for b in buffers) or \
                    isinstance(group["lr"], Tensor):
                for param, buf in zip(params, _update(group, params, grads, buffers)):
                    if buf is not None:
                        self.state[param]["momentum_buffer"] = buf
                continue
            # Every buffer exists: the whole group's update is one eager
            # region (regions.py), a single replayed launch for small models.
            n = len(params)
            hyper = tuple(group[k] for k in ("lr", "momentum", "dampening", "weight_decay",
                                             "nesterov", "maximize"))

            def update(*tensors, group=group, n=n):
                _update(group, tensors[:n], tensors[n:2 * n], tensors[2 * n:] or [None] * n)

            if group["momentum"] == 0:
                buffers = []
            run_region("sgd", update, (*params, *grads, *buffers), hyper, writes=True)
        return loss


def _update(group: dict, params, grads, buffers) -> list:
    """SGD's in-place update of params (and momentum buffers); the buffers
    afterwards (created on the first step)."""
    lr, momentum = lr_value(group["lr"]), group["momentum"]
    dampening, weight_decay = group["dampening"], group["weight_decay"]
    result = []
    for param, grad, buf in zip(params, grads, buffers):
        if group["maximize"]:
            grad = -grad
        if weight_decay != 0:
            grad = grad + param * weight_decay
        if momentum != 0:
            if buf is None:
                buf = grad.detach().clone()
            else:
                buf.mul_(momentum).add_(grad, alpha=1 - dampening)
            grad = grad + buf * momentum if group["nesterov"] else buf
        result.append(buf)
        add_scaled(param, grad, -lr)
    return result
