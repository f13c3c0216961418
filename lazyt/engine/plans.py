"""Kernel nodes -> one-launch Programs, cached by graph signature (the plan cache).

Eager code repeats the same ops on the same shapes every step, and a
scheduled realisation runs the same kernels again and again; on a repeat
only the buffers change. So a kernel-ready node (or a horizontally fused
group of them) is keyed by its graph_signature; the first time it is
lowered (ir/plan.py), compiled by the backend and wrapped in a Program of
one launch whose inputs are the signature's buffers; later it just runs.
"""

from __future__ import annotations

from dataclasses import replace

from lazyt.engine.program import ERROR_SLOT, KernelLaunch, Program
from lazyt.engine.signature import graph_signature
from lazyt.engine.trace import REPLAY, TraceCache
from lazyt.ir.horizontal import merge_plans
from lazyt.ir.node import Node
from lazyt.ir.plan import kernel_work, lower_kernel
from lazyt.ir.view import View
from lazyt.runtime import stats
from lazyt.runtime.device import CPU

PLANS = TraceCache(4096, record_first=True)
# Plans lowered by compile_ahead for launches about to run: PLANS key ->
# (the steps' identities, plan). Emptied when those launches have run.
_LOWERED_AHEAD: dict = {}


def launch_of(backend, plan, slot_of: dict, work: int, kernels: int = 1) -> KernelLaunch:
    """The launch record of a lowered plan; slot_of maps id(Buffer) -> slot."""
    specs = plan.kernel.buffers
    return KernelLaunch(
        backend.compile(plan.kernel),
        tuple(ERROR_SLOT if b is None else slot_of[id(b)] for b in plan.buffers),
        tuple(spec.writes for spec in specs), tuple(plan.params), plan.outer,
        plan.kernel.parallel, work, tuple(plan.rng_slots), kernels,
        sum(spec.dtype.itemsize for spec in specs))


def program_for(backend, node: Node, out, view: View, count_hit: bool = True
                ) -> tuple[Program | None, list]:
    """(the one-launch Program computing kernel-ready `node` into buffer
    `out` through view, its input buffers). The Program is None when there
    is nothing to compute (an empty tensor)."""
    key, buffers = graph_signature((), ((node, out, view),))
    key, offset = _stream_free(key)
    if backend.device is not CPU:  # (the same graph on another device: other code)
        key = (str(backend.device), key)
    action, found = PLANS.lookup(key)
    if action == REPLAY:
        if count_hit:
            stats.bump("cache_hits")
        return _drawing_at(found, offset), buffers
    program = None
    plan = _lowered(key, ((id(node), id(out), view),), lambda: lower_kernel(node, out, view))
    if plan is not None:
        slot_of = {id(b): i for i, b in enumerate(buffers)}
        program = Program(backend, (launch_of(backend, plan, slot_of, kernel_work(node)),),
                          len(buffers))
    PLANS.store(key, None, _drawing_at(program, None if offset is None else -offset))
    return program, buffers


def _stream_free(key: tuple) -> tuple[tuple, int | None]:
    """(key without where random numbers are drawn from, that position). A
    random node's arg is (kind, seed, stream offset), and the offset moves on
    with every draw: keyed by it, a draw repeated every epoch (a DataLoader's
    shuffle) lowered and cached a new plan each time (the soak's plan cache
    grew all run long). The key keeps the offsets relative to the first
    (None: the graph draws none)."""
    parts = key[0]
    base = None
    for part in parts:
        if part[0] == "rand":
            base = part[3][2]
            break
    if base is None:
        return key, None
    parts = tuple(part[:3] + ((part[3][0], part[3][1], part[3][2] - base),) + part[4:]
                  if part[0] == "rand" else part for part in parts)
    return (parts,) + key[1:], base


def _drawing_at(program: Program | None, offset: int | None) -> Program | None:
    """program with its random-stream offsets moved by `offset` (None: as it
    is): the same launches, their offset arguments moved, no lowering. The
    plan cache keeps programs drawing from offset 0."""
    if not offset or program is None:
        return program
    launches = tuple(launch if not getattr(launch, "rng_slots", ()) else replace(
        launch, params=tuple(p + offset if i in launch.rng_slots else p
                             for i, p in enumerate(launch.params)))
        for launch in program.launches)
    return Program(program.backend, launches, program.n_inputs)


def _merged_plan(steps: list):
    plans = [lower_kernel(step.node, step.out, step.view) for step in steps]
    return merge_plans([p for p in plans if p is not None])


def _identities(steps: list) -> tuple:
    return tuple((id(step.node), id(step.out), step.view) for step in steps)


def _lowered(key, identities: tuple, lower):
    """The plan compile_ahead lowered for these very steps, else lower() now."""
    found = _LOWERED_AHEAD.pop(key, None)
    if found is not None and found[0] == identities:
        return found[1]
    return lower()


def _plan_key(backend, steps: list):
    """The PLANS key program_for / group_program_for look up for a launch."""
    if len(steps) == 1:
        step = steps[0]
        key, _ = graph_signature((), ((step.node, step.out, step.view),))
        key, _ = _stream_free(key)
        return key if backend.device is CPU else (str(backend.device), key)
    return _group_key(backend, steps)[0]


def _group_key(backend, steps: list) -> tuple:
    """(PLANS key, buffers, first slot per buffer id, first random draw) of
    several kernel steps run as one launch."""
    keys, buffers, offsets = [], [], []
    for step in steps:
        key, member_buffers = graph_signature((), ((step.node, step.out, step.view),))
        key, offset = _stream_free(key)
        keys.append(key)
        offsets.append(offset)
        buffers.extend(member_buffers)
    first: dict[int, int] = {}
    pattern = tuple(first.setdefault(id(b), k) for k, b in enumerate(buffers))
    drawn = [o for o in offsets if o is not None]  # (relative to the first draw)
    base = drawn[0] if drawn else None
    key = ("group", str(backend.device), tuple(keys), pattern,
           tuple(None if o is None else o - base for o in offsets))
    return key, buffers, first, base


def compile_ahead(backend, launches: list) -> None:
    """Before a schedule's launches run (each a list of kernel steps, externs
    excluded): lower those not in PLANS yet and have the backend compile
    their kernels together (runtime/compiler.compile_many compiles them on
    several threads). Each launch's program_for / group_program_for then
    takes its plan from here instead of lowering it again; release_ahead()
    drops what was not taken."""
    _LOWERED_AHEAD.clear()
    kernels = []
    for steps in launches:
        key = _plan_key(backend, steps)
        if key in _LOWERED_AHEAD:
            continue
        variants = PLANS.entries.get(key)
        if variants is not None and isinstance(variants.get(None), Program):
            continue
        plan = lower_kernel(steps[0].node, steps[0].out, steps[0].view) if len(steps) == 1 \
            else _merged_plan(steps)
        _LOWERED_AHEAD[key] = (_identities(steps), plan)
        if plan is not None:
            kernels.append(plan.kernel)
    if len(kernels) > 1:
        backend.compile_ahead(kernels)


def release_ahead() -> None:
    _LOWERED_AHEAD.clear()


def group_program_for(backend, steps: list) -> tuple[Program, list]:
    """(one Program running several kernel steps as one launch, their
    buffers): their loop nests one after another (ir/horizontal.py)."""
    key, buffers, first, base = _group_key(backend, steps)
    action, found = PLANS.lookup(key)
    if action == REPLAY:
        stats.bump("cache_hits")
        return _drawing_at(found, base), buffers
    plan = _lowered(key, _identities(steps), lambda: _merged_plan(steps))
    launch = launch_of(backend, plan, first, sum(kernel_work(step.node) for step in steps),
                       len(steps))
    program = Program(backend, (launch,), len(buffers))
    PLANS.store(key, None, _drawing_at(program, None if base is None else -base))
    return program, buffers
