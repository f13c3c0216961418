"""Eager dispatch cache: repeated elementwise ops skip graph building.

An eager op on realised tensors of the same dtypes and views as a recent
call runs the same one-launch Program (engine/plans.py) with the same
arguments (sizes, strides and offsets are functions of the views); only the
storages differ. The first call goes the whole way (tensor op -> IR node ->
plan -> compiled kernel); it leaves here the Program that ran and which
operand fed each of its input slots, so later calls allocate the output and
run the Program. The numbers are still computed by the same generated
kernel: this caches the dispatch, not results. Bounded, like the plan cache.
"""

from __future__ import annotations

from collections import OrderedDict

from lazyt import modes
from lazyt.dtypes import get_default_dtype
from lazyt.engine.program import ERROR_SLOT, is_recording
from lazyt.engine.realize import eager_program
from lazyt.engine.results import forget_results_in
from lazyt.ir.view import prod
from lazyt.runtime import stats
from lazyt.runtime.compiler import DEBUG_LEVEL
from lazyt.runtime.device import CPU
from lazyt.runtime.storage import Storage
from lazyt.tensor import Tensor

_LIMIT = 2048
_SCALARS = frozenset((int, float, bool))
_ENTRIES: OrderedDict = OrderedDict()


class _Entry:
    """What a hit needs: the Program, the operand index per input slot (-1:
    the output), and the output's dtype and view; `launch(out, operands)`:
    the Program's direct call (Program.direct_call), when it is one plain
    kernel."""

    __slots__ = ("program", "operands", "dtype", "view", "numel", "launch", "kernels")

    def __init__(self, program, operands: tuple, dtype, view):
        self.program = program
        self.operands = operands
        self.dtype = dtype
        self.view = view
        self.numel = prod(view.shape)
        self.kernels = program.kernels
        direct = program.direct_call()
        self.launch = None if direct is None else _launcher(
            direct[0], direct[1], direct[2], tuple(operands[slot] for slot in direct[3]))


def _launcher(function, pack, args_address, sources: tuple):
    """(out, operands) -> None: the kernel's direct call, given the
    addresses of the output (source -1) and of the operands' storages
    (source i: operands[i]) in the order the kernel takes them. The usual
    orders (the output, then one or two operands) get a function of their
    own: building the address list in a loop costs as much as the call."""
    if sources == (-1, 0):
        def launch(out, operands):
            function(pack(out.address, operands[0]._st.address), args_address)
    elif sources == (-1, 0, 1):
        def launch(out, operands):
            function(pack(out.address, operands[0]._st.address, operands[1]._st.address),
                     args_address)
    else:
        def launch(out, operands):
            function(pack(*[out.address if i < 0 else operands[i]._st.address for i in sources]),
                     args_address)
    return launch


def key_for(op: str, operands: tuple):
    """The cache key of an out-of-place op, or None when the op cannot use
    the cache (a scalar or pending operand, deferred mode, tracing)."""
    if modes.TRACING or modes.is_deferred():
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
        if st is None or st.writer is not None or st.device is not CPU or x._node is not None:
            return None
        # Which operands share memory is part of the kernel (x * x reads one buffer).
        if st in storages:
            parts += (st.dtype, x._vw, storages.index(st))
        else:
            parts += (st.dtype, x._vw, len(storages))
            storages.append(st)
    return tuple(parts)


def computed(key, operands: tuple, build, layout=None):
    """The tensor an out-of-place op computes: from the cache when `key` (from
    key_for, or None) was seen, else by building its node with `build()` and
    realising it (then remembered). `layout(node)` gives the result's dense
    strides (None: row-major)."""
    out = None if key is None else run_cached(key, operands)
    if out is None:  # (a second lookup after a caller's miss costs little: misses are rare)
        node = build()
        out = Tensor._from_node(node, strides=None if layout is None else layout(node))
        if key is not None:
            remember(key, operands, out, node)
    return out


def run_cached(key, operands: tuple):
    """The op's result tensor if key was seen before, else None."""
    entry = _ENTRIES.get(key)
    if entry is None:
        return None
    out = Storage.allocate(entry.dtype, entry.numel, CPU)
    # (scalar operands are in the Program's argument block already)
    _run(entry, operands, out)
    return Tensor._make(out, entry.view)


def run_inplace(key, operands: tuple) -> bool:
    """operands[0] = op(*operands) if key was seen before; False otherwise.
    Only when nothing pending could read the target's old value."""
    entry = _ENTRIES.get(key)
    if entry is None or modes.has_pending():
        return False
    target = operands[0]._st
    _run(entry, operands, target)
    target.version += 1
    forget_results_in(target)
    return True


def _run(entry: _Entry, operands: tuple, out: Storage) -> None:
    """Run the entry's Program with `out` as its output: its one kernel by
    its direct call unless it has none or launches are being recorded or
    timed."""
    counters = stats.COUNTERS
    if entry.launch is None or DEBUG_LEVEL[0] >= 2 or is_recording():
        entry.program.run([out if i < 0 else operands[i]._st for i in entry.operands])
    else:
        entry.launch(out, operands)
        counters["kernel_launches"] += 1
        counters["kernels"] += entry.kernels
    counters["cache_hits"] += 1
    counters["realizations"] += 1


def forget_all() -> None:
    """Drop every entry (lt.set_num_threads: an entry's direct call is one
    unsplit kernel call, decided for the thread count it was made under)."""
    _ENTRIES.clear()


def remember(key, operands: tuple, out, node) -> None:
    """After a first call that computed `node` into `out`: keep the Program
    that ran, with each of its input slots mapped to an operand."""
    if out._node is not None:
        return
    program, buffers = eager_program(node, out._st, out._vw)
    if program is None or any(ERROR_SLOT in launch.slots for launch in program.launches):
        return  # not one kernel over leaves, or a bounds-checked kernel
    owners = {id(out._st): -1}
    for i, x in enumerate(operands):
        if type(x) not in _SCALARS:
            if x._st is out._st and x._vw != out._vw:
                return  # an in-place op reading its target through another view
            owners.setdefault(id(x._st), i)
    try:
        slots = tuple(owners[id(b.storage)] for b in buffers)
    except KeyError:
        return  # the kernel reads a storage that is not an operand
    _ENTRIES[key] = _Entry(program, slots, out.dtype, out._vw)
    while len(_ENTRIES) > _LIMIT:
        _ENTRIES.popitem(last=False)
