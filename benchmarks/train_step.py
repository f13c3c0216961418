"""Training-step speed: PyTorch eager / torch.compile vs lazyt eager,
deferred and compiled, side by side in one run; plus lt.compile's first-call
time with an empty (cold) and a filled (warm) kernel cache, each measured in
a fresh process.

    python benchmarks/train_step.py [--steps 50] [--no-torch-compile]

Workloads: MLP 64->256->10 (ReLU, cross_entropy, SGD momentum 0.9) at batch
128 and 1024, and the digits CNN (conv 1->8->16, batch 64) with SGD momentum.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the benchmarks package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import lazyt as lt  # noqa: E402
from benchmarks.common import print_rows, row, torch, torch_best_ms  # noqa: E402


def mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 10))


def cnn(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(16 * 2 * 2, 10))


def make_step(lib, model):
    opt = lib.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = lib.nn.functional.cross_entropy

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def data(lib, kind, batch):
    lib.manual_seed(0)
    x = lib.randn(batch, 64) if kind == "mlp" else lib.randn(batch, 1, 8, 8)
    return x, lib.randint(0, 10, (batch,))


def ms_per_step(step, x, y, steps, mode=None, repeats=5):
    """The best of `repeats` runs of `steps` steps (after 3 warm-up steps),
    in ms per step: the least disturbed run, as timeit does, for every
    column alike."""
    def one():
        if mode == "deferred":
            with lt.deferred():
                loss = step(x, y)
                lt.realize(loss)
            return loss
        return step(x, y)

    for _ in range(3):
        one()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            loss = one()
        loss.item() if hasattr(loss, "item") else float(loss)
        best = min(best, (time.perf_counter() - start) / steps * 1e3)
    return best


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--no-torch-compile", action="store_true")
    parser.add_argument("--no-first-call", action="store_true",
                        help="skip the cold/warm first-call measurement")
    args = parser.parse_args(argv)
    rows = []
    workloads = (("MLP 64-256-10 step, batch 128", "mlp", 128),
                 ("MLP 64-256-10 step, batch 1024", "mlp", 1024),
                 ("digits CNN step, batch 64", "cnn", 64))
    for name, kind, batch in workloads:
        build = mlp if kind == "mlp" else cnn
        if torch is not None:
            torch.manual_seed(0)
            tx, ty = data(torch, kind, batch)
            step = make_step(torch, build(torch))
            rows.append(row(name, "torch", torch_best_ms(step, measure=functools.partial(
                ms_per_step, x=tx, y=ty, steps=args.steps))))
        x, y = data(lt, kind, batch)
        rows.append(row(name, "lazyt eager", ms_per_step(make_step(lt, build(lt)), x, y, args.steps)))
        rows.append(row(name, "lazyt deferred",
                        ms_per_step(make_step(lt, build(lt)), x, y, args.steps, "deferred")))
        rows.append(row(name, "lazyt compiled",
                        ms_per_step(lt.compile(make_step(lt, build(lt))), x, y, args.steps)))
    # torch.compile last: its compile workers keep running in the background
    # and would slow whatever is measured after them.
    if torch is not None and not args.no_torch_compile:
        for name, kind, batch in workloads:
            build = mlp if kind == "mlp" else cnn
            torch.manual_seed(0)
            tx, ty = data(torch, kind, batch)
            try:
                compiled = torch.compile(make_step(torch, build(torch)))
                rows.append(row(name, "torch.compile", ms_per_step(compiled, tx, ty, args.steps)))
            except Exception as e:  # needs a working C++ toolchain
                print(f"torch.compile failed: {type(e).__name__}")
                break
    print_rows(rows, f"ms per training step (best of 5 runs of {args.steps} steps, "
                     "after 3 warm-ups)")
    if not args.no_first_call:
        from benchmarks.compile_time import first_calls  # (fresh processes, cold and warm)

        measured = first_calls("mlp", 128, repeats=1)
        cold, warm = measured["cold_stats"], measured["warm_stats"]
        print(f"lt.compile first call (MLP step, fresh process): cold {measured['cold']:.3f} s "
              f"({cold['kernels_compiled']} kernels compiled), warm {measured['warm']:.3f} s "
              f"({warm['kernels_compiled']} compiled, {warm['disk_cache_hits']} from disk)")
        name = "first lt.compile call, MLP step"
        rows.append(row(name, "lazyt cold cache", measured["cold"] * 1e3))
        rows.append(row(name, "lazyt warm cache", measured["warm"] * 1e3))
    return rows


if __name__ == "__main__":
    main()
