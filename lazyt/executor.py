"""Realisation: IR nodes -> kernels -> compiled code -> results in storage.

The one place where the layers meet: it asks ir/lower.py for a LaunchPlan,
codegen/llvm.py for its source, runtime/compiler.py for machine code (through
the in-memory kernel cache) and runtime/launch.py to run it. Tensor ops call
`realize_into` / `realize_new`; extern ops (BLAS matmul, sort) are counted
here too.
"""

from __future__ import annotations

import hashlib
import itertools
import time
import weakref
from collections import OrderedDict

from lazyt import modes, realize_cache
from lazyt.codegen.llvm import render_llvm
from lazyt.dtypes import DType
from lazyt.ir import lower, lower_rows
from lazyt.ir.horizontal import merge_plans
from lazyt.ir.node import Node, make_node, node_arg_key, walk
from lazyt.ir.schedule import Scheduler, group_steps
from lazyt.ir.view import View, apply_movement, prod
from lazyt.runtime import stats
from lazyt.runtime.compiler import CompiledKernel, KernelCache, compile_llvm, debug_level
from lazyt.runtime.device import CPU
from lazyt.runtime.launch import PARALLEL_MIN_WORK, launch
from lazyt.runtime.storage import Storage

KERNELS = KernelCache()

# lt.compile traces a function by recording every launch while it runs: a
# stack of lists (the innermost active trace records).
RECORDING: list[list] = []


_used_symbols: set[str] = set()
# Live compiled kernels by symbol: kernel IR that differs only in ways the
# code does not show (two equal renderings) shares one compiled kernel.
_by_symbol: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def compiled_for(plan: lower.LaunchPlan) -> CompiledKernel:
    kern = plan.kernel

    def build() -> CompiledKernel:
        # The symbol is derived from the kernel's code, so the same kernel has
        # the same source in every process (the disk cache's key). A kernel
        # compiled again after eviction gets a fresh name and skips the cache.
        generic = render_llvm(kern, "k")
        digest = hashlib.sha256(generic.encode()).hexdigest()[:20]
        symbol = f"{kern.name}_{digest}"
        same_code = _by_symbol.get(symbol)
        if same_code is not None and not same_code.released:
            return same_code
        fresh = symbol not in _used_symbols
        if not fresh:
            symbol = f"{symbol}_{next(_extra_symbols)}"
        _used_symbols.add(symbol)
        # The same text with the symbol in its three places (@k.body, @k).
        source = generic.replace("@k.body(", f"@{symbol}.body(").replace(
            "@k(", f"@{symbol}(")
        compiled = compile_llvm(source, symbol, use_disk_cache=fresh, compact=kern.compact)
        _by_symbol[symbol] = compiled
        return compiled

    return KERNELS.get(kern, build)


_extra_symbols = itertools.count()


def run(plan: lower.LaunchPlan | None, work: int,
        compiled: CompiledKernel | None = None, kernels: int = 1) -> None:
    """Launch a plan holding `kernels` scheduled kernels (several when
    horizontally fused): lt.debug.stats() counts both."""
    if plan is None:  # nothing to compute (an empty tensor)
        return
    stats.bump("kernels", kernels)
    if compiled is None:
        compiled = compiled_for(plan)
    start = time.perf_counter() if debug_level() >= 2 else 0.0
    if RECORDING:
        RECORDING[-1].append(("kernel", compiled, list(plan.buffers), list(plan.params),
                              plan.outer, plan.kernel.parallel, work, plan.rng_slots,
                              tuple(spec.writes for spec in plan.kernel.buffers)))
    launch(compiled.function, plan.buffers, plan.params, plan.outer, plan.kernel.parallel, work)
    if debug_level() >= 2:
        seconds = time.perf_counter() - start
        # Bytes moved, roughly: every buffer touched once per element of work.
        nbytes = work * sum(b.dtype.itemsize for b in plan.kernel.buffers)
        print(f"[lazyt] {plan.kernel.name}: {seconds * 1e3:.3f} ms, {work} elements, "
              f"~{nbytes / max(seconds, 1e-9) / 1e9:.1f} GB/s")


def plan_for(node: Node, out: Storage, view: View) -> lower.LaunchPlan | None:
    return plan_for_buffer(node, out.buffer, view)


def plan_for_buffer(node: Node, out, view: View) -> lower.LaunchPlan | None:
    """Lower one kernel-ready node writing into buffer `out` through view."""
    if node.op == "scan":
        return lower_rows.lower_scan(node, out, view)
    if node.op == "gather":
        return lower.lower_gather(node, out, view)
    if node.op == "reduce" or any(n.op == "reduce" for n in walk(node)):
        return lower_rows.lower_row(node, out, view)
    return lower.lower_elementwise(node, out, view)


def _work(node: Node) -> int:
    """Elements a kernel visits (the thread-split heuristic): the input of its
    reductions, else its output."""
    if node.op in ("reduce", "scan"):
        return prod(node.srcs[0].shape)
    reduces = [n for n in walk(node) if n.op == "reduce"]
    return prod(reduces[0].srcs[0].shape) if reduces else prod(node.shape)


class _PlanCache:
    """Exact launch plans of recent kernel nodes, keyed by structure + views.

    Eager code repeats the same ops on the same shapes every step; on a hit
    only the buffers change, so lowering (and hashing the kernel IR) is
    skipped. Bounded LRU."""

    def __init__(self, limit: int = 4096):
        self.entries: OrderedDict = OrderedDict()
        self.limit = limit

    @staticmethod
    def signature(node: Node, out_buffer, view: View) -> tuple[tuple, list]:
        """(hashable key, distinct buffers in order: out first)."""
        nodes = walk(node)
        position = {id(n): i for i, n in enumerate(nodes)}
        buffers = [out_buffer]
        slots = {id(out_buffer): 0}
        parts: list = [view]
        for n in nodes:
            if n.op == "load":
                buf, v = n.arg
                slot = slots.get(id(buf))
                if slot is None:
                    slot = slots[id(buf)] = len(buffers)
                    buffers.append(buf)
                parts.append(("load", n.dtype.name, slot, v))
            else:
                parts.append((n.op, n.dtype.name, n.shape, node_arg_key(n),
                               tuple(position[id(src)] for src in n.srcs)))
        return tuple(parts), buffers

    def get(self, key):
        entry = self.entries.get(key)
        if entry is not None:
            self.entries.move_to_end(key)
        return entry

    def put(self, key, entry) -> None:
        self.entries[key] = entry
        while len(self.entries) > self.limit:
            self.entries.popitem(last=False)


PLANS = _PlanCache()


def _run_kernel_node(node: Node, out: Storage, view: View) -> None:
    """One kernel (or extern call) whose inputs are all leaves."""
    if node.op == "extern":
        run_extern(node, out, view)
        return
    key, buffers = PLANS.signature(node, out.buffer, view)
    cached = PLANS.get(key)
    if cached is not None:
        plan, buffer_slots, compiled, work = cached
        plan = lower.LaunchPlan(plan.kernel, [None if s is None else buffers[s]
                                              for s in buffer_slots],
                                plan.params, plan.outer, plan.error_buffer, plan.rng_slots)
        stats.bump("cache_hits")
        run(plan, work, compiled)
        return
    plan = plan_for(node, out, view)
    work = _work(node)
    if plan is not None:
        slot_of = {id(b): i for i, b in enumerate(buffers)}
        compiled = compiled_for(plan)
        # The cached copy holds no buffers: it must not keep storage alive.
        template = lower.LaunchPlan(plan.kernel, [], plan.params, plan.outer,
                                    plan.error_buffer, plan.rng_slots)
        PLANS.put(key, (template, [None if b is None else slot_of[id(b)] for b in plan.buffers],
                        compiled, work))
        run(plan, work, compiled)


def _mergeable(step) -> bool:
    """Small kernels share a launch; one big enough to split across threads
    keeps its own."""
    return _work(step.node) < PARALLEL_MIN_WORK


def _run_group(group: list) -> None:
    """Several kernels in one launch (ir/horizontal.py), in step order."""
    keys, buffers = [], []
    for step in group:
        key, member_buffers = PLANS.signature(step.node, step.out, step.view)
        keys.append(key)
        buffers.extend(member_buffers)
    first = {}
    pattern = tuple(first.setdefault(id(b), k) for k, b in enumerate(buffers))
    key = ("group", tuple(keys), pattern)
    cached = PLANS.get(key)
    if cached is None:
        plans = [plan_for_buffer(step.node, step.out, step.view) for step in group]
        plan = merge_plans([p for p in plans if p is not None])
        slots = [None if b is None else first[id(b)] for b in plan.buffers]
        cached = (lower.LaunchPlan(plan.kernel, [], plan.params, plan.outer,
                                   plan.error_buffer, plan.rng_slots),
                  slots, compiled_for(plan), sum(_work(step.node) for step in group))
        PLANS.put(key, cached)
    else:
        stats.bump("cache_hits")
    template, slots, compiled, work = cached
    plan = lower.LaunchPlan(template.kernel, [None if s is None else buffers[s] for s in slots],
                            template.params, template.outer, template.error_buffer,
                            template.rng_slots)
    run(plan, work, compiled, len(group))


def plan_entry_for(node: Node, out) -> tuple | None:
    """The plan cache's entry for the eager kernel that computed `out` from
    node (None if node took the scheduler's way). For eager_cache.py."""
    if out._node is not None or not _is_kernel_ready(node):
        return None
    key, _ = PLANS.signature(node, out._st.buffer, out._vw)
    return PLANS.get(key)


def realize_into(node: Node, out: Storage, view: View) -> None:
    """Compute node into out's memory as seen through view (ASSIGN).

    Eager nodes are single kernels already; a deferred graph goes through the
    scheduler first."""
    stats.bump("realizations")
    if not modes.is_deferred() and _is_kernel_ready(node):
        _run_kernel_node(node, out, view)
        return
    scheduler = _scheduler()
    scheduler.assign(node, out.buffer, view)
    _execute(scheduler)


def _is_kernel_ready(node: Node) -> bool:
    """Eager-built nodes: one op over leaves (casts of leaves included)."""
    if node.op == "movement":
        return False
    for src in node.srcs:
        if src.op in ("movement", "reduce", "scan", "gather", "extern"):
            return False
        if src.op == "cast" and not _is_kernel_ready(src):
            return False
    return True


def realize_new(node: Node, device, strides: tuple[int, ...] | None = None
                ) -> tuple[Storage, View]:
    """Compute node into a fresh dense storage (contiguous unless strides are given)."""
    view = View.contiguous(node.shape) if strides is None else View(node.shape, strides, 0)
    out = Storage.allocate(node.dtype, prod(node.shape), device)
    realize_into(node, out, view)
    return out, view


# --------------------------------------------------------------- deferred mode
# Realised results of pending nodes, so graphs built before a realisation reuse
# it. Entries die with their node; a write to the storage drops them.
_REALIZED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _realized_lookup(node: Node) -> Node | None:
    tensor = _REALIZED.get(node)
    if tensor is None or tensor._node is not None:
        return None
    return make_node("load", node.dtype, node.shape, (), (tensor._st.buffer, tensor._vw))


class isolated_results:  # noqa: N801 - a context manager, like lt.no_grad
    """Within: realisations neither reuse nor keep results of other
    realisations (regions.py records graphs that must read only their own
    inputs); the cached results come back on exit."""

    def __enter__(self):
        global _REALIZED
        self.saved, _REALIZED = _REALIZED, weakref.WeakKeyDictionary()
        return self

    def __exit__(self, *exc):
        global _REALIZED
        _REALIZED = self.saved
        return False


def _scheduler() -> Scheduler:
    log = (lambda message: print(f"[lazyt] {message}")) if debug_level() >= 3 else None
    return Scheduler(_realized_lookup, log)


def _execute(scheduler: Scheduler) -> dict:
    """Run the scheduled steps in order; returns placeholder buffer -> Storage."""
    start = time.perf_counter()
    storages = {}
    launches = group_steps(scheduler.steps, _mergeable)
    if debug_level() >= 3 and len(launches) < len(scheduler.steps):
        for k, group in enumerate(launches):
            print(f"[lazyt] launch {k + 1}: " + ", ".join(
                f"{step.node.op} {list(step.view.shape)}" for step in group))
    for group in launches:
        for step in group:
            if step.out.storage is None:
                storage = Storage.allocate(step.dtype, prod(step.node.shape), CPU)
                storage.buffer = step.out
                step.out.storage = storage
                storages[id(step.out)] = storage
        if len(group) == 1:
            _run_kernel_node(group[0].node, group[0].out.storage, group[0].view)
        else:
            _run_group(group)
    if debug_level() >= 1 and modes.is_deferred():
        ms = (time.perf_counter() - start) * 1e3
        print(f"[lazyt] realize: {len(scheduler.steps)} kernels in {len(launches)} launches, "
              f"{ms:.2f} ms")
    # Keep boundary results (a matmul, a reduction) while their nodes live, so
    # a later realisation of a graph sharing them does not compute them again.
    from lazyt.tensor import Tensor

    for node, load in scheduler.materialized:
        if node.op != "load":
            buf, view = load.arg
            _REALIZED[node] = Tensor._make(buf.storage, view)
    return storages


def _peel_movements(node: Node) -> tuple[Node, tuple]:
    """(first non-movement node below node, the movements above it, in order)."""
    moves = []
    while node.op == "movement":
        moves.append(node.arg)
        node = node.srcs[0]
    return node, tuple(reversed(moves))


# ------------------------------------------------------------ deferred writes
# Tensors with a pending ASSIGN (in-place ops in deferred mode), in order.
# Such a tensor keeps its storage and view (the target) and reads as the
# graph of its new value (_node) until the write is carried out.
WRITERS: list = []


def loaded_buffers(node: Node) -> set[int]:
    """ids of the buffers a graph reads."""
    return {id(n.arg[0]) for n in walk(node) if n.op == "load"}


def _forget_realized(storages: set[int]) -> None:
    """Drop cached results that live in these storages (about to be overwritten)."""
    for node, tensor in list(_REALIZED.items()):
        if tensor._st is not None and id(tensor._st) in storages:
            del _REALIZED[node]


def forget_results_in(storage: Storage) -> None:
    """After an in-place write that did not go through flush_readers (the
    eager dispatch cache): deferred results cached in this storage are stale."""
    if _REALIZED:
        _forget_realized({id(storage)})


def is_writer(t) -> bool:
    return t._node is not None and t._st is not None


def defer_write(target, node: Node) -> bool:
    """Leave `target = node` pending (deferred mode). False when the write must
    happen now: a pending tensor other views were taken from."""
    if target._node is not None and target.__dict__.get("_write_epoch") != modes.EPOCH[0]:
        # Pending since before the last realisation (a parameter or momentum
        # updated every step while only the loss is read): compute it now, so
        # graphs do not grow from step to step.
        realize_tensors([target])
    if target._node is not None and target._st is None:  # a pending result
        if target._lazy_base is not None or target.__dict__.get("_has_lazy_views"):
            return False
        target._node = node
        return True
    storage = target._st
    target.__dict__["_write_epoch"] = modes.EPOCH[0]
    if target._node is None:
        if storage.writer is not None:  # one pending write per storage: the older goes first
            realize_tensors([storage.writer])
        storage.writer = target
        WRITERS.append(target)
        modes.track_pending(target)
    target._node = node
    storage.version += 1
    return True


def _with_pending_writes(tensors: list) -> tuple[list, list]:
    """(tensors to compute, writes to carry out). Every realisation carries out
    every pending write, so a training loop that reads only its loss still
    updates its parameters once per step (the graph of a step never grows into
    the next one); pending tensors that still read a value being overwritten
    are computed with it."""
    writers = [w for w in WRITERS if is_writer(w)]
    WRITERS.clear()
    if not writers:
        return tensors, []
    plain = [t for t in tensors if not is_writer(t)]
    targets = {id(w._st.buffer) for w in writers}
    reads_target = _reads_any(targets)
    plain += [t for t in modes.pending_tensors() if not is_writer(t) and reads_target(t._node)]
    return list({id(t): t for t in plain}.values()), writers


def pending_reads(buffers: set[int]) -> bool:
    """Does a pending tensor read one of these buffers (ids of Buffers)?"""
    reads = _reads_any(buffers)
    return any(reads(t._node) for t in modes.pending_tensors())


def _reads_any(buffers: set[int]):
    """A predicate: does a graph load one of these buffers? Answers are shared
    between graphs, so asking for every pending tensor is linear in the nodes."""
    memo: dict[int, bool] = {}

    def reads(root: Node) -> bool:
        for node in walk(root, stop=lambda n: id(n) in memo):
            if id(node) not in memo:
                memo[id(node)] = (id(node.arg[0]) in buffers if node.op == "load"
                                  else any(memo[id(src)] for src in node.srcs))
        return memo[id(root)]

    return reads


def _schedule_writes(scheduler: Scheduler, writers: list) -> None:
    """Append the ASSIGN steps: a write goes after every other write that reads
    its target; a cycle of such reads computes one value into a temporary."""
    roots, reads = {}, {}
    for w in writers:
        root = scheduler.kernel_root(w._node)
        if not lower.reads_only_what_it_writes(root, w._st.buffer, w._vw):
            # It reads its target elsewhere than where it writes: compute first.
            root = scheduler.materialize(w._node, "boundary: a write reading its target")
        roots[id(w)], reads[id(w)] = root, loaded_buffers(root)

    remaining = list(writers)
    copied: set[int] = set()
    while remaining:
        free = [k for k, w in enumerate(remaining) if not any(
            id(w._st.buffer) in reads[id(x)] for x in remaining if x is not w)]
        if not free:
            # A cycle: compute one value into a temporary first, so it reads no
            # target any more; its own write still waits for its readers.
            w = next(w for w in remaining if id(w) not in copied)
            copied.add(id(w))
            root = scheduler.materialize_fresh(w._node, "boundary: writes that read each other")
            roots[id(w)], reads[id(w)] = root, loaded_buffers(root)
            continue
        w = remaining.pop(free[0])
        scheduler.add_step(roots[id(w)], w._st.buffer, w._vw, w.dtype, "assign")


def _finish_writes(writers: list) -> None:
    _forget_realized({id(w._st) for w in writers})
    for w in writers:
        node, w._node = w._node, None
        w._st.writer = None
        _REALIZED[node] = w


def realize_tensors(tensors: list) -> None:
    """Realise pending tensors together: one schedule, shared boundaries.
    A graph of a structure realised before replays that schedule's launches
    (realize_cache.py)."""
    modes.EPOCH[0] += 1
    tensors, writers = _with_pending_writes(list({id(t): t for t in tensors}.values()))
    requested = [t for t in tensors if t._node is not None]
    found = None
    if not RECORDING and not modes.TRACING and all(t._lazy_base is None for t in requested):
        found = realize_cache.structure_key(
            [t._node for t in requested], [(w._node, w._st.buffer, w._vw) for w in writers],
            _realized_lookup if _REALIZED else None)
    if found is not None:
        program = realize_cache.lookup(found[0])
        if program is not None:
            start = time.perf_counter()
            results = program.run([b.storage for b in found[1]], launch, run_matmul_on)
            _finish_writes(writers)
            for t, (storage, view) in zip(requested, results):
                node, t._st, t._vw, t._node = t._node, storage, view, None
                _REALIZED[node] = t
            modes.pending_tensors()
            if debug_level() >= 1:
                print(f"[lazyt] realize: {program.kernels} kernels in "
                      f"{len(program.launches)} launches (a known graph: no scheduling), "
                      f"{(time.perf_counter() - start) * 1e3:.2f} ms")
            return
        RECORDING.append([])
        kernels_before = stats.COUNTERS.get("kernels", 0)
    try:
        _realize_scheduled(tensors, writers)
    finally:
        recording = RECORDING.pop() if found is not None else None
    if found is not None:
        realize_cache.store(found[0], found[1], recording, [(t._st, t._vw) for t in requested],
                            stats.COUNTERS.get("kernels", 0) - kernels_before)


def run_matmul_on(out: Storage, view: View, sources: list) -> None:
    from lazyt import linalg

    linalg.run_extern_matmul(out, view, *[linalg._array_view(s, v) for s, v in sources])


def _realize_scheduled(tensors: list, writers: list) -> None:
    scheduler = _scheduler()
    roots = []
    for t in tensors:
        if t._node is None or t._lazy_base is not None:
            continue  # views of pending tensors realise through their base, below
        node, moves = _peel_movements(t._node)
        if node.op in ("load", "const"):
            # A pending alias of a buffer (the clone of a realised tensor, say)
            # is copied as a whole, movements included.
            node, moves = t._node, ()
        roots.append((t, scheduler.materialize_fresh(node, "requested"), moves))
    _schedule_writes(scheduler, writers)
    _execute(scheduler)
    _finish_writes(writers)
    for t, load, moves in roots:
        buf, view = load.arg
        for kind, params in moves:  # movements over a fresh result stay views of it
            view = view and apply_movement(view, kind, params)
        node = t._node
        if view is None:
            copy = _scheduler()
            view = View.contiguous(node.shape)
            out = Storage.allocate(node.dtype, prod(node.shape), CPU)
            copy.assign(node, out.buffer, view)
            _execute(copy)
            t._st, t._vw, t._node = out, view, None
        else:
            t._st, t._vw, t._node = buf.storage, view, None
        _REALIZED[node] = t
    for t in tensors:
        if t._node is not None and t._lazy_base is not None:
            _realize_view(t)
    modes.pending_tensors()  # drops what this realised from the registry


def _realize_view(t) -> None:
    """A pending view of a pending base becomes a real view of the realised base."""
    base = t._lazy_base
    base.realize()
    view = base._vw
    for kind, params in t._lazy_moves:
        view = apply_movement(view, kind, params)
        if view is None:  # cannot happen for moves recorded as views; compute instead
            break
    if view is None:
        t._lazy_base = None
        realize_tensors([t])
        return
    t._st, t._vw, t._node, t._lazy_base, t._lazy_moves = base._st, view, None, None, ()


def flush_readers(storage: Storage) -> None:
    """Before an in-place write: realise pending tensors that read storage, and
    forget realised nodes that alias it (their values are about to change)."""
    buf = id(storage.buffer)
    readers = [t for t in modes.pending_tensors() if buf in loaded_buffers(t._node)]
    if storage.writer is not None:
        readers.append(storage.writer)
    if readers:
        realize_tensors(readers)
    _forget_realized({id(storage)})


def scatter_into(dst: Storage, dst_view: View, values: Node, index_nodes: list[Node],
                 mapping: tuple, accumulate: str | None) -> None:
    stats.bump("realizations")
    flush_readers(dst)
    if not _is_kernel_ready(values):  # a pending graph (deferred mode): compute it first
        storage, view = realize_new(values, CPU)
        values = make_node("load", values.dtype, values.shape, (), (storage.buffer, view))
    plan = lower.lower_scatter(dst.buffer, dst.dtype, dst_view, values, index_nodes,
                               mapping, accumulate)
    run(plan, prod(values.shape))


def nonzero_into(mask: Node, out: Storage) -> None:
    stats.bump("realizations")
    run(lower.lower_nonzero(mask, out.buffer), prod(mask.shape))


def run_extern(node: Node, out: Storage, view: View) -> None:
    """Extern ops: their inputs are realised loads, their code is a library's."""
    from lazyt import linalg

    if node.arg == "matmul":
        if RECORDING:
            RECORDING[-1].append(("matmul", out.buffer, view,
                                  [src.arg for src in node.srcs]))
        a, b = (linalg.array_of_load(src) for src in node.srcs)
        linalg.run_extern_matmul(out, view, a, b)
        return
    raise AssertionError(f"unknown extern op {node.arg}")


def count_extern(name: str, dtype: DType) -> None:
    stats.bump("extern_calls")
    if debug_level() >= 2:
        print(f"[lazyt] extern {name} ({dtype.name})")
