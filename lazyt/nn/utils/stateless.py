"""nn.utils.stateless: functional_call, a module's forward run with some of
its parameters and buffers replaced by the tensors of a dict (names as in
named_parameters / named_buffers), restored afterwards."""

from __future__ import annotations

import contextlib
import warnings
from typing import Any, Iterator

from lazyt.nn.modules.module import Module
from lazyt.tensor import Tensor

__all__ = ["functional_call"]

_MISSING = object()


class _NamedMemberAccessor:
    """Swap tensors of a module by dotted name ("layer.0.weight")."""

    def __init__(self, module: Module) -> None:
        self.module = module
        self.memo: dict[str, Module] = {}

    def get_submodule(self, name: str) -> Module:
        if not name:
            return self.module
        if name in self.memo:
            return self.memo[name]
        prefix, dot, attr = name.rpartition(".")
        module = self.get_submodule(prefix) if dot else self.module
        try:
            submodule = getattr(module, attr)
        except AttributeError as ex:
            raise AttributeError(f"{module._get_name()} has no attribute `{attr}`") from ex
        if not isinstance(submodule, Module):
            raise TypeError(f"{submodule!r} is not an instance of torch.nn.Module")
        self.memo[name] = submodule
        return submodule

    def swap_tensor(self, name: str, value, allow_missing: bool = False):
        prefix, _, attr = name.rpartition(".")
        return _swap_tensor(self.get_submodule(prefix), attr, value, allow_missing)

    def swap_tensors_dict(self, named_tensors: dict, allow_missing: bool = False):
        originals: dict = {}
        missing_keys = []
        try:
            for name, tensor in named_tensors.items():
                original = self.swap_tensor(name, tensor, allow_missing=True)
                if original is _MISSING:
                    missing_keys.append(name)
                originals[name] = original
        except Exception:
            for name, original in originals.items():
                self.swap_tensor(name, original, allow_missing=True)
            raise
        if missing_keys and not allow_missing:
            for name, original in originals.items():
                self.swap_tensor(name, original, allow_missing=True)
            raise RuntimeError(f"Missing key(s): {', '.join(map(repr, missing_keys))}.")
        return originals, missing_keys

    def check_keys(self, keys) -> tuple[list[str], list[str]]:
        keys = set(keys)
        valid_keys = {name for name, _ in self.module.named_parameters(remove_duplicate=False)}
        valid_keys |= {name for name, _ in self.module.named_buffers(remove_duplicate=False)}
        return sorted(valid_keys - keys), sorted(keys - valid_keys)


def _swap_tensor(module: Module, name: str, tensor, allow_missing: bool = False):
    """Put `tensor` at module.<name> (_MISSING: remove it); return what was there."""
    if not isinstance(module, Module):
        raise TypeError(f"{module} is not an instance of torch.nn.Module")
    if tensor is not _MISSING and tensor is not None and not isinstance(tensor, Tensor):
        raise TypeError(f"{tensor} is not an instance of torch.Tensor")
    if "." in name:
        raise KeyError('tensor name can\'t contain "."')
    if name == "":
        raise KeyError('tensor name can\'t be empty string ""')
    for registry in (module._parameters, module._buffers):
        if name in registry:
            original = registry[name]
            if tensor is not _MISSING:
                registry[name] = tensor
            else:
                del registry[name]
            return original
    if hasattr(module, name):
        original = getattr(module, name)
    elif not allow_missing:
        raise AttributeError(f"{module._get_name()} has no attribute `{name}`")
    else:
        original = _MISSING
    if original is not _MISSING and not isinstance(original, Tensor):
        raise TypeError(f"attribute `{name}`: {original} is not an instance of torch.Tensor")
    if tensor is not _MISSING:
        setattr(module, name, tensor)
    elif hasattr(module, name):
        delattr(module, name)
    return original


def _untie_named_tensors_map(module: Module, parameters_and_buffers: dict) -> dict:
    """The dict extended to every name tied to a given one (shared tensors)."""
    named_tensors = dict(module.named_parameters(remove_duplicate=False))
    named_tensors.update(module.named_buffers(remove_duplicate=False))
    names_of_tensor: dict[int, set[str]] = {}
    for name, tensor in named_tensors.items():
        names_of_tensor.setdefault(id(tensor), set()).add(name)
    tied_names_map = {name: names for names in names_of_tensor.values() if len(names) > 1
                      for name in names}
    given_names = set(parameters_and_buffers)
    given_tied = {name for name in given_names if name in tied_names_map}
    for given_name in given_tied:
        tied_names = tied_names_map[given_name]
        if len(tied_names & given_tied) > 1 and \
                len({id(parameters_and_buffers[n]) for n in tied_names & given_names}) != 1:
            raise ValueError(f"functional_call got multiple values for keys {sorted(tied_names)}, "
                             "which are tied. Consider using tie_weights=False")
    untied = dict(parameters_and_buffers)
    for given_name in given_tied:
        for tied_name in tied_names_map[given_name]:
            untied[tied_name] = parameters_and_buffers[given_name]
    return untied


@contextlib.contextmanager
def _reparametrize_module(module: Module, parameters_and_buffers: dict,
                          tie_weights: bool = False, strict: bool = False) -> Iterator[None]:
    untied = _untie_named_tensors_map(module, parameters_and_buffers) if tie_weights \
        else parameters_and_buffers
    accessor = _NamedMemberAccessor(module)
    if strict:
        missing_keys, unexpected_keys = accessor.check_keys(untied)
        error_msgs = []
        if unexpected_keys:
            error_msgs.append(f"Unexpected key(s): {', '.join(map(repr, unexpected_keys))}.")
        if missing_keys:
            error_msgs.append(f"Missing key(s): {', '.join(map(repr, missing_keys))}.")
        if error_msgs:
            raise RuntimeError("Error(s) in reparametrizing for {}:\n\t{}".format(
                module._get_name(), "\n\t".join(error_msgs)))
    originals: dict = {}
    try:
        originals, _ = accessor.swap_tensors_dict(untied, allow_missing=True)
        yield
    finally:
        current, _ = accessor.swap_tensors_dict(originals, allow_missing=True)
        parameters_and_buffers.update({k: current[k] for k in parameters_and_buffers
                                       if k in current})


def _functional_call(module: Module, parameters_and_buffers: dict, args: Any = None,
                     kwargs: dict | None = None, *, tie_weights: bool = True,
                     strict: bool = False) -> Any:
    if kwargs is None:
        kwargs = {}
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _reparametrize_module(module, parameters_and_buffers, tie_weights=tie_weights,
                               strict=strict):
        return module(*args, **kwargs)


def functional_call(module: Module, parameters_and_buffers: dict, args: Any = None,
                    kwargs: dict | None = None, *, tie_weights: bool = True,
                    strict: bool = False) -> Any:
    """module(*args, **kwargs) with the named tensors of parameters_and_buffers
    in place of the module's own (tied names follow with tie_weights)."""
    warnings.warn("`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 "
                  "and will be removed in a future version of PyTorch. Please use "
                  "`torch.func.functional_call` instead which is a drop-in replacement.",
                  FutureWarning, stacklevel=2)
    return _functional_call(module, parameters_and_buffers, args, kwargs,
                            tie_weights=tie_weights, strict=strict)
