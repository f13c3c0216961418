"""LLVM IR text -> machine code, with the in-memory compiled-kernel cache.

llvmlite >= 0.45 has only the new pass manager: parse, verify, run the O3
pipeline (loop and SLP vectorisation on), emit object code with the host
target machine, and hand that object to the one MCJIT engine (through its
object cache, the way machine code from the disk cache arrives). MCJIT
would compile a call to a missing symbol cleanly and segfault when it runs,
so every external declaration is resolved before the object is made and a
missing one raises.

Kernels needed together (the launches of one schedule) are compiled
together, `compile_many`: each is optimised and emitted on a worker thread
of its own LLVM context and target machine (llvmlite serialises every call
with one global lock; the two long calls, the pass pipeline and code
emission, touch only that thread's module and machine, so they run
unlocked), and the engine takes them all in one finalisation. The machine
code is the same as one kernel at a time compiles (object code emitted with
an -O3 target machine is what MCJIT's own codegen makes). Compact kernels
are emitted without loop strength reduction (_codegen_options).
"""

from __future__ import annotations

import ctypes
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from lazyt.runtime import stats

_KERNEL_SIGNATURE = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
CACHE_LIMIT = 4096  # compiled kernels kept in memory (least recently used go first)


def _host_machine():
    import llvmlite.binding as llvm  # (llvmlite loads with the first kernel: import stays cheap)

    target = llvm.Target.from_default_triple()
    return target.create_target_machine(
        cpu=llvm.get_host_cpu_name(), features=llvm.get_host_cpu_features().flatten(), opt=3)


class _Target:
    """The host target machine (for the optimiser and code emission on the
    calling thread) and one MCJIT engine that holds every compiled kernel,
    created on first use (import stays cheap).

    The engine owns the target machine it is created with, so it gets its
    own: a machine shared with per-kernel engines would be freed with the
    first engine that is garbage collected.
    """

    machine = None
    engine = None
    triple_and_layout = None

    @classmethod
    def layout(cls) -> tuple[str, str]:
        """The host triple and data layout every module is given."""
        if cls.triple_and_layout is None:
            machine, _ = cls.get()
            cls.triple_and_layout = (machine.triple, str(machine.target_data))
        return cls.triple_and_layout

    @classmethod
    def get(cls):
        if cls.machine is None:
            import llvmlite.binding as llvm  # (loaded with the first kernel, as above)

            llvm.initialize_native_target()
            llvm.initialize_native_asmprinter()
            cls.machine = _host_machine()
            empty = llvm.parse_assembly("")
            empty.triple = cls.machine.triple
            cls.engine = llvm.create_mcjit_compiler(empty, _host_machine())
            cls.engine.set_object_cache(_object_compiled, _object_wanted)
        return cls.machine, cls.engine


# Object code handed to the engine's object cache by compile_many, keyed by
# module name (the disk-cache key of the module's source).
_CACHED_OBJECTS: dict[str, bytes] = {}


def _object_wanted(module) -> bytes | None:
    return _CACHED_OBJECTS.pop(module.name, None)


def _object_compiled(module, buffer: bytes) -> None:
    """(Every module reaches the engine with its object code ready: nothing
    is compiled by the engine itself.)"""


class CompiledKernel:
    """A callable kernel in the shared engine."""

    __slots__ = ("name", "source", "module", "function", "_optimized_ir", "_optimized",
                 "released", "compact", "__weakref__")

    def __init__(self, name: str, source: str, module, address: int,
                 optimized_ir: str | None = None, compact: bool = False, optimized=None):
        self.released = False
        self.name = name
        self.source = source
        self.compact = compact  # compiled with compile_llvm's `compact` pipeline
        self.module = module  # the engine's module (its object code came ready)
        self.function = _KERNEL_SIGNATURE(address)
        self._optimized_ir = optimized_ir
        self._optimized = optimized  # the optimised module, printed when asked for

    @property
    def optimized_ir(self) -> str:
        """The optimised LLVM IR (printed when first asked for: printing every
        module as it compiles cost about 1.5% of compile time)."""
        if self._optimized_ir is None:
            self._optimized_ir = str(self._optimized)
            self._optimized = None
        return self._optimized_ir

    def release(self) -> None:
        """Drop the module from the engine. Only when nothing can call the
        kernel any more: the plan caches, the eager dispatch cache and
        lt.compile programs hold kernels of their own, so machine code lives
        exactly as long as this object (see __del__), not as long as its
        place in the KernelCache."""
        if not self.released:
            self.released = True
            _Target.engine.remove_module(self.module)

    def __del__(self):
        try:
            self.release()
        except Exception:  # interpreter shutdown: the engine may be gone already
            pass


def _check_symbols(module) -> None:
    import llvmlite.binding as llvm  # (loaded with the first kernel, as above)

    for fn in module.functions:
        if fn.is_declaration and not fn.name.startswith("llvm."):
            if llvm.address_of_symbol(fn.name) is None:
                raise RuntimeError(
                    f"lazyt internal error: generated kernel calls '{fn.name}', "
                    "which this process cannot resolve")


@dataclass
class KernelSource:
    """One kernel to compile: its LLVM module text and exported function."""

    source: str
    name: str
    use_disk_cache: bool = True
    compact: bool = False


class _WorkerTools(threading.local):
    """A compile thread's own LLVM context and target machine (neither is
    safe to share between threads that run unlocked)."""

    machine = None
    context = None


_WORKER = _WorkerTools()
_CONTEXTS: list = []  # every worker's context lives as long as the process (its modules do)
_POOL: list = []  # the compile threads' ThreadPoolExecutor, made when first needed


def compile_threads() -> int:
    """Threads compile_many uses (LAZYT_COMPILE_THREADS; default: the CPUs,
    at most 4; 1 compiles on the calling thread only)."""
    try:
        wanted = int(os.environ.get("LAZYT_COMPILE_THREADS", "0"))
    except ValueError:
        wanted = 0
    return wanted if wanted > 0 else min(4, os.cpu_count() or 1)


def _pool(threads: int):
    from concurrent.futures import ThreadPoolExecutor  # (with the first kernels compiled together)

    if not _POOL or _POOL[0]._max_workers != threads:
        if _POOL:
            _POOL.pop().shutdown(wait=False)
        _POOL.append(ThreadPoolExecutor(threads, thread_name_prefix="lazyt-compile"))
    return _POOL[0]


def _forget_pool_after_fork() -> None:
    """A forked child has none of its parent's compile threads: it starts
    its own pool (the parent's would queue work that no thread runs)."""
    _POOL.clear()


os.register_at_fork(after_in_child=_forget_pool_after_fork)


def _unlocked(binding):
    """The ctypes function behind an llvmlite binding, without llvmlite's
    global lock (the binding itself where llvmlite has no such wrapper)."""
    return getattr(binding, "_cfn", binding)


def _optimise_and_emit(request: KernelSource, on_worker: bool) -> tuple:
    """(object code, optimised module, seconds) of one kernel: parse, verify,
    optimise, resolve external symbols, emit. On a worker thread the module
    lives in the thread's own context and the two long steps run unlocked."""
    import llvmlite.binding as llvm  # (loaded with the first kernel, as above)
    from llvmlite.binding import ffi

    start = time.perf_counter()
    if on_worker:
        if _WORKER.machine is None:
            _WORKER.machine = _host_machine()
            _WORKER.context = llvm.create_context()
            _CONTEXTS.append(_WORKER.context)
        machine, context = _WORKER.machine, _WORKER.context
        module = llvm.parse_assembly(request.source, context=context)
    else:
        machine, _ = _Target.get()
        module = llvm.parse_assembly(request.source)
    module.triple, module.data_layout = _Target.layout()
    module.verify()
    compact = request.compact
    tuning = llvm.create_pipeline_tuning_options(speed_level=2 if compact else 3)
    tuning.loop_vectorization = True
    tuning.slp_vectorization = True
    if compact:
        tuning.loop_unrolling = False
        tuning.loop_interleaving = False
    builder = llvm.create_pass_builder(machine, tuning)
    passes = builder.getModulePassManager()
    if on_worker:
        _unlocked(ffi.lib.LLVMPY_RunNewModulePassManager)(passes, module, builder)
    else:
        passes.run(module, builder)
    _check_symbols(module)
    if on_worker:
        with ffi.OutputString() as error:
            buffer = _unlocked(ffi.lib.LLVMPY_TargetMachineEmitToMemory)(
                machine, module, 1, error)
            if not buffer:
                raise RuntimeError(str(error))
        try:
            obj = ctypes.string_at(ffi.lib.LLVMPY_GetBufferStart(buffer),
                                   ffi.lib.LLVMPY_GetBufferSize(buffer))
        finally:
            ffi.lib.LLVMPY_DisposeMemoryBuffer(buffer)
    else:
        obj = machine.emit_object(module)
    return obj, module, time.perf_counter() - start


def _build(requests: list[KernelSource], indices: list[int]) -> list[tuple]:
    """_optimise_and_emit of requests[k] for k in indices, on compile threads
    when there are several."""
    threads = min(compile_threads(), len(indices))
    if threads > 1:
        return list(_pool(threads).map(lambda k: _optimise_and_emit(requests[k], True),
                                       indices))
    return [_optimise_and_emit(requests[k], False) for k in indices]


_CODEGEN_OPTIONS: list = [None]  # the kind of kernel LLVM's code generator is set up for
# Compact kernels are emitted without loop strength reduction (see
# _codegen_options); False gives them LLVM's default code generation again.
COMPACT_WITHOUT_LSR = True


def _codegen_options(compact: bool) -> None:
    """Set LLVM's (process-wide) code generator options for a batch of
    compact or ordinary kernels (never while a compile runs). Compact kernels
    skip loop strength reduction: it was a third of their code generation
    time, and their short loops ran no slower without it (the MLP and CNN
    training steps, measured); it rewrites address arithmetic only, so no
    result changes."""
    if _CODEGEN_OPTIONS[0] is compact or not COMPACT_WITHOUT_LSR:
        return
    import llvmlite.binding as llvm  # (loaded with the first kernel, as above)

    _CODEGEN_OPTIONS[0] = compact
    llvm.set_option("lazyt", f"-disable-lsr={'true' if compact else 'false'}")


def compile_llvm(source: str, name: str, use_disk_cache: bool = True,
                 compact: bool = False) -> CompiledKernel:
    """Optimise and JIT one module; `name` is its exported kernel function
    (compile_many of one kernel)."""
    return compile_many([KernelSource(source, name, use_disk_cache, compact)])[0]


def compile_many(requests: list[KernelSource]) -> list[CompiledKernel]:
    """Optimise and JIT modules, each exporting its kernel `name`. `compact`
    kernels (many small loops) are optimised at -O2 without loop unrolling
    or interleaving: about half the code and compile time, for loops too
    short to gain from them. Several kernels compile on compile_threads()
    threads at once; the engine takes them in one finalisation.

    With the disk cache on, machine code stored for a kernel's exact source
    (and CPU, versions) is loaded instead: the engine gets an empty module of
    that name, whose object code the cache hands over (the source is not even
    parsed: it was checked when it was compiled)."""
    import llvmlite.binding as llvm  # (loaded with the first kernel, as above)

    from lazyt.runtime import disk_cache  # (it loads llvmlite too)

    start = time.perf_counter()
    _, engine = _Target.get()
    use_disk = disk_cache.enabled()
    keys, objects = [], []
    for request in requests:
        key = disk_cache.key_for(request.source)
        keys.append(key)
        objects.append(disk_cache.load(key) if use_disk and request.use_disk_cache else None)
    missing = [k for k, obj in enumerate(objects) if obj is None]
    # Longest first (their source's length is a fair guess), so no thread is
    # left with a long kernel at the end while the others wait.
    missing.sort(key=lambda k: -len(requests[k].source))
    built = []
    for compact in (True, False):
        batch = [k for k in missing if requests[k].compact == compact]
        if batch:
            _codegen_options(compact)
            built += _build(requests, batch)
    missing = [k for compact in (True, False) for k in missing
               if requests[k].compact == compact]
    optimized: dict[int, object] = {}
    for k, (obj, module, seconds) in zip(missing, built):
        objects[k] = obj
        optimized[k] = module
        if use_disk and requests[k].use_disk_cache:
            disk_cache.store(keys[k], obj)
        if debug_level() >= 3:
            print(f"[lazyt] compiled {requests[k].name} in {seconds * 1e3:.1f} ms")
        if debug_level() >= 4:
            print(requests[k].source)
    layout = _Target.layout()
    engine_modules = []
    for key, obj in zip(keys, objects):
        module = llvm.parse_assembly("")
        module.triple, module.data_layout = layout
        module.name = key
        _CACHED_OBJECTS[key] = obj
        engine.add_module(module)
        engine_modules.append(module)
    engine.finalize_object()
    compiled = []
    for k, (request, module) in enumerate(zip(requests, engine_modules)):
        address = engine.get_function_address(request.name)
        loaded = k not in optimized
        if loaded:
            stats.bump("cache_hits")
            stats.bump("disk_cache_hits")
            if debug_level() >= 3:
                print(f"[lazyt] loaded {request.name}")
        compiled.append(CompiledKernel(
            request.name, request.source, module, address,
            "(machine code loaded from disk cache)" if loaded else None, request.compact,
            optimized.get(k)))
    if missing:
        stats.bump("kernels_compiled", len(missing))
        stats.bump("compile_seconds", time.perf_counter() - start)
    return compiled


def _level_from_env() -> int:
    try:
        return int(os.environ.get("LAZYT_DEBUG", "0"))
    except ValueError:
        return 0


DEBUG_LEVEL = [_level_from_env()]  # a list: hot loops read DEBUG_LEVEL[0] without a call


def debug_level() -> int:
    """LAZYT_DEBUG, read at import (lt.debug.set_level changes it later)."""
    return DEBUG_LEVEL[0]


def set_debug_level(level: int) -> None:
    DEBUG_LEVEL[0] = int(level)


class KernelCache:
    """Kernel IR -> compiled kernel, bounded (LRU)."""

    def __init__(self, limit: int = CACHE_LIMIT):
        self.entries: OrderedDict = OrderedDict()
        self.limit = limit

    def get(self, key, build):
        entry = self.entries.get(key)
        if entry is not None:
            self.entries.move_to_end(key)
            stats.bump("cache_hits")
            return entry
        entry = build()
        self.entries[key] = entry
        while len(self.entries) > self.limit:
            # Dropped, not released: a cached launch plan may still call it;
            # its machine code goes when the last holder does.
            self.entries.popitem(last=False)
        return entry

    def clear(self) -> None:
        self.entries.clear()
