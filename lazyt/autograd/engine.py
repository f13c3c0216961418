"""The backward engine: walks grad_fn nodes from the outputs to the leaves.

Where it sits: above function.py (the nodes) and rules.py (the gradient
rules). `run_backward` orders the reachable nodes topologically with explicit
stacks (no recursion, so a 10,000-op chain is fine), sums the gradients
arriving at each node, calls it, and either accumulates into leaves' `.grad`
(Tensor.backward) or hands the gradients of chosen inputs back
(lt.autograd.grad). Without retain_graph each node drops its saved tensors
after it ran. This file also gives Tensor its autograd methods (backward,
retain_grad, register_hook, retains_grad, _version).
"""

from __future__ import annotations

import threading
import weakref

from lazyt import creation, elementwise, modes, reductions
from lazyt.autograd import anomaly_mode, grad_mode
from lazyt.autograd.function import AccumulateGrad, GradNode, grad_accumulator, gradient_edge
from lazyt.tensor import Tensor


def _as_tuple(x) -> tuple:
    if x is None:
        return ()
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


# ------------------------------------------------------------ graph order
def topological_order(roots: list[GradNode]) -> list[GradNode]:
    """Nodes reachable from roots, each before every node it feeds gradients to."""
    dependencies: dict[GradNode, int] = {}
    seen = set(roots)
    stack = list(roots)
    while stack:
        node = stack.pop()
        for child, _ in node.next_functions:
            if child is None:
                continue
            dependencies[child] = dependencies.get(child, 0) + 1
            if child not in seen:
                seen.add(child)
                stack.append(child)
    ready = [n for n in dict.fromkeys(roots) if dependencies.get(n, 0) == 0]
    order = []
    while ready:
        node = ready.pop()
        order.append(node)
        for child, _ in node.next_functions:
            if child is None:
                continue
            dependencies[child] -= 1
            if dependencies[child] == 0:
                ready.append(child)
    return order


def _needed_nodes(order: list[GradNode], targets: set) -> set:
    """The nodes on some path to a target (run only those for autograd.grad)."""
    needed = set()
    for node in reversed(order):
        if node in targets or any(c in needed for c, _ in node.next_functions if c is not None):
            needed.add(node)
    return needed


# ------------------------------------------------------------------ running
def _deposit(buffers: dict, node: GradNode, nr: int, grad) -> None:
    """Add grad to the gradients arriving at node (a list, one sum per output)."""
    held = buffers.get(node)
    if held is None:
        held = buffers[node] = [None] * node.num_outputs
    previous = held[nr]
    held[nr] = grad if previous is None else previous + grad


def _no_gradient(grads: list | None) -> bool:
    """No gradient arrived at a node (none, or every one None)."""
    if grads is None:
        return True
    for grad in grads:
        if grad is not None:
            return False
    return True


class _RunningPasses(threading.local):
    """Whether each backward pass running in this thread (innermost last)
    keeps its graph: PyTorch's GraphTask.keep_graph, for a node whose apply
    runs a graph of its own (regions.py's _GraphNode)."""

    def __init__(self):
        self.keep_graph: list[bool] = []


_RUNNING = _RunningPasses()


def keeps_graph() -> bool:
    """Whether the backward pass running a node keeps the graph (retain_graph;
    True outside any: a node called directly is not released after)."""
    return _RUNNING.keep_graph[-1] if _RUNNING.keep_graph else True


def run_backward(outputs, grad_outputs, retain_graph: bool, create_graph: bool,
                 inputs: tuple = (), accumulate: bool = True) -> list:
    """The engine. Returns the gradients of `inputs` (None where unreached)."""
    _RUNNING.keep_graph.append(bool(retain_graph))
    try:
        return _run_backward(outputs, grad_outputs, retain_graph, create_graph, inputs,
                             accumulate)
    finally:
        _RUNNING.keep_graph.pop()


def _run_backward(outputs, grad_outputs, retain_graph: bool, create_graph: bool,
                  inputs: tuple, accumulate: bool) -> list:
    outputs = _as_tuple(outputs)
    grad_outputs = _root_gradients(outputs, grad_outputs, create_graph)
    root_edges = [gradient_edge(t) for t in outputs]

    # Where to capture or deposit gradients of the chosen inputs.
    targets: dict[GradNode, list[int]] = {}
    for i, t in enumerate(inputs):
        edge = gradient_edge(t) if t._requires_grad else (None, 0)
        if edge[0] is not None:
            targets.setdefault(edge[0], []).append(i)
    captured: list = [None] * len(inputs)

    buffers: dict[GradNode, list] = {}
    for (node, nr), grad in zip(root_edges, grad_outputs):
        _deposit(buffers, node, nr, grad)

    order = topological_order([node for node, _ in root_edges])
    needed = _needed_nodes(order, set(targets)) if inputs else None
    handed_out: set = {_alias_key(g) for g in grad_outputs}

    with grad_mode.set_grad_enabled(create_graph):
        for node in order:
            grads = buffers.pop(node, None)
            if needed is not None and node not in needed:
                continue
            if _no_gradient(grads):
                if not retain_graph:
                    node.release()
                continue
            if _has_pre_hooks(node):
                grads = _run_pre_hooks(node, grads)
            if targets and node in targets:
                for i in targets[node]:
                    captured[i] = grads[0]
                if not accumulate and not any(
                        c in needed for c, _ in node.next_functions if c is not None):
                    continue
            if isinstance(node, AccumulateGrad):
                if accumulate and (not inputs or node in targets):
                    _accumulate(node.variable, grads[0], create_graph, handed_out)
                    for hook in list(node.variable.__dict__.get(_POST_ACCUMULATE, {}).values()):
                        hook(node.variable)
                continue
            if accumulate and inputs and node in targets:
                for i in targets[node]:
                    _store_nonleaf_grad(inputs[i], grads[0])
            input_grads = node.apply(grads)
            if anomaly_mode.STATE[0] and anomaly_mode.STATE[1]:
                _check_no_nan(node, input_grads)
            for hook in list(node.post_hooks):
                result = hook(tuple(input_grads), tuple(grads))
                if result is not None:
                    input_grads = _hook_result(result, len(input_grads), hook)
            if not retain_graph:
                node.release()
            for (child, nr), grad in zip(node.next_functions, input_grads):
                if child is not None and grad is not None:
                    _deposit(buffers, child, nr, grad)
    return captured


def _check_no_nan(node: GradNode, input_grads) -> None:
    """Anomaly mode: the first gradient a node returns with a NaN raises."""
    for i, grad in enumerate(input_grads):
        if isinstance(grad, Tensor) and grad.dtype.is_floating_point and \
                bool(reductions.any_(elementwise.isnan(grad))):
            raise RuntimeError(f"Function '{type(node).__name__}' returned nan values in its "
                               f"{i}th output.")


def _root_gradients(outputs: tuple, grad_outputs, create_graph: bool) -> list:
    grads = list(_as_tuple(grad_outputs)) if grad_outputs is not None else [None] * len(outputs)
    if len(grads) != len(outputs):
        raise RuntimeError("grad can be implicitly created only for scalar outputs"
                           if not grads else
                           f"Mismatch in number of gradients: expected {len(outputs)} but got "
                           f"{len(grads)}")
    result = []
    for i, (out, grad) in enumerate(zip(outputs, grads)):
        if not isinstance(out, Tensor):
            raise TypeError(f"backward: expected Tensor outputs, got {type(out).__name__}")
        if not out._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have "
                               "a grad_fn")
        if grad is None:
            if out.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            grad = creation.ones_like(out)
        elif not isinstance(grad, Tensor):
            grad = creation.full(tuple(out.shape), grad, dtype=out.dtype)
        if tuple(grad._shape) != tuple(out._shape):  # (_shape: never realises)
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{i}] has a shape of {grad.shape} and output[{i}] "
                f"has a shape of {out.shape}.")
        if grad.dtype is not out.dtype:
            with grad_mode.set_grad_enabled(create_graph):
                grad = grad.to(out.dtype)
        result.append(grad)
    return result


def _has_pre_hooks(node: GradNode) -> bool:
    """Whether _run_pre_hooks has anything to run for node (mostly not: it is skipped)."""
    if isinstance(node, AccumulateGrad):
        return bool(node.variable._backward_hooks)
    return bool(node.pre_hooks or node.retain_hooks or node.node_pre_hooks)


def _run_pre_hooks(node: GradNode, grads: list) -> list:
    """Tensor hooks (register_hook) may replace the gradient; retain_grad() reads it."""
    if isinstance(node, AccumulateGrad):
        hooks = node.variable._backward_hooks or {}
        for hook in list(hooks.values()):
            result = hook(grads[0])
            if result is not None:
                grads = [result]
        return grads
    for hook in list(node.pre_hooks):
        result = hook(grads[0])
        if result is not None:
            grads = [result] + grads[1:]
    for retain in list(node.retain_hooks):
        retain(grads[0])
    for hook in list(node.node_pre_hooks):  # (PyTorch's order: after the tensors' hooks)
        result = hook(tuple(grads))
        if result is not None:
            grads = _hook_result(result, len(grads), hook)
    return grads


def _hook_result(result, expected: int, hook) -> list:
    """A Node hook's returned gradients, checked as PyTorch checks them."""
    if not isinstance(result, tuple):
        raise TypeError(f"expected tuple, but hook returned '{type(result).__name__}'")
    if len(result) != expected:
        name = getattr(hook, "__name__", type(hook).__name__)
        raise RuntimeError(f"hook '{name}' has returned an incorrect number of values (got "
                           f"{len(result)}, but expected {expected})")
    return list(result)


def _alias_key(t) -> tuple:
    """What two tensors share when they share memory: a storage, or (pending,
    deferred mode) the node that will be computed into one."""
    if t._node is not None:
        return ("node", id(t._node))
    return ("storage", id(t._st))


def _owned_copy(grad, handed_out: set):
    """grad itself if nothing else holds its memory, else a dense copy: `.grad`
    is later updated in place (accumulation, zero_()), so it must not alias
    another leaf's grad, a user's gradient, or a broadcast view. A pending
    (deferred) gradient stays pending when it is fresh, so it can fuse with
    whatever reads it next (the optimizer step)."""
    key = _alias_key(grad)
    if grad._node is not None:
        owned = grad._lazy_base is None and key not in handed_out
    else:
        view = grad._vw
        owned = (key not in handed_out and view.offset == 0 and view.is_contiguous() and
                 grad.numel() == len(grad._st))
    if not owned:
        # A copy into memory of its own: computed now in eager mode; pending in
        # deferred mode (a pending tensor is always realised into a fresh
        # buffer, so the copy fuses with its producer instead of forcing it).
        source = grad._node if grad._node is not None else grad._load()
        grad = Tensor._from_node(source)
        key = ("copy", id(grad)) if grad._node is not None else _alias_key(grad)
    handed_out.add(key)
    return grad


def _accumulate(variable: Tensor, grad, create_graph: bool, handed_out: set) -> None:
    """AccumulateGrad: `.grad` = grad the first time, += grad after (like PyTorch)."""
    if variable.grad is None:
        variable.grad = grad if create_graph else _owned_copy(grad.detach(), handed_out)
    elif create_graph or variable.grad._requires_grad:
        variable.grad = variable.grad + grad
    else:
        variable.grad.add_(grad)


def _store_nonleaf_grad(t: Tensor, grad) -> None:
    t.grad = grad.clone() if t.grad is None else t.grad + grad


# --------------------------------------------------------------- user API
def backward(tensors, grad_tensors=None, retain_graph: bool | None = None,
             create_graph: bool = False, grad_variables=None, inputs=None) -> None:
    """lt.autograd.backward: accumulate d(tensors)/d(leaves) into the leaves' .grad."""
    if grad_tensors is None:
        grad_tensors = grad_variables
    if retain_graph is None:
        retain_graph = create_graph
    inputs = _as_tuple(inputs)
    for t in inputs:
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    modes.backward_started()
    run_backward(tensors, grad_tensors, retain_graph, create_graph, inputs, accumulate=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None,
         create_graph: bool = False, only_inputs: bool = True, allow_unused: bool | None = None,
         is_grads_batched: bool = False, materialize_grads: bool = False) -> tuple:
    """lt.autograd.grad: the gradients of outputs w.r.t. inputs (nothing goes into .grad)."""
    if is_grads_batched:
        raise NotImplementedError("lazyt.autograd.grad: is_grads_batched is not supported")
    inputs = _as_tuple(inputs)
    if not inputs:
        raise RuntimeError("grad requires non-empty inputs.")
    if allow_unused is None:
        allow_unused = materialize_grads
    if retain_graph is None:
        retain_graph = create_graph
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"grad: inputs must be Tensors, got {type(t).__name__} at index {i}")
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    grads = run_backward(outputs, grad_outputs, retain_graph, create_graph, inputs,
                         accumulate=False)
    result = []
    for i, (t, g) in enumerate(zip(inputs, grads)):
        if g is None:
            if materialize_grads:
                    g = creation.zeros_like(t)
            elif not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {i} appears to not have been used in the "
                    "graph. Set allow_unused=True if this is the desired behavior.")
        result.append(g)
    return tuple(result)


# ------------------------------------------------------------ Tensor methods
def tensor_backward(self: Tensor, gradient=None, retain_graph: bool | None = None,
                    create_graph: bool = False, inputs=None) -> None:
    """Tensor.backward: accumulate d(self)/d(leaf) into every leaf's .grad."""
    backward((self,), None if gradient is None else (gradient,), retain_graph, create_graph,
             inputs=inputs)


def retain_grad(self: Tensor) -> None:
    """Keep this non-leaf tensor's gradient in .grad after backward."""
    if not self._requires_grad:
        raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    if self.grad_fn is None or self._retains_grad:
        return
    ref = weakref.ref(self)

    def retain(grad) -> None:
        t = ref()
        if t is None:
            return
        with grad_mode.no_grad():
            t.grad = grad.clone() if t.grad is None else t.grad + grad

    self.grad_fn.hooks_list("retain_hooks").append(retain)
    self._retains_grad = True


class _HookHandle:
    def __init__(self, hooks, key):
        self.hooks, self.key = hooks, key

    def remove(self) -> None:
        if isinstance(self.hooks, dict):
            self.hooks.pop(self.key, None)
        elif self.key in self.hooks:
            self.hooks.remove(self.key)


def register_hook(self: Tensor, hook):
    """hook(grad) -> new grad or None, called when this tensor's gradient is computed."""
    if not self._requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if self.grad_fn is None:
        if self._backward_hooks is None:
            self._backward_hooks = {}
        key = object()
        self._backward_hooks[key] = hook
        grad_accumulator(self)  # nothing to do yet; the engine reads _backward_hooks
        return _HookHandle(self._backward_hooks, key)
    hooks = self.grad_fn.hooks_list("pre_hooks")
    hooks.append(hook)
    return _HookHandle(hooks, hook)


_POST_ACCUMULATE = "_post_accumulate_grad_hooks"


def register_post_accumulate_grad_hook(self: Tensor, hook):
    """hook(tensor), called after a backward pass has accumulated this leaf's .grad
    (PyTorch's name; DistributedDataParallel starts its all-reduces from it)."""
    if not self._requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if self.grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    hooks = self.__dict__.setdefault(_POST_ACCUMULATE, {})
    key = object()
    hooks[key] = hook
    grad_accumulator(self)
    return _HookHandle(hooks, key)


def _retains_grad(self: Tensor) -> bool:
    return self._retains_grad


def _version(self: Tensor) -> int:
    return self._storage.version


def _install_tensor_methods() -> None:
    Tensor.backward = tensor_backward
    Tensor.retain_grad = retain_grad
    Tensor.register_hook = register_hook
    Tensor.register_post_accumulate_grad_hook = register_post_accumulate_grad_hook
    Tensor.retains_grad = property(_retains_grad)
    Tensor._version = property(_version)
    Tensor._base = None  # set per view by grad_mode.record_view


_install_tensor_methods()
