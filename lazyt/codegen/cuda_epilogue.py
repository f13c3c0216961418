"""Matmul epilogues on the GPU: a matmul and the elementwise kernel that
consumes it (bias add, activation) become one tiled matmul launch.

The scheduler (ir/schedule.py) cuts a graph at every matmul: the product is
stored, and the next kernel reads it back. On the CPU that stays (BLAS writes
the product). For a CUDA realisation the engine hands the scheduled steps to
`fuse_matmul_epilogues`, which finds each matmul step whose product only one
elementwise step reads, element for element, and replaces the pair with one
"extern" step: the matmul's node with arg ("matmul", MatmulEpilogue), reading
the matmul's operands and the consumer's other buffers. The epilogue is the
consumer's expression as kernel IR (ir/kernel.py), lowered from the IR nodes
here, in which AccGet("matmul") stands for the product at (row, col); the
tiled kernel (codegen/cuda_matmul.render_matmul) renders it with the same
op templates as every other CUDA kernel and applies it before its only store.
The product is then never written to memory.

Before that, a value the schedule computes twice into fresh buffers is
computed once (`merge_duplicate_steps`): a ReLU kept for the backward pass
and the same ReLU stored again as the next matmul's input would otherwise
leave two readers of the product before it.

What fuses: a 2-D product (no batch) whose consumer has the product's shape,
reads the product only at the element it writes (no transpose), and is made
of elementwise ops, casts, constants and loads without padding; and nothing
between the two steps writes the matmul's operands.
"""

from __future__ import annotations

from dataclasses import dataclass

from lazyt import dtypes
from lazyt.dtypes import DType
from lazyt.ir import kernel as K
from lazyt.ir.lower import _expr_for, _LaunchPlanBuilder
from lazyt.ir.node import Node, make_node, walk
from lazyt.ir.schedule import Step
from lazyt.ir.view import View

PRODUCT = "matmul"  # the AccGet name of the product in an epilogue expression
ROW, COL = "row", "col"  # the loop variables of an epilogue's index expressions
_NOT_ELEMENTWISE = frozenset(("reduce", "scan", "gather", "extern", "movement", "rand", "iota",
                              "check_index"))


@dataclass(frozen=True)
class MatmulEpilogue:
    """What a fused matmul computes from its product at (row, col)."""

    expr: K.Expr  # reads AccGet(PRODUCT), Vars ROW/COL, Params, Scalars, buffers 0..
    product_dtype: DType  # the matmul's dtype (what AccGet(PRODUCT) holds)
    dtype: DType  # the stored result's dtype
    buffers: tuple[DType, ...]  # dtypes of the buffers it reads (the extern's 3rd source on)
    params: tuple[int, ...]  # its int64 argument block (offsets, strides, scalar bits)

    @property
    def structure(self) -> tuple:
        """What the compiled kernel depends on (not the param values)."""
        return (self.expr, self.product_dtype.name, self.dtype.name,
                tuple(d.name for d in self.buffers), len(self.params))


def _index(builder: _LaunchPlanBuilder, view: View) -> K.Expr:
    """offset + row * stride0 + col * stride1 of a 2-D view."""
    terms: list[K.Expr] = []
    if view.offset:
        terms.append(builder.param(view.offset))
    for var, stride in zip((ROW, COL), view.strides):
        if stride:
            terms.append(K.Index("mul", (K.Var(var), builder.param(stride))))
    if not terms:
        return K.Const(0, dtypes.int64)
    expr = terms[0]
    for term in terms[1:]:
        expr = K.Index("add", (expr, term))
    return expr


def lower_epilogue(consumer: Node, product: Node, product_view: View
                   ) -> tuple[MatmulEpilogue, list[Node]] | None:
    """The consumer's expression as a MatmulEpilogue and the load nodes of
    the buffers it reads (in its buffer order); None if it cannot fuse."""
    nodes = walk(consumer)
    buffer_of = product.arg[0]
    memo: dict[int, K.Expr] = {}
    for node in nodes:
        if node.op in _NOT_ELEMENTWISE:
            return None
        if node.op != "load":
            continue
        buf, view = node.arg
        if view.mask is not None or view.shape != product.shape:
            return None
        if buf is buffer_of:
            if view != product_view:
                return None  # (read transposed or shifted: not the element being written)
            memo[id(node)] = K.AccGet(PRODUCT, product.dtype)
    builder = _LaunchPlanBuilder()
    expr = _expr_for(nodes, builder, lambda leaf: _index(builder, leaf.arg[1]), memo)
    loads = []
    for slot, (buf, dtype) in enumerate(zip(builder.buffers, builder.buffer_dtypes)):
        loads.append(next(n for n in nodes if n.op == "load" and n.arg[0] is buf
                          and n.dtype is dtype))
        assert len(loads) == slot + 1
    epilogue = MatmulEpilogue(expr, product.dtype, consumer.dtype,
                              tuple(builder.buffer_dtypes), tuple(builder.params))
    return epilogue, loads


def _loaded_buffers(node: Node) -> set[int]:
    return {id(n.arg[0]) for n in walk(node) if n.op == "load"}


def _with_buffer_replaced(root: Node, old, new) -> Node:
    """root with its loads of buffer `old` reading buffer `new` (same views)."""
    rebuilt: dict[int, Node] = {}
    for node in walk(root):
        if node.op == "load" and node.arg[0] is old:
            rebuilt[id(node)] = make_node("load", node.dtype, node.shape, (), (new, node.arg[1]))
        elif any(id(src) in rebuilt for src in node.srcs):
            rebuilt[id(node)] = make_node(node.op, node.dtype, node.shape,
                                          tuple(rebuilt.get(id(src), src) for src in node.srcs),
                                          node.arg)
    return rebuilt.get(id(root), root)


def merge_duplicate_steps(scheduler) -> int:
    """A value computed twice into fresh buffers (a ReLU that autograd keeps,
    and the same ReLU stored again as the next matmul's input) is computed
    once: the later copy's readers read the first. Then the product both
    read has one reader left, and can fuse. Returns the steps removed."""
    steps = scheduler.steps
    removed = 0
    first_of: dict[tuple, int] = {}
    j = 0
    while j < len(steps):
        step = steps[j]
        key = (id(step.node), step.dtype.name, step.view)
        i = first_of.get(key)
        fresh = step.out.storage is None and step.view == View.contiguous(step.node.shape)
        if i is None or not fresh or not step.reason.startswith("boundary") or \
                steps[i].out.storage is not None or \
                any(id(steps[k].out) in _loaded_buffers(step.node) for k in range(i + 1, j)):
            if fresh and i is None:
                first_of[key] = j
            j += 1
            continue
        kept, dropped = steps[i].out, step.out
        del steps[j]
        for k in range(j, len(steps)):
            later = steps[k]
            if id(dropped) in _loaded_buffers(later.node):
                steps[k] = Step(_with_buffer_replaced(later.node, dropped, kept), later.out,
                                later.view, later.dtype, later.reason)
        scheduler.materialized[:] = [
            (n, make_node("load", load.dtype, load.shape, (), (kept, load.arg[1]))
             if load.arg[0] is dropped else load) for n, load in scheduler.materialized]
        scheduler.log(f"cuda: kernel {j + 1} computed what kernel {i + 1} did: merged")
        removed += 1
    return removed


def fuse_matmul_epilogues(scheduler) -> int:
    """Fuse each matmul step with its elementwise consumer step (see the
    module docstring), rewriting scheduler.steps in place; the product's
    entry leaves scheduler.materialized (it is never stored). Returns the
    number of fusions."""
    merge_duplicate_steps(scheduler)
    steps = scheduler.steps
    fused = 0
    i = 0
    while i < len(steps):
        producer = steps[i]
        node = producer.node
        if not (node.op == "extern" and node.arg == "matmul" and len(node.shape) == 2
                and producer.reason.startswith("boundary")
                and producer.view == View.contiguous(node.shape)
                and producer.out.storage is None and 0 not in node.shape):
            i += 1
            continue
        out = producer.out
        readers = [j for j in range(i + 1, len(steps)) if id(out) in _loaded_buffers(steps[j].node)
                   or steps[j].out is out]
        operands = {id(src.arg[0]) for src in node.srcs}
        if len(readers) != 1 or any(id(steps[k].out) in operands for k in range(i + 1, readers[0])):
            i += 1
            continue
        consumer = steps[readers[0]]
        product = make_node("load", node.dtype, node.shape, (), (out, producer.view))
        lowered = None
        if consumer.out is not out and consumer.view.shape == node.shape and \
                consumer.view.mask is None and id(consumer.out) not in operands:
            lowered = lower_epilogue(consumer.node, product, producer.view)
        if lowered is not None and any(
                n.arg[0] is consumer.out and n.arg[1] != consumer.view for n in lowered[1]):
            lowered = None  # (it reads its own target elsewhere than it writes)
        if lowered is None:
            i += 1
            continue
        epilogue, loads = lowered
        fused_node = make_node("extern", consumer.node.dtype, node.shape,
                               (*node.srcs, *loads), ("matmul", epilogue))
        steps[readers[0]] = Step(fused_node, consumer.out, consumer.view, consumer.dtype,
                                       consumer.reason + " (its matmul fused: an epilogue)")
        del steps[i]
        scheduler.materialized[:] = [(n, load) for n, load in scheduler.materialized
                                     if load.arg[0] is not out]
        scheduler.log(f"cuda: matmul {list(node.shape)} fused with its elementwise consumer "
                      "(no stored product)")
        fused += 1
    return fused
