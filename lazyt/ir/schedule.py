"""The scheduler: a pending graph -> an ordered list of kernel steps.

Deferred mode hands it the nodes of the tensors to realise. It decides where
kernels begin and end, and what each kernel computes:

- Elementwise ops, casts, constants, random and index leaves fuse into their
  consumer: they are inlined into every kernel that reads them (recomputing
  an elementwise expression is cheaper than a round trip through memory; a
  shared subexpression is computed once per kernel thanks to hash-consing).
- Algebraic simplification (ir/passes.py) runs on every rebuilt node:
  identity ops disappear, x**2 and x**3 become multiplies.
- Movement ops (reshape, permute, expand, slice, select, squeeze, flip, pad)
  never copy: `push_movements` composes them into the views of the leaves
  below them, so they become index arithmetic. Only a reshape that strides
  cannot express (a reshape of a transposed intermediate) materialises its
  source first: "boundary: reshape not expressible as a view".
- A reduce/scan is the root of its own kernel with its elementwise producers
  fused into its input loop. When something else consumes its result, the
  result is realised first: "boundary: reduce feeding another kernel".
- Extern ops (BLAS matmul) and gathers take realised inputs and produce a
  realised output: they are kernel boundaries on both sides.

A Step names its output buffer; intermediate buffers are placeholders
(Buffer(None)) that the executor (lazyt/executor.py) allocates before the
step runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from lazyt import dtypes
from lazyt.dtypes import DType
from lazyt.ir.lower import leaf_view
from lazyt.ir.node import Buffer, Node, make_node, walk
from lazyt.ir.passes import simplify
from lazyt.ir.view import View, apply_movement, prod

BOUNDARY_OPS = frozenset(("reduce", "scan", "gather", "extern"))


@dataclass
class Step:
    """Compute `node` into `out` seen through `view` (a fresh buffer unless
    the step targets an existing one)."""

    node: Node
    out: Buffer
    view: View
    dtype: DType
    reason: str


class Scheduler:
    """Builds the steps for one realisation; boundaries shared by several
    roots are computed once."""

    def __init__(self, realized_lookup=None, log=None):
        self.steps: list[Step] = []
        self.done: dict[int, Node] = {}  # id(node) -> load of its realised result
        self.materialized: list[tuple[Node, Node]] = []  # (node, load of its result)
        self.memo: dict[tuple, Node] = {}
        self.keep: list[Node] = []  # keeps memo keys' nodes alive (ids stay unique)
        self.realized_lookup = realized_lookup or (lambda node: None)
        self.log = log or (lambda message: None)

    # --- entry points ------------------------------------------------------
    def materialize(self, node: Node, reason: str) -> Node:
        """A load of node's value, scheduling the kernels that compute it."""
        if node.op == "load":
            return node
        cached = self.done.get(id(node))
        if cached is not None:
            return cached
        realized = self.realized_lookup(node)
        if realized is not None:
            return realized
        load = self._new_buffer_step(self.kernel_root(node), node, reason)
        self.done[id(node)] = load
        self.materialized.append((node, load))
        return load

    def materialize_fresh(self, node: Node, reason: str) -> Node:
        """Like materialize, but always into a new buffer of its own: a tensor
        owns its storage even when another tensor (or an earlier realisation)
        computed the same hash-consed node; then this is a copy kernel."""
        existing = self.done.get(id(node)) or self.realized_lookup(node)
        if node.op == "load" or existing is not None:
            source = node if existing is None else existing
            root = self.kernel_root(make_node("cast", node.dtype, node.shape, (source,)))
        else:
            root = self.kernel_root(node)
        load = self._new_buffer_step(root, node, reason)
        self.done.setdefault(id(node), load)
        return load

    def _new_buffer_step(self, root: Node, node: Node, reason: str) -> Node:
        """Append a step computing root into a fresh contiguous buffer; its load."""
        buf = Buffer(None)
        view = View.contiguous(node.shape)
        self.steps.append(Step(root, buf, view, node.dtype, reason))
        self.log(f"kernel {len(self.steps)}: {root.op} {list(node.shape)} ({reason})")
        self.keep.append(node)
        return make_node("load", node.dtype, node.shape, (), (buf, view))

    def assign(self, node: Node, out: Buffer, view: View, reason: str = "assign") -> None:
        """Schedule node written into an existing buffer through view."""
        self.steps.append(Step(self.kernel_root(node), out, view, node.dtype, reason))

    # --- one kernel ---------------------------------------------------------
    def kernel_root(self, node: Node) -> Node:
        """The node a single kernel computes: its inputs are leaves only."""
        if node.op in ("reduce", "scan"):
            src = self.push_movements(node.srcs[0], ())
            return make_node(node.op, node.dtype, node.shape, (src,), node.arg)
        if node.op in ("gather", "extern"):
            srcs = tuple(self.as_load(s, f"boundary: input of {node.op}") for s in node.srcs)
            return make_node(node.op, node.dtype, node.shape, srcs, node.arg)
        return self.push_movements(node, ())

    def as_load(self, node: Node, reason: str) -> Node:
        rewritten = self.push_movements(node, ())
        if rewritten.op == "load":
            return rewritten
        return self.materialize(rewritten, reason)

    def push_movements(self, node: Node, moves: tuple) -> Node:
        """Rewrite node with `moves` applied on top into a movement-free graph:
        movements become the views of the leaves below them."""
        key = (id(node), moves)
        hit = self.memo.get(key)
        if hit is not None:
            return hit
        self.keep.append(node)
        result = self._push(node, moves)
        self.memo[key] = result
        return result

    def _push(self, node: Node, moves: tuple) -> Node:
        op = node.op
        if op == "movement":
            return self.push_movements(node.srcs[0], (node.arg,) + moves)
        if op == "const":
            return node
        if op == "load":
            return self.move_load(node, moves)
        if op in ("rand", "iota"):
            return self.move_index_leaf(node, moves)
        if op in BOUNDARY_OPS:
            reason = f"boundary: {op} feeding another kernel"
            load = self.materialize(node, reason)
            return self.move_load(load, moves) if moves else load
        shape = _moved_shape(node.shape, moves)
        srcs = tuple(s if s.op == "const" else self.push_movements(s, moves) for s in node.srcs)
        return simplify(make_node(op, node.dtype, shape, srcs, node.arg))

    def move_load(self, load: Node, moves: tuple) -> Node:
        buf, view = load.arg
        for i, (kind, params) in enumerate(moves):
            moved = apply_movement(view, kind, params)
            if moved is None:
                # Strides can't express this reshape: copy what we have so far.
                partial = make_node("load", load.dtype, view.shape, (), (buf, view))
                copy = self.materialize(make_node("cast", load.dtype, view.shape, (partial,)),
                                        "boundary: reshape not expressible as a view")
                return self.move_load(copy, moves[i:])
            view = moved
        return make_node("load", load.dtype, view.shape, (), (buf, view))

    def move_index_leaf(self, leaf: Node, moves: tuple) -> Node:
        """rand/iota values depend on the element's row-major position: moving
        them moves the position view they carry (arg[-1])."""
        if not moves:
            return leaf
        view = leaf_view(leaf)
        for kind, params in moves:
            moved = apply_movement(view, kind, params)
            if moved is None:
                copy = self.materialize(leaf, "boundary: reshape of a moved random stream")
                return self.move_load(copy, moves)
            view = moved
        arg = (leaf.arg[:3] + (view,)) if leaf.op == "rand" else view
        return make_node(leaf.op, leaf.dtype, view.shape, (), arg)


def _moved_shape(shape: tuple[int, ...], moves: tuple) -> tuple[int, ...]:
    """The shape after moves (only shapes matter: a reshape that strides could
    not express still has its target shape)."""
    view = View.contiguous(shape)
    for kind, params in moves:
        moved = apply_movement(view, kind, params)
        view = moved if moved is not None else View.contiguous(params[0])
    return view.shape


def count_nodes(node: Node) -> int:
    return len(walk(node))


_ = (dtypes, prod)
