"""The device model without a GPU: availability, errors, and import cost.

This machine's CI has no NVIDIA driver (and these tests do not set the
simulator flag), so CUDA is unavailable here: asking for it must raise
PyTorch's kind of RuntimeError naming why, and `import lazyt` must not
import numba.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import lazyt as lt

NO_CUDA = not lt.cuda.is_available()


def test_import_lazyt_does_not_import_numba():
    code = ("import sys, lazyt as lt; lt.cuda.is_available(); lt.tensor([1.0]) + 1; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('numba', 'numba_cuda')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=dict(os.environ, PYTHONPATH=os.getcwd()))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_devices_parse_as_pytorch():
    assert lt.device("cuda:1") == lt.device("cuda", 1)
    assert str(lt.device("cuda", 0)) == "cuda:0"
    assert lt.tensor([1.0]).device == lt.device("cpu") and not lt.tensor([1.0]).is_cuda


@pytest.mark.skipif(not NO_CUDA, reason="a CUDA device (or the simulator) is present")
def test_cuda_requests_without_a_gpu_raise_a_clear_error():
    assert lt.cuda.device_count() == 0
    for make in (lambda: lt.tensor([1.0]).to("cuda"), lambda: lt.tensor([1.0]).cuda(),
                 lambda: lt.zeros(2, device="cuda:0"), lambda: lt.randn(2, device="cuda")):
        with pytest.raises(RuntimeError, match="CUDA is not available: .*(driver|numba)"):
            make()
    lt.cuda.manual_seed(0)  # a no-op without CUDA, as in PyTorch
    lt.cuda.manual_seed_all(0)
    assert lt.cuda.memory_allocated() == 0
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        lt.cuda.synchronize()


def test_cpu_tensor_cpu_is_itself():
    t = lt.ones(2)
    assert t.cpu() is t and t.to("cpu") is t
