"""Lowering of row kernels: reductions and scans (see ir/lower.py for the
shared machinery: the builder, loops, views as index arithmetic).

  row           reductions over the same rows, fused with their producers
                and consumers; reductions over leading axes in column
                blocks                                  (lower_row)
  scan          out[k] = running reduce of f(...)       (lower_scan)

The outer loops run over the kept dims (the rows), the inner ones over the
reduced dims; accumulators are float64 for float32 sums (reduce_accumulator_dtype).
"""

from __future__ import annotations

from lazyt import dtypes
from lazyt.dtypes import DType
from lazyt.ir import kernel as K
from lazyt.ir.lower import (
    LaunchPlan,
    _expr_for,
    _LaunchPlanBuilder,
    _leaf_offset,
    _leaf_strides,
    _leaves,
    _Loops,
    _mul,
    collapse_dims,
    leaf_view,
    row_space_strides,
)
from lazyt.ir.node import Buffer, Node, walk
from lazyt.ir.view import View, contiguous_strides


def reduce_accumulator_dtype(op: str, dtype: DType) -> DType:
    """Accumulate low-precision floats in float32 and float32 sums in float64
    (which the CPU backend turns into float32 lanes summed in float64 where
    the row is contiguous: codegen/sum_lanes.py)."""
    if op in ("any", "all"):
        return dtypes.bool_
    if dtype.kind == "f" and dtype.itemsize < 4:
        return dtypes.float32
    if op == "sum" and dtype is dtypes.float32:
        return dtypes.float64
    return dtype


def _with_outer_row(cshape: list[int], cstrides: list[list[int]], n_kept: int) -> int:
    """With no kept dim (a full reduction, a 1-d scan), add one outer row of
    size 1 so the outer loop (the one threads split) exists; the kept count."""
    if n_kept == 0:
        cshape.insert(0, 1)
        for st in cstrides:
            st.insert(0, 0)
    return max(n_kept, 1)


def lower_scan(root: Node, out: Buffer, out_view: View) -> LaunchPlan | None:
    """out = the running reduction of src along one axis (cumsum, cumprod, ...):
    the outer loops run over the other dims, the inner loop stores as it goes."""
    (src,) = root.srcs
    reduce_op, axes = root.arg
    in_shape = src.shape
    if 0 in in_shape:
        return None
    nodes = walk(src)
    leaves = _leaves(nodes)
    builder = _LaunchPlanBuilder()
    out_b = builder.buffer(out, root.dtype, writes=True)
    kept = [d for d in range(len(in_shape)) if d not in axes]
    order = kept + list(axes)
    groups = tuple([0] * len(kept) + [1] * len(axes))
    views = [tuple(out_view.strides[d] for d in order)] + [
        tuple(_leaf_strides(n, in_shape)[d] for d in order) for n in leaves]
    cshape, cstrides, cgroups = collapse_dims(tuple(in_shape[d] for d in order), views, groups)
    n_kept = _with_outer_row(cshape, cstrides, cgroups.count(0))
    loops = _Loops(builder, cshape)
    leaf_index = {id(leaf): loops.index(builder, st, _leaf_offset(leaf))
                  for leaf, st in zip(leaves, cstrides[1:])}
    acc_dtype = reduce_accumulator_dtype(reduce_op, src.dtype)
    value = _expr_for(nodes, builder, lambda n: leaf_index[id(n)])
    if acc_dtype is not src.dtype:
        value = K.Cast(acc_dtype, value)
    update = K.AccUpdate("acc", value)
    result: K.Expr = K.AccGet("acc", acc_dtype)
    if acc_dtype is not root.dtype:
        result = K.Cast(root.dtype, result)
    store = K.Store(out_b, loops.index(builder, cstrides[0], out_view.offset), result)
    body = (K.AccInit("acc", reduce_op, acc_dtype),) + loops.nest((update, store), start=n_kept)
    return builder.finish("scan", loops.nest(body, upto=n_kept), cshape[0])


def lower_row(root: Node, out: Buffer, out_view: View) -> LaunchPlan | None:
    """A row kernel: reductions over the same axes of the same shape, fused with
    their producers and consumers (softmax, layer_norm, log-sum-exp).

    The outer loops run over the kept dims (the rows). Inside, each reduction
    (a "reduce" node of the graph, in topological order) is one inner loop
    into an accumulator; then the root is stored, either once per row
    (row-level: a reduce, or an elementwise expression of the accumulators) or
    by a last inner loop over the reduced dims (element-level: the root has
    the full shape and reads accumulators as broadcast values). A row is read
    once per stage while it is hot in cache, instead of once per kernel.
    """
    nodes = walk(root)
    reduces = [n for n in nodes if n.op == "reduce"]
    full = reduces[0].srcs[0].shape
    axes = reduces[0].arg[1]
    # The output's shape decides the level (a root reduce fused under a
    # broadcast keeps its reduced shape).
    row_level = out_view.shape != full
    kept = [d for d in range(len(full)) if d not in axes]
    order = kept + list(axes)
    if 0 in [full[d] for d in kept] or (not row_level and 0 in full):
        return None
    builder = _LaunchPlanBuilder()
    out_b = builder.buffer(out, root.dtype, writes=True)
    leaves = _leaves(nodes)

    def space_strides(shape: tuple[int, ...], strides: tuple[int, ...]) -> tuple[int, ...]:
        mapped = row_space_strides(shape, strides, full, axes)
        if mapped is None:
            raise AssertionError(f"row kernel operand {shape} does not fit rows of {full}")
        return mapped

    out_strides = space_strides(out_view.shape, out_view.strides)
    position = (0,) * len(kept) + contiguous_strides(tuple(full[d] for d in axes))
    views = [tuple(out_strides[d] for d in order), position]
    for leaf in leaves:
        v = leaf_view(leaf)
        st = space_strides(leaf.shape, v.strides)
        views.append(tuple(st[d] for d in order))
    groups = tuple([0] * len(kept) + [1] * len(axes))
    cshape, cstrides, cgroups = collapse_dims(tuple(full[d] for d in order), views, groups)
    column = None
    if row_level and len(reduces) == 1 and reduces[0].arg[0] not in ("argmax", "argmin") \
            and _columns_are_inner(cshape, cstrides, cgroups.count(0)):
        # A column reduction (a bias gradient: x.sum(0)): blocks of neighbouring
        # columns are reduced together, so each row's slice is read densely.
        n_kept = _with_outer_row(cshape, cstrides, 0) + cgroups.count(0)
        column = n_kept - 1
    else:
        n_kept = _with_outer_row(cshape, cstrides, cgroups.count(0))
    loops = _Loops(builder, cshape)
    leaf_index = {id(leaf): loops.index(builder, st, _leaf_offset(leaf), column)
                  for leaf, st in zip(leaves, cstrides[2:])}
    index_of = lambda n: leaf_index[id(n)]  # noqa: E731
    memo: dict[int, K.Expr] = {}
    body: list[K.Stmt] = []
    out_index = loops.index(builder, cstrides[0], out_view.offset, column)
    stored = None if row_level else _stored_reduce_input(root, reduces, leaves, out)
    for k, red in enumerate(reduces):
        acc_dtype = reduce_accumulator_dtype(red.arg[0], red.srcs[0].dtype)
        op = red.arg[0]
        name = f"acc{k}"
        src = red.srcs[0]
        value = _expr_for(walk(src), builder, index_of, memo)
        if acc_dtype is not src.dtype:
            value = K.Cast(acc_dtype, value)
        arg = op in ("argmax", "argmin")
        pos = loops.index(builder, cstrides[1], 0) if arg else None
        update: tuple[K.Stmt, ...] = (K.AccUpdate(name, value, pos),)
        if stored is not None and red is stored[0]:
            update += (K.Store(out_b, out_index, memo[id(stored[1])]),)
        body.append(K.AccInit(name, op, acc_dtype))
        body.extend(loops.nest(update, start=n_kept))
        result: K.Expr = K.AccGet(name, acc_dtype, "index" if arg else "value")
        result_dtype = dtypes.int64 if arg else acc_dtype
        if result_dtype is not red.dtype:
            result = K.Cast(red.dtype, result)
        memo[id(red)] = result
        if stored is not None and red is stored[0]:  # later stages read it back
            memo[id(stored[1])] = K.Load(out_b, out_index, stored[1].dtype)
    value = _expr_for(nodes, builder, index_of, memo)
    store = K.Store(out_b, out_index, value)
    if column is not None:
        body, outer = _column_blocks(body, update, store, loops, column, n_kept, builder)
        return builder.finish("reduce_columns", loops.nest(tuple(body), upto=column), outer)
    if row_level:
        body.append(store)
    else:
        body.extend(loops.nest((store,), start=n_kept))
    name = "reduce" if root.op == "reduce" and len(reduces) == 1 else "row"
    return builder.finish(name, loops.nest(tuple(body), upto=n_kept), cshape[0])


COLUMN_BLOCK = 16  # columns reduced together: one cache line of float32


def _columns_are_inner(cshape: list[int], cstrides: list[list[int]], n_kept: int) -> bool:
    """Do the inputs run densely along the last kept dim (and not along the
    reduced ones)? cstrides: out, position, then one list per leaf."""
    if n_kept == 0 or n_kept == len(cshape) or cshape[n_kept - 1] < COLUMN_BLOCK:
        return False
    leaves = cstrides[2:]
    column = n_kept - 1
    return (any(st[column] == 1 for st in leaves)
            and all(st[column] in (0, 1) and st[-1] != 1 for st in leaves))


def _column_blocks(body: list[K.Stmt], update: tuple[K.Stmt, ...], store: K.Store,
                   loops: _Loops, column: int, n_kept: int,
                   builder: _LaunchPlanBuilder) -> tuple[list[K.Stmt], int]:
    """One column's reduction (`body`: init, reduce loops, store) repeated for
    COLUMN_BLOCK neighbouring columns inside one pass over the rows, then the
    leftover columns one at a time. Each column still adds its values in row
    order, so the result has the same bits as one column at a time, however
    the blocks are shared out. With no kept dim before the columns (x.sum(0)),
    the outermost loop (the one threads split) runs over the blocks, and
    one past the last block does the leftover columns. Returns (statements,
    extent of the outermost loop)."""
    (init,) = [s for s in body if isinstance(s, K.AccInit)]
    size = loops.stops[column]
    var = loops.vars[column].name
    blocks = builder.param(0)
    tail = builder.param(0)
    size_value = builder.params[size.slot]
    builder.params[blocks.slot] = size_value // COLUMN_BLOCK
    builder.params[tail.slot] = size_value // COLUMN_BLOCK * COLUMN_BLOCK
    block = K.Var(f"{var}b")
    inits, updates, stores = [], [], []
    for w in range(COLUMN_BLOCK):
        where = {var: K.Index("add", (_mul(block, K.Const(COLUMN_BLOCK, dtypes.int64)),
                                      K.Const(w, dtypes.int64)))}
        accs = {init.name: f"{init.name}c{w}"}
        inits.append(K.rewrite(init, accs=accs))
        updates.extend(K.rewrite(update, var_exprs=where, accs=accs))
        stores.append(K.rewrite(store, var_exprs=where, accs=accs))
    block_body = tuple(inits) + loops.nest(tuple(updates), start=n_kept) + tuple(stores)
    if column != 1:  # kept dims outside: every block inside each of their iterations
        blocked = K.Loop(block.name, K.Const(0, dtypes.int64), blocks, block_body)
        return [blocked, K.Loop(var, tail, size, tuple(body) + (store,))], 1
    # The outermost loop (over the 1-row dim _with_outer_row added) becomes
    # the block index g: block g when g < blocks, the leftover columns at g == blocks.
    g = loops.vars[0]
    in_blocks = K.Index("lt", (g, blocks))
    one_past = K.Index("add", (g, K.Const(1, dtypes.int64)))
    blocked = K.Loop(block.name, g, K.Index("select", (in_blocks, one_past, g)), block_body)
    leftover = K.Loop(var, K.Index("select", (in_blocks, size, tail)), size,
                      tuple(body) + (store,))
    return [blocked, leftover], builder.params[blocks.slot] + 1


def _stored_reduce_input(root: Node, reduces: list[Node], leaves: list[Node],
                         out: Buffer) -> tuple[Node, Node] | None:
    """(a reduction, a value its input computes) that the element-level output
    also reads: softmax's exp(x - max) (the reduction's input itself),
    log_softmax's x - max, layer_norm's x - mean (inside it). That stage
    stores the value into the output, and later stages read it back instead
    of computing it again: the last pass reads and writes a row that is in
    cache, instead of streaming the output's first write after the compute.
    Only for computed values of the output's dtype, with an output that no
    input aliases."""
    if any(leaf.op == "load" and leaf.arg[0] is out for leaf in leaves):
        return None
    inside = {id(n) for red in reduces for n in walk(red.srcs[0])}
    reads = {id(s) for n in walk(root) if n.op != "reduce" and id(n) not in inside
             for s in n.srcs}
    for red in reversed(reduces):
        for node in reversed(walk(red.srcs[0])):  # the reduction's input first
            if id(node) in reads and node.dtype is root.dtype and node.op not in (
                    "load", "const", "cast", "rand", "iota", "reduce"):
                return red, node
    return None
