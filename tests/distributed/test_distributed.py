"""lazyt.distributed over MPI: each test runs ddp_worker.py under `mpiexec -n 2`
(a subprocess with a timeout, so a hang fails the test instead of CI)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import lazyt as lt

pytest.importorskip("mpi4py")
WORKER = Path(__file__).with_name("ddp_worker.py")
ROOT = Path(__file__).resolve().parents[2]


def _mpiexec() -> str:
    beside_python = Path(sys.executable).with_name("mpiexec")
    found = str(beside_python) if beside_python.exists() else shutil.which("mpiexec")
    if found is None:
        pytest.skip("no mpiexec (pip install 'lazyt[mpi]')")
    return found


def _run(*checks: str, timeout: float = 180) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([_mpiexec(), "-n", "2", sys.executable, str(WORKER), *checks],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)


def _passed(result, name: str) -> int:
    return result.stdout.count(f"OK {name}")


@pytest.fixture(scope="module")
def every_check():
    """One 2-process job runs every check (starting MPI and lazyt costs seconds)."""
    return _run("collectives", "eager", "deferred", "compiled", "buckets", "unused")


def test_collectives_against_numpy_and_shape_mismatch_detection(every_check):
    assert _passed(every_check, "collectives") == 2, every_check.stdout + every_check.stderr


@pytest.mark.parametrize("mode", ["eager", "deferred", "compiled"])
def test_two_process_ddp_equals_one_process_on_the_combined_batch(every_check, mode):
    assert _passed(every_check, f"ddp_{mode}_one_bucket") == 2, \
        every_check.stdout + every_check.stderr


def test_ddp_with_many_buckets_and_unused_parameters(every_check):
    assert _passed(every_check, "ddp_eager_small_buckets") == 2, \
        every_check.stdout + every_check.stderr
    assert _passed(every_check, "unused_and_no_sync") == 2, \
        every_check.stdout + every_check.stderr


def test_a_rank_that_raises_stops_the_job_instead_of_hanging():
    result = _run("raise", timeout=60)
    assert result.returncode != 0
    assert "rank 1 fails on purpose" in result.stderr + result.stdout
    assert "aborting the MPI job" in result.stderr + result.stdout


def test_distributed_sampler_partitions_as_pytorch():
    from lazyt.utils.data.distributed import DistributedSampler

    torch = pytest.importorskip("torch")
    from torch.utils.data.distributed import DistributedSampler as TorchSampler

    for size, replicas, drop_last in [(10, 3, False), (10, 3, True), (2, 4, False),
                                      (7, 2, False), (8, 2, True)]:
        for rank in range(replicas):
            ours = DistributedSampler(range(size), replicas, rank, shuffle=False,
                                      drop_last=drop_last)
            theirs = TorchSampler(range(size), replicas, rank, shuffle=False, drop_last=drop_last)
            assert list(ours) == list(theirs) and len(ours) == len(theirs)
    del torch
    shares = []
    for rank in range(3):
        sampler = DistributedSampler(range(10), 3, rank, seed=5)
        sampler.set_epoch(2)
        shares.append(list(sampler))
    flat = [i for share in shares for i in share]
    assert len(flat) == 12 and set(flat) == set(range(10))  # padded by repeats
    again = DistributedSampler(range(10), 3, 0, seed=5)
    again.set_epoch(2)
    assert list(again) == shares[0]
    again.set_epoch(3)
    assert list(again) != shares[0]
    with pytest.raises(ValueError, match="Invalid rank 3"):
        DistributedSampler(range(10), 3, 3)


def test_import_lazyt_does_not_import_mpi4py_and_queries_without_a_group():
    code = ("import sys, lazyt, lazyt.distributed as d, lazyt.nn.parallel; "
            "assert 'mpi4py' not in sys.modules; assert not d.is_initialized(); print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, timeout=60)
    assert out.stdout.strip() == "ok", out.stderr
    with pytest.raises(ValueError, match="has not been initialized"):
        lt.distributed.get_rank()
