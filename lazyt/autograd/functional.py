"""lt.autograd.functional: derivatives of whole functions (torch.autograd.functional).

jacobian, hessian, vjp, jvp, vhp and hvp, built on lt.autograd.grad in
reverse mode: a Jacobian takes one backward pass per output element; jvp
uses the double-backward trick (the gradient of a vector-Jacobian product
with respect to its vector). Inputs and outputs are a Tensor or a tuple of
Tensors, and results are shaped as PyTorch's: a Jacobian block per (output,
input) pair, of shape output.shape + input.shape.
"""

from __future__ import annotations

from lazyt import creation, shape_ops
from lazyt.autograd import grad_mode
from lazyt.autograd.engine import grad as _grad
from lazyt.tensor import Tensor


def _as_tuple(value, what: str, fn_name: str) -> tuple[bool, tuple]:
    """(whether value was a tuple, value as a tuple of Tensors)."""
    is_tuple = isinstance(value, tuple)
    values = tuple(value) if is_tuple else (value,)
    for i, v in enumerate(values):
        if not isinstance(v, Tensor):
            if is_tuple:
                raise TypeError(f"The {what} given to {fn_name} must be either a Tensor or a "
                                f"tuple of Tensors but the value at index {i} has type "
                                f"{type(v)}.")
            raise TypeError(f"The {what} given to {fn_name} must be either a Tensor or a tuple "
                            f"of Tensors but the given {what} has type {type(v)}.")
    return is_tuple, values


def _prepared(inputs: tuple, create_graph: bool) -> tuple:
    """Inputs that require grad and that the caller's graph sees only when
    create_graph (else detached copies of the same memory)."""
    return tuple(x.view_as(x) if create_graph and x.requires_grad
                 else x.detach().requires_grad_(True) for x in inputs)


def _outputs(func, inputs: tuple, fn_name: str) -> tuple[bool, tuple]:
    return _as_tuple(func(*inputs), "outputs of the user-provided function", fn_name)


def _grads(outputs: tuple, inputs: tuple, grad_outputs: tuple, create_graph: bool,
           strict: bool, what: str) -> tuple:
    """d(sum of outputs * grad_outputs)/d(inputs), zeros where unused (an
    error where strict)."""
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    grads = (None,) * len(inputs)
    if pairs:
        grads = _grad([o for o, _ in pairs], inputs, [g for _, g in pairs], retain_graph=True,
                      create_graph=create_graph, allow_unused=True)
    result = []
    for i, (x, g) in enumerate(zip(inputs, grads)):
        if g is None:
            if strict:
                raise RuntimeError(f"The {what} of the user-provided function is independent of "
                                   f"input {i}. This is not allowed in strict mode.")
            g = creation.zeros_like(x)
        result.append(g)
    return tuple(result)


def _detached(values: tuple, create_graph: bool) -> tuple:
    return values if create_graph else tuple(v.detach() for v in values)


def _shaped(is_tuple: bool, values: tuple):
    return values if is_tuple else values[0]


def _check_v(v, others: tuple, others_tuple: bool) -> tuple:
    """v as a tuple, one Tensor per output (or input), of the same shapes."""
    _, vs = _as_tuple(v, "v", "the function")
    if len(vs) != len(others):
        raise RuntimeError(f"v is a tuple of invalid length: should be {len(others)} but got "
                           f"{len(vs)}.")
    for i, (a, b) in enumerate(zip(vs, others)):
        if tuple(a.shape) != tuple(b.shape):
            raise RuntimeError(f"{f'Entry {i} in ' if others_tuple else ''}v has invalid size: "
                               f"should be {b.shape!r} but got {a.shape!r}.")
    return vs


def _implicit_v(values: tuple, which: str) -> tuple:
    """v = 1 where func's only output (or input) is one element; else PyTorch's error."""
    if len(values) != 1 or values[0].numel() != 1:
        raise RuntimeError(f"The vector v can only be None if {which} a single Tensor with a "
                           "single element.")
    return (creation.ones_like(values[0]),)


def vjp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), v^T J): the vector-Jacobian product at inputs."""
    with grad_mode.enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _prepared(inputs, create_graph)
        outputs_tuple, outputs = _outputs(func, inputs, "vjp")
        vs = _implicit_v(outputs, "the user-provided function returns") if v is None else \
            _check_v(v, outputs, outputs_tuple)
        grads = _grads(outputs, inputs, vs, create_graph, strict, "output")
    return (_shaped(outputs_tuple, _detached(outputs, create_graph)),
            _shaped(inputs_tuple, _detached(grads, create_graph)))


def jvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), J v): the Jacobian-vector product at inputs, by
    differentiating a vector-Jacobian product with respect to its vector."""
    with grad_mode.enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _prepared(inputs, create_graph)
        vs = _implicit_v(inputs, "the input to the user-provided function is") if v is None \
            else _check_v(v, inputs, inputs_tuple)
        outputs_tuple, outputs = _outputs(func, inputs, "jvp")
        dummies = tuple(creation.zeros_like(o).requires_grad_(True) for o in outputs)
        grads = _grads(outputs, inputs, dummies, True, strict, "output")
        products = _grads(grads, dummies, vs, create_graph, strict, "output")
    return (_shaped(outputs_tuple, _detached(outputs, create_graph)),
            _shaped(outputs_tuple, _detached(products, create_graph)))


def jacobian(func, inputs, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode"):
    """The Jacobian of func at inputs: a Tensor of shape output.shape +
    input.shape, or tuples of them (per output, then per input) where func
    takes or returns tuples."""
    if strategy not in ("forward-mode", "reverse-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: '
                         'If your function has more outputs than inputs, "forward-mode" tends '
                         'to be more performant. Otherwise, prefer to use "reverse-mode".')
    if strategy == "forward-mode" and not vectorize:
        raise ValueError("torch.autograd.functional.jacobian: `strategy=\"forward-mode\"` "
                         "requires `vectorize=True`.")
    with grad_mode.enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _prepared(inputs, create_graph)
        outputs_tuple, outputs = _outputs(func, inputs, "jacobian")
        blocks = []
        for i, out in enumerate(outputs):
            rows = [[] for _ in inputs]
            flat = out.reshape(-1)
            for j in range(flat.numel()):
                row = _element_grads(flat[j], inputs, create_graph, strict, i)
                for k, g in enumerate(row):
                    rows[k].append(g)
            blocks.append(tuple(
                _stacked(rows[k], out, x, create_graph) for k, x in enumerate(inputs)))
    if outputs_tuple:
        return tuple(_shaped(inputs_tuple, block) for block in blocks)
    return _shaped(inputs_tuple, blocks[0])


def _element_grads(element: Tensor, inputs: tuple, create_graph: bool, strict: bool,
                   output_index: int) -> tuple:
    grads = (None,) * len(inputs)
    if element.requires_grad:
        grads = _grad(element, inputs, retain_graph=True, create_graph=create_graph,
                      allow_unused=True)
    result = []
    for k, (x, g) in enumerate(zip(inputs, grads)):
        if g is None:
            if strict:
                raise RuntimeError(f"Output {output_index} of the user-provided function is "
                                   f"independent of input {k}. This is not allowed in strict "
                                   "mode.")
            g = creation.zeros_like(x)
        result.append(g)
    return tuple(result)


def _stacked(rows: list, out: Tensor, x: Tensor, create_graph: bool) -> Tensor:
    shape = (*out.shape, *x.shape)
    if not rows:
        return creation.zeros(shape, dtype=x.dtype)
    block = shape_ops.stack(rows).reshape(shape)
    return block if create_graph else block.detach()


def _check_one_element(output, name: str) -> Tensor:
    if not isinstance(output, Tensor):
        raise RuntimeError(f"The function given to {name} should return a single Tensor")
    if output.numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {name} should contain "
                           "a single element")
    return output


def hessian(func, inputs, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode"):
    """The Hessian of a function returning one element: shape input.shape +
    input.shape, or a tuple of tuples per pair of inputs."""
    inputs_tuple, inputs_checked = _as_tuple(inputs, "inputs", "hessian")

    def gradient(*xs):
        outputs = (_check_one_element(func(*xs), "hessian"),)
        return _grads(outputs, xs, (creation.ones_like(outputs[0]),), True, strict, "output")

    result = jacobian(gradient, inputs_checked, create_graph=create_graph, strict=strict,
                      vectorize=vectorize, strategy=outer_jacobian_strategy)
    return result if inputs_tuple else result[0][0]


def _second_order(func, inputs, v, create_graph: bool, strict: bool, name: str):
    """(func(inputs), the Hessian's product with v, as rows (vhp) or columns (hvp))."""
    with grad_mode.enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", name)
        inputs = _prepared(inputs, create_graph)
        outputs = (_check_one_element(func(*inputs), name),)
        vs = _implicit_v(inputs, "the input to the user-provided function is") if v is None \
            else _check_v(v, inputs, inputs_tuple)
        grads = _grads(outputs, inputs, (creation.ones_like(outputs[0]),), True, strict, "output")
        if name == "vhp":
            products = _grads(grads, inputs, vs, create_graph, strict, "jacobian")
        else:  # H v: the gradient of u^T H with respect to u, taken at u = v (double backward)
            dummies = tuple(creation.zeros_like(g).requires_grad_(True) for g in grads)
            rows = _grads(grads, inputs, dummies, True, strict, "jacobian")
            products = _grads(rows, dummies, vs, create_graph, strict, "jacobian")
    return _detached(outputs, create_graph)[0], _shaped(inputs_tuple,
                                                        _detached(products, create_graph))


def vhp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), v^T H) for a function returning one element."""
    return _second_order(func, inputs, v, create_graph, strict, "vhp")


def hvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), H v) for a function returning one element."""
    return _second_order(func, inputs, v, create_graph, strict, "hvp")
