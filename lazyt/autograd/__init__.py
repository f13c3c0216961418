"""Autograd: grad mode and the backward graph, built from lazyt's own ops.

grad_mode.py holds grad mode and the hooks the op modules call; function.py
builds the backward graph (importing it registers the recorders behind the
hooks), engine.py walks it and gives Tensor its backward methods, rules.py
holds one gradient rule per op, gradcheck.py checks them.

Importing this package loads only grad_mode and gradcheck: every op module
imports lazyt.autograd.grad_mode, and that must not pull in the engine (which
imports Tensor and the op modules). The engine's names below (backward, grad,
Function, FunctionCtx, Variable) load on first use; lazyt/__init__.py loads the engine
itself at package import.
"""

import importlib

from lazyt.autograd.anomaly_mode import detect_anomaly, set_detect_anomaly
from lazyt.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    record_view,
    set_grad_enabled,
)
from lazyt.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck

# name -> the module that defines it, imported on first access (PEP 562).
_DEFINED_IN_ENGINE = {
    "backward": "lazyt.autograd.engine",
    "grad": "lazyt.autograd.engine",
    "Function": "lazyt.autograd.function",
    "FunctionCtx": "lazyt.autograd.function",
    "Variable": "lazyt.autograd.variable",
}
_SUBMODULES = ("functional",)  # lt.autograd.functional.jacobian, loaded on first use


def __getattr__(name: str):
    if name in _SUBMODULES:
        value = globals()[name] = importlib.import_module(f"lazyt.autograd.{name}")
        return value
    module_name = _DEFINED_IN_ENGINE.get(name)
    if module_name is None:
        raise AttributeError(f"module 'lazyt.autograd' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_DEFINED_IN_ENGINE) | set(_SUBMODULES))


__all__ = ["Function", "FunctionCtx", "GradcheckError", "Variable", "backward", "detect_anomaly",
           "enable_grad", "functional", "grad", "set_detect_anomaly",
           "gradcheck", "gradgradcheck", "inference_mode", "is_grad_enabled", "no_grad",
           "record_view", "set_grad_enabled"]
