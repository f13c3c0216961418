"""LLVM IR text -> machine code, with the in-memory compiled-kernel cache.

llvmlite >= 0.45 has only the new pass manager: parse, verify, run the O3
pipeline (loop and SLP vectorisation on), then MCJIT. MCJIT would compile a
call to a missing symbol cleanly and segfault when it runs, so every external
declaration is resolved before the code is finalised and a missing one raises.
"""

from __future__ import annotations

import ctypes
import os
import time
from collections import OrderedDict

from lazyt.runtime import stats

_KERNEL_SIGNATURE = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
CACHE_LIMIT = 4096  # compiled kernels kept in memory (least recently used go first)


def _host_machine():
    import llvmlite.binding as llvm  # (llvmlite loads with the first kernel: import stays cheap)

    target = llvm.Target.from_default_triple()
    return target.create_target_machine(
        cpu=llvm.get_host_cpu_name(), features=llvm.get_host_cpu_features().flatten(), opt=3)


class _Target:
    """The host target machine (for the optimiser) and one MCJIT engine that
    holds every compiled kernel, created on first use (import stays cheap).

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


# Object code handed between the engine's cache callbacks and compile_llvm,
# keyed by module name (the disk-cache key of the module's source).
_CACHED_OBJECTS: dict[str, bytes] = {}
_TO_STORE: set[str] = set()


def _object_wanted(module) -> bytes | None:
    return _CACHED_OBJECTS.pop(module.name, None)


def _object_compiled(module, buffer: bytes) -> None:
    if module.name in _TO_STORE:
        _TO_STORE.discard(module.name)
        from lazyt.runtime import disk_cache  # (it loads llvmlite: with the first kernel)

        disk_cache.store(module.name, bytes(buffer))


class CompiledKernel:
    """A callable kernel in the shared engine."""

    __slots__ = ("name", "source", "module", "function", "_optimized_ir", "released",
                 "compact", "__weakref__")

    def __init__(self, name: str, source: str, module, address: int,
                 optimized_ir: str | None = None, compact: bool = False):
        self.released = False
        self.name = name
        self.source = source
        self.compact = compact  # compiled with compile_llvm's `compact` pipeline
        self.module = module
        self.function = _KERNEL_SIGNATURE(address)
        self._optimized_ir = optimized_ir

    @property
    def optimized_ir(self) -> str:
        """The optimised LLVM IR (printed when first asked for: printing every
        module as it compiles cost about 1.5% of compile time)."""
        if self._optimized_ir is None:
            self._optimized_ir = str(self.module)
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


def compile_llvm(source: str, name: str, use_disk_cache: bool = True,
                 compact: bool = False) -> CompiledKernel:
    """Optimise and JIT one module; `name` is its exported kernel function.
    `compact` kernels (many small loops) are optimised at -O2 without loop
    unrolling or interleaving: about half the code and compile time, for
    loops too short to gain from them.

    With the disk cache on, machine code stored for this exact source (and
    CPU, versions) is loaded instead: the engine gets an empty module of that
    name, whose object code the cache hands over (the source is not even
    parsed: it was checked when it was compiled)."""
    import llvmlite.binding as llvm  # (loaded with the first kernel, as above)

    from lazyt.runtime import disk_cache  # (it loads llvmlite too)

    start = time.perf_counter()
    machine, engine = _Target.get()
    cached = key = None
    if use_disk_cache and disk_cache.enabled():
        key = disk_cache.key_for(source)
        cached = disk_cache.load(key)
    module = llvm.parse_assembly("" if cached is not None else source)
    module.triple, module.data_layout = _Target.layout()
    if key is not None:
        module.name = key
        if cached is not None:
            _CACHED_OBJECTS[key] = cached
        else:
            _TO_STORE.add(key)
    if cached is None:
        module.verify()
        tuning = llvm.create_pipeline_tuning_options(speed_level=2 if compact else 3)
        tuning.loop_vectorization = True
        tuning.slp_vectorization = True
        if compact:
            tuning.loop_unrolling = False
            tuning.loop_interleaving = False
        builder = llvm.create_pass_builder(machine, tuning)
        builder.getModulePassManager().run(module, builder)
    _check_symbols(module)
    optimized_ir = None if cached is None else "(machine code loaded from disk cache)"
    engine.add_module(module)
    engine.finalize_object()
    address = engine.get_function_address(name)
    elapsed = time.perf_counter() - start
    if cached is None:
        stats.bump("kernels_compiled")
        stats.bump("compile_seconds", elapsed)
    else:
        stats.bump("cache_hits")
        stats.bump("disk_cache_hits")
    if debug_level() >= 3:
        how = "loaded" if cached is not None else "compiled"
        print(f"[lazyt] {how} {name} in {elapsed * 1e3:.1f} ms")
    if debug_level() >= 4:
        print(source)
    return CompiledKernel(name, source, module, address, optimized_ir, compact)


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
