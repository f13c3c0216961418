"""relu(a*b+c) and GELU(tanh) on 16M float32: lazyt eager vs numpy vs PyTorch
eager, next to the np.copyto memory floor scaled to each kernel's bytes.

    python benchmarks/elementwise.py [--n 16777216] [--repeat 7]

Eager lazyt runs one kernel per op (fusion is the deferred-mode issue), so
the table also lists each single-op kernel against the floor for its bytes.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np

import lazyt as lt

try:
    import torch
except ImportError:  # PyTorch is optional: the comparison column is skipped
    torch = None


def median_time(fn, repeat: int) -> float:
    fn()  # warm up (compile, page faults)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def copy_floor(n: int, reads: int, writes: int, repeat: int) -> float:
    """np.copyto moves 2 arrays' bytes; scale to reads+writes arrays."""
    src = np.random.rand(n).astype(np.float32)
    dst = np.empty_like(src)
    t = median_time(lambda: np.copyto(dst, src), repeat)
    return t * (reads + writes) / 2


def gelu_numpy(x):
    return 0.5 * x * (1 + np.tanh(np.float32(math.sqrt(2 / math.pi)) * (x + np.float32(0.044715) * x ** 3)))


def gelu_lazyt(x):
    inner = (x + 0.044715 * x * x * x) * math.sqrt(2 / math.pi)
    return 0.5 * x * (1 + inner.tanh())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1 << 24)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    n, r = args.n, args.repeat
    rng = np.random.default_rng(0)
    a_np, b_np, c_np = (rng.standard_normal(n, dtype=np.float32) for _ in range(3))
    a, b, c = (lt.from_numpy(x) for x in (a_np, b_np, c_np))
    rows = []

    def row(name, lazyt_fn, numpy_fn, torch_fn, reads, writes):
        floor = copy_floor(n, reads, writes, r)
        t_lt = median_time(lazyt_fn, r)
        t_np = median_time(numpy_fn, r)
        t_th = median_time(torch_fn, r) if torch_fn else float("nan")
        rows.append((name, t_lt, t_np, t_th, floor))

    row("relu(a*b+c) eager", lambda: (a * b + c).relu(),
        lambda: np.maximum(a_np * b_np + c_np, 0), None, 5, 3)
    row("gelu(tanh) eager", lambda: gelu_lazyt(a), lambda: gelu_numpy(a_np), None, 13, 9)
    row("single op a*b", lambda: a * b, lambda: a_np * b_np, None, 2, 1)
    row("single op tanh(a)", lambda: a.tanh(), lambda: np.tanh(a_np), None, 1, 1)
    row("single op exp(a)", lambda: a.exp(), lambda: np.exp(a_np), None, 1, 1)
    if torch is not None:
        ta, tb, tc = (torch.from_numpy(x) for x in (a_np, b_np, c_np))
        torch_fns = [lambda: torch.relu(ta * tb + tc),
                     lambda: torch.nn.functional.gelu(ta, approximate="tanh"),
                     lambda: ta * tb, lambda: torch.tanh(ta), lambda: torch.exp(ta)]
        rows = [(nm, tl, tn, median_time(fn, r), fl) for (nm, tl, tn, _, fl), fn in
                zip(rows, torch_fns)]
    print(f"n = {n} float32, median of {r}, threads = {lt.debug.threads()}")
    print(f"{'op':22s} {'lazyt ms':>9s} {'numpy ms':>9s} {'torch ms':>9s} {'floor ms':>9s} "
          f"{'floor/lazyt':>11s} {'numpy/lazyt':>11s} {'torch/lazyt':>11s}")
    for name, tl, tn, tt, fl in rows:
        print(f"{name:22s} {tl * 1e3:9.2f} {tn * 1e3:9.2f} {tt * 1e3:9.2f} {fl * 1e3:9.2f} "
              f"{fl / tl:11.2f} {tn / tl:11.2f} {tt / tl:11.2f}")


if __name__ == "__main__":
    main()
