"""CUDA kernel families on Numba's simulator, each checked against the CPU backend.

Run only with NUMBA_ENABLE_CUDASIM=1 set before numba is imported, in a
process of its own (tests/cuda/test_simulator.py spawns it). Sizes are tiny:
the simulator costs ~100 us per GPU thread.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import lazyt as lt

pytestmark = pytest.mark.skipif(os.environ.get("NUMBA_ENABLE_CUDASIM") != "1",
                                reason="needs NUMBA_ENABLE_CUDASIM=1 (tests/cuda/test_simulator.py)")

ALL_DTYPES = [lt.float32, lt.float64, lt.float16, lt.int8, lt.uint8, lt.int16, lt.int32,
              lt.int64, lt.bool]


def same(cuda_result, cpu_result, rtol=1e-5, atol=1e-6):
    assert cuda_result.device == lt.device("cuda:0")
    assert cuda_result.dtype is cpu_result.dtype
    assert tuple(cuda_result.shape) == tuple(cpu_result.shape)
    got, want = cuda_result.cpu().numpy(), cpu_result.numpy()
    if cpu_result.dtype.is_floating_point:
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
    else:
        np.testing.assert_array_equal(got, want)


def sample(shape, dtype, seed=0):
    values = np.random.default_rng(seed).uniform(-3, 3, size=shape)
    if dtype is lt.bool:
        return lt.tensor(values > 0)
    if not dtype.is_floating_point:
        values = np.round(values * 10)
        if dtype is lt.uint8:
            values = np.abs(values)
    return lt.tensor(values).to(dtype)


def test_device_model():
    assert lt.cuda.is_available() and lt.cuda.device_count() == 1
    x = lt.tensor([1.0, 2.0]).to("cuda")
    assert x.device == lt.device("cuda", 0) and x.is_cuda
    assert str(x) == "tensor([1., 2.], device='cuda:0')"
    assert x.cpu().device == lt.device("cpu") and x.cuda() is x
    assert lt.cuda.memory_allocated() >= 8
    lt.cuda.synchronize()
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device, "
                       "but found at least two devices, cuda:0 and cpu!"):
        x + lt.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="can't convert cuda:0 device type tensor to numpy"):
        x.numpy()
    assert lt.zeros(2, 3, device="cuda").device.type == "cuda"
    assert lt.zeros_like(x).device.type == "cuda"
    assert x.item if x.numel() != 1 else True


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: d.name)
def test_elementwise_every_dtype(dtype):
    a, b = sample((3, 4), dtype, 1), sample((3, 4), dtype, 2)
    ca, cb = a.cuda(), b.cuda()
    if dtype is lt.bool:
        same(ca & cb, a & b)
        same(ca | ~cb, a | ~b)
        return
    same(ca + cb, a + b)
    same(ca * cb, a * b)
    same(ca == cb, a == b)
    same(lt.maximum(ca, cb), lt.maximum(a, b))
    same(ca.abs(), a.abs())
    if dtype is not lt.uint8:
        same(ca - cb, a - b)
    if dtype.is_floating_point:
        tol = 2e-3 if dtype is lt.float16 else 1e-5
        same(ca / cb, a / b, rtol=tol)
        same((ca * cb + 1).relu(), (a * b + 1).relu(), rtol=tol)
        same(ca.exp(), a.exp(), rtol=tol)
        same(lt.tanh(ca), lt.tanh(a), rtol=tol, atol=1e-3 if dtype is lt.float16 else 1e-6)
        same(ca.sigmoid(), a.sigmoid(), rtol=tol, atol=1e-3 if dtype is lt.float16 else 1e-6)
    same(ca.to(lt.float32), a.to(lt.float32))
    same(lt.where(ca > cb, ca, cb), lt.where(a > b, a, b))


def test_float_math_functions():
    x = sample((2, 5), lt.float32, 3)
    cx = x.cuda()
    for name in ("sin", "cos", "floor", "ceil", "round", "trunc", "erf", "log1p", "expm1",
                 "sqrt", "log", "rsqrt"):
        same(getattr(lt, name)(cx), getattr(lt, name)(x), rtol=1e-5, atol=1e-6)
    same(cx.pow(2), x.pow(2))
    same(lt.remainder(cx, 1.5), lt.remainder(x, 1.5))
    same(lt.atan2(cx, cx + 1), lt.atan2(x, x + 1))
    same(x.cuda().isnan(), x.isnan())


def test_integer_wraparound_and_division():
    a = lt.tensor([100, -100, 7, -7], dtype=lt.int8)
    b = lt.tensor([100, 100, 2, 2], dtype=lt.int8)
    same(a.cuda() + b.cuda(), a + b)
    same(lt.floor_divide(a.cuda(), b.cuda()), lt.floor_divide(a, b))
    same(lt.remainder(a.cuda(), b.cuda()), lt.remainder(a, b))
    same(lt.fmod(a.cuda(), b.cuda()), lt.fmod(a, b))
    same(a.cuda().pow(2), a.pow(2))
    exponents = lt.tensor([3, -1, 2, 7], dtype=lt.int8)  # (by squaring, inline; wraps)
    bases = lt.tensor([-3, -1, 5, 2], dtype=lt.int8)
    same(bases.cuda().pow(exponents.cuda()), bases.pow(exponents))
    unsigned = lt.tensor([3, 255, 2, 1], dtype=lt.uint8)
    same(unsigned.cuda().pow(unsigned.cuda()), unsigned.pow(unsigned))


@pytest.mark.parametrize("dtype", [lt.float32, lt.float64, lt.int32, lt.bool],
                         ids=lambda d: d.name)
def test_reductions(dtype):
    x = sample((3, 5), dtype, 4)
    cx = x.cuda()
    same(cx.sum(), x.sum())
    same(cx.sum(1), x.sum(1))
    same(cx.sum(0, keepdim=True), x.sum(0, keepdim=True))
    if dtype is not lt.bool:
        same(cx.amax(1), x.amax(1))
        same(cx.argmax(1), x.argmax(1))
        same(cx.argmin(), x.argmin())
    if dtype.is_floating_point:
        same(cx.mean(0), x.mean(0))
        same(cx.softmax(1), x.softmax(1))
        same(cx.var(1), x.var(1))
    same(cx.any(1), x.any(1))


def test_movement_and_views():
    x = sample((2, 3, 4), lt.float32, 5)
    cx = x.cuda()
    same(cx.transpose(0, 2).contiguous(), x.transpose(0, 2).contiguous())
    same(cx[:, 1:, ::2] * 2, x[:, 1:, ::2] * 2)
    same(cx.flip(1) + cx, x.flip(1) + x)
    same(cx.reshape(6, 4).t() + 1, x.reshape(6, 4).t() + 1)
    same(cx[0].expand(3, 3, 4) + 0, x[0].expand(3, 3, 4) + 0)
    same(lt.cat([cx, cx * 2], 1), lt.cat([x, x * 2], 1))
    view = cx[1]
    view += 1  # a write through a view changes the base
    x[1] += 1
    same(cx, x)
    same(lt.nn.functional.pad(cx, (1, 1)), lt.nn.functional.pad(x, (1, 1)))
    # A zero pad in deferred mode: masked loads in the kernel that reads it
    # (a shifted sum, as a convolution's col2im), and exp of the padding is 1.
    for device_x in (cx, x):
        with lt.deferred():
            padded = lt.nn.functional.pad(device_x, (1, 2, 1, 0))
            shifted = padded[:, :, 1:4] + padded[:, :, 0:3].flip(2)
            exp_pad = padded.exp()
        if device_x is cx:
            cuda_results = (shifted, exp_pad)
    same(cuda_results[0], shifted)
    same(cuda_results[1], exp_pad)


def test_gather_scatter_and_bounds_errors():
    x = sample((3, 4), lt.float32, 6)
    index = lt.tensor([[0, 3], [2, 1], [1, 1]])
    cx, cindex = x.cuda(), index.cuda()
    same(lt.gather(cx, 1, cindex), lt.gather(x, 1, index))
    same(cx[cindex[:, 0]], x[index[:, 0]])
    same(cx.index_select(1, cindex[0]), x.index_select(1, index[0]))
    updated, expected = cx.clone(), x.clone()
    updated[cindex[:, 0]] = 5.0
    expected[index[:, 0]] = 5.0
    same(updated, expected)
    same(lt.zeros(3, 4, device="cuda").scatter_add(1, cindex, cx[:, :2]),
         lt.zeros(3, 4).scatter_add(1, index, x[:, :2]))
    with pytest.raises(IndexError, match="index 7 is out of bounds for dimension 0 with size 3"):
        cx[lt.tensor([7]).cuda()]
    with pytest.raises(RuntimeError, match="index 9 is out of bounds for dimension 1"):
        lt.gather(cx, 1, lt.tensor([[9]]).cuda())


def test_random_numbers_match_the_cpu_stream():
    lt.manual_seed(3)
    cpu_uniform, cpu_normal = lt.rand(7), lt.randn(5, dtype=lt.float64)
    lt.manual_seed(3)
    gpu_uniform = lt.rand(7, device="cuda")
    gpu_normal = lt.randn(5, dtype=lt.float64, device="cuda")
    same(gpu_uniform, cpu_uniform, rtol=0, atol=0)
    same(gpu_normal, cpu_normal, rtol=1e-12, atol=1e-12)
    # Drawn by a CUDA kernel (in place on a CUDA tensor): the same counter-based stream.
    lt.manual_seed(4)
    on_gpu = lt.empty(6, device="cuda").uniform_()
    on_gpu_normal = lt.empty(4, dtype=lt.float64, device="cuda").normal_()
    lt.manual_seed(4)
    same(on_gpu, lt.empty(6).uniform_(), rtol=0, atol=0)
    same(on_gpu_normal, lt.empty(4, dtype=lt.float64).normal_(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [lt.float32, lt.float64, lt.int64], ids=lambda d: d.name)
def test_matmul(dtype):
    a, b = sample((5, 7), dtype, 7), sample((7, 3), dtype, 8)
    same(a.cuda() @ b.cuda(), a @ b, rtol=1e-5)
    same(a.cuda().t().t() @ b.cuda().t().contiguous().t(), a @ b, rtol=1e-5)
    batched_a, batched_b = sample((2, 3, 4), dtype, 9), sample((4, 2), dtype, 10)
    same(batched_a.cuda() @ batched_b.cuda(), batched_a @ batched_b, rtol=1e-5)


def test_deferred_mode_fuses_on_cuda():
    a, b, c = (sample((4, 5), lt.float32, s) for s in (11, 12, 13))
    ca, cb, cc = a.cuda(), b.cuda(), c.cuda()
    with lt.deferred():
        fused = (ca * cb + cc).relu().sum(1)
        assert fused.device == lt.device("cuda:0")
    same(fused, (a * b + c).relu().sum(1))


def test_unsupported_ops_name_themselves():
    with pytest.raises(RuntimeError, match="igamma"):
        lt.special.gammainc(lt.ones(2, device="cuda"), lt.ones(2, device="cuda"))
    # The CPU-only externs refuse CUDA tensors instead of computing on the host.
    with pytest.raises(RuntimeError, match="sort is not implemented for cuda:0 tensors"):
        lt.ones(3, device="cuda").sort()
    with pytest.raises(RuntimeError, match="linalg.inv is not implemented for cuda:0"):
        lt.linalg.inv(lt.eye(2, device="cuda"))


def _simulated_shfl_down_sync(self, mask, value, delta):
    """cuda.shfl_down_sync for the simulator (which has none), for blocks of
    at most one warp whose threads all shuffle: each thread publishes its
    value, the block meets, each reads lane + delta's (its own past the warp
    or outside the mask, as the hardware)."""
    import threading

    thread = threading.current_thread()
    exchange = thread._manager.__dict__.setdefault("lazyt_shuffle", {})
    exchange[thread.thread_id] = value
    thread.syncthreads()
    lane = thread.thread_id % 32
    source = lane + delta
    result = value
    if source < 32 and (mask >> source) & 1 and thread.thread_id + delta in exchange:
        result = exchange[thread.thread_id + delta]
    thread.syncthreads()
    return result


def test_block_reductions_ending_with_warp_shuffles(monkeypatch):
    """The GPU's form of a long-row reduction (a shared-memory tree down to a
    warp, then shfl_down_sync), run with an emulated shuffle."""
    from numba.cuda.simulator.kernelapi import FakeCUDAModule

    from lazyt.engine.realize import backend_for
    from lazyt.runtime.cuda import row_block_size

    assert row_block_size() <= 32  # (the emulated shuffle needs the whole block in it)
    monkeypatch.setattr(FakeCUDAModule, "shfl_down_sync", _simulated_shfl_down_sync,
                        raising=False)
    backend = backend_for(lt.device("cuda:0"))
    monkeypatch.setattr(backend, "warp_shuffles", True)
    backend.kernels.clear()
    try:
        x, flags, small = sample((2, 11), lt.float32, 21), sample((2, 11), lt.bool, 22), \
            sample((2, 11), lt.int8, 23)
        x[1, 3] = float("nan")
        cx = x.cuda()
        same(cx.sum(1), x.sum(1))
        same(cx.argmax(1), x.argmax(1))
        same(cx.amin(1), x.amin(1))
        same(flags.cuda().any(1), flags.any(1))
        same(small.cuda().sum(1), small.sum(1))
        kernel = next(iter(backend.kernels.values()))
        assert "cuda.shfl_down_sync" in kernel.source
    finally:
        backend.kernels.clear()


def test_matmul_epilogue_is_fused_into_the_tiled_kernel():
    """Deferred mode on CUDA: a matmul and its elementwise consumer (bias,
    activation, a comparison) run as one launch of the tiled kernel."""
    x, w, bias = sample((5, 7), lt.float32, 31), sample((3, 7), lt.float32, 32), \
        sample((3,), lt.float32, 33)
    cx, cw, cbias = x.cuda(), w.cuda(), bias.cuda()
    for make in (lambda a, b, c: (a @ b.t() + c).relu(),
                 lambda a, b, c: lt.nn.functional.gelu(a @ b.t() * 2 + c) > 0.25):
        with lt.deferred():
            fused = make(cx, cw, cbias)
            before = lt.debug.stats()["kernel_launches"]
            fused.realize()
            assert lt.debug.stats()["kernel_launches"] - before == 1
        same(fused, make(x, w, bias))
    v = sample((3, 2), lt.float32, 35)
    with lt.deferred():  # a hidden layer kept and fed on: computed once, fused, then a matmul
        hidden = (cx @ cw.t() + cbias).relu()
        output = hidden @ v.cuda()
        before = lt.debug.stats()["kernel_launches"]
        lt.realize(hidden, output)
        assert lt.debug.stats()["kernel_launches"] - before == 2
    same(hidden, (x @ w.t() + bias).relu())
    same(output, (x @ w.t() + bias).relu() @ v)
    square = sample((4, 4), lt.float32, 34)
    csquare = square.cuda()
    with lt.deferred():  # read transposed, or kept as a result: not fused, still right
        transposed = (csquare @ csquare).t() + csquare @ csquare
        product = csquare @ csquare.t()
        activated = product.relu()
        lt.realize(transposed, product, activated)
    same(transposed, (square @ square).t() + square @ square)
    same(product, square @ square.t())
    same(activated, (square @ square.t()).relu())


def test_bfloat16_matches_the_cpu_bit_for_bit():
    """bfloat16 on CUDA: stored as 16 bits, computed in float32 and rounded to
    nearest even after every op, exactly as the CPU backend (NaN and inf too)."""
    a = lt.tensor([[1.0, -2.5, 3.14159, 1e-3], [65504.0, float("nan"), float("inf"), 1 / 3]]
                  ).to(lt.bfloat16)
    b = lt.tensor([[0.5, 0.25, -1.7, 2.0], [3.0, 1.0, 1e30, 9.9]]).to(lt.bfloat16)
    ca, cb = a.cuda(), b.cuda()

    def bits_equal(on_gpu, on_cpu):
        assert on_gpu.dtype is on_cpu.dtype and on_gpu.device.type == "cuda"
        got, want = on_gpu.cpu().to(lt.float32).numpy(), on_cpu.to(lt.float32).numpy()
        assert np.array_equal(got, want, equal_nan=True), (got, want)

    bits_equal(ca * cb + 1.1, a * b + 1.1)
    bits_equal(ca.exp() / cb, a.exp() / b)
    bits_equal(ca.sum(1), a.sum(1))
    bits_equal(ca.double().to(lt.bfloat16), a.double().to(lt.bfloat16))
    bits_equal(ca @ cb.t(), a @ b.t())
    same(ca.to(lt.float32), a.to(lt.float32), rtol=0, atol=0)


def test_special_functions_rendered_inline_match_the_cpu():
    """digamma, the modified Bessel I and K functions and the Hurwitz zeta
    (libdevice has none): the CPU helpers' algorithms in float64
    (codegen/cuda_special.py)."""
    x = lt.tensor([[-2.5, -1.0, -0.0, 0.0], [1e-3, 0.7, 3.0, 42.0]])
    same(lt.digamma(x.cuda()), lt.digamma(x), rtol=1e-6, atol=1e-6)
    same(lt.digamma(x.double().cuda()), lt.digamma(x.double()), rtol=1e-13, atol=1e-13)
    wide = lt.tensor([-25.0, -3.0, 0.5, 19.9, 60.0, float("inf")], dtype=lt.float64)
    for name in ("i0", "i1", "i0e", "i1e"):
        fn = getattr(lt.special, name)
        same(fn(wide.cuda()), fn(wide), rtol=1e-13, atol=1e-13)
    same(lt.special.i1e(wide.float().cuda()), lt.special.i1e(wide.float()), rtol=1e-6)
    positive = lt.tensor([-1.0, 0.0, 0.5, 2.5, 14.9, 16.0, float("nan")], dtype=lt.float64)
    for name in ("modified_bessel_k0", "scaled_modified_bessel_k1"):  # (all four: PTX test)
        fn = getattr(lt.special, name)
        same(fn(positive.cuda()), fn(positive), rtol=1e-13, atol=1e-13)
    s = lt.tensor([2.0, 1.0, 0.5, 3.5, 2.0, 4.0, 2.0, 1.5], dtype=lt.float64)
    q = lt.tensor([1.0, 2.0, 1.0, 0.3, -2.0, -2.5, 50.0, 1e-3], dtype=lt.float64)
    same(lt.special.zeta(s.cuda(), q.cuda()), lt.special.zeta(s, q), rtol=1e-13, atol=0)


def test_special_functions_that_libdevice_has():
    pytest.importorskip("scipy")  # (the simulator computes them with scipy.special)
    x = lt.tensor([[-0.9, -0.3, 0.0, 0.5], [0.99, 0.1, 0.7, -0.5]])
    positive = lt.tensor([[0.3, 1.0, 2.5, 7.0], [12.0, 0.05, 4.0, 30.0]])
    for tensor, name, tol in ((x, "erfinv", 1e-5), (positive, "erfcx", 1e-5)):
        fn = getattr(lt.special, name)
        same(fn(tensor.cuda()), fn(tensor), rtol=tol, atol=1e-6)
    for name in ("bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1"):
        fn = getattr(lt.special, name)
        same(fn(positive.cuda()), fn(positive), rtol=1e-4, atol=1e-5)
        same(fn(positive.double().cuda()), fn(positive.double()), rtol=1e-10, atol=1e-12)
