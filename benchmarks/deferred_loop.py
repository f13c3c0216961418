"""A deferred training loop that reads its loss every K steps: the cost per
step must not grow with K (one recorded Program per distinct step structure,
replayed), next to the same loop eagerly and in PyTorch.

    python benchmarks/deferred_loop.py [--ks 1 10 100] [--steps 200]

The model is the MLP 64-256-10 of train_step.py (SGD with momentum, batch 128).
Each K runs `steps` steps after a warm-up of max(K, 10) steps, and reports the
milliseconds per step and the programs compiled during the timed steps.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the benchmarks package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import lazyt as lt  # noqa: E402
from benchmarks.common import count_row, print_rows, row, torch, torch_best_ms  # noqa: E402
from benchmarks.train_step import data, make_step, mlp  # noqa: E402


def loop_ms(lib, k: int, steps: int, deferred: bool) -> tuple[float, int]:
    """(ms per step, kernels compiled while timing) of `steps` steps reading
    the loss every k steps."""
    step = make_step(lib, mlp(lib))
    x, y = data(lib, "mlp", 128)

    def run(n):
        for i in range(n):
            loss = step(x, y)
            if (i + 1) % k == 0:
                loss.item()
        loss.item()

    def timed():
        run(max(k, 10))  # warm-up: the first steps compile
        compiled = lt.debug.stats()["kernels_compiled"]
        start = time.perf_counter()
        run(steps)
        return ((time.perf_counter() - start) / steps * 1e3,
                lt.debug.stats()["kernels_compiled"] - compiled)

    if deferred:
        with lt.deferred():
            return timed()
    return timed()


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ks", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args(argv)
    rows = []
    workload = "MLP loop, loss read every K steps"
    if torch is not None:
        torch.manual_seed(0)
        step = make_step(torch, mlp(torch))
        tx, ty = data(torch, "mlp", 128)

        def torch_loop():
            for _ in range(args.steps):
                step(tx, ty)
            step(tx, ty).item()

        rows.append(row(workload, "torch", torch_best_ms(torch_loop, repeat=3, warmup=1)
                        / args.steps))
    rows.append(row(workload, "lazyt eager", loop_ms(lt, 1, args.steps, deferred=False)[0]))
    for k in args.ks:
        ms, compiled = loop_ms(lt, k, args.steps, deferred=True)
        rows.append(row(workload, f"lazyt deferred K={k}", ms))
        rows.append(count_row(f"{workload}: compiles", f"lazyt deferred K={k}", compiled,
                              f"kernels compiled in {args.steps} timed steps"))
    print_rows(rows, "ms per training step")
    return rows


if __name__ == "__main__":
    main()
