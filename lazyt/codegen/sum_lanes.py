"""Float32 sums in float32 lanes: a kernel IR rewrite before LLVM rendering.

The lowering accumulates a float32 sum in float64
(ir/lower_rows.reduce_accumulator_dtype): accurate, and with the additions
marked `reassoc` LLVM may split them into vector lanes as it likes, the
float64 accumulator hiding the order it picks. On the CPU that costs a
conversion and twice the vector adds per element: a 4096x4096 row sum ran
9% slower than with a float32 accumulator, a 4096x1024 softmax 20%.

Here the loop of such a sum over a contiguous row becomes

    total = 0                                   (float64, as before)
    for each block of BLOCK elements:
        lane[w] = 0 for w < LANES               (float32)
        for each group of LANES elements in the block:
            lane[w] += x[LANES * group + w]
        total += float64(the lanes summed by halves: w + w+8, then w + w+4, ...)
    if the row has elements left (fewer than LANES): those as one more group,
    the lanes past the end adding zero: total += float64(its lanes by halves)

Every addition's order is written in the IR and none is marked reassoc, so
LLVM can only vectorise across the independent lanes (the loop over the
lanes, kept from unrolling, is what its loop vectoriser sees), never
reorder: a kernel's sum has the same bits whatever else its loop body
computes (eager alone or fused in deferred mode), whatever vector width the
machine has and however the rows are split across threads. A lane adds at
most BLOCK / LANES values in float32; the blocks are summed in float64.
(Written as 16 scalar accumulators instead, the lanes were left to LLVM's
SLP vectoriser, which paired them two by two: slower than float64.)
Sums that read their row with a stride (a column of a matrix), through a
mask or a bounds-checked index keep the float64 loop.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass, replace

from lazyt import dtypes
from lazyt.ir import kernel as K

LANES = 16
BLOCK = 256  # elements per block: 16 float32 additions per lane

_I64 = dtypes.int64


def split_float32_sums(kern: K.Kernel) -> K.Kernel:
    """The kernel with each float32 sum over a contiguous row in lanes (see
    the module docstring); the kernel itself when it has none."""
    body = _statements(kern.body)
    return kern if body is kern.body else replace(kern, body=body)


def _statements(body: tuple) -> tuple:
    """A statement list with its splittable sums rewritten (loops nest only
    as deep as a tensor has dims)."""
    out: list = []
    changed = False
    i = 0
    while i < len(body):
        s = body[i]
        if isinstance(s, K.AccInit) and i + 1 < len(body) and _splittable(s, body[i + 1]):
            out.append(s)
            out.extend(_in_lanes(s, body[i + 1]))
            changed = True
            i += 2
            continue
        if isinstance(s, K.Loop):
            inner = _statements(s.body)
            if inner is not s.body:
                s = replace(s, body=inner)
                changed = True
        out.append(s)
        i += 1
    return tuple(out) if changed else body


def _splittable(init: K.AccInit, loop) -> bool:
    """Is `loop` the row loop of init's float32 sum: a flat loop from 0 whose
    one update of the accumulator adds a float32 value (cast to float64),
    which reads the loop's elements contiguously (or not at all: broadcasts)
    and not the accumulator?"""
    if init.op != "sum" or init.dtype is not dtypes.float64 or not isinstance(loop, K.Loop) \
            or loop.start != K.Const(0, _I64):
        return False
    updates = [s for s in loop.body if isinstance(s, K.AccUpdate)]
    if len(updates) != 1 or any(not isinstance(s, (K.AccUpdate, K.Store)) for s in loop.body):
        return False
    (update,) = updates
    value = update.value
    if update.name != init.name or update.position is not None or \
            not isinstance(value, K.Cast) or value.dtype is not dtypes.float64 or \
            getattr(value.src, "dtype", None) is not dtypes.float32:
        return False
    var = K.Var(loop.var)
    for e in _subtrees(loop.body):
        if isinstance(e, (K.CheckedIndex, K.Rand)) or \
                isinstance(e, K.AccGet) and e.name == init.name:
            return False
        if isinstance(e, K.Load) and (e.valid is not None or not _dense_along(e.index, var)):
            return False
    return True


def _dense_along(index, var: K.Var) -> bool:
    """Does index move by 1 or 0 (a broadcast) along var: is it var plus
    terms without var, or free of var?"""
    terms, pending = [], [index]
    while pending:
        e = pending.pop()
        if isinstance(e, K.Index) and e.op == "add":
            pending.extend(e.srcs)
        else:
            terms.append(e)
    return terms.count(var) <= 1 and all(t == var or var not in _subtrees(t) for t in terms)


def _subtrees(tree) -> list:
    """Every kernel IR object inside tree (an Expr, a Stmt or a tuple of them)."""
    found, pending = [], [tree]
    while pending:
        e = pending.pop()
        if type(e) is tuple:
            pending.extend(e)
        elif is_dataclass(e) and not isinstance(e, dtypes.DType):
            found.append(e)
            pending.extend(getattr(e, f.name) for f in fields(e) if f.name != "_h")
    return found


def _in_lanes(init: K.AccInit, loop: K.Loop) -> tuple:
    """The block loop over full groups of lanes and the loop over the last,
    masked group (run once or not at all) that replace `loop`."""
    (update,) = [s for s in loop.body if isinstance(s, K.AccUpdate)]

    def const(value: int) -> K.Const:
        return K.Const(value, _I64)

    per_block = BLOCK // LANES
    n = loop.stop
    groups = K.Index("div", (n, const(LANES)))
    in_groups = K.Index("mul", (groups, const(LANES)))  # the elements in full groups
    blocks = K.Index("div", (K.Index("add", (groups, const(per_block - 1))), const(per_block)))
    block, group = K.Var(loop.var + "b"), K.Var(loop.var + "g")
    first = K.Index("mul", (block, const(per_block)))
    end = K.Index("add", (first, const(per_block)))
    last = K.Index("select", (K.Index("lt", (end, groups)), end, groups))
    lanes = f"{init.name}l"
    lane = K.Var(loop.var + "w")
    element = {loop.var: K.Index("add", (K.Index("mul", (group, const(LANES))), lane))}
    lane_body = tuple(
        K.AccUpdate(lanes, K.rewrite(update.value.src, var_exprs=element), lane=lane,
                    ordered=True) if s is update else K.rewrite(s, var_exprs=element)
        for s in loop.body)
    values = [K.AccGet(lanes, dtypes.float32, lane=const(w)) for w in range(LANES)]
    while len(values) > 1:  # halves: lane w + lane w + 8, then w + 4, ... (vector halves)
        half = len(values) // 2
        values = [K.Alu("add", dtypes.float32, (values[k], values[k + half]))
                  for k in range(half)]
    total = K.AccUpdate(init.name, K.Cast(dtypes.float64, values[0]), ordered=True)
    block_loop = K.Loop(block.name, const(0), blocks, (
        K.AccInit(lanes, "sum", dtypes.float32, lanes=LANES),
        K.Loop(group.name, first, last, (
            K.Loop(lane.name, const(0), const(LANES), lane_body, unroll=False),)),
        total))
    # The last elements (fewer than LANES) as one more group whose lanes past
    # the end add zero (their loads and stores masked off).
    position = K.Index("add", (in_groups, lane))
    inside = K.Index("lt", (position, n))
    tail_body = []
    for s in loop.body:
        moved = K.rewrite(update.value.src if s is update else s,
                          var_exprs={loop.var: position}, load_valid=inside)
        if s is update:
            zero = K.Const(0.0, dtypes.float32)
            tail_body.append(K.AccUpdate(lanes, K.Alu("where", dtypes.float32,
                                                      (inside, moved, zero)),
                                         lane=lane, ordered=True))
        else:
            mask = inside if moved.mask is None else K.Index("and", (moved.mask, inside))
            tail_body.append(replace(moved, mask=mask))
    # (a loop run once when the row has such elements, else not at all)
    has_tail = K.Index("lt", (in_groups, n))
    tail = K.Loop(loop.var + "t", const(0), K.Index("select", (has_tail, const(1), const(0))), (
        K.AccInit(lanes, "sum", dtypes.float32, lanes=LANES),
        K.Loop(lane.name, const(0), const(LANES), tuple(tail_body), unroll=False),
        total))
    return block_loop, tail
