"""`out=` for lazyt's top-level functions: compute the result, then write it into
the tensor(s) the caller gave, with PyTorch's rules.

`with_out(name, function)` wraps a function that has no `out` parameter of its
own (lazyt/__init__.py wraps the exported op tables, so a new op gets `out=`
without writing it). The rules: the result dtype must be castable to out's
(no float -> int, no int -> bool); out is resized to the result's shape (with
PyTorch's warning when it had elements); out= does not differentiate.
"""

from __future__ import annotations

import functools
import inspect
import warnings

from lazyt import elementwise
from lazyt.autograd import grad_mode
from lazyt.tensor import _C_TYPE_NAMES, Tensor


def _torch_name(t: Tensor) -> str:
    return elementwise.TORCH_NAMES.get(t.dtype.name, t.dtype.name)


def _resize(out: Tensor, shape: tuple[int, ...]) -> None:
    """Point out at fresh storage of the new shape (PyTorch's resize of an out tensor)."""
    fresh = out.new_empty(shape)
    out.realize()
    out._st, out._vw = fresh._st, fresh._vw


# Ops whose out must have the result's dtype exactly (no cast), and how
# PyTorch words the refusal.
_EXACT_DTYPE = {
    **dict.fromkeys(("amax", "amin"), lambda result, out: (
        f"Expected the dtype for input and out to match, but got {_torch_name(result)} for "
        f"input's dtype and {_torch_name(out)} for out's dtype.")),
    **dict.fromkeys(("aminmax", "gather"), lambda result, out: (
        f"Expected out tensor to have dtype {_C_TYPE_NAMES[result.dtype.name]}, but got "
        f"{_C_TYPE_NAMES[out.dtype.name]} instead")),
    "multinomial": lambda result, out: (
        f"multinomial expects Long tensor out, got: {_torch_name(out)}"),
}


def _write_one(name: str, result: Tensor, out, inputs=()) -> None:
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if name in _EXACT_DTYPE and out.dtype is not result.dtype:
        raise RuntimeError(_EXACT_DTYPE[name](result, out))
    if not elementwise._can_cast(result.dtype, out.dtype):
        raise RuntimeError(f"result type {_torch_name(result)} can't be cast to the desired "
                           f"output type {_torch_name(out)}")
    shape = tuple(result.shape)
    if tuple(out.shape) != shape:
        if out.numel():
            warnings.warn(
                f"An output with one or more elements was resized since it had shape "
                f"{list(out.shape)}, which does not match the required output shape {list(shape)}. "
                "This behavior is deprecated, and in a future PyTorch release outputs will not be "
                "resized unless they have zero elements. You can explicitly reuse an out tensor t "
                "by resizing it, inplace, to zero elements with t.resize_(0).", UserWarning,
                stacklevel=4)
        _resize(out, shape)
    else:  # (a resized out is fresh memory)
        elementwise.check_overlap(out, inputs)
    out.copy_(result.detach())


def write_out(name: str, result, out, inputs=()):
    """Write result (a tensor or a tuple of tensors) into out; return out as
    torch does. `inputs`: the call's arguments (an input overlapping out in
    part is PyTorch's memory-overlap error)."""
    if grad_mode.is_grad_enabled() and any(
            isinstance(r, Tensor) and r.requires_grad
            for r in (result if isinstance(result, tuple) else (result,))):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    if isinstance(result, Tensor):
        _write_one(name, result, out, inputs)
        return out
    if isinstance(result, tuple) and all(isinstance(r, Tensor) for r in result):
        if not isinstance(out, (tuple, list)) or len(out) != len(result):
            raise TypeError(f"{name}(): argument 'out' must be a tuple of {len(result)} Tensors")
        for r, o in zip(result, out):
            _write_one(name, r, o)
        return type(result)(*out) if hasattr(result, "_fields") else tuple(out)
    raise TypeError(f"{name}() got an unexpected keyword argument 'out'")


def _takes_out(function) -> bool:
    try:
        return "out" in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return True  # not introspectable: leave it alone


def with_out(name: str, function):
    """function, accepting out= (unchanged when it has an `out` parameter already)."""
    if not callable(function) or isinstance(function, type) or name.startswith("_") or \
            name.endswith("_") or _takes_out(function):
        return function

    @functools.wraps(function)
    def function_with_out(*args, out=None, **kwargs):
        result = function(*args, **kwargs)
        return result if out is None else write_out(name, result, out,
                                                     (*args, *kwargs.values()))

    return function_with_out
