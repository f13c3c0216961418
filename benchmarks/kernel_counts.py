"""Kernel launches of one MLP training step (64-256-10, cross-entropy, manual
SGD update), eager vs deferred: what issue 5's "kernels per layer" measures.

    python benchmarks/kernel_counts.py
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the benchmarks package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import lazyt as lt  # noqa: E402
from benchmarks.common import count_row  # noqa: E402


def main(argv=None) -> list[dict]:
    lt.manual_seed(0)
    x, y = lt.randn(128, 64), lt.randint(0, 10, (128,))
    w1 = (lt.randn(64, 256) * 0.1).requires_grad_()
    b1 = lt.zeros(256, requires_grad=True)
    w2 = (lt.randn(256, 10) * 0.1).requires_grad_()
    b2 = lt.zeros(10, requires_grad=True)
    params = [w1, b1, w2, b2]

    def step():
        h = (x @ w1 + b1).relu()
        loss = lt.nn.functional.cross_entropy(h @ w2 + b2, y)
        loss.backward()
        with lt.no_grad():
            for p in params:
                p -= p.grad * 0.1
                p.grad.zero_()
        return loss

    rows = []
    for mode in ("eager", "deferred"):
        step()  # compile everything first
        lt.debug.reset_stats()
        if mode == "deferred":
            with lt.deferred():
                step()
                lt.realize(*params)
        else:
            step()
        s = lt.debug.stats()
        print(f"{mode:8s}: {s['kernel_launches']} kernel launches + {s['extern_calls']} "
              f"matmul externs per step (2 layers)")
        rows.append(count_row("MLP step kernels (2 layers)", f"lazyt {mode}",
                              s["kernel_launches"], "launches",
                              f"+ {s['extern_calls']} matmul externs"))
    return rows


if __name__ == "__main__":
    main()
