"""Eager dispatch on small tensors and `import lazyt`: lazyt vs numpy vs PyTorch.

    python benchmarks/eager_dispatch.py [--number 2000] [--repeat 7] [--imports 5]

On 16-element tensors the kernels cost nothing: what is timed is the work
around them (dispatch, allocation, the launch), per op in microseconds. Each
workload is timed `repeat` times over `number` calls and the median kept;
PyTorch counts with the faster of 1 and 2 threads (as the other benchmarks).
Import times are the median over `imports` fresh interpreters of
`python -c "import X"`, less the median of `python -c "pass"` (the
interpreter's own start-up, which every contender pays).

benchmarks/run_all.py calls main(argv) and reads the rows it returns.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make the benchmarks package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import lazyt as lt  # noqa: E402
from benchmarks.common import torch, torch_best_ms  # noqa: E402


def per_call_ms(fn, number: int, repeat: int) -> float:
    """Median over `repeat` runs of `number` calls, in ms per call."""
    for _ in range(min(number, 100)):
        fn()  # warm up (compile, caches)
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        runs.append((time.perf_counter() - start) / number)
    return statistics.median(runs) * 1e3


def workloads(lib):
    """name -> a no-argument callable doing one eager op (or short chain) in lib."""
    rng = np.random.default_rng(0)
    a, b, c = (rng.standard_normal(16, dtype=np.float32) for _ in range(3))
    m = rng.standard_normal((8, 8), dtype=np.float32)
    if lib is np:
        acc = c.copy()
        return {
            "a + b (16 float32)": lambda: a + b,
            "a * b + c": lambda: a * b + c,
            "a.sum()": lambda: a.sum(),
            "relu(a)": lambda: np.maximum(a, 0),
            "acc.add_(a) (in place)": lambda: np.add(acc, a, out=acc),
            "m @ m (8x8)": lambda: m @ m,
        }
    a, b, c, m = (lib.from_numpy(x.copy()) for x in (a, b, c, m))
    acc = c.clone()
    return {
        "a + b (16 float32)": lambda: a + b,
        "a * b + c": lambda: a * b + c,
        "a.sum()": lambda: a.sum(),
        "relu(a)": lambda: lib.relu(a),
        "acc.add_(a) (in place)": lambda: acc.add_(a),
        "m @ m (8x8)": lambda: m @ m,
    }


def import_seconds(module: str, runs: int) -> float:
    """Median wall time of `python -c "import module"` in fresh interpreters,
    with bytecode caches as a normal install has them (a first import writes
    them, even where PYTHONDONTWRITEBYTECODE is set in the environment)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    command = [sys.executable, "-c", f"import {module}" if module else "pass"]
    subprocess.run(command, check=True, env=env)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--number", type=int, default=2000, help="calls per timed run")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs (median kept)")
    parser.add_argument("--imports", type=int, default=5, help="fresh interpreters per import")
    parser.add_argument("--quick", action="store_true", help="200 calls, 3 runs, 2 imports")
    args = parser.parse_args(argv)
    if args.quick:
        args.number, args.repeat, args.imports = 200, 3, 2

    ops = {"numpy": workloads(np), "lazyt eager": workloads(lt)}
    if torch is not None:
        ops["torch"] = workloads(torch)
    per_call = functools.partial(per_call_ms, number=args.number, repeat=args.repeat)
    rows = []
    for name in ops["lazyt eager"]:
        for contender, table in ops.items():
            ms = (torch_best_ms(table[name], measure=per_call) if contender == "torch"
                  else per_call(table[name]))
            rows.append({"workload": name, "contender": contender, "ms": ms})

    startup = import_seconds("", args.imports)
    for module in ("numpy", "torch", "lazyt"):
        if module == "torch" and torch is None:
            continue
        seconds = import_seconds(module, args.imports)
        rows.append({"workload": "import", "contender": "lazyt" if module == "lazyt" else module,
                     "ms": seconds * 1e3,
                     "without_startup_ms": (seconds - startup) * 1e3})
    print_table(rows, startup)
    return rows


def _cell(row, scale: float, unit: str) -> str:
    return "-" if row is None else f"{row['ms'] * scale:.2f} {unit}"


def _ratio(lazyt_row, row) -> str:
    return "-" if row is None or lazyt_row is None else f"{lazyt_row['ms'] / row['ms']:.2f}x"


def print_table(rows: list[dict], startup: float) -> None:
    by = {(r["workload"], r["contender"]): r for r in rows}
    print("| workload | numpy | torch (best of 1/2 threads) | lazyt | lazyt / numpy "
          "| lazyt / torch |")
    print("|---|---|---|---|---|---|")
    for name in dict.fromkeys(r["workload"] for r in rows):
        scale, unit = (1e-3, "s") if name == "import" else (1e3, "us")
        numpy_row, torch_row = by.get((name, "numpy")), by.get((name, "torch"))
        lazyt_row = by.get((name, "lazyt eager")) or by.get((name, "lazyt"))
        print(f"| {name} | {_cell(numpy_row, scale, unit)} | {_cell(torch_row, scale, unit)} "
              f"| {_cell(lazyt_row, scale, unit)} | {_ratio(lazyt_row, numpy_row)} "
              f"| {_ratio(lazyt_row, torch_row)} |")
    print(f"(import: wall time of `python -c \"import X\"`, median of fresh interpreters; "
          f"the interpreter alone takes {startup:.2f} s)")


if __name__ == "__main__":
    main()
