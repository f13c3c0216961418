"""Realisation: IR nodes in, (Storage, View) results out.

The engine's entry points. The frontend (tensor.py, the op modules,
realization.py) hands it nodes and the storages/views to write; it never
sees a Tensor. An eager node is one kernel: it runs through the plan cache
(engine/plans.py). A deferred graph goes through the scheduler
(ir/schedule.py), which cuts it into kernel steps; small steps between two
matmuls share a launch (ir/horizontal.py). A graph whose signature was
realised before replays the Program recorded that first time, with no
scheduling (the realisation cache, a TraceCache that records on first
sight). Every launch is a Program run (engine/program.py) on the device's
backend.
"""

from __future__ import annotations

import time

from lazyt.engine import plans, program_store, results
from lazyt.engine.program import ExternLaunch, Program, pass_on_recording, recording
from lazyt.engine.signature import graph_signature
from lazyt.engine.trace import REPLAY, TraceCache
from lazyt.ir import lower
from lazyt.ir.node import Node, make_node, reachable, walk
from lazyt.ir.plan import kernel_work, lower_kernel
from lazyt.ir.schedule import Scheduler, group_steps
from lazyt.ir.view import View, apply_movement, prod
from lazyt.runtime import stats
from lazyt.runtime.compiler import debug_level
from lazyt.runtime.cpu import CPUBackend
from lazyt.runtime.cuda import CudaBackend
from lazyt.runtime.device import CPU, CREATION_DEVICE, CUDA_USED, mixed_devices_error
from lazyt.runtime.launch import PARALLEL_MIN_WORK
from lazyt.runtime.storage import Storage


def render_llvm(kernel, *args, **kwargs):
    """codegen/llvm.render_llvm, its module loaded with the first kernel
    compiled rather than at import (it and llvmlite are most of the engine's
    import time)."""
    from lazyt.codegen.llvm import render_llvm as render  # (lazy: see the docstring)
    return render(kernel, *args, **kwargs)


CPU_BACKEND = CPUBackend(render_llvm)
MAX_MERGED_KERNEL_NODES = 64  # IR nodes of a kernel that may share a launch
# Deferred graphs realised before: signature -> the Program recorded then
# (with the positions of the boundary results it keeps). A training step
# realises a few dozen graphs (its cuts at MAX_PENDING_DEPTH, in-place
# writes autograd records, the optimizer step): the bound holds several
# such steps, as a cache smaller than one step would schedule every graph
# of every step again.
REALIZATIONS = TraceCache(256, record_first=True)


_CUDA_BACKENDS: dict = {}


def backend_for(device):
    """The backend computing on a device: the CPU's, or one CUDA backend per
    GPU (made on first use)."""
    if device is CPU or device.type == "cpu":
        return CPU_BACKEND
    found = _CUDA_BACKENDS.get(device.index)
    if found is None:
        from lazyt.codegen.cuda import render_cuda  # (CUDA code loads with the first GPU used)
        from lazyt.codegen.cuda_matmul import render_matmul  # (likewise)
        found = _CUDA_BACKENDS[device.index] = CudaBackend(device, render_cuda, render_matmul)
    return found


def graph_device(nodes, default=CPU):
    """The one device every buffer the graphs read lives on (`default` when
    they read none: constants, random numbers); PyTorch's RuntimeError when
    they read two. Only called once a CUDA storage exists."""
    found = None
    for node in reachable(nodes):
        if node.op == "load":
            dev = node.arg[0].storage.device
            if found is None:
                found = dev
            elif dev != found:
                raise mixed_devices_error(*sorted((found, dev), key=lambda d: d.type != "cuda"))
    return default if found is None else found


def recording_backend(entries: list):
    """The backend a recording's launches ran on, or None when they ran on
    two devices (such a recording is not replayed)."""
    found = None
    for _, storages in entries:
        for storage in storages:
            if found is None:
                found = storage.device
            elif storage.device != found:
                return None
    return backend_for(CPU if found is None else found)


# --------------------------------------------------------------- eager nodes
def realize_into(node: Node, out: Storage, view: View, graph: bool = False) -> None:
    """Compute node into out's memory as seen through view.

    Eager nodes are single kernels already; a graph (`graph`: built in
    deferred mode) goes through the scheduler first."""
    stats.bump("realizations")
    backend = CPU_BACKEND
    if CUDA_USED[0]:
        backend = backend_for(graph_device([node], out.device))
        if backend.device != out.device:
            raise mixed_devices_error(*sorted((backend.device, out.device),
                                              key=lambda d: d.type != "cuda"))
    if not graph and is_kernel_ready(node):
        _run_kernel_node(node, out, view, backend)
        return
    scheduler = _scheduler()
    scheduler.assign(node, out.buffer, view)
    _execute(scheduler, backend)


def realize_new(node: Node, device, strides: tuple[int, ...] | None = None
                ) -> tuple[Storage, View]:
    """Compute node into a fresh dense storage (contiguous unless strides are given)."""
    view = View.contiguous(node.shape) if strides is None else View(node.shape, strides, 0)
    if CUDA_USED[0]:
        device = graph_device([node], device)
    out = backend_for(device).allocate(node.dtype, prod(node.shape))
    realize_into(node, out, view)
    return out, view


def is_kernel_ready(node: Node) -> bool:
    """One op over leaves (casts of leaves included), as eager mode builds
    them. A source still pending (a deferred tensor's graph: exp(x.t()) read
    by an eager op, as a gradient rule does after a deferred forward) makes
    it a graph for the scheduler."""
    if node.op == "movement":
        return False
    pending = [node]
    while pending:  # (through casts of casts, iteratively)
        for src in pending.pop().srcs:
            if src.op == "cast":
                pending.append(src)
            elif src.op not in lower.LEAF_OPS and src.op != "const":
                return False
    return True


def _run_kernel_node(node: Node, out: Storage, view: View, backend=CPU_BACKEND) -> None:
    """One kernel (or extern call) whose inputs are all leaves."""
    if node.op == "extern":
        run_extern(node, out, view)
        return
    program, buffers = plans.program_for(backend, node, out.buffer, view)
    if program is not None:
        program.run([b.storage for b in buffers])


def eager_program(node: Node, out: Storage, view: View) -> tuple[Program | None, list]:
    """The cached Program that computed kernel-ready node into out (None if
    node is not kernel-ready), with its input buffers: the eager dispatch
    cache keeps it."""
    if not is_kernel_ready(node) or node.op == "extern":
        return None, []
    return plans.program_for(CPU_BACKEND, node, out.buffer, view, count_hit=False)


def run_extern(node: Node, out: Storage, view: View) -> None:
    """Extern ops: their inputs are realised loads, their code is a library's
    (on the GPU, a matmul may carry its consumer's epilogue: arg ("matmul",
    epilogue), codegen/cuda_epilogue.py)."""
    op, epilogue = (node.arg, None) if isinstance(node.arg, str) else node.arg
    assert op == "matmul", f"unknown extern op {op}"
    sources = [src.arg for src in node.srcs]
    run_matmul(out, view, [(buf.storage, v) for buf, v in sources], epilogue)


def run_matmul(out: Storage, view: View, sources: list, epilogue=None) -> None:
    """out (through view) = the matmul of two realised (Storage, View)
    operands, as a one-launch Program (so recordings see it)."""
    if CUDA_USED[0]:
        for storage, _ in sources:
            if storage.device != out.device:
                raise mixed_devices_error(*sorted((storage.device, out.device),
                                                  key=lambda d: d.type != "cuda"))
    backend = backend_for(out.device)
    # The one-launch Program of these views is kept in the plan cache: a
    # repeated eager matmul skips building and preparing it.
    key = ("matmul", view, sources[0][1], sources[1][1])
    if backend is not CPU_BACKEND:  # (only the GPU's matmul carries an epilogue)
        key = (str(backend.device), key, epilogue)
    action, program = plans.PLANS.lookup(key)
    if action != REPLAY:
        launch = ExternLaunch("matmul", 0, view, tuple((k + 1, v) for k, (_, v) in
                                                       enumerate(sources)), epilogue)
        program = Program(backend, (launch,), 1 + len(sources))
        plans.PLANS.store(key, None, program)
    program.run([out, *(st for st, _ in sources)])


def run_lowered(plan, work: int) -> None:
    """Run a plan lowered outside the scheduler (scatter, nonzero) once."""
    if plan is None:
        return
    buffers = list({id(b): b for b in plan.buffers if b is not None}.values())
    slot_of = {id(b): i for i, b in enumerate(buffers)}
    backend = backend_for(buffers[0].storage.device) if CUDA_USED[0] else CPU_BACKEND
    launch = plans.launch_of(backend, plan, slot_of, work)
    Program(backend, (launch,), len(buffers)).run([b.storage for b in buffers])


def scatter_into(dst: Storage, dst_view: View, values: Node, index_nodes: list[Node],
                 mapping: tuple, accumulate: str | None) -> None:
    """dst[indices] = values (or += with accumulate): see ir/lower.lower_scatter."""
    stats.bump("realizations")
    if not is_kernel_ready(values):  # a pending graph (deferred mode): compute it first
        storage, view = realize_new(values, dst.device)
        values = make_node("load", values.dtype, values.shape, (), (storage.buffer, view))
    plan = lower.lower_scatter(dst.buffer, dst.dtype, dst_view, values, index_nodes,
                               mapping, accumulate)
    run_lowered(plan, prod(values.shape))


def nonzero_into(mask: Node, out: Storage) -> None:
    stats.bump("realizations")
    run_lowered(lower.lower_nonzero(mask, out.buffer), prod(mask.shape))


# ------------------------------------------------------------ deferred graphs
def realize_graph(roots: list[Node], writes: list[tuple], cacheable: bool,
                  layouts: list | None = None) -> list[tuple]:
    """Compute `roots` into fresh storages and carry out `writes` ((node,
    target Buffer, target View) each), as one schedule; the (Storage, View)
    of each root (a root that is a movement of a computed node is a view
    of that node's storage). `layouts` gives per root the dense strides its
    storage is written in (None: contiguous), the layout eager mode would
    give it. A graph of a signature realised before replays its recorded
    Program (when `cacheable`)."""
    layouts = [None] * len(roots) if layouts is None else list(layouts)
    backend = CPU_BACKEND
    if CUDA_USED[0]:
        default = CREATION_DEVICE[-1] if CREATION_DEVICE else CPU
        devices = {graph_device([node], default) for node in roots}
        devices |= {buf.storage.device for _, buf, _ in writes}
        devices |= {graph_device([node], buf.storage.device) for node, buf, _ in writes}
        if len(devices) > 1:
            raise mixed_devices_error(*sorted(devices, key=lambda d: d.type != "cuda")[:2])
        backend = backend_for(devices.pop() if devices else CPU)
    if not cacheable:
        if backend is CPU_BACKEND and program_store.wanted():
            return _realize_through_program_store(roots, writes, layouts, backend)
        return _realize_scheduled(roots, writes, layouts, backend)
    nodes: list[Node] = []
    key, buffers = graph_signature(roots, writes,
                                   results.value_of if results.any_kept() else None, nodes)
    key = (key, tuple(layouts))
    if backend is not CPU_BACKEND:
        key = (str(backend.device), key)
    action, found = REALIZATIONS.lookup(key)
    if action == REPLAY:
        start = time.perf_counter()
        program, _ = found
        outs = _replay(found, nodes, buffers, writes, roots)
        if debug_level() >= 1:
            print(f"[lazyt] realize: {program.kernels} kernels in {len(program.launches)} "
                  f"launches (a known graph: no scheduling), "
                  f"{(time.perf_counter() - start) * 1e3:.2f} ms")
        return outs
    stats.bump("graphs_scheduled")
    outs, _, recorded = _schedule_and_record(roots, writes, layouts, backend, nodes, buffers)
    REALIZATIONS.store(key, None, recorded)
    return outs


def _replay(recorded: tuple, nodes: list[Node], buffers: list, writes: list[tuple],
            roots: list[Node]) -> list[tuple]:
    """Run a recorded (Program, kept positions) on this graph's buffers; it
    keeps the same intermediate results the scheduled run kept."""
    program, kept_positions = recorded
    outs = program.run([b.storage for b in buffers])
    _remember_results(nodes, zip(kept_positions, outs[len(roots):]), writes, roots, outs)
    return outs[:len(roots)]


def _schedule_and_record(roots: list[Node], writes: list[tuple], layouts: list, backend,
                         nodes: list[Node], buffers: list) -> tuple:
    """Schedule and run the graph, recording its launches; (outs, the
    recording's entries, (Program, kept positions) or None). The boundary results of the graph's
    own nodes (a matmul, a reduction) are kept for later graphs that share
    them, and the Program outputs them too, so a replay keeps the same ones:
    the graphs built after a replay are those built after this run (so their
    signatures, and the programs they replay, are the same)."""
    boundaries: list = []
    with recording() as entries:
        outs = _realize_scheduled(roots, writes, layouts, backend, boundaries)
    position_of = {id(node): k for k, node in enumerate(nodes)}
    written = {id(storages[slot]) for launches, storages in entries for launch in launches
               for slot, wrote in zip(launch.slots, launch.writes) if wrote and slot >= 0}
    kept = [(position_of[id(node)], storage, view) for node, storage, view in boundaries
            if id(node) in position_of and id(storage) in written]
    _remember_results(nodes, [(position, (storage, view)) for position, storage, view in kept],
                      writes, roots, outs)
    program = Program.from_recording(backend, entries, [b.storage for b in buffers],
                                     outs + [(storage, view) for _, storage, view in kept])
    return outs, entries, (None if program is None else
                           (program, tuple(position for position, _, _ in kept)))


def _remember_results(nodes: list[Node], kept, writes: list[tuple], roots: list[Node],
                      outs: list) -> None:
    """After a realisation: remember its kept boundary results ((position in
    `nodes`, (Storage, View)) each), then the written values, then the roots'
    values (a later one wins where a node is several of these)."""
    for position, (storage, view) in kept:
        results.remember(nodes[position], storage, view)
    _finish_writes(writes)
    for root, (storage, view) in zip(roots, outs):
        results.remember(root, storage, view)


def _realize_through_program_store(roots: list[Node], writes: list[tuple], layouts: list,
                                   backend) -> list[tuple]:
    """realize_graph for lt.compile's calls: the Program a previous process
    recorded for this graph signature (engine/program_store.py) replays with
    no scheduling, keeping the intermediate results a scheduled run keeps (so
    the graphs built after it have the same signatures in every process);
    otherwise the graph is scheduled, its recording is kept on disk and handed
    on to the enclosing recording (lt.compile's trace)."""
    nodes: list[Node] = []
    key, buffers = graph_signature(roots, writes,
                                   results.value_of if results.any_kept() else None, nodes)
    stored_key = program_store.disk_key((key, tuple(layouts)))
    found = None if stored_key is None else program_store.load(
        stored_key, backend, len(buffers), len(roots), len(nodes))
    if found is not None:
        return _replay(found, nodes, buffers, writes, roots)
    stats.bump("graphs_scheduled")
    if stored_key is None:
        return _realize_scheduled(roots, writes, layouts, backend)
    outs, entries, recorded = _schedule_and_record(roots, writes, layouts, backend, nodes,
                                                   buffers)
    pass_on_recording(entries)
    if recorded is not None:
        program_store.store(stored_key, *recorded)
    return outs


def _realize_scheduled(roots: list[Node], writes: list[tuple], layouts: list,
                       backend=CPU_BACKEND, boundaries: list | None = None) -> list[tuple]:
    """Schedule and run; `boundaries` (when given) collects the (node,
    Storage, View) of the boundary results instead of remembering them."""
    scheduler = _scheduler()
    scheduler.know_readers([*roots, *(node for node, _, _ in writes)])
    loads = []
    for root, strides in zip(roots, layouts):
        node, moves = peel_movements(root)
        if node.op in ("load", "const") or (moves and strides is not None):
            # A pending alias of a buffer (the clone of a realised tensor, say)
            # is copied as a whole, movements included; so is a result laid
            # out like a permuted operand, straight into that layout.
            node, moves = root, ()
        loads.append((scheduler.materialize_fresh(node, "requested", strides), moves))
    _schedule_writes(scheduler, writes)
    _execute(scheduler, backend, boundaries)
    _finish_writes(writes)
    outs = []
    for root, (load, moves), strides in zip(roots, loads, layouts):
        buf, view = load.arg
        for kind, params in moves:  # movements over a fresh result stay views of it
            view = view and apply_movement(view, kind, params)
        if view is None or (strides is None and not view.is_contiguous()):
            # A result is dense, as eager mode makes it (x.expand(...).contiguous()
            # must not come back with stride 0): copy it into its own buffer,
            # from the value just computed (the writes carried out since may
            # have changed what the root's graph reads).
            copy = _scheduler()
            view = View.contiguous(root.shape)
            storage = backend.allocate(root.dtype, prod(root.shape))
            copy.assign(_moved(load, moves), storage.buffer, view)
            _execute(copy, backend)
        else:
            storage = buf.storage
        results.remember(root, storage, view)
        outs.append((storage, view))
    return outs


def _moved(node: Node, moves: tuple) -> Node:
    """node with the movements applied (as nodes, for a kernel to read)."""
    for kind, params in moves:
        shape = apply_movement(View.contiguous(node.shape), kind, params).shape
        node = make_node("movement", node.dtype, shape, (node,), (kind, params))
    return node


def _finish_writes(writes: list[tuple]) -> None:
    """After writes were carried out: results cached in their targets are
    stale; each written node's value now sits in its target."""
    if not writes:
        return
    results.forget_in({id(buf.storage) for _, buf, _ in writes})
    for node, buf, view in writes:
        results.remember(node, buf.storage, view)


def peel_movements(node: Node) -> tuple[Node, tuple]:
    """(first non-movement node below node, the movements above it, in order)."""
    moves = []
    while node.op == "movement":
        moves.append(node.arg)
        node = node.srcs[0]
    return node, tuple(reversed(moves))


def loaded_buffers(node: Node) -> set[int]:
    """ids of the buffers a graph reads."""
    return {id(n.arg[0]) for n in walk(node) if n.op == "load"}


def _schedule_writes(scheduler: Scheduler, writes: list[tuple]) -> None:
    """Append the ASSIGN steps: a write goes after every other write that reads
    its target; a cycle of such reads computes one value into a temporary."""
    roots, reads = {}, {}
    for k, (node, buf, view) in enumerate(writes):
        root = scheduler.kernel_root(node)
        if not lower.reads_only_what_it_writes(root, buf, view):
            # It reads its target elsewhere than where it writes: compute first.
            root = scheduler.materialize(node, "boundary: a write reading its target")
        roots[k], reads[k] = root, loaded_buffers(root)

    remaining = list(range(len(writes)))
    copied: set[int] = set()
    while remaining:
        free = [i for i, k in enumerate(remaining) if not any(
            id(writes[k][1]) in reads[x] for x in remaining if x != k)]
        if not free:
            # A cycle: compute one value into a temporary first, so it reads no
            # target any more; its own write still waits for its readers.
            k = next(k for k in remaining if k not in copied)
            copied.add(k)
            root = scheduler.materialize_fresh(writes[k][0],
                                               "boundary: writes that read each other")
            roots[k], reads[k] = root, loaded_buffers(root)
            continue
        k = remaining.pop(free[0])
        node, buf, view = writes[k]
        scheduler.add_step(roots[k], buf, view, node.dtype, "assign")


def _scheduler() -> Scheduler:
    log = (lambda message: print(f"[lazyt] {message}")) if debug_level() >= 3 else None
    return Scheduler(results.lookup, log)


def _mergeable(step) -> bool:
    """Small kernels share a launch; one big enough to split across threads
    keeps its own, and so does one with a large expression (merged, its code
    would be compiled again inside every merge; alone, repeated chunks of a
    long chain share one compiled kernel)."""
    return kernel_work(step.node) < PARALLEL_MIN_WORK and \
        len(walk(step.node)) <= MAX_MERGED_KERNEL_NODES


def _execute(scheduler: Scheduler, backend=CPU_BACKEND, boundaries: list | None = None) -> None:
    """Run the scheduled steps in order, allocating their fresh buffers. (The
    CUDA backend launches each kernel on its own: a merged launch would run
    its loop nests one after another in one GPU thread.) Boundary results
    are remembered (results.py), or collected into `boundaries`."""
    start = time.perf_counter()
    if backend is not CPU_BACKEND:  # (the GPU's matmul applies its consumer as an epilogue)
        from lazyt.codegen.cuda_epilogue import fuse_matmul_epilogues  # (loads with the GPU)
        fuse_matmul_epilogues(scheduler)
    launches = group_steps(scheduler.steps,
                           _mergeable if backend is CPU_BACKEND else lambda step: False)
    if debug_level() >= 3 and len(launches) < len(scheduler.steps):
        for k, group in enumerate(launches):
            print(f"[lazyt] launch {k + 1}: " + ", ".join(
                f"{step.node.op} {list(step.view.shape)}" for step in group))
    if backend is CPU_BACKEND:  # (the new kernels of all launches compile together)
        plans.compile_ahead(backend, [group for group in launches
                                      if len(group) > 1 or group[0].node.op != "extern"])
    try:
        _run_launches(launches, backend)
    finally:
        plans.release_ahead()
    if debug_level() >= 1:
        ms = (time.perf_counter() - start) * 1e3
        print(f"[lazyt] realize: {len(scheduler.steps)} kernels in {len(launches)} launches, "
              f"{ms:.2f} ms")
    # Keep boundary results (a matmul, a reduction) while their nodes live, so
    # a later realisation of a graph sharing them does not compute them again.
    for node, load in scheduler.materialized:
        if node.op != "load":
            buf, view = load.arg
            if boundaries is None:
                results.remember(node, buf.storage, view)
            else:
                boundaries.append((node, buf.storage, view))


def _run_launches(launches: list, backend) -> None:
    """Run grouped kernel steps in order, allocating their fresh buffers."""
    for group in launches:
        for step in group:
            if step.out.storage is None:
                storage = backend.allocate(step.dtype, prod(step.node.shape))
                storage.buffer = step.out
                step.out.storage = storage
        if len(group) == 1:
            _run_kernel_node(group[0].node, group[0].out.storage, group[0].view, backend)
        else:
            program, buffers = plans.group_program_for(backend, group)
            program.run([b.storage for b in buffers])


def scheduled_kernels(node: Node) -> list[tuple[str, str]]:
    """(name, LLVM IR) of the kernels that would compute node, scheduled
    but not run (lt.debug.kernels)."""
    scheduler = _scheduler()
    root = peel_movements(node)[0]
    scheduler.know_readers([root])  # (as a realisation of it does)
    scheduler.materialize(root, "requested")
    out = []
    for step in scheduler.steps:
        if step.node.op == "extern":
            out.append((f"extern {step.node.arg}", "(BLAS call, no generated code)"))
            continue
        plan = lower_kernel(step.node, step.out, step.view)
        if plan is not None:
            out.append((plan.kernel.name, render_llvm(plan.kernel)))
    return out

