"""Adafactor (factored second moments for matrices, relative step sizes),
PyTorch's single-tensor algorithm (torch.optim.Adafactor)."""

from __future__ import annotations

from functools import partial
from typing import Callable

from lazyt import creation, dtypes
from lazyt.optim._checks import check_at_least, check_tensor_lr
from lazyt.optim.optimizer import Optimizer, _no_grad_step, add_scaled, closure_loss, lr_value
from lazyt.tensor import Tensor


class Adafactor(Optimizer):
    def __init__(self, params, lr: float = 1e-2, beta2_decay: float = -0.8,
                 eps: tuple[float | None, float] = (None, 1e-3), d: float = 1.0,
                 weight_decay: float = 0.0, *, foreach: bool | None = None,
                 maximize: bool = False) -> None:
        check_tensor_lr(lr)
        check_at_least("Learning rate", lr)
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None:
            check_at_least("epsilon1", eps[0])
        check_at_least("epsilon2", eps[1])
        check_at_least("Clipping threshold d", d, 1)
        check_at_least("weight_decay", weight_decay)
        defaults = {"lr": lr, "beta2_decay": beta2_decay, "eps": eps, "d": d,
                    "weight_decay": weight_decay, "foreach": foreach, "maximize": maximize}
        super().__init__(params, defaults)

    @_no_grad_step
    def step(self, closure: Callable | None = None):
        loss = closure_loss(closure)
        for group in self.param_groups:
            lr, weight_decay, d = lr_value(group["lr"]), group["weight_decay"], group["d"]
            eps1, eps2 = group["eps"]
            for param in self._params_with_grad(group):
                if param.is_complex():
                    raise RuntimeError("Adafactor does not support complex parameters")
                if param.grad.dim() > 1:  # factored: a row and a column of variances
                    state = self._state_for(param, row_var=partial(_grad_zeros_without, -1),
                                            col_var=partial(_grad_zeros_without, -2))
                else:
                    state = self._state_for(param, variance=lambda p: creation.zeros_like(p.grad))
                grad = -param.grad if group["maximize"] else param.grad
                if eps1 is None:  # (PyTorch takes it from the first parameter's dtype)
                    eps1 = dtypes.finfo(param.dtype).eps
                state["step"].add_(1)
                step = float(state["step"])
                one_minus_beta2_t = step ** group["beta2_decay"]
                rho_t = min(lr, 1 / (step ** 0.5))
                alpha = max(eps2, float(param.norm(2)) / (param.numel() ** 0.5)) * rho_t
                if weight_decay != 0:
                    param.mul_(1 - lr * weight_decay)
                if grad.dim() > 1:
                    row_var, col_var = state["row_var"], state["col_var"]
                    row_var.lerp_(grad.norm(dim=-1, keepdim=True).square() / grad.size(-1),
                                  one_minus_beta2_t)
                    col_var.lerp_(grad.norm(dim=-2, keepdim=True).square() / grad.size(-2),
                                  one_minus_beta2_t)
                    var_estimate = row_var @ col_var
                    var_estimate = var_estimate / row_var.mean(dim=-2, keepdim=True).clamp(
                        min=eps1)
                else:
                    variance = state["variance"]
                    variance.lerp_(grad * grad, one_minus_beta2_t)
                    var_estimate = variance
                update = var_estimate.clamp(min=eps1 * eps1).rsqrt() * grad
                denom = max(1.0, float(update.norm(2)) / ((update.numel() ** 0.5) * d))
                add_scaled(param, update, -alpha / denom)
        return loss


def _grad_zeros_without(dim: int, param: Tensor) -> Tensor:
    """Zeros shaped like the parameter's gradient with dimension dim reduced to 1."""
    shape = list(param.grad.shape)
    shape[dim] = 1
    return creation.zeros(shape, dtype=param.grad.dtype, device=param.grad.device)
