"""lazyt.nn.parallel: DistributedDataParallel (data-parallel training over MPI)."""

from lazyt.nn.parallel.distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
