"""The tensor-level IR: a DAG of hash-consed nodes.

Every tensor operation makes a Node (op, dtype, shape, srcs, arg). Nodes are
hash-consed: building the same op over the same sources twice returns the same
object, so common subexpressions are shared for free. Leaves are realised
buffers seen through a View (LOAD), constants (CONST) and random streams
(RAND). Interior nodes are elementwise ops from the op table (ir/ops.py),
CAST, REDUCE, and movement ops. The scheduler (ir/schedule.py) turns a graph
into kernels.

Node ops:
  "load"    arg = (Buffer, View)          read a realised buffer through a view
  "const"   arg = python scalar           broadcast constant of `shape`
  "rand"    arg = (kind, seed, offset)    counter-based random stream, kind
                                          uniform or normal
  "iota"    arg = None                    the row-major linear index of each element
  <op>      arg = None                    an elementwise op of ir/ops.OPS
  "cast"    arg = None                    convert srcs[0] to dtype
  "check_index" arg = (size, dim, message)        srcs[0] as int64, checked to lie in
                                          [0, size) (else IndexError after the launch)
  "reduce"  arg = (reduce_op, axes)       reduce srcs[0] over axes (shape keeps
                                          reduced axes as size 1)
  "scan"    arg = (reduce_op, (axis,))    running reduction along axis (cumsum)
  "gather"  arg = mapping                 srcs = (source, index, ...): read the
                                          source at addresses taken from index
                                          tensors (see ir/lower.lower_gather)
"""

from __future__ import annotations

import math
import weakref
from typing import Any

from lazyt.dtypes import DType


class Buffer:
    """A realised flat allocation on a device (the runtime owns the memory).

    The IR only needs its identity, dtype and size; `storage` is the runtime
    object (lazyt.runtime.storage.Storage) and is passed down untouched.
    """

    __slots__ = ("storage", "__weakref__")

    def __init__(self, storage: Any):
        self.storage = storage


def arg_key(arg: Any) -> Any:
    """Hashable key for a node argument; floats keyed by bits so nan/-0.0 are distinct."""
    kind = type(arg)
    if kind is int or kind is str or arg is None:  # the common args, as they are
        return arg
    if isinstance(arg, float):  # (numpy's float64 too)
        return ("float", float(arg).hex() if math.isfinite(arg) else repr(arg))
    if kind is bool:
        return ("bool", arg)
    if kind is tuple:
        return arg if _is_plain(arg) else tuple(map(arg_key, arg))
    if isinstance(arg, tuple):
        return tuple(map(arg_key, arg))
    if kind is Buffer:
        return ("buffer", id(arg))
    return arg


def _is_plain(arg: tuple) -> bool:
    """Does the (nested) tuple hold only ints, strings and Nones? Then it is
    its own key (a movement's shape and dims), with no copy made."""
    stack = [arg]
    while stack:
        for a in stack.pop():
            kind = type(a)
            if kind is tuple:
                stack.append(a)
            elif kind is not int and kind is not str and a is not None:
                return False
    return True


def node_arg_key(node: Node) -> Any:
    """arg_key(node.arg), computed once per node."""
    key = node.akey
    if key is _UNSET:
        key = node.akey = arg_key(node.arg)
    return key


_UNSET = object()


class Node:
    """One IR node. Build nodes with `make_node`, never directly."""

    __slots__ = ("op", "dtype", "shape", "srcs", "arg", "akey", "depth", "__weakref__")

    def __init__(self, op: str, dtype: DType, shape: tuple[int, ...],
                 srcs: tuple[Node, ...], arg: Any, akey: Any = _UNSET, depth: int = 1):
        self.op = op
        self.dtype = dtype
        self.shape = shape
        self.srcs = srcs
        self.arg = arg
        self.akey = akey  # arg_key(arg) once known (node_arg_key)
        # The longest path to a leaf, counted in deferred mode (eager nodes are
        # one op over leaves): a pending graph too deep is realised first.
        self.depth = depth

    def __repr__(self) -> str:
        return f"Node({self.op}, {self.dtype.name}, {self.shape}, arg={self.arg!r})"


# key -> weak reference to the node. Plain weak references (no callback, as a
# WeakValueDictionary would register per entry): dead entries are swept when
# the table has doubled since the last sweep, and at 4,096 entries at the
# least: a deferred training loop keeps under a thousand nodes alive, and a
# dead entry costs ~500 bytes until swept (at 65,536 the soak's deferred MLP
# grew its RSS by 12% filling the table, 0.04% at 4,096; sweeps stay
# amortised O(1) per node made).
_INTERNED: dict = {}
_SWEEP_MIN = 1 << 12
_SWEEP_AT = [_SWEEP_MIN]


def _sweep_interned() -> None:
    for key in [k for k, ref in _INTERNED.items() if ref() is None]:
        del _INTERNED[key]
    _SWEEP_AT[0] = max(_SWEEP_MIN, 2 * len(_INTERNED))

# Hash-consing pays off when graphs are kept and fused (deferred mode); an
# eager op's nodes live for one kernel launch, so modes.py turns it off there.
INTERNING = [False]


def make_node(op: str, dtype: DType, shape: tuple[int, ...],
              srcs: tuple[Node, ...] = (), arg: Any = None) -> Node:
    """Return the unique node for (op, dtype, shape, srcs, arg) (deferred mode),
    or a fresh node (eager mode)."""
    if not INTERNING[0]:
        return Node(op, dtype, shape, srcs, arg)
    akey = arg if arg is None else arg_key(arg)
    key = (op, dtype.name, shape, tuple(map(id, srcs)), akey)
    ref = _INTERNED.get(key)
    node = None if ref is None else ref()
    if node is None or node.srcs != srcs:
        depth = 0
        for src in srcs:
            if src.depth > depth:
                depth = src.depth
        node = Node(op, dtype, shape, srcs, arg, akey, depth + 1)
        _INTERNED[key] = weakref.ref(node)
        if len(_INTERNED) > _SWEEP_AT[0]:
            _sweep_interned()
    return node


def reachable(roots) -> list[Node]:
    """Every node reachable from roots, each once, in no particular order
    (iteratively: cheaper than walk when the order does not matter)."""
    out: list[Node] = []
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen.add(id(node))
            out.append(node)
            stack.extend(node.srcs)
    return out


def walk(root: Node, stop=None) -> list[Node]:
    """Nodes reachable from root in topological order (sources first), iteratively.
    With `stop`, the sources of nodes for which stop(node) is true are not visited."""
    order: list[Node] = []
    seen = {id(root)}
    no_srcs = iter(())
    stack = [(root, no_srcs if stop is not None and stop(root) else iter(root.srcs))]
    while stack:
        node, srcs = stack[-1]
        for src in srcs:  # the next unvisited source, depth first
            if id(src) not in seen:
                seen.add(id(src))
                stack.append((src, no_srcs if stop is not None and stop(src)
                              else iter(src.srcs)))
                break
        else:
            stack.pop()
            order.append(node)
    return order
