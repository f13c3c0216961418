"""lt.utils.checkpoint: activation checkpointing, as torch.utils.checkpoint.

checkpoint(function, *args) runs function without keeping its intermediate
results for backward; the backward pass runs it again (with the random state
it had, so dropout draws the same masks) and differentiates that. Values and
gradients are those of function(*args); memory holds only the inputs. Both
of PyTorch's variants (use_reentrant True or False) are this one mechanism:
gradients also reach the parameters the function uses (a module's weights).
"""

from __future__ import annotations

import warnings

from lazyt import random
from lazyt.autograd import grad_mode
from lazyt.autograd.engine import backward as _backward
from lazyt.autograd.function import Function
from lazyt.tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential"]


class _CheckpointFunction(Function):
    grad_fn_name = "CheckpointFunctionBackward"

    @staticmethod
    def forward(ctx, run, preserve_rng_state, *args):
        ctx.run = run
        ctx.rng_state = random.get_rng_state() if preserve_rng_state else None
        ctx.tensor_positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.others = [None if isinstance(a, Tensor) else a for a in args]
        ctx.save_for_backward(*(a for a in args if isinstance(a, Tensor)))
        with grad_mode.no_grad():
            return run(*args)

    @staticmethod
    def backward(ctx, *grad_outputs):
        args = list(ctx.others)
        inputs = []
        for position, saved in zip(ctx.tensor_positions, ctx.saved_tensors):
            copy = saved.detach().requires_grad_(saved.requires_grad)
            args[position] = copy
            inputs.append(copy)
        current = random.get_rng_state()
        if ctx.rng_state is not None:
            random.set_rng_state(ctx.rng_state)
        try:
            with grad_mode.enable_grad():
                outputs = ctx.run(*args)
        finally:
            random.set_rng_state(current)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        pairs = [(o, g) for o, g in zip(outputs, grad_outputs)
                 if isinstance(o, Tensor) and o.requires_grad and g is not None]
        if pairs:
            _backward([o for o, _ in pairs], [g for _, g in pairs])
        grads = iter(x.grad if x.requires_grad else None for x in inputs)
        return (None, None, *(next(grads) if isinstance(a, Tensor) else None
                              for a in args))


def checkpoint(function, *args, use_reentrant: bool | None = None, context_fn=None,
               determinism_check: str = "default", debug: bool = False,
               preserve_rng_state: bool = True, **kwargs):
    """function(*args, **kwargs), recomputed during backward instead of stored."""
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint: the use_reentrant parameter should be passed "
                      "explicitly. Starting in PyTorch 2.9, calling checkpoint without "
                      "use_reentrant will raise an exception. use_reentrant=False is "
                      "recommended, but if you need to preserve the current default behavior, "
                      "you can pass use_reentrant=True. Refer to docs for more details on the "
                      "differences between the two variants.", UserWarning, stacklevel=2)
    if use_reentrant and kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))

    def run(*call_args):
        return function(*call_args, **kwargs)

    if not grad_mode.is_grad_enabled():
        return run(*args)
    return _CheckpointFunction.apply(run, preserve_rng_state, *args)


def checkpoint_sequential(functions, segments: int, input, use_reentrant: bool | None = None,
                          **kwargs):
    """A sequence of modules (or an nn.Sequential) run in `segments` checkpointed
    chunks; the last chunk runs normally, as PyTorch's."""
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint.checkpoint_sequential: the use_reentrant "
                      "parameter should be passed explicitly. In version 2.9 we will raise an "
                      "exception if use_reentrant is not passed. use_reentrant=False is "
                      "recommended, but if you need to preserve the current default behavior, "
                      "you can pass use_reentrant=True. Refer to docs for more details on the "
                      "differences between the two variants.", UserWarning, stacklevel=2)
    functions = list(functions.children()) if hasattr(functions, "children") else list(functions)
    size = len(functions) // segments
    end = -1

    def run_range(start, stop):
        def forward(x):
            for j in range(start, stop + 1):
                x = functions[j](x)
            return x

        return forward

    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run_range(start, end), input, use_reentrant=use_reentrant,
                           preserve_rng_state=kwargs.get("preserve_rng_state", True))
    return run_range(end + 1, len(functions) - 1)(input)
