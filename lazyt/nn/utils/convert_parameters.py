"""nn.utils.convert_parameters: all parameters as one flat vector and back."""

from __future__ import annotations

from collections.abc import Iterable

from lazyt import shape_ops
from lazyt.tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _typename(obj) -> str:
    """torch.typename: a tensor's type string, else the object's qualified class name."""
    if isinstance(obj, Tensor):
        return obj.type()
    kind = type(obj)
    module = getattr(kind, "__module__", "") or ""
    name = getattr(kind, "__qualname__", kind.__name__)
    return name if module in ("", "builtins") else f"{module}.{name}"


def _check_param_device(param: Tensor, old_param_device: int | None) -> int:
    """The parameter's device index (-1 for the CPU); all must share one device."""
    device = param.device
    index = device.index if device.type == "cuda" and device.index is not None else \
        (0 if device.type == "cuda" else -1)
    if old_param_device is not None and index != old_param_device:
        raise TypeError("Found two parameters on different devices, this is currently not "
                        "supported.")
    return index


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """The parameters flattened and concatenated into one vector."""
    param_device = None
    vec = []
    for param in parameters:
        param_device = _check_param_device(param, param_device)
        vec.append(param.view(-1))
    return shape_ops.cat(vec)


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Make each parameter a view of its slice of vec (param.data = ...)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {_typename(vec)}")
    param_device = None
    pointer = 0
    for param in parameters:
        param_device = _check_param_device(param, param_device)
        num_param = param.numel()
        param.data = vec[pointer:pointer + num_param].view_as(param).data
        pointer += num_param
