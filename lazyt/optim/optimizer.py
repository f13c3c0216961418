"""Optimizer: PyTorch's base class (param groups, per-parameter state,
zero_grad, state_dict/load_state_dict, step hooks).

Subclasses implement `step()` (or, as SingleTensorOptimizer subclasses, one
parameter's `_update_param()`) with in-place lazyt ops on parameters and state
(`p.add_(...)`, `buf.mul_(...)`), which are ASSIGNs into existing buffers in
the IR: a deferred or compiled training step updates the parameters without
copies. Per-step scalars (bias corrections, learning rates) are Python floats
in eager mode; in deferred mode, or with `capturable=True`, or when the
learning rate is a Tensor, they are computed from the `step` tensor with
tensor ops instead, so that a traced step stays correct when replayed.
"""

from __future__ import annotations

import copy
import functools
import itertools
import warnings
from collections import OrderedDict, defaultdict
from typing import Any, Callable

from lazyt import creation, dtypes, modes, realization
from lazyt.autograd import grad_mode
from lazyt.engine.program import is_recording
from lazyt.tensor import Tensor
from lazyt.utils.hooks import RemovableHandle


class _RequiredParameter:
    """Marks a hyper-parameter that every param group must define."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def _no_grad_step(step: Callable) -> Callable:
    """Run an optimizer's step without recording gradients, with its hooks."""

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        for hook in list(self._optimizer_step_pre_hooks.values()):
            result = hook(self, args, kwargs)
            if result is not None:
                args, kwargs = result
        with grad_mode.no_grad():
            out = step(self, *args, **kwargs)
        for hook in list(self._optimizer_step_post_hooks.values()):
            hook(self, args, kwargs)
        _realize_deferred_step()
        return out

    return wrapper


def _realize_deferred_step() -> None:
    """In deferred mode, the end of an optimizer step is where a training
    loop's graph is cut: the step's updates (with the pending tensors that
    read the old parameters, such as the loss) are realised now, whether
    or not the loop reads a value. Every step is then the same graph,
    replayed from the realisation cache, and a loop that reads its loss
    every K steps costs per step what one reading it every step does
    (without the cut, the next step's graph would grow on top of this one's
    pending updates until some other realisation cut it somewhere else).
    lt.compile's trace is left whole."""
    if modes.is_deferred() and realization.WRITERS and not modes.TRACING \
            and not is_recording():
        realization.realize_tensors([])


def closure_loss(closure: Callable | None):
    """step(closure): re-evaluate the model with gradients on, as PyTorch does."""
    if closure is None:
        return None
    with grad_mode.enable_grad():
        return closure()


def _typename(obj) -> str:
    if isinstance(obj, Tensor):
        return "lazyt.Tensor"
    return type(obj).__module__ + "." + type(obj).__name__


class Optimizer:
    """Base class of all optimizers: Optimizer(params, defaults)."""

    def __init__(self, params, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self._optimizer_step_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_step_post_hooks: OrderedDict = OrderedDict()
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {_typename(params)}")
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    def __getstate__(self) -> dict:
        return {"defaults": self.defaults, "state": self.state,
                "param_groups": self.param_groups}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.__dict__.setdefault("_optimizer_step_pre_hooks", OrderedDict())
        self.__dict__.setdefault("_optimizer_step_post_hooks", OrderedDict())

    def __repr__(self) -> str:
        text = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += "\n"
            text += f"Parameter Group {i}\n"
            for key in sorted(group.keys()):
                if key not in ("params", "param_names"):
                    text += f"    {key}: {group[key]}\n"
        return text + ")"

    # ------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            param_group["params"] = list(params)
        extracted, names = [], []
        for param in param_group["params"]:
            if isinstance(param, tuple):  # (name, tensor) pairs from named_parameters()
                names.append(param[0])
                extracted.append(param[1])
            else:
                extracted.append(param)
        param_group["params"] = extracted
        if names:
            if len(names) != len(extracted):
                raise ValueError("all optimizer params should be with/without names. Some "
                                 "param names are missing")
            param_group["param_names"] = names
        for param in param_group["params"]:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + _typename(param))
            if not self.defaults.get("differentiable", None) and not (
                    param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)
        params = param_group["params"]
        if len(params) != len({id(p) for p in params}):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error; see "
                          "github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        seen = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # -------------------------------------------------------------- grads
    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                if set_to_none:
                    param.grad = None
                else:
                    param.grad = param.grad.detach()
                    param.grad.zero_()

    def step(self, closure: Callable | None = None):
        raise NotImplementedError

    def _params_with_grad(self, group: dict) -> list[Tensor]:
        params = [p for p in group["params"] if p.grad is not None]
        for param in params:
            if param.grad.shape != param.shape:
                raise RuntimeError(f"the gradient of a parameter has shape "
                                   f"{list(param.grad.shape)} but the parameter has shape "
                                   f"{list(param.shape)}")
        return params

    def _state_for(self, param: Tensor, **initial: Callable[[Tensor], Tensor]) -> dict:
        """The parameter's state, created at its first step as PyTorch's
        optimizers do: `step` (new_step), then initial[name](param) per name,
        in order (creation.zeros_like for most buffers)."""
        state = self.state[param]
        if len(state) == 0:
            state["step"] = new_step(param)
            for name, make in initial.items():
                state[name] = make(param)
        return state

    @staticmethod
    def _scalars_as_tensors(group: dict) -> bool:
        """Per-step scalars as tensor ops (traceable) rather than Python floats."""
        return bool(group.get("capturable")) or isinstance(group["lr"], Tensor) or \
            modes.get_mode() != "eager"

    # --------------------------------------------------------------- hooks
    def register_step_pre_hook(self, hook: Callable) -> RemovableHandle:
        handle = RemovableHandle(self._optimizer_step_pre_hooks)
        self._optimizer_step_pre_hooks[handle.id] = hook
        return handle

    def register_step_post_hook(self, hook: Callable) -> RemovableHandle:
        handle = RemovableHandle(self._optimizer_step_post_hooks)
        self._optimizer_step_post_hooks[handle.id] = hook
        return handle

    # ---------------------------------------------------------- state dict
    def state_dict(self) -> dict[str, Any]:
        """{'state': {param index: state}, 'param_groups': [group with param
        indices]}; the state tensors are the optimizer's own (not copies)."""
        mapping: dict[int, int] = {}
        start = 0

        def pack_group(group: dict) -> dict:
            nonlocal start
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, param in enumerate(group["params"], start):
                mapping.setdefault(id(param), i)
            packed["params"] = [mapping[id(p)] for p in group["params"]]
            start += len(packed["params"])
            return packed

        param_groups = [pack_group(g) for g in self.param_groups]
        packed_state = {(mapping[id(k)] if isinstance(k, Tensor) else k): v
                        for k, v in self.state.items()}
        return {"state": packed_state, "param_groups": param_groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state_dict(); state tensors are copied and moved to each
        parameter's device (floating ones also to its dtype, except 'step')."""
        state_dict = dict(state_dict)
        groups = self.param_groups
        # deepcopy, with each tensor (a Tensor lr or betas) copied by clone()
        tensors = {id(t): t.detach().clone() for t in _tensors_in(state_dict["param_groups"])}
        saved_groups = copy.deepcopy(state_dict["param_groups"], tensors)
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")
        id_map = dict(zip(itertools.chain.from_iterable(g["params"] for g in saved_groups),
                          itertools.chain.from_iterable(g["params"] for g in groups)))

        def cast(param: Tensor, value, key=None):
            if isinstance(value, Tensor):
                if key == "step":
                    return value.detach().clone()
                dtype = param.dtype if value.is_floating_point() and \
                    param.is_floating_point() else value.dtype
                return value.detach().to(device=param.device, dtype=dtype).clone()
            if isinstance(value, dict):
                return {k: cast(param, v, k) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return type(value)(cast(param, v) for v in value)
            return value

        state: defaultdict = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in id_map:
                param = id_map[key]
                state[param] = cast(param, value)
            else:
                state[key] = value

        def update_group(group: dict, new_group: dict) -> dict:
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            return new_group

        self.__setstate__({"state": state,
                           "param_groups": [update_group(g, s)
                                            for g, s in zip(groups, saved_groups)]})


class SingleTensorOptimizer(Optimizer):
    """An optimizer whose step updates each parameter that has a gradient on
    its own, in order (PyTorch's single-tensor algorithms): a subclass defines
    _update_param(group, param), its formula; step() is this loop. (Adam and
    SGD write their own step, to run a whole group as one eager region.)"""

    @_no_grad_step
    def step(self, closure: Callable | None = None):
        loss = closure_loss(closure)
        for group in self.param_groups:
            for param in self._params_with_grad(group):
                self._update_param(group, param)
        return loss

    def _update_param(self, group: dict, param: Tensor) -> None:
        raise NotImplementedError


def _tensors_in(value) -> list[Tensor]:
    """The tensors in nested lists, tuples and dicts."""
    found, todo = [], [value]
    while todo:
        item = todo.pop()
        if isinstance(item, Tensor):
            found.append(item)
        elif isinstance(item, dict):
            todo.extend(item.values())
        elif isinstance(item, (list, tuple)):
            todo.extend(item)
    return found


def lr_value(lr):
    """A 1-element Tensor lr as a 0-d tensor (PyTorch's _to_scalar), a float as is."""
    if isinstance(lr, Tensor) and lr.dim() != 0:
        return lr.squeeze()
    return lr


def scalar(value, like: Tensor) -> Tensor:
    """A 0-d tensor of the parameter's dtype holding value (a float or tensor)."""
    if isinstance(value, Tensor):
        return value.to(device=like.device, dtype=like.dtype)
    return creation.tensor(value, dtype=like.dtype, device=like.device)


def new_step(param: Tensor) -> Tensor:
    """The per-parameter step counter, a float32 0-d zero on the parameter's
    device, as PyTorch's."""
    return creation.zeros((), dtype=dtypes.float32, device=param.device)


def new_one(param: Tensor) -> Tensor:
    """A float32 0-d one on the parameter's device (NAdam's mu_product, ASGD's mu)."""
    return creation.ones((), dtype=dtypes.float32, device=param.device)


def decayed_grad(param: Tensor, grad: Tensor, group: dict, lr=None) -> Tensor:
    """PyTorch's gradient preamble: grad negated under maximize, then the
    group's weight decay, either added to the gradient (L2) or, where
    group["decoupled_weight_decay"], applied to the parameter in place
    (AdamW's param *= 1 - lr * weight_decay, which needs lr)."""
    if group["maximize"]:
        grad = -grad
    weight_decay = group["weight_decay"]
    if weight_decay != 0:
        if group.get("decoupled_weight_decay"):
            param.mul_(1 - lr * weight_decay)
        else:
            grad = grad + param * weight_decay
    return grad


def step_value(step_t: Tensor, as_tensors: bool):
    """The step count: a Python float in eager mode (PyTorch's _get_value),
    a float64 0-d tensor where the step must stay traceable (deferred mode,
    lt.compile, capturable)."""
    return step_t.to(dtypes.float64) if as_tensors else float(step_t)


def add_scaled(param: Tensor, update: Tensor, scale) -> None:
    """param += scale * update, scale a float or a 0-d tensor."""
    if isinstance(scale, Tensor):
        param.add_(update * scale)
    else:
        param.add_(update, alpha=scale)
