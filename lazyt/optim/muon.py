"""Muon (momentum orthogonalized by Newton-Schulz iterations, for 2-D
parameters), PyTorch's single-tensor algorithm (torch.optim.Muon)."""

from __future__ import annotations

import math

from lazyt import creation
from lazyt.optim._checks import check_at_least, check_tensor_lr
from lazyt.optim.optimizer import SingleTensorOptimizer, add_scaled, lr_value
from lazyt.tensor import Tensor

EPS = 1e-7
DEFAULT_A = 3.4445
DEFAULT_B = -4.7750
DEFAULT_C = 2.0315
DEFAULT_NS_STEPS = 5


def zeropower_via_newtonschulz(grad: Tensor, ns_coefficients: tuple[float, float, float],
                               ns_steps: int, eps: float) -> Tensor:
    """An approximate orthogonalization of a 2-D gradient: quintic Newton-Schulz
    iterations in bfloat16, as PyTorch's. Each product and sum is computed in
    float32 and rounded to bfloat16 where PyTorch's bfloat16 result is."""
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if len(grad.shape) != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = ns_coefficients
    ortho_grad = grad.bfloat16()
    if grad.size(0) > grad.size(1):
        ortho_grad = ortho_grad.T
    ortho_grad = ortho_grad / ortho_grad.norm().clamp(min=eps)
    for _ in range(ns_steps):
        x = ortho_grad.float()
        gram_matrix = (x @ x.T).bfloat16().float()
        gram_update = (gram_matrix * b + (gram_matrix @ gram_matrix) * c).bfloat16().float()
        ortho_grad = (x * a + gram_update @ x).bfloat16()
    if grad.size(0) > grad.size(1):
        ortho_grad = ortho_grad.T
    return ortho_grad


def adjust_lr(lr, adjust_lr_fn: str | None, param_shape) -> float:
    """Muon's learning-rate scaling by the parameter's shape."""
    rows, cols = param_shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        adjusted_ratio = math.sqrt(max(1, rows / cols))
    elif adjust_lr_fn == "match_rms_adamw":
        adjusted_ratio = 0.2 * math.sqrt(max(rows, cols))
    else:
        adjusted_ratio = 1.0
    return lr * adjusted_ratio


class Muon(SingleTensorOptimizer):
    def __init__(self, params, lr: float = 1e-3, weight_decay: float = 0.1,
                 momentum: float = 0.95, nesterov: bool = True,
                 ns_coefficients: tuple[float, float, float] = (DEFAULT_A, DEFAULT_B, DEFAULT_C),
                 eps: float = EPS, ns_steps: int = DEFAULT_NS_STEPS,
                 adjust_lr_fn: str | None = None) -> None:
        check_tensor_lr(lr)
        check_at_least("Learning rate", lr)
        check_at_least("momentum", momentum)
        check_at_least("weight decay", weight_decay)
        if adjust_lr_fn is not None and adjust_lr_fn not in ["original", "match_rms_adamw"]:
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = {"lr": lr, "weight_decay": weight_decay, "momentum": momentum,
                    "nesterov": nesterov, "ns_coefficients": ns_coefficients, "eps": eps,
                    "ns_steps": ns_steps, "adjust_lr_fn": adjust_lr_fn}
        super().__init__(params, defaults)
        for group in self.param_groups:
            for param in group["params"]:
                if param.ndim != 2:
                    raise ValueError("Muon only supports 2D parameters whereas we found a "
                                     f"parameter with size: {param.size()}")

    def _update_param(self, group: dict, param: Tensor) -> None:
        lr, momentum = lr_value(group["lr"]), group["momentum"]
        if param.is_complex():
            raise RuntimeError("Muon does not support complex parameters")
        state = self.state[param]
        if "momentum_buffer" not in state:
            state["momentum_buffer"] = creation.zeros_like(param.grad)
        grad = param.grad
        if grad.ndim != 2:
            raise ValueError("Param gradient must be a 2D matrix")
        buf = state["momentum_buffer"]
        buf.lerp_(grad, 1 - momentum)
        update = grad.lerp(buf, momentum) if group["nesterov"] else buf
        update = zeropower_via_newtonschulz(update, group["ns_coefficients"],
                                            group["ns_steps"], group["eps"])
        adjusted_lr = adjust_lr(lr, group["adjust_lr_fn"], param.shape)
        param.mul_(1 - lr * group["weight_decay"])
        update = update.to(param.dtype) if update.dtype != param.dtype else update
        add_scaled(param, update, -adjusted_lr)
