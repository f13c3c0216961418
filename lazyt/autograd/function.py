"""The backward graph: PyTorch-style `grad_fn` nodes, saved tensors, and the
recorders the op modules call through lazyt/autograd/grad_mode.py.

Where it sits: an op computes its result (IR, realised in eager mode), then
calls `grad_mode.record(op, out, operands, **ctx)`; `record_op` here builds a
`GradNode` (an `OpNode`) from the op's gradient rule (lazyt/autograd/rules.py), saves the tensors
the rule will need (with their storage's version, so a later in-place write is
caught), and links the node to its inputs' nodes (`next_functions`). The
engine (lazyt/autograd/engine.py) walks these nodes backwards; every gradient
is computed by lazyt tensor ops, so backward graphs are IR like forward ones.

In-place ops take a snapshot before they write (`snapshot_inplace`) and are
recorded after (`record_inplace`). A write through a view rewrites the history
of the view's base with a `CopySlices` node, as PyTorch does.
"""

from __future__ import annotations

import re
import weakref
from typing import TYPE_CHECKING

from lazyt import creation, dtypes, reductions
from lazyt.autograd import grad_mode

if TYPE_CHECKING:
    from lazyt.autograd.rules import GradRule


_RULES_MODULE: list = []


def _rules():
    """lazyt/autograd/rules.py, loaded with the first op recorded for autograd
    rather than at import (a thousand lines most imports never need)."""
    if not _RULES_MODULE:
        from lazyt.autograd import rules  # (lazy: see the docstring)
        _RULES_MODULE.append(rules)
    return _RULES_MODULE[0]


def rule_for(op: str):
    """The GradRule of op (None: no rule)."""
    return _rules().RULES.get(op)


def strided_scatter_add(grad, inner_layout, outer_layout):
    return _rules().strided_scatter_add(grad, inner_layout, outer_layout)

# PyTorch's legacy tensor type names, for error messages.
_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
               "bfloat16": "BFloat16Tensor"}

FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward.")


def _is_tensor(x) -> bool:
    # On the type: reading a pending (deferred) tensor's attributes could realise it.
    return hasattr(type(x), "_requires_grad")


def _is_pending(t) -> bool:
    """A deferred-mode tensor not computed yet (it has no storage, hence no
    version). A tensor with a pending in-place write has its storage: the
    write bumped its version when it was deferred."""
    return t._node is not None and t._st is None


def version_now(t) -> int:
    """t's version, without realising it. A pending result counts the
    in-place writes that replaced its graph (realised, its storage starts at
    that count); a pending view becomes a view of its base's storage, so it
    has the base's version."""
    if t._node is None or t._st is not None:  # (not _is_pending(t), read per saved tensor)
        return t._st.version
    base = t._lazy_base
    if base is not None:
        return version_now(base)
    return t.__dict__.get("_pending_version", 0)


def _forward_name(node_name: str) -> str:
    """The op a backward node stands for, as PyTorch's messages name it
    (ExpBackward0 -> Exp)."""
    return re.sub(r"Backward\d*$", "", node_name)


# ------------------------------------------------------------- saved tensors
class SavedTensor:
    """A tensor kept for backward, with the version its storage had when saved.

    An op's own output is kept as a detached alias (no reference cycle through
    its grad_fn); unpacking it while building a graph (create_graph=True)
    re-attaches the node that produced it, so double backward sees it. A
    pending (deferred) tensor has no storage yet: its version counts the
    in-place writes that replaced its graph (a pending view: its base's
    version; see version_now), so a write between saving and unpacking is
    caught whether or not the tensor was realised in between. A tensor whose in-place write is still pending is
    saved with the version that write gave it (realising the write later does
    not change it: no false "modified by an inplace operation")."""

    __slots__ = ("tensor", "version", "is_output")

    def __init__(self, tensor, is_output: bool = False):
        # (_st, not _storage: saving must not carry out a pending write)
        self.version = version_now(tensor)
        self.is_output = is_output
        self.tensor = tensor.detach() if is_output else tensor

    def unpack(self, node: GradNode):
        t = self.tensor
        now = version_now(t)
        if now != self.version:
            shape = list(t.shape)
            type_name = _TYPE_NAMES.get(t.dtype.name, t.dtype.name)
            # PyTorch names the op by its forward name: the node that saved
            # its own output, else the op that last wrote the tensor.
            producer = node if self.is_output else t.grad_fn
            origin = "" if producer is None else \
                f"which is output 0 of {_forward_name(producer.name())}, "
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: [lazyt.{type_name} {shape}], {origin}is at version "
                f"{now}; expected version {self.version} instead. Hint: the "
                "tensor was written in place (add_, copy_, x[...] = ..., -=, ...) after the "
                "operation that needed it; write to a clone instead.")
        if self.is_output and grad_mode.is_grad_enabled():
            alias = t.detach()
            alias._requires_grad = True
            alias.grad_fn = node
            return alias
        return t


# --------------------------------------------------------------------- nodes
class _NamedNodeType(type):
    """The metaclass of backward nodes: a node is made an instance of a class
    named after its PyTorch name (type(y.grad_fn).__name__ == "MulBackward0",
    as PyTorch has one class per backward function), a subclass of the class
    that built it, made once per (class, name) and cached."""

    _named: dict = {}

    def __call__(cls, *args, **kwargs):
        node = super().__call__(*args, **kwargs)
        name = str(node.name())
        if type(node).__name__ != name:
            node.__class__ = type(node).named(name)
        return node

    def named(cls, name: str) -> type:
        """The subclass of cls named `name` (cls itself when that is its name)."""
        if cls.__name__ == name:
            return cls
        named = _NamedNodeType._named.get((cls, name))
        if named is None:
            named = _NamedNodeType(name, (cls,), {"__module__": cls.__module__,
                                                  "__qualname__": name})
            _NamedNodeType._named[(cls, name)] = named
        return named

    def make_named(cls, name: str, *args):
        """cls(*args) for a node whose name() will be `name`: made as the named
        class at once (what __call__ does after the fact, a class change that
        costs as much as the node: this is every recorded op's)."""
        return type.__call__(cls.named(name), *args)


class GradNode(metaclass=_NamedNodeType):
    """A backward function (a tensor's `grad_fn`): gradients of its outputs in,
    gradients of its inputs out, one per entry of `next_functions`. (PyTorch
    calls it `torch.autograd.graph.Node`; lazyt/ir/node.py's `Node` is an IR
    node, a different thing.)"""

    num_outputs = 1

    # Hooks are rare and every recorded op makes a node: until one is added
    # (hooks_list), a node reads these empty class-level tuples.
    pre_hooks: list | tuple = ()  # tensor hooks: grad -> grad or None
    retain_hooks: list | tuple = ()  # retain_grad() of the tensor this node produced
    node_pre_hooks: list | tuple = ()  # register_prehook: grad_outputs -> tuple or None
    post_hooks: list | tuple = ()  # register_hook: (grad_inputs, grad_outputs) -> tuple or None

    def __init__(self, next_functions=()):
        self.next_functions: tuple = tuple(next_functions)

    def hooks_list(self, kind: str) -> list:
        """This node's own list of `kind` ("pre_hooks", "retain_hooks",
        "node_pre_hooks" or "post_hooks"), made on first use: the list to add
        a hook to."""
        hooks = self.__dict__.get(kind)
        if hooks is None:
            hooks = self.__dict__[kind] = []
        return hooks

    @property
    def metadata(self) -> dict:
        """PyTorch's Node.metadata: a dict of the user's, made on first use."""
        return self.__dict__.setdefault("_metadata", {})

    def name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.name()} object at {hex(id(self))}>"

    def apply(self, grads: list) -> list:
        """Gradients w.r.t. the inputs (None where there is none)."""
        raise NotImplementedError

    def release(self) -> None:
        """Drop saved tensors after a backward without retain_graph."""

    def register_hook(self, fn):
        """fn(grad_inputs, grad_outputs) after the node runs, both tuples
        (PyTorch's Node hook); a tuple it returns replaces grad_inputs."""
        hooks = self.hooks_list("post_hooks")
        hooks.append(fn)
        return _RemovableHandle(hooks, fn)

    def register_prehook(self, fn):
        """fn(grad_outputs) before the node runs, a tuple (PyTorch's Node
        pre-hook); a tuple it returns replaces grad_outputs."""
        hooks = self.hooks_list("node_pre_hooks")
        hooks.append(fn)
        return _RemovableHandle(hooks, fn)

    def __call__(self, *grads):
        return self.apply(list(grads))



class _RemovableHandle:
    def __init__(self, hooks: list, fn):
        self.hooks, self.fn = hooks, fn

    def remove(self) -> None:
        if self.fn in self.hooks:
            self.hooks.remove(self.fn)


class OpNode(GradNode):
    """The node of one recorded op: applies its GradRule, then makes every
    input gradient match its input (sum over broadcast dims, cast back)."""

    def __init__(self, rule: GradRule, name: str, next_functions, needs_input_grad,
                 input_meta, kw: dict, scalars: dict, edge_order: tuple | None = None):
        # One gradient per operand inside; `edge_order` (PyTorch's layout of
        # next_functions: which operands are edges, in which order) picks
        # the ones the node hands on (x ** 2 has one edge, 2 + x is add(x, 2)).
        self.edge_order = edge_order
        if edge_order is not None:
            next_functions = tuple(next_functions[i] for i in edge_order)
        super().__init__(next_functions)
        self.rule = rule
        self._name = name
        self.needs_input_grad = needs_input_grad
        self.input_meta = input_meta  # (shape, dtype) per operand; None for non-tensors
        self.kw = kw
        self.scalars = scalars  # operand index -> the Python value of a non-tensor operand
        self.saved: dict[str, SavedTensor] = {}
        self.had_saved = False
        self.freed = False

    def name(self) -> str:
        return self._name

    # What rules read -------------------------------------------------------
    def input(self, i: int):
        """Operand i as it was when the op ran (a tensor, or the Python scalar)."""
        if i in self.scalars:
            return self.scalars[i]
        return self._unpack(f"x{i}")

    def output(self):
        return self._unpack("out")

    def __getattr__(self, name: str):
        """PyTorch's `grad_fn._saved_<name>`: what the node saved for its
        gradient (`_saved_self`, `_saved_other`: the operands; `_saved_result`:
        the output) and its arguments (`_saved_dim`, ...). Freed by backward
        without retain_graph, as in PyTorch."""
        if not name.startswith("_saved_") or "saved" not in self.__dict__:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")
        what = name[len("_saved_"):]
        index = {"self": 0, "input": 0, "other": 1}.get(what)
        if index is not None and index in self.scalars:  # (a wrapped number, as PyTorch's)
            value = self.scalars[index]
            return creation.tensor(value, dtype=dtypes.float64 if isinstance(value, float)
                                   else None)
        key = "out" if what == "result" else None if index is None else f"x{index}"
        if key in self.saved or (key is not None and self.freed and self.had_saved):
            return self._unpack(key)
        if what in self.kw:
            return self.kw[what]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def shape(self, i: int) -> tuple[int, ...]:
        return self.input_meta[i][0]

    def dtype(self, i: int):
        return self.input_meta[i][1]

    def _unpack(self, key: str):
        if self.freed:
            raise RuntimeError(FREED_MESSAGE)
        saved = self.saved.get(key)
        assert saved is not None, f"{self._name}: rule reads {key!r} but did not declare it"
        return saved.unpack(self)

    # Engine side -----------------------------------------------------------
    def save(self, key: str, tensor, is_output: bool = False) -> None:
        self.saved[key] = SavedTensor(tensor, is_output)
        self.had_saved = True

    def apply(self, grads: list) -> list:
        if self.freed and self.had_saved:
            raise RuntimeError(FREED_MESSAGE)
        if grad_mode.is_grad_enabled():
            return self._on_edges(_rule_gradients(self, self, grads[0]))
        if grad_mode.RULE_REGIONS_APPLY():
            return self._on_edges(self._apply_as_region(grads[0]))
        # No region can be recorded or replayed now (deferred mode, lt.compile
        # tracing): RULE_RUNNER would only run the rule op by op, its ops
        # joining the larger graph. Run it here as the region's function
        # would, without the region's bookkeeping (its key, consts, closure).
        keys, tensors = self._unpacked_saved()
        return self._on_edges(self._region_gradients(keys, tensors + (grads[0],)))

    def _on_edges(self, gradients: list) -> list:
        """The operands' gradients laid out as next_functions."""
        if self.edge_order is None:
            return gradients
        return [gradients[i] for i in self.edge_order]

    def _unpacked_saved(self) -> tuple[list, tuple]:
        """The saved keys in order, and their tensors (version-checked in that order)."""
        keys = sorted(self.saved)
        return keys, tuple(self.saved[key].unpack(self) for key in keys)

    def _region_gradients(self, keys: list, operands: tuple) -> list:
        """The function a rule's region computes (operands: the saved tensors
        of `keys`, then the gradient), with its outputs spread back: one per
        input, None where no gradient is needed."""
        ctx = _RuleContext(self, dict(zip(keys, operands[:-1])))
        result = _rule_gradients(self, ctx, operands[-1])
        # A region's outputs must be tensors: an unreached input gets zeros.
        return [(_zeros(meta) if g is None else g) if need else None
                for g, need, meta in zip(result, self.needs_input_grad, self.input_meta)]

    # Eager: the rule and the fitting of its gradients run through
    # grad_mode.RULE_RUNNER, which lazyt/regions.py sets to its run_region (one
    # region: fused into few kernels, replayed on later calls).
    def _apply_as_region(self, grad) -> list:
        keys, saved = self._unpacked_saved()

        def gradients(*operands):
            return tuple(g for g in self._region_gradients(keys, operands) if g is not None)

        # Besides tensors, the rule's graph depends on these (shapes are ints,
        # needs bools: hashable as they are).
        try:
            consts = (self._name, self.needs_input_grad, self.input_meta,
                      frozen(self.kw) if self.kw else (), frozen(self.scalars) if self.scalars else ())
        except TypeError:  # a tensor among the keywords: op by op
            return _rule_gradients(self, self, grad)
        found = iter(grad_mode.RULE_RUNNER(("rule", self.rule.op), gradients, saved + (grad,),
                                           consts, consts_frozen=True))
        return [next(found) if need else None for need in self.needs_input_grad]

    def release(self) -> None:
        self.saved = {}
        self.freed = True


def _rule_gradients(node: OpNode, ctx, grad) -> list:
    """The rule's gradients (ctx: the node, or a _RuleContext over a region's
    operands), summed and cast to each input's shape and dtype."""
    result = node.rule.backward(ctx, grad)
    if not isinstance(result, tuple):
        result = (result,)
    assert len(result) == len(node.needs_input_grad), \
        f"{node._name} returned {len(result)} gradients for {len(node.needs_input_grad)} inputs"
    return [None if g is None or not need else fit_gradient(g, meta, node._name)
            for g, need, meta in zip(result, node.needs_input_grad, node.input_meta)]


class _RuleContext:
    """What a gradient rule reads (as from its OpNode), with the saved tensors
    replaced by a region's operands."""

    def __init__(self, node: OpNode, saved: dict):
        self.node, self.saved = node, saved
        self.kw, self.needs_input_grad = node.kw, node.needs_input_grad

    def input(self, i: int):
        if i in self.node.scalars:
            return self.node.scalars[i]
        return self.saved[f"x{i}"]

    def output(self):
        return self.saved["out"]

    def shape(self, i: int) -> tuple[int, ...]:
        return self.node.input_meta[i][0]

    def dtype(self, i: int):
        return self.node.input_meta[i][1]


def frozen(value):
    """A hashable form of Python values that shape a graph (a rule's
    keywords, a region's consts): each value with its type (1, 1.0 and True
    are equal keys but different graphs); TypeError for a tensor (a region
    must see every tensor it reads as an operand)."""
    kind = type(value)
    if kind is float:  # by its bits: -0.0 and 0.0 are equal keys, not equal graphs
        return (float, value.hex())
    if kind in _PLAIN:
        return (kind, value)
    if kind is dict:
        return (dict,) + tuple(sorted((k, frozen(v)) for k, v in value.items()))
    if kind is tuple or kind is list:
        return (kind,) + tuple(frozen(v) for v in value)
    if _is_tensor(value):
        raise TypeError("a tensor")
    hash(value)
    return (kind, value)


_PLAIN = frozenset((int, float, bool, str, type(None)))


def _zeros(meta):
    shape, dtype = meta
    return creation.zeros(shape, dtype=dtype)


def fit_gradient(grad, meta, where: str):
    """Sum a broadcast gradient back to its input's shape and cast it to its dtype."""
    shape, dtype = meta
    if tuple(grad._shape) != shape:  # (_shape: never realises a pending tensor)
        grad = sum_to(grad, shape)
        assert tuple(grad.shape) == shape, f"{where}: gradient shape {grad.shape} != {shape}"
    if grad.dtype is not dtype:
        grad = grad.to(dtype)
    return grad


def sum_to(grad, shape: tuple[int, ...]):
    """Reduce grad (broadcast from `shape`) back to `shape` by summing."""
    grad_shape = tuple(grad._shape)
    lead = len(grad_shape) - len(shape)
    inner = tuple(lead + i for i, size in enumerate(shape)
                  if size == 1 and grad_shape[lead + i] != 1)
    axes = tuple(range(lead)) + inner
    if axes and grad.dtype.is_floating_point:
        # The reduce sum(axes, keepdim=True) builds, without sum's argument
        # handling (the axes are sorted and valid, the dtype kept). With only
        # leading axes to drop, outside create_graph, the sum without keepdim
        # (the same reduce, squeezed) is `shape` already: no reshape after.
        # (With create_graph, the gradient's own graph is PyTorch's: a
        # SumBackward1 with keepdim, then a ViewBackward0.)
        keepdim = bool(inner) or grad_mode.is_grad_enabled()
        grad = reductions.reduce(grad, "sum", axes, keepdim, grad.dtype,
                                 grad_name="SumBackward1")
    elif axes:
        grad = grad.sum(axes, keepdim=True)
    return grad.reshape(shape) if tuple(grad._shape) != shape else grad


class AccumulateGrad(GradNode):
    """The node of a leaf tensor: adds the incoming gradient into `.grad`."""

    def __init__(self, variable):
        super().__init__(())
        self.variable = variable

    def apply(self, grads: list) -> list:  # the engine accumulates; see engine.accumulate
        return []


class NotDifferentiable(OpNode):
    """Stands in for an op with no gradient rule; raises only if backward reaches it."""

    def apply(self, grads: list) -> list:
        raise RuntimeError(f"derivative for {self.rule.op} is not implemented")


def gradient_edge(t) -> tuple:
    """(node, output_nr) that gradients of tensor t flow into."""
    if t.grad_fn is not None:
        return (t.grad_fn, getattr(t, "_output_nr", 0))
    if not t._requires_grad:
        return (None, 0)
    return (grad_accumulator(t), 0)


def grad_accumulator(t) -> AccumulateGrad:
    """The leaf's AccumulateGrad node, one per tensor while any graph holds it."""
    ref = t.__dict__.get("_accumulator_ref")
    acc = ref() if ref is not None else None
    if acc is None:
        acc = AccumulateGrad.make_named("AccumulateGrad", t)  # (its class's name: no renaming)
        t.__dict__["_accumulator_ref"] = weakref.ref(acc)
    return acc


# ----------------------------------------------------------------- recording
def record_op(op: str, out, operands, ctx: dict) -> None:
    """Attach out.grad_fn for `op` (called via grad_mode.record when an input needs grad)."""
    if not out.dtype.is_floating_point:
        return
    rule = rule_for(op)
    node = _make_node(op, rule, operands, ctx, out)
    _save_for(node, rule, operands, out, snapshot=None)
    out.grad_fn = node
    out._requires_grad = True


def _make_node(op: str, rule: GradRule | None, operands, ctx: dict, out) -> OpNode:
    needs, edges, meta, scalars = [], [], [], {}
    for i, x in enumerate(operands):
        if _is_tensor(x):
            need = bool(x._requires_grad)
            needs.append(need)
            edges.append(gradient_edge(x) if need else (None, 0))
            meta.append((tuple(x._shape), x.dtype))  # (_shape: never realises)
        else:
            needs.append(False)
            edges.append((None, 0))
            meta.append(None)
            scalars[i] = x
    if rule is None:
        missing = _rules().GradRule(op, "NotImplemented", {}, None)
        return NotDifferentiable(missing, "NotImplemented", edges, tuple(needs), tuple(meta),
                                 ctx, scalars)
    if rule.capture is not None:
        ctx = {**ctx, **rule.capture(operands, out, ctx)}
    name = rule.node_name(operands, ctx, out)
    order = ctx.get("grad_edges") or (None if rule.edges_for is None
                                      else rule.edges_for(operands))
    return OpNode.make_named(name, rule, name, edges, tuple(needs), tuple(meta), ctx, scalars,
                             order)


# (op, needs_input_grad) -> (its rule, what _saved_keys answers): the same
# few per op every step. The rule is kept to check a hit against.
_SAVED_KEYS: dict = {}


def _saved_keys(rule: GradRule, needs: tuple) -> tuple:
    """The saved values the rule reads for the gradients in `needs`, in key
    order: (key, operand index; -1 for the output)."""
    entry = _SAVED_KEYS.get((rule.op, needs))
    if entry is None or entry[0] is not rule:
        keys = set()
        for i, need in enumerate(needs):
            if need:
                keys.update(rule.saves.get(i, ()))
        entry = (rule, tuple((key, -1 if key == "out" else int(key[1:])) for key in sorted(keys)))
        _SAVED_KEYS[(rule.op, needs)] = entry
    return entry[1]


def _save_for(node: OpNode, rule: GradRule | None, operands, out, snapshot) -> None:
    """Save what the rule needs for the gradients that will be asked of it."""
    if rule is None:
        return
    for key, i in _saved_keys(rule, node.needs_input_grad):
        if i < 0:
            node.save("out", out, is_output=True)
            continue
        if i in node.scalars:
            continue
        if snapshot is not None and key in snapshot.saved:
            node.saved[key] = snapshot.saved[key]
            node.had_saved = True
        else:
            node.save(key, operands[i])


# ---------------------------------------------------------------- in-place
class InplaceSnapshot:
    """What an in-place op must capture before it writes: the target's old
    gradient edge, and old values the gradient rule reads (clones)."""

    def __init__(self, target, op: str, others):
        self.op = op
        self.saved: dict[str, SavedTensor] = {}
        self.target_edge = gradient_edge(target) if target._requires_grad else (None, 0)
        self.target_needed = bool(target._requires_grad)
        self.target_meta = (tuple(target.shape), target.dtype)


# In-place ops whose `others` carry, after their operands (how many), arguments
# that are not operands: their names in the rule's kw (the op modules pass
# e.g. record_inplace("setitem", target, (value, index), snapshot)).
INPLACE_ARGUMENTS = {
    "setitem": (1, ("index",)),
    "index_put": (1, ("index", "accumulate")),
    "scatter": (1, ("dim", "index")),
    "scatter_add": (1, ("dim", "index")),
    "clamp": (0, ("min", "max", "grad_name")),
}


def _split_inplace_arguments(op: str, others) -> tuple[tuple, dict]:
    entry = INPLACE_ARGUMENTS.get(op)
    if entry is None:
        return tuple(others), {}
    count, names = entry
    others = tuple(others)
    return others[:count], dict(zip(names, others[count:]))


def snapshot_inplace(target, op: str, others):
    """Before an in-place op writes `target`: check it may, keep what backward needs."""
    base = getattr(target, "_base", None)
    if base is not None and base._requires_grad and base.grad_fn is None:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")
    others, _ = _split_inplace_arguments(op, others)
    snapshot = InplaceSnapshot(target, op, others)
    rule = rule_for(op)
    if rule is None or not target.dtype.is_floating_point:
        return snapshot
    operands = (target, *others)
    keys = set()
    for i, x in enumerate(operands):
        if _is_tensor(x) and x._requires_grad:
            keys.update(rule.saves.get(i, ()))
    if "x0" in keys:
        # The write destroys the old value: keep a copy (PyTorch's original_self).
        with grad_mode.no_grad():
            snapshot.saved["x0"] = SavedTensor(target.clone())
    for key in keys - {"x0", "out"}:
        x = operands[int(key[1:])]
        if _is_tensor(x):  # saved before the write, so aliasing the target is caught
            snapshot.saved[key] = SavedTensor(x)
    if op == "copy" and _is_tensor(others[0]) and others[0]._requires_grad:
        _preserve_values_read_by(others[0], target)
    return snapshot


# How far back from a copy_ source to look for saved reads of the target.
_COPY_SOURCE_SEARCH = 64


def _preserve_values_read_by(source, target) -> None:
    """`t.copy_(f(t))` (how clamp_, pow_, lerp_, square_ ... are written) would
    invalidate what f saved of t. Before the write, point those saved tensors
    at clones of t's current value (the clone keeps t's history, so double
    backward still sees it). Only the source's recent graph is searched."""
    storage, version = target._storage, target._storage.version
    stop = target.grad_fn
    stack, seen = [source.grad_fn], set()
    clones: dict = {}
    while stack and len(seen) < _COPY_SOURCE_SEARCH:
        node = stack.pop()
        if node is None or node is stop or node in seen or isinstance(node, AccumulateGrad):
            continue
        seen.add(node)
        kept = getattr(node, "saved", ())  # (a dict; a region's node: a list)
        for saved in kept.values() if isinstance(kept, dict) else kept:
            t = saved.tensor
            # (A pending reader of the target is realised before the write: realization.py.)
            if not _is_pending(t) and t._storage is storage and saved.version == version:
                key = id(t)
                if key not in clones:
                    with grad_mode.enable_grad():
                        clones[key] = t.clone() if not saved.is_output else t.detach().clone()
                saved.tensor = clones[key]
                saved.version = clones[key]._storage.version
        stack.extend(child for child, _ in node.next_functions)


def record_inplace(op: str, target, others, snapshot: InplaceSnapshot) -> None:
    """After an in-place op wrote `target`: give it (and its base) the new history."""
    if not target.dtype.is_floating_point:
        return
    others, kw = _split_inplace_arguments(op, others)
    rule = rule_for(op)
    operands = (target, *others)
    node = _make_node(op, rule, operands, kw, target)
    # Operand 0 is the target as it was before the write.
    node.next_functions = (snapshot.target_edge,) + node.next_functions[1:]
    node.needs_input_grad = (snapshot.target_needed,) + node.needs_input_grad[1:]
    node.input_meta = (snapshot.target_meta,) + node.input_meta[1:]
    _save_for(node, rule, operands, target, snapshot)
    if not any(node.needs_input_grad):
        return
    base = getattr(target, "_base", None)
    old_fn = target.grad_fn
    if base is None or base._storage is not target._storage:
        target.grad_fn = node
    else:
        copy_slices = CopySlices(base, target, node)
        _move_retain_hooks(base.grad_fn, copy_slices)
        base.grad_fn = copy_slices
        base._requires_grad = True
        target.grad_fn = AsStridedBackward(base, target, copy_slices)
    target._requires_grad = True
    target.__dict__.pop("_output_nr", None)
    _move_retain_hooks(old_fn, target.grad_fn)


def _move_retain_hooks(old, new) -> None:
    if old is not None and old is not new and old.retain_hooks:
        new.hooks_list("retain_hooks").extend(old.retain_hooks)
        old.retain_hooks.clear()


class CopySlices(GradNode):
    """The new grad_fn of a base after an in-place op wrote through one of its
    views: the gradient of the written region goes through the op's node, the
    rest of the base's gradient to the base's previous history."""

    def __init__(self, base, view, fn: OpNode):
        base_edge = gradient_edge(base) if base._requires_grad else (None, 0)
        super().__init__((base_edge,) + fn.next_functions[1:])
        self.fn = fn
        self.base_layout = base._view
        self.view_layout = view._view

    def name(self) -> str:
        return "CopySlices"

    def apply(self, grads: list) -> list:
        grad = grads[0]
        region = strided_scatter_add(grad, self.base_layout, self.view_layout)
        fn_grads = self.fn.apply([region])
        # The old base keeps its gradient outside the region; inside, the op's.
        grad_base = None
        if self.next_functions[0][0] is not None:
            inside = region if fn_grads[0] is None else region - fn_grads[0]
            grad_base = grad - strided_scatter_add(inside, self.view_layout, self.base_layout)
        return [grad_base] + fn_grads[1:]

    def release(self) -> None:
        self.fn.release()


class AsStridedBackward(GradNode):
    """grad_fn of a view after an in-place write through it: its gradient is
    placed at the view's elements of a zero base-shaped gradient."""

    def __init__(self, base, view, base_fn: GradNode):
        super().__init__(((base_fn, 0),))
        self.base_layout = base._view
        self.view_layout = view._view

    def name(self) -> str:
        return "AsStridedBackward0"

    def apply(self, grads: list) -> list:
        return [strided_scatter_add(grads[0], self.view_layout, self.base_layout)]


# ------------------------------------------------------- custom Functions
class FunctionCtx:
    """The `ctx` of a custom lt.autograd.Function."""

    def __init__(self):
        self.needs_input_grad: tuple = ()
        self._saved: list = []
        self._non_differentiable: set = set()
        self.materialize_grads = True
        self._node_ref = None  # weak: the node owns the ctx, not the other way round
        self._freed = False

    def save_for_backward(self, *tensors) -> None:
        self._saved = [None if t is None else SavedTensor(t) for t in tensors]

    @property
    def saved_tensors(self) -> tuple:
        if self._freed:
            raise RuntimeError(FREED_MESSAGE)
        node = self._node_ref() if self._node_ref is not None else None
        return tuple(None if s is None else s.unpack(node) for s in self._saved)

    def mark_non_differentiable(self, *tensors) -> None:
        self._non_differentiable.update(id(t) for t in tensors)

    def mark_dirty(self, *tensors) -> None:
        pass

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = bool(value)


class FunctionNode(GradNode):
    """The node of a custom Function: calls its backward(ctx, *grad_outputs)."""

    def __init__(self, cls, ctx: FunctionCtx, edges, input_meta, output_meta):
        super().__init__(edges)
        self.cls = cls
        self.ctx = ctx
        self.input_meta = input_meta
        self.output_meta = output_meta
        self.num_outputs = len(output_meta)

    def name(self) -> str:
        # A user's Function is "<class>Backward", as in PyTorch; lazyt's own
        # ops written as Functions (LinalgDet, ...) are named as PyTorch's
        # generated nodes: "<class>Backward0", or the class's grad_fn_name.
        named = getattr(self.cls, "grad_fn_name", None)
        if named is not None:
            return named
        if self.cls.__module__.startswith("lazyt."):
            return self.cls.__name__ + "Backward0"
        return self.cls.__name__ + "Backward"

    def apply(self, grads: list) -> list:
        if self.ctx._freed:
            raise RuntimeError(FREED_MESSAGE)
        if self.ctx.materialize_grads:
            grads = [creation.zeros(meta[0], dtype=meta[1]) if g is None and meta else g
                     for g, meta in zip(grads, self.output_meta)]
        result = self.cls.backward(self.ctx, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        if len(result) < len(self.next_functions):
            raise RuntimeError(f"function {self.name()} returned an incorrect number of "
                               f"gradients (expected {len(self.next_functions)}, got "
                               f"{len(result)})")
        out = []
        for g, meta, edge in zip(result, self.input_meta, self.next_functions):
            if g is None or meta is None or edge[0] is None:
                out.append(None)
            else:
                out.append(fit_gradient(g, meta, self.name()))
        return out

    def release(self) -> None:
        if self.ctx._saved:
            self.ctx._saved = []
            self.ctx._freed = True


class Function:
    """lt.autograd.Function: subclass with static forward(ctx, *args) and
    backward(ctx, *grad_outputs), call with `.apply(*args)` (as in PyTorch)."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode "
                                  "AD.")

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = FunctionCtx()
        tensors = [a for a in args if _is_tensor(a)]
        record = grad_mode.is_grad_enabled() and any(t._requires_grad for t in tensors)
        ctx.needs_input_grad = tuple(_is_tensor(a) and a._requires_grad and record for a in args)
        with grad_mode.no_grad():
            outputs = cls.forward(ctx, *args, **kwargs)
        if not record:
            return outputs
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        # An output that is an input (returned as is) must become a new tensor to carry history.
        outs = tuple(o.detach() if _is_tensor(o) and any(o is a for a in args) else o
                     for o in outs)
        edges = tuple(gradient_edge(a) if _is_tensor(a) and a._requires_grad else (None, 0)
                      for a in args)
        input_meta = tuple((tuple(a.shape), a.dtype) if _is_tensor(a) else None for a in args)
        output_meta = tuple((tuple(o.shape), o.dtype) if _is_tensor(o) else None for o in outs)
        node = FunctionNode(cls, ctx, edges, input_meta, output_meta)
        ctx._node_ref = weakref.ref(node)
        # A saved output would hold its own grad_fn (a cycle): keep it as an output alias.
        for i, saved in enumerate(ctx._saved):
            if saved is not None and any(saved.tensor is o for o in outs):
                ctx._saved[i] = SavedTensor(saved.tensor, is_output=True)
        for nr, o in enumerate(outs):
            if (_is_tensor(o) and o.dtype.is_floating_point and
                    id(o) not in ctx._non_differentiable):
                o.grad_fn = node
                o._requires_grad = True
                o.__dict__["_output_nr"] = nr
        return outs[0] if single else outs


grad_mode.RECORDERS["record"] = record_op
grad_mode.RECORDERS["snapshot"] = snapshot_inplace
grad_mode.RECORDERS["record_inplace"] = record_inplace
