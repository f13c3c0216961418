"""Grad mode (no_grad / enable_grad / set_grad_enabled) and the hooks every op
calls after it computes: `record` (out-of-place ops), `record_view`,
`check_inplace` / `snapshot_for_inplace` / `record_inplace` (in-place ops).

The hooks are the only coupling between the op modules and autograd: when no
input requires grad (or grad mode is off) they return at once. `RULE_RUNNER`
is the hook the other way: how autograd runs a gradient rule, which
lazyt/regions.py replaces with its fused, replayed regions.

This module imports nothing from lazyt, so every op module can import it
without loading the autograd engine (a test checks it).
"""

from __future__ import annotations

import functools
import threading


class _GradState(threading.local):
    """Grad mode per thread; on by default (read without a failed lookup)."""

    enabled = True
    inference = False  # inside lt.inference_mode()


_state = _GradState()

# Set by lazyt/autograd/function.py: the functions that build the backward graph.
RECORDERS: dict = {}


def run_rule_directly(region_name, gradients, tensors: tuple, consts: tuple,
                      consts_frozen: bool = False):
    """The default RULE_RUNNER: the gradient rule's ops run one by one."""
    return gradients(*tensors)


# How a backward node runs its gradient rule outside create_graph: called as
# lazyt/regions.py's run_region(name, fn, tensors, consts, consts_frozen=...).
# regions.py installs run_region here when it is imported (lazyt/__init__.py
# imports it), so the rule fuses into few kernels and is replayed on later
# calls; autograd itself never imports regions, which sits above it.
RULE_RUNNER = run_rule_directly


def rule_regions_never_apply() -> bool:
    """The default RULE_REGIONS_APPLY: run_rule_directly records nothing."""
    return False


# Whether RULE_RUNNER could record or replay a rule's region right now
# (regions.py installs its own test with run_region). Where it could not, the
# runner would only call the rule, so a node calls it directly instead.
RULE_REGIONS_APPLY = rule_regions_never_apply


def is_grad_enabled() -> bool:
    return _state.enabled


def _set_enabled(value: bool) -> None:
    _state.enabled = bool(value)


class _GradModeContext:
    """Base for the grad-mode context managers; also usable as decorators."""

    target = True

    def __enter__(self):
        self.previous = is_grad_enabled()
        _set_enabled(self.target)
        return self

    def __exit__(self, *exc):
        _set_enabled(self.previous)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradModeContext):  # noqa: N801 - PyTorch's name
    target = False


class enable_grad(_GradModeContext):  # noqa: N801 - PyTorch's name
    target = True


class set_grad_enabled(_GradModeContext):  # noqa: N801 - PyTorch's name
    def __init__(self, mode: bool):
        self.target = bool(mode)
        self.previous = is_grad_enabled()
        _set_enabled(self.target)  # takes effect as a plain call too, like PyTorch

    def __enter__(self):
        return self

    def __call__(self, fn):
        mode = self.target
        _set_enabled(self.previous)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper


class inference_mode(no_grad):  # noqa: N801 - PyTorch's name
    """Grad off inside (on for inference_mode(False)), and
    lt.is_inference_mode_enabled() says which; a decorator with or without
    its parentheses."""

    def __new__(cls, mode=True):
        if callable(mode):  # @lt.inference_mode, without parentheses
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True):
        self.mode = bool(mode)

    def __enter__(self):
        self.previous = is_grad_enabled(), _state.inference
        _set_enabled(not self.mode)
        _state.inference = self.mode
        return self

    def __exit__(self, *exc):
        _set_enabled(self.previous[0])
        _state.inference = self.previous[1]
        return False

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(mode):
                return fn(*args, **kwargs)

        return wrapper


def is_inference_mode_enabled() -> bool:
    return _state.inference


def _needs_grad(operands) -> bool:
    # The operands first: that no input requires grad is the common answer,
    # and reading it costs less than the thread-local grad mode.
    for x in operands:
        if getattr(x, "_requires_grad", False):
            return is_grad_enabled()
    return False


def record(op: str, out, operands, **ctx) -> None:
    """After an out-of-place op: attach its backward node if any input needs grad."""
    for x in operands:
        if getattr(x, "_requires_grad", False):
            if is_grad_enabled():
                RECORDERS["record"](op, out, operands, ctx)
            return


def record_view(base, view, op: str, ctx: dict) -> None:
    """After a view op: op is "reshape", "permute", "expand", "index" or "diagonal".

    Every view remembers the tensor that owns its storage layout (PyTorch's
    `._base`), grad mode or not: an in-place write through the view later must
    rewrite the base's history (CopySlices in lazyt/autograd/function.py)."""
    owner = getattr(base, "_base", None)
    view._base = owner if owner is not None else base
    if _needs_grad((base,)):
        RECORDERS["record"]("view_" + op, view, (base,), ctx)


def check_inplace(target) -> None:
    if is_grad_enabled() and target._requires_grad and target.grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")


def snapshot_for_inplace(target, op: str, others):
    if _needs_grad((target, *others)):
        return RECORDERS["snapshot"](target, op, others)
    return None


def record_inplace(op: str, target, others, snapshot) -> None:
    if snapshot is not None:
        RECORDERS["record_inplace"](op, target, others, snapshot)
