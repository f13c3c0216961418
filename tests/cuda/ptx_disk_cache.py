"""The PTX disk cache (lazyt/runtime/cuda_disk_cache.py) across processes,
without a GPU: run as a script (tests/cuda/test_ptx_offline.py spawns it,
without NUMBA_ENABLE_CUDASIM), it starts child processes that compile two
generated kernels to PTX through the cache in a temporary LAZYT_CACHE_DIR:

1. a first process compiles both and stores their PTX;
2. a second loads both from disk (compiles none), rebuilds Numba kernels
   from the cached PTX and links each to an sm_90 cubin (what a GPU does on
   a hit);
3. a corrupted entry and a truncated one are ignored (compiled again) and
   rewritten (the next process loads them);
4. another compute capability is another key: compiled again;
and in this process that the key changes with the source, the signature
and the toolchain versions. Exit 77: the offline toolchain is missing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent.parent


def child(cc: tuple) -> None:
    """Compile (or load) the kernels through the cache; print what happened."""
    import lazyt as lt
    from lazyt.codegen.cuda_matmul import render_matmul
    from lazyt.runtime import cuda_disk_cache, stats
    from lazyt.runtime.cuda import kernel_namespace

    stats.reset()
    linked = 0
    for dtype in (lt.float32, lt.int64):
        source = render_matmul(dtype)
        namespace = kernel_namespace(source.math)
        exec(compile(source.text, f"<lazyt cuda {source.name}>", "exec"), namespace)
        before = stats.COUNTERS["disk_cache_hits"]
        cuda_disk_cache.compile_ptx_cached(namespace[source.name], source.signature,
                                           source.text, cc)
        if stats.COUNTERS["disk_cache_hits"] > before:  # a hit: what a GPU would launch
            from numba.cuda.core import sigutils

            key = cuda_disk_cache.entry_key(source.text, source.signature, cc)
            argtypes, _ = sigutils.normalize_signature(source.signature)
            kernel = cuda_disk_cache.rebuild_kernel(cuda_disk_cache.load_entry(key), argtypes)
            assert kernel.entry_name in kernel._codelibrary.get_asm_str(cc=cc)
            kernel._codelibrary.get_cubin(cc=cc)
            linked += 1
    print(json.dumps({"compiled": stats.COUNTERS["kernels_compiled"],
                      "loaded": stats.COUNTERS["disk_cache_hits"], "linked": linked}))


def run_child(directory: str, cc: tuple) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    env.update(PYTHONPATH=str(REPO_ROOT), LAZYT_CACHE_DIR=directory, LAZYT_CACHE="1")
    done = subprocess.run([sys.executable, __file__, "--child", ".".join(map(str, cc))],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def check_key_changes() -> None:
    from lazyt.runtime import cuda_disk_cache

    key = cuda_disk_cache.entry_key("def k(a): pass", "void(float32[::1])", (9, 0))
    assert key != cuda_disk_cache.entry_key("def k(a): return", "void(float32[::1])", (9, 0))
    assert key != cuda_disk_cache.entry_key("def k(a): pass", "void(float64[::1])", (9, 0))
    assert key != cuda_disk_cache.entry_key("def k(a): pass", "void(float32[::1])", (8, 9))
    versions = cuda_disk_cache.toolchain_versions
    try:
        cuda_disk_cache.toolchain_versions = lambda: versions()[:-1] + ("a newer numba-cuda",)
        assert key != cuda_disk_cache.entry_key("def k(a): pass", "void(float32[::1])", (9, 0))
    finally:
        cuda_disk_cache.toolchain_versions = versions


def main() -> int:
    try:
        from cuda.core import Linker  # noqa: F401
        from numba import cuda

        cuda.compile_ptx(lambda a: None, "void(float32[::1])", cc=(9, 0))
    except Exception as error:
        print(f"offline CUDA toolchain unavailable: {type(error).__name__}: {error}")
        return 77
    check_key_changes()
    with tempfile.TemporaryDirectory() as directory:
        first = run_child(directory, (9, 0))
        assert first == {"compiled": 2, "loaded": 0, "linked": 0}, first
        second = run_child(directory, (9, 0))
        assert second == {"compiled": 0, "loaded": 2, "linked": 2}, second
        entries = sorted(Path(directory).glob("*/*.o"))
        assert len(entries) == 2, entries
        for path in entries:
            blob = bytearray(path.read_bytes())
            if path == entries[0]:
                blob[-10] ^= 0xFF  # a flipped byte in the PTX
            else:
                del blob[len(blob) // 2:]  # a truncated write
            path.write_bytes(bytes(blob))
        damaged = run_child(directory, (9, 0))
        assert damaged == {"compiled": 2, "loaded": 0, "linked": 0}, damaged
        repaired = run_child(directory, (9, 0))
        assert repaired == {"compiled": 0, "loaded": 2, "linked": 2}, repaired
        other_cc = run_child(directory, (8, 9))
        assert other_cc == {"compiled": 2, "loaded": 0, "linked": 0}, other_cc
    print("PTX disk cache: stored, loaded by a second process and linked, keyed by cc, "
          "source, signature and versions; damaged entries ignored and rewritten: ok")
    return 0


if __name__ == "__main__":
    assert os.environ.get("NUMBA_ENABLE_CUDASIM") != "1", "run without the simulator"
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(tuple(int(part) for part in sys.argv[2].split(".")))
        sys.exit(0)
    sys.exit(main())
