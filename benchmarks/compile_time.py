"""What `@lt.compile` costs before it pays: first calls, the trace, a steady call.

    python benchmarks/compile_time.py [--repeats 3] [--torch-compile]

For the MLP 64-256-10 step (batch 128) and the digits CNN step (batch 64) of
benchmarks/train_step.py, each measured in fresh processes (median of
`--repeats`):

- cold first call: the warm-up and traced calls (everything lt.compile does
  before it replays) with an empty cache directory: scheduling, lowering and
  compiling every kernel (the new kernels of one schedule together, on
  several threads: runtime/compiler.compile_many);
- warm first call: the same with the directory a previous process filled:
  the recorded programs and their machine code are loaded, nothing is
  scheduled or compiled;
- second call (trace): the traced call alone, with the kernels' machine code
  on disk but no recorded programs: scheduling, lowering to kernel IR,
  rendering LLVM IR and the kernel-cache lookups of the whole step;
- steady call: one replay (best of 5 runs of 50 steps, in this process).

With `--torch-compile`, torch.compile's first two calls of the same step in a
fresh process are the peer (seconds; off by default). `main(argv)` returns
the rows as dicts {"workload", "contender", "ms"} (benchmarks/run_all.py).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if __package__ in (None, ""):  # run as a script: make the benchmarks package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import print_rows  # noqa: E402

WORKLOADS = (("MLP 64-256-10, batch 128", "mlp", 128), ("digits CNN, batch 64", "cnn", 64))

LAZYT_CALLS = """
import json, sys, time
import lazyt as lt
import benchmarks.train_step as b
kind, batch = sys.argv[1], int(sys.argv[2])
model = b.mlp(lt) if kind == "mlp" else b.cnn(lt)
x, y = b.data(lt, kind, batch)
step = lt.compile(b.make_step(lt, model))
lt.debug.reset_stats()
start = time.perf_counter()
step(x, y)
middle = time.perf_counter()
step(x, y)
end = time.perf_counter()
print(json.dumps({"first": end - start, "second": end - middle, **lt.debug.stats()}))
"""

TORCH_CALLS = """
import json, sys, time
import torch
import benchmarks.train_step as b
kind, batch = sys.argv[1], int(sys.argv[2])
torch.manual_seed(0)
model = b.mlp(torch) if kind == "mlp" else b.cnn(torch)
x, y = b.data(torch, kind, batch)
step = torch.compile(b.make_step(torch, model))
start = time.perf_counter()
step(x, y)
step(x, y)
print(json.dumps({"first": time.perf_counter() - start}))
"""


def _child(script: str, kind: str, batch: int, cache_dir: str | None = None) -> dict:
    env = dict(os.environ, PYTHONPATH=ROOT)
    if cache_dir is not None:
        env.update(LAZYT_CACHE_DIR=cache_dir, LAZYT_CACHE="1")
    out = subprocess.run([sys.executable, "-c", script, kind, str(batch)], env=env,
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _drop_programs(cache_dir: str) -> None:
    for path in glob.glob(os.path.join(cache_dir, "*", "*.prog")):
        os.remove(path)


def first_calls(kind: str, batch: int, repeats: int) -> dict:
    """Median seconds of the cold and warm first calls and of the trace, each
    in fresh processes, with the stats of the last cold and warm runs."""
    cold, warm, trace = [], [], []
    with tempfile.TemporaryDirectory() as root:
        for k in range(repeats):
            cache_dir = os.path.join(root, f"cold{k}")
            cold_run = _child(LAZYT_CALLS, kind, batch, cache_dir)
            cold.append(cold_run["first"])
        for _ in range(repeats):
            warm_run = _child(LAZYT_CALLS, kind, batch, cache_dir)
            warm.append(warm_run["first"])
        for _ in range(repeats):
            _drop_programs(cache_dir)
            trace.append(_child(LAZYT_CALLS, kind, batch, cache_dir)["second"])
    return {"cold": statistics.median(cold), "warm": statistics.median(warm),
            "trace": statistics.median(trace), "cold_stats": cold_run, "warm_stats": warm_run}


def steady_ms(kind: str, batch: int) -> float:
    import benchmarks.train_step as b
    import lazyt as lt
    model = b.mlp(lt) if kind == "mlp" else b.cnn(lt)
    x, y = b.data(lt, kind, batch)
    return b.ms_per_step(lt.compile(b.make_step(lt, model)), x, y, 50)


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--torch-compile", action="store_true",
                        help="also time torch.compile's first calls (seconds)")
    parser.add_argument("--quick", action="store_true", help="one fresh process per figure")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats = 1
    rows = []
    notes = []
    for name, kind, batch in WORKLOADS:
        measured = first_calls(kind, batch, args.repeats)
        rows += [
            {"workload": name, "contender": "lazyt cold first call", "ms": measured["cold"] * 1e3},
            {"workload": name, "contender": "lazyt warm first call", "ms": measured["warm"] * 1e3},
            {"workload": name, "contender": "lazyt second call (trace)",
             "ms": measured["trace"] * 1e3},
            {"workload": name, "contender": "lazyt steady call", "ms": steady_ms(kind, batch)},
        ]
        cold, warm = measured["cold_stats"], measured["warm_stats"]
        notes.append(f"{name}: cold compiled {cold['kernels_compiled']} kernels in "
                     f"{cold['compile_seconds'] * 1e3:.0f} ms (wall); warm loaded "
                     f"{warm.get('programs_loaded', 0)} programs, compiled "
                     f"{warm['kernels_compiled']}, scheduled {warm.get('graphs_scheduled', 0)}")
    if args.torch_compile:
        for name, kind, batch in WORKLOADS:
            try:
                seconds = _child(TORCH_CALLS, kind, batch)["first"]
            except subprocess.CalledProcessError as error:  # needs a C++ toolchain
                notes.append(f"torch.compile failed on {name}: {error.stderr.strip()[-200:]}")
                continue
            rows.append({"workload": name, "contender": "torch.compile first call",
                         "ms": seconds * 1e3})
    print_rows(rows, f"lt.compile's costs (ms; fresh processes, median of {args.repeats})")
    for note in notes:
        print(note)
    return rows


if __name__ == "__main__":
    main()
