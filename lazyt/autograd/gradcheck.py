"""gradcheck / gradgradcheck: compare autograd's gradients with central
finite differences, as torch.autograd.gradcheck does.

A test helper on top of the engine: the function under test runs through
lazyt as usual; only the bookkeeping here (the Jacobian tables and their
comparison) uses numpy, the way a test compares results. lazyt.autograd
re-exports gradcheck yet must load without the engine (the op modules import
its grad_mode), so the engine and creation are imported where they are used.
"""

from __future__ import annotations

import warnings

import numpy as np

from lazyt.autograd import grad_mode


class GradcheckError(RuntimeError):
    """Raised by gradcheck when the analytical and numerical Jacobians differ."""


def _is_tensor(x) -> bool:
    return hasattr(type(x), "_requires_grad")


def _as_tuple(x) -> tuple:
    if _is_tensor(x):
        return (x,)
    return tuple(x)


def _values(t) -> np.ndarray:
    """A tensor's elements as float64 numpy (reading, not computing)."""
    return np.array(t.detach().tolist(), dtype=np.float64).reshape(tuple(t.shape))


def _differentiable_outputs(outputs) -> list:
    return [o for o in _as_tuple(outputs) if _is_tensor(o) and o.dtype.is_floating_point]


def _numerical_jacobians(func, inputs, diff_indices, eps: float) -> list[list[np.ndarray]]:
    """jac[i][j]: (numel of input i) x (numel of output j), by central differences."""
    with grad_mode.no_grad():
        outputs = _differentiable_outputs(func(*inputs))
    jacobians = [[np.zeros((inputs[i].numel(), o.numel())) for o in outputs]
                 for i in diff_indices]
    for row, i in enumerate(diff_indices):
        x = inputs[i]
        shape = tuple(x.shape)
        for k in range(x.numel()):
            idx = np.unravel_index(k, shape) if shape else ()
            idx = tuple(int(v) for v in idx)
            original = float(x.detach()[idx].item()) if shape else float(x.detach().item())
            with grad_mode.no_grad():
                _write(x, idx, original + eps)
                plus = [_values(o) for o in _differentiable_outputs(func(*inputs))]
                _write(x, idx, original - eps)
                minus = [_values(o) for o in _differentiable_outputs(func(*inputs))]
                _write(x, idx, original)
            for j, (p, m) in enumerate(zip(plus, minus)):
                jacobians[row][j][k] = ((p - m) / (2 * eps)).reshape(-1)
    return jacobians


def _write(x, idx: tuple, value: float) -> None:
    target = x.detach()
    if idx:
        target[idx] = value
    else:
        target.fill_(value)


def _analytical_jacobians(func, inputs, diff_indices) -> list[list[np.ndarray]]:
    from lazyt import creation  # deferred: lazyt.autograd imports this module, engine-free
    from lazyt.autograd.engine import grad  # deferred: as above

    outputs = _differentiable_outputs(func(*inputs))
    diff_inputs = [inputs[i] for i in diff_indices]
    jacobians = [[np.zeros((inputs[i].numel(), o.numel())) for o in outputs]
                 for i in diff_indices]
    for j, out in enumerate(outputs):
        if not out.requires_grad:
            continue  # no path to any input: the analytical Jacobian is zero
        shape = tuple(out.shape)
        for k in range(out.numel()):
            one_hot = np.zeros(out.numel())
            one_hot[k] = 1.0
            seed = creation.tensor(one_hot.reshape(shape), dtype=out.dtype)
            grads = grad(out, diff_inputs, seed, retain_graph=True, allow_unused=True)
            for row, g in enumerate(grads):
                if g is not None:
                    if tuple(g.shape) != tuple(diff_inputs[row].shape):
                        raise GradcheckError(
                            f"Gradient has incorrect shape: expected {diff_inputs[row].shape}, "
                            f"got {g.shape}")
                    jacobians[row][j][:, k] = _values(g).reshape(-1)
    return jacobians


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, **unused) -> bool:
    """True when autograd's Jacobian of func at inputs matches central finite
    differences (|a - n| <= atol + rtol * |n| everywhere); otherwise raises
    GradcheckError (or returns False with raise_exception=False)."""
    inputs = _as_tuple(inputs)
    diff_indices = [i for i, x in enumerate(inputs) if _is_tensor(x) and x.requires_grad]
    if not diff_indices:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but "
                         "none of the them have requires_grad=True.")
    for i in diff_indices:
        if inputs[i].dtype.name != "float64":
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating "
                          "point. This check will likely fail if all the inputs are not of double "
                          "precision floating point. ", stacklevel=2)
    analytical = _analytical_jacobians(func, inputs, diff_indices)
    numerical = _numerical_jacobians(func, inputs, diff_indices, eps)
    for row, i in enumerate(diff_indices):
        for j, (a, n) in enumerate(zip(analytical[row], numerical[row])):
            if a.shape != n.shape or not np.all(np.abs(a - n) <= atol + rtol * np.abs(n)):
                message = (f"Jacobian mismatch for output {j} with respect to input {i},\n"
                           f"numerical:{n}\nanalytical:{a}\n")
                if raise_exception:
                    raise GradcheckError(message)
                return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, raise_exception: bool = True, **unused) -> bool:
    """gradcheck of the gradients themselves (backward built with create_graph=True)."""
    from lazyt import creation  # deferred: lazyt.autograd imports this module, engine-free
    from lazyt.autograd.engine import grad  # deferred: as above

    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        outputs = _differentiable_outputs(func(*inputs))
        rng = np.random.default_rng(0)
        grad_outputs = tuple(
            creation.tensor(rng.standard_normal(tuple(o.shape)), dtype=o.dtype,
                            requires_grad=True) for o in outputs)
    grad_outputs = _as_tuple(grad_outputs)
    count = len(inputs)

    def first_derivatives(*args):
        xs, seeds = args[:count], args[count:]
        outs = [o for o in _differentiable_outputs(func(*xs)) if o.requires_grad]
        diff = [x for x in xs if _is_tensor(x) and x.requires_grad]
        grads = grad(outs, diff, seeds[:len(outs)], create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivatives, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
