"""The CUDA checks that run in processes of their own (the simulator suite,
the offline PTX compile and the PTX disk cache) start as soon as pytest has collected them, so they
use the machine's second core while the tests before them run; their tests
then wait for the results. Run alone, a test starts its process itself.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
TIMEOUT = 540


def _simulator():
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", PYTHONPATH=str(REPO_ROOT))
    files = sorted(str(path) for path in HERE.glob("sim_*.py"))
    return ([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0", "-W",
             "ignore::RuntimeWarning", *files], env)


def _offline_script(name: str):
    def command():
        env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
        env["PYTHONPATH"] = str(REPO_ROOT)
        return [sys.executable, str(HERE / name)], env
    return command


COMMANDS = {"simulator": _simulator, "ptx": _offline_script("ptx_offline.py"),
            "ptx_disk_cache": _offline_script("ptx_disk_cache.py")}
TESTS = {"simulator": "test_simulator.py", "ptx": "test_ptx_offline.py",
         "ptx_disk_cache": "test_ptx_offline.py"}
_RUNNING: dict[str, subprocess.Popen] = {}


def start(name: str) -> None:
    if name in _RUNNING or importlib.util.find_spec("numba") is None:
        return
    argv, env = COMMANDS[name]()
    _RUNNING[name] = subprocess.Popen(argv, env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True)


def start_selected(paths) -> None:
    """Start the runs whose tests pytest selected (called when collection ends)."""
    names = {Path(p).name for p in paths}
    for name, test_file in TESTS.items():
        if test_file in names:
            start(name)


def result(name: str) -> subprocess.CompletedProcess:
    """The finished run (started now if it was not started in the background)."""
    start(name)
    process = _RUNNING.pop(name)
    try:
        out, err = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        err += f"\n(timed out after {TIMEOUT} s)"
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


@atexit.register
def _stop_unfinished() -> None:
    for process in _RUNNING.values():
        process.kill()
