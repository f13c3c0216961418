"""The digits MLP trained eagerly and with @lt.compile: same steps, same
numbers, and the compiled step replays its kernels instead of rebuilding
the graph every time.

    python examples/compile_training.py [--epochs 10]

Both runs start from the same weights and see the same batches in the same
order, so their final accuracies are identical; the table shows ms per step.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import lazyt as lt
import lazyt.nn.functional as F
import lazyt.optim as optim

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_digits import accuracy, load_digits, make_mlp  # noqa: E402


def run(compiled: bool, epochs: int, batch_size: int = 32) -> tuple[float, float]:
    train_x, train_y, valid_x, valid_y = load_digits()
    lt.manual_seed(0)
    model = make_mlp()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    if compiled:
        step = lt.compile(step)
    n = (len(train_y) // batch_size) * batch_size  # full batches: one signature
    times = []
    for epoch in range(epochs):
        order = lt.randperm(len(train_y), generator=lt.Generator().manual_seed(epoch))[:n]
        xs, ys = train_x[order], train_y[order]
        for i in range(0, n, batch_size):
            start = time.perf_counter()
            step(xs[i:i + batch_size], ys[i:i + batch_size])
            times.append(time.perf_counter() - start)
    steady = sorted(times[2:])[len(times[2:]) // 2]  # median after warm-up and trace
    return accuracy(model, valid_x, valid_y), steady * 1e3


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    eager_acc, eager_ms = run(False, args.epochs)
    compiled_acc, compiled_ms = run(True, args.epochs)
    print(f"{'':10s} {'ms/step':>8s} {'valid acc':>10s}")
    print(f"{'eager':10s} {eager_ms:8.3f} {eager_acc:10.2%}")
    print(f"{'compiled':10s} {compiled_ms:8.3f} {compiled_acc:10.2%}")
    print(f"speed-up {eager_ms / compiled_ms:.1f}x, same accuracy: {eager_acc == compiled_acc}")


if __name__ == "__main__":
    main()
