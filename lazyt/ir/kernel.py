"""Kernel IR: one kernel as a loop nest over expressions.

The scheduler lowers tensor-level nodes to this; each backend (codegen/llvm.py,
later codegen/cuda.py) renders it. A Kernel is frozen and hashable: two kernels
with equal structure are the same compiled code, which is how eager mode reuses
kernels across shapes (sizes, strides and offsets are runtime Params).

Calling convention shared by all backends:
  kernel(bufs: pointer[n_buffers], args: int64[n_params])
  args[0], args[1] are the [start, stop) range of the outermost loop, so the
  runtime can split a launch across threads. Other Params are sizes, strides,
  offsets and scalars the lowering put there.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass, replace
from typing import Union

from lazyt.dtypes import DType


def _tree(cls):
    """A frozen kernel IR class whose hash is computed once: kernels are dict
    keys (the kernel cache) and codegen memoises by expression, so a deep
    tree would otherwise be rehashed at every level (quadratic)."""
    cls.__annotations__["_h"] = "int | None"
    cls._h = field(default=None, init=False, repr=False, compare=False, hash=False)
    cls = dataclass(frozen=True, slots=True)(cls)
    structural_hash = cls.__hash__

    def cached_hash(self) -> int:
        h = self._h
        if h is None:
            h = structural_hash(self)
            object.__setattr__(self, "_h", h)
        return h

    cls.__hash__ = cached_hash
    return cls


# --- expressions -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Const:
    value: int | float | bool
    dtype: DType


@dataclass(frozen=True, slots=True)
class Param:
    """An int64 read from the args block at `slot`."""

    slot: int


@dataclass(frozen=True, slots=True)
class Scalar:
    """A scalar of `dtype` passed at run time in args[slot] (floats as float64 bits),
    so eager kernels don't recompile when only a Python number changes."""

    slot: int
    dtype: DType


@dataclass(frozen=True, slots=True)
class Var:
    """A loop variable (int64)."""

    name: str


@_tree
class Load:
    buf: int
    index: Expr  # int64 element index into the buffer
    dtype: DType
    # A padded view's load: read only where this bool is true, else 0 (the
    # index may lie outside the buffer there and is never dereferenced).
    valid: Expr | None = None


@_tree
class Alu:
    """An op of ir/ops.OPS over srcs; dtype is the result dtype."""

    op: str
    dtype: DType
    srcs: tuple[Expr, ...]


@_tree
class Index:
    """int64 index arithmetic: op in add, mul, div (floor, positive), mod, lt, ge, and, select."""

    op: str
    srcs: tuple[Expr, ...]


@_tree
class Cast:
    dtype: DType
    src: Expr


@dataclass(frozen=True, slots=True)
class AccGet:
    """The current value of an accumulator (part "value" or "index" for arg-reductions)."""

    name: str
    dtype: DType
    part: str = "value"
    lane: Expr | None = None  # which lane of a laned accumulator (AccInit.lanes)


@_tree
class CheckedIndex:
    """`index` wrapped for negatives (index + size) and bounds-checked.

    Out-of-range indices store the offending index into the error buffer's
    slot 0, the size into slot 1, the dim into slot 2 and the message into slot 3, and evaluate to 0 so nothing out of bounds
    is touched; the runtime raises IndexError after the launch.
    """

    index: Expr
    size: Expr
    err_buf: int
    dim: int = 0  # reported in the error (slot 2)
    wrap: bool = True  # negative indices count from the end (indexing), or are errors (gather)
    message: int = 0  # which error the runtime raises (slot 3; runtime/launch.BOUNDS_ERRORS)


@_tree
class Rand:
    """Counter-based random numbers: kind "uniform" in [0,1), "normal", or "bits" (uint64)."""

    kind: str
    dtype: DType
    counter: Expr  # int64 position in the stream
    seed: Expr  # int64


Expr = Union[Const, Param, Scalar, Var, Load, Alu, Index, Cast, AccGet, CheckedIndex, Rand]

# --- statements --------------------------------------------------------------


@_tree
class Loop:
    var: str
    start: Expr
    stop: Expr
    body: tuple[Stmt, ...]
    # False: the backend must not unroll it (a loop over an accumulator's
    # lanes, left for the vectoriser: codegen/sum_lanes.py).
    unroll: bool = True


@_tree
class Store:
    buf: int
    index: Expr
    value: Expr
    mask: Expr | None = None  # store only where this bool is true


@dataclass(frozen=True, slots=True)
class AccInit:
    """Declare accumulator `name` of `dtype` and set it to the reduce op's identity."""

    name: str
    op: str  # sum, prod, max, min, argmax, argmin, any, all
    dtype: DType
    lanes: int = 1  # > 1: that many independent accumulators, picked by AccUpdate.lane


@_tree
class AccUpdate:
    """acc = op(acc, value); arg-reductions also track `position` of the winner.
    A float sum is free to be reassociated (vectorised into lanes) unless
    `ordered`: then its additions happen in the written order."""

    name: str
    value: Expr
    position: Expr | None = None
    ordered: bool = False
    lane: Expr | None = None  # which lane of a laned accumulator (AccInit.lanes)


Stmt = Union[Loop, Store, AccInit, AccUpdate]


@dataclass(frozen=True, slots=True)
class BufferSpec:
    dtype: DType
    writes: bool  # the kernel stores into it
    noalias: bool  # no other buffer of this launch shares its memory


@_tree
class Kernel:
    name: str
    buffers: tuple[BufferSpec, ...]
    n_params: int
    body: tuple[Stmt, ...]
    # Safe to split the outermost loop across threads (no cross-iteration state).
    parallel: bool = True
    # Many small loop nests (horizontal fusion): compiled for size, without
    # loop unrolling or interleaving, which multiply code and compile time
    # for loops that run a few hundred iterations.
    compact: bool = False


def rewrite(value, *, var_exprs: dict | None = None, accs: dict | None = None,
            buffers: list[int] | None = None, param_offset: int = 0, prefix: str = "",
            load_valid: Expr | None = None):
    """A copy of a kernel IR tree (an Expr, a Stmt, or a tuple of them) with
    loop variables replaced by expressions (`var_exprs`: name -> Expr), accumulators
    renamed (`accs`: old -> new), buffer slots mapped (`buffers[old]`), param
    and scalar slots shifted by `param_offset`, and, with `prefix`, every loop
    variable and accumulator name prefixed. Used to place one kernel's code
    inside another (horizontal fusion) or to repeat it for neighbouring
    columns (column reductions). With `load_valid`, every Load reads only
    where that bool is true (a masked load: zero elsewhere). Subtrees shared
    in the input are rewritten once (and stay shared); a subtree with
    nothing to change is kept as it is."""
    return _Rewriter(var_exprs, accs, buffers, param_offset, prefix, load_valid).rewrite(value)


def _field_roles(cls) -> tuple[tuple[str, str], ...]:
    """(field, role) of a kernel IR class for rewrite: "buf" (a buffer slot),
    "name" (a loop variable or accumulator name), "tree" (may hold IR)."""
    roles = _FIELD_ROLES.get(cls)
    if roles is None:
        roles = []
        for f in fields(cls):
            if f.name in ("buf", "err_buf"):
                roles.append((f.name, "buf"))
            elif f.name == "var" or (f.name == "name" and cls in _NAMED_ACCS):
                roles.append((f.name, "name"))
            elif f.name != "_h":
                roles.append((f.name, "tree"))
        roles = _FIELD_ROLES[cls] = tuple(roles)
    return roles


_FIELD_ROLES: dict[type, tuple] = {}


class _Rewriter:
    """One rewrite's settings and the subtrees it has rewritten (by id)."""

    def __init__(self, var_exprs, accs, buffers, param_offset, prefix, load_valid=None):
        self.load_valid = load_valid
        self.var_exprs = var_exprs
        self.accs = accs
        self.buffers = buffers
        self.param_offset = param_offset
        self.prefix = prefix
        self.done: dict[int, object] = {}
        self.keep: list = []  # inputs whose ids key `done` stay alive until the end

    def rewrite(self, value):
        kind = type(value)
        if kind is tuple:
            items = [self.rewrite(v) for v in value]
            return value if all(a is b for a, b in zip(items, value)) else tuple(items)
        if kind is Var:
            if self.var_exprs is not None and value.name in self.var_exprs:
                return self.var_exprs[value.name]
            return Var(self.prefix + value.name) if self.prefix else value
        if kind is Param or kind is Scalar:
            return replace(value, slot=value.slot + self.param_offset) \
                if self.param_offset else value
        roles = _FIELD_ROLES.get(kind)
        if roles is None:
            if kind is DType or not is_dataclass(kind):
                return value
            roles = _field_roles(kind)
        found = self.done.get(id(value))
        if found is not None:
            return found
        changes = {}
        for name, role in roles:
            old = getattr(value, name)
            if role == "buf":
                new = old if self.buffers is None else self.buffers[old]
            elif role == "name":
                renamed = self.accs.get(old, old) \
                    if self.accs is not None and name == "name" else old
                new = self.prefix + renamed
            elif type(old) is tuple or type(old) in _FIELD_ROLES or \
                    (old is not None and type(old) is not DType and is_dataclass(type(old))):
                new = self.rewrite(old)
                if new is not old:
                    changes[name] = new
                continue
            else:
                continue
            if new != old:
                changes[name] = new
        result = replace(value, **changes) if changes else value
        if kind is Load and self.load_valid is not None:
            valid = self.load_valid if result.valid is None else \
                Index("and", (result.valid, self.load_valid))
            result = replace(result, valid=valid)
        self.done[id(value)] = result
        self.keep.append(value)
        return result


_NAMED_ACCS = (AccInit, AccUpdate, AccGet)


def reduction_identity(op: str, dtype: DType):
    """The start value of a reduction (what an AccInit holds before any element)."""
    if op in ("sum", "any"):
        return 0
    if op in ("prod", "all"):
        return 1
    take_max = op in ("max", "argmax")
    if dtype.kind == "f":
        return float("-inf") if take_max else float("inf")
    if dtype.kind == "b":
        return 0 if take_max else 1
    if dtype.kind == "u":
        return 0 if take_max else (1 << dtype.bits) - 1
    half = 1 << (dtype.bits - 1)
    return -half if take_max else half - 1
