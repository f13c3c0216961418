"""What deferral buys: eager (one kernel per op) vs deferred (fused) lazyt,
next to numpy, PyTorch eager and torch.compile (when it works here), with
GB/s and the ratio to the np.copyto memory floor for each workload's bytes.

    python benchmarks/fusion.py [--small] [--no-torch-compile] [--repeat 7]
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
from benchmarks.common import (  # noqa: E402
    deferred_call,
    floor_ms,
    median_ms,
    print_rows,
    row,
    torch,
    torch_best_ms,
)


def gelu_expr(x, tanh):
    return 0.5 * x * (1 + tanh((x + 0.044715 * x * x * x) * math.sqrt(2 / math.pi)))


def softmax_expr(x, amax, exp, sum_):
    e = exp(x - amax(x))
    return e / sum_(e)


def layer_norm_expr(x, mean, sqrt):
    mu = mean(x)
    d = x - mu
    return d / sqrt(mean(d * d) + 1e-5)


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="1M elements instead of 16M")
    parser.add_argument("--no-torch-compile", action="store_true")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    r = args.repeat
    n = (1 << 20) if args.small else (1 << 24)
    rows_sm = 1024 if args.small else 4096
    rng = np.random.default_rng(0)
    a_np, b_np, c_np = (rng.standard_normal(n, dtype=np.float32) for _ in range(3))
    s_np = rng.standard_normal((rows_sm, 1024), dtype=np.float32)
    x_np = rng.standard_normal((1024, 64), dtype=np.float32)
    w1_np = rng.standard_normal((64, 256), dtype=np.float32) * 0.1
    w2_np = rng.standard_normal((256, 10), dtype=np.float32) * 0.1
    a, b, c, s, x, w1, w2 = (lt.from_numpy(v) for v in (a_np, b_np, c_np, s_np, x_np, w1_np, w2_np))

    workloads = {
        f"relu(a*b+c) {n >> 20}M f32": (
            lambda: (a * b + c).relu(),
            lambda: np.maximum(a_np * b_np + c_np, 0), 4 * n * 4),
        f"gelu(tanh) {n >> 20}M f32": (
            lambda: gelu_expr(a, lambda t: t.tanh()),
            lambda: gelu_expr(a_np, np.tanh), 2 * n * 4),
        f"softmax as ops {rows_sm}x1024": (
            lambda: softmax_expr(s, lambda t: t.amax(-1, keepdim=True), lambda t: t.exp(),
                                 lambda t: t.sum(-1, keepdim=True)),
            lambda: softmax_expr(s_np, lambda t: t.max(-1, keepdims=True), np.exp,
                                 lambda t: t.sum(-1, keepdims=True)), 2 * s_np.nbytes),
        f"layer_norm as ops {rows_sm}x1024": (
            lambda: layer_norm_expr(s, lambda t: t.mean(-1, keepdim=True), lambda t: t.sqrt()),
            lambda: layer_norm_expr(s_np, lambda t: t.mean(-1, keepdims=True), np.sqrt),
            2 * s_np.nbytes),
        "MLP fwd 1024x64-256-10": (
            lambda: ((x @ w1).relu() @ w2),
            lambda: np.maximum(x_np @ w1_np, 0) @ w2_np,
            x_np.nbytes + 2 * 1024 * 256 * 4 + 1024 * 10 * 4),
    }
    torch_fns = {}
    if torch is not None:
        ta, tb, tc, ts, tx, tw1, tw2 = (torch.from_numpy(v) for v in
                                        (a_np, b_np, c_np, s_np, x_np, w1_np, w2_np))
        torch_fns = {
            f"relu(a*b+c) {n >> 20}M f32": lambda: torch.relu(ta * tb + tc),
            f"gelu(tanh) {n >> 20}M f32": lambda: torch.nn.functional.gelu(ta, approximate="tanh"),
            f"softmax as ops {rows_sm}x1024": lambda: torch.softmax(ts, -1),
            f"layer_norm as ops {rows_sm}x1024": lambda: torch.nn.functional.layer_norm(
                ts, (1024,)),
            "MLP fwd 1024x64-256-10": lambda: torch.relu(tx @ tw1) @ tw2,
        }
    compiled = {}
    if torch is not None and not args.no_torch_compile:
        for name, fn in torch_fns.items():
            try:
                cfn = torch.compile(fn)
                cfn()
                compiled[name] = cfn
            except Exception as e:  # torch.compile needs a C++ toolchain; report, don't fail
                print(f"torch.compile unavailable for {name}: {type(e).__name__}")
                break

    rows = []
    for name, (lt_fn, np_fn, nbytes) in workloads.items():
        rows.append(row(name, "lazyt eager", median_ms(lt_fn, r)))
        rows.append(row(name, "lazyt deferred", median_ms(deferred_call(lt_fn), r)))
        rows.append(row(name, "numpy", median_ms(np_fn, r)))
        if name in torch_fns:
            rows.append(row(name, "torch", torch_best_ms(torch_fns[name], r)))
        if name in compiled:
            rows.append(row(name, "torch.compile", median_ms(compiled[name], r)))
        rows.append(row(name, "floor", floor_ms(nbytes, r)))
    print_rows(rows, f"median of {r} runs, ms; floor = np.copyto of the same bytes")
    return rows


if __name__ == "__main__":
    main()
