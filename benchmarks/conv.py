"""conv2d against PyTorch (oneDNN): batch 64, 32 -> 64 channels, 3x3,
padding 1, 32x32 images, float32; the forward alone and forward + backward
(gradients of input, weight and bias).

    python benchmarks/conv.py [--repeat 5] [--batch 64]

lazyt runs im2col (one copy of the strided windows) + one BLAS matmul per direction
(lazyt/nn/_functional/conv.py) in eager mode, where the convolution is one
recorded region. PyTorch's figure is the faster of its 1- and 2-thread runs
(benchmarks/common.py). `main(argv)` returns the rows ({"workload", "contender",
"ms"}) for benchmarks/run_all.py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make the benchmarks package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import lazyt as lt  # noqa: E402
from benchmarks.common import median_ms, print_rows, row, torch, torch_best_ms  # noqa: E402


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
    parser.add_argument("--quick", action="store_true", help="batch 8, 3 repeats")
    args = parser.parse_args(argv)
    batch, r = (8, 3) if args.quick else (args.batch, args.repeat)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, 32, 32, 32), dtype=np.float32)
    w = (rng.standard_normal((64, 32, 3, 3)) * 0.1).astype(np.float32)
    b = rng.standard_normal(64, dtype=np.float32)
    shape = f"conv2d {batch}x32x32x32 -> 64, 3x3"
    rows: list[dict] = []
    forward, step = lazyt_steps(x, w, b)
    rows.append(row(f"{shape} forward", "lazyt eager", median_ms(forward, r)))
    rows.append(row(f"{shape} forward+backward", "lazyt eager", median_ms(step, r)))
    if torch is not None:
        forward, step = torch_steps(x, w, b)
        rows.append(row(f"{shape} forward", "torch", torch_best_ms(forward, r)))
        rows.append(row(f"{shape} forward+backward", "torch", torch_best_ms(step, r)))
    print_rows(rows, f"median of {r} runs (ms)")
    return rows


if __name__ == "__main__":
    main()
