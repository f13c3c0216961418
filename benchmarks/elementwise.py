"""relu(a*b+c) and GELU(tanh) on 16M float32: lazyt eager vs numpy vs PyTorch
eager, next to the np.copyto memory floor scaled to each kernel's bytes.

    python benchmarks/elementwise.py [--n 16777216] [--repeat 7]

Eager lazyt runs one kernel per op (fusion is the deferred-mode issue), so
the table also lists each single-op kernel against the floor for its bytes.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make the benchmarks package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import lazyt as lt  # noqa: E402
from benchmarks.common import floor_ms, median_ms, print_rows, row, torch, torch_best_ms  # noqa: E402


def gelu_numpy(x):
    return 0.5 * x * (1 + np.tanh(np.float32(math.sqrt(2 / math.pi)) * (x + np.float32(0.044715) * x ** 3)))


def gelu_lazyt(x):
    inner = (x + 0.044715 * x * x * x) * math.sqrt(2 / math.pi)
    return 0.5 * x * (1 + inner.tanh())


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1 << 24)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    n, r = args.n, args.repeat
    rng = np.random.default_rng(0)
    a_np, b_np, c_np = (rng.standard_normal(n, dtype=np.float32) for _ in range(3))
    a, b, c = (lt.from_numpy(x) for x in (a_np, b_np, c_np))
    if torch is not None:
        ta, tb, tc = (torch.from_numpy(x) for x in (a_np, b_np, c_np))
    workloads = [  # name, lazyt, numpy, torch, float32 arrays read + written
        ("relu(a*b+c) eager", lambda: (a * b + c).relu(),
         lambda: np.maximum(a_np * b_np + c_np, 0), lambda: torch.relu(ta * tb + tc), 8),
        ("gelu(tanh) eager", lambda: gelu_lazyt(a), lambda: gelu_numpy(a_np),
         lambda: torch.nn.functional.gelu(ta, approximate="tanh"), 22),
        ("single op a*b", lambda: a * b, lambda: a_np * b_np, lambda: ta * tb, 3),
        ("single op tanh(a)", lambda: a.tanh(), lambda: np.tanh(a_np), lambda: torch.tanh(ta), 2),
        ("single op exp(a)", lambda: a.exp(), lambda: np.exp(a_np), lambda: torch.exp(ta), 2),
    ]
    rows = []
    for name, lazyt_fn, numpy_fn, torch_fn, arrays in workloads:
        name = f"{name} {n // (1 << 20)}M f32"
        rows.append(row(name, "lazyt eager", median_ms(lazyt_fn, r)))
        rows.append(row(name, "numpy", median_ms(numpy_fn, r)))
        if torch is not None:
            rows.append(row(name, "torch", torch_best_ms(torch_fn, r)))
        rows.append(row(name, "floor", floor_ms(arrays * n * 4, r)))
    print_rows(rows, f"n = {n} float32, median of {r} (ms), threads = {lt.debug.threads()}")
    return rows


if __name__ == "__main__":
    main()
