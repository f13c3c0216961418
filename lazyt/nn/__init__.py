"""lazyt.nn: PyTorch's torch.nn (Module, Parameter, layers, losses, init,
functional) over lazyt tensors. Re-exports only; see modules/, functional.py,
init.py, parameter.py, utils.py."""

from lazyt.nn import functional, init, parallel, utils
from lazyt.nn.modules import *  # noqa: F403 - the layer table lives in modules/__init__.py
from lazyt.nn.modules import __dict__ as _modules_namespace
from lazyt.nn.parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter

__all__ = ["Buffer", "Parameter", "UninitializedBuffer", "UninitializedParameter", "functional",
           "init", "utils"] + sorted(
    name for name, value in _modules_namespace.items()
    if isinstance(value, type) and not name.startswith("_"))
del _modules_namespace
