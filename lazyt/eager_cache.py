"""Eager dispatch cache: repeated elementwise ops skip graph building.

An eager op on realised tensors of the same dtypes and views as a recent
call runs the same compiled kernel with the same params (sizes, strides and
offsets are functions of the views); only the buffers differ. The first call
goes the whole way (tensor op -> IR node -> plan -> compiled kernel, see
executor.py); it leaves here which kernel ran, its params and which operand
fed each buffer slot, so later calls allocate the output and launch. The
numbers are still computed by the same generated kernel: this caches the
dispatch, not results. Bounded LRU, like the plan cache.
"""

from __future__ import annotations

import ctypes
from collections import OrderedDict

from lazyt import modes
from lazyt.dtypes import get_default_dtype
from lazyt.ir.view import prod
from lazyt.runtime import stats
from lazyt.runtime.device import CPU
from lazyt.runtime.launch import PARALLEL_MIN_WORK
from lazyt.runtime.storage import Storage

_LIMIT = 2048
_SCALARS = frozenset((int, float, bool))
_ENTRIES: OrderedDict = OrderedDict()


class _Entry:
    """What a hit needs: the kernel, its args block, operand index per buffer
    slot (-1: the output), and the output's dtype and view."""

    __slots__ = ("function", "args", "slots", "dtype", "view", "numel")

    def __init__(self, function, params, slots, dtype, view):
        self.function = function
        self.args = (ctypes.c_int64 * len(params))(*params)
        self.slots = slots
        self.dtype = dtype
        self.view = view
        self.numel = prod(view.shape)


def key_for(op: str, operands: tuple):
    """The cache key of an out-of-place op, or None when the op cannot use
    the cache (a scalar or pending operand, deferred mode, tracing)."""
    if modes.is_deferred() or modes.TRACING:
        return None
    parts = [op, get_default_dtype()]  # it decides int tensor * float scalar
    storages: list = []
    for x in operands:
        kind = type(x)
        if kind in _SCALARS:
            # A Python number is a param of the kernel: the same value (and
            # type, which decides promotion) gives the same params.
            parts.append((kind, x))
            continue
        st = getattr(x, "_st", None)
        if st is None or x._node is not None or st.writer is not None or st.device is not CPU:
            return None
        # Which operands share memory is part of the kernel (x * x reads one buffer).
        shared = storages.index(st) if st in storages else len(storages)
        storages.append(st)
        parts += (st.dtype, x._vw, shared)
    return tuple(parts)


def computed(key, operands: tuple, build, like=None):
    """The tensor an out-of-place op computes: from the cache when `key` (from
    key_for, or None) was seen, else by building its node with `build()` and
    realising it (then remembered). `like(node)` picks the layout source."""
    out = None if key is None else run_cached(key, operands)
    if out is None:
        from lazyt.executor import plan_entry_for
        from lazyt.tensor import Tensor

        node = build()
        out = Tensor._from_node(node, like=None if like is None else like(node))
        if key is not None:
            remember(key, operands, out, plan_entry_for(node, out))
    return out


def run_cached(key, operands: tuple):
    """The op's result tensor if key was seen before, else None."""
    entry = _ENTRIES.get(key)
    if entry is None:
        return None
    from lazyt.tensor import Tensor

    out = Storage.allocate(entry.dtype, entry.numel, CPU)
    pointers = [out.address if s < 0 else operands[s]._st.address for s in entry.slots]
    # (scalar operands are in the args block already)
    entry.function((ctypes.c_void_p * len(pointers))(*pointers), entry.args)
    stats.bump_cached_launch()
    return Tensor._make(out, entry.view)


def run_inplace(key, operands: tuple) -> bool:
    """operands[0] = op(*operands) if key was seen before; False otherwise.
    Only when nothing pending could read the target's old value."""
    entry = _ENTRIES.get(key)
    if entry is None or modes.has_pending():
        return False
    from lazyt.executor import forget_results_in

    target = operands[0]
    pointers = [operands[max(s, 0)]._st.address for s in entry.slots]
    entry.function((ctypes.c_void_p * len(pointers))(*pointers), entry.args)
    target._st.version += 1
    forget_results_in(target._st)
    stats.bump_cached_launch()
    return True


def remember(key, operands: tuple, out, plan_entry) -> None:
    """After a first call: keep how it ran (plan_entry: the executor's cached
    (plan, buffer slots, compiled kernel, work) for the node it launched)."""
    if plan_entry is None:
        return
    template, buffer_slots, compiled, work = plan_entry
    if template.kernel.parallel and work >= PARALLEL_MIN_WORK:
        return  # big enough to split across threads: the general launch does that
    slots = []
    for slot in buffer_slots:
        if slot is None:
            return  # a bounds-checked kernel: not an elementwise op's
        slots.append(slot)
    # Signature buffers are [out] + the distinct operand buffers in walk
    # order; map each to the operand that owns it.
    owners = {id(out._st): -1}
    for i, x in enumerate(operands):
        if type(x) not in _SCALARS:
            if x._st is out._st and x._vw != out._vw:
                return  # an in-place op reading its target through another view
            owners.setdefault(id(x._st), i)
    order = [out._st] + [s for s in _distinct_storages(operands) if s is not out._st]
    try:
        slots = [owners[id(order[s])] for s in slots]
    except (IndexError, KeyError):
        return
    _ENTRIES[key] = _Entry(compiled.function, template.params, slots, out.dtype, out._vw)
    while len(_ENTRIES) > _LIMIT:
        _ENTRIES.popitem(last=False)


def _distinct_storages(operands: tuple) -> list:
    seen, order = set(), []
    for x in operands:
        if type(x) not in _SCALARS and id(x._st) not in seen:
            seen.add(id(x._st))
            order.append(x._st)
    return order
