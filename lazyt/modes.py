"""Execution modes: eager (default) and deferred.

Eager realises every op as it is made. Deferred (`with lt.deferred():`,
`lt.set_mode("deferred")`) only builds the graph: a tensor is computed when
its value is needed (item, numpy, tolist, printing, bool/float/int, a Python
branch on it) or on request (`t.realize()`, `lt.realize(*ts)`); then the
scheduler (ir/schedule.py) fuses the pending graph into few kernels. Leaving
the `with` block does not force anything.
"""

from __future__ import annotations

import os
import threading
import traceback
import weakref

from lazyt.ir import node


class _ModeState(threading.local):
    """The mode of each thread; a thread that never set one reads the class's
    default without the failed lookup `getattr(local, name, default)` costs
    (a third of an eager op's dispatch)."""

    mode = "eager"


_state = _ModeState()
_MODES = ("eager", "deferred")

# Functions lt.compile is tracing right now (innermost last): value reads raise.
TRACING: list = []

# Reads of tensor values into Python so far (item, tolist, numpy, bool, ...):
# a region recording its launches (regions.py) compares it before and after,
# as a graph built from values read cannot be replayed on other values.
VALUE_READS = [0]

# Pending tensors alive now: an in-place write to a buffer first realises the
# pending tensors that read it, so they see the values from before the write.
# id -> weak reference (a WeakSet would compare tensors with ==, which is
# elementwise; a WeakValueDictionary costs a callback per tensor, and deferred
# code makes a hundred pending tensors a step): dead references are dropped
# when the registry is read.
_PENDING: dict[int, weakref.ref] = {}


class CompileError(RuntimeError):
    """Raised for what lt.compile cannot trace (value reads) or too many retraces."""


def _user_frame() -> str:
    """'file:line' of the innermost frame outside the lazyt package."""
    package = os.path.dirname(os.path.abspath(__file__))
    for frame in reversed(traceback.extract_stack()[:-1]):
        if not os.path.abspath(frame.filename).startswith(package):
            return f"{frame.filename}:{frame.lineno} ({frame.line})"
    return "<unknown>"


def check_value_read(what: str) -> None:
    """Called by every operation that reads tensor values into Python: while
    lt.compile traces (TRACING) that is an error pointing at the user's line."""
    if TRACING:
        raise CompileError(
            f"lt.compile: cannot read a tensor's value ({what}) while tracing, at "
            f"{_user_frame()}. A compiled function replays the same kernels on every call, "
            "so it cannot branch on data. Return the tensor and read it outside, or call "
            "the function without lt.compile.")


def get_mode() -> str:
    return _state.mode


def set_mode(mode: str) -> None:
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
    _state.mode = mode
    node.INTERNING[0] = mode == "deferred"


def is_deferred() -> bool:
    return _state.mode == "deferred"


class deferred:  # noqa: N801 - reads like lt.no_grad
    """Context manager (and decorator) running its body in deferred mode."""

    def __enter__(self):
        self.previous = get_mode()
        set_mode("deferred")
        return self

    def __exit__(self, *exc):
        set_mode(self.previous)
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with deferred():
                return fn(*args, **kwargs)

        return wrapper


# Realisations so far: a pending tensor remembers the one it was made in.
EPOCH = [0]
# Backward passes so far: a pending write remembers the last one begun when
# it was made. A deferred write into a tensor whose pending write is older than
# the last backward computes the older write first (realization.defer_write):
# a parameter updated by hand after each backward (`p -= lr * p.grad` under
# no_grad) is realised once per step, as an optimizer's step is, instead of
# one graph growing over the steps until MAX_PENDING_DEPTH cuts it.
BACKWARDS = [0]


def backward_started() -> None:
    BACKWARDS[0] += 1


def track_pending(tensor) -> None:
    key = id(tensor)
    # (A dead tensor's entry under a reused id goes first: the registry keeps
    # creation order, which orders the roots of a realisation, so its key.)
    _PENDING.pop(key, None)
    _PENDING[key] = weakref.ref(tensor)
    tensor._write_epoch = EPOCH[0]


def has_pending() -> bool:
    """Any pending tensor at all (cheap; it may have been realised since)."""
    while _PENDING:
        try:
            key = next(iter(_PENDING))
        except (StopIteration, RuntimeError):  # (emptied or changed by another thread)
            continue
        ref = _PENDING.get(key)
        if ref is not None and ref() is not None:
            return True
        _PENDING.pop(key, None)  # a dead one first in line goes now
    return False


def pending_tensors() -> list:
    """The tensors still pending; realised and dead ones are dropped from the
    registry (so has_pending() turns false once everything is computed)."""
    pending = []
    for key, ref in list(_PENDING.items()):  # (a copy: other threads may add)
        t = ref()
        if t is not None and t._node is not None:
            pending.append(t)
        elif _PENDING.get(key) is ref:
            _PENDING.pop(key, None)
    return pending
