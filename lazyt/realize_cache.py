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

from collections import OrderedDict

from lazyt.ir.node import Node, arg_key, walk
from lazyt.runtime import stats
from lazyt.runtime.device import CPU
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

    for root in roots + [node for node, _, _ in writes]:
        for node in walk(root, stop=lambda n: id(n) in position):
            if id(node) in position:
                continue
            position[id(node)] = len(parts)
            if node.op == "load":
                buf, view = node.arg
                parts.append(("load", node.dtype.name, slot(buf), view))
                continue
            part = (node.op, node.dtype.name, node.shape, arg_key(node.arg),
                    tuple(position[id(src)] for src in node.srcs))
            realized = None if realized_lookup is None else realized_lookup(node)
            if realized is not None:
                # Computed by an earlier realisation: the scheduler may read
                # that buffer or compute the node again, so the key names both.
                buf, view = realized.arg
                part += (("realized", slot(buf), view),)
            parts.append(part)
    key = (tuple(parts), tuple(position[id(root)] for root in roots),
           tuple((position[id(node)], slot(buf), view) for node, buf, view in writes))
    return key, buffers


class Program:
    """Recorded launches over input buffers (by slot) and fresh buffers."""

    def __init__(self, launches: list, fresh: list, outputs: list, kernels: int):
        self.launches = launches  # ("kernel", compiled, refs, params, outer, parallel, work)
        #                           or ("matmul", ref, view, [(ref, view), ...])
        self.fresh = fresh  # (dtype, numel) of each buffer allocated per run
        self.outputs = outputs  # (ref, view) of each root's result
        self.kernels = kernels  # scheduled kernels in those launches (for stats)
        self.inputs_used: set[int] = set()  # input slots some launch reads or writes
        self.inputs_written: set[int] = set()  # input slots some launch writes

    def run(self, inputs: list, launch, run_matmul) -> list:
        """Replay on new input buffers; the (storage, view) of each root."""
        storages = [Storage.allocate(dtype, numel, CPU) for dtype, numel in self.fresh]
        fresh = [s.buffer for s in storages]

        def resolve(ref):
            if ref is None:
                return None
            kind, i = ref
            return inputs[i] if kind == "in" else fresh[i]

        for entry in self.launches:
            if entry[0] == "kernel":
                _, compiled, refs, params, outer, parallel, work = entry
                launch(compiled.function, [resolve(r) for r in refs], params, outer,
                       parallel, work)
            else:
                _, ref, view, sources = entry
                run_matmul(resolve(ref).storage, view,
                           [(resolve(r).storage, v) for r, v in sources])
        stats.bump("kernels", self.kernels)
        return [(resolve(ref).storage, view) for ref, view in self.outputs]


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
    program = Program(launches, fresh, outputs, kernels)
    program.inputs_used, program.inputs_written = inputs_used, inputs_written
    return program
