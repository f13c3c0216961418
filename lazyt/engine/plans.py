"""Kernel nodes -> one-launch Programs, cached by graph signature (the plan cache).

Eager code repeats the same ops on the same shapes every step, and a
scheduled realisation runs the same kernels again and again; on a repeat
only the buffers change. So a kernel-ready node (or a horizontally fused
group of them) is keyed by its graph_signature; the first time it is
lowered (ir/plan.py), compiled by the backend and wrapped in a Program of
one launch whose inputs are the signature's buffers; later it just runs.
"""

from __future__ import annotations

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
    if backend.device is not CPU:  # (the same graph on another device: other code)
        key = (str(backend.device), key)
    action, program = PLANS.lookup(key)
    if action == REPLAY:
        if count_hit:
            stats.bump("cache_hits")
        return program, buffers
    plan = lower_kernel(node, out, view)
    if plan is not None:
        slot_of = {id(b): i for i, b in enumerate(buffers)}
        program = Program(backend, (launch_of(backend, plan, slot_of, kernel_work(node)),),
                          len(buffers))
    PLANS.store(key, None, program)
    return program, buffers


def group_program_for(backend, steps: list) -> tuple[Program, list]:
    """(one Program running several kernel steps as one launch, their
    buffers): their loop nests one after another (ir/horizontal.py)."""
    keys, buffers = [], []
    for step in steps:
        key, member_buffers = graph_signature((), ((step.node, step.out, step.view),))
        keys.append(key)
        buffers.extend(member_buffers)
    first: dict[int, int] = {}
    pattern = tuple(first.setdefault(id(b), k) for k, b in enumerate(buffers))
    key = ("group", str(backend.device), tuple(keys), pattern)
    action, program = PLANS.lookup(key)
    if action == REPLAY:
        stats.bump("cache_hits")
        return program, buffers
    plans = [lower_kernel(step.node, step.out, step.view) for step in steps]
    plan = merge_plans([p for p in plans if p is not None])
    launch = launch_of(backend, plan, first, sum(kernel_work(step.node) for step in steps),
                       len(steps))
    program = Program(backend, (launch,), len(buffers))
    PLANS.store(key, None, program)
    return program, buffers
