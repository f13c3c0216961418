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
- A reduce is the root of its own kernel with its elementwise producers
  fused into its input loop. Reductions over the same axes of the same shape
  fuse with each other and with their consumers into one row kernel
  (ir/lower_rows.lower_row): the max and the sum of a softmax and its normalised
  output, the mean and variance of a layer_norm and its output. A consumer
  fuses a reduction when it reads the result broadcast back over the reduced
  axes (element-level) or once per row (row-level).
- Recompute or store: a fusible reduction is recomputed in every row kernel
  that reads it (one more pass over a row that is already in cache), unless
  this realisation has stored it already. A reduction that its consumer cannot
  fuse (other axes, another shape, a movement other than broadcasting back)
  is stored: "boundary: reduce feeding another kernel". When the consumer is
  an elementwise expression whose own reductions form rows of their own (the
  per-row loss inside a batch mean), that whole expression is stored by its
  own row kernel: "boundary: reduce over other axes".
- A scan (cumsum) is the root of its own kernel.
- Extern ops (BLAS matmul) and gathers take realised inputs and produce a
  realised output: they are kernel boundaries on both sides.

A Step names its output buffer; intermediate buffers are placeholders
(Buffer(None)) that the engine (lazyt/engine/realize.py) allocates before the
step runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from lazyt.dtypes import DType
from lazyt.ir.lower import leaf_view, row_space_strides
from lazyt.ir.node import Buffer, Node, make_node, reachable, walk
from lazyt.ir.passes import simplify
from lazyt.ir.view import View, apply_movement, is_blas_matrix

BOUNDARY_OPS = frozenset(("reduce", "scan", "gather", "extern"))
# Elementwise ops fused into one expression at most: past this a chain is
# cut into kernels (see push_movements).
MAX_FUSED_DEPTH = 64
# Kernels merged into one launch at most (horizontal fusion): the compile time
# of one merged function grows faster than its size.
MAX_KERNELS_PER_LAUNCH = 32


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
        self.by_root: dict[int, Node] = {}  # id(kernel root) -> load of its dense result
        self.materialized: list[tuple[Node, Node]] = []  # (node, load of its result)
        self.memo: dict[tuple, Node] = {}
        self.keep: list[Node] = []  # keeps memo keys' nodes alive (ids stay unique)
        self.realized_lookup = realized_lookup or (lambda node: None)
        self.log = log or (lambda message: None)
        # The rows of the kernel being built: (full shape, reduced axes, shape
        # of the values being pushed: full, or row-level), or None.
        self.rows: tuple | None = None
        self.root: Node | None = None
        self.sigs: dict[int, frozenset] = {}
        self.depths: dict[int, int] = {}  # id(pushed node) -> elementwise ops in its expression
        self.readers: dict[int, list] = {}  # id(node) -> the nodes reading it (know_readers)
        self.reach: dict[int, set] = {}  # id(kernel root) -> ids of the nodes it computes

    def know_readers(self, roots: list[Node]) -> None:
        """Before scheduling the graph of `roots`: which nodes read each node,
        so a row value that two kernels read is stored once (see
        _row_value_to_store). Iterative."""
        readers = self.readers
        for n in reachable(roots):
            for src in n.srcs:
                readers.setdefault(id(src), []).append(n)

    # --- entry points ------------------------------------------------------
    def materialize(self, node: Node, reason: str) -> Node:
        """A load of node's value, scheduling the kernels that compute it."""
        if node.op == "load":
            if node.arg[1].mask is None:
                return node
            node = make_node("cast", node.dtype, node.shape, (node,))  # (a padded copy)
        cached = self.done.get(id(node))
        if cached is not None:
            return cached
        realized = self.realized_lookup(node)
        if realized is not None:
            return realized
        root = self.kernel_root(node)
        load = self.by_root.get(id(root))  # (another node with the same kernel: its value)
        if load is None:
            load = self._new_buffer_step(root, node, reason)
        self.done[id(node)] = load
        self.materialized.append((node, load))
        return load

    def materialize_fresh(self, node: Node, reason: str,
                          strides: tuple[int, ...] | None = None) -> Node:
        """Like materialize, but always into a new buffer of its own: a tensor
        owns its storage even when another tensor (or an earlier realisation)
        computed the same hash-consed node; then this is a copy kernel. With
        `strides` (dense) the buffer is written in that order, not row-major."""
        existing = self.done.get(id(node)) or self.realized_lookup(node)
        if node.op == "load" or existing is not None:
            source = node if existing is None else existing
            root = self.kernel_root(make_node("cast", node.dtype, node.shape, (source,)))
        else:
            root = self.kernel_root(node)
        load = self._new_buffer_step(root, node, reason, strides)
        self.done.setdefault(id(node), load)
        return load

    def _new_buffer_step(self, root: Node, node: Node, reason: str,
                         strides: tuple[int, ...] | None = None) -> Node:
        """Append a step computing root into a fresh dense buffer (contiguous
        unless `strides` are given); its load."""
        buf = Buffer(None)
        view = View.contiguous(node.shape) if strides is None else View(node.shape, strides, 0)
        self.steps.append(Step(root, buf, view, node.dtype, reason))
        self.log(f"kernel {len(self.steps)}: {root.op} {list(node.shape)} ({reason})")
        self.keep.append(node)
        load = make_node("load", node.dtype, node.shape, (), (buf, view))
        if strides is None:
            self.by_root.setdefault(id(root), load)
        return load

    def assign(self, node: Node, out: Buffer, view: View, reason: str = "assign") -> None:
        """Schedule node written into an existing buffer through view."""
        self.add_step(self.kernel_root(node), out, view, node.dtype, reason)

    def add_step(self, root: Node, out: Buffer, view: View, dtype: DType, reason: str) -> None:
        """Append a kernel (a root from kernel_root) writing out through view."""
        self.steps.append(Step(root, out, view, dtype, reason))
        self.log(f"kernel {len(self.steps)}: {root.op} {list(view.shape)} ({reason})")

    # --- one kernel ---------------------------------------------------------
    def kernel_root(self, node: Node) -> Node:
        """The node a single kernel computes: its inputs are leaves (and, in a
        row kernel, the reductions it fuses)."""
        saved = self.rows, self.root
        try:
            self.root = node
            if node.op in ("reduce", "scan"):
                full = node.srcs[0].shape
                self.rows = (full, node.arg[1], full) if node.op == "reduce" else None
                src = self.push_movements(node.srcs[0], ())
                return make_node(node.op, node.dtype, node.shape, (src,), node.arg)
            self.rows = None
            if node.op == "extern":
                srcs = tuple(self.extern_input(s) for s in node.srcs)
                return make_node(node.op, node.dtype, node.shape, srcs, node.arg)
            if node.op == "gather":
                srcs = tuple(self.as_load(s, "boundary: input of gather") for s in node.srcs)
                return make_node(node.op, node.dtype, node.shape, srcs, node.arg)
            self.rows = self.rows_for(node)
            return self.push_movements(node, ())
        finally:
            self.rows, self.root = saved

    # --- row kernels (fused reductions) ----------------------------------------
    def reduce_signatures(self, node: Node, sigs: dict | None = None) -> frozenset:
        """(full shape, axes) of the pending reductions an elementwise graph
        reads without crossing another boundary. Cached in `self.sigs` (or in
        the given dict): a reduction stored after a node's entry was made
        still counts there (see _reads_other_rows)."""
        sigs = self.sigs if sigs is None else sigs
        hit = sigs.get(id(node))
        if hit is not None:
            return hit
        stored = self._is_stored
        # (a pending reduce is walked into: the reductions its input reads count too)
        for n in walk(node, stop=lambda n: id(n) in sigs or stored(n) or
                      (n.op in BOUNDARY_OPS and n.op != "reduce")):
            if id(n) in sigs:
                continue
            found = frozenset()
            if n.op == "load" or stored(n) or (n.op in BOUNDARY_OPS and n.op != "reduce"):
                pass  # (a value stored already, or by another kernel, reads no pending one)
            else:
                found = found.union(*(sigs.get(id(src), frozenset()) for src in n.srcs))
                if n.op == "reduce":
                    found = found | {(n.srcs[0].shape, n.arg[1])}
            sigs[id(n)] = found
            self.keep.append(n)
        return sigs[id(node)]

    def _row_value_to_store(self, node: Node) -> bool:
        """An elementwise value computed from reductions that is read from
        memory rather than computed again, reductions and all, by the kernel
        being built: one stored already (a requested log_softmax read by the
        loss; materialize gives its load), or one a node outside this kernel
        reads too (a log_softmax read by the loss and by its gradient): stored
        once for both. Values read within one kernel only (softmax's exp,
        layer_norm's x - mean) stay fused."""
        if node.op in BOUNDARY_OPS:
            return False
        if id(node) in self.done:  # (stored: its own signatures are empty now)
            return any(self.reduce_signatures(src) for src in node.srcs)
        readers = self.readers.get(id(node))
        if readers is None or len(readers) < 2 or node.op in ("load", "const", "movement"):
            return False
        if not self.reduce_signatures(node):
            return False
        reach = self.reach.get(id(self.root))
        if reach is None:
            reach = self.reach[id(self.root)] = {id(n) for n in walk(
                self.root, stop=lambda n: n.op in BOUNDARY_OPS and n.op != "reduce")}
        return any(id(reader) not in reach for reader in readers)

    def _is_boundary(self, node: Node) -> bool:
        return node.op in BOUNDARY_OPS and (node.op != "reduce" or self._is_stored(node))

    def _is_stored(self, node: Node) -> bool:
        return id(node) in self.done or self.realized_lookup(node) is not None

    def _reads_other_rows(self, node: Node) -> bool:
        """An elementwise node reading reductions this kernel can't fuse, that
        could be a row kernel of its own. The cached signatures may name a
        reduction stored since (the batch mean's weight below a loss's
        gradient, stored by an earlier kernel of this realisation): a yes is
        checked again over the graph as it is now, so the gradient stays in
        the row kernel that computes the max and the sum it reads."""
        for fresh in (False, True):
            sigs = self.reduce_signatures(node, {} if fresh else None)
            if not sigs or (self.rows is not None and sigs == {self.rows[:2]}):
                return False
            if self.rows_for(node, sigs) is None:
                return False
            if self._is_stored(node):
                return True  # (materialize gives its stored value)
        return True

    def rows_for(self, node: Node, sigs: frozenset | None = None) -> tuple | None:
        """The rows an elementwise root computes over: those of a reduction it
        reads (`sigs`, else its cached signatures) with the root's full shape
        (element-level) or reduced shape (row-level); None if it reads none."""
        sigs = sorted(self.reduce_signatures(node) if sigs is None else sigs, key=repr)
        for full, axes in sigs:
            if node.shape == full:
                return (full, axes, full)
        for full, axes in sigs:
            if row_space_strides(node.shape, (0,) * len(node.shape), full, axes) is not None:
                return (full, axes, node.shape)
        return None

    def fuses_reduce(self, node: Node, moves: tuple) -> bool:
        """Can the kernel being built compute this reduction itself?"""
        if self.rows is None or node.op != "reduce":
            return False
        full, axes, space = self.rows
        if node.srcs[0].shape != full or node.arg[1] != axes:
            return False
        view = View.contiguous(node.shape)
        for kind, params in moves:
            view = apply_movement(view, kind, params)
            if view is None:
                return False
        if view.mask is not None or view.offset != 0 or view.shape != space:
            return False
        natural = View.contiguous(node.shape).strides
        mapped = row_space_strides(space, view.strides, full, axes)
        if mapped is None:
            return False
        return all(mapped[d] == (0 if d in axes else natural[d])
                   for d in range(len(full)) if full[d] != 1)

    def as_load(self, node: Node, reason: str) -> Node:
        rewritten = self.push_movements(node, ())
        if rewritten.op == "load" and rewritten.arg[1].mask is None:
            return rewritten
        return self.materialize(rewritten, reason)

    def extern_input(self, node: Node) -> Node:
        """A load a matmul can read. A transposed intermediate (x.t() @ g in a
        backward pass) is stored in its own layout and read transposed, since
        BLAS takes either order, rather than copied transposed."""
        base, moves = node, ()
        while base.op == "movement":
            moves = (base.arg,) + moves
            base = base.srcs[0]
        if moves and base.op != "load" and all(kind == "permute" for kind, _ in moves):
            moved = self.move_load(self.as_load(base, "boundary: input of extern"), moves)
            view = moved.arg[1]
            if len(view.shape) == 2 and view.mask is None and \
                    is_blas_matrix(view.shape, view.strides):
                return moved
        return self.as_load(node, "boundary: input of extern")

    def push_movements(self, node: Node, moves: tuple) -> Node:
        """Rewrite node with `moves` applied on top into a movement-free graph:
        movements become the views of the leaves below them. Iterative (an
        explicit stack): a deferred loop builds elementwise chains of any depth."""
        rows = self.rows  # constant during this walk (nested kernels restore it)
        memo = self.memo
        key = (id(node), moves, rows)
        if key in memo:
            return memo[key]
        stack = [(node, moves, False)]
        while stack:
            n, mv, sources_done = stack.pop()
            k = (id(n), mv, rows)
            if not sources_done:
                if n is not self.root and self._row_value_to_store(n):
                    load = self.materialize(n, "boundary: a row value another kernel reads")
                    memo[k] = self.move_load(load, mv) if mv else load
                    continue
                if k in memo:
                    continue
                self.keep.append(n)
                if n.op == "movement":
                    child = (n.srcs[0], (n.arg,) + mv)
                elif n.op != "load" and _pads(mv):
                    # A pad reads zeros around the *stored* value: f(pad(x))
                    # is not pad(f(x)) (exp(0) = 1), so n is stored first.
                    load = self.materialize(n, "boundary: zero padding around it")
                    memo[k] = self.move_load(load, mv)
                    continue
                else:
                    result = self._push_leaf(n, mv)
                    if result is not None:
                        memo[k] = result
                        continue
                    child = None
                stack.append((n, mv, True))
                if child is not None:
                    stack.append((*child, False))
                else:
                    stack.extend((s, mv, False) for s in reversed(n.srcs) if s.op != "const")
                continue
            if n.op == "movement":
                memo[k] = memo[(id(n.srcs[0]), (n.arg,) + mv, rows)]
                continue
            shape = _moved_shape(n.shape, mv)
            srcs = tuple(s if s.op == "const" else memo[(id(s), mv, rows)] for s in n.srcs)
            depth = 1 + max((self.depths.get(id(s), 0) for s in srcs), default=0)
            if depth > MAX_FUSED_DEPTH and n is not self.root:
                # A long chain (a deferred loop of elementwise updates): cut it,
                # so a kernel's expression stays small enough to compile (and
                # the repeated chunks share one compiled kernel).
                load = self.materialize(n, f"boundary: expression deeper than "
                                           f"{MAX_FUSED_DEPTH} ops")
                memo[k] = self.move_load(load, mv) if mv else load
                continue
            result = simplify(make_node(n.op, n.dtype, shape, srcs, n.arg))
            self.depths[id(result)] = depth
            self.keep.append(result)
            memo[k] = result
        return memo[key]

    def _push_leaf(self, node: Node, moves: tuple) -> Node | None:
        """push_movements for a node whose sources are not pushed into this
        kernel (a leaf, a boundary, a fused reduction); None for an
        elementwise node, whose sources the caller pushes first."""
        op = node.op
        if op == "const":  # a reduction's input needs its true shape
            return node if not moves else make_node(
                "const", node.dtype, _moved_shape(node.shape, moves), (), node.arg)
        if op == "load":
            return self.move_load(node, moves)
        if op in ("rand", "iota"):
            return self.move_index_leaf(node, moves)
        if op == "reduce" and not self._is_stored(node) and self.fuses_reduce(node, moves):
            full, axes, space = self.rows
            self.rows = (full, axes, full)  # the reduction's input is element-level
            try:
                src = self.push_movements(node.srcs[0], ())
            finally:
                self.rows = (full, axes, space)
            self.log(f"  fused {node.arg[0]} over axes {list(axes)} of {list(full)} "
                     f"into the row kernel")
            return make_node("reduce", node.dtype, node.shape, (src,), node.arg)
        if op in BOUNDARY_OPS:
            reason = f"boundary: {op} feeding another kernel"
            load = self.materialize(node, reason)
            return self.move_load(load, moves) if moves else load
        if node is not self.root and self._reads_other_rows(node):
            load = self.materialize(node, "boundary: reduce over other axes")
            return self.move_load(load, moves) if moves else load
        return None

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
        moved_load = make_node("load", load.dtype, view.shape, (), (buf, view))
        if view.mask is not None and (self.rows is not None or self.root.op == "scan"):
            # (masked loads are lowered in elementwise kernels only; an extern's
            # or a gather's inputs are plain loads already: as_load)
            return self.materialize(moved_load, "boundary: a padded view read by a row kernel")
        return moved_load

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


def _pads(moves: tuple) -> bool:
    return any(kind == "pad" for kind, _ in moves)


def _moved_shape(shape: tuple[int, ...], moves: tuple) -> tuple[int, ...]:
    """The shape after moves (only shapes matter: a reshape that strides could
    not express still has its target shape)."""
    view = View.contiguous(shape)
    for kind, params in moves:
        moved = apply_movement(view, kind, params)
        # (a padded view's mask decides no shape: go on from a plain one)
        view = View.contiguous(params[0] if moved is None else moved.shape)
    return view.shape


def _writes_state(step: Step) -> bool:
    """A write into an existing buffer (an optimizer's update), or a plain
    copy of a stored value (the state a first step creates: momentum = grad)."""
    return step.reason == "assign" or (step.node.op == "cast" and
                                       step.node.srcs[0].op == "load")


def group_steps(steps: list[Step], mergeable) -> list[list[Step]]:
    """Order steps into launches: each list is one launch (horizontal fusion,
    ir/horizontal.py) or a lone extern call.

    A step waits for the steps before it that write what it reads or writes,
    or read what it writes. Among the steps whose turn has come, extern calls
    go first; then every kernel that can run before the next extern forms one
    launch, chains of dependent kernels included (nests run in order).
    `mergeable(step)` is false for kernels worth a launch of their own (big
    enough to split across threads). A launch holds at most
    MAX_KERNELS_PER_LAUNCH kernels, and either state writes (_writes_state)
    or other kernels, not both: a training step's first call creates the
    optimizer's state and later calls update it, and merged with the
    gradient kernels those writes made every merged kernel of the step new,
    compiled again by the second call."""
    deps: list[set[int]] = []
    last_writer: dict[int, int] = {}  # buffer -> the step that last wrote it
    readers: dict[int, list[int]] = {}  # buffer -> steps that read it since
    for j, step in enumerate(steps):
        reads = {id(n.arg[0]) for n in walk(step.node) if n.op == "load"}
        out = id(step.out)
        need = {last_writer[b] for b in reads | {out} if b in last_writer}
        need.update(readers.get(out, ()))
        deps.append(need - {j})
        for b in reads:
            readers.setdefault(b, []).append(j)
        last_writer[out] = j
        readers[out] = []
    extern = [step.node.op == "extern" for step in steps]
    state = [_writes_state(step) for step in steps]
    done: set[int] = set()
    remaining = list(range(len(steps)))
    launches: list[list[Step]] = []
    while remaining:
        ready = [j for j in remaining if extern[j] and deps[j] <= done]
        if not ready:
            available = set(done)
            kind = None  # this launch's: state writes or not
            for j in remaining:
                if extern[j] or not deps[j] <= available:
                    continue
                if kind is not None and state[j] != kind:
                    continue
                if not mergeable(steps[j]):
                    if not ready:  # alone, and first
                        ready = [j]
                        break
                    continue
                ready.append(j)
                kind = state[j]
                available.add(j)
                if len(ready) == MAX_KERNELS_PER_LAUNCH:
                    break
            launches.append([steps[j] for j in ready])
        else:
            launches.extend([steps[j]] for j in ready)
        done.update(ready)
        remaining = [j for j in remaining if j not in done]
    return launches


