"""Execution modes: eager (default) and deferred.

Eager realises every op as it is made. Deferred (`with lt.deferred():`,
`lt.set_mode("deferred")`) only builds the graph: a tensor is computed when
its value is needed (item, numpy, tolist, printing, bool/float/int, a Python
branch on it) or on request (`t.realize()`, `lt.realize(*ts)`); then the
scheduler (ir/schedule.py) fuses the pending graph into few kernels. Leaving
the `with` block does not force anything.
"""

from __future__ import annotations

import threading
import weakref

from lazyt.ir import node

_state = threading.local()
_MODES = ("eager", "deferred")

# Functions lt.compile is tracing right now (innermost last): value reads raise.
TRACING: list = []

# Pending tensors alive now: an in-place write to a buffer first realises the
# pending tensors that read it, so they see the values from before the write.
# Pending tensors by id (a WeakSet would compare tensors with ==, which is elementwise).
_PENDING: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def get_mode() -> str:
    return getattr(_state, "mode", "eager")


def set_mode(mode: str) -> None:
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
    _state.mode = mode
    node.INTERNING[0] = mode == "deferred"


def is_deferred() -> bool:
    return getattr(_state, "mode", "eager") == "deferred"


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


def track_pending(tensor) -> None:
    _PENDING[id(tensor)] = tensor
    tensor.__dict__["_write_epoch"] = EPOCH[0]


def has_pending() -> bool:
    """Any pending tensor at all (cheap; it may have been realised since)."""
    return bool(_PENDING)


def pending_tensors() -> list:
    """The tensors still pending; realised ones are dropped from the registry
    (so has_pending() turns false once everything is computed)."""
    pending = []
    for key, t in list(_PENDING.items()):
        if t._node is not None:
            pending.append(t)
        else:
            _PENDING.pop(key, None)
    return pending


def realize(*tensors) -> None:
    """Compute the given pending tensors together (one schedule)."""
    from lazyt.realization import realize_tensors  # cycle: realization uses these modes

    flat = []
    for t in tensors:
        if isinstance(t, (list, tuple)):
            flat.extend(t)
        else:
            flat.append(t)
    realize_tensors([t for t in flat if getattr(t, "_node", None) is not None])
