"""Horizontal fusion: several small kernels of one schedule in one launch.

After the scheduler has fused what reads what (vertical fusion), a training
step still has independent small kernels: one update per parameter, the
bias gradients, the loss. Each launch costs more than such a kernel's work,
so consecutive kernels between two extern calls run as one function whose
body is their loop nests one after the other. Sequential nests keep the
order of the steps exactly, so any dependency between them is respected;
the merged launch runs on one thread (only kernels too small to split are
merged, see engine/realize.py).

`merge_plans` renumbers each member's buffers, params, loop variables and
accumulators into one Kernel; the result is an ordinary LaunchPlan.
"""

from __future__ import annotations

from lazyt import dtypes
from lazyt.ir import kernel as K
from lazyt.ir.lower import LaunchPlan


def merge_plans(plans: list[LaunchPlan]) -> LaunchPlan:
    """One LaunchPlan running `plans` in order (nests one after another)."""
    buffers: list = []
    buffer_dtypes: list = []
    writes: list[bool] = []
    params: list[int] = [0, 1]  # the merged kernel's own (unused) outer range
    rng_slots: list[int] = []
    error_slot: int | None = None
    body: list[K.Stmt] = []
    for member, plan in enumerate(plans):
        slot_map = []
        for buf, spec in zip(plan.buffers, plan.kernel.buffers):
            if buf is None:  # the bounds-error buffer: one for the whole launch
                if error_slot is None:
                    error_slot = len(buffers)
                    buffers.append(None)
                    buffer_dtypes.append(spec.dtype)
                    writes.append(True)
                slot_map.append(error_slot)
                continue
            slot = next((i for i, b in enumerate(buffers)
                         if b is buf and buffer_dtypes[i] is spec.dtype), None)
            if slot is None:
                slot = len(buffers)
                buffers.append(buf)
                buffer_dtypes.append(spec.dtype)
                writes.append(False)
            writes[slot] = writes[slot] or spec.writes
            slot_map.append(slot)
        offset = len(params)
        params.extend(plan.params)
        rng_slots.extend(slot + offset for slot in plan.rng_slots)
        # A one-trip loop of its own: values a nest computed are never reused
        # by the next one (which may read what the first one stored).
        body.append(K.Loop(f"h{member}", K.Const(0, dtypes.int64), K.Const(1, dtypes.int64),
                           K.rewrite(plan.kernel.body, buffers=slot_map, param_offset=offset,
                                     prefix=f"h{member}_")))
    ids = [id(b) for b in buffers]
    specs = tuple(K.BufferSpec(d, w, b is None or ids.count(id(b)) == 1)
                  for d, w, b in zip(buffer_dtypes, writes, buffers))
    name = "group_" + "_".join(plan.kernel.name for plan in plans)[:40]
    kern = K.Kernel(name, specs, len(params), tuple(body), parallel=False, compact=True)
    return LaunchPlan(kern, buffers, params, 1, error_slot, tuple(rng_slots))
