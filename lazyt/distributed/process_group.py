"""The default process group: MPI's world communicator, through mpi4py.

lazyt's distributed training runs over MPI (launch with `mpiexec -n N python
script.py`); mpi4py is imported only when a process group is created, so
`import lazyt` never loads it. The backend names PyTorch scripts pass for CPU
training ("mpi", "gloo") both select it.

A rank that dies with an uncaught exception aborts the whole MPI job (the
others would otherwise wait forever in their next collective): the process
group installs that excepthook, as `python -m mpi4py` does.
"""

from __future__ import annotations

import enum
import importlib.util
import os
import sys


class ReduceOp(enum.Enum):
    """PyTorch's reduction names for all_reduce, reduce and reduce_scatter."""

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"


class Backend:
    """Backend names, as torch.distributed.Backend."""

    MPI = "mpi"
    GLOO = "gloo"
    NCCL = "nccl"


_ACCEPTED_BACKENDS = (Backend.MPI, Backend.GLOO)
_GROUP: dict = {}  # "comm": the communicator, "mpi": the mpi4py.MPI module, "backend"


class ProcessGroup:
    """The default (world) group; collectives take group=None or this object."""

    def __init__(self, comm) -> None:
        self.comm = comm

    def rank(self) -> int:
        return self.comm.Get_rank()

    def size(self) -> int:
        return self.comm.Get_size()


def is_available() -> bool:
    """True when mpi4py (the `lazyt[mpi]` extra) is installed."""
    return importlib.util.find_spec("mpi4py") is not None


def is_mpi_available() -> bool:
    return is_available()


def is_gloo_available() -> bool:
    return is_available()


def is_nccl_available() -> bool:
    return False


def is_initialized() -> bool:
    return "comm" in _GROUP


def _mpi():
    """mpi4py.MPI, imported on first use: importing it starts MPI."""
    if not is_available():
        raise RuntimeError("lazyt.distributed needs mpi4py and an MPI implementation: "
                           "pip install 'lazyt[mpi]' (mpi4py and the mpich wheel)")
    from mpi4py import MPI  # noqa: PLC0415 - reason: starting MPI is the caller's choice

    return MPI


def init_process_group(backend: str | None = None, init_method: str | None = None,
                       timeout=None, world_size: int = -1, rank: int = -1, store=None,
                       group_name: str = "", pg_options=None, device_id=None) -> None:
    """Join the job's processes: rank and world size come from MPI (`mpiexec -n N`)."""
    if is_initialized():
        raise ValueError("trying to initialize the default process group twice!")
    name = (backend or Backend.MPI).lower()
    if name not in _ACCEPTED_BACKENDS:
        raise RuntimeError(f"Invalid backend: '{backend}'. lazyt's process groups run over MPI: "
                           "use backend='mpi' (or 'gloo', which lazyt also runs over MPI)")
    if init_method is not None and not (init_method.startswith("env://") or
                                        init_method.startswith("mpi://")):
        raise ValueError(f"init_method {init_method!r} is not supported: lazyt takes ranks from "
                         "MPI (launch with mpiexec); use None or 'env://'")
    mpi = _mpi()
    comm = mpi.COMM_WORLD.Dup()
    _check_launch_agrees(comm, world_size, rank)
    _GROUP.update(comm=comm, mpi=mpi, backend=name, group=ProcessGroup(comm))
    if comm.Get_size() > 1:
        _abort_job_on_uncaught_exception(comm)


def _check_launch_agrees(comm, world_size: int, rank: int) -> None:
    """world_size/rank arguments (or WORLD_SIZE/RANK variables) must match MPI's."""
    size, me = comm.Get_size(), comm.Get_rank()
    wanted_size = world_size if world_size != -1 else int(os.environ.get("WORLD_SIZE", size))
    wanted_rank = rank if rank != -1 else int(os.environ.get("RANK", me))
    if wanted_size != size or wanted_rank != me:
        raise ValueError(f"init_process_group: world_size={wanted_size}, rank={wanted_rank} do "
                         f"not match the MPI job (world size {size}, this process is rank {me}); "
                         f"launch with `mpiexec -n {wanted_size}`")


def _abort_job_on_uncaught_exception(comm) -> None:
    previous = sys.excepthook

    def abort(kind, value, tb) -> None:
        previous(kind, value, tb)
        sys.stderr.write(f"lazyt.distributed: rank {comm.Get_rank()} raised "
                         f"{kind.__name__}; aborting the MPI job\n")
        sys.stderr.flush()
        comm.Abort(1)

    sys.excepthook = abort


def destroy_process_group(group=None) -> None:
    if not is_initialized():
        raise ValueError("Default process group has not been initialized, please make sure "
                         "to call init_process_group.")
    comm = _GROUP.pop("comm")
    _GROUP.clear()
    comm.Free()


def group_comm(group=None):
    """The communicator of group (None: the default group), checked."""
    if not is_initialized():
        raise ValueError("Default process group has not been initialized, please make sure "
                         "to call init_process_group.")
    if group is not None and group is not _GROUP["group"]:
        raise ValueError("lazyt.distributed has only the default process group")
    return _GROUP["comm"]


def mpi_module():
    return _GROUP["mpi"]


def get_rank(group=None) -> int:
    return group_comm(group).Get_rank()


def get_world_size(group=None) -> int:
    return group_comm(group).Get_size()


def get_backend(group=None) -> str:
    group_comm(group)
    return _GROUP["backend"]
