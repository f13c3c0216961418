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


@_tree
class AccUpdate:
    """acc = op(acc, value); arg-reductions also track `position` of the winner."""

    name: str
    value: Expr
    position: Expr | None = None


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
            buffers: list[int] | None = None, param_offset: int = 0, prefix: str = ""):
    """A copy of a kernel IR tree (an Expr, a Stmt, or a tuple of them) with
    loop variables replaced by expressions (`var_exprs`: name -> Expr), accumulators
    renamed (`accs`: old -> new), buffer slots mapped (`buffers[old]`), param
    and scalar slots shifted by `param_offset`, and, with `prefix`, every loop
    variable and accumulator name prefixed. Used to place one kernel's code
    inside another (horizontal fusion) or to repeat it for neighbouring
    columns (column reductions)."""
    if isinstance(value, tuple):
        return tuple(rewrite(v, var_exprs=var_exprs, accs=accs, buffers=buffers,
                             param_offset=param_offset, prefix=prefix) for v in value)
    if isinstance(value, Var):
        if var_exprs is not None and value.name in var_exprs:
            return var_exprs[value.name]
        return Var(prefix + value.name) if prefix else value
    if isinstance(value, (Param, Scalar)):
        return replace(value, slot=value.slot + param_offset) if param_offset else value
    if not is_dataclass(value):
        return value
    changes = {}
    for f in fields(value):
        old = getattr(value, f.name)
        if f.name in ("buf", "err_buf") and buffers is not None:
            changes[f.name] = buffers[old]
        elif f.name == "var" or (f.name == "name" and isinstance(value, _NAMED_ACCS)):
            renamed = accs.get(old, old) if accs is not None and f.name == "name" else old
            changes[f.name] = prefix + renamed
        elif is_dataclass(old) or isinstance(old, tuple):
            changes[f.name] = rewrite(old, var_exprs=var_exprs, accs=accs, buffers=buffers,
                                      param_offset=param_offset, prefix=prefix)
    return replace(value, **changes) if changes else value


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
