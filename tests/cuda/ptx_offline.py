"""Compile every CUDA kernel family lazyt generates to PTX for sm_90 and link
it to a cubin, without a GPU (numba-cuda + NVVM/nvJitLink wheels: the
`cuda-offline` extras). Run as a script in its own process, without
NUMBA_ENABLE_CUDASIM (tests/cuda/test_ptx_offline.py spawns it): a kernel
only the simulator accepts fails here.

It runs a workload on the CPU that exercises every kernel family
(elementwise ops and reductions over every dtype, the whole op list for
float32 and int32, movement, gather/scatter, random numbers, scans, an MLP training
step fused in deferred mode; about a minute on 2 busy cores), captures the
kernel IR the CPU backend is given, renders each with the CUDA renderer (a
reduction's block-per-row form with warp shuffles, as a GPU runs it) and
compiles it; then the matmul kernel for each dtype, and matmuls with fused
elementwise epilogues (bias, ReLU, GELU, a comparison, integer ops). Exit 77: the offline
toolchain is missing (skip); 1: some kernel failed (listed).
"""

from __future__ import annotations

import os
import sys
import time

assert os.environ.get("NUMBA_ENABLE_CUDASIM") != "1", "run without the simulator"

try:
    from cuda.core import Linker, LinkerOptions, ObjectCode
    from numba import cuda

    def _probe(a):
        a[0] = 1.0

    cuda.compile_ptx(_probe, "void(float32[::1])", cc=(9, 0))
except Exception as error:  # no numba-cuda, NVVM or cuda.core: nothing to check here
    print(f"offline CUDA toolchain unavailable: {type(error).__name__}: {error}")
    sys.exit(77)

import lazyt as lt  # noqa: E402
import lazyt.nn as nn  # noqa: E402
import lazyt.nn.functional as F  # noqa: E402
from lazyt.codegen.cuda import CudaUnsupported, render_cuda  # noqa: E402
from lazyt.codegen.cuda_matmul import render_matmul  # noqa: E402
from lazyt.engine import realize  # noqa: E402
from lazyt.engine.realize import CPU_BACKEND  # noqa: E402
from lazyt.runtime.cuda import kernel_namespace  # noqa: E402

captured = {}
cpu_compile = CPU_BACKEND.compile


def capture(kernel):
    captured.setdefault(kernel, None)
    return cpu_compile(kernel)


CPU_BACKEND.compile = capture
# Kernels launch one by one, as on the CUDA backend (which merges no launches).
realize._mergeable = lambda step: False


def fused(*parts) -> None:
    """Realise the parts as one fused kernel (deferred mode): one compile
    checks every op's template."""
    total = None
    for part in parts:
        part = part.to(lt.float64) if part.dtype is not lt.float64 else part
        total = part if total is None else total + part
    total.realize()


def workload() -> None:
    dtypes = [lt.float32, lt.float64, lt.float16, lt.bfloat16, lt.int8, lt.uint8, lt.int16,
              lt.int32, lt.int64, lt.bool]
    lt.set_mode("deferred")
    for dtype in dtypes:
        a = (lt.arange(12).reshape(3, 4) % 5).to(dtype).realize()
        b = (lt.arange(12).reshape(3, 4) % 3).to(dtype).realize()
        if dtype is lt.bool:
            fused(a & b, a | b, ~a, a == b, a ^ b, lt.maximum(a, b), a.sign())
            lt.realize(a.any(1), a.all(), a.sum(0))
            continue
        if dtype not in (lt.float32, lt.int32):  # (the whole op list for one float, one int)
            fused(a + b, a * b, a < b, lt.maximum(a, b), a.sign(), a.relu())
            a.sum(1).realize()
            continue
        parts = [a + b, a * b, a == b, a < b, a >= b, lt.maximum(a, b), lt.minimum(a, b),
                 a.abs(), a.flip(0) + a.t().t(), lt.where(a > b, a, b), a.sign(), a.ceil(),
                 a.relu(), lt.fmax(a, b), F.pad(a, (1, 1, 1, 0))[1:, 0:4]]  # (masked loads)
        if dtype is not lt.uint8:
            parts += [a - b, -a]
        if dtype.is_floating_point:
            parts += [a / (b + 1), a.exp(), a.exp2(), a.log(), a.log2(), a.log10(), a.log1p(),
                      a.expm1(), a.sqrt(), a.rsqrt(), a.sin(), a.cos(), a.tan(), a.asin(),
                      a.acos(), a.atan(), a.sinh(), a.cosh(), a.tanh(), a.asinh(),
                      (a + 1).acosh(), (a / 9).atanh(), a.sigmoid(), a.erf(), a.erfc(),
                      a.lgamma(), a.floor(), a.round(), a.trunc(), a.frac(), a.isnan(),
                      a.isinf(), a.isfinite(), a.reciprocal(), lt.remainder(a, 1.5),
                      lt.fmod(a, 1.5), a.pow(2.5), lt.atan2(a, b + 1), lt.copysign(a, -b),
                      lt.hypot(a, b), lt.logaddexp(a, b), lt.logaddexp2(a, b),
                      lt.floor_divide(a, b + 1), lt.nextafter(a, b), (a / 9).erfinv(),
                      lt.special.erfcx(a), lt.special.bessel_j0(a), lt.special.bessel_j1(a),
                      lt.special.bessel_y0(a), lt.special.bessel_y1(a), a.digamma(), a.i0(),
                      lt.special.i1(a), lt.special.i0e(a), lt.special.i1e(a),
                      lt.special.modified_bessel_k0(a), lt.special.modified_bessel_k1(a),
                      lt.special.scaled_modified_bessel_k0(a),
                      lt.special.scaled_modified_bessel_k1(a), lt.special.zeta(a + 1, b + 1)]
        else:
            parts += [lt.floor_divide(a, b + 1), lt.remainder(a, b + 1), lt.fmod(a, b + 1),
                      a.pow(2), a.pow(b), a & b, a | b, a ^ b, ~a, a << 1, a >> 1]
        fused(*parts)
        lt.realize(a.sum(1), a.amax(1), a.argmax(1), a.argmin(1), a.cumsum(1), a.amin(0),
                   a.argmax())
        if dtype is lt.float32:
            lt.realize(a.softmax(1), a.var(1))
    lt.set_mode("eager")
    x = lt.randn(4, 5)
    index = lt.tensor([[0, 3], [2, 1], [1, 1], [3, 0]])
    _ = (lt.gather(x, 1, index), x[index[:, 0]], x.index_select(1, index[0]),
         lt.zeros(4, 5).scatter_add(1, index, x[:, :2]), lt.rand(3), lt.randn(3, dtype=lt.float64))
    y = x.clone()
    y[index[:, 0]] = 2.0
    lt.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
    optimizer = lt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    inputs, targets = lt.randn(5, 6), lt.tensor([0, 2, 1, 1, 0])
    with lt.deferred():  # (eager mode's kernels are the single ops checked above)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(inputs), targets)
        loss.backward()
        optimizer.step()
        loss.item()


def epilogue_sources() -> list:
    """Matmuls with their elementwise consumer fused (codegen/cuda_epilogue.py),
    scheduled here as a CUDA realisation would schedule them."""
    from lazyt.codegen.cuda_epilogue import fuse_matmul_epilogues
    from lazyt.ir.schedule import Scheduler

    lt.set_mode("deferred")
    x, w, bias = lt.randn(5, 7).realize(), lt.randn(3, 7).realize(), lt.randn(3).realize()
    graphs = [(x @ w.t() + bias).relu(), F.gelu(x @ w.t() * 2 + bias) > 0.25,
              (x.double() @ w.double().t()).tanh() + bias,
              ((x * 4).long() @ (w * 4).long().t()).pow(2) % 7]
    sources = []
    for graph in graphs:
        scheduler = Scheduler()
        scheduler.materialize(graph._node, "requested")
        assert fuse_matmul_epilogues(scheduler) == 1, "no epilogue fused"
        for step in scheduler.steps:
            if step.node.op == "extern":
                sources.append(render_matmul(step.node.srcs[0].dtype, step.node.arg[1]))
    lt.set_mode("eager")
    return sources


def compile_and_link(source) -> float:
    namespace = kernel_namespace(source.math)
    exec(compile(source.text, f"<lazyt cuda {source.name}>", "exec"), namespace)
    ptx, _ = cuda.compile_ptx(namespace[source.name], source.signature, cc=(9, 0))
    Linker(ObjectCode.from_ptx(ptx.encode()), options=LinkerOptions(arch="sm_90")).link("cubin")
    return len(ptx)


def main() -> int:
    start = time.perf_counter()
    workload()
    sources, unsupported, failures = {}, [], []
    for kernel in captured:
        try:
            source = render_cuda(kernel)
        except CudaUnsupported as error:
            unsupported.append(f"{kernel.name}: {error}")
            continue
        sources[(source.text, source.signature)] = source
        if source.reduces_rows:  # its block-per-row form too, as a GPU runs it
            rows = render_cuda(kernel, row_block=256, warp_shuffles=True)
            sources[(rows.text, rows.signature)] = rows
    for source in [render_matmul(dtype) for dtype in (lt.float32, lt.float16, lt.int64)] + \
            epilogue_sources():
        sources[(source.text, source.signature)] = source
    for source in sources.values():
        try:
            began = time.perf_counter()
            compile_and_link(source)
            if "-v" in sys.argv:
                print(f"{source.name}: {time.perf_counter() - began:.2f} s")
        except Exception as error:
            failures.append(f"--- {source.name} {source.signature}\n{source.text}\n"
                            f"{type(error).__name__}: {str(error)[:1500]}")
    print(f"{len(captured)} kernels captured, {len(sources)} distinct CUDA sources compiled "
          f"to PTX (sm_90) and linked, {len(unsupported)} unsupported on CUDA, "
          f"{len(failures)} failed, {time.perf_counter() - start:.1f} s")
    for line in unsupported:
        print("unsupported:", line)
    for failure in failures:
        print(failure)
    return 1 if failures or not sources else 0


if __name__ == "__main__":
    sys.exit(main())
