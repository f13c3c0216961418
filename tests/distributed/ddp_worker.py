"""Run under `mpiexec -n 2` by test_distributed.py: DDP and the collectives,
checked on every rank; prints 'OK <check>' per check that passed."""

import sys

import numpy as np

import lazyt as lt
import lazyt.distributed as dist
import lazyt.nn as nn
from lazyt.nn.parallel import DistributedDataParallel as DDP  # noqa: N817 - PyTorch scripts' name


def make_model() -> nn.Module:
    lt.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 4))


def data():
    rng = np.random.default_rng(1)
    return (lt.tensor(rng.standard_normal((16, 8)), dtype=lt.float32),
            lt.tensor(rng.standard_normal((16, 4)), dtype=lt.float32))


def train(model, x, y, steps: int, mode: str, bucket_cap_mb=None):
    optimizer = lt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def step(xb, yb):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(xb), yb)
        loss.backward()
        optimizer.step()
        return loss

    if mode == "compiled":
        step = lt.compile(step)
    for _ in range(steps):
        if mode == "deferred":
            with lt.deferred():
                step(x, y).item()
        else:
            step(x, y)
    return [p.detach().clone() for p in model.parameters()]


def check_ddp_matches_one_process(mode: str, bucket_cap_mb=None) -> None:
    rank, size = dist.get_rank(), dist.get_world_size()
    x, y = data()
    reference = train(make_model(), x, y, 5, "eager")
    half = x.shape[0] // size
    ddp = DDP(make_model(), bucket_cap_mb=bucket_cap_mb)
    mine = train(ddp, x[rank * half:(rank + 1) * half], y[rank * half:(rank + 1) * half], 5,
                 mode)
    worst = max(float((a - b).abs().max()) for a, b in zip(mine, reference))
    assert worst < 1e-5, f"{mode}: DDP parameters differ from one process by {worst}"
    print(f"OK ddp_{mode}_{'small_buckets' if bucket_cap_mb else 'one_bucket'}", flush=True)


def check_collectives() -> None:
    rank, size = dist.get_rank(), dist.get_world_size()
    base = np.arange(6, dtype=np.float32).reshape(2, 3)
    values = [base + r for r in range(size)]
    for op, reduce in ((dist.ReduceOp.SUM, np.sum), (dist.ReduceOp.MAX, np.max),
                       (dist.ReduceOp.MIN, np.min), (dist.ReduceOp.PRODUCT, np.prod),
                       (dist.ReduceOp.AVG, np.mean)):
        t = lt.tensor(values[rank])
        dist.all_reduce(t, op=op)
        assert np.allclose(t.numpy(), reduce(np.stack(values), axis=0)), op
    t = lt.tensor(values[rank]).t()  # non-contiguous
    work = dist.all_reduce(t, async_op=True)
    work.wait()
    assert np.allclose(t.numpy(), np.sum(np.stack(values), axis=0).T)
    b = lt.tensor(values[rank])
    dist.broadcast(b, src=size - 1)
    assert np.array_equal(b.numpy(), values[-1])
    gathered = [lt.zeros(2, 3) for _ in range(size)]
    dist.all_gather(gathered, lt.tensor(values[rank]))
    assert all(np.array_equal(g.numpy(), v) for g, v in zip(gathered, values))
    out = lt.zeros(2)
    dist.reduce_scatter_tensor(out, lt.arange(2 * size, dtype=lt.float32) + rank)
    expected = (np.arange(2 * size) * size + sum(range(size))).reshape(size, 2)[rank]
    assert np.allclose(out.numpy(), expected)
    out = lt.zeros(size * 2, 3)
    dist.all_gather_into_tensor(out, lt.tensor(values[rank]))
    assert np.array_equal(out.numpy(), np.concatenate(values))
    out = lt.zeros(3)
    dist.reduce_scatter(out, [lt.full((3,), float(r + rank)) for r in range(size)])
    assert np.allclose(out.numpy(), sum(rank + r for r in range(size)))
    t = lt.tensor(values[rank])
    dist.reduce(t, dst=0, op=dist.ReduceOp.SUM)
    expected = np.sum(np.stack(values), axis=0) if rank == 0 else values[rank]
    assert np.allclose(t.numpy(), expected)
    gathered = [lt.zeros(2, 3) for _ in range(size)] if rank == 0 else None
    dist.gather(lt.tensor(values[rank]), gathered, dst=0)
    if rank == 0:
        assert all(np.array_equal(g.numpy(), v) for g, v in zip(gathered, values))
    part = lt.zeros(2, 3)
    dist.scatter(part, [lt.tensor(v) for v in values] if rank == 1 else None, src=1)
    assert np.array_equal(part.numpy(), values[rank])
    if size >= 2 and rank < 2:
        message = lt.arange(4, dtype=lt.float32)
        if rank == 0:
            dist.send(message * 3, dst=1)
        else:
            received = lt.zeros(4)
            assert dist.recv(received, src=0) == 0
            assert np.array_equal(received.numpy(), np.arange(4) * 3)
    dist.barrier()
    try:
        dist.all_reduce(lt.ones(2 + rank))
    except RuntimeError as e:
        assert "differ across ranks" in str(e)
    else:
        raise AssertionError("mismatched shapes were not detected")
    print("OK collectives", flush=True)


def check_unused_parameters_and_no_sync() -> None:
    rank = dist.get_rank()
    lt.manual_seed(0)
    model = nn.ModuleDict({"used": nn.Linear(3, 1), "unused": nn.Linear(3, 1)})

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = model

        def forward(self, x):
            return self.inner["used"](x)

    ddp = DDP(Net())
    ddp(lt.ones(2, 3)).sum().backward()
    try:
        ddp(lt.ones(2, 3))
    except RuntimeError as e:
        assert "find_unused_parameters=True" in str(e)
    else:
        raise AssertionError("unused parameters were not reported")
    ddp = DDP(Net(), find_unused_parameters=True)
    for p in ddp.parameters():
        p.grad = None
    ddp(lt.ones(2, 3) * (rank + 1)).sum().backward()
    assert model["unused"].weight.grad is None
    assert np.allclose(model["used"].weight.grad.numpy(), 1.5 * 2)  # mean of 2 and 4
    for p in ddp.parameters():
        p.grad = None
    with ddp.no_sync():
        ddp(lt.ones(2, 3) * (rank + 1)).sum().backward()
    assert np.allclose(model["used"].weight.grad.numpy(), 2 * (rank + 1))
    print("OK unused_and_no_sync", flush=True)


def main() -> None:
    dist.init_process_group("mpi")
    checks = sys.argv[1:] or ["collectives", "eager", "deferred", "compiled", "buckets",
                              "unused"]
    for check in checks:
        if check == "collectives":
            check_collectives()
        elif check == "buckets":
            check_ddp_matches_one_process("eager", bucket_cap_mb=0.0005)
        elif check == "unused":
            check_unused_parameters_and_no_sync()
        elif check == "raise":
            if dist.get_rank() == 1:
                raise ValueError("rank 1 fails on purpose")
            dist.barrier()
        else:
            check_ddp_matches_one_process(check)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
