"""Every benchmark in one run, one table: workload, contender, median, the
ratio to the best peer (numpy / PyTorch / torch.compile) and to the memory
floor, with the machine it ran on.

    python benchmarks/run_all.py [--quick] [--only NAME ...] [--markdown FILE] [--json FILE]

Each benchmark runs in a fresh process (its own imports, thread settings and
caches; torch.compile's workers die with it) through its `main(argv)`, which
returns row dicts (benchmarks/common.py). Run it with nothing else busy: on
this 2-core machine another process easily doubles any figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: make the benchmarks package importable
    sys.path.insert(0, str(ROOT))

from benchmarks.common import print_rows, with_ratios  # noqa: E402

# (module, full argv, quick argv): the order is the order of the table.
BENCHMARKS = [
    ("eager_dispatch", [], ["--quick"]),
    ("fusion", ["--no-torch-compile"], ["--small", "--no-torch-compile", "--repeat", "3"]),
    ("reductions", [], ["--quick"]),
    ("train_step", ["--no-torch-compile", "--no-first-call"],
     ["--no-torch-compile", "--no-first-call", "--steps", "5"]),
    ("kernel_counts", [], []),
    ("deferred_loop", [], ["--ks", "1", "10", "--steps", "20"]),
    ("compile_time", ["--torch-compile"], ["--quick"]),
    ("conv", [], ["--quick"]),
]

RUNNER = """
import json, sys
from benchmarks import {module} as bench
rows = bench.main({argv!r})
with open({out!r}, "w") as f:
    json.dump(rows, f)
"""


def run_one(module: str, argv: list[str], timeout: float) -> tuple[list[dict], str]:
    """Rows of one benchmark run in a fresh process, or ([], why it failed)."""
    if not (ROOT / "benchmarks" / f"{module}.py").exists():
        return [], "not present"
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "rows.json")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p))
        try:
            done = subprocess.run(
                [sys.executable, "-c", RUNNER.format(module=module, argv=argv, out=out)],
                cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return [], f"timed out after {timeout:.0f} s"
        if done.returncode != 0 or not os.path.exists(out):
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            return [], f"failed: {last}"
        with open(out) as f:
            return json.load(f), ""


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    versions = [f"Python {platform.python_version()}"]
    for name in ("numpy", "torch", "llvmlite"):
        try:
            versions.append(f"{name} {__import__(name).__version__}")
        except ImportError:
            pass
    return f"{cpu}, {os.cpu_count()} cores; " + ", ".join(versions)


def markdown(rows: list[dict]) -> str:
    """The table as markdown (for the README): lazyt rows get their ratios."""
    lines = ["| workload | contender | ms | / best peer | / floor |", "|---|---|---|---|---|"]
    for r, peer, floor in with_ratios(rows):
        if "ms" not in r:
            lines.append(f"| {r['workload']} | {r['contender']} | {r['value']} {r['unit']} | | |")
            continue
        peer_text = "" if peer is None else f"{peer:.2f}"
        floor_text = "" if floor is None else f"{floor:.2f}"
        lines.append(f"| {r['workload']} | {r['contender']} | {r['ms']:.4g} | {peer_text} "
                     f"| {floor_text} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and few repeats")
    parser.add_argument("--only", nargs="+", metavar="NAME",
                        help="run only these benchmarks (module names)")
    parser.add_argument("--markdown", metavar="FILE", help="also write the table as markdown")
    parser.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    parser.add_argument("--timeout", type=float, default=1200, help="seconds per benchmark")
    args = parser.parse_args(argv)
    known = [name for name, _, _ in BENCHMARKS]
    for name in args.only or []:
        if name not in known:
            parser.error(f"unknown benchmark {name!r}; choose from {', '.join(known)}")
    rows, skipped = [], []
    started = time.perf_counter()
    for module, full, quick in BENCHMARKS:
        if args.only and module not in args.only:
            continue
        print(f"[run_all] {module} ...", flush=True)
        got, why = run_one(module, quick if args.quick else full, args.timeout)
        if why:
            skipped.append(f"{module}: {why}")
        rows.extend(got)
    print()
    print_rows(rows, f"lazyt benchmarks on {machine()}\n"
                     f"(PyTorch: best of 1 and 2 threads; ratios below 1.0: lazyt is faster)")
    for line in skipped:
        print(f"skipped {line}")
    print(f"[run_all] {time.perf_counter() - started:.0f} s")
    if args.markdown:
        Path(args.markdown).write_text(f"Machine: {machine()}\n\n" + markdown(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return rows


if __name__ == "__main__":
    main()
