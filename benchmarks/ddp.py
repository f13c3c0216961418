"""DistributedDataParallel over MPI: step time and the all-reduce's share.

    python benchmarks/ddp.py                 # runs 1, 2 and 4 processes, prints the table
    python benchmarks/ddp.py --procs 1 2     # some world sizes

Each configuration is one `mpiexec -n N` job training an MLP (784-1024-1024-10,
1.86 M parameters = 7.4 MB of gradients, batch 64 per rank) with SGD; the
all-reduce share is the time spent posting and waiting for the bucket
all-reduces (measured around lazyt.distributed's calls) over the step time.
"overlap on" starts each bucket's all-reduce as soon as its gradients exist
(during backward); "overlap off" starts them all after backward. On one
2-core machine more than 2 processes oversubscribe the cores, so the 4-process
row measures contention rather than scaling. Each rank gets cores/N threads
(LAZYT_NUM_THREADS and the BLAS's), so ranks do not fight over cores.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def worker(overlap: bool, steps: int, bucket_mb: float) -> None:
    sys.path.insert(0, ROOT)
    import lazyt as lt
    import lazyt.distributed as dist
    import lazyt.nn as nn
    from lazyt.distributed import collectives
    from lazyt.nn.parallel import DistributedDataParallel

    dist.init_process_group("mpi")
    spent = [0.0]
    post, wait = collectives.all_reduce, collectives.Work.wait

    def timed_post(*args, **kwargs):
        start = time.perf_counter()
        try:
            return post(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - start

    def timed_wait(self, timeout=None):
        start = time.perf_counter()
        try:
            return wait(self, timeout)
        finally:
            spent[0] += time.perf_counter() - start

    collectives.all_reduce = timed_post
    collectives.Work.wait = timed_wait
    lt.manual_seed(0)
    model = DistributedDataParallel(nn.Sequential(nn.Linear(784, 1024), nn.ReLU(),
                                                  nn.Linear(1024, 1024), nn.ReLU(),
                                                  nn.Linear(1024, 10)), bucket_cap_mb=bucket_mb)
    model._overlap = overlap
    optimizer = lt.optim.SGD(model.parameters(), lr=0.01)
    x, y = lt.randn(64, 784), lt.randint(0, 10, (64,))
    times, shares = [], []
    for i in range(steps + 3):
        spent[0] = 0.0
        start = time.perf_counter()
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
        elapsed = time.perf_counter() - start
        if i >= 3:
            times.append(elapsed)
            shares.append(spent[0] / elapsed)
    if dist.get_rank() == 0:
        print(f"RESULT {statistics.median(times) * 1e3:.2f} {statistics.median(shares):.3f}",
              flush=True)
    dist.destroy_process_group()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--procs", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--bucket-mb", type=float, default=1.0)
    parser.add_argument("--worker", choices=["on", "off"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker == "on", args.steps, args.bucket_mb)
        return
    mpiexec = shutil.which("mpiexec") or os.path.join(os.path.dirname(sys.executable), "mpiexec")
    print(f"DDP step, MLP 784-1024-1024-10, batch 64 per rank, buckets {args.bucket_mb} MB, "
          f"{os.cpu_count()} cores")
    print(f"{'processes':>9} {'overlap':>8} {'step ms':>8} {'all-reduce share':>17}")
    for n in args.procs:
        for overlap in ("on", "off"):
            command = [mpiexec, "-n", str(n), sys.executable, os.path.abspath(__file__),
                       "--worker", overlap, "--steps", str(args.steps),
                       "--bucket-mb", str(args.bucket_mb)]
            threads = str(max(1, (os.cpu_count() or 1) // n))  # no oversubscribed cores
            env = dict(os.environ, LAZYT_NUM_THREADS=threads, OPENBLAS_NUM_THREADS=threads,
                       OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
            out = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
            line = next((x for x in out.stdout.splitlines() if x.startswith("RESULT")), None)
            if line is None:
                print(f"{n:>9} {overlap:>8}  failed: {out.stderr.strip()[-200:]}")
                continue
            step_ms, share = line.split()[1:]
            print(f"{n:>9} {overlap:>8} {float(step_ms):>8.2f} {float(share):>16.1%}")


if __name__ == "__main__":
    main()
