"""Adam and AdamW (betas, eps, weight decay coupled or decoupled, amsgrad,
maximize), following PyTorch's single-tensor algorithm step for step."""

from __future__ import annotations

import math
from typing import Callable

from lazyt import creation, dtypes
from lazyt.optim._checks import check_adam_arguments, check_fused
from lazyt.optim.optimizer import Optimizer, _no_grad_step, closure_loss, decayed_grad, lr_value
from lazyt.regions import run_region
from lazyt.tensor import Tensor


def _check_hyperparameters(lr, betas, eps, weight_decay, foreach=None,
                           capturable=False) -> None:
    check_adam_arguments(lr, betas, eps, weight_decay, foreach, capturable)
    if not (isinstance(betas[0], float) and isinstance(betas[1], float)
            or isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor)):
        raise ValueError("betas must be either both floats or both Tensors")
    for i, beta in enumerate(betas):
        if isinstance(beta, Tensor):
            if not capturable and foreach:
                raise ValueError(f"betas[{i}] as a Tensor is not supported for "
                                 "capturable=False and foreach=True")
            if beta.numel() != 1:
                raise ValueError(f"Tensor betas[{i}] must be 1-element")


class Adam(Optimizer):
    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False) -> None:
        _check_hyperparameters(lr, betas, eps, weight_decay, foreach, capturable)
        betas = tuple(lr_value(beta) for beta in betas)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize, "foreach": foreach,
                    "capturable": capturable, "differentiable": differentiable, "fused": fused,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)
        check_fused(fused, foreach, differentiable)

    def _state_of(self, param: Tensor, amsgrad: bool) -> dict:
        maximum = {"max_exp_avg_sq": creation.zeros_like} if amsgrad else {}
        return self._state_for(param, exp_avg=creation.zeros_like,
                               exp_avg_sq=creation.zeros_like, **maximum)

    @_no_grad_step
    def step(self, closure: Callable | None = None):
        loss = closure_loss(closure)
        for group in self.param_groups:
            params = self._params_with_grad(group)
            fresh = any(len(self.state[p]) == 0 for p in params)
            states = [self._state_of(p, group["amsgrad"]) for p in params]
            if fresh or not params or any(isinstance(v, Tensor)
                                          for v in (group["lr"], *group["betas"])):
                _update(group, params, [p.grad for p in params], states,
                        self._scalars_as_tensors(group))
                continue
            # The whole group's update as one eager region (regions.py): the
            # step counts stay tensors, so every step replays the same launches.
            keys = _STATE_KEYS + (("max_exp_avg_sq",) if group["amsgrad"] else ())
            tensors = [*params, *[p.grad for p in params]]
            tensors += [state[key] for state in states for key in keys]
            n, hyper = len(params), tuple(group[k] for k in _HYPER)

            def update(*tensors, group=group, n=n, keys=keys):
                flat = tensors[2 * n:]
                states = [dict(zip(keys, flat[i * len(keys):(i + 1) * len(keys)]))
                          for i in range(n)]
                _update(group, tensors[:n], tensors[n:2 * n], states, as_tensors=True)

            run_region("adam", update, tuple(tensors), hyper, writes=True)
        return loss


_STATE_KEYS = ("step", "exp_avg", "exp_avg_sq")
_HYPER = ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize", "decoupled_weight_decay")


def _update(group: dict, params, grads, states: list, as_tensors: bool) -> None:
    """Adam's in-place update of params and their state. With as_tensors the
    step count stays a tensor (no value read: deferred mode, lt.compile,
    eager regions); the bias corrections are then float64 scalars, as
    PyTorch's Python floats are."""
    # Tensor betas are read as numbers (PyTorch reads them per step too)
    beta1, beta2 = (float(beta) if isinstance(beta, Tensor) else beta
                    for beta in group["betas"])
    lr, eps = lr_value(group["lr"]), group["eps"]
    for param, grad, state in zip(params, grads, states):
        step_t = state["step"]
        step_t.add_(1)
        grad = decayed_grad(param, grad, group, lr)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).add_(grad * grad * (1 - beta2))
        if group["amsgrad"]:
            second = state["max_exp_avg_sq"].maximum_(exp_avg_sq)
        else:
            second = exp_avg_sq
        if as_tensors:
            step = step_t.to(dtypes.float64)
            # 1 - beta ** step, without cancellation for small steps
            bias_correction1 = -(step * math.log(beta1)).expm1() if beta1 > 0 else 1.0
            bias_correction2 = -(step * math.log(beta2)).expm1() if beta2 > 0 else 1.0
            step_size = lr / bias_correction1
            denom = second.sqrt() / bias_correction2 ** 0.5 + eps
            param.sub_(exp_avg / denom * step_size)
        else:
            step = float(step_t)
            bias_correction1 = 1 - beta1 ** step
            bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
            denom = second.sqrt() / bias_correction2_sqrt + eps
            param.add_(exp_avg / denom, alpha=-(lr / bias_correction1))


class AdamW(Adam):
    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)
