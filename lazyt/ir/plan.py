"""Which lowering a kernel-ready node takes, and how much work its launch is.

The scheduler (ir/schedule.py) cuts a graph into kernel-ready nodes; this
picks the lowering for each (ir/lower.py for elementwise kernels and
gathers, ir/lower_rows.py for reductions and scans) and gives the element
count the runtime's thread split is decided on.
"""

from __future__ import annotations

from lazyt.ir import lower, lower_rows
from lazyt.ir.node import Buffer, Node, walk
from lazyt.ir.view import View, prod


def lower_kernel(node: Node, out: Buffer, view: View) -> lower.LaunchPlan | None:
    """Lower one kernel-ready node writing into buffer `out` through view
    (None: nothing to compute, an empty tensor)."""
    if node.op == "scan":
        return lower_rows.lower_scan(node, out, view)
    if node.op == "gather":
        return lower.lower_gather(node, out, view)
    if node.op == "reduce" or any(n.op == "reduce" for n in walk(node)):
        return lower_rows.lower_row(node, out, view)
    return lower.lower_elementwise(node, out, view)


def kernel_work(node: Node) -> int:
    """Elements a kernel visits (the thread-split heuristic): the input of its
    reductions, else its output."""
    if node.op in ("reduce", "scan"):
        return prod(node.srcs[0].shape)
    reduces = [n for n in walk(node) if n.op == "reduce"]
    return prod(reduces[0].srcs[0].shape) if reduces else prod(node.shape)
