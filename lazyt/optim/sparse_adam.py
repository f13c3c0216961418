"""SparseAdam: PyTorch's Adam for sparse gradients. lazyt has no sparse
tensors, so it keeps PyTorch's constructor and checks, and its step raises
PyTorch's error for the dense gradients lazyt has."""

from __future__ import annotations

from typing import Callable

from lazyt.optim._checks import check_betas, check_tensor_lr
from lazyt.optim.optimizer import Optimizer, _no_grad_step, closure_loss


class SparseAdam(Optimizer):
    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, maximize: bool = False) -> None:
        check_tensor_lr(lr)
        if not 0.0 < lr:  # (SparseAdam's are the only strict bounds)
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        check_betas(betas)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "maximize": maximize}
        super().__init__(params, defaults)
        complex_params = [[index, d_index] for index, group in enumerate(self.param_groups)
                          for d_index, param in enumerate(group["params"])
                          if param.is_complex()]
        if complex_params:
            raise ValueError(f"Complex params at indices {complex_params}: SparseAdam does not "
                             "support complex parameters")

    @_no_grad_step
    def step(self, closure: Callable | None = None):
        loss = closure_loss(closure)
        for group in self.param_groups:
            if any(p.grad is not None for p in group["params"]):
                raise RuntimeError("SparseAdam does not support dense gradients, please "
                                   "consider Adam instead")
        return loss
