"""Elementwise tensor ops: type promotion, broadcasting, and the IR nodes.

Every op here is a row of the op table (ir/ops.py) or a short composition of
rows; the functions only decide dtypes and shapes (PyTorch's rules), build
nodes and realise them. In-place variants write through the tensor's view
with the same kernels (an ASSIGN into existing storage).

The Tensor methods and lazyt functions of the table's ops are bound from its
rows (their names, aliases and in-place names): a row gets a generated
function unless this file writes one out (`_WRITTEN_OUT`: PyTorch's extra
arguments and checks). Compositions (clamp, lerp, isclose, ...) are listed
in `_COMPOSITES`.
"""

from __future__ import annotations

import numbers

import numpy as np

from lazyt import creation, dtypes, eager_cache, formats, indexing, modes, reductions
from lazyt.autograd import grad_mode
from lazyt.dtypes import DType
from lazyt.engine.realize import realize_into
from lazyt.ir.layout import (
    elementwise_strides,
    is_non_overlapping_and_dense,
    preserve_format_strides,
)
from lazyt.ir.node import INTERNING, Node, make_node, walk
from lazyt.ir.ops import OPS, OpDef
from lazyt.ir.view import View, prod
from lazyt.realization import defer_write, flush_readers, realize_keeping
from lazyt.tensor import Tensor, broadcast_shapes

# PyTorch's names for dtypes in kernel error messages ("not implemented for 'Float'").
TORCH_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half",
               "bfloat16": "BFloat16", "int8": "Char", "uint8": "Byte", "int16": "Short",
               "int32": "Int", "int64": "Long", "bool": "Bool"}


_PLAIN_SCALARS = frozenset((int, float, bool))  # (the common scalars, checked first: isinstance
# against numbers.Number costs a quarter of an eager op)


def _is_scalar(x) -> bool:
    return isinstance(x, (numbers.Number, np.bool_, np.number)) and not isinstance(x, complex)


def _check_operand(x, op: str):
    if isinstance(x, Tensor) or _is_scalar(x):
        return x
    raise TypeError(f"{op}(): argument 'other' must be Tensor or Number, not {type(x).__name__}")


# Deferred mode's scalar operands: (dtype, type, value) -> the interned CONST
# node, kept so that a step's constants (a learning rate, 0.5, 2) are found
# without keying their bits again. Bounded; zeros and NaNs are not kept
# (0.0 == -0.0 and NaN != NaN as dictionary keys).
_CONSTS: dict = {}


def source(x, dtype: DType, shape: tuple[int, ...]) -> Node:
    """The IR node reading x (tensor or Python scalar) as dtype, broadcast to shape."""
    if isinstance(x, Tensor):
        node = x._load_as(shape)
        if node.dtype is not dtype:
            node = make_node("cast", dtype, shape, (node,))
        return node
    if INTERNING[0]:
        kept = _CONSTS.get((dtype, type(x), x))
        if kept is not None:
            return kept
    value = x.item() if isinstance(x, (np.number, np.bool_)) else x
    if dtype.kind == "f":
        value = float(value)
    elif dtype.kind == "b":
        value = bool(value)
    else:
        value = int(value)
    node = make_node("const", dtype, (), (), value)
    if INTERNING[0] and x == x and x != 0:  # (0.0 == -0.0 and NaN != NaN: not kept)
        if len(_CONSTS) >= 1024:
            _CONSTS.clear()
        _CONSTS[(dtype, type(x), x)] = node
    return node


def compute_dtypes(op: str, operands) -> tuple[DType, DType]:
    """(dtype the op computes in, dtype of its result) per the op's dtype rule."""
    row = OPS[op]
    promoted = dtypes.result_type(*operands)
    compute = promoted
    if row.dtype_rule == "float" and promoted.kind != "f":
        compute = dtypes.get_default_dtype()
    if row.dtype_rule == "integral" and promoted.kind == "f":
        raise NotImplementedError(f"\"{op}_cpu\" not implemented for '{TORCH_NAMES[promoted.name]}'")
    if compute.kind not in row.kinds:
        raise NotImplementedError(f"\"{op}_cpu\" not implemented for '{TORCH_NAMES[compute.name]}'")
    return compute, (dtypes.bool_ if row.dtype_rule == "bool" else compute)


def build(op: str, *operands, compute: DType | None = None) -> Node:
    """The node for op over tensors/scalars, with PyTorch's promotion and
    broadcasting; `compute` forces the dtype the op computes in."""
    if compute is None:
        compute, result, shape, _ = decisions(op, operands)
    else:
        operands = tuple(_check_operand(x, op) for x in operands)
        result = dtypes.bool_ if OPS[op].dtype_rule == "bool" else compute
        shape = broadcast_shapes(*(x._shape for x in operands if isinstance(x, Tensor)))
    return _node_of(op, operands, compute, result, shape)


def _node_of(op: str, operands: tuple, compute: DType, result: DType, shape) -> Node:
    srcs = tuple(source(x, compute, shape) for x in operands)
    return make_node(op, result, shape, srcs)


def apply(op: str, *operands) -> Tensor:
    """Out-of-place elementwise op: realised now (eager), or pending (deferred)."""
    if modes.is_deferred():
        compute, result, shape, strides = decisions(op, operands)
        out = Tensor._from_node(_node_of(op, operands, compute, result, shape), strides=strides)
    else:
        key = eager_cache.key_for(op, operands)
        out = None if key is None else eager_cache.run_cached(key, operands)
        if out is None:
            out = eager_cache.computed(key, operands, lambda: build(op, *operands),
                                       layout=lambda node: result_strides(node.shape, operands))
    grad_mode.record(op, out, operands)
    return out


# An elementwise op's decisions per op and operand kinds: (op, the default
# dtype, and per operand its dtype, shape and layout, or a scalar's type) ->
# (compute dtype, result dtype, shape, result strides or None: row-major).
# They depend on nothing else (values never decide dtypes or shapes here), so
# an op seen before skips promotion, broadcasting and the layout rule and only
# builds its node (deferred mode builds one per op, every step). Bounded like
# the eager cache; a failing op (a dtype error, shapes that do not broadcast,
# an operand that is not a tensor or number) is never entered and raises
# every time.
_DECISIONS: dict = {}
_DECISIONS_LIMIT = 4096


def decisions(op: str, operands: tuple) -> tuple[DType, DType, tuple[int, ...], tuple | None]:
    """(compute dtype, result dtype, shape, result strides or None) of op
    over operands, PyTorch's rules (compute_dtypes, broadcast_shapes,
    result_strides), remembered in _DECISIONS."""
    parts = [op, dtypes.get_default_dtype()]
    for x in operands:
        if isinstance(x, Tensor):
            parts.append((x.dtype, x._shape, _layout_strides(x)))
        else:
            parts.append(type(x))
    key = tuple(parts)
    decided = _DECISIONS.get(key)
    if decided is None:
        operands = tuple(_check_operand(x, op) for x in operands)
        compute, result = compute_dtypes(op, operands)
        shape = broadcast_shapes(*(x._shape for x in operands if isinstance(x, Tensor)))
        strides = result_strides(shape, operands)
        if strides == View.contiguous(shape).strides:
            strides = None
        if len(_DECISIONS) >= _DECISIONS_LIMIT:
            _DECISIONS.clear()
        decided = _DECISIONS[key] = (compute, result, shape, strides)
    return decided


def _layout_strides(x: Tensor):
    """The strides x has or will have once realised (None: a pending result
    laid out row-major), cheaply: the key of its layout in _DECISIONS."""
    if x._node is None or x._st is not None:
        return x._vw.strides
    if x._lazy_base is None:
        return x._pending_strides
    return x._layout().strides


def apply_row_major(op: str, *operands) -> Tensor:
    """apply, its result row-major whatever the operands' layouts: the last
    op of a PyTorch kernel that makes its input contiguous first (softmax)."""
    out = eager_cache.computed(eager_cache.key_for((op, "row-major"), operands), operands,
                               lambda: build(op, *operands))
    grad_mode.record(op, out, operands)
    return out


def result_strides(shape, operands) -> tuple[int, ...]:
    """The strides PyTorch gives an elementwise result over these operands
    (tensors and Python scalars): see ir/layout.elementwise_strides. A pending
    operand counts with the strides it will have once realised."""
    layouts = []
    for x in operands:
        if isinstance(x, Tensor):
            view = x._layout()
            layouts.append((view.shape, view.strides))
        else:
            layouts.append(((), ()))
    return elementwise_strides(shape, layouts)


def preserved_strides(x: Tensor) -> tuple[int, ...]:
    """The strides of a copy of x made with preserve_format (clone, a cast)."""
    view = x._layout()
    return preserve_format_strides(view.shape, view.strides)


def assign(target: Tensor, node: Node, deferrable: bool = False) -> Tensor:
    """Write node (cast to target's dtype, broadcast to its shape) through target's view.

    In deferred mode a `deferrable` write (one autograd does not record) is
    an ASSIGN left pending: the target reads as the new value's graph, and the
    write happens when it is realised (lazyt/realization.py, defer_write)."""
    node = _as_written_into(target, node)
    if deferrable and modes.is_deferred():
        node = defer_write(target, node)
        if node is None:
            return target
    pending = target if target._node is not None else target._st.writer
    if pending is not None:  # a pending target is realised first, node's value kept
        node = realize_keeping([pending], node)
    storage, view = target._storage, target._view
    flush_readers(storage)
    node = _unalias(target, node)
    realize_into(node, storage, view, graph=modes.is_deferred())
    storage.version += 1
    return target


def _as_written_into(target: Tensor, node: Node) -> Node:
    """node broadcast to target's shape and cast to its dtype: what a write
    into target computes."""
    shape = target._shape
    if node.shape != shape:
        if broadcast_shapes(shape, node.shape) != shape:
            raise RuntimeError(
                f"output with shape {list(shape)} doesn't match the broadcast shape "
                f"{list(broadcast_shapes(shape, node.shape))}")
        node = make_node("movement", node.dtype, shape, (node,), ("expand", (shape,)))
    if node.dtype is not target.dtype:
        node = make_node("cast", target.dtype, shape, (node,))
    return node


def _unalias(target: Tensor, node: Node) -> Node:
    """If node reads target's storage through a different view, copy that read
    first: an in-place kernel must not read elements it already overwrote."""
    buf = target._st.buffer
    for leaf in walk(node):
        if leaf.op == "load" and leaf.arg[0] is buf and leaf.arg[1] != target._vw:
            copy = Tensor._make(target._st, leaf.arg[1]).clone().realize()
            return _replace_load(node, leaf, copy._load())
    return node


def _replace_load(node: Node, old: Node, new: Node) -> Node:
    if node is old:
        return new
    if not node.srcs:
        return node
    return make_node(node.op, node.dtype, node.shape,
                     tuple(_replace_load(s, old, new) for s in node.srcs), node.arg)


def inplace(op: str, target: Tensor, *others) -> Tensor:
    """target = op(target, *others), checking PyTorch's in-place cast rule."""
    grad_mode.check_inplace(target)
    check_overlap(target, others)
    operands = (target, *others)
    key = None if modes.is_deferred() else eager_cache.key_for(op + "_", operands)
    if key is not None and not _needs_grad(operands) and eager_cache.run_inplace(key, operands):
        return target
    node = build(op, target, *others)
    if not _can_cast(node.dtype, target.dtype):
        raise RuntimeError(f"result type {TORCH_NAMES[node.dtype.name]} can't be cast to the "
                           f"desired output type {TORCH_NAMES[target.dtype.name]}")
    if node.shape != target._shape and broadcast_shapes(
            node.shape, target._shape) != target._shape:
        raise RuntimeError(
            f"output with shape {list(target.shape)} doesn't match the broadcast shape "
            f"{list(node.shape)}")
    snapshot = grad_mode.snapshot_for_inplace(target, op, others)
    assign(target, node, deferrable=snapshot is None)
    grad_mode.record_inplace(op, target, others, snapshot)
    if key is not None and snapshot is None:
        eager_cache.remember(key, operands, target, _as_written_into(target, node))
    return target


_CLONE_FIRST = "Please clone() the tensor before performing the operation."


def check_overlap(target: Tensor, inputs=()) -> None:
    """PyTorch's memory-overlap checks of a write into target: no element of
    target shares memory with another (an expanded tensor), and no input
    overlaps it in part (the same elements through other strides, or
    shifted). What PyTorch cannot decide cheaply (views that are not dense)
    passes; lazyt then copies the input first (_unalias). Pending tensors
    count with the memory and strides they will have once realised."""
    memory, view = _memory_of(target)
    if any(stride == 0 and size > 1 for size, stride in zip(view.shape, view.strides)):
        raise RuntimeError("unsupported operation: more than one element of the written-to "
                           f"tensor refers to a single memory location. {_CLONE_FIRST}")
    for x in inputs:
        if not isinstance(x, Tensor) or x is target:
            continue
        x_memory, x_view = _memory_of(x)
        if x_memory is memory and _partial_overlap(view, x_view):
            raise RuntimeError("unsupported operation: some elements of the input tensor and "
                               "the written-to tensor refer to a single memory location. "
                               f"{_CLONE_FIRST}")


def _memory_of(t: Tensor):
    """(what owns t's memory, t's view of it): its storage once realised (or
    written in place), else the pending tensor its view is taken from."""
    if t._st is not None:
        return t._st, t._vw
    return (t._lazy_base if t._lazy_base is not None else t), t._layout()


def _partial_overlap(a, b) -> bool:
    """PyTorch's get_overlap_status(a, b) == Partial for two views of one
    storage: both dense, their memory ranges intersect and are not the same
    elements in the same order."""
    numel_a, numel_b = prod(a.shape), prod(b.shape)
    if not numel_a or not numel_b or not is_non_overlapping_and_dense(a.shape, a.strides) or \
            not is_non_overlapping_and_dense(b.shape, b.strides):
        return False
    if a.offset == b.offset and numel_a == numel_b:
        return a.strides != b.strides
    return a.offset < b.offset + numel_b and b.offset < a.offset + numel_a


def _needs_grad(operands) -> bool:
    return grad_mode.is_grad_enabled() and any(
        getattr(x, "_requires_grad", False) for x in operands)


_CAST_ORDER = {"b": 0, "u": 1, "i": 1, "f": 2}


def _can_cast(src: DType, dst: DType) -> bool:
    """torch.can_cast: no float->int, no int->bool."""
    return _CAST_ORDER[src.kind] <= _CAST_ORDER[dst.kind]


def cast(x: Tensor, dtype: DType) -> Tensor:
    out = eager_cache.computed(eager_cache.key_for(("cast", dtype), (x,)), (x,),
                               lambda: make_node("cast", dtype, x._shape, (x._load(),)),
                               layout=lambda node: preserved_strides(x))
    grad_mode.record("cast", out, (x,))
    return out


# --------------------------------------------------------------- the methods
def _unary(op: str):
    def method(self: Tensor) -> Tensor:
        return apply(op, self)

    def method_(self: Tensor) -> Tensor:
        return inplace(op, self)

    method.__name__, method_.__name__ = op, op + "_"
    method.__doc__ = f"Elementwise {op} (see ir/ops.py)."
    return method, method_


def _check_bool_arith(op: str, a, b) -> None:
    a_bool = isinstance(a, Tensor) and a.dtype is dtypes.bool_ or isinstance(a, bool)
    b_bool = isinstance(b, Tensor) and b.dtype is dtypes.bool_ or isinstance(b, bool)
    if op == "sub" and a_bool and b_bool:
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. "
            "Use the `^` or `logical_xor()` operator instead.")


def add(input, other, *, alpha=1) -> Tensor:
    if alpha != 1:
        other = mul(other, alpha) if isinstance(other, Tensor) else other * alpha
    return apply("add", input, other)


def sub(input, other, *, alpha=1) -> Tensor:
    _check_bool_arith("sub", input, other)
    if alpha != 1:
        other = mul(other, alpha) if isinstance(other, Tensor) else other * alpha
    return apply("sub", input, other)


def mul(input, other) -> Tensor:
    return apply("mul", input, other)


def _check_int_division(op: str, a, b) -> None:
    """Integer division by zero raises, as PyTorch does on the CPU."""
    promoted = dtypes.result_type(a, b)
    if promoted.kind not in "iub":
        return
    if isinstance(b, Tensor):
        zero = apply("eq", b, 0)
        if bool(reductions.any_(zero)):
            raise RuntimeError("ZeroDivisionError")
    elif b == 0:
        raise RuntimeError("ZeroDivisionError")


def div(input, other, *, rounding_mode: str | None = None) -> Tensor:
    if rounding_mode is None:
        return apply("div", input, other)
    if rounding_mode == "floor":
        return floor_divide(input, other)
    if rounding_mode == "trunc":
        _check_int_division("div", input, other)
        if dtypes.result_type(input, other).kind == "f":
            return apply("trunc", apply("div", input, other))
        q = apply("floordiv", input, other)
        # floor -> trunc: add one where the signs differ and the division was inexact.
        r = apply("fmod", input, other)
        fix = apply("bitwise_and", apply("ne", r, 0),
                    apply("ne", apply("lt", r, 0), apply("lt", other, 0)))
        return apply("add", q, cast(fix, q.dtype))
    raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                       f"found '{rounding_mode}'")


def floor_divide(input, other) -> Tensor:
    _check_int_division("floor_divide", input, other)
    return apply("floordiv", input, other)


def remainder(input, other) -> Tensor:
    _check_int_division("remainder", input, other)
    return apply("remainder", input, other)


def fmod(input, other) -> Tensor:
    _check_int_division("fmod", input, other)
    return apply("fmod", input, other)


def pow(input, exponent) -> Tensor:  # noqa: A001 - PyTorch's name
    """x ** y; small integer exponents become multiplies (exact and fast)."""
    if not isinstance(input, Tensor):
        return apply("pow", input, exponent)
    if _is_scalar(exponent) and not isinstance(exponent, bool):
        result = dtypes.result_type(input, exponent)
        if result.kind in "iu" and exponent < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        if exponent in (1, 2) or exponent in (0.5, -1, 3, -2) and result.kind == "f":
            # Computed another way, recorded as pow (PyTorch's PowBackward0).
            with grad_mode.no_grad():
                out = _pow_by_scalar(input, exponent, result)
            grad_mode.record("pow", out, (input, exponent))
            return out
    return apply("pow", input, exponent)


def _pow_by_scalar(input: Tensor, exponent, result: DType) -> Tensor:
    """input ** exponent for exponent 1, 2, 0.5, -1 and (floats) 3, -2, as
    PyTorch's CPU kernel computes them: x*x, x*x*x, 1/(x*x), sqrt, 1/x. (A
    general pow rounds x**3 differently; deferred graphs, whose exponent is
    a constant, get x*x*x from ir/passes.py, and eager results must match.)"""
    if exponent == 1:
        return cast(input, result)
    if exponent in (2, 3, -2) and input.dtype is not result:
        # (x * x only where it keeps x's dtype: a bool tensor ** 2 is int64)
        return apply("pow", input, exponent)
    if exponent in (3, -2) and result is dtypes.float16:  # (in float32, rounded once)
        return cast(_pow_by_scalar(cast(input, dtypes.float32), exponent, dtypes.float32), result)
    if exponent == 2:
        return apply("mul", input, input)
    if exponent == 3:
        return apply("mul", apply("mul", input, input), input)
    if exponent == -2:
        return apply("reciprocal", apply("mul", input, input))
    return apply("sqrt" if exponent == 0.5 else "reciprocal", input)


def where(condition: Tensor, input=None, other=None):
    if input is None and other is None:  # where(cond) is nonzero(cond, as_tuple=True)
        return indexing.nonzero(condition, as_tuple=True)
    return where_recorded_as(condition, input, other)


def where_recorded_as(condition: Tensor, input, other, grad_name: str | None = None,
                      grad_edges: tuple[int, ...] | None = None, row_major: bool = False):
    """where, its grad_fn named and laid out as the PyTorch op built on it
    (tril: TrilBackward0 with an edge to operand 1 only); with `row_major`
    its result is row-major, as that op's (tril, masked_fill)."""
    if not isinstance(condition, Tensor) or condition.dtype is not dtypes.bool_:
        got = condition.dtype.name if isinstance(condition, Tensor) else type(condition).__name__
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {TORCH_NAMES.get(got, got)}")
    operands = (condition, input, other)

    def build_where() -> Node:
        dtype = dtypes.result_type(input, other)
        shape = broadcast_shapes(*[x._shape for x in operands if isinstance(x, Tensor)])
        return make_node("where", dtype, shape, (source(condition, dtypes.bool_, shape),
                                                 source(input, dtype, shape),
                                                 source(other, dtype, shape)))

    layout = None if row_major else (lambda node: result_strides(node.shape, operands))
    out = eager_cache.computed(eager_cache.key_for(("where", row_major), operands), operands,
                               build_where, layout=layout)
    if grad_name is None:
        grad_mode.record("where", out, operands)
    else:
        grad_mode.record("where", out, operands, grad_name=grad_name, grad_edges=grad_edges)
    return out


def clamp(input: Tensor, min=None, max=None) -> Tensor:  # noqa: A002 - PyTorch's names
    """min(max(input, min), max) in the dtype of all three together (PyTorch's rule)."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    return _clamp_recorded(input, min, max, "ClampBackward1")


def _clamp_recorded(input: Tensor, min, max, grad_name: str) -> Tensor:  # noqa: A002
    """Clamp; with number bounds one recorded op named as PyTorch names it
    (ClampBackward1, ClampMinBackward0, ClampMaxBackward0)."""
    if any(isinstance(b, Tensor) for b in (min, max)):
        return _clamp(input, min, max)
    with grad_mode.no_grad():
        out = _clamp(input, min, max)
    grad_mode.record("clamp", out, (input,), min=min, max=max, grad_name=grad_name)
    return out


def _clamp(input: Tensor, min, max) -> Tensor:  # noqa: A002
    dtype = dtypes.result_type(input, *[b for b in (min, max) if b is not None])
    out = cast_if(input, dtype)
    if min is not None:
        out = apply("maximum", out, cast_if(min, dtype))
    if max is not None:
        out = apply("minimum", out, cast_if(max, dtype))
    return out


def addcmul(input: Tensor, tensor1, tensor2, *, value=1) -> Tensor:
    return add(input, mul(mul(tensor1, tensor2), value))


def addcdiv(input: Tensor, tensor1, tensor2, *, value=1) -> Tensor:
    return add(input, mul(div(tensor1, tensor2), value))


def clamp_min(input: Tensor, min) -> Tensor:  # noqa: A002
    return _clamp_recorded(input, min, None, "ClampMinBackward0")


def clamp_max(input: Tensor, max) -> Tensor:  # noqa: A002
    return _clamp_recorded(input, None, max, "ClampMaxBackward0")


def clamp_(self: Tensor, min=None, max=None) -> Tensor:  # noqa: A002
    if any(isinstance(b, Tensor) for b in (min, max)):
        return copy_(self, clamp(self, min, max))
    return _clamp_inplace(self, min, max, "ClampBackward1")


def _clamp_inplace(self: Tensor, min, max, grad_name: str) -> Tensor:  # noqa: A002
    """clamp_ with number bounds: one in-place op, recorded as PyTorch names it."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    grad_mode.check_inplace(self)
    with grad_mode.no_grad():
        value = _clamp(self, min, max)
    if not _can_cast(value.dtype, self.dtype):
        raise RuntimeError(f"result type {TORCH_NAMES[value.dtype.name]} can't be cast to the "
                           f"desired output type {TORCH_NAMES[self.dtype.name]}")
    snapshot = grad_mode.snapshot_for_inplace(self, "clamp", ())
    assign(self, value._load(), deferrable=snapshot is None)
    grad_mode.record_inplace("clamp", self, (min, max, grad_name), snapshot)
    return self


def lerp(input: Tensor, end, weight) -> Tensor:
    """PyTorch's two-sided formula (exact at both ends), in input's dtype;
    differentiated, one LerpBackward0 (a number weight) or LerpBackward1."""
    if isinstance(end, Tensor) and grad_mode.is_grad_enabled() and any(
            isinstance(t, Tensor) and t._requires_grad for t in (input, end, weight)):
        from lazyt.regions import differentiated_as  # (regions sits above the op modules)
        if isinstance(weight, Tensor):
            return differentiated_as("lerp", _lerp, (input, end, weight), (), "LerpBackward1")
        return differentiated_as("lerp", lambda x, y: _lerp(x, y, weight), (input, end),
                                 (weight,), "LerpBackward0")
    return _lerp(input, end, weight)


def _lerp(input: Tensor, end, weight) -> Tensor:
    dtype = input.dtype
    end = cast_if(end, dtype)
    diff = sub(end, input)
    if not isinstance(weight, Tensor):
        if abs(weight) < 0.5:
            return add(input, mul(diff, weight))
        return sub(end, mul(diff, 1 - weight))
    weight = cast_if(weight, dtype)
    low = add(input, mul(weight, diff))
    high = sub(end, mul(diff, sub(1, weight)))
    return where(apply("lt", apply("abs", weight), 0.5), low, high)


def copy_(self: Tensor, src, non_blocking: bool = False) -> Tensor:
    grad_mode.check_inplace(self)
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'other' must be Tensor, not {type(src).__name__}")
    broadcast_shapes(self._shape, src._shape)
    check_overlap(self, (src,))
    snapshot = grad_mode.snapshot_for_inplace(self, "copy", (src,))
    assign(self, src._load(), deferrable=snapshot is None)
    grad_mode.record_inplace("copy", self, (src,), snapshot)
    return self


def fill_(self: Tensor, value) -> Tensor:
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value.ndim} dimensions.")
        value = value.item()
    dtypes.check_scalar_fits(value, self.dtype)
    grad_mode.check_inplace(self)
    snapshot = grad_mode.snapshot_for_inplace(self, "fill", ())
    assign(self, source(value, self.dtype, self._shape), deferrable=snapshot is None)
    grad_mode.record_inplace("fill", self, (), snapshot)
    return self


def zero_(self: Tensor) -> Tensor:
    return fill_(self, 0)


def clone(self: Tensor, *, memory_format=None) -> Tensor:
    out = Tensor._from_node(self._load(), strides=preserved_strides(self))
    grad_mode.record("clone", out, (self,))
    if memory_format is None or memory_format is formats.preserve_format:
        return out
    return out.contiguous(memory_format=memory_format)


def logical_not(x: Tensor) -> Tensor:
    return apply("eq", x, False) if x.dtype is dtypes.bool_ else apply("eq", x, 0)


def _as_bool(x):
    return x if not isinstance(x, Tensor) or x.dtype is dtypes.bool_ else apply("ne", x, 0)


def logical_and(a, b) -> Tensor:
    return apply("bitwise_and", _as_bool(a), _as_bool(b))


def logical_or(a, b) -> Tensor:
    return apply("bitwise_or", _as_bool(a), _as_bool(b))


def logical_xor(a, b) -> Tensor:
    return apply("bitwise_xor", _as_bool(a), _as_bool(b))


def neg(x: Tensor) -> Tensor:
    if x.dtype is dtypes.bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or "
                           "`logical_not()` operator instead.")
    return apply("neg", x)


def bitwise_not(x: Tensor) -> Tensor:
    return apply("bitwise_not", x)


def invert(x: Tensor) -> Tensor:
    """`~x`: PyTorch raises TypeError (not bitwise_not's NotImplementedError) on floats."""
    if x.dtype.kind == "f":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    return apply("bitwise_not", x)


def round(input: Tensor, *, decimals: int = 0) -> Tensor:  # noqa: A001 - PyTorch's name
    """Half to even, like PyTorch; with decimals, scaled by 10**decimals first."""
    if decimals == 0 or input.dtype.kind != "f":
        return apply("round", input)
    scale = 10.0 ** decimals
    return div(apply("round", mul(input, scale)), scale)


def isin(elements, test_elements, *, invert: bool = False) -> Tensor:
    elements = elements if isinstance(elements, Tensor) else creation.tensor(elements)
    tests = test_elements if isinstance(test_elements, Tensor) else creation.tensor(test_elements)
    found = reductions.any_(apply("eq", elements.unsqueeze(-1), tests.reshape(-1)), -1)
    return logical_not(found) if invert else found


def square(x: Tensor) -> Tensor:
    return pow(x, 2)


def isnan(x: Tensor) -> Tensor:
    if x.dtype.kind != "f":
        return apply("ne", x, x)
    return apply("isnan", x)


def isinf(x: Tensor) -> Tensor:
    if x.dtype.kind != "f":
        return apply("ne", x, x)
    return apply("isinf", x)


def isfinite(x: Tensor) -> Tensor:
    if x.dtype.kind != "f":
        return apply("eq", x, x)
    return apply("isfinite", x)


def nan_to_num(x: Tensor, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    if x.dtype.kind != "f":
        return clone(x)
    info = np.finfo(np.float32 if x.dtype.itemsize <= 4 else np.float64)
    if x.dtype is dtypes.float16:
        info = np.finfo(np.float16)
    posinf = float(info.max) if posinf is None else posinf
    neginf = float(info.min) if neginf is None else neginf
    out = where(isnan(x), nan, x)
    out = where(apply("eq", out, float("inf")), posinf, out)
    return where(apply("eq", out, float("-inf")), neginf, out)


def allclose(a: Tensor, b: Tensor, rtol: float = 1e-5, atol: float = 1e-8,
             equal_nan: bool = False) -> bool:
    return bool(reductions.all_(isclose(a, b, rtol, atol, equal_nan)))


def isclose(a: Tensor, b: Tensor, rtol: float = 1e-5, atol: float = 1e-8,
            equal_nan: bool = False) -> Tensor:
    for name, value in (("rtol", rtol), ("atol", atol)):
        if value < 0:
            raise RuntimeError(f"{name} must be greater than or equal to zero, but got {value}")
    dtype = dtypes.result_type(a, b)
    if dtype.kind != "f":
        return apply("eq", a, b)
    a, b = cast_if(a, dtype), cast_if(b, dtype)
    error = apply("abs", sub(a, b))  # inf - inf is NaN and inf vs -inf is inf: never close
    close = logical_and(apply("le", error, add(atol, mul(rtol, apply("abs", b)))),
                        apply("lt", error, float("inf")))
    close = logical_or(close, apply("eq", a, b))
    if equal_nan:
        close = logical_or(close, logical_and(isnan(a), isnan(b)))
    return close


def equal(a: Tensor, b: Tensor) -> bool:
    if a.shape != b.shape:
        return False
    return bool(reductions.all_(apply("eq", a, b)))


def cast_if(x, dtype: DType):
    return cast(x, dtype) if isinstance(x, Tensor) and x.dtype is not dtype else x


def _reflected(fn):
    def method(self, other):
        return fn(other, self)

    return method


def _binary_method(op: str):
    def method(self, other):
        return apply(op, self, other)

    return method


def _is_operand(other) -> bool:
    """What an operator takes; for anything else it returns NotImplemented so
    that Python can try the other side."""
    return isinstance(other, Tensor) or type(other) in _PLAIN_SCALARS or _is_scalar(other)


def _dunder_with_scalar_check(fn):
    """The operator method calling fn(self, other) for a Tensor or number."""
    def method(self, other):
        return fn(self, other) if _is_operand(other) else NotImplemented

    return method


def _operator(op: str, reflected: bool = False):
    """The operator method of an op that is `apply` alone (no keyword, no
    check of its own): self op other, or other op self when reflected; one
    call less than _dunder_with_scalar_check(function)."""
    def method(self, other):
        if not (isinstance(other, Tensor) or _is_operand(other)):  # (a Tensor: no call)
            return NotImplemented
        return apply(op, other, self) if reflected else apply(op, self, other)

    return method


def _inplace_binary(fn_name: str, op: str):
    def method(self, other, **kwargs):
        alpha = kwargs.pop("alpha", 1)
        if alpha != 1:
            other = mul(other, alpha) if isinstance(other, Tensor) else other * alpha
        if kwargs.get("rounding_mode") is not None:
            return copy_(self, div(self, other, **kwargs))
        if op in ("floordiv", "remainder", "fmod"):
            _check_int_division(op, self, other)
        if op == "sub":
            _check_bool_arith("sub", self, other)
        if op == "pow" and _is_scalar(other):
            return copy_(self, pow(self, other)) if self.dtype.kind == "f" else inplace(
                op, self, other)
        return inplace(op, self, other)

    method.__name__ = fn_name
    return method


def true_divide(input, other) -> Tensor:
    return div(input, other)


# The table ops whose function does more than apply the op: PyTorch's extra
# arguments (alpha, rounding_mode, decimals), its errors, shortcuts (pow).
_WRITTEN_OUT = {
    "add": add, "sub": sub, "mul": mul, "div": div, "floor_divide": floor_divide,
    "remainder": remainder, "fmod": fmod, "pow": pow, "where": where, "neg": neg,
    "bitwise_not": bitwise_not, "round": round, "isnan": isnan, "isinf": isinf,
    "isfinite": isfinite,
}
# Tensor methods that differ from the lazyt function of the same name.
_METHODS_WRITTEN_OUT = {
    "where": lambda self, condition, other: where(condition, self, other),
    "round_": lambda self, *, decimals=0: copy_(self, round(self, decimals=decimals)),
}
# Functions (and Tensor methods, except isin) composed of several table ops.
_COMPOSITES = {
    "true_divide": true_divide, "clamp": clamp, "clip": clamp, "addcmul": addcmul,
    "addcdiv": addcdiv, "clamp_min": clamp_min, "clamp_max": clamp_max, "lerp": lerp,
    "logical_not": logical_not, "logical_and": logical_and, "logical_or": logical_or,
    "logical_xor": logical_xor, "square": square, "nan_to_num": nan_to_num,
    "allclose": allclose, "isclose": isclose, "equal": equal, "clone": clone, "isin": isin,
}


def _table_function(row: OpDef):
    """The lazyt function (and Tensor method) of a table op: written out, or apply(op, ...)."""
    written = _WRITTEN_OUT.get(row.names[0])
    if written is not None:
        return written
    assert row.arity in (1, 2), f"op {row.name} of arity {row.arity} needs a written-out function"
    return _unary(row.name)[0] if row.arity == 1 else _binary_method(row.name)


def _table_inplace_method(row: OpDef, name: str):
    """The in-place Tensor method `name` of a table op (x.exp_(), x.add_(y, alpha=2))."""
    return _unary(row.name)[1] if row.arity == 1 else _inplace_binary(name, row.name)


TENSOR_METHODS: dict = {}
FUNCTIONS: dict = {}
for _row in OPS.values():
    _function = _table_function(_row)
    for _name in _row.names:
        FUNCTIONS[_name] = TENSOR_METHODS[_name] = _function
    for _name in _row.inplace:
        TENSOR_METHODS[_name] = _table_inplace_method(_row, _name)
        if _row.arity == 1:  # PyTorch has torch.exp_(x), torch.relu_(x), ...
            FUNCTIONS[_name] = TENSOR_METHODS[_name]
FUNCTIONS.update(_COMPOSITES)
# torch.fill(x, v) is a filled copy; torch.fill_ / torch.zero_ write into x.
FUNCTIONS.update(fill=lambda self, value: fill_(clone(self), value), fill_=fill_, zero_=zero_)
TENSOR_METHODS.update({k: v for k, v in _COMPOSITES.items() if k != "isin"})
TENSOR_METHODS.update(_METHODS_WRITTEN_OUT)
TENSOR_METHODS.update(
    clamp_=clamp_, clip_=clamp_, copy_=copy_, fill_=fill_, zero_=zero_,
    square_=lambda self: copy_(self, square(self)),
    lerp_=lambda self, end, weight: copy_(self, lerp(self, end, weight)),
    addcmul_=lambda self, t1, t2, *, value=1: copy_(self, addcmul(self, t1, t2, value=value)),
    addcdiv_=lambda self, t1, t2, *, value=1: copy_(self, addcdiv(self, t1, t2, value=value)),
    logical_not_=lambda self: copy_(self, logical_not(self)),
)

# Python operators.
TENSOR_METHODS.update({
    "__add__": _operator("add"), "__radd__": _operator("add", reflected=True),
    "__sub__": _dunder_with_scalar_check(sub), "__rsub__": _dunder_with_scalar_check(_reflected(sub)),
    "__mul__": _operator("mul"), "__rmul__": _operator("mul", reflected=True),
    "__truediv__": _dunder_with_scalar_check(div),
    "__rtruediv__": _dunder_with_scalar_check(_reflected(div)),
    "__floordiv__": _dunder_with_scalar_check(floor_divide),
    "__rfloordiv__": _dunder_with_scalar_check(_reflected(floor_divide)),
    "__mod__": _dunder_with_scalar_check(remainder),
    "__rmod__": _dunder_with_scalar_check(_reflected(remainder)),
    "__pow__": _dunder_with_scalar_check(pow),
    "__rpow__": _dunder_with_scalar_check(_reflected(pow)),
    "__eq__": _operator("eq"),
    "__ne__": _operator("ne"),
    "__lt__": _operator("lt"),
    "__le__": _operator("le"),
    "__gt__": _operator("gt"),
    "__ge__": _operator("ge"),
    "__and__": _operator("bitwise_and"),
    "__rand__": _operator("bitwise_and"),
    "__or__": _operator("bitwise_or"),
    "__ror__": _operator("bitwise_or"),
    "__xor__": _operator("bitwise_xor"),
    "__rxor__": _operator("bitwise_xor"),
    "__lshift__": _operator("bitwise_left_shift"),
    "__rshift__": _operator("bitwise_right_shift"),
    "__neg__": neg, "__pos__": lambda self: self, "__abs__": TENSOR_METHODS["abs"],
    "__invert__": invert,
    "__iadd__": TENSOR_METHODS["add_"], "__isub__": TENSOR_METHODS["sub_"],
    "__imul__": TENSOR_METHODS["mul_"], "__itruediv__": TENSOR_METHODS["div_"],
    "__ifloordiv__": TENSOR_METHODS["floor_divide_"], "__imod__": TENSOR_METHODS["remainder_"],
    "__ipow__": TENSOR_METHODS["pow_"], "__iand__": TENSOR_METHODS["bitwise_and_"],
    "__ior__": TENSOR_METHODS["bitwise_or_"], "__ixor__": TENSOR_METHODS["bitwise_xor_"],
})
