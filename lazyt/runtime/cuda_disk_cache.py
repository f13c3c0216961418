"""The GPU entries of the compiled-kernel disk cache: PTX of generated CUDA kernels.

Numba's own `cache=True` needs a source file to key on, and lazyt's kernels
are generated text, so the CUDA backend keeps its compiled code itself, in
the CPU backend's cache (runtime/disk_cache.py: its directory, LAZYT_CACHE=0,
atomic writes, checksummed entries; a truncated or corrupt entry is ignored
and rewritten). An entry is plain data, never pickled objects: the PTX of one
kernel, its entry-point name and the compute capability it targets, as JSON.
It is keyed by a hash of the kernel's source text and Numba signature, the
compute capability, and the lazyt, numba and numba-cuda versions.

Two users, one format:
- runtime/cuda.py on a GPU: `jit_with_disk_cache` compiles through a Numba
  dispatcher whose cache is `PtxDiskCache`; a hit rebuilds the kernel from
  its PTX (`rebuild_kernel`), so only the driver's link to a cubin remains
  (no typing, no NVVM); a miss compiles and stores the PTX.
- the offline toolchain (tests/cuda/ptx_offline.py, no GPU):
  `compile_ptx_cached` wraps `cuda.compile_ptx`.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from lazyt.runtime import disk_cache, stats

_FORMAT = 1
_ENTRY_POINT = re.compile(r"\.entry\s+([A-Za-z_$][\w$]*)\s*\(")


@dataclass(frozen=True)
class PtxEntry:
    entry: str  # the kernel's entry point in the PTX
    cc: tuple  # the compute capability it was generated for: (9, 0) or (9, 0, "a")
    ptx: tuple[str, ...]  # the PTX modules (one for lazyt's kernels)


def toolchain_versions() -> tuple[str, ...]:
    """The versions a cached PTX depends on besides its source."""
    import numba  # (CUDA work only)

    try:
        import numba_cuda
        cuda_version = numba_cuda.__version__
    except ImportError:  # numba's built-in numba.cuda
        cuda_version = "builtin"
    return (disk_cache.LAZYT_VERSION, numba.__version__, cuda_version)


def entry_key(text: str, signature: str, cc: tuple) -> str:
    """The cache key of one kernel's PTX."""
    h = hashlib.sha256()
    for part in ("cuda-ptx", text, signature, ".".join(map(str, cc)), *toolchain_versions()):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


def load_entry(key: str) -> PtxEntry | None:
    """The entry stored under key; None if absent, corrupt, or not a PTX entry."""
    if not disk_cache.enabled():
        return None
    payload = disk_cache.load(key)
    if payload is None:
        return None
    try:
        data = json.loads(payload.decode())
        if data.get("format") != _FORMAT:
            return None
        entry = PtxEntry(str(data["entry"]), tuple(data["cc"]), tuple(map(str, data["ptx"])))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None
    if not any(entry.entry in ptx for ptx in entry.ptx):
        return None
    return entry


def store_entry(key: str, entry: PtxEntry) -> None:
    if disk_cache.enabled():
        disk_cache.store(key, json.dumps({"format": _FORMAT, "entry": entry.entry,
                                          "cc": list(entry.cc), "ptx": list(entry.ptx)}).encode())


def entry_point(ptx: str) -> str:
    """The (mangled) name of the one kernel a PTX module defines."""
    found = _ENTRY_POINT.findall(ptx)
    assert len(found) == 1, f"expected one kernel entry in the PTX, found {found}"
    return found[0]


def compile_ptx_cached(function, signature: str, text: str, cc: tuple) -> str:
    """cuda.compile_ptx(function, signature, cc=cc), or the PTX stored for
    this source: the offline toolchain's path (no GPU needed)."""
    key = entry_key(text, signature, cc)
    entry = load_entry(key)
    if entry is not None and tuple(entry.cc) == tuple(cc):
        stats.bump("disk_cache_hits")
        return entry.ptx[0]
    from numba import cuda  # (CUDA work only)

    ptx, _ = cuda.compile_ptx(function, signature, cc=cc)
    stats.bump("kernels_compiled")
    store_entry(key, PtxEntry(entry_point(ptx), tuple(cc), (ptx,)))
    return ptx


def rebuild_kernel(entry: PtxEntry, argtypes: tuple):
    """A Numba kernel object (numba.cuda's _Kernel) over cached PTX: what
    Numba's own cache rebuilds, from plain data. Launching it links the PTX
    to a cubin (the driver's work) on first use."""
    from numba.cuda import types, typing  # (CUDA work only)
    from numba.cuda.codegen import CUDACodeLibrary
    from numba.cuda.dispatcher import _Kernel

    library = CUDACodeLibrary._rebuild(
        codegen=None, name=entry.entry, entry_name=entry.entry, llvm_strs=[],
        ptx_cache={tuple(entry.cc): list(entry.ptx)}, cubin_cache={}, linkerinfo_cache={},
        max_registers=None, nvvm_options={"opt": 3, "fastmath": False}, needs_cudadevrt=False,
        nrt=False, use_cooperative=False, lto=False)
    return _Kernel._rebuild(cooperative=False, name=entry.entry,
                            signature=typing.signature(types.void, *argtypes),
                            codelibrary=library, debug=False, lineinfo=False, call_helper=None,
                            extensions=[])


def _null_cache_class():
    from numba.cuda.core.caching import NullCache  # (CUDA work only)

    class PtxDiskCache(NullCache):
        """A Numba dispatcher's cache for one generated kernel: load_overload
        rebuilds the kernel from its cached PTX, save_overload stores the PTX
        of a kernel Numba just compiled."""

        def __init__(self, key: str, cc: tuple):
            self.key, self.cc = key, tuple(cc)

        def load_overload(self, sig, target_context):
            entry = load_entry(self.key)
            if entry is None or tuple(entry.cc) != self.cc:
                return None
            stats.bump("disk_cache_hits")
            return rebuild_kernel(entry, tuple(sig))

        def save_overload(self, sig, kernel):
            library = kernel._codelibrary
            if library._linking_files or library.needs_cudadevrt or kernel.cooperative:
                return  # (lazyt's kernels link nothing; anything else is not cached)
            ptx = library.get_asm_strs(cc=self.cc)
            store_entry(self.key, PtxEntry(kernel.entry_name, self.cc, tuple(ptx)))

    return PtxDiskCache


_CACHE_CLASS: list = []


def device_cc(cuda) -> tuple:
    """The current device's compute capability as Numba's code library keys
    its PTX ("a": the architecture-specific target of sm_90 and later)."""
    major, minor = cuda.get_current_device().compute_capability
    return (major, minor, "a" if (major, minor) >= (9, 0) else "")


def jit_with_disk_cache(cuda, function, signature: str, text: str):
    """cuda.jit(signature)(function) on a GPU, through the PTX disk cache."""
    from numba.cuda.core import sigutils  # (CUDA work only)

    if not _CACHE_CLASS:
        _CACHE_CLASS.append(_null_cache_class())
    cc = device_cc(cuda)
    dispatcher = cuda.jit(function)
    dispatcher._cache = _CACHE_CLASS[0](entry_key(text, signature, cc), cc)
    argtypes, _ = sigutils.normalize_signature(signature)
    dispatcher.compile(argtypes)
    dispatcher.disable_compile()
    return dispatcher
