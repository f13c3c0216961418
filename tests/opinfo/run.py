"""Run PyTorch's OpInfo database against lazyt in worker processes; coverage table; known failures.

    python -m tests.opinfo.run                       # run all, print the table
    python -m tests.opinfo.run --write               # also rewrite coverage.md
    python -m tests.opinfo.run --update-known-failures   # rewrite known_failures.txt
    python -m tests.opinfo.run --full abs add        # every sample, only these OpInfos
    python -m tests.opinfo.run --save r.json; python -m tests.opinfo.run --load r.json --write

OpInfos are split over a few worker processes (each pays ~5 s of imports once).
When a worker dies (segfault, abort, a hang past its time), the OpInfo it was
running is re-run alone, so a crash fails that one OpInfo, and the OpInfos after
it go on in a fresh worker. Each OpInfo has a time limit inside its worker.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
KNOWN_FAILURES = HERE / "known_failures.txt"
COVERAGE = HERE / "coverage.md"
TIME_LIMIT_S = 60  # generous: a loaded CI machine must not turn slow into failing


def full_samples_requested() -> bool:
    return os.environ.get("LAZYT_OPINFO_FULL", "0") not in ("", "0")


# ------------------------------------------------------------------ worker side

def load_op_db():
    warnings.filterwarnings("ignore")
    from torch.testing._internal.common_methods_invocations import op_db

    return op_db


class OpTimeout(Exception):
    pass


def _on_alarm(signum, frame):
    raise OpTimeout()


def _self_test_result(key: str) -> dict:
    """Keys "selftest.pass" / "selftest.abort" exercise the crash isolation cheaply."""
    if key == "selftest.abort":
        os.abort()
    return {"key": key, "counterpart": True, "forward": "pass", "reason": "", "grad": "n/a",
            "grad_reason": "", "samples": 0, "seconds": 0.0}


def worker_main(keys: list[str], results_path: str, full: bool, time_limit: int) -> None:
    """Check each OpInfo in turn, appending one JSON line per OpInfo to results_path."""
    ops = None
    signal.signal(signal.SIGALRM, _on_alarm)
    with open(results_path, "a") as results:
        for key in keys:
            if key.startswith("selftest."):
                results.write(json.dumps(_self_test_result(key)) + "\n")
                results.flush()
                continue
            from tests.opinfo.check_op import Limits, OpResult, check_opinfo, opinfo_key

            if ops is None:
                ops = {opinfo_key(op): op for op in load_op_db()}
            limits = Limits(None, None, None) if full else Limits()
            start = time.perf_counter()
            signal.alarm(time_limit)
            try:
                result = check_opinfo(ops[key], limits)
            except OpTimeout:
                result = OpResult(key, True, "fail", f"timeout: over {time_limit} s")
            except BaseException as error:  # an error in the harness itself, kept per op
                result = OpResult(key, True, "fail", f"harness: {type(error).__name__}: {error}"[:300])
            finally:
                signal.alarm(0)
            result.seconds = round(time.perf_counter() - start, 2)
            results.write(json.dumps(result.to_json()) + "\n")
            results.flush()


# ------------------------------------------------------------------ parent side

def tested_keys() -> list[str]:
    """Keys of the OpInfos that run on the CPU in float32, int64 or bool."""
    from tests.opinfo.check_op import opinfo_key, tested_dtypes

    return [opinfo_key(op) for op in load_op_db() if tested_dtypes(op)]


def _start_worker(keys: list[str], workdir: str, serial: int, full: bool, time_limit: int):
    results_path = os.path.join(workdir, f"results{serial}.jsonl")
    log = open(os.path.join(workdir, f"log{serial}.txt"), "w")
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    # Workers share the kernels they compile (a disk cache that lives as long as the run).
    env.update(LAZYT_CACHE="1", LAZYT_CACHE_DIR=os.path.join(workdir, "kernels"))
    command = [sys.executable, "-m", "tests.opinfo.run", "--worker", "--results", results_path,
               "--time-limit", str(time_limit), *(["--full"] if full else []), *keys]
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=log)
    # Past this the worker hangs somewhere SIGALRM cannot reach (native code).
    deadline = time.monotonic() + 60 + time_limit * len(keys)
    return process, keys, results_path, log, deadline


def _read_results(path: str) -> dict[str, dict]:
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return {r["key"]: r for r in (json.loads(line) for line in f if line.strip())}


def _last_log_line(log_path: str) -> str:
    try:
        with open(log_path) as f:
            lines = [x.strip() for x in f if x.strip()]
    except OSError:
        return ""
    return lines[-1][:200] if lines else ""


def run_opinfos(keys: list[str], *, workers: int | None = None, chunks: int | None = None,
                full: bool | None = None, time_limit: int = TIME_LIMIT_S,
                progress: bool = False) -> dict[str, dict]:
    """Result (OpResult as a dict) per OpInfo key, run in crash-isolating worker processes."""
    full = full_samples_requested() if full is None else full
    workers = workers or max(1, min(os.cpu_count() or 1, 4))
    chunk_count = chunks or workers * 2
    pending = [keys[i::chunk_count] for i in range(chunk_count) if keys[i::chunk_count]]
    results: dict[str, dict] = {}
    running = []
    serial = 0
    with tempfile.TemporaryDirectory(prefix="lazyt-opinfo-") as workdir:
        while pending or running:
            while pending and len(running) < workers:
                running.append(_start_worker(pending.pop(0), workdir, serial, full, time_limit))
                serial += 1
            time.sleep(0.2)
            for entry in list(running):
                process, chunk, results_path, log, deadline = entry
                if process.poll() is None and time.monotonic() < deadline:
                    continue
                hung = process.poll() is None
                if hung:
                    process.kill()
                    process.wait()
                log.close()
                running.remove(entry)
                done = _read_results(results_path)
                results.update(done)
                missing = [k for k in chunk if k not in done]
                if not missing:
                    continue
                culprit, rest = missing[0], missing[1:]
                if len(chunk) == 1:
                    how = "hung (killed)" if hung else f"exit code {process.returncode}"
                    detail = _last_log_line(log.name)
                    results[culprit] = {"key": culprit, "counterpart": True, "forward": "fail",
                                        "reason": f"crash: worker {how}" + (f": {detail}" if detail else ""),
                                        "grad": "n/a", "grad_reason": "", "samples": 0, "seconds": 0}
                else:
                    pending.insert(0, [culprit])  # alone, so the crash is pinned on it
                if rest:
                    pending.append(rest)
            if progress:
                print(f"\r{len(results)}/{len(keys)} OpInfos", end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    return results


# ------------------------------------------------------------------ reports

def passes(result: dict) -> bool:
    return result["forward"] == "pass"


def summary(results: dict[str, dict]) -> dict[str, int]:
    rows = list(results.values())
    with_grad = [r for r in rows if r["grad"] != "n/a"]
    return {
        "opinfos": len(rows),
        "counterpart": sum(r["counterpart"] for r in rows),
        "pass": sum(passes(r) for r in rows),
        "grad_checked": len(with_grad),
        "grad_pass": sum(r["grad"] == "pass" for r in with_grad),
        "grad_pass_of_passing": sum(r["grad"] == "pass" for r in with_grad if passes(r)),
        "grad_checked_of_passing": sum(1 for r in with_grad if passes(r)),
    }


def summary_lines(results: dict[str, dict]) -> list[str]:
    s = summary(results)
    n = max(s["opinfos"], 1)
    return [
        f"OpInfos (CPU, float32/int64/bool): {s['opinfos']}",
        f"with a lazyt counterpart: {s['counterpart']} ({100 * s['counterpart'] / n:.0f}%)",
        f"passing every sample and variant: {s['pass']} ({100 * s['pass'] / n:.0f}%)",
        f"float64 gradients: {s['grad_pass']} of {s['grad_checked']} OpInfos with autograd pass "
        f"({s['grad_pass_of_passing']} of the {s['grad_checked_of_passing']} whose forward passes)",
    ]


def coverage_markdown(results: dict[str, dict], full: bool) -> str:
    samples = "every sample" if full else "the first samples of each dtype (CI limits)"
    lines = ["# lazyt against PyTorch's OpInfo database", "",
             "Generated by `python -m tests.opinfo.run --write` "
             f"({samples}; see tests/opinfo/README.md). Do not edit by hand.", ""]
    lines += [f"- {line}" for line in summary_lines(results)]
    lines += ["", "| OpInfo | counterpart | forward | grad | first failure |",
              "|---|---|---|---|---|"]
    for key in sorted(results):
        r = results[key]
        reason = r["reason"] or r["grad_reason"]
        reason = reason.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {key} | {'yes' if r['counterpart'] else 'no'} | {r['forward']} | "
                     f"{r['grad']} | {reason} |")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ known failures

PARTS = ("forward", "grad", "errors")  # what is checked per OpInfo (known_failures sections)


def read_known_failures(path: Path = KNOWN_FAILURES) -> dict[str, dict[str, str]]:
    """{"forward": {key: reason}, "grad": {key: reason}} from known_failures.txt."""
    known: dict[str, dict[str, str]] = {part: {} for part in PARTS}
    section = None
    if not path.exists():
        return known
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, _, reason = line.partition(":")
        known[section][key.strip()] = reason.strip()
    return known


_TRIAGED = ("not implemented", "unsupported", "crash", "timeout", "complex only", "sparse",
            "quantized", "wrong result")


def classify(key: str, reason: str) -> str:
    """A one-line reason for the list, from a run's first failure."""
    if reason.startswith(_TRIAGED):
        return reason
    if key.startswith(("sparse.", "to_sparse")) or "sparse" in reason.lower():
        return f"sparse: {reason}"
    if "complex" in reason.lower():
        return f"complex only: {reason}"
    variant = reason.split(" ", 1)[0]
    if "lazyt has no counterpart" in reason:
        return f"not implemented: the {variant} variant"
    unexpected = re.search(r"unexpected keyword argument '(\w+)'", reason)
    if unexpected:
        what = "out=" if unexpected.group(1) == "out" else f"argument {unexpected.group(1)}="
        return f"not implemented: {what} ({variant} variant)"
    not_implemented = re.search(r"NotImplementedError: (.*)|RuntimeError: (.* is not implemented.*"
                                r"|.* is not supported.*)", reason)
    if not_implemented:
        return f"not implemented: {next(g for g in not_implemented.groups() if g)} ({variant})"
    if re.search(r": (dtype|shape) .* != torch's|wrong values|indices do not select", reason):
        return f"wrong result: {reason}"
    return f"fails: {reason}"


def failures(results: dict[str, dict]) -> dict[str, dict[str, str]]:
    """The failing OpInfos of a run, each with a one-line reason for the list."""
    found: dict[str, dict[str, str]] = {part: {} for part in PARTS}
    for key, r in results.items():
        if r["forward"] != "pass":
            found["forward"][key] = classify(key, r["reason"])
        if r["grad"] == "fail":
            found["grad"][key] = classify(key, r["grad_reason"])
        if r.get("errors") == "fail":
            found["errors"][key] = classify(key, r["errors_reason"])
    return found


def compare_with_known(results: dict[str, dict], known=None) -> tuple[list[str], list[str]]:
    """(regressions: failing but not listed, fixed: listed but passing), over the keys that ran."""
    known = read_known_failures() if known is None else known
    failing = failures(results)
    regressions, fixed = [], []
    for part in PARTS:
        for key, reason in sorted(failing[part].items()):
            if key not in known[part]:
                regressions.append(f"{key} [{part}]: {reason}")
        for key in sorted(known[part]):
            if key in results and key not in failing[part]:
                fixed.append(f"{key} [{part}]")
    return regressions, fixed


def write_known_failures(results: dict[str, dict], path: Path = KNOWN_FAILURES) -> None:
    """Rewrite the list from a run: failing OpInfos only, keeping reasons already written."""
    known = read_known_failures(path)
    failing = failures(results)
    lines = [
        "# OpInfos of PyTorch's op_db that knowingly fail tests/opinfo, with a one-line reason.",
        "# [forward]: some sample or variant (function, method, in-place, operator, out=,",
        "# non-contiguous; float32/int64/bool) differs from torch; [grad]: float64 gradients;",
        "# [errors]: an error input does not raise torch's exception type and message.",
        "# The test fails when an OpInfo not listed here fails, and when a listed one passes:",
        "# the list only shrinks. Regenerate after a run (keeps the reasons written here):",
        "#     python -m tests.opinfo.run --update-known-failures",
        "# Reasons: complex only / sparse / quantized / not implemented: <what> /",
        "# wrong result: <what> / fails: <first error line> (not yet triaged).",
    ]
    for part in PARTS:
        lines += ["", f"[{part}]"]
        # OpInfos that did not run this time keep their lines.
        entries = {k: v for k, v in known[part].items() if k not in results}
        for key, reason in failing[part].items():
            old = known[part].get(key, "")
            entries[key] = old if old and not old.startswith("fails:") else reason
        lines += [f"{key}: {entries[key]}" for key in sorted(entries)]
    path.write_text("\n".join(lines) + "\n")


# ------------------------------------------------------------------ command line

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("keys", nargs="*", help="OpInfo keys (name or name.variant); default all")
    parser.add_argument("--full", action="store_true",
                        help="every sample (also LAZYT_OPINFO_FULL=1 or pytest --long)")
    parser.add_argument("--write", action="store_true", help="rewrite tests/opinfo/coverage.md")
    parser.add_argument("--update-known-failures", action="store_true",
                        help="rewrite tests/opinfo/known_failures.txt from this run")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--time-limit", type=int, default=TIME_LIMIT_S, help="seconds per OpInfo")
    parser.add_argument("--save", help="write the results of this run to a JSON file")
    parser.add_argument("--load", help="read results from a JSON file (--save) instead of running")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--results", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    full = args.full or full_samples_requested()
    if args.worker:
        worker_main(args.keys, args.results, full, args.time_limit)
        return 0
    start = time.perf_counter()
    if args.load:
        results = json.loads(Path(args.load).read_text())
    else:
        keys = args.keys or tested_keys()
        results = run_opinfos(keys, workers=args.workers, full=full, time_limit=args.time_limit,
                              progress=True)
    if args.save:
        Path(args.save).write_text(json.dumps(results, indent=0))
    print("\n".join(summary_lines(results)))
    print(f"({time.perf_counter() - start:.0f} s)")
    if args.keys:
        for key in args.keys:
            r = results[key]
            print(f"{key}: forward {r['forward']} {r['reason']} | grad {r['grad']} {r['grad_reason']}")
    if args.write:
        COVERAGE.write_text(coverage_markdown(results, full))
    if args.update_known_failures:
        write_known_failures(results)
    regressions, fixed = compare_with_known(results)
    for line in regressions:
        print(f"NEW FAILURE {line}")
    for line in fixed:
        print(f"NOW PASSES (remove from known_failures.txt) {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
