"""Program: recorded launches over numbered buffer slots, replayed on new storages.

Every computation lazyt runs is a Program: an eager op's one kernel (the
plan cache, engine/plans.py), a fused realisation of a deferred graph and
its replay (engine/realize.py), an eager region (regions.py) and a traced
`@lt.compile` step (compile.py). A Program is a list of typed launch records
(KernelLaunch, ExternLaunch) whose buffers are slots:

    [ inputs (bound by the caller on each run) | fresh (allocated on each run)
      | static (storages the Program owns, the same on every run) ]

Running it asks the device backend (runtime/backend.py) to execute the
records; the backend prepares them once (argument blocks and error blocks)
so a replay only binds storages.

Recording: while `recording()` is active, every Program run appends its
launches and the storages it ran on; `Program.from_recording` turns that
list into one Program over the given input storages. This is how a deferred
realisation, a region's trace and lt.compile's trace become replayable.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, replace

from lazyt.ir.view import View
from lazyt.runtime import stats

ERROR_SLOT = -1  # a kernel's bounds-error block: the backend provides it


@dataclass(frozen=True, slots=True)
class KernelLaunch:
    """One call of a compiled kernel."""

    kernel: object  # the backend's compiled kernel
    slots: tuple[int, ...]  # per kernel buffer: a program slot, or ERROR_SLOT
    writes: tuple[bool, ...]  # per kernel buffer: does the kernel write it
    params: tuple[int, ...]  # the int64 argument block (sizes, strides, offsets, scalars)
    outer: int  # extent of the outermost loop (the unit of a thread split)
    parallel: bool  # may the outermost loop be split across threads
    work: int  # elements visited (the thread-split heuristic)
    rng_slots: tuple[int, ...] = ()  # params that are random-stream offsets
    kernels: int = 1  # scheduled kernels in this launch (several when horizontally fused)
    element_bytes: int = 0  # bytes per element of work over all buffers (LAZYT_DEBUG=2)


@dataclass(frozen=True, slots=True)
class ExternLaunch:
    """One call of a declared extern op (BLAS matmul): out = op(sources)."""

    op: str
    out: int
    out_view: View
    sources: tuple[tuple[int, View], ...]
    # The GPU's matmul: the elementwise consumer it applies before storing
    # (codegen/cuda_epilogue.MatmulEpilogue; its buffers are sources[2:]).
    epilogue: object = None

    @property
    def slots(self) -> tuple[int, ...]:
        return (self.out, *(slot for slot, _ in self.sources))

    @property
    def writes(self) -> tuple[bool, ...]:
        return (True,) + (False,) * len(self.sources)


_RECORDINGS: list[list] = []  # active recordings, innermost last


@contextmanager
def recording():
    """Within: every Program run is appended to the yielded list as
    (launches, storages)."""
    entries: list = []
    _RECORDINGS.append(entries)
    try:
        yield entries
    finally:
        _RECORDINGS.pop()


def pass_on_recording(entries: list) -> None:
    """Hand a finished inner recording's entries on to the enclosing
    recording, if any (a nested recording otherwise hides its launches)."""
    if _RECORDINGS:
        _RECORDINGS[-1].extend(entries)


def is_recording() -> bool:
    return bool(_RECORDINGS)


class Program:
    """Launch records over slots; see the module docstring."""

    __slots__ = ("backend", "launches", "n_inputs", "fresh", "static", "outputs",
                 "inputs_used", "inputs_written", "kernels", "_prepared",
                 "_prepared_version")

    def __init__(self, backend, launches: tuple, n_inputs: int, fresh: tuple = (),
                 static: tuple = (), outputs: tuple = (), inputs_used: frozenset = frozenset(),
                 inputs_written: frozenset = frozenset()):
        self.backend = backend
        self.launches = tuple(launches)
        self.n_inputs = n_inputs
        self.fresh = tuple(fresh)  # (dtype, numel) per fresh slot
        self.static = list(static)  # Storage per static slot
        self.outputs = tuple(outputs)  # (slot, View) per result
        self.inputs_used = inputs_used  # input slots some launch reads or writes
        self.inputs_written = inputs_written  # input slots some launch writes
        self.kernels = sum(getattr(launch, "kernels", 0) for launch in self.launches)
        self._prepared = None
        self._prepared_version = None

    def run(self, inputs: list, rng_shift: int = 0) -> list:
        """Execute on the input storages; the (Storage, View) of each output."""
        storages = inputs
        if self.fresh:
            allocate = self.backend.allocate
            storages = storages + [allocate(dtype, numel) for dtype, numel in self.fresh]
        if self.static:
            storages = storages + self.static if storages else self.static
        if _RECORDINGS:
            _RECORDINGS[-1].append((self.launches, storages))
        self.backend.execute(self._prepared_steps(), storages, rng_shift)
        if self.kernels:
            stats.COUNTERS["kernels"] += self.kernels
        return [(storages[slot], view) for slot, view in self.outputs]

    def _prepared_steps(self):
        """The backend's prepared launches, made on the first run (again
        when the backend's prepared_version moved: a new thread count)."""
        version = self.backend.prepared_version()
        if self._prepared is None or version != self._prepared_version:
            self._prepared_version = version
            first_static = self.n_inputs + len(self.fresh)
            self._prepared = self.backend.prepare(
                self.launches, {first_static + i: st for i, st in enumerate(self.static)})
        return self._prepared

    def direct_call(self):
        """The backend's direct call of this Program (Backend.direct_call)
        when it is one plain kernel over its inputs, else None. Launched
        directly, a run is not recorded (`recording()`) nor counted: the
        caller checks is_recording() and counts."""
        if self.fresh or self.static or self.outputs or len(self.launches) != 1:
            return None
        return self.backend.direct_call(self._prepared_steps())

    @classmethod
    def from_recording(cls, backend, entries: list, inputs: list, results: list = (),
                       keep: bool = False) -> Program | None:
        """One Program replaying a recording (from `recording()`) on new
        `inputs` (storages, by slot), with `results` ((Storage, View) each)
        as its outputs. Every other storage is static (kept, reused by every
        run) when `keep`, else fresh (allocated per run); then the recording
        is refused (None) where it cannot be replayed: a launch reading a
        storage that is neither an input nor written by an earlier launch (a
        constant made while recording would be frozen in), random streams
        (the draw would repeat), or a result no launch wrote."""
        input_slot = {id(st): i for i, st in enumerate(inputs)}
        other: dict[int, int] = {}  # id(storage) -> index among fresh/static
        others: list = []
        written: set[int] = set()
        read: set[int] = set()
        wrote: set[int] = set()
        launches = []
        for recorded, storages in entries:
            for launch in recorded:
                if not keep and getattr(launch, "rng_slots", ()):
                    return None
                new_slots = []
                for slot, writes in zip(launch.slots, launch.writes):
                    if slot < 0:
                        new_slots.append(("error", 0))
                        continue
                    st = storages[slot]
                    if id(st) in input_slot:
                        (wrote if writes else read).add(input_slot[id(st)])
                        new_slots.append(("in", input_slot[id(st)]))
                        continue
                    if writes:
                        written.add(id(st))
                    elif not keep and id(st) not in written:
                        return None
                    if id(st) not in other:
                        other[id(st)] = len(others)
                        others.append(st)
                    new_slots.append(("other", other[id(st)]))
                launches.append((launch, new_slots))
        result_slots = []
        for st, view in results:
            if id(st) not in other or (not keep and id(st) not in written):
                return None
            result_slots.append((("other", other[id(st)]), view))

        n = len(inputs)

        def final(ref) -> int:
            kind, i = ref
            return ERROR_SLOT if kind == "error" else i if kind == "in" else n + i

        records = []
        for launch, new_slots in launches:
            slots = tuple(final(ref) for ref in new_slots)
            if isinstance(launch, ExternLaunch):
                records.append(replace(launch, out=slots[0], sources=tuple(
                    (slot, view) for slot, (_, view) in zip(slots[1:], launch.sources))))
            else:
                records.append(replace(launch, slots=slots))
        fresh = () if keep else tuple((st.dtype, len(st)) for st in others)
        static = tuple(others) if keep else ()
        return cls(backend, records, n, fresh, static,
                   tuple((final(ref), view) for ref, view in result_slots),
                   frozenset(read | wrote), frozenset(wrote))
