"""lazyt.distributed: PyTorch's torch.distributed names over MPI (mpi4py).

    mpiexec -n 2 python train.py      # with lt.distributed.init_process_group("mpi")

process_group.py holds the default group (MPI's world communicator) and the
queries; collectives.py the collectives. DistributedDataParallel is in
lazyt/nn/parallel/, DistributedSampler in lazyt/utils/data/distributed.py.
"""

from lazyt.distributed.collectives import (
                                           Work,
                                           all_gather,
                                           all_gather_into_tensor,
                                           all_reduce,
                                           barrier,
                                           broadcast,
                                           gather,
                                           recv,
                                           reduce,
                                           reduce_scatter,
                                           reduce_scatter_tensor,
                                           scatter,
                                           send,
)
from lazyt.distributed.process_group import (
                                           Backend,
                                           ProcessGroup,
                                           ReduceOp,
                                           destroy_process_group,
                                           get_backend,
                                           get_rank,
                                           get_world_size,
                                           init_process_group,
                                           is_available,
                                           is_gloo_available,
                                           is_initialized,
                                           is_mpi_available,
                                           is_nccl_available,
)

__all__ = ["Backend", "ProcessGroup", "ReduceOp", "Work", "all_gather", "all_gather_into_tensor",
           "all_reduce", "barrier", "broadcast", "destroy_process_group", "gather", "get_backend",
           "get_rank", "get_world_size", "init_process_group", "is_available",
           "is_gloo_available", "is_initialized", "is_mpi_available", "is_nccl_available",
           "recv", "reduce", "reduce_scatter", "reduce_scatter_tensor", "scatter", "send"]
