"""nn.utils.init: skip_init, a module instantiated without promising
initialised parameters."""

from __future__ import annotations

import inspect

from lazyt.nn.modules.module import Module

__all__ = ["skip_init"]


def skip_init(module_cls: type, *args, **kwargs) -> Module:
    """module_cls(*args, **kwargs) whose parameter values are unspecified.

    PyTorch builds the module on the meta device and then allocates empty
    storage on `device`; lazyt has no meta device, so it builds the module on
    `device` directly. The checks and the contract (same class, shapes,
    dtypes and device; values to be overwritten by the caller) are PyTorch's."""
    if not issubclass(module_cls, Module):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    kwargs["device"] = kwargs.pop("device", "cpu")
    return module_cls(*args, **kwargs)
