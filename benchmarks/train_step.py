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
import json
import os
import subprocess
import sys
import tempfile
import time

import lazyt as lt

try:
    import torch
except ImportError:
    torch = None


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


FIRST_CALL = """
import json, time, lazyt as lt
import benchmarks.train_step as b
model = b.mlp(lt)
step = lt.compile(b.make_step(lt, model))
x, y = b.data(lt, "mlp", 128)
start = time.perf_counter()
step(x, y); step(x, y)  # warm-up call + traced call: everything compile does
print(json.dumps({"seconds": time.perf_counter() - start, **lt.debug.stats()}))
"""


def first_call_seconds(cache_dir: str) -> dict:
    env = dict(os.environ, LAZYT_CACHE_DIR=cache_dir, LAZYT_CACHE="1",
               PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = subprocess.run([sys.executable, "-c", FIRST_CALL], env=env, capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--no-torch-compile", action="store_true")
    args = parser.parse_args()
    rows = []
    workloads = (("MLP batch 128", "mlp", 128), ("MLP batch 1024", "mlp", 1024),
                 ("digits CNN batch 64", "cnn", 64))
    for name, kind, batch in workloads:
        build = mlp if kind == "mlp" else cnn
        row = {"name": name}
        if torch is not None:
            torch.manual_seed(0)
            tx, ty = data(torch, kind, batch)
            row["torch"] = ms_per_step(make_step(torch, build(torch)), tx, ty, args.steps)
        x, y = data(lt, kind, batch)
        row["eager"] = ms_per_step(make_step(lt, build(lt)), x, y, args.steps)
        row["deferred"] = ms_per_step(make_step(lt, build(lt)), x, y, args.steps, "deferred")
        row["compiled"] = ms_per_step(lt.compile(make_step(lt, build(lt))), x, y, args.steps)
        rows.append(row)
    # torch.compile last: its compile workers keep running in the background
    # and would slow whatever is measured after them.
    if torch is not None and not args.no_torch_compile:
        for row, (name, kind, batch) in zip(rows, workloads):
            build = mlp if kind == "mlp" else cnn
            torch.manual_seed(0)
            tx, ty = data(torch, kind, batch)
            try:
                compiled = torch.compile(make_step(torch, build(torch)))
                row["t.compile"] = ms_per_step(compiled, tx, ty, args.steps)
            except Exception as e:  # needs a working C++ toolchain
                print(f"torch.compile failed: {type(e).__name__}")
    cols = ["torch", "t.compile", "eager", "deferred", "compiled"]
    print(f"ms per training step (best of 5 runs of {args.steps} steps, after 3 warm-ups)")
    print(f"{'workload':22s}" + "".join(f"{c:>10s}" for c in cols)
          + f"{'torch/compiled':>16s}{'eager/torch':>13s}")
    for row in rows:
        cells = "".join(f"{row.get(c, float('nan')):10.3f}" for c in cols)
        ratio = row.get("torch", float("nan")) / row["compiled"]
        eager_ratio = row["eager"] / row.get("torch", float("nan"))
        print(f"{row['name']:22s}{cells}{ratio:16.2f}{eager_ratio:13.2f}")
    with tempfile.TemporaryDirectory() as cache_dir:
        cold = first_call_seconds(cache_dir)
        warm = first_call_seconds(cache_dir)
    print(f"lt.compile first call (MLP step, fresh process): cold {cold['seconds']:.3f} s "
          f"({cold['kernels_compiled']} kernels compiled), warm {warm['seconds']:.3f} s "
          f"({warm['kernels_compiled']} compiled, {warm['disk_cache_hits']} from disk)")


if __name__ == "__main__":
    main()
