"""PyTorch's checks of the optimizers' constructor arguments, shared by the
optimizers in this folder. Each raises PyTorch's exception class with its
message naming the user's value; the optimizers call them in PyTorch's order,
before the param groups are built."""

from __future__ import annotations

from lazyt.tensor import Tensor


def check_tensor_lr(lr) -> None:
    """A Tensor learning rate must hold one element."""
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")


def check_lr(lr, foreach: bool | None = None, capturable: bool = False) -> None:
    """lr >= 0, a float or a 1-element Tensor (NaN refused). foreach and
    capturable are Adam's: it alone refuses a Tensor lr with foreach=True and
    capturable=False, so the other optimizers leave them out."""
    if isinstance(lr, Tensor) and foreach and not capturable:
        raise ValueError("lr as a Tensor is not supported for capturable=False and "
                         "foreach=True")
    check_tensor_lr(lr)
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")


def check_non_negative(name: str, value) -> None:
    """value >= 0 (NaN refused): "Invalid epsilon value: -1.0"."""
    if not 0.0 <= value:
        raise ValueError(f"Invalid {name} value: {value}")


def check_betas(betas) -> None:
    """Both betas in [0, 1)."""
    for index in (0, 1):
        if not 0.0 <= betas[index] < 1.0:
            raise ValueError(f"Invalid beta parameter at index {index}: {betas[index]}")


def check_adam_arguments(lr, betas, eps, weight_decay, foreach: bool | None = None,
                         capturable: bool = False) -> None:
    """The checks Adam, Adamax, NAdam and RAdam share, in PyTorch's order
    (foreach and capturable: Adam's, see check_lr)."""
    check_lr(lr, foreach, capturable)
    check_non_negative("epsilon", eps)
    check_betas(betas)
    check_non_negative("weight_decay", weight_decay)


def check_at_least(what: str, value, bound: int = 0) -> None:
    """value >= bound (NaN refused), in the wording of PyTorch's newer
    optimizers (Adafactor, Muon): "weight_decay should be >= 0 but is: -1"."""
    if not bound <= value:
        raise ValueError(f"{what} should be >= {bound} but is: {value}")


def check_fused(fused: bool | None, foreach: bool | None, differentiable: bool) -> None:
    """fused=True excludes differentiable and foreach, as in PyTorch."""
    if fused:
        if differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        if foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
