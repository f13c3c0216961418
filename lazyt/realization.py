"""Pending tensors and deferred writes: what a realisation computes, and the
Tensor state it changes.

The frontend half of realising (the engine, lazyt/engine/, only sees
nodes and returns (Storage, View)): it gathers the pending tensors to
compute and every pending in-place write, hands their nodes to
engine.realize_graph, and makes the tensors realised views of the results.

Deferred in-place writes: in deferred mode an in-place op on a realised
tensor leaves an ASSIGN pending. The tensor keeps its storage and view (the
target) and reads as the graph of its new value (`_node`) until the write
is carried out. Every realisation carries out every pending write, so a
training loop that reads only its loss still updates its parameters once
per step (the graph of a step never grows into the next one).
"""

from __future__ import annotations

from lazyt import modes
from lazyt.engine import program as engine_program
from lazyt.engine import realize as engine_realize
from lazyt.engine.realize import realize_graph
from lazyt.engine.results import forget_in
from lazyt.ir.node import Node
from lazyt.ir.view import apply_movement

# Tensors with a pending write (in-place ops in deferred mode), in order.
WRITERS: list = []

# A pending tensor whose graph is deeper than this is realised before more is
# built on it (Tensor._load): a deferred loop that never reads a value (its
# parameters updated in place every step) would otherwise grow one graph over
# all its steps, and compile it as one ever larger program. Realised in
# chunks of about the same depth, the repeated chunks replay one recorded
# Program (the realisation cache).
MAX_PENDING_DEPTH = 128


def is_writer(t) -> bool:
    return t._node is not None and t._st is not None


def defer_write(target, node: Node) -> Node | None:
    """Leave `target = node` pending (deferred mode) and return None; or
    return the node to write now (node itself, or a load of its value when
    realising the target carried out writes it reads): the target is a
    pending tensor other views were taken from, or numpy sees its storage."""
    if target._node is not None and (
            target._write_epoch != modes.EPOCH[0] or
            target._requires_grad and target._st is not None and
            target.__dict__.get("_write_backwards") != modes.BACKWARDS[0]):
        # Pending since before the last realisation (a parameter or momentum
        # updated every step while only the loss is read), or a parameter's
        # pending write from before the last backward (updated by hand every
        # step): compute it now, so graphs do not grow from step to step.
        # (Other writes, such as gradients accumulated in place by the
        # backward, stay pending.)
        node = realize_keeping([target], node)
    if target._node is not None and target._st is None:  # a pending result
        if target._lazy_base is not None or target.__dict__.get("_has_lazy_views"):
            return node
        target._node = node
        # Its version, as eager mode counts it: the storage it gets starts there
        # (autograd compares it with the version a saved tensor had).
        target.__dict__["_pending_version"] = target.__dict__.get("_pending_version", 0) + 1
        return None
    storage = target._st
    if storage.shared_with_numpy:  # the user may read it through numpy: write now,
        # once the pending tensors (other writes) that read its old value have it
        reads = _reads_any({id(storage.buffer)})
        readers = [t for t in modes.pending_tensors() if reads(t._node)]
        return realize_keeping(readers, node) if readers else node
    target._write_epoch = modes.EPOCH[0]
    target.__dict__["_write_backwards"] = modes.BACKWARDS[0]
    if target._node is None:
        if storage.writer is not None:  # one pending write per storage: the older goes first
            realize_tensors([storage.writer])
        storage.writer = target
        WRITERS.append(target)
        modes.track_pending(target)
    target._node = node
    storage.version += 1
    return None


def realize_keeping(tensors: list, node: Node) -> Node:
    """Realise `tensors` (which carries out every pending write) and return a
    node of node's value as it is now. node was built on pending graphs that
    read buffers: when one of the writes changes such a buffer, node is
    computed in the same realisation, before the writes, and read from its
    result (fuzzer seeds 6676, 6723, 9292: `c = v.clone(); c.t().add_(1)`
    after a deferred `v.mul_(2)` recomputed the mul from the written base)."""
    targets = {id(w._st.buffer) for w in WRITERS if is_writer(w)}
    if not targets or not _reads_any(targets)(node):
        realize_tensors(tensors)
        return node
    holder = type(tensors[0])._make_pending(node)
    realize_tensors(tensors + [holder])
    return holder._load()


def _with_pending_writes(tensors: list) -> tuple[list, list]:
    """(tensors to compute, writes to carry out). Pending tensors that still
    read a value being overwritten are computed with it."""
    writers = [w for w in WRITERS if is_writer(w)]
    WRITERS.clear()
    if not writers:
        return tensors, []
    plain = [t for t in tensors if not is_writer(t)]
    targets = {id(w._st.buffer) for w in writers}
    reads_target = _reads_any(targets)
    plain += [t for t in modes.pending_tensors() if not is_writer(t) and reads_target(t._node)]
    return list({id(t): t for t in plain}.values()), writers


def pending_reads(buffers: set[int]) -> bool:
    """Does a pending tensor read one of these buffers (ids of Buffers)?"""
    reads = _reads_any(buffers)
    return any(reads(t._node) for t in modes.pending_tensors())


def _reads_any(buffers: set[int]):
    """A predicate: does a graph load one of these buffers? Answers are shared
    between graphs, so asking for every pending tensor is linear in the nodes.
    A walk stops at the first load of one: every node on the path down to it
    reads it too (a realisation asks this of every pending tensor, and in a
    training step most read the parameters being written)."""
    memo: dict[Node, bool] = {}  # (keyed by the nodes: identity, held while asked)

    def reads(root: Node) -> bool:
        known = memo.get(root)
        if known is None and root.op == "load":
            known = memo[root] = id(root.arg[0]) in buffers
        if known is not None:
            return known
        path = [(root, iter(root.srcs))]  # depth first (iterative): the nodes being walked
        while path:
            node, srcs = path[-1]
            for src in srcs:
                known = memo.get(src)
                if known is None:
                    if src.op != "load":
                        path.append((src, iter(src.srcs)))
                        break
                    known = memo[src] = id(src.arg[0]) in buffers
                if known:
                    for on_path, _ in path:
                        memo[on_path] = True
                    return True
            else:  # no source reads one
                memo[node] = False
                path.pop()
        return False

    return reads


def realize(*tensors) -> None:
    """lt.realize: compute the given pending tensors together (one schedule)."""
    flat = []
    for t in tensors:
        if isinstance(t, (list, tuple)):
            flat.extend(t)
        else:
            flat.append(t)
    realize_tensors([t for t in flat if getattr(t, "_node", None) is not None])


def realize_tensors(tensors: list) -> None:
    """Realise pending tensors together (one schedule, shared boundaries),
    carrying out every pending write."""
    modes.EPOCH[0] += 1
    tensors, writers = _with_pending_writes(list({id(t): t for t in tensors}.values()))
    # A pending view (a detach, a reshape of a pending result) is a view of its
    # realised base: the base is computed with the rest, in the same schedule.
    bases = [t._lazy_base for t in tensors if t._node is not None and t._lazy_base is not None
             and t._lazy_base._st is None and t._lazy_base._node is not None]
    tensors = list({id(t): t for t in tensors + bases}.values())
    roots = [t for t in tensors if t._node is not None and t._lazy_base is None]
    writes = [(w._node, w._st.buffer, w._vw) for w in writers]
    cacheable = not engine_program.is_recording() and not modes.TRACING
    layouts = [t._pending_strides for t in roots]
    outs = realize_graph([t._node for t in roots], writes, cacheable, layouts)
    for w in writers:
        w._node = None
        w._st.writer = None
    for t, (storage, view) in zip(roots, outs):
        t._st, t._vw, t._node, t._pending_strides = storage, view, None, None
        if "_pending_version" in t.__dict__:  # written in place while pending
            storage.version = t.__dict__.pop("_pending_version")
    for t in tensors:
        if t._node is not None and t._lazy_base is not None:
            realize_view(t)
    modes.pending_tensors()  # drops what this realised from the registry


def realize_view(t) -> None:
    """A pending view of a pending base becomes a real view of the realised base."""
    base = t._lazy_base
    base.realize()
    view = base._vw
    for kind, params in t._lazy_moves:
        view = apply_movement(view, kind, params)
        if view is None:  # cannot happen for moves recorded as views; compute instead
            break
    if view is None:
        t._lazy_base = None
        realize_tensors([t])
        return
    t._st, t._vw, t._node, t._lazy_base, t._lazy_moves = base._st, view, None, None, ()


def flush_readers(storage) -> None:
    """Before an in-place write: realise pending tensors that read storage, and
    forget realised nodes that alias it (their values are about to change)."""
    reads = _reads_any({id(storage.buffer)})
    readers = [t for t in modes.pending_tensors() if reads(t._node)]
    if storage.writer is not None:
        readers.append(storage.writer)
    if readers:
        realize_tensors(readers)
    forget_in({id(storage)})


def scatter_into(dst, dst_view, values: Node, index_nodes: list, mapping: tuple,
                 accumulate: str | None) -> None:
    """The engine's scatter into dst, after pending readers of dst are computed."""
    flush_readers(dst)
    engine_realize.scatter_into(dst, dst_view, values, index_nodes, mapping, accumulate)
