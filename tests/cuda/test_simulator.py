"""Runs the CUDA simulator tests (tests/cuda/sim_*.py) in their own pytest process.

NUMBA_ENABLE_CUDASIM=1 must be set before numba is first imported, and the
simulator cannot share a process with the real CUDA compiler, so the suite
that checks every CUDA kernel family against the CPU runs in a subprocess.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent


@pytest.mark.skipif(importlib.util.find_spec("numba") is None, reason="numba is not installed")
def test_cuda_kernel_families_and_training_match_the_cpu_on_the_simulator():
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", PYTHONPATH=str(REPO_ROOT))
    files = sorted(str(path) for path in HERE.glob("sim_*.py"))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W",
         "ignore::RuntimeWarning", *files], cwd=REPO_ROOT, env=env, capture_output=True,
        text=True, timeout=540)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert " passed" in result.stdout and "skipped" not in result.stdout, result.stdout[-2000:]
