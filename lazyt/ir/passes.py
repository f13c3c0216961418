"""Named rewrite passes over IR nodes, applied by the scheduler as it builds
each kernel's graph (deferred mode). Each pass returns an equivalent node,
bit for bit: a rewrite that could change a result (x + 0.0 turns -0.0 into
+0.0) is not made.
"""

from __future__ import annotations

from lazyt.ir.node import Node, make_node


def _const_value(node: Node):
    return node.arg if node.op == "const" else None


def _is_const(node: Node, value) -> bool:
    v = _const_value(node)
    return v is not None and not isinstance(v, bool) and v == value


def remove_identity_ops(node: Node) -> Node:
    """x*1, 1*x, x/1, x-0 and integer x+0 are x: drop them (saves an op per element)."""
    if len(node.srcs) != 2:
        return node
    a, b = node.srcs
    if a.dtype is not node.dtype or b.dtype is not node.dtype:
        return node
    if node.op == "mul":
        if _is_const(b, 1) and a.shape == node.shape:
            return a
        if _is_const(a, 1) and b.shape == node.shape:
            return b
    if node.op == "div" and _is_const(b, 1) and a.shape == node.shape:
        return a
    if node.op == "sub" and _is_const(b, 0) and a.shape == node.shape:
        return a
    if node.op == "add" and node.dtype.kind in "iu" and a.shape == node.shape and _is_const(b, 0):
        return a
    return node


def small_integer_powers_to_multiplies(node: Node) -> Node:
    """x**2 -> x*x and x**3 -> x*x*x for floats: exact (as PyTorch computes
    them) and far cheaper than a general pow."""
    if node.op != "pow" or node.dtype.kind != "f":
        return node
    base, exponent = node.srcs
    if base.shape != node.shape or base.dtype is not node.dtype:
        return node
    if _is_const(exponent, 2):
        return make_node("mul", node.dtype, node.shape, (base, base))
    if _is_const(exponent, 3):
        square = make_node("mul", node.dtype, node.shape, (base, base))
        return make_node("mul", node.dtype, node.shape, (square, base))
    return node


PASSES = (remove_identity_ops, small_integer_powers_to_multiplies)


def simplify(node: Node) -> Node:
    """Apply every pass to one freshly built node until none changes it."""
    while True:
        before = node
        for rewrite in PASSES:
            node = rewrite(node)
        if node is before:
            return node
