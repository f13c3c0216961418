"""Realisation cache: a deferred graph of a known structure replays its launches.

A training loop in deferred mode builds the same graph every step; only the
buffers it reads differ. Scheduling it again (fusion decisions, lowering,
grouping) costs more than running it. So executor.realize_tensors keys each
realisation by the graph's structure, with buffers replaced by their order of
appearance (`structure_key`), and the first time records the launches it
made (the executor's RECORDING, as lt.compile does). A later realisation with
the same key allocates fresh intermediate and result buffers and replays the
recorded kernels and matmuls on the new input buffers: the same generated
code on the same kinds of buffers, with no scheduling.

Not cached: pending views of pending tensors, and realisations inside
lt.compile's tracing (which records on its own).
"""

from __future__ import annotations

import ctypes
from collections import OrderedDict

import numpy as np

from lazyt.ir.node import Node, node_arg_key
from lazyt.runtime import stats
from lazyt.runtime.device import CPU
from lazyt.runtime.launch import ERROR_SENTINEL, PARALLEL_MIN_WORK, raise_bounds_error
from lazyt.runtime.storage import Storage

_LIMIT = 64
_PROGRAMS: OrderedDict = OrderedDict()


def structure_key(roots: list[Node], writes: list[tuple], realized_lookup=None):
    """(key, input buffers in order of appearance) for realising `roots` and
    carrying out `writes` (node, target buffer, target view). Nodes that an
    earlier realisation computed (`realized_lookup`) are marked with the
    buffer holding their value."""
    position: dict[int, int] = {}
    slots: dict[int, int] = {}
    buffers: list = []
    parts: list = []

    def slot(buf) -> int:
        if id(buf) not in slots:
            slots[id(buf)] = len(buffers)
            buffers.append(buf)
        return slots[id(buf)]

    def add(node: Node) -> None:
        position[id(node)] = len(parts)
        if node.op == "load":
            buf, view = node.arg
            parts.append(("load", node.dtype.name, slot(buf), view))
            return
        part = (node.op, node.dtype.name, node.shape, node_arg_key(node),
                tuple(position[id(src)] for src in node.srcs))
        realized = None if realized_lookup is None else realized_lookup(node)
        if realized is not None:
            # Computed by an earlier realisation: the scheduler may read
            # that buffer or compute the node again, so the key names both.
            buf, view = realized.arg
            part += (("realized", slot(buf), view),)
        parts.append(part)

    # One depth-first pass over all roots, sources first (a node is marked
    # when entered; in a DAG no source of it can be in progress).
    for root in roots + [node for node, _, _ in writes]:
        if id(root) in position:
            continue
        position[id(root)] = -1
        stack = [(root, iter(root.srcs))]
        while stack:
            node, srcs = stack[-1]
            for src in srcs:
                if id(src) not in position:
                    position[id(src)] = -1
                    stack.append((src, iter(src.srcs)))
                    break
            else:
                stack.pop()
                add(node)
    key = (tuple(parts), tuple(position[id(root)] for root in roots),
           tuple((position[id(node)], slot(buf), view) for node, buf, view in writes))
    return key, buffers


class Program:
    """Recorded launches over input storages (by slot) and fresh storages."""

    def __init__(self, launches: list, fresh: list, outputs: list, kernels: int,
                 inputs_used: set[int], inputs_written: set[int]):
        self.launches = launches  # ("kernel", compiled, refs, params, outer, parallel, work)
        #                           or ("matmul", ref, view, [(ref, view), ...])
        self.fresh = fresh  # (dtype, numel) of each buffer allocated per run
        self.outputs = outputs  # (ref, view) of each root's result
        self.kernels = kernels  # scheduled kernels in those launches (for stats)
        self.inputs_used = inputs_used  # input slots some launch reads or writes
        self.inputs_written = inputs_written  # input slots some launch writes
        self._steps = None

    def run(self, inputs: list, launch, run_matmul) -> list:
        """Replay on new input storages; the (storage, view) of each root."""
        steps, outputs, fast_launches = self._prepared(len(inputs))
        storages = list(inputs)
        storages += [Storage.allocate(dtype, numel, CPU) for dtype, numel in self.fresh]
        for step in steps:
            kind = step[0]
            if kind == "fast":
                _, function, slots, args, errors, errors_address = step
                pointers = [errors_address if s < 0 else storages[s].address for s in slots]
                if errors is not None:
                    errors[0] = ERROR_SENTINEL
                function((ctypes.c_void_p * len(pointers))(*pointers), args)
                if errors is not None and errors[0] != ERROR_SENTINEL:
                    stats.bump("kernel_launches", fast_launches)
                    raise_bounds_error(errors)
            elif kind == "kernel":
                _, function, slots, params, outer, parallel, work = step
                launch(function, [None if s < 0 else storages[s].buffer for s in slots],
                       params, outer, parallel, work)
            else:
                _, out, view, sources = step
                run_matmul(storages[out], view, [(storages[s], v) for s, v in sources])
        stats.bump("kernel_launches", fast_launches)
        stats.bump("kernels", self.kernels)
        return [(storages[slot], view) for slot, view in outputs]

    def _prepared(self, n_inputs: int):
        """Steps with buffer references as indices into [inputs..., fresh...];
        kernels that run on one thread get their argument block built once
        (and an error block of their own when bounds-checked)."""
        if self._steps is None:
            def slot(ref):
                if ref is None:
                    return -1
                kind, i = ref
                return i if kind == "in" else n_inputs + i

            steps, fast = [], 0
            for entry in self.launches:
                if entry[0] == "kernel":
                    _, compiled, refs, params, outer, parallel, work = entry
                    slots = [slot(r) for r in refs]
                    if parallel and work >= PARALLEL_MIN_WORK and outer >= 2:
                        steps.append(("kernel", compiled.function, slots, params, outer,
                                      parallel, work))
                        continue
                    errors = np.zeros(4, dtype=np.int64) if -1 in slots else None
                    args = (ctypes.c_int64 * max(len(params), 1))(*params)
                    steps.append(("fast", compiled.function, slots, args, errors,
                                  None if errors is None else errors.ctypes.data))
                    fast += 1
                else:
                    _, ref, view, sources = entry
                    steps.append(("matmul", slot(ref), view, [(slot(r), v) for r, v in sources]))
            outputs = [(slot(ref), view) for ref, view in self.outputs]
            self._steps = (steps, outputs, fast)
        return self._steps


def lookup(key) -> Program | None:
    program = _PROGRAMS.get(key)
    if program is not None:
        _PROGRAMS.move_to_end(key)
    return program


def store(key, inputs: list, recording: list, results: list, kernels: int) -> None:
    """Keep what a realisation launched (`recording`, the executor's format)
    and where its results are (`results`: (storage, view) per root)."""
    program = make_program(inputs, recording, results, kernels)
    if program is None:
        return
    _PROGRAMS[key] = program
    while len(_PROGRAMS) > _LIMIT:
        _PROGRAMS.popitem(last=False)


def make_program(inputs: list, recording: list, results: list, kernels: int) -> Program | None:
    """The replayable form of a recording over `inputs` (buffers, by slot), or
    None when it cannot be replayed: random streams; a launch reading a
    buffer that is neither an input nor written by an earlier launch (a
    constant made while recording would be frozen in); a result the
    recorded launches did not write."""
    input_slot = {id(buf): i for i, buf in enumerate(inputs)}
    fresh_slot: dict[int, int] = {}
    fresh: list = []
    written: set[int] = set()  # ids of the buffers launches wrote so far
    inputs_used: set[int] = set()
    inputs_written: set[int] = set()

    def ref(buf, writes: bool):
        if buf is None:
            return None
        if id(buf) in input_slot:
            slot = input_slot[id(buf)]
            inputs_used.add(slot)
            if writes:
                inputs_written.add(slot)
            return ("in", slot)
        if writes:
            written.add(id(buf))
        elif id(buf) not in written:
            raise LookupError("a launch reads a buffer nothing gave it")
        if id(buf) not in fresh_slot:
            fresh_slot[id(buf)] = len(fresh)
            fresh.append((buf.storage.dtype, len(buf.storage)))
        return ("fresh", fresh_slot[id(buf)])

    launches = []
    try:
        for entry in recording:
            if entry[0] == "kernel":
                _, compiled, buffers, params, outer, parallel, work, rng_slots, writes = entry
                if rng_slots:
                    return None  # random streams: the key already differs every draw
                refs = [ref(b, w) for b, w in zip(buffers, writes)]
                launches.append(("kernel", compiled, refs, list(params), outer, parallel, work))
            else:
                _, out_buf, out_view, sources = entry
                sources = [(ref(b, False), v) for b, v in sources]
                launches.append(("matmul", ref(out_buf, True), out_view, sources))
    except LookupError:
        return None
    outputs = []
    for storage, view in results:
        buf = storage.buffer
        if id(buf) not in fresh_slot:
            return None  # a result the recorded launches did not write
        outputs.append((("fresh", fresh_slot[id(buf)]), view))
    return Program(launches, fresh, outputs, kernels, inputs_used, inputs_written)
