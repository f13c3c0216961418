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
    gives the (Buffer, View) of that result, or None) are marked with the buffer
    holding their value: the scheduler may read it or compute it again.
    `nodes`, when given, is filled with the graph's nodes in the key's
    order: a node's index there names it in every graph of this key."""
    # Every deferred realisation and every eager plan lookup walks its graph
    # here, so the walk is kept lean: nodes and buffers key the dicts
    # themselves (neither defines __eq__: identity, with no id() per lookup,
    # and the dicts hold them while the walk runs).
    position: dict[Node, int] = {}  # node -> its index in parts, once its part is made
    slots: dict = {}  # Buffer -> slot
    buffers: list = []
    parts: list = []

    def slot(buf) -> int:
        found = slots.get(buf)
        if found is None:
            found = slots[buf] = len(buffers)
            buffers.append(buf)
        return found

    targets = tuple((slot(buf), view) for _, buf, view in writes)
    position_of, add_part = position.__getitem__, parts.append
    for root in [*roots, *(node for node, _, _ in writes)]:
        if root in position:
            continue
        # Depth first, sources before the node: the stack is the path from
        # the root; a node back on top looks for its next unfinished source
        # again (nodes have a few). Only finished nodes are in `position`:
        # one in progress needs no mark, as in a DAG none of its sources
        # reaches it again.
        stack = [root]
        push, pop = stack.append, stack.pop
        while stack:
            node = stack[-1]
            for src in node.srcs:
                if src not in position:
                    push(src)
                    break
            else:
                pop()
                if node.op == "load":
                    buf, view = node.arg
                    part = ("load", node.dtype.name, slot(buf), view)
                else:
                    part = (node.op, node.dtype.name, node.shape, node_arg_key(node),
                            tuple(map(position_of, node.srcs)))
                    realized = None if realized_lookup is None else realized_lookup(node)
                    if realized is not None:
                        buf, view = realized
                        part += (("realized", slot(buf), view),)
                position[node] = len(parts)
                add_part(part)
    if nodes is not None:
        nodes.extend(position)  # (finish order: the key's order)
    key = (tuple(parts), tuple(position[root] for root in roots),
           tuple((position[node], target) for (node, _, _), target in zip(writes, targets)))
    return key, buffers
