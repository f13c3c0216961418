"""Runs the CUDA simulator tests (tests/cuda/sim_*.py) in their own pytest process.

NUMBA_ENABLE_CUDASIM=1 must be set before numba is first imported, and the
simulator cannot share a process with the real CUDA compiler, so the suite
that checks every CUDA kernel family against the CPU runs in a subprocess
(started in the background when collection ends: tests/cuda/background.py).
"""

from __future__ import annotations

import importlib.util

import pytest

from tests.cuda import background


@pytest.mark.skipif(importlib.util.find_spec("numba") is None, reason="numba is not installed")
def test_cuda_kernel_families_and_training_match_the_cpu_on_the_simulator():
    result = background.result("simulator")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
