"""Every generated CUDA kernel family compiles to PTX for sm_90 and links to a
cubin, without a GPU (tests/cuda/ptx_offline.py, in its own process: the
real CUDA compiler and Numba's simulator cannot share one). Skipped when the
`cuda-offline` extras (numba-cuda, NVVM, nvJitLink, cuda.core) are absent.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SKIP = 77  # the script's exit status when the offline toolchain is missing


def test_every_cuda_kernel_family_compiles_to_ptx_and_links_for_sm90():
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    env["PYTHONPATH"] = str(HERE.parent.parent)
    result = subprocess.run([sys.executable, str(HERE / "ptx_offline.py")], env=env,
                            capture_output=True, text=True, timeout=540)
    if result.returncode == SKIP:
        pytest.skip(result.stdout.strip() or "offline CUDA toolchain unavailable")
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-3000:]
    assert "0 failed" in result.stdout
