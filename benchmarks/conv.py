"""conv2d against PyTorch (oneDNN): batch 64, 32 -> 64 channels, 3x3,
padding 1, 32x32 images, float32; the forward alone and forward + backward
(gradients of input, weight and bias).

    python benchmarks/conv.py [--repeat 5] [--batch 64]

lazyt runs im2col (strided window copies) + one BLAS matmul per direction
(lazyt/nn/_functional/conv.py) in eager mode, where the convolution is one
recorded region. PyTorch is timed at 1 and at 2 threads (the faster is the
peer to beat). `main(argv)` returns the rows ({"workload", "contender",
"ms"}) for benchmarks/run_all.py.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import lazyt as lt

try:
    import torch
except ImportError:  # PyTorch is optional: its rows are skipped
    torch = None


def median_ms(fn, repeat: int) -> float:
    fn()  # warm up: compile, record the region, first-touch page faults
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def lazyt_steps(x: np.ndarray, w: np.ndarray, b: np.ndarray):
    """(forward, forward + backward) as callables on lazyt tensors."""
    lx, lw, lb = (lt.tensor(a, requires_grad=True) for a in (x, w, b))
    conv = lt.nn.functional.conv2d

    def forward():
        with lt.no_grad():
            return conv(lx, lw, lb, padding=1).realize()

    def step():
        for t in (lx, lw, lb):
            t.grad = None
        conv(lx, lw, lb, padding=1).sum().backward()
        for t in (lx, lw, lb):
            t.grad.realize()

    return forward, step


def torch_steps(x: np.ndarray, w: np.ndarray, b: np.ndarray):
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    conv = torch.nn.functional.conv2d

    def forward():
        with torch.no_grad():
            return conv(tx, tw, tb, padding=1)

    def step():
        for t in (tx, tw, tb):
            t.grad = None
        conv(tx, tw, tb, padding=1).sum().backward()

    return forward, step


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.batch, 32, 32, 32), dtype=np.float32)
    w = (rng.standard_normal((64, 32, 3, 3)) * 0.1).astype(np.float32)
    b = rng.standard_normal(64, dtype=np.float32)
    shape = f"conv2d {args.batch}x32x32x32 -> 64, 3x3"
    rows: list[dict] = []
    forward, step = lazyt_steps(x, w, b)
    rows.append(dict(workload=f"{shape} forward", contender="lazyt",
                     ms=median_ms(forward, args.repeat)))
    rows.append(dict(workload=f"{shape} forward+backward", contender="lazyt",
                     ms=median_ms(step, args.repeat)))
    if torch is not None:
        threads_before = torch.get_num_threads()
        forward, step = torch_steps(x, w, b)
        try:
            for threads in (1, 2):
                torch.set_num_threads(threads)
                who = f"torch ({threads} thread{'s' if threads > 1 else ''})"
                rows.append(dict(workload=f"{shape} forward", contender=who,
                                 ms=median_ms(forward, args.repeat)))
                rows.append(dict(workload=f"{shape} forward+backward", contender=who,
                                 ms=median_ms(step, args.repeat)))
        finally:
            torch.set_num_threads(threads_before)
    print_table(rows)
    return rows


def _column(contender: str) -> int:
    order = ("lazyt", "lazyt deferred", "numpy", "torch (1 thread)", "torch (2 threads)",
             "memory floor")
    return order.index(contender) if contender in order else len(order)


def print_table(rows: list[dict]) -> None:
    names = list(dict.fromkeys(r["workload"] for r in rows))
    contenders = sorted(dict.fromkeys(r["contender"] for r in rows), key=_column)
    print("| workload | " + " | ".join(contenders) + " | lazyt / best torch |")
    print("|---" * (len(contenders) + 2) + "|")
    for name in names:
        times = {r["contender"]: r["ms"] for r in rows if r["workload"] == name}
        cells = [f"{times[c]:.1f}" if c in times else "-" for c in contenders]
        torch_times = [t for c, t in times.items() if c.startswith("torch")]
        ratio = f"{times['lazyt'] / min(torch_times):.2f}x" if torch_times else "-"
        print(f"| {name} | " + " | ".join(cells) + f" | {ratio} |")


if __name__ == "__main__":
    main()
