"""PyTorch's own tutorials, unchanged, under real PyTorch and under lazyt
(`import lazyt as torch`), eagerly and in deferred mode, timed side by side.

    python benchmarks/pytorch_tutorials.py [DIR] [--only quickstart_tutorial,...]
                                           [--modes torch,eager,deferred] [--timeout 600]

DIR (default /tmp/pt_tutorials) holds tutorial scripts from pytorch/tutorials
("Learn the Basics" and "Learning PyTorch with Examples"); they are not part
of this repository. Each script runs in a fresh subprocess, in a scratch
working directory, three ways:

- torch:    real PyTorch (best of 1 and 2 threads, as the other benchmarks);
- eager:    lazyt put in sys.modules as `torch`, and every `torch.X` import
            (torch.nn, torch.nn.functional, torch.utils.data, torch.autograd,
            torch.optim, ...) answered by `lazyt.X`, so `import torch` and
            `from torch import nn` import lazyt with no edit to the script;
- deferred: the same, with the whole script run inside `with lt.deferred():`.

The only swap is the data: a small `torchvision` stand-in
(benchmarks/tutorial_standins/) serves the bundled digits as FashionMNIST /
MNIST and builds VGG-16 without downloading weights, for all three runs
alike; matplotlib draws with the Agg backend. A script's time is its wall
time from before its first import (so importing torch or lazyt counts) to
its end. `main(argv)` prints the table and returns rows
{"workload", "contender", "ms"}; with no DIR it returns [] and says so.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.abc
import importlib.util
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STANDINS = ROOT / "benchmarks" / "tutorial_standins"
FALLBACKS = ROOT / "benchmarks" / "tutorial_fallbacks"
DEFAULT_DIR = Path("/tmp/pt_tutorials")
MODES = ("torch", "eager", "deferred")
CONTENDERS = {"torch": "torch", "eager": "lazyt eager", "deferred": "lazyt deferred"}
# The tutorials in the order PyTorch's site teaches them; other scripts in DIR follow, sorted.
TUTORIAL_ORDER = (
    "quickstart_tutorial", "tensorqs_tutorial", "data_tutorial", "buildmodel_tutorial",
    "autogradqs_tutorial", "optimization_tutorial", "saveloadrun_tutorial",
    "polynomial_tensor", "polynomial_autograd", "polynomial_custom_function",
    "polynomial_nn", "polynomial_optim", "polynomial_module", "dynamic_net",
)


# ---------------------------------------------------------------------------
# The child: one script, one mode, in this process.
# ---------------------------------------------------------------------------

class _TorchAliasLoader(importlib.abc.Loader):
    """Loads `torch.X` as the already-importable module `lazyt.X`."""

    def __init__(self, target: str):
        self.target = target

    def create_module(self, spec):
        return importlib.import_module(self.target)

    def exec_module(self, module) -> None:
        pass


class TorchAliasFinder(importlib.abc.MetaPathFinder):
    """Answers `import torch` / `import torch.X` with lazyt / lazyt.X; a
    `torch.X` that lazyt lacks fails as a missing module would."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "torch" and not fullname.startswith("torch."):
            return None
        lazyt_name = "lazyt" + fullname[len("torch"):]
        if importlib.util.find_spec(lazyt_name) is None:
            return None
        return importlib.util.spec_from_loader(fullname, _TorchAliasLoader(lazyt_name))


def install_lazyt_as_torch():
    """Make every later `import torch...` import lazyt; returns lazyt."""
    for name in [n for n in sys.modules if n == "torch" or n.startswith("torch.")]:
        del sys.modules[name]
    sys.meta_path.insert(0, TorchAliasFinder())
    import lazyt

    for name, module in list(sys.modules.items()):
        if name == "lazyt" or name.startswith("lazyt."):
            sys.modules["torch" + name[len("lazyt"):]] = module
    return lazyt


def run_child(mode: str, script: str, threads: int, result_path: str) -> None:
    """Run one tutorial script as __main__ and write {"seconds", "error"} to result_path."""
    import runpy

    sys.path.insert(0, str(STANDINS))
    if importlib.util.find_spec("pandas") is None:
        sys.path.append(str(FALLBACKS))
    sys.argv = [script]
    random.seed(0)                       # dynamic_net draws its depth from `random`
    error = None
    start = time.perf_counter()
    try:
        if mode == "torch":
            import torch

            torch.set_num_threads(threads)
            runpy.run_path(script, run_name="__main__")
        else:
            lazyt = install_lazyt_as_torch()
            if mode == "deferred":
                with lazyt.deferred():
                    runpy.run_path(script, run_name="__main__")
            else:
                runpy.run_path(script, run_name="__main__")
    except BaseException as exc:         # noqa: BLE001 - reported, then re-raised
        error = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        raise
    finally:
        seconds = time.perf_counter() - start
        Path(result_path).write_text(json.dumps({"seconds": seconds, "error": error}))


# ---------------------------------------------------------------------------
# The parent: every script, every mode, each in a fresh subprocess.
# ---------------------------------------------------------------------------

def tutorial_scripts(directory: Path, only: list[str] | None) -> list[Path]:
    scripts = {p.stem: p for p in directory.glob("*.py")}
    ordered = [n for n in TUTORIAL_ORDER if n in scripts] + sorted(set(scripts) - set(TUTORIAL_ORDER))
    if only:
        ordered = [n for n in ordered if n in only]
    return [scripts[n] for n in ordered]


def run_once(script: Path, mode: str, threads: int, timeout: float) -> dict:
    """One fresh subprocess; returns {"seconds", "ok", "error", "stdout"}."""
    with tempfile.TemporaryDirectory(prefix="pt_tutorial_") as workdir:
        result_path = os.path.join(workdir, "_result.json")
        env = dict(os.environ, MPLBACKEND="Agg",
                   PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
        command = [sys.executable, "-m", "benchmarks.pytorch_tutorials", "--child", mode,
                   "--threads", str(threads), "--result", result_path, str(script.resolve())]
        start = time.perf_counter()
        try:
            done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"seconds": time.perf_counter() - start, "ok": False,
                    "error": f"timed out after {timeout:.0f} s", "stdout": ""}
        wall = time.perf_counter() - start
        result = json.loads(Path(result_path).read_text()) if os.path.exists(result_path) else {}
    error = result.get("error")
    if done.returncode != 0 and not error:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        error = lines[-1][:200] if lines else f"exit status {done.returncode}"
    return {"seconds": result.get("seconds", wall), "ok": done.returncode == 0 and not error,
            "error": error, "stdout": done.stdout}


def run_mode(script: Path, mode: str, timeout: float, torch_threads: list[int]) -> dict:
    if mode != "torch":
        return run_once(script, mode, 0, timeout)
    runs = [run_once(script, mode, n, timeout) for n in torch_threads]
    passing = [r for r in runs if r["ok"]] or runs
    return min(passing, key=lambda r: r["seconds"])


def format_cell(run: dict | None, baseline: dict | None) -> str:
    if run is None:
        return f"{'-':>16s}"
    ratio = ""
    if baseline is not None and baseline["ok"] and baseline["seconds"] > 0:
        ratio = f"({run['seconds'] / baseline['seconds']:.2f}x)"
    return f"{run['seconds']:7.2f} {ratio:>8s}"


def print_table(results: dict[str, dict[str, dict]], modes: list[str]) -> None:
    header = f"{'script':28s}" + "".join(f"{CONTENDERS[m] + ' s':>17s}" for m in modes) + "  result"
    print(header)
    print("-" * len(header))
    for name, runs in results.items():
        baseline = runs.get("torch")
        cells = "".join(format_cell(runs.get(m), baseline if m != "torch" else None)
                        for m in modes)
        failures = [f"{m}: {runs[m]['error']}" for m in modes if m in runs and not runs[m]["ok"]]
        print(f"{name:28s}{cells}  {'pass' if not failures else 'FAIL ' + ' | '.join(failures)}")


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", default=str(DEFAULT_DIR))
    parser.add_argument("--only", default="", help="comma-separated script names (no .py)")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per run")
    parser.add_argument("--torch-threads", default="1,2", help="PyTorch thread counts; best counts")
    parser.add_argument("--repeat", type=int, default=1, help="runs per cell; the median counts")
    parser.add_argument("--verbose", action="store_true", help="print each failing run's stdout tail")
    args = parser.parse_args(argv)
    directory = Path(args.directory)
    if not directory.is_dir():
        print(f"pytorch_tutorials: skipped ({directory} does not exist; fetch the tutorial "
              "scripts from pytorch/tutorials into it)")
        return []
    modes = [m for m in args.modes.split(",") if m]
    unknown = set(modes) - set(MODES)
    if unknown:
        parser.error(f"unknown modes {sorted(unknown)}; choose from {MODES}")
    if "torch" in modes and importlib.util.find_spec("torch") is None:
        print("pytorch_tutorials: PyTorch is not installed; running lazyt only")
        modes.remove("torch")
    threads = [int(n) for n in args.torch_threads.split(",") if n]
    only = [n for n in args.only.split(",") if n] or None
    results: dict[str, dict[str, dict]] = {}
    rows = []
    for script in tutorial_scripts(directory, only):
        runs = {}
        for mode in modes:
            repeats = [run_mode(script, mode, args.timeout, threads) for _ in range(args.repeat)]
            run = dict(repeats[0], seconds=statistics.median(r["seconds"] for r in repeats),
                       ok=all(r["ok"] for r in repeats))
            runs[mode] = run
            if args.verbose and not run["ok"]:
                print(f"--- {script.stem} [{mode}] stdout tail:\n{run['stdout'][-1500:]}")
            rows.append({"workload": f"tutorial {script.stem}", "contender": CONTENDERS[mode],
                         "ms": run["seconds"] * 1000.0 if run["ok"] else float("nan")})
        results[script.stem] = runs
        print(f"  ran {script.stem}", file=sys.stderr, flush=True)
    print("PyTorch tutorials, unchanged (`import lazyt as torch`), wall seconds per script "
          "(ratio to PyTorch)")
    print_table(results, modes)
    return rows


def _child_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", choices=MODES, required=True)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--result", required=True)
    parser.add_argument("script")
    args = parser.parse_args(argv)
    run_child(args.child, args.script, args.threads or 1, args.result)


if __name__ == "__main__":
    if "--child" in sys.argv[1:]:
        _child_main(sys.argv[1:])
    else:
        main()
