"""Module.register_full_backward_hook and register_full_backward_pre_hook:
the gradients flowing into and out of one module call, as PyTorch's
torch.utils.hooks.BackwardHook.

A call of a module with such hooks passes its tensor inputs and outputs
through identity Functions. Backward reaches the outputs' identity first: it
runs the pre-hooks (which may replace grad_output) and remembers grad_output;
then the inputs' identity gets grad_input and runs the hooks (which may
replace grad_input). When no input requires grad, the hooks run at the
outputs' identity with grad_input all None, as in PyTorch.
"""

from __future__ import annotations

import warnings

from lazyt.autograd.function import Function
from lazyt.tensor import Tensor


class _CallState:
    """One module call: its hooks and the grad_output seen so far."""

    def __init__(self, module, input_count: int):
        self.module = module
        self.input_count = input_count
        self.grad_output = None

    def run_pre_hooks(self, grad_output: tuple) -> tuple:
        for hook in tuple(self.module._backward_pre_hooks.values()):
            result = hook(self.module, grad_output)
            if result is not None:
                grad_output = _checked(result, len(grad_output), "pre-hook")
        return grad_output

    def run_hooks(self, grad_input: tuple) -> tuple:
        for hook in tuple(self.module._backward_hooks.values()):
            result = hook(self.module, grad_input, self.grad_output)
            if result is not None:
                grad_input = _checked(result, len(grad_input), "hook")
        return grad_input


def _checked(result, expected: int, what: str) -> tuple:
    result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
    if len(result) != expected:
        raise RuntimeError(f"Backward {what} returned an invalid number of grad_input, got "
                           f"{len(result)}, but expected {expected}")
    return result


class _InputsIdentity(Function):
    @staticmethod
    def forward(ctx, state, *tensors):
        ctx.state = state
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        return (None, *ctx.state.run_hooks(grads))


class _OutputsIdentity(Function):
    @staticmethod
    def forward(ctx, state, inputs_tracked, *tensors):
        ctx.state, ctx.inputs_tracked = state, inputs_tracked
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        state = ctx.state
        grads = state.run_pre_hooks(grads)
        state.grad_output = grads
        if not ctx.inputs_tracked:
            if state.module._backward_hooks:
                warnings.warn("Full backward hook is firing when gradients are computed with "
                              "respect to module outputs since no inputs require gradients. See "
                              "https://docs.pytorch.org/docs/main/generated/torch.nn.Module.html"
                              "#torch.nn.Module.register_full_backward_hook for more details.",
                              UserWarning, stacklevel=2)
            state.run_hooks((None,) * state.input_count)
        return (None, None, *grads)


def call_with_backward_hooks(module, forward, args: tuple, kwargs: dict):
    """forward(*args, **kwargs) with module's full backward (pre-)hooks attached."""
    positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    state = _CallState(module, len(positions))
    tracked = any(args[i].requires_grad for i in positions)
    if tracked:
        passed = _InputsIdentity.apply(state, *(args[i] for i in positions))
        passed = passed if isinstance(passed, tuple) else (passed,)
        args = list(args)
        for i, tensor in zip(positions, passed):
            args[i] = tensor
        args = tuple(args)
    output = forward(*args, **kwargs)
    outputs = output if isinstance(output, tuple) else (output,)
    slots = [i for i, o in enumerate(outputs) if isinstance(o, Tensor) and o.requires_grad]
    if not slots:
        return output
    passed = _OutputsIdentity.apply(state, tracked, *(outputs[i] for i in slots))
    passed = passed if isinstance(passed, tuple) else (passed,)
    outputs = list(outputs)
    for i, tensor in zip(slots, passed):
        outputs[i] = tensor
    return tuple(outputs) if isinstance(output, tuple) else outputs[0]
