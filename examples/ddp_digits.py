"""Data-parallel training of the digits MLP over MPI with DistributedDataParallel.

    mpiexec -n 2 python examples/ddp_digits.py          # 2 processes (pip install -e ".[mpi]")
    mpiexec -n 2 python examples/ddp_digits.py --compile --epochs 5
    python examples/ddp_digits.py                        # 1 process: the same training

Every rank holds a replica of the model and reads its own share of each global
batch (DistributedSampler); DDP averages the gradients with MPI all-reduces
that start during backward, so all replicas take the same optimizer step and
the run reaches the accuracy one process reaches with the same global batch.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import lazyt as lt
import lazyt.distributed as dist
import lazyt.nn as nn
from lazyt.nn.parallel import DistributedDataParallel
from lazyt.utils.data import DataLoader, TensorDataset
from lazyt.utils.data.distributed import DistributedSampler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_digits import accuracy, load_digits, make_mlp  # noqa: E402


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--global-batch", type=int, default=32)
    parser.add_argument("--compile", action="store_true", help="@lt.compile the training step")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    if args.global_batch % world:
        raise SystemExit(f"--global-batch {args.global_batch} must divide by {world} ranks")
    x_train, y_train, x_valid, y_valid = load_digits(seed=args.seed)
    dataset = TensorDataset(x_train, y_train)
    sampler = DistributedSampler(dataset, seed=args.seed, drop_last=True)
    loader = DataLoader(dataset, batch_size=args.global_batch // world, sampler=sampler,
                        drop_last=True)
    lt.manual_seed(args.seed)
    model = DistributedDataParallel(make_mlp())
    loss_fn = nn.CrossEntropyLoss()
    optimizer = lt.optim.Adam(model.parameters(), lr=2e-3)

    def step(xb, yb):
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        return loss

    if args.compile:
        step = lt.compile(step)
    start = time.perf_counter()
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        total = 0.0
        for xb, yb in loader:
            total += step(xb, yb).item()
        if rank == 0:
            print(f"epoch {epoch + 1:2d}/{args.epochs}  loss {total / len(loader):.4f}  "
                  f"valid acc {accuracy(model.module, x_valid, y_valid):.2%}", flush=True)
    seconds = time.perf_counter() - start
    acc = accuracy(model.module, x_valid, y_valid)
    if rank == 0:
        print(f"{world} process(es): validation accuracy {acc:.2%} after {args.epochs} epochs "
              f"in {seconds:.1f} s")
    dist.destroy_process_group()
    return acc


if __name__ == "__main__":
    main()
