"""The device interface: what the engine asks of a device, and nothing more.

The engine (lazyt/engine/) turns IR into kernel IR and launch records and
replays Programs; it never touches memory or machine code itself. A backend
does: it allocates and copies storage, compiles a kernel IR to something it
can launch, prepares a Program's launch records once (argument blocks,
error blocks) and executes them on a list of storages, and runs the extern
ops. The CPU backend (runtime/cpu.py: LLVM + ctypes + BLAS) is the first
implementation; a CUDA backend is a second one, and nothing above this
interface changes for it.
"""

from __future__ import annotations


class Backend:
    """One device kind. Subclasses implement every method."""

    device = None  # the lt.device its storages live on

    def allocate(self, dtype, numel: int):
        """A fresh Storage of numel elements (contents undefined)."""
        raise NotImplementedError

    def copy_bytes(self, dst, dst_offset: int, src, src_offset: int, nbytes: int) -> None:
        """Copy raw bytes between two storages of this device (offsets in bytes)."""
        raise NotImplementedError

    def compile(self, kernel):
        """Kernel IR (ir/kernel.Kernel) -> a compiled kernel this backend can launch."""
        raise NotImplementedError

    def prepare(self, launches: tuple, static: dict):
        """Launch records (engine/program.KernelLaunch, ExternLaunch) -> this
        backend's prepared steps, built once per Program. `static` maps the
        slots whose storage never changes to that storage."""
        raise NotImplementedError

    def execute(self, prepared, storages: list, rng_shift: int = 0) -> None:
        """Run prepared steps on storages (indexed by slot); random-stream
        offsets move by rng_shift. Raises the user's error (IndexError,
        RuntimeError) a kernel's bounds check reported."""
        raise NotImplementedError

    def prepared_version(self) -> int:
        """What prepared steps depend on beyond their launches: a Program
        prepares its steps again when this changes (the CPU backend's thread
        count, which decides how big launches are split)."""
        return 0

    def direct_call(self, prepared):
        """For prepared steps that are one plain kernel call (no bounds check,
        no random stream, no thread split, no fixed storages): (function,
        pack, args_address, slots), launched as
        `function(pack(*addresses of the storages of slots), args_address)`;
        else None. The eager dispatch cache's shortest path; a backend
        without one returns None and its Programs run through execute."""
        return None

    def register_extern(self, name: str, run, bind) -> None:
        """Declare the extern op `name` (an ExternLaunch's op) from above: run(out,
        out_view, sources) calls it once; bind(out, out_view, sources) returns a
        call with those storages fixed (recorded Programs replay it). The MPI
        collectives of lazyt.distributed are declared this way."""
        raise NotImplementedError
