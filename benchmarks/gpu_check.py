"""The CUDA backend on a real GPU: correctness of every kernel family against
the CPU backend, then bandwidth and speed against a device copy and PyTorch CUDA.

    python benchmarks/gpu_check.py            # on a machine with an NVIDIA GPU
    NUMBA_ENABLE_CUDASIM=1 python benchmarks/gpu_check.py --tiny   # anywhere (simulator)

Installs nothing. Part 1 runs each kernel family (elementwise, GELU,
reductions, softmax, layer_norm, movement, gather, scatter, random numbers,
matmul, a matmul with its fused bias+ReLU epilogue, bfloat16, an MLP training step) on 'cuda' and on the CPU and prints the largest
difference. Part 2 times relu(a*b+c) and GELU (GB/s against a device-to-device
copy of the same bytes), softmax and layer_norm (against PyTorch CUDA when
torch with CUDA is importable), matmul (GFLOP/s) and the MLP step. `--tiny`
shrinks every size so the simulator finishes in a minute; its timings mean
nothing. Targets (issue 14): fused elementwise >= 85% of copy bandwidth,
matmul >= 50% of cuBLAS, MLP step within 2x of PyTorch CUDA.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np

import lazyt as lt
import lazyt.nn as nn
import lazyt.nn.functional as F

try:
    import torch

    TORCH_CUDA = torch.cuda.is_available()
except ImportError:
    torch, TORCH_CUDA = None, False


def gelu(x):
    return 0.5 * x * (1 + lt.tanh((x + 0.044715 * x * x * x) * math.sqrt(2 / math.pi)))


def max_difference(on_gpu, on_cpu) -> float:
    got = on_gpu.detach().cpu().to(lt.float64).numpy()
    want = on_cpu.detach().to(lt.float64).numpy()
    return float(np.max(np.abs(got - want))) if want.size else 0.0


def mlp_step(model, optimizer, x, y):
    optimizer.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    return loss


def check_families(n: int, rows: int, cols: int, size: int) -> list[tuple[str, float, float]]:
    """(family, max |gpu - cpu|, tolerance) for each kernel family."""
    lt.manual_seed(0)
    a, b, c = lt.randn(n), lt.randn(n), lt.randn(n)
    m = lt.randn(rows, cols)
    index = lt.randint(0, cols, (rows, 4))
    ga, gb, gc, gm, gindex = (t.cuda() for t in (a, b, c, m, index))
    checks = [
        ("relu(a*b+c)", (ga * gb + gc).relu(), (a * b + c).relu(), 1e-6),
        ("gelu (tanh)", gelu(ga), gelu(a), 1e-5),
        ("row sum", gm.sum(1), m.sum(1), 1e-4 * cols),
        ("full sum", gm.sum(), m.sum(), 1e-3 * rows * cols),
        ("argmax", gm.argmax(1), m.argmax(1), 0),
        ("softmax", gm.softmax(1), m.softmax(1), 1e-6),
        ("layer_norm", F.layer_norm(gm, (cols,)), F.layer_norm(m, (cols,)), 1e-4),
        ("transpose", gm.t().contiguous(), m.t().contiguous(), 0),
        ("gather", lt.gather(gm, 1, gindex), lt.gather(m, 1, index), 0),
        ("scatter_add", lt.zeros(rows, cols, device="cuda").scatter_add(1, gindex, gm[:, :4]),
         lt.zeros(rows, cols).scatter_add(1, index, m[:, :4]), 1e-5),
    ]
    lt.manual_seed(5)
    gpu_random = lt.empty(n, device="cuda").uniform_()
    lt.manual_seed(5)
    checks.append(("random (same seed)", gpu_random, lt.empty(n).uniform_(), 0))
    p, q = lt.randn(size, size), lt.randn(size, size)
    checks.append(("matmul", p.cuda() @ q.cuda(), p @ q, 1e-4 * size))
    bias = lt.randn(size)
    with lt.deferred():  # the product and its consumer: one launch on the GPU
        fused = (p.cuda() @ q.cuda() + bias.cuda()).relu()
    checks.append(("matmul+bias+relu fused", fused, (p @ q + bias).relu(), 1e-4 * size))
    half_a, half_b = a.to(lt.bfloat16), b.to(lt.bfloat16)
    checks.append(("bfloat16 a*b+1.5", half_a.cuda() * half_b.cuda() + 1.5,
                   half_a * half_b + 1.5, 0))
    lt.manual_seed(1)
    model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 10))
    gpu_model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 10))
    gpu_model.load_state_dict(model.state_dict())
    gpu_model.to("cuda")
    x, y = lt.randn(rows, 64), lt.randint(0, 10, (rows,))
    cpu_loss = mlp_step(model, lt.optim.SGD(model.parameters(), lr=0.1), x, y)
    gpu_loss = mlp_step(gpu_model, lt.optim.SGD(gpu_model.parameters(), lr=0.1), x.cuda(),
                        y.cuda())
    checks.append(("MLP step (loss)", gpu_loss, cpu_loss, 1e-4))
    checks.append(("MLP step (weights)", gpu_model[0].weight, model[0].weight, 1e-5))
    return [(name, max_difference(g, c), tol) for name, g, c, tol in checks]


def median_seconds(fn, repeat: int, synchronize) -> float:
    fn()
    synchronize()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def timings(n: int, rows: int, cols: int, size: int, repeat: int,
            mlp: tuple[int, int, int, int] = (64, 256, 10, 128)) -> list[tuple[str, str, str]]:
    """(workload, lazyt figure, reference figure) rows."""
    sync = lt.cuda.synchronize
    a, b, c = (lt.randn(n, device="cuda") for _ in range(3))
    out = []
    from numba import cuda  # (the driver's device-to-device copy: the bandwidth reference)

    source, target = cuda.device_array(n, dtype=np.float32), cuda.device_array(n, dtype=np.float32)
    copy_s = median_seconds(lambda: target.copy_to_device(source), repeat, sync)
    copy_gbs = 2 * 4 * n / copy_s / 1e9  # one read + one write
    fused_s = median_seconds(lambda: (a * b + c).relu(), repeat, sync)
    out.append(("device-to-device copy", f"{copy_gbs:.1f} GB/s", "cudaMemcpy, the reference"))
    clone_s = median_seconds(lambda: a.clone(), repeat, sync)
    out.append(("lazyt copy kernel (clone)", f"{2 * 4 * n / clone_s / 1e9:.1f} GB/s "
                f"({2 * 4 * n / clone_s / 1e9 / copy_gbs:.0%} of copy)", ""))
    out.append(("relu(a*b+c) eager", f"{4 * 4 * n / fused_s / 1e9:.1f} GB/s",
                f"copy {copy_gbs:.1f} GB/s"))

    def deferred_fused():
        with lt.deferred():
            result = (a * b + c).relu()
        return result.realize()

    fused_s = median_seconds(deferred_fused, repeat, sync)
    out.append(("relu(a*b+c) fused", f"{4 * 4 * n / fused_s / 1e9:.1f} GB/s "
                f"({4 * 4 * n / fused_s / 1e9 / copy_gbs:.0%} of copy)", "target >= 85% of copy"))

    def deferred_gelu():
        with lt.deferred():
            result = gelu(a)
        return result.realize()

    gelu_s = median_seconds(deferred_gelu, repeat, sync)
    out.append(("GELU fused", f"{2 * 4 * n / gelu_s / 1e9:.1f} GB/s "
                f"({2 * 4 * n / gelu_s / 1e9 / copy_gbs:.0%} of copy)", "target >= 85% of copy"))
    m = lt.randn(rows, cols, device="cuda")
    torch_m = torch.randn(rows, cols, device="cuda") if TORCH_CUDA else None
    for name, ours, theirs in (
            ("softmax", lambda: m.softmax(1), lambda: torch_m.softmax(1)),
            ("layer_norm", lambda: F.layer_norm(m, (cols,)),
             lambda: torch.nn.functional.layer_norm(torch_m, (cols,)))):
        ours_ms = median_seconds(ours, repeat, sync) * 1e3
        reference = "torch CUDA not importable"
        if TORCH_CUDA:
            reference = f"torch {median_seconds(theirs, repeat, torch.cuda.synchronize) * 1e3:.3f} ms"
        out.append((name, f"{ours_ms:.3f} ms", reference))
    p, q = lt.randn(size, size, device="cuda"), lt.randn(size, size, device="cuda")
    flops = 2 * size ** 3
    ours = flops / median_seconds(lambda: p @ q, repeat, sync) / 1e9
    reference = "torch CUDA not importable"
    if TORCH_CUDA:
        tp, tq = torch.randn(size, size, device="cuda"), torch.randn(size, size, device="cuda")
        theirs = flops / median_seconds(lambda: tp @ tq, repeat, torch.cuda.synchronize) / 1e9
        reference = f"torch (cuBLAS) {theirs:.0f} GFLOP/s: {ours / theirs:.0%} (target >= 50%)"
    out.append((f"matmul {size}^3", f"{ours:.0f} GFLOP/s", reference))
    inputs, hidden, classes, batch = mlp
    model = nn.Sequential(nn.Linear(inputs, hidden), nn.ReLU(),
                          nn.Linear(hidden, classes)).to("cuda")
    optimizer = lt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = lt.randn(batch, inputs, device="cuda")
    y = lt.randint(0, classes, (batch,), device="cuda")
    step_ms = median_seconds(lambda: mlp_step(model, optimizer, x, y), repeat, sync) * 1e3
    reference = "torch CUDA not importable"
    if TORCH_CUDA:
        torch_model = torch.nn.Sequential(torch.nn.Linear(inputs, hidden), torch.nn.ReLU(),
                                          torch.nn.Linear(hidden, classes)).cuda()
        torch_opt = torch.optim.SGD(torch_model.parameters(), lr=0.1, momentum=0.9)
        tx = torch.randn(batch, inputs, device="cuda")
        ty = torch.randint(0, classes, (batch,), device="cuda")

        def torch_step():
            torch_opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(torch_model(tx), ty)
            loss.backward()
            torch_opt.step()

        torch_ms = median_seconds(torch_step, repeat, torch.cuda.synchronize) * 1e3
        reference = f"torch {torch_ms:.3f} ms: {step_ms / torch_ms:.2f}x (target <= 2x)"
    out.append((f"MLP {inputs}-{hidden}-{classes} step, batch {batch}", f"{step_ms:.3f} ms",
                reference))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="tiny sizes (the simulator)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not lt.cuda.is_available():
        raise SystemExit("CUDA is not available (set NUMBA_ENABLE_CUDASIM=1 and use --tiny "
                         "to run on Numba's simulator)")
    if args.tiny:
        check_sizes, time_sizes, repeat, mlp = (16, 4, 8, 5), (16, 4, 8, 5), 1, (8, 16, 4, 4)
    else:
        check_sizes, time_sizes, repeat, mlp = (1 << 20, 256, 1024, 256), \
            (64 << 20, 4096, 4096, 4096), args.repeat, (64, 256, 10, 128)
    print("Part 1: CUDA vs CPU backend, max |difference| (sizes "
          f"n={check_sizes[0]}, rows x cols={check_sizes[1]}x{check_sizes[2]}, "
          f"matmul {check_sizes[3]})")
    failed = 0
    for name, difference, tolerance in check_families(*check_sizes):
        ok = difference <= tolerance
        failed += not ok
        print(f"  {name:<22} {difference:10.3g}  (tolerance {tolerance:.3g})  "
              f"{'ok' if ok else 'MISMATCH'}")
    print(f"Part 2: timings (n={time_sizes[0]}, {time_sizes[1]}x{time_sizes[2]}, "
          f"matmul {time_sizes[3]}^3){' - simulator: meaningless' if args.tiny else ''}")
    for workload, ours, reference in timings(*time_sizes, repeat, mlp):
        print(f"  {workload:<30} {ours:<34} {reference}")
    if failed:
        raise SystemExit(f"{failed} kernel families differ from the CPU")


if __name__ == "__main__":
    main()
