"""lt.func: torch.func's function transforms, on lazyt's autograd.

grad, grad_and_value, vjp, jvp, jacrev, jacfwd and hessian differentiate a
Python function with lt.autograd (reverse mode; jvp and jacfwd by the
double-backward trick, so their values are forward mode's). They compose
(grad(grad(f))): inside a transform every gradient keeps its graph, and
results are detached only at the outermost level. vmap maps a function over
a batch dim by calling it once per slice and stacking the results: the same
values as PyTorch's vectorised vmap, at the cost of one call per slice.
Arguments and results may be Tensors or tuples, lists and dicts of them.
"""

from __future__ import annotations

import functools

from lazyt import creation, shape_ops
from lazyt.autograd import functional, grad_mode
from lazyt.tensor import Tensor

__all__ = ["functional_call", "grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp",
           "vjp", "vmap"]

# How many transforms are running now: results are detached at depth 0 only.
_DEPTH = [0]


# ------------------------------------------------------------------ trees
def _flatten(tree) -> tuple[list, object]:
    """(the Tensors and other leaves of a tuple/list/dict tree, its layout)."""
    if isinstance(tree, (tuple, list)):
        leaves, layouts = [], []
        for item in tree:
            item_leaves, layout = _flatten(item)
            leaves += item_leaves
            layouts.append((len(item_leaves), layout))
        return leaves, (type(tree), layouts)
    if isinstance(tree, dict):
        leaves, layout = _flatten(list(tree.values()))
        return leaves, (dict, list(tree.keys()), layout)
    return [tree], None


def _unflatten(leaves: list, layout):
    if layout is None:
        return leaves[0]
    if layout[0] is dict:
        return dict(zip(layout[1], _unflatten(leaves, layout[2])))
    kind, parts = layout
    items, start = [], 0
    for count, part in parts:
        items.append(_unflatten(leaves[start:start + count], part))
        start += count
    return kind(items) if kind in (tuple, list) else kind(*items)


def _argnums(argnums, count: int, name: str) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not nums:
        raise RuntimeError(f"{name}: argnums must be non-empty")
    for n in nums:
        if not isinstance(n, int):
            raise RuntimeError(f"{name}: argnums must be int or Tuple[int, ...], got: "
                               f"{type(n)}")
        if not -count <= n < count:
            raise RuntimeError(f"Got argnums={n}, but only {count} positional inputs")
    return tuple(n % count for n in nums)


def _tracked(x):
    """x as an input to differentiate: connected to an outer transform's
    graph when it requires grad, else a fresh leaf of the same memory."""
    if not isinstance(x, Tensor):
        raise RuntimeError(f"Expected Tensor inputs to differentiate, got {type(x).__name__}")
    return functional._prepared((x,), create_graph=True)[0]


def _finished(tree):
    """Results as the user gets them: detached at the outermost transform."""
    if _DEPTH[0] > 0:
        return tree
    leaves, layout = _flatten(tree)
    return _unflatten([x.detach() if isinstance(x, Tensor) else x for x in leaves], layout)


def _transform(fn):
    """Run fn inside one more transform level, with grad on."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        _DEPTH[0] += 1
        try:
            with grad_mode.enable_grad():
                return fn(*args, **kwargs)
        finally:
            _DEPTH[0] -= 1

    return wrapper


def _gradients(outputs: list, inputs: list, grad_outputs: list | None = None) -> list:
    """d(sum of outputs * grad_outputs)/d(inputs) keeping the graph (so
    transforms compose), zeros where unused; a None grad_output means ones."""
    if not inputs:
        return []
    pairs = [(o, creation.ones_like(o) if g is None else g)
             for o, g in zip(outputs, grad_outputs or [None] * len(outputs))
             if isinstance(o, Tensor)]
    return list(functional._grads(tuple(o for o, _ in pairs), tuple(inputs),
                                  tuple(g for _, g in pairs), True, False, "output"))


# ------------------------------------------------------------------ grad
def grad_and_value(func, argnums=0, has_aux: bool = False):
    """A function returning (gradient of func with respect to argnums, func's
    value); func returns a one-element Tensor (and aux with has_aux)."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        nums = _argnums(argnums, len(args), "grad_and_value(f)(*args)")

        @_transform
        def run():
            args_ = list(args)
            trees = []
            for n in nums:
                leaves, layout = _flatten(args_[n])
                leaves = [_tracked(x) for x in leaves]
                args_[n] = _unflatten(leaves, layout)
                trees.append((leaves, layout))
            result = func(*args_, **kwargs)
            if has_aux:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError("grad_and_value(f)(*args): output of function f should "
                                       "be a tuple: (output, aux) if has_aux is True")
                output, aux = result
            else:
                output, aux = result, None
            if not isinstance(output, Tensor):
                raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a "
                                   f"Tensor, got {type(output)}")
            if output.ndim != 0:
                raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a "
                                   f"scalar Tensor, got tensor with {output.ndim} dims. Maybe "
                                   "you wanted to use the vjp or jacrev APIs instead?")
            flat = [x for leaves, _ in trees for x in leaves]
            grads = _gradients([output], flat)
            out, start = [], 0
            for leaves, layout in trees:
                out.append(_unflatten(grads[start:start + len(leaves)], layout))
                start += len(leaves)
            gradient = out[0] if isinstance(argnums, int) else tuple(out)
            return gradient, output, aux

        gradient, output, aux = run()
        value = (output, aux) if has_aux else output
        return _finished(gradient), _finished(value)

    return wrapper


def grad(func, argnums=0, has_aux: bool = False):
    """A function returning the gradient of func (one-element output) with
    respect to argnums, and aux with has_aux."""
    both = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        gradient, value = both(*args, **kwargs)
        return (gradient, value[1]) if has_aux else gradient

    return wrapper


# ------------------------------------------------------------------ vjp, jvp
def vjp(func, *primals, has_aux: bool = False):
    """(func(*primals), vjp_fn[, aux]): vjp_fn(cotangents) gives the gradient
    of sum(output * cotangents) with respect to each primal, as a tuple."""
    leaves, layout = _flatten(list(primals))

    @_transform
    def run():
        tracked = [_tracked(x) for x in leaves]
        result = func(*_unflatten(tracked, layout))
        output, aux = result if has_aux else (result, None)
        return tracked, output, aux

    tracked, output, aux = run()
    out_leaves, out_layout = _flatten(output)

    def vjp_fn(cotangents):
        given, given_layout = _flatten(cotangents)
        if len(given) != len(out_leaves):
            raise RuntimeError("Expected pytree structure of cotangents to be the same as "
                               "pytree structure of outputs to the function")
        for c, o in zip(given, out_leaves):
            if tuple(c.shape) != tuple(o.shape):
                raise RuntimeError(f"Mismatch in shape: grad_output[0] has a shape of "
                                   f"{c.shape} and output[0] has a shape of {o.shape}.")
        grads = _transform(lambda: _gradients(out_leaves, tracked, given))()
        return _finished(tuple(_unflatten(grads, layout)))

    outputs = _finished(output)
    return (outputs, vjp_fn, _finished(aux)) if has_aux else (outputs, vjp_fn)


def jvp(func, primals, tangents, *, strict: bool = False, has_aux: bool = False):
    """(func(*primals), the directional derivative along tangents)."""
    if not isinstance(primals, tuple) or not isinstance(tangents, tuple):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to be "
                           "tuples")
    leaves, layout = _flatten(primals)
    given, _ = _flatten(tangents)
    if len(given) != len(leaves):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to have "
                           "the same python structure")

    @_transform
    def run():
        tracked = [_tracked(x) for x in leaves]
        result = func(*_unflatten(tracked, layout))
        output, aux = result if has_aux else (result, None)
        out_leaves, out_layout = _flatten(output)
        dummies = [creation.zeros_like(o).requires_grad_(True) for o in out_leaves]
        back = _gradients(out_leaves, tracked, dummies)
        forward = _gradients(back, dummies, given)
        return output, _unflatten(forward, out_layout), aux

    output, tangent_out, aux = run()
    result = (_finished(output), _finished(tangent_out))
    return (*result, _finished(aux)) if has_aux else result


# ------------------------------------------------------------------ Jacobians
def jacrev(func, argnums=0, *, has_aux: bool = False, chunk_size=None,
           _preallocate_and_copy: bool = False):
    """A function returning the Jacobian of func with respect to argnums:
    per output, a block of shape output.shape + input.shape (per input
    when argnums is a tuple; trees of inputs give trees of blocks)."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        nums = _argnums(argnums, len(args), "jacrev(f, ...)(*args)")
        trees = [_flatten(args[n]) for n in nums]
        leaves = tuple(x for tree_leaves, _ in trees for x in tree_leaves)
        aux_box, out_is_tuple = [], []

        def of_leaves(*xs):
            args_, start = list(args), 0
            for n, (tree_leaves, layout) in zip(nums, trees):
                args_[n] = _unflatten(list(xs[start:start + len(tree_leaves)]), layout)
                start += len(tree_leaves)
            result = func(*args_, **kwargs)
            if has_aux:
                result, aux = result
                aux_box.append(aux)
            out_is_tuple.append(isinstance(result, tuple))
            return result

        _DEPTH[0] += 1
        try:
            blocks = functional.jacobian(of_leaves, leaves, create_graph=True)
        finally:
            _DEPTH[0] -= 1

        def per_argument(row):
            out, start = [], 0
            for tree_leaves, layout in trees:
                out.append(_unflatten(list(row[start:start + len(tree_leaves)]), layout))
                start += len(tree_leaves)
            return out[0] if isinstance(argnums, int) else tuple(out)

        result = tuple(per_argument(row) for row in blocks) if out_is_tuple[0] else \
            per_argument(blocks)
        return (_finished(result), _finished(aux_box[0])) if has_aux else _finished(result)

    return wrapper


def jacfwd(func, argnums=0, has_aux: bool = False, *, randomness: str = "error"):
    """The same Jacobian as jacrev (computed here in reverse mode)."""
    return jacrev(func, argnums, has_aux=has_aux)


def hessian(func, argnums=0):
    """The Jacobian of the Jacobian: input.shape + input.shape per pair."""
    return jacfwd(jacrev(func, argnums), argnums)


# ------------------------------------------------------------------ vmap
def vmap(func, in_dims=0, out_dims=0, randomness: str = "error", *, chunk_size=None):
    """func mapped over dim in_dims of its inputs (None: not mapped), its
    results stacked along out_dims."""
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        dims = in_dims if isinstance(in_dims, tuple) else (in_dims,) * len(args)
        if len(dims) != len(args):
            raise ValueError(f"vmap(func, in_dims={in_dims}, ...)(<inputs>): in_dims is not "
                             f"compatible with the structure of `inputs`. in_dims has structure "
                             f"of length {len(dims)} but inputs has {len(args)} elements.")
        mapped = []  # (leaves, layout, dims per leaf) per argument
        sizes = []
        for arg, dim in zip(args, dims):
            leaves, layout = _flatten(arg)
            leaf_dims = _flatten(dim)[0] if isinstance(dim, (tuple, list, dict)) else \
                [dim] * len(leaves)
            for x, d in zip(leaves, leaf_dims):
                if d is None:
                    continue
                if not isinstance(x, Tensor):
                    raise ValueError(f"vmap(func, in_dims={in_dims}, ...)(<inputs>): Got "
                                     f"in_dim={d} for an input but the input is of type "
                                     f"{type(x)}. We cannot vmap over non-Tensor arguments, "
                                     "please use None as the respective in_dim")
                if not -x.ndim <= d < x.ndim:
                    raise ValueError(f"vmap(func, in_dims={in_dims}, ...)(<inputs>): Got "
                                     f"in_dim={d} for some input, but that input is a Tensor "
                                     f"of dimensionality {x.ndim} so expected in_dim to "
                                     f"satisfy -{x.ndim} <= in_dim < {x.ndim}.")
                sizes.append(x.shape[d])
            mapped.append((leaves, layout, leaf_dims))
        if not sizes:
            raise ValueError(f"vmap(func, in_dims={in_dims}, ...)(<inputs>): at least one "
                             "input must be a Tensor mapped over a dim (in_dim not None)")
        if len(set(sizes)) > 1:
            raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped "
                             f"dimension, got sizes {sizes} for the mapped dimension")
        size = sizes[0]
        results = []
        for i in range(size):
            call_args = [_unflatten([x if d is None else x.select(d, i)
                                     for x, d in zip(leaves, leaf_dims)], layout)
                         for leaves, layout, leaf_dims in mapped]
            results.append(_flatten(func(*call_args, **kwargs)))
        layout = results[0][1]
        count = len(results[0][0])
        outs = out_dims if isinstance(out_dims, (tuple, list)) else (out_dims,) * count
        stacked = []
        for k in range(count):
            column = [leaves[k] for leaves, _ in results]
            if outs[k] is None:
                stacked.append(column[0])
                continue
            column = [c if isinstance(c, Tensor) else creation.tensor(c) for c in column]
            stacked.append(shape_ops.stack(column, outs[k]))
        return _unflatten(stacked, layout)

    return wrapper


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights: bool = True, strict: bool = False):
    """module(*args, **kwargs) with its parameters and buffers replaced by
    the given tensors (by qualified name; a tuple of dicts is merged) for
    this call only."""
    from lazyt.nn.utils import stateless  # (nn sits above lt.func: loaded on use only)

    if isinstance(parameter_and_buffer_dicts, dict):
        merged = parameter_and_buffer_dicts
    else:
        merged = {}
        for mapping in parameter_and_buffer_dicts:
            repeated = set(merged) & set(mapping)
            if repeated:
                raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of "
                                 "functional call is ambiguous")
            merged.update(mapping)
    return stateless._functional_call(module, merged, args, kwargs, tie_weights=tie_weights,
                                      strict=strict)
