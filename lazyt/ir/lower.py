"""Lowering: one scheduled group of IR nodes -> a Kernel plus its launch values.

The scheduler (ir/schedule.py) decides which nodes form one kernel; this file
turns such a group into kernel IR (ir/kernel.py). Views become index
arithmetic: `offset + sum(i_k * stride_k)`, with sizes, strides, offsets and
Python scalars passed as runtime Params so that one compiled kernel serves
every shape of the same structure (eager mode's no-recompile promise).

Before building loops, dims are collapsed: adjacent dims that every operand
walks contiguously merge into one, so any contiguous elementwise op becomes a
single flat loop that LLVM vectorises, whatever the tensor's rank.

Kernel forms:
  elementwise   out[i] = f(loads, consts, rand)        (lower_elementwise)
  row, scan     reductions and running reductions (ir/lower_rows.py)
  gather        out[i] = src[address with indices read from index tensors]
  scatter       dst[address with indices] (op)= src[i] (lower_gather / lower_scatter)
  nonzero       coordinates of true elements, in order (lower_nonzero)
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from lazyt import dtypes
from lazyt.dtypes import DType
from lazyt.ir import kernel as K
from lazyt.ir.node import Buffer, Node, walk
from lazyt.ir.view import View


@dataclass
class LaunchPlan:
    """Everything the runtime needs to run one kernel."""

    kernel: K.Kernel
    buffers: list[Buffer | None]  # None marks the bounds-error buffer the runtime provides
    params: list[int]
    outer: int  # extent of the outermost loop (args[0], args[1] = 0, outer)
    error_buffer: int | None = None
    rng_slots: tuple[int, ...] = ()  # params holding random-stream offsets (lt.compile moves them)


@dataclass
class _LaunchPlanBuilder:
    """Collects a kernel's buffers and params while it is lowered; `finish` makes the LaunchPlan."""

    buffers: list[Buffer | None] = field(default_factory=list)
    buffer_dtypes: list[DType] = field(default_factory=list)
    writes: list[bool] = field(default_factory=list)
    params: list[int] = field(default_factory=lambda: [0, 0])
    rng_slots: list[int] = field(default_factory=list)
    error_buffer: int | None = None  # the bounds-error slot, once a kernel checks indices

    def error_slot(self) -> int:
        if self.error_buffer is None:
            self.error_buffer = self.buffer(None, dtypes.int64, writes=True)
        return self.error_buffer

    def param(self, value: int) -> K.Param:
        self.params.append(int(value))
        return K.Param(len(self.params) - 1)

    def scalar(self, value, dtype: DType) -> K.Scalar:
        if dtype.kind == "f":
            bits = struct.unpack("<q", struct.pack("<d", float(value)))[0]
        else:
            bits = int(value)
            bits = ((bits + (1 << 63)) % (1 << 64)) - (1 << 63)
        self.params.append(bits)
        return K.Scalar(len(self.params) - 1, dtype)

    def buffer(self, buf: Buffer | None, dtype: DType, writes: bool = False) -> int:
        for i, existing in enumerate(self.buffers):
            if existing is buf and buf is not None and self.buffer_dtypes[i] is dtype:
                self.writes[i] = self.writes[i] or writes
                return i
        self.buffers.append(buf)
        self.buffer_dtypes.append(dtype)
        self.writes.append(writes)
        return len(self.buffers) - 1

    def specs(self) -> tuple[K.BufferSpec, ...]:
        """Buffer specs; a buffer is noalias unless another one shares its storage."""
        ids = [id(b) for b in self.buffers]
        return tuple(
            K.BufferSpec(d, w, b is None or ids.count(id(b)) == 1)
            for d, w, b in zip(self.buffer_dtypes, self.writes, self.buffers))

    def finish(self, name: str, body: tuple[K.Stmt, ...], outer: int,
               parallel: bool = True, error_buffer: int | None = None) -> LaunchPlan:
        self.params[1] = outer
        kern = K.Kernel(name, self.specs(), len(self.params), body, parallel)
        if error_buffer is None:
            error_buffer = self.error_buffer
        return LaunchPlan(kern, self.buffers, self.params, outer, error_buffer,
                          tuple(self.rng_slots))


def _add(a: K.Expr | None, b: K.Expr) -> K.Expr:
    return b if a is None else K.Index("add", (a, b))


def _mul(a: K.Expr, b: K.Expr) -> K.Expr:
    return K.Index("mul", (a, b))


def collapse_dims(shape: tuple[int, ...], views: list[tuple[int, ...]],
                  groups: tuple[int, ...] | None = None) -> tuple[list[int], list[list[int]], list[int]]:
    """Merge adjacent dims that every stride list walks contiguously.

    Returns (new_shape, new_strides per view, group of each new dim). Size-1
    dims are dropped. `groups` keeps dims of different groups (e.g. kept vs
    reduced axes) from merging.
    """
    groups = groups or (0,) * len(shape)
    new_shape: list[int] = []
    new_strides: list[list[int]] = [[] for _ in views]
    new_groups: list[int] = []
    for d, size in enumerate(shape):
        if size == 1:
            continue
        if new_shape and new_groups[-1] == groups[d] and all(
                st[-1] == v[d] * size for st, v in zip(new_strides, views)):
            new_shape[-1] *= size
            for st, v in zip(new_strides, views):
                st[-1] = v[d]
            continue
        new_shape.append(size)
        new_groups.append(groups[d])
        for st, v in zip(new_strides, views):
            st.append(v[d])
    return new_shape, new_strides, new_groups


class _Loops:
    """Loop variables over a (collapsed) shape; dim 0 runs over args[0]..args[1]."""

    def __init__(self, builder: _LaunchPlanBuilder, shape: list[int], prefix: str = "i",
                 first_is_outer: bool = True):
        self.vars = [K.Var(f"{prefix}{d}") for d in range(len(shape))]
        self.stops: list[K.Expr] = []
        for d, size in enumerate(shape):
            if d == 0 and first_is_outer:
                self.stops.append(K.Param(1))
            else:
                self.stops.append(builder.param(size))
        self.first_is_outer = first_is_outer

    def index(self, builder: _LaunchPlanBuilder, strides: list[int], offset: int,
              unit: int | None = None) -> K.Expr:
        """offset + sum(var_k * stride_k); the innermost stride 0/1 is baked in so
        contiguous and broadcast operands vectorise, and so is a unit stride
        along dim `unit` (a column kernel's columns, read side by side)."""
        expr: K.Expr | None = builder.param(offset) if offset else None
        last = len(strides) - 1
        for d, stride in enumerate(strides):
            if stride == 0:
                continue
            if (d == last or d == unit) and stride == 1:
                term: K.Expr = self.vars[d]
            else:
                term = _mul(self.vars[d], builder.param(stride))
            expr = _add(expr, term)
        return expr if expr is not None else K.Const(0, dtypes.int64)

    def nest(self, body: tuple[K.Stmt, ...], upto: int | None = None,
             start: int = 0) -> tuple[K.Stmt, ...]:
        """Wrap body in loops for dims [start, upto)."""
        upto = len(self.vars) if upto is None else upto
        for d in range(upto - 1, start - 1, -1):
            first = d == 0 and self.first_is_outer
            loop_start = K.Param(0) if first else K.Const(0, dtypes.int64)
            body = (K.Loop(self.vars[d].name, loop_start, self.stops[d], body),)
        return body


LEAF_OPS = frozenset(("load", "rand", "iota"))  # (a const is a kernel parameter)


def _leaves(nodes: list[Node]) -> list[Node]:
    return [n for n in nodes if n.op in LEAF_OPS]


def _expr_for(nodes: list[Node], builder: _LaunchPlanBuilder, index_of,
              memo: dict[int, K.Expr] | None = None) -> K.Expr:
    """Translate an elementwise node graph (topologically ordered, root last) to
    a kernel expression. index_of(node) gives the index expression of a leaf.
    A row kernel shares one `memo` between its stages; it holds the values of
    the fused reductions.
    """
    memo = {} if memo is None else memo
    for node in nodes:
        if id(node) in memo:
            continue
        if node.op == "load":
            buf, view = node.arg
            b = builder.buffer(buf, node.dtype)
            index = index_of(node)
            if view.mask is not None:
                valid, raw_index = index
                memo[id(node)] = K.Load(b, raw_index, node.dtype, valid)
            else:
                memo[id(node)] = K.Load(b, index, node.dtype)
        elif node.op == "const":
            memo[id(node)] = builder.scalar(node.arg, node.dtype)
        elif node.op == "rand":
            kind, seed, offset = node.arg[:3]
            offset_param = builder.param(offset)
            builder.rng_slots.append(offset_param.slot)
            counter = _add(offset_param, index_of(node))
            memo[id(node)] = K.Rand(kind, node.dtype, counter, builder.param(seed))
        elif node.op == "iota":
            position: K.Expr = index_of(node)
            if node.dtype is not dtypes.int64:
                position = K.Cast(node.dtype, position)
            memo[id(node)] = position
        elif node.op == "cast":
            memo[id(node)] = K.Cast(node.dtype, memo[id(node.srcs[0])])
        elif node.op == "check_index":  # an index in [0, size): else a launch error
            size, dim, message = node.arg
            index = memo[id(node.srcs[0])]
            if node.srcs[0].dtype is not dtypes.int64:
                index = K.Cast(dtypes.int64, index)
            memo[id(node)] = K.CheckedIndex(index, builder.param(size), builder.error_slot(),
                                            dim, wrap=False, message=message)
        elif node.op in ("reduce", "scan"):
            raise AssertionError("a reduce inside an elementwise group")
        else:
            memo[id(node)] = K.Alu(node.op, node.dtype, tuple(memo[id(s)] for s in node.srcs))
    return memo[id(nodes[-1])]


def leaf_view(leaf: Node) -> View:
    """How a leaf is indexed: a load's view of its buffer, or for rand/iota the
    view of row-major positions they carry (contiguous unless moved)."""
    if leaf.op == "load":
        return leaf.arg[1]
    if leaf.op == "rand" and len(leaf.arg) == 4:
        return leaf.arg[3]
    if leaf.op == "iota" and isinstance(leaf.arg, View):
        return leaf.arg
    return View.contiguous(leaf.shape)


def _leaf_strides(node: Node, shape: tuple[int, ...]) -> tuple[int, ...]:
    return leaf_view(node).strides


def _leaf_offset(node: Node) -> int:
    return leaf_view(node).offset


def _masked_index(builder: _LaunchPlanBuilder, loops: _Loops, view: View) -> tuple[K.Expr, K.Expr]:
    """(valid, index) for a padded view: the index of every position as if the
    storage went on (out of the buffer over the padding, where the load is
    skipped: K.Load.valid)."""
    valid: K.Expr | None = None
    for d, (lo, hi) in enumerate(view.mask):
        if lo == 0 and hi == view.shape[d]:
            continue
        ok = K.Index("and", (K.Index("ge", (loops.vars[d], builder.param(lo))),
                             K.Index("lt", (loops.vars[d], builder.param(hi)))))
        valid = ok if valid is None else K.Index("and", (valid, ok))
    index = loops.index(builder, list(view.strides), view.offset)
    return (K.Const(True, dtypes.bool_) if valid is None else valid), index


def lower_elementwise(root: Node, out: Buffer, out_view: View) -> LaunchPlan | None:
    """out[out_view] = root, for a graph of elementwise ops over loads/consts/rand.

    The loops run over out_view's shape: a constant root (a fill) has shape ()."""
    shape = out_view.shape
    nodes = walk(root)
    leaves = _leaves(nodes)
    has_mask = any(n.op == "load" and n.arg[1].mask is not None for n in leaves)
    builder = _LaunchPlanBuilder()
    out_index = builder.buffer(out, root.dtype, writes=True)
    views = [out_view.strides] + [_leaf_strides(n, shape) for n in leaves]
    if has_mask:
        cshape, cstrides = list(shape), [list(v) for v in views]
    else:
        cshape, cstrides, _ = collapse_dims(shape, views)
    if 0 in shape:
        return None
    if not cshape:
        cshape, cstrides = [1], [[0] for _ in views]
    loops = _Loops(builder, cshape)
    leaf_index = {}
    for leaf, strides in zip(leaves, cstrides[1:]):
        if leaf.op == "load" and leaf.arg[1].mask is not None:
            leaf_index[id(leaf)] = _masked_index(builder, loops, leaf.arg[1])
        else:
            leaf_index[id(leaf)] = loops.index(builder, strides, _leaf_offset(leaf))
    value = _expr_for(nodes, builder, lambda n: leaf_index[id(n)])
    store = K.Store(out_index, loops.index(builder, cstrides[0], out_view.offset), value)
    return builder.finish("elementwise", loops.nest((store,)), cshape[0])


def row_space_strides(view_shape: tuple[int, ...], strides: tuple[int, ...],
                      full: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...] | None:
    """Strides over the full (pre-reduction) shape of a view: an element-level
    view (of the full shape) keeps its strides; a row-level one (the reduced
    shape up to size-1 dims: the same value for every element of a row) maps
    its dims of size > 1, in order, onto the kept dims of size > 1, and the
    reduced dims get stride 0. None if the shapes don't match."""
    if tuple(view_shape) == tuple(full):
        return tuple(strides)
    kept = [d for d in range(len(full)) if d not in axes and full[d] != 1]
    mine = [d for d in range(len(view_shape)) if view_shape[d] != 1]
    if [full[d] for d in kept] != [view_shape[d] for d in mine]:
        return None
    out = [0] * len(full)
    for d_full, d_mine in zip(kept, mine):
        out[d_full] = strides[d_mine]
    return tuple(out)


def reads_only_what_it_writes(root: Node, target: Buffer, out_view: View) -> bool:
    """Is an in-place kernel safe: does every element it reads of its own
    output buffer belong to the output element (or row) being computed, so
    nothing is read after it was overwritten? Loads are compared with the
    output in the kernel's iteration space."""
    nodes = walk(root)
    reduces = [n for n in nodes if n.op == "reduce"]

    def space(shape: tuple[int, ...], view: View) -> tuple | None:
        if view.mask is not None:
            return None
        if not reduces:
            return view.strides, view.offset
        full, axes = reduces[0].srcs[0].shape, reduces[0].arg[1]
        strides = row_space_strides(shape, view.strides, full, axes)
        if strides is None:
            return None
        return tuple(0 if full[d] == 1 else st for d, st in enumerate(strides)), view.offset

    mine = space(out_view.shape, out_view)
    for n in nodes:
        if n.op == "load" and n.arg[0] is target:
            if mine is None or space(n.shape, n.arg[1]) != mine:
                return False
    return True


def _gather_address(builder: _LaunchPlanBuilder, loops: _Loops, src_view: View,
                    mapping: tuple, index_nodes: list[Node], err: int,
                    valid: list | None = None) -> K.Expr:
    """Address in the source/destination: loop dims and bounds-checked index reads.

    If `valid` is a list, the in-range condition of each index is appended to it."""
    address: K.Expr | None = builder.param(src_view.offset) if src_view.offset else None
    for d, how in enumerate(mapping):
        stride = src_view.strides[d]
        if how[0] == "loop":
            term: K.Expr = loops.vars[how[1]]
        else:
            idx_node = index_nodes[how[1]]
            ibuf, iview = idx_node.arg
            b = builder.buffer(ibuf, idx_node.dtype)
            raw = K.Load(b, loops.index(builder, list(iview.strides), iview.offset),
                         idx_node.dtype)
            if idx_node.dtype is not dtypes.int64:
                raw = K.Cast(dtypes.int64, raw)
            size = builder.param(src_view.shape[d])
            wrap = how[0] == "index"  # ("strict", k): negative indices are errors
            message = how[2] if len(how) > 2 else 0  # ("strict", k, message number)
            term = K.CheckedIndex(raw, size, err, d, wrap, message)
            if valid is not None:
                low = K.Index("sub", (K.Const(0, dtypes.int64), size)) if wrap else \
                    K.Const(0, dtypes.int64)
                valid.append(K.Index("and", (K.Index("ge", (raw, low)),
                                             K.Index("lt", (raw, size)))))
        if stride != 0:
            address = _add(address, term if stride == 1 else _mul(term, builder.param(stride)))
    return address if address is not None else K.Const(0, dtypes.int64)


def lower_gather(root: Node, out: Buffer, out_view: View) -> LaunchPlan | None:
    """out[i] = src[address(i)]: gather, index_select and advanced indexing.

    root.srcs = (src_load, index_load, ...); root.arg = mapping, one entry per
    src dim: ("loop", out_dim) or ("index", k) meaning "the value of index
    tensor k at this output position" (negatives count from the end, as in
    indexing), or ("strict", k) (negatives are errors, as in gather). Index
    views have the output's shape.
    """
    src, *index_nodes = root.srcs
    if 0 in root.shape:
        return None
    builder = _LaunchPlanBuilder()
    out_b = builder.buffer(out, root.dtype, writes=True)
    src_buf, src_view = src.arg
    s = builder.buffer(src_buf, src.dtype)
    err = builder.buffer(None, dtypes.int64, writes=True)
    loops = _Loops(builder, list(root.shape) or [1])
    address = _gather_address(builder, loops, src_view, root.arg, index_nodes, err)
    out_strides = list(out_view.strides) or [0]
    store = K.Store(out_b, loops.index(builder, out_strides, out_view.offset),
                    K.Load(s, address, src.dtype))
    return builder.finish("gather", loops.nest((store,)), (root.shape or (1,))[0],
                          error_buffer=err)


def lower_scatter(dst: Buffer, dst_dtype: DType, dst_view: View, values: Node,
                  index_nodes: list[Node], mapping: tuple,
                  accumulate: str | None) -> LaunchPlan | None:
    """dst[address(i)] = values[i] (or dst = dst op values[i] with accumulate
    "add", "mul", "maximum" or "minimum"): scatter, scatter_reduce,
    index_put_ and index_add_. Runs sequentially: duplicate indices resolve to
    the last write (or all adds) in row-major order, as on PyTorch's CPU."""
    shape = values.shape
    if 0 in shape:
        return None
    builder = _LaunchPlanBuilder()
    d = builder.buffer(dst, dst_dtype, writes=True)
    err = builder.buffer(None, dtypes.int64, writes=True)
    loops = _Loops(builder, list(shape) or [1])
    nodes = walk(values)
    leaf_index = {id(n): loops.index(builder, list(_leaf_strides(n, shape)) or [0],
                                     _leaf_offset(n)) for n in _leaves(nodes)}
    value = _expr_for(nodes, builder, lambda n: leaf_index[id(n)])
    valid: list = []
    address = _gather_address(builder, loops, dst_view, mapping, index_nodes, err, valid)
    if accumulate is not None:  # "add", "mul", "maximum" or "minimum": dst = dst op value
        assert accumulate in ("add", "mul", "maximum", "minimum"), accumulate
        dtype = builder.buffer_dtypes[d]
        value = K.Alu(accumulate, dtype, (K.Load(d, address, dtype), value))
    mask = None
    for condition in valid:  # a bad index writes nothing (and raises after the launch)
        mask = condition if mask is None else K.Index("and", (mask, condition))
    store = K.Store(d, address, value, mask)
    return builder.finish("scatter", loops.nest((store,)), (shape or (1,))[0],
                          parallel=False, error_buffer=err)


def lower_nonzero(mask: Node, out: Buffer) -> LaunchPlan | None:
    """Write the coordinates of each true element of `mask` in row-major order
    into out (int64, shape (count + 1, ndim)): element k writes row acc and
    acc += mask[k], so the last row is scratch and no branch is needed."""
    shape = mask.shape or (1,)
    if 0 in shape:
        return None
    builder = _LaunchPlanBuilder()
    o = builder.buffer(out, dtypes.int64, writes=True)
    buf, view = mask.arg
    m = builder.buffer(buf, mask.dtype)
    loops = _Loops(builder, list(shape))
    flag = K.Load(m, loops.index(builder, list(view.strides) or [0], view.offset), mask.dtype)
    if mask.dtype is not dtypes.bool_:
        flag = K.Cast(dtypes.bool_, flag)
    row = K.AccGet("count", dtypes.int64)
    ndim = len(mask.shape)
    stores = tuple(
        K.Store(o, _add(_mul(row, K.Const(ndim, dtypes.int64)), K.Const(d, dtypes.int64)),
                loops.vars[d])
        for d in range(ndim))
    update = K.AccUpdate("count", K.Cast(dtypes.int64, flag))
    body = (K.AccInit("count", "sum", dtypes.int64),
            K.Loop("i0", K.Param(0), K.Param(1), loops.nest(stores + (update,), start=1)))
    return builder.finish("nonzero", body, shape[0], parallel=False)
