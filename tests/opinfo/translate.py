"""Torch objects -> lazyt objects, for running PyTorch's OpInfo samples on lazyt.

Tensors keep their dtype, shape, strides and storage offset (the whole torch
storage is copied and viewed with `as_strided`), so non-contiguous and
offset samples reach lazyt as the same views. Torch callables map to the
lazyt callable of the same qualified name; an OpInfo's own lambdas run with
their module globals rebound (`torch` -> `lazyt`, `F` -> `lazyt.nn.functional`).
"""

from __future__ import annotations

import functools
import types

import torch

import lazyt as lt


class Unsupported(Exception):
    """A sample lazyt cannot receive at all (complex, sparse, a torch-only object)."""


_TORCH_NAMESPACES = {
    "": torch,
    "nn.functional.": torch.nn.functional,
    "linalg.": torch.linalg,
    "special.": torch.special,
    "fft.": torch.fft,
    "masked.": torch.masked,
    "signal.windows.": torch.signal.windows,
    "Tensor.": torch.Tensor,
}
_callable_paths: dict[int, list[str]] | None = None


def _torch_callable_paths() -> dict[int, list[str]]:
    """id(torch callable) -> its dotted paths under torch (torch.conv2d is also F.conv2d)."""
    global _callable_paths
    if _callable_paths is None:
        paths: dict[int, list[str]] = {}
        for prefix, namespace in _TORCH_NAMESPACES.items():
            for name in dir(namespace):
                try:
                    value = getattr(namespace, name)
                except Exception:
                    continue
                if callable(value) and not isinstance(value, type):
                    paths.setdefault(id(value), []).append(prefix + name)
        _callable_paths = paths
    return _callable_paths


def lazyt_path(path: str):
    """The lazyt object at a dotted path ("nn.functional.relu", "Tensor.add_"), or None."""
    obj = lt
    for part in path.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


class _MissingModule:
    """Stands in for a torch module lazyt lacks: any attribute is a clear AttributeError."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr):
        raise AttributeError(f"module 'lazyt' has no attribute '{self._name}' (needed for {attr})")


def _lazyt_module_for(module: types.ModuleType):
    name = module.__name__
    if name == "torch":
        return lt
    if name.startswith("torch."):
        sub = name[len("torch."):]
        found = lazyt_path(sub)
        return found if found is not None else _MissingModule(sub)
    return module


_rebound_globals: dict[int, dict] = {}


def _rebind(function: types.FunctionType) -> types.FunctionType:
    """The same Python function with torch modules in its globals replaced by lazyt's."""
    key = id(function.__globals__)
    namespace = _rebound_globals.get(key)
    if namespace is None:
        namespace = {}
        for name, value in function.__globals__.items():
            if isinstance(value, types.ModuleType) and value.__name__.split(".")[0] == "torch":
                value = _lazyt_module_for(value)
            namespace[name] = value
        _rebound_globals[key] = namespace
    rebound = types.FunctionType(function.__code__, namespace, function.__name__,
                                 function.__defaults__, function.__closure__)
    rebound.__kwdefaults__ = function.__kwdefaults__
    return rebound


def op_overload_path(torch_callable) -> str | None:
    """"ops.aten.slice.Tensor" for torch.ops.aten.slice.Tensor (an ATen overload), else None."""
    if type(torch_callable).__name__ != "OpOverload":
        return None
    namespace, name = torch_callable._schema.name.split("::")
    return f"ops.{namespace}.{name}.{torch_callable._overloadname}"


def lazyt_callable(torch_callable, fallback_path: str | None = None):
    """The lazyt counterpart of a torch callable (None when lazyt has none)."""
    if torch_callable is None:
        return None
    overload = op_overload_path(torch_callable)
    if overload is not None:
        return lazyt_path(overload)
    paths = _torch_callable_paths().get(id(torch_callable))
    if paths is not None:
        found = [lazyt_path(path) for path in paths]
        return next((f for f in found if f is not None), None)
    if isinstance(torch_callable, types.FunctionType):
        if torch_callable.__module__ == "_operator":
            return torch_callable
        return _rebind(torch_callable)
    if type(torch_callable).__name__ == "builtin_function_or_method" and \
            getattr(torch_callable, "__module__", None) == "_operator":
        return torch_callable  # operator.add & co work on any objects
    if type(torch_callable).__name__ in ("method_descriptor", "wrapper_descriptor"):
        return getattr(lt.Tensor, torch_callable.__name__, None)
    if isinstance(torch_callable, functools.partial):  # partial(F.mish, inplace=True)
        inner = lazyt_callable(torch_callable.func)
        return None if inner is None else functools.partial(
            inner, *to_lazyt(torch_callable.args), **to_lazyt(torch_callable.keywords))
    return lazyt_path(fallback_path) if fallback_path else None


def lazyt_dtype(dtype: torch.dtype):
    name = str(dtype).split(".")[-1]
    if dtype.is_complex:
        raise Unsupported(f"complex dtype {name}")
    found = getattr(lt, name, None)
    if found is None:
        raise Unsupported(f"dtype {name}")
    return found


def to_lazyt_tensor(tensor: torch.Tensor, *, leaf_requires_grad: bool = False):
    """A lazyt tensor with the torch tensor's dtype, shape, strides and storage offset."""
    if tensor.layout != torch.strided:
        raise Unsupported(f"layout {tensor.layout}")
    if tensor.is_complex():
        raise Unsupported(f"complex dtype {tensor.dtype}")
    dtype = lazyt_dtype(tensor.dtype)
    data = tensor.detach()
    if data.is_contiguous() and data.storage_offset() == 0 and \
            data.untyped_storage().nbytes() == data.numel() * data.element_size():
        plain = lt.tensor(data.numpy().copy(), dtype=dtype).reshape(tuple(data.shape))
        return plain.requires_grad_(True) if leaf_requires_grad else plain
    storage_numel = data.untyped_storage().nbytes() // data.element_size()
    flat = data.as_strided((storage_numel,), (1,), 0)
    base = lt.tensor(flat.numpy().copy(), dtype=dtype)
    view = base.as_strided(tuple(data.shape), tuple(data.stride()), data.storage_offset())
    # A gradient leaf keeps torch's layout too (as_strided with a storage_offset reads it).
    return view.detach().requires_grad_(True) if leaf_requires_grad else view


def to_lazyt(value, *, grad_leaves: bool = False):
    """Recursively convert a sample's input/args/kwargs (tensors, dtypes, sizes, containers)."""
    if isinstance(value, torch.Tensor):
        return to_lazyt_tensor(value, leaf_requires_grad=grad_leaves and value.requires_grad)
    if isinstance(value, torch.Size):
        return lt.Size(tuple(value))
    if isinstance(value, torch.dtype):
        return lazyt_dtype(value)
    if isinstance(value, torch.device):
        return lt.device(str(value))
    if isinstance(value, (torch.memory_format, torch.layout)):
        name = str(value).split(".")[-1]
        found = getattr(lt, name, None)
        if found is None:
            raise Unsupported(f"lazyt has no {value}")
        return found
    if isinstance(value, torch.Generator):
        raise Unsupported("torch.Generator argument")
    if isinstance(value, list):
        return [to_lazyt(v, grad_leaves=grad_leaves) for v in value]
    if isinstance(value, tuple):
        converted = tuple(to_lazyt(v, grad_leaves=grad_leaves) for v in value)
        return type(value)(*converted) if hasattr(value, "_fields") else converted
    if isinstance(value, dict):
        return {k: to_lazyt(v, grad_leaves=grad_leaves) for k, v in value.items()}
    if isinstance(value, types.FunctionType):
        return lazyt_callable(value)
    if isinstance(value, torch.nn.Module):
        return _lazyt_module(value)
    return value


def _lazyt_module(module):
    """A parameterless torch module (a sample's distance_function) as the lazyt
    module of the same class with the same settings."""
    if any(True for _ in module.parameters()) or any(True for _ in module.buffers()):
        raise Unsupported(f"torch module argument with state: {type(module).__name__}")
    cls = getattr(lt.nn, type(module).__name__, None)
    if cls is None:
        raise Unsupported(f"lazyt has no nn.{type(module).__name__}")
    converted = cls.__new__(cls)
    lt.nn.Module.__init__(converted)
    for name, setting in vars(module).items():
        if not name.startswith("_"):
            setattr(converted, name, setting)
    return converted


def to_torch(value):
    """A lazyt result as torch objects, for comparison (tensors via numpy)."""
    if isinstance(value, lt.Tensor):
        if value.dtype == lt.bfloat16:  # numpy has no bfloat16: exact through float32
            return to_torch(value.float()).to(torch.bfloat16)
        array = value.detach().numpy()
        return torch.from_numpy(array.copy()).reshape(tuple(value.shape))
    if isinstance(value, lt.dtype):
        return getattr(torch, str(value).split(".")[-1])
    if isinstance(value, (list, tuple)):
        return type(value)(to_torch(v) for v in value) if not hasattr(value, "_fields") \
            else tuple(to_torch(v) for v in value)
    return value
