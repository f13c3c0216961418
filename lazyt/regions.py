"""Eager regions: a composite op runs as one fused, replayable realisation.

linear, conv, max-pool, cross_entropy, each gradient rule (autograd/function.py)
and the optimizers' updates are written with lazyt ops. Run one op at a time
in eager mode, cross_entropy alone is a dozen launches and a dozen autograd
records, each paying Python dispatch. `run_region` runs such a function
under the engine's trace policy (engine/trace.py, keyed by the signature:
dtypes, views and aliasing of its tensors; its variants are the Python
values that shape its graph): the first call runs op by op (a shape seen
once, as with variable lengths, is not worth a trace); the second runs it
the way deferred mode would (its graph scheduled and fused into a few
kernels) while recording the launches into a Program (engine/program.py);
later calls replay that Program on the new storages without building the
graph. The numbers come from the same generated kernels as in deferred mode.

Its gradient is one autograd node (`RegionNode`). Its backward is the backward
graph of the same function, made by autograd's own rules while tracing in
deferred mode (forward values are recomputed inside that graph, fused with
the gradient), recorded and replayed the same way. With create_graph=True it
differentiates the function op by op, so higher-order gradients stay exact.

In-place writes of the function into its tensors (an optimizer's update) are
recorded too; a replay bumps the version of each tensor written.

A region only replaces eager dispatch: in deferred mode and while lt.compile
traces, the function simply runs and its ops join the larger graph. A
function whose graph reads a buffer that is not one of its tensors, draws
random numbers, or returns an alias of an input is not recorded; it ran
correctly and runs op by op from then on.
"""

from __future__ import annotations

from lazyt import creation, modes, realization
from lazyt.autograd import engine as autograd_engine
from lazyt.autograd import grad_mode
from lazyt.autograd.function import FREED_MESSAGE, GradNode, SavedTensor, frozen, gradient_edge
from lazyt.eager_cache import key_for
from lazyt.engine.program import Program, is_recording, recording
from lazyt.engine.realize import recording_backend
from lazyt.engine.results import forget_results_in, isolated_results
from lazyt.engine.trace import RECORD, REPLAY, TraceCache
from lazyt.tensor import Tensor

# Signatures kept: above a large model's working set (each layer's forward
# and gradient rules at its shapes), as a cache smaller than that would
# retrace every step. An entry is small: compiled kernels are shared between
# shapes (sizes are run-time arguments). Past 8 distinct consts per
# signature (a value that changes every call, like a per-step learning
# rate, would retrace every call) the region runs op by op.
REGIONS = TraceCache(4096, variants_limit=8)


# The inputs PyTorch's backward node of a named region saves (positions in
# the region's tensors, absent optional ones included), per region name: an
# in-place write to one of them between the forward and the backward raises
# PyTorch's "modified by an inplace operation" error in every mode, whether
# or not lazyt's own gradient reads it (a mask saved by the op-by-op graph,
# or a replay that recomputes from the inputs, would not notice).
_SELF = (0,)
SAVED_INPUTS = {
    "gelu": _SELF, "silu": _SELF, "mish": _SELF, "elu": _SELF, "leaky_relu": _SELF,
    "hardtanh": _SELF, "softplus": _SELF, "logsigmoid": _SELF, "celu": _SELF, "selu": _SELF,
    "hardswish": _SELF, "hardsigmoid": _SELF, "softshrink": _SELF, "hardshrink": _SELF,
    "threshold": _SELF, "glu": _SELF, "reflect_pad": _SELF, "replicate_pad": _SELF,
    "avg_pool2d": _SELF, "avg_pool3d": _SELF, "adaptive_avg_pool2d": _SELF,
    "adaptive_avg_pool3d": _SELF,
    # (LerpBackward1 keeps the weight; LerpBackward0, a number weight, nothing)
    "lerp": lambda tensors: (2,) if len(tensors) == 3 else (),
    # (weighted, PyTorch's mse_loss is a composite whose product saves the weight)
    "mse_loss": lambda tensors: (0, 1) if tensors[2] is None else (2,),
    "smooth_l1_loss": (0, 1),
    "nll_loss": (0, 1, 2),
    # (the log_softmax under it keeps its result, not the input)
    "cross_entropy": (1, 2),
    "binary_cross_entropy": (0, 1, 2),
    "binary_cross_entropy_with_logits": (0, 1, 2, 3),
}


def saved_inputs(name, tensors: tuple) -> tuple:
    """The given tensors among the inputs PyTorch's node of region `name` saves."""
    saves = SAVED_INPUTS.get(name, ())
    if callable(saves):
        saves = saves(tensors)
    return tuple(tensors[i] for i in saves if i < len(tensors) and tensors[i] is not None)


def check_saved(saved: list, node) -> None:
    """PyTorch's version check of the inputs a named region's node saved."""
    for entry in saved:
        entry.unpack(node)


class _Recorded:
    """A region's recorded Program and what a replay must know besides."""

    __slots__ = ("program", "single")

    def __init__(self, program: Program, single: bool):
        self.program = program
        self.single = single  # fn returned one tensor (not a tuple)


def run_region(name, fn, tensors: tuple, consts: tuple = (), grad_name: str | None = None,
               consts_frozen: bool = False, writes: bool = False, edges: tuple | None = None,
               saves: tuple | None = None):
    """fn(*tensors), computed as one region in eager mode (see the module
    docstring). `consts` must hold every Python value fn's graph depends on
    besides the tensors (already in function.frozen's form if consts_frozen);
    `grad_name` names the result's grad_fn; `writes`: fn writes into some of
    its tensors; `edges`: the grad_fn's next_functions as PyTorch lays them
    out (see EdgeLayout; default: one per tensor, in order). An optional
    tensor may be None: fn gets None there, and which ones were given is
    part of the region's name (`edges` counts the given tensors only).
    `saves`: the tensors PyTorch's node saves (default: SAVED_INPUTS), whose
    versions the result's grad_fn checks at backward."""
    if saves is None:
        saves = saved_inputs(name, tensors)
    if any(t is None for t in tensors):
        given = tuple(t is not None for t in tensors)

        def with_nones(*present):
            it = iter(present)
            return fn(*(next(it) if g else None for g in given))

        return run_region((name, given), with_nones, tuple(t for t in tensors if t is not None),
                          consts, grad_name, consts_frozen, writes, edges, saves)
    key = None
    if can_record_or_replay():  # (else _key is None: skip freezing the consts)
        try:
            key = _key(name, consts if consts_frozen else frozen(consts), tensors, writes,
                       checked=True)
        except TypeError:  # a tensor among the consts
            pass
    if key is None:
        # Deferred mode, tracing, pending tensors: the ops join the larger
        # graph, and the outputs keep the region's PyTorch grad_fn name.
        return _named_op_by_op(fn, name if grad_name is None else grad_name, tensors, edges,
                               writes, saves)
    action, found = REGIONS.lookup(*key)
    if action not in (RECORD, REPLAY):
        # A first call (op by op, autograd as usual), or a function that
        # cannot be replayed: the outputs still get the region's grad_fn.
        return _named_op_by_op(fn, name if grad_name is None else grad_name, tensors, edges,
                               writes, saves)
    needs = (tuple(bool(t._requires_grad) for t in tensors)
             if grad_mode.is_grad_enabled() else (False,) * len(tensors))
    with grad_mode.no_grad():
        outs, single, _ = _replay_or_trace(key, action, found, fn, tensors)
    if any(needs):
        _attach_node(outs, name, grad_name, fn, tensors, consts, needs, edges, saves)
    return outs[0] if single else tuple(outs)


def differentiated_as(name, fn, tensors: tuple, consts: tuple, grad_name: str):
    """fn(*tensors), behind one grad_fn named `grad_name` (a region) when
    autograd records it; otherwise simply fn(*tensors). For composites that
    PyTorch computes as one op (lerp, avg_pool2d, pad): their gradient is
    that of the same ops, only the graph users see is PyTorch's."""
    if grad_mode.is_grad_enabled() and any(
            isinstance(t, Tensor) and t._requires_grad for t in tensors):
        return run_region(name, fn, tensors, consts, grad_name)
    return fn(*tensors)


def _key(name, consts: tuple, tensors: tuple, writes: bool = False, checked: bool = False):
    """(signature, consts) of this call in REGIONS, or None where the region
    must run op by op: while lt.compile records, with deferred writes
    pending (a realisation here would carry them out), and for a function
    that writes while pending tensors read its tensors (op by op, each write
    first computes its readers). `checked`: the caller just asked
    can_record_or_replay."""
    if not checked and not can_record_or_replay():
        return None
    signature = key_for(name, tensors)  # None in deferred mode, tracing, pending tensors
    if signature is None or writes and modes.has_pending() and realization.pending_reads(
            {id(t._st.buffer) for t in tensors if isinstance(t, Tensor)}):
        return None
    return signature, consts


def can_record_or_replay() -> bool:
    """Whether a region may be recorded or replayed now: not in deferred mode
    or while lt.compile traces (key_for's own refusals, checked first here:
    autograd asks this for every gradient rule it runs, through
    grad_mode.RULE_REGIONS_APPLY), nor while lt.compile records or deferred
    writes are pending."""
    return not (modes.TRACING or modes.is_deferred() or is_recording() or realization.WRITERS)


def _replay_or_trace(key, action, found, fn, tensors: tuple):
    """(outputs, fn returned a single tensor, indices of the tensors whose
    values were used: all of them when that is not known), for a call the
    trace policy said to RECORD or REPLAY (else: run op by op)."""
    if action == REPLAY:
        results = found.program.run([t._st for t in tensors])
        for i in found.program.inputs_written:
            tensors[i]._st.version += 1
            forget_results_in(tensors[i]._st)
        outs = [Tensor._make(storage, view) for storage, view in results]
        return outs, found.single, found.program.inputs_used
    if action == RECORD:
        outs, single, recorded = _trace(fn, tensors)
        REGIONS.store(*key, recorded)
        return outs, single, (range(len(tensors)) if recorded is None
                              else recorded.program.inputs_used)
    outs, single = _as_list(fn(*tensors))
    return outs, single, range(len(tensors))


def _as_list(result) -> tuple[list, bool]:
    single = isinstance(result, Tensor)
    return ([result] if single else [] if result is None else list(result)), single


def _trace(fn, tensors: tuple):
    """Run fn in deferred mode, realise its results and in-place writes as
    one schedule while recording; (outputs, single, _Recorded or None)."""
    reads = modes.VALUE_READS[0]
    with recording() as entries, isolated_results(), modes.deferred():
        outs, single = _as_list(fn(*tensors))
        realization.realize_tensors([o for o in outs
                                     if isinstance(o, Tensor) and o._node is not None])
    if not all(isinstance(o, Tensor) for o in outs):
        return outs, single, None  # not only tensors: op by op from now on
    if modes.VALUE_READS[0] != reads:
        # fn read tensor values into Python (x[t] with a 0-d index tensor, a
        # branch on data): its graph depends on them, so it is never replayed.
        return outs, single, None
    # from_recording refuses a recording that reads a storage it was not
    # given (a closed-over tensor would be frozen in) or results it did not
    # compute.
    backend = recording_backend(entries)
    program = None if backend is None else Program.from_recording(
        backend, entries, [t._st for t in tensors], [(o._st, o._vw) for o in outs])
    return outs, single, None if program is None else _Recorded(program, single)


# ------------------------------------------------------------------ autograd
class _TransposeNode(GradNode):
    """TBackward0 between a region's node and a 2-D tensor the region reads
    transposed (linear's weight.t()), as PyTorch's graph shows it."""

    def __init__(self, edge: tuple):
        super().__init__((edge,))

    def name(self) -> str:
        return "TBackward0"

    def apply(self, grads: list) -> list:
        return [None if grads[0] is None else grads[0].t()]


class _PassOnNode(GradNode):
    """A node PyTorch's graph has between a region's node and one of its
    tensors (cross_entropy's LogSoftmaxBackward0 under NllLossBackward0),
    where the region computes the whole gradient: it passes it on as it is."""

    def __init__(self, name: str, edge: tuple):
        super().__init__((edge,))
        self._name = name

    def name(self) -> str:
        return self._name

    def apply(self, grads: list) -> list:
        return [grads[0]]


class _LaidOutEdges:
    """A region node's next_functions in PyTorch's layout: `edges` is a tuple
    of (tensor index, between) or None (an edge to nothing) per edge (None:
    one per tensor, in order); `between` is False (the tensor's own edge),
    True (a TBackward0: the region reads the tensor transposed) or the name
    of a node PyTorch has there (_PassOnNode).
    The node computes one gradient per tensor; `present` maps them onto the
    edges (transposed for a _TransposeNode, which transposes them back)."""

    def _lay_out(self, tensors: tuple, needs: tuple, edges: tuple | None) -> tuple:
        self.edges = edges
        natural = [gradient_edge(t) if need else (None, 0) for t, need in zip(tensors, needs)]
        if edges is None:
            return tuple(natural)
        return tuple((None, 0) if edge is None else
                     natural[edge[0]] if not edge[1] or not needs[edge[0]] else
                     (_TransposeNode(natural[edge[0]]), 0) if edge[1] is True else
                     (_PassOnNode(edge[1], natural[edge[0]]), 0) for edge in edges)

    def present(self, grads: list) -> list:
        if self.edges is None:
            return grads
        return [None if edge is None else grads[edge[0]] if edge[1] is not True
                or grads[edge[0]] is None else grads[edge[0]].t() for edge in self.edges]


def edges_of(tensors: tuple, kept: tuple[int, ...], between: dict | None = None) -> tuple:
    """A region's `edges` where PyTorch's node has an edge for each of the
    tensors at positions `kept` (in that order) and none for the others (a
    target, running statistics); an absent (None) optional tensor there is a
    None edge, as PyTorch shows layer_norm's missing weight and bias.
    `between`: position -> the name of a node PyTorch has on that edge."""
    given, index = {}, 0
    for position, t in enumerate(tensors):
        if t is not None:
            given[position] = index
            index += 1
    between = between or {}
    return tuple((given[k], between.get(k, False)) if k in given else None for k in kept)


class RegionNode(_LaidOutEdges, GradNode):
    """The grad_fn of a region's outputs: the gradients of its tensors, by
    replaying the recorded backward of the region's function."""

    def __init__(self, region, grad_name: str | None, fn, tensors: tuple, consts: tuple,
                 needs: tuple, output_meta: list, edges: tuple | None = None,
                 saves: tuple = ()):
        super().__init__(self._lay_out(tensors, needs, edges))
        self.region = region  # the region's name: its recorded backwards are keyed by it
        self._name = str(region) if grad_name is None else grad_name
        self.fn = fn
        self.consts = consts
        self.needs = needs
        self.output_meta = output_meta
        self.num_outputs = len(output_meta)
        self.saved = [SavedTensor(t) for t in tensors]
        self.saved_as_pytorch = [saved for t, saved in zip(tensors, self.saved)
                                 if any(t is k for k in saves)]
        self.freed = False

    def name(self) -> str:
        return self._name

    def apply(self, grads: list) -> list:
        if self.freed:
            raise RuntimeError(FREED_MESSAGE)
        check_saved(self.saved_as_pytorch, self)
        grads = tuple(creation.zeros(shape, dtype=dtype) if g is None else g
                      for g, (shape, dtype) in zip(grads, self.output_meta))
        key = None
        if not grad_mode.is_grad_enabled():  # (create_graph: op by op, differentiable)
            tensors = tuple(saved.tensor for saved in self.saved)
            key = _key(("backward", self.region, self.needs), frozen(self.consts),
                       tensors + grads)
        if key is None:
            tensors = tuple(saved.unpack(self) for saved in self.saved)
            return self.present(_differentiate(self.fn, tensors, grads, self.needs,
                                               create_graph=grad_mode.is_grad_enabled()))
        # (the forward's signature repeated already: record at once)
        action, found = REGIONS.lookup(*key, record_first=True)
        wanted, _, reads = _replay_or_trace(
            key, action, found, _BackwardOf(self.fn, len(tensors), self.needs),
            tensors + grads)
        # Only tensors whose values the gradient reads must be unchanged (as
        # PyTorch saves only those): the version check, after the fact.
        for i in reads:
            if i < len(self.saved):
                self.saved[i].unpack(self)
        result = iter(wanted)
        return self.present([next(result) if need else None for need in self.needs])

    def release(self) -> None:
        self.saved = []
        self.saved_as_pytorch = []
        self.freed = True


class _GraphNode(_LaidOutEdges, GradNode):
    """The grad_fn of a region's outputs on a first call, which ran op by op
    with autograd: its backward runs that recorded graph (so a region's
    outputs have the same grad_fn, with its name, on every call)."""

    def __init__(self, name: str, tensors: tuple, inner: list, edges: tuple | None = None,
                 ran_on_aliases: tuple | None = None, saves: tuple = ()):
        needs = tuple(t._requires_grad for t in tensors)
        super().__init__(self._lay_out(tensors, needs, edges))
        self._name = name
        self.needs = needs
        # (fn, aliases): the inner graph ran on aliases of the tensors (its leaves).
        self.fn, ran_on = (None, tensors) if ran_on_aliases is None else ran_on_aliases
        self.tensors = tensors if self.fn is not None else None
        self.targets = [t for t, need in zip(ran_on, needs) if need]
        self.inner = inner  # the outputs as computed, with their graph
        self.num_outputs = len(inner)
        self.saved_as_pytorch = [SavedTensor(t) for t in saves]
        self.inner_released = False  # (by apply: see there)

    def name(self) -> str:
        return self._name

    def apply(self, grads: list) -> list:
        if self.inner is None:
            raise RuntimeError(FREED_MESSAGE)
        check_saved(self.saved_as_pytorch, self)
        if self.fn is not None and grad_mode.is_grad_enabled():
            # create_graph: differentiate again from the tensors themselves,
            # so the gradients' own graph leads back to them.
            grads = [creation.zeros_like(o) if g is None else g
                     for o, g in zip(self.inner, grads)]
            return self.present(_differentiate(self.fn, self.tensors, tuple(grads), self.needs,
                                               create_graph=True))
        pairs = [(o, g) for o, g in zip(self.inner, grads)
                 if g is not None and isinstance(o, Tensor) and o._requires_grad]
        if not pairs:
            return [None] * len(self.next_functions)
        # Without retain_graph the engine releases this node right after; an
        # inner graph of its own (run on aliases) is then released as it runs,
        # rather than walked again by release(), when every output with a
        # graph takes part (the same nodes _release_inner_graph would free).
        self.inner_released = (
            self.fn is not None and not autograd_engine.keeps_graph() and
            all(any(o is given for given, _ in pairs) for o in self.inner
                if isinstance(o, Tensor) and o.grad_fn is not None))
        found = iter(autograd_engine.grad([o for o, _ in pairs], self.targets, [g for _, g in pairs],
                                   retain_graph=not self.inner_released,
                                   create_graph=grad_mode.is_grad_enabled(), allow_unused=True))
        return self.present([next(found) if need else None for need in self.needs])

    def release(self) -> None:
        inner, self.inner = self.inner, None
        self.saved_as_pytorch = []
        if inner is not None and self.fn is not None:
            _release_inner_graph(inner, self.targets, run=self.inner_released)
        # (as PyTorch frees saved tensors: the loss kept after backward must
        # not keep the activations alive, nor, in deferred mode, pending)
        self.tensors, self.targets = None, []


def _release_inner_graph(inner: list, targets: list, run: bool = False) -> None:
    """Free the saved tensors of a released _GraphNode's inner graph, as a
    backward without retain_graph frees every node it ran (`run`: the
    backward that ran it did already), and cut its edges. The inner graph
    ran on aliases made for that node, so the nodes on a path from its
    outputs to them are its own, and no user sees them. Without this, a
    saved output (a pending detached alias, in deferred mode, holding the
    tensor whose grad_fn saved it) would keep a cycle alive until the cycle
    collector happens to run, and a deferred realisation would compute such
    dead pending tensors on some steps and not on others (a different graph,
    scheduled again); and the region's outputs (whose base is an inner
    output) would keep its inputs alive through the edges to their aliases'
    AccumulateGrad: a compiled step stored the logits and activations it
    no longer needed."""
    roots = [o.grad_fn for o in inner if isinstance(o, Tensor) and o.grad_fn is not None]
    if not roots:
        return
    order = autograd_engine.topological_order(roots)
    leaves = {gradient_edge(t)[0] for t in targets}
    for node in autograd_engine._needed_nodes(order, leaves):
        if node in leaves:
            continue
        if not run:
            node.release()
        node.next_functions = ()


def _named_op_by_op(fn, name: str, tensors: tuple, edges: tuple | None, writes: bool,
                    saves: tuple = ()):
    """fn(*tensors) run op by op, its differentiable outputs behind one
    _GraphNode named `name`. With autograd recording, fn runs on detached
    aliases of the tensors that require grad, so the graph it records stops
    at them: the node passes on the partial derivative for each tensor, as a
    recorded region's node does. (On the tensors themselves, the gradient of
    a tensor computed from another one, h from the weight in a recurrence,
    would include the path through that tensor's history, which the engine
    then adds again.) A writing region runs on its tensors as they are."""
    if writes or not grad_mode.is_grad_enabled() or not any(
            isinstance(t, Tensor) and t._requires_grad for t in tensors):
        return _named(fn(*tensors), name, tensors, edges, saves=saves)
    aliases = []
    for t in tensors:
        if isinstance(t, Tensor) and t._requires_grad:
            alias = t.detach()
            alias._requires_grad = True
            t = alias
        aliases.append(t)
    outs, single = _as_list(fn(*aliases))
    # An output that is one of the aliases (fn returned its input) is that tensor.
    originals = {id(alias): t for alias, t in zip(aliases, tensors)}
    outs = [originals.get(id(o), o) for o in outs]
    return _named(outs[0] if single else tuple(outs), name, tensors, edges,
                  (fn, tuple(aliases)), saves)


def _named(result, name: str, tensors: tuple, edges: tuple | None = None,
           ran_on_aliases: tuple | None = None, saves: tuple = ()):
    """result (computed op by op) with its differentiable outputs behind one
    _GraphNode named `name`, as a recorded region's would be;
    `ran_on_aliases`: (fn, aliases) when fn computed result from aliases of
    the tensors (_named_op_by_op); `saves`: the tensors whose versions the
    node checks at backward (run_region's)."""
    outs, single = _as_list(result)
    if not any(isinstance(o, Tensor) and o.grad_fn is not None for o in outs):
        return result
    node = _GraphNode.make_named(str(name), name, tensors, outs, edges, ran_on_aliases, saves)
    named = []
    for nr, o in enumerate(outs):
        if isinstance(o, Tensor) and o.grad_fn is not None:
            alias = o.detach()
            alias._requires_grad = True
            alias.grad_fn = node
            alias.__dict__["_output_nr"] = nr
            o = alias
        named.append(o)
    return named[0] if single else tuple(named)


class _BackwardOf:
    """The gradients of fn's tensors that `needs` asks for, as a function of
    (tensors..., output gradients...): what a region's backward records."""

    def __init__(self, fn, count: int, needs: tuple):
        self.fn, self.count, self.needs = fn, count, needs

    def __call__(self, *operands):
        tensors, grads = operands[:self.count], operands[self.count:]
        grads_in = _differentiate(self.fn, tensors, grads, self.needs, create_graph=False)
        return tuple(g for g, need in zip(grads_in, self.needs) if need)


def _differentiate(fn, tensors: tuple, grads: tuple, needs: tuple, create_graph: bool) -> list:
    """d fn(*tensors) / d tensors[i] for each needed i, op by op (the region's
    function run again with autograd recording; zeros where unused). With
    create_graph the gradients carry history back through the tensors' (fn
    runs on a fresh view of each: the derivative for a tensor is the partial
    one, not the total one through another tensor computed from it)."""
    leaves = []
    for t, need in zip(tensors, needs):
        if create_graph and need:
            leaves.append(t.view_as(t))
            continue
        leaf = t.detach()
        leaf._requires_grad = need
        leaves.append(leaf)
    with grad_mode.enable_grad():
        outs = fn(*leaves)
    outs = (outs,) if isinstance(outs, Tensor) else tuple(outs)
    # Outputs without a gradient (integer indices) take no part.
    pairs = [(o, g) for o, g in zip(outs, grads) if o._requires_grad]
    targets = [leaf for leaf, need in zip(leaves, needs) if need]
    found = iter(autograd_engine.grad([o for o, _ in pairs], targets, [g for _, g in pairs],
                               create_graph=create_graph, allow_unused=True))
    result = []
    for t, need in zip(tensors, needs):
        if not need:
            result.append(None)
            continue
        g = next(found)
        result.append(creation.zeros_like(t) if g is None else g)
    return result


def _attach_node(outs: list, name, grad_name: str | None, fn, tensors: tuple, consts: tuple,
                 needs: tuple, edges: tuple | None = None, saves: tuple = ()) -> None:
    floating = [o for o in outs if o.dtype.is_floating_point]
    if not floating:
        return
    node = RegionNode(name, grad_name, fn, tensors, consts, needs,
                      [(tuple(o.shape), o.dtype) for o in outs], edges, saves)
    for nr, o in enumerate(outs):
        if o.dtype.is_floating_point:
            o.grad_fn = node
            o._requires_grad = True
            o.__dict__["_output_nr"] = nr


grad_mode.RULE_RUNNER = run_region  # autograd runs its gradient rules as regions
grad_mode.RULE_REGIONS_APPLY = can_record_or_replay
