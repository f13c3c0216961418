"""Programs on disk: a realised graph's recorded launches, kept across processes.

The realisation cache (engine/realize.py) records the Program a deferred
graph ran, keyed by the graph's signature (engine/signature.py), so the same
graph later replays with no scheduling, lowering or rendering. This file
keeps those Programs in the disk cache (runtime/disk_cache.py) too: a fresh
process that builds a graph it realised before (the warm-up and the traced
call of an `@lt.compile`d training step, say) loads the Program instead of
scheduling it, and its kernels' machine code from the kernel cache.

The guard is exactly the in-memory one: the graph signature (every node's op,
dtype, shape and argument, every buffer's view and aliasing). The key adds
what the Program also depends on: the host CPU, the lazyt and llvmlite
versions, the bounds-check mode and a fingerprint of lazyt's engine, IR,
codegen and runtime sources. A signature holding anything this file cannot
write down exactly is not stored. An entry is JSON (loading never runs code);
one that is corrupt, truncated or names a kernel this process cannot load is
ignored with a warning and scheduled as usual.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from contextlib import contextmanager

from lazyt.dtypes import dtype_from_name
from lazyt.engine.program import ExternLaunch, KernelLaunch, Program
from lazyt.ir.view import View
from lazyt.runtime import disk_cache, stats
from lazyt.runtime.checked import CHECK_BOUNDS

FORMAT = 2
_SUFFIX = ".prog"
_SOURCE_DIRS = ("engine", "ir", "codegen", "runtime")
_FINGERPRINT: list[bytes] = []


class _NotStorable(Exception):
    """A signature or Program holds something without an exact written form."""


# Depth of the callers asking for their realisations to be kept on disk
# (lt.compile's warm-up and traced calls); other deferred graphs are not
# written, so a long deferred session does not fill the directory.
_WANTED = [0]


@contextmanager
def persistent():
    """Within: realisations read from and write to the disk cache."""
    _WANTED[0] += 1
    try:
        yield
    finally:
        _WANTED[0] -= 1


def wanted() -> bool:
    return _WANTED[0] > 0 and disk_cache.enabled()


def _source_fingerprint() -> bytes:
    """Size and modification time of lazyt's engine, IR, codegen and runtime
    sources and dtypes.py (what turns a graph into a Program), computed once
    per process."""
    if not _FINGERPRINT:
        package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        h = hashlib.sha256()
        for sub in _SOURCE_DIRS:
            folder = os.path.join(package, sub)
            for name in sorted(os.listdir(folder)):
                if name.endswith(".py"):
                    st = os.stat(os.path.join(folder, name))
                    h.update(f"{sub}/{name}:{st.st_size}:{st.st_mtime_ns}\n".encode())
        st = os.stat(os.path.join(package, "dtypes.py"))
        h.update(f"dtypes.py:{st.st_size}:{st.st_mtime_ns}\n".encode())
        _FINGERPRINT.append(h.digest())
    return _FINGERPRINT[0]


def _write_key(value, out: list) -> None:
    """Append an exact, process-independent text of a signature part to out."""
    kind = type(value)
    if kind is tuple:
        out.append("(")
        for item in value:
            _write_key(item, out)
            out.append(",")
        out.append(")")
    elif kind is int or kind is bool or value is None:
        out.append(repr(value))
    elif kind is str:
        out.append(repr(value))
    elif kind is float:
        out.append("f" + value.hex())
    elif kind is View:
        out.append("V")
        _write_key((value.shape, value.strides, value.offset, value.mask), out)
    else:
        raise _NotStorable(kind.__name__)


def disk_key(signature) -> str | None:
    """The disk-cache key of a realisation signature, or None if it holds
    something without an exact text (such a graph is not stored)."""
    parts: list = []
    try:
        _write_key(signature, parts)
    except _NotStorable:
        return None
    h = hashlib.sha256("".join(parts).encode())
    h.update(b"\0program%d\0bounds%d\0" % (FORMAT, int(bool(CHECK_BOUNDS))))
    h.update(disk_cache.host_fingerprint())
    h.update(_source_fingerprint())
    return h.hexdigest()


def _view_json(view: View) -> list:
    return [list(view.shape), list(view.strides), view.offset,
            None if view.mask is None else [list(m) for m in view.mask]]


def _view_from(data) -> View:
    shape, strides, offset, mask = data
    return View(tuple(shape), tuple(strides), offset,
                None if mask is None else tuple(tuple(m) for m in mask))


def encode(program: Program, kept_positions: list = ()) -> bytes:
    """A Program over fresh and input slots (no static storages) as JSON;
    its outputs after the graph's roots are the results of the nodes at
    `kept_positions` (in graph-signature order) that its run keeps."""
    if program.static:
        raise _NotStorable("static storages")
    kernels: list = []
    kernel_index: dict[int, int] = {}
    launches = []
    for launch in program.launches:
        if isinstance(launch, ExternLaunch):
            launches.append(["extern", launch.op, launch.out, _view_json(launch.out_view),
                             [[slot, _view_json(view)] for slot, view in launch.sources]])
            continue
        kernel = launch.kernel
        compact = getattr(kernel, "compact", None)
        if compact is None:  # (a backend whose kernels cannot be reloaded from source)
            raise _NotStorable(type(kernel).__name__)
        if id(kernel) not in kernel_index:
            kernel_index[id(kernel)] = len(kernels)
            kernels.append([kernel.name, bool(compact), kernel.source])
        launches.append(["kernel", kernel_index[id(kernel)], list(launch.slots),
                         list(launch.writes), list(launch.params), launch.outer,
                         launch.parallel, launch.work, list(launch.rng_slots), launch.kernels,
                         launch.element_bytes])
    return json.dumps({
        "format": FORMAT, "n_inputs": program.n_inputs,
        "fresh": [[dtype.name, numel] for dtype, numel in program.fresh],
        "outputs": [[slot, _view_json(view)] for slot, view in program.outputs],
        "inputs_used": sorted(program.inputs_used),
        "inputs_written": sorted(program.inputs_written),
        "kept": list(kept_positions), "kernels": kernels, "launches": launches}, separators=(",", ":")).encode()


def decode(payload: bytes, backend) -> tuple[Program, list] | None:
    """(the Program an entry describes, its kept positions), its kernels
    loaded through the backend (None when one cannot be: its symbol is taken
    by other code here)."""
    data = json.loads(payload)
    if data["format"] != FORMAT:
        return None
    kernels = []
    for name, compact, source in data["kernels"]:
        kernel = backend.kernel_from_source(name, source, compact)
        if kernel is None:
            return None
        kernels.append(kernel)
    launches = []
    for record in data["launches"]:
        if record[0] == "extern":
            _, op, out, out_view, sources = record
            if op not in backend.externs:
                return None
            launches.append(ExternLaunch(op, out, _view_from(out_view), tuple(
                (slot, _view_from(view)) for slot, view in sources)))
            continue
        (_, index, slots, writes, params, outer, parallel, work, rng_slots, count,
         element_bytes) = record
        launches.append(KernelLaunch(kernels[index], tuple(slots), tuple(writes),
                                     tuple(params), outer, parallel, work, tuple(rng_slots),
                                     count, element_bytes))
    n_slots = data["n_inputs"] + len(data["fresh"])
    for launch in launches:
        if any(slot >= n_slots or slot < -1 for slot in launch.slots):
            raise ValueError(f"a launch reads slot {max(launch.slots)} of {n_slots}")
    program = Program(backend, launches, data["n_inputs"],
                      tuple((dtype_from_name(name), numel) for name, numel in data["fresh"]),
                      (), tuple((slot, _view_from(view)) for slot, view in data["outputs"]),
                      frozenset(data["inputs_used"]), frozenset(data["inputs_written"]))
    return program, [int(position) for position in data["kept"]]


def load(key: str, backend, n_inputs: int, n_roots: int, n_nodes: int
         ) -> tuple[Program, list] | None:
    """(the Program stored under key, the graph positions of its kept
    results) for a graph of `n_inputs` buffers, `n_roots` roots and `n_nodes`
    nodes, or None (absent, or unusable: then a warning says so and the
    caller schedules the graph as usual)."""
    disk_cache.flush(key)  # (an entry this process is still writing is read back whole)
    payload = disk_cache.load(key, _SUFFIX, on_broken=lambda why: _warn_broken(key, why))
    if payload is None:
        return None
    try:
        found = decode(payload, backend)
        if found is not None:
            program, kept = found
            if program.n_inputs != n_inputs or len(program.outputs) != n_roots + len(kept) \
                    or any(not 0 <= position < n_nodes for position in kept):
                raise ValueError("it does not fit this graph")
    except Exception as error:  # a corrupt entry must never break a computation
        _warn_broken(key, f"{type(error).__name__}: {error}")
        return None
    if found is not None:
        stats.bump("programs_loaded")
    return found


def _warn_broken(key: str, why: str) -> None:
    warnings.warn(f"lazyt: ignoring a broken program cache entry {key[:16]} ({why}); the "
                  "graph is scheduled again and the entry rewritten", RuntimeWarning,
                  stacklevel=4)


def store(key: str, program: Program, kept_positions: list = ()) -> None:
    """Keep a recorded Program under key (a Program this file cannot write
    down exactly is not kept)."""
    try:
        payload = encode(program, kept_positions)
    except _NotStorable:
        return
    disk_cache.store_later(key, payload, _SUFFIX)
