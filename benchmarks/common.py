"""What every benchmark here shares: timing, PyTorch's thread policy, the
memory floor, and the row format that benchmarks/run_all.py collects.

A row is a dict {"workload", "contender", "ms"} (plus optional "note").
Contenders named "lazyt ..." are ours; "floor" is the memory floor (np.copyto
of the same bytes); every other contender is a peer (numpy, torch, ...).

PyTorch's figure is the faster of its 1- and 2-thread runs: on 2 cores its
2-thread small steps are erratic, so the best of the two is the fair anchor.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

try:
    import torch
except ImportError:  # PyTorch is optional: its columns are skipped
    torch = None


def median_ms(fn, repeat: int = 7, warmup: int = 2) -> float:
    """Median wall time of fn() in milliseconds, after `warmup` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def torch_best_ms(fn, repeat: int = 7, warmup: int = 2, measure=None) -> float:
    """PyTorch's time: the best of its 1- and 2-thread runs (see module doc).
    `measure(fn)` replaces median_ms when the caller times differently."""
    measure = measure or (lambda f: median_ms(f, repeat, warmup))
    before = torch.get_num_threads()
    try:
        best = float("inf")
        for threads in (1, 2):
            torch.set_num_threads(threads)
            best = min(best, measure(fn))
        return best
    finally:
        torch.set_num_threads(before)


def deferred_call(fn):
    """fn run in lt.deferred() and realised: what one deferred evaluation of
    its graph costs (building, the realisation-cache lookup or scheduling,
    the launches)."""
    import lazyt as lt

    def run():
        with lt.deferred():
            out = fn()
        out.realize()
        return out

    return run


def floor_ms(nbytes: int, repeat: int = 7) -> float:
    """The memory floor for moving nbytes: np.copyto of nbytes/2 read and
    nbytes/2 written (single-threaded)."""
    n = max(nbytes // 8, 1)
    src = np.ones(n, dtype=np.float32)
    dst = np.empty_like(src)
    return median_ms(lambda: np.copyto(dst, src), repeat)


def row(workload: str, contender: str, ms: float, note: str = "") -> dict:
    out = {"workload": workload, "contender": contender, "ms": float(ms)}
    if note:
        out["note"] = note
    return out


def count_row(workload: str, contender: str, value: float, unit: str, note: str = "") -> dict:
    """A row that is not a time (kernel launches, compiles): printed, never
    given a ratio."""
    out = {"workload": workload, "contender": contender, "value": value, "unit": unit}
    if note:
        out["note"] = note
    return out


def is_lazyt(contender: str) -> bool:
    return contender.startswith("lazyt")


def with_ratios(rows: list[dict]) -> list[tuple[dict, float | None, float | None]]:
    """(row, ratio to the best peer, ratio to the floor) for each row, grouped
    by workload in first-seen order; the ratios only for timed lazyt rows
    (below 1.0 = faster than the peer)."""
    by_workload: dict[str, list[dict]] = {}
    for r in rows:
        by_workload.setdefault(r["workload"], []).append(r)
    out = []
    for group in by_workload.values():
        timed = [r for r in group if "ms" in r]
        peers = [r["ms"] for r in timed if not is_lazyt(r["contender"]) and r["contender"] != "floor"]
        best_peer = min(peers) if peers else None
        floor = next((r["ms"] for r in timed if r["contender"] == "floor"), None)
        for r in group:
            ours = "ms" in r and is_lazyt(r["contender"])
            out.append((r, r["ms"] / best_peer if ours and best_peer else None,
                        r["ms"] / floor if ours and floor else None))
    return out


def print_rows(rows: list[dict], title: str = "") -> None:
    """The shared table: each lazyt row with its ratio to the best peer of its
    workload and to the floor."""
    if title:
        print(title)
    print(f"{'workload':34s} {'contender':22s} {'ms':>10s} {'/best peer':>11s} {'/floor':>8s}")
    for r, peer, floor in with_ratios(rows):
        note = f"  {r['note']}" if r.get("note") else ""
        if "ms" not in r:
            print(f"{r['workload']:34s} {r['contender']:22s} {r['value']:>10} {r['unit']}{note}")
            continue
        peer_text = f"{peer:11.2f}" if peer is not None else f"{'':11s}"
        floor_text = f"{floor:8.2f}" if floor is not None else f"{'':8s}"
        print(f"{r['workload']:34s} {r['contender']:22s} {r['ms']:10.4g} {peer_text} "
              f"{floor_text}{note}")
