"""Counters since start (or the last reset): what lt.debug.stats() returns.

The runtime and compiler bump these; lazyt/debug.py exposes them.
"""

from __future__ import annotations

COUNTERS: dict[str, float] = {}


def reset() -> None:
    COUNTERS.update(kernels_compiled=0, kernel_launches=0, kernels=0, cache_hits=0, disk_cache_hits=0,
                    compile_seconds=0.0, extern_calls=0, realizations=0, graphs_scheduled=0,
                    programs_loaded=0)


def bump(name: str, amount: float = 1) -> None:
    COUNTERS[name] = COUNTERS.get(name, 0) + amount


reset()
