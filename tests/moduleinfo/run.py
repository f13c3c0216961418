"""Run tests/moduleinfo's checks: worker processes, the known-failure list, the command line.

    python -m tests.moduleinfo.run                    # CI samples of every ModuleInfo
    python -m tests.moduleinfo.run --full -v nn.LSTM  # every sample of some, each failure
    python -m tests.moduleinfo.run --full --update-known-failures

ModuleInfos are spread over worker processes (each pays ~8 s of imports once) that
share a kernel disk cache for the run; a worker that dies fails the ModuleInfos it
had not reported.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
KNOWN_FAILURES = HERE / "known_failures.txt"
WORKERS = 2


# ------------------------------------------------------------------ known failures

def read_known_failures(path: Path = KNOWN_FAILURES) -> dict[str, str]:
    """{key: reason}; a key is a sample ("nn.LSTM[train#3]") or a whole ModuleInfo ("nn.LPPool1d")."""
    known: dict[str, str] = {}
    if not path.exists():
        return known
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, _, reason = line.partition(": ")
        known[key.strip()] = reason.strip()
    return known


def module_name_of(key: str) -> str:
    return key.split("[", 1)[0]


def compare_with_known(results: list, known: dict[str, str] | None = None
                       ) -> tuple[list[str], list[str]]:
    """(regressions: failing samples not listed, fixed: listed keys whose samples all pass now).

    Only keys that ran count: a sample key when that sample ran, a ModuleInfo key
    when any of its samples ran."""
    known = read_known_failures() if known is None else known
    regressions, fixed = [], []
    failing_modules, ran_modules = set(), set()
    ran = {r.key: r for r in results}
    for result in results:
        module = module_name_of(result.key)
        ran_modules.add(module)
        if result.passed:
            continue
        failing_modules.add(module)
        if result.key not in known and module not in known:
            regressions.append(f"{result.key}: {result.reason}")
    for key in known:
        if key in ran and ran[key].passed:
            fixed.append(key)
        elif "[" not in key and key in ran_modules and key not in failing_modules:
            fixed.append(key)
    return regressions, fixed


_HEADER = """\
# Samples of PyTorch's module_db (torch.testing._internal.common_modules) that knowingly
# fail tests/moduleinfo, with a one-line triaged reason. A key is a sample,
# "nn.Name[mode#i]" (the i-th sample of module_inputs_func in that mode: train, eval,
# double = float64, noncontig = non-contiguous inputs), or a whole ModuleInfo, "nn.Name"
# (every sample fails). The test fails when a sample fails that is not listed, and when
# a listed key passes: the list only shrinks. Regenerate after a full run (keeps the
# reasons written here; replace a "fails: ..." line with a triaged reason):
#     python -m tests.moduleinfo.run --full --update-known-failures
"""


def write_known_failures(results: list, path: Path = KNOWN_FAILURES) -> None:
    """Rewrite the list from a run, keeping the reasons already written for keys still failing."""
    known = read_known_failures(path)
    by_module: dict[str, list] = {}
    for result in results:
        by_module.setdefault(module_name_of(result.key), []).append(result)
    entries = {k: v for k, v in known.items() if module_name_of(k) not in by_module}
    for module, rows in by_module.items():
        failing = [r for r in rows if not r.passed]
        if failing and len(failing) == len(rows) and (module in known or len(rows) > 1
                                                      or rows[0].key == module):
            entries[module] = known.get(module) or failing[0].reason
            continue
        for result in failing:
            entries[result.key] = known.get(result.key) or result.reason
    lines = [_HEADER]
    lines += [f"{key}: {entries[key]}" for key in sorted(entries)]
    path.write_text("\n".join(lines) + "\n")


def full_run_requested() -> bool:
    return any(os.environ.get(name, "0") not in ("", "0")
               for name in ("LAZYT_MODULEINFO_FULL", "LAZYT_OPINFO_FULL"))


# ------------------------------------------------------------------ workers

def worker_main(names: list[str], results_path: str, full: bool) -> None:
    """Check each named ModuleInfo, appending one JSON line per ModuleInfo to results_path."""
    from tests.moduleinfo import check_module as check  # (torch's test modules: workers only)

    infos = {m.name: m for m in check.load_module_db()}
    with open(results_path, "a") as out:
        for name in names:
            start = time.perf_counter()
            rows = check.check_moduleinfo(infos[name], full)
            out.write(json.dumps({"name": name, "seconds": round(time.perf_counter() - start, 2),
                                  "results": [[r.key, r.passed, r.reason] for r in rows]}) + "\n")
            out.flush()


def _as_results(rows: list) -> list:
    from tests.moduleinfo.check_module import SampleResult  # (light once torch is loaded)

    return [SampleResult(key, passed, reason) for key, passed, reason in rows]


def run_module_infos(names: list[str], full: bool, workers: int = WORKERS,
                     time_limit_s: int = 1800, progress: bool = False) -> dict[str, dict]:
    """{name: {"seconds", "results": [SampleResult]}} for each ModuleInfo, from worker processes."""
    workers = max(1, min(workers, len(names)))
    done: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="lazyt-moduleinfo-") as workdir:
        env = dict(os.environ, PYTHONPATH=str(REPO_ROOT) + os.pathsep +
                   os.environ.get("PYTHONPATH", ""))
        # Workers share the kernels they compile (a disk cache that lives as long as the run).
        env.update(LAZYT_CACHE="1", LAZYT_CACHE_DIR=os.path.join(workdir, "kernels"))
        running = []
        for index in range(workers):
            chunk = names[index::workers]  # module_db's heavy neighbours go to different workers
            path = os.path.join(workdir, f"results{index}.jsonl")
            log = open(os.path.join(workdir, f"log{index}.txt"), "w+")
            command = [sys.executable, "-m", "tests.moduleinfo.run", "--worker", "--results", path,
                       *(["--full"] if full else []), *chunk]
            process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=log)
            running.append((process, chunk, path, log))
        deadline = time.monotonic() + time_limit_s
        for process, chunk, path, log in running:
            try:
                process.wait(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if os.path.exists(path):
                with open(path) as f:
                    for line in f:
                        if line.strip():
                            entry = json.loads(line)
                            done[entry["name"]] = {"seconds": entry["seconds"],
                                                   "results": _as_results(entry["results"])}
            log.seek(0)
            last = [x.strip() for x in log.read().splitlines() if x.strip()][-1:]
            log.close()
            for name in chunk:
                if name not in done:  # the worker died (or hung) before reporting it
                    how = f"exit code {process.returncode}"
                    reason = f"crash: worker {how}" + (f": {last[0][:200]}" if last else "")
                    done[name] = {"seconds": 0.0, "results": _as_results([[name, False, reason]])}
                    break  # the ModuleInfos after it in the chunk did not run either
            for name in chunk:
                done.setdefault(name, {"seconds": 0.0, "results": _as_results(
                    [[name, False, "crash: not run (an earlier ModuleInfo crashed its worker)"]])})
    return done


# ------------------------------------------------------------------ command line

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="ModuleInfo names (nn.Linear ...); default all")
    parser.add_argument("--full", action="store_true",
                        help="every sample, every mode (also LAZYT_MODULEINFO_FULL=1 / pytest --long)")
    parser.add_argument("--update-known-failures", action="store_true",
                        help="rewrite known_failures.txt from this run (after a --full run)")
    parser.add_argument("--verbose", "-v", action="store_true",
                        help="each distinct failure of each ModuleInfo, with its samples")
    parser.add_argument("--workers", type=int, default=WORKERS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--results", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    full = args.full or full_run_requested()
    if args.worker:
        worker_main(args.names, args.results, full)
        return 0
    start = time.perf_counter()
    names = args.names or all_names()
    runs = run_module_infos(names, full, args.workers)
    results: list = []
    passing_infos = 0
    for name in names:
        rows, seconds = runs[name]["results"], runs[name]["seconds"]
        results += rows
        passing_infos += all(r.passed for r in rows)
        bad = [r for r in rows if not r.passed]
        print(f"{name}: {len(rows) - len(bad)}/{len(rows)} samples pass ({seconds:.1f} s)"
              + (f"; first: {bad[0].reason}" if bad else ""))
        if args.verbose:  # each distinct failure once, with the samples it hits
            reasons: dict[str, list[str]] = {}
            for r in bad:
                reasons.setdefault(r.reason, []).append(r.key[len(name):])
            for reason, keys in reasons.items():
                print(f"    {' '.join(keys[:6])}{' ...' if len(keys) > 6 else ''}: {reason}")
    passed = sum(r.passed for r in results)
    print(f"ModuleInfos passing every sample: {passing_infos}/{len(names)}; "
          f"samples passing: {passed}/{len(results)} ({time.perf_counter() - start:.0f} s)")
    if args.update_known_failures:
        write_known_failures(results)
    regressions, fixed = compare_with_known(results)
    for line in regressions:
        print(f"NEW FAILURE {line}")
    for line in fixed:
        print(f"NOW PASSES (remove from known_failures.txt) {line}")
    return 0


def all_names() -> list[str]:
    from tests.moduleinfo.check_module import load_module_db  # (torch's test modules: slow)

    return [m.name for m in load_module_db()]


if __name__ == "__main__":
    sys.exit(main())
