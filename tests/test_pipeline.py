"""The pipeline is real: ops compile LLVM kernels and launch them, eager
kernels are reused across shapes, and bad indices never touch memory."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import lazyt as lt


def test_eager_multiply_add_compiles_and_launches_kernels():
    lt.debug.reset_stats()
    a = lt.tensor([1.0, 2.0, 3.0], dtype=lt.float64)
    b = lt.tensor([4.0, 5.0, 6.0], dtype=lt.float64)
    lt.debug.reset_stats()
    before = lt.debug.kernel_cache_size()
    c = a * b + 1
    stats = lt.debug.stats()
    assert stats["kernel_launches"] >= 2
    assert stats["kernels_compiled"] + stats["cache_hits"] >= 2
    assert lt.debug.kernel_cache_size() >= before
    assert c.tolist() == [5.0, 11.0, 19.0]


def test_first_use_of_an_op_compiles_a_kernel():
    lt.debug.reset_stats()
    x = lt.arange(10, dtype=lt.int16)
    lt.debug.reset_stats()
    y = x.bitwise_left_shift(3)  # an op/dtype pair nothing else in the suite uses
    assert lt.debug.stats()["kernels_compiled"] == 1
    assert lt.debug.stats()["kernel_launches"] == 1
    assert y.tolist() == [i << 3 for i in range(10)]


def test_fifty_shapes_compile_at_most_a_handful_of_kernels():
    rng = np.random.default_rng(0)
    shapes = set()
    while len(shapes) < 50:
        rank = int(rng.integers(1, 5))
        shapes.add(tuple(int(s) for s in rng.integers(1, 9, size=rank)))
    a0, b0 = lt.rand(3, 3), lt.rand(3, 3)
    _ = a0 * b0 + 1  # compile the contiguous kernels once
    lt.debug.reset_stats()
    for shape in shapes:
        a, b = lt.rand(*shape), lt.rand(*shape)
        out = a * b + 1
        assert out.shape == shape
    compiled = lt.debug.stats()["kernels_compiled"]
    assert compiled <= 4, f"{compiled} kernels compiled for 50 shapes"
    assert lt.debug.stats()["kernel_launches"] >= 150


def test_strided_views_reuse_kernels_across_shapes():
    _ = lt.rand(4, 6).t() * 2.0
    lt.debug.reset_stats()
    for n in range(2, 12):
        x = lt.rand(n, n + 3)
        y = x.t() * 2.0
        assert np.allclose(y.numpy(), x.numpy().T * 2.0)
    assert lt.debug.stats()["kernels_compiled"] <= 2


def test_new_python_scalar_does_not_recompile():
    x = lt.rand(100)
    _ = x * 0.5
    lt.debug.reset_stats()
    for lr in (0.1, 0.01, 0.001, 3.0):
        _ = x * lr
    assert lt.debug.stats()["kernels_compiled"] == 0


def test_matmul_is_a_counted_extern():
    lt.debug.reset_stats()
    a, b = lt.rand(4, 5), lt.rand(5, 3)
    lt.debug.reset_stats()
    c = a @ b
    assert lt.debug.stats()["extern_calls"] == 1
    assert np.allclose(c.numpy(), a.numpy() @ b.numpy(), rtol=1e-5)


def test_generated_llvm_ir_is_inspectable():
    x = lt.rand(8)
    _ = x.tanh()
    sources = [src for _, src in lt.debug.kernels()]
    assert any("lazyt_tanh_f32" in src for src in sources)


def test_contiguous_elementwise_kernel_vectorises():
    x = lt.rand(64)
    _ = x * 3.0 + 1.0
    from lazyt.engine.realize import CPU_BACKEND

    vectorised = [c for c in CPU_BACKEND.kernels.entries.values()
                  if "<16 x float>" in c.optimized_ir or "<8 x float>" in c.optimized_ir]
    assert vectorised


_OOB_SCRIPT = textwrap.dedent("""
    import lazyt as lt
    x = lt.arange(10)
    caught = 0
    for bad in ([0, 10], [-11], [3, 1000000000]):
        try:
            x[lt.tensor(bad)]
        except IndexError as e:
            caught += 1
            assert "out of bounds" in str(e), e
    try:
        lt.gather(lt.zeros(3, 4), 1, lt.tensor([[0, 4]]))
    except RuntimeError as e:  # PyTorch's class for gather/scatter
        assert "out of bounds for dimension 1 with size 4" in str(e), e
        caught += 1
    try:
        lt.zeros(5).index_select(0, lt.tensor([5]))
    except IndexError:
        caught += 1
    y = lt.zeros(4)
    try:
        y[lt.tensor([1, 7])] = 1.0
    except IndexError:
        caught += 1
    try:
        lt.zeros(2, 3).scatter_(1, lt.tensor([[0, 3]]), 1.0)
    except RuntimeError:
        caught += 1
    assert caught == 7, caught
    print("clean", y.tolist())
""")


def test_bad_advanced_indices_raise_index_error_in_a_clean_process():
    result = subprocess.run([sys.executable, "-c", _OOB_SCRIPT], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert "clean" in result.stdout


def test_negative_indices_wrap_like_pytorch():
    x = lt.arange(5) * 10
    assert x[lt.tensor([-1, -5, 0])].tolist() == [40, 0, 0]


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_rounds_on_store(dtype):
    torch = pytest.importorskip("torch")
    values = [1.0001, 3.14159, 65504.0, 1e-8, -2.5e-3, 300.7]
    got = (lt.tensor(values, dtype=getattr(lt, dtype)) * 1.7).float().tolist()
    want = (torch.tensor(values, dtype=getattr(torch, dtype)) * 1.7).float().tolist()
    assert got == want


def test_kernel_cache_is_bounded_and_evicted_kernels_recompile_safely():
    from lazyt.engine.realize import CPU_BACKEND

    kernels = CPU_BACKEND.kernels
    old_limit = kernels.limit
    kernels.clear()  # earlier tests may have cached these kernels already
    kernels.limit = 3
    try:
        x = lt.arange(12, dtype=lt.float64).reshape(3, 4)
        for _ in range(3):  # compile, evict and recompile a cycle of distinct kernels
            results = [x.exp().sum().item(), (x * 2).amax().item(), x.tanh().sum().item(),
                       (x - 1).abs().sum().item(), x.sqrt().prod().item()]
        assert len(kernels.entries) <= 3
        np.testing.assert_allclose(results[0], np.exp(np.arange(12.0)).sum())
        np.testing.assert_allclose(results[4], np.sqrt(np.arange(12.0)).prod())
        # Evicted from the kernel cache is not freed: the plan and dispatch
        # caches still call these kernels, so their machine code stays.
        from lazyt import eager_cache
        from lazyt.engine.plans import PLANS

        programs = PLANS.programs() + [entry.program for entry in eager_cache._ENTRIES.values()]
        held = [launch.kernel for program in programs for launch in program.launches
                if hasattr(launch, "kernel")]  # (an eager matmul's Program holds an extern)
        assert held
        assert not any(getattr(kernel, "released", False) for kernel in held)
    finally:
        kernels.limit = old_limit


def test_caches_do_not_keep_tensor_storage_alive():
    import gc
    import weakref

    x = lt.rand(1000)
    for _ in range(2):  # the second call is a launch-plan cache hit
        y = (x * 2).exp()
    ref = weakref.ref(y._st)
    del y
    gc.collect()
    assert ref() is None
