"""Every generated CUDA kernel family compiles to PTX for sm_90 and links to a
cubin, without a GPU (tests/cuda/ptx_offline.py, in its own process: the
real CUDA compiler and Numba's simulator cannot share one). Skipped when the
`cuda-offline` extras (numba-cuda, NVVM, nvJitLink, cuda.core) are absent.
The PTX disk cache is checked the same way (tests/cuda/ptx_disk_cache.py:
a second process loads the PTX instead of compiling it).
"""

from __future__ import annotations

import pytest

from tests.cuda import background

SKIP = 77  # the script's exit status when the offline toolchain is missing


def test_every_cuda_kernel_family_compiles_to_ptx_and_links_for_sm90():
    result = background.result("ptx")
    if result.returncode == SKIP:
        pytest.skip(result.stdout.strip() or "offline CUDA toolchain unavailable")
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-3000:]
    assert "0 failed" in result.stdout


def test_a_second_process_loads_cuda_kernels_from_the_ptx_disk_cache():
    result = background.result("ptx_disk_cache")
    if result.returncode == SKIP:
        pytest.skip(result.stdout.strip() or "offline CUDA toolchain unavailable")
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-3000:]
