"""graph_signature: the one key of a graph computation, used by every Program cache.

Two computations with the same signature run the same launches with the
same arguments; only the buffers differ. The signature lists the graph's
nodes sources-first (op, dtype, shape, arg key, source positions), with each
buffer replaced by its slot (order of first appearance: written targets
first, then loads) and each load by its view, so aliasing (x * x reads one
buffer) is part of the key. It returns the buffers in slot order: a cached
Program runs on exactly those.

The plan cache (one kernel node into one target, engine/plans.py) and the
realisation cache (a deferred graph's roots and pending writes,
engine/realize.py) both key by it.
"""

from __future__ import annotations

from lazyt.ir.node import Node, node_arg_key


def graph_signature(roots: list[Node], writes: list[tuple] = (), realized_lookup=None,
                    nodes: list | None = None) -> tuple[tuple, list]:
    """(key, buffers by slot) for computing `roots` (fresh results) and
    `writes` ((node, target buffer, target view): node written through the
    view). Nodes an earlier realisation computed (`realized_lookup(node)`
    gives a load of that result, or None) are marked with the buffer
    holding their value: the scheduler may read it or compute it again.
    `nodes`, when given, receives the graph's nodes in key order."""
    position: dict[int, int] = {}
    slots: dict[int, int] = {}
    buffers: list = []
    parts: list = []

    def slot(buf) -> int:
        found = slots.get(id(buf))
        if found is None:
            found = slots[id(buf)] = len(buffers)
            buffers.append(buf)
        return found

    targets = tuple((slot(buf), view) for _, buf, view in writes)
    for root in list(roots) + [node for node, _, _ in writes]:
        if id(root) in position:
            continue
        # Depth first, sources before the node (a node is marked when entered;
        # in a DAG no source of it can be in progress).
        position[id(root)] = -1
        stack = [(root, iter(root.srcs))]
        while stack:
            node, srcs = stack[-1]
            for src in srcs:
                if id(src) not in position:
                    position[id(src)] = -1
                    stack.append((src, iter(src.srcs)))
                    break
            else:
                stack.pop()
                position[id(node)] = len(parts)
                if node.op == "load":
                    buf, view = node.arg
                    parts.append(("load", node.dtype.name, slot(buf), view))
                    if nodes is not None:
                        nodes.append(node)
                    continue
                part = (node.op, node.dtype.name, node.shape, node_arg_key(node),
                        tuple(position[id(src)] for src in node.srcs))
                realized = None if realized_lookup is None else realized_lookup(node)
                if realized is not None:
                    buf, view = realized.arg
                    part += (("realized", slot(buf), view),)
                parts.append(part)
                if nodes is not None:
                    nodes.append(node)
    key = (tuple(parts), tuple(position[id(root)] for root in roots),
           tuple((position[id(node)], target) for (node, _, _), target in zip(writes, targets)))
    return key, buffers
