"""Collectives on tensors, over the process group's MPI communicator.

all_reduce and broadcast run as extern launches of a one-launch Program (the
ops are declared to the CPU backend: "mpi.start.<op>" posts MPI's non-blocking
call on the tensor's own memory, "mpi.wait" completes it), so an @lt.compile'd
training step records them between its kernels and replays them, instead of
breaking its graph. The other collectives (all_gather, reduce_scatter, gather,
scatter, send/recv) move data through host arrays eagerly.

Every collective first checks that all ranks passed the same shapes and
dtypes (one small Allgather), so a mismatch raises on every rank instead of
corrupting memory.
"""

from __future__ import annotations

import numpy as np

from lazyt import creation, dtypes
from lazyt.autograd import grad_mode
from lazyt.distributed.process_group import ReduceOp, group_comm, mpi_module
from lazyt.engine.program import ExternLaunch, Program
from lazyt.engine.realize import CPU_BACKEND
from lazyt.realization import flush_readers
from lazyt.runtime import stats
from lazyt.runtime.cpu import array_view
from lazyt.tensor import Tensor

_PENDING: dict = {}  # address -> the MPI request posted on that memory
_UNSUPPORTED = (dtypes.float16, dtypes.bfloat16)


class Work:
    """What an async_op=True collective returns: wait() completes it."""

    def __init__(self, finish=None) -> None:
        self._finish = finish
        self._done = finish is None

    def wait(self, timeout=None) -> bool:
        if not self._done:
            self._done = True
            self._finish()
        return True

    def is_completed(self) -> bool:
        return self._done

    def is_success(self) -> bool:
        return self._done

    def synchronize(self) -> None:
        self.wait()


def _mpi_op(op: ReduceOp):
    mpi = mpi_module()
    return {ReduceOp.SUM: mpi.SUM, ReduceOp.AVG: mpi.SUM, ReduceOp.PRODUCT: mpi.PROD,
            ReduceOp.MIN: mpi.MIN, ReduceOp.MAX: mpi.MAX}[op]


def _as_reduce_op(op) -> ReduceOp:
    if isinstance(op, ReduceOp):
        return op
    raise TypeError(f"op must be a lazyt.distributed.ReduceOp (e.g. ReduceOp.SUM), got {op!r}")


# ------------------------------------------------------------ the externs
def _key(storage, view) -> int:
    """The address of the memory a start extern posted a request on."""
    return storage.address + view.offset * storage.dtype.itemsize


def _start_extern(post):
    """An extern that posts a non-blocking MPI call on out's memory."""

    def bind(out, out_view, sources):
        array, key = array_view(out, out_view), _key(out, out_view)

        def run() -> None:
            stats.COUNTERS["extern_calls"] += 1
            _PENDING[key] = post(array)

        return run

    def run(out, out_view, sources) -> None:
        bind(out, out_view, sources)()

    return run, bind


def _wait_bind(out, out_view, sources):
    key = _key(out, out_view)

    def run() -> None:
        _PENDING.pop(key).Wait()

    return run


def _wait_run(out, out_view, sources) -> None:
    _wait_bind(out, out_view, sources)()


_DECLARED: set = set()


def _declare(name: str, post) -> str:
    """Declare the extern `name` (once per process) to the CPU backend."""
    if name not in _DECLARED:
        run, bind = _start_extern(post)
        CPU_BACKEND.register_extern(name, run, bind)
        CPU_BACKEND.register_extern("mpi.wait", _wait_run, _wait_bind)
        _DECLARED.add(name)
    return name


def _post_in_place(t: Tensor, name: str, post) -> Work:
    """Run the extern `name` on t's memory (contiguous), then return a Work
    whose wait() runs the matching wait extern."""
    storage, view = t._storage, t._view  # realises t
    flush_readers(storage)  # pending readers of the old values compute first
    _declare(name, post)
    Program(CPU_BACKEND, (ExternLaunch(name, 0, view, ()),), 1).run([storage])
    storage.version += 1

    def finish() -> None:
        Program(CPU_BACKEND, (ExternLaunch("mpi.wait", 0, view, ()),), 1).run([storage])

    return Work(finish)


def _check_same_everywhere(comm, what: str, t: Tensor) -> None:
    """Every rank must pass a tensor of the same shape and dtype."""
    code = dtypes.ALL_DTYPES.index(t.dtype)
    mine = np.array([code, t.ndim, *t.shape][:10] + [0] * max(0, 10 - 2 - t.ndim), np.int64)
    everyone = np.empty((comm.Get_size(), len(mine)), np.int64)
    comm.Allgather(mine, everyone)
    different = [r for r in range(len(everyone)) if not np.array_equal(everyone[r], mine)]
    if different:
        r = different[0]
        other_dtype = dtypes.ALL_DTYPES[int(everyone[r][0])].name
        other_shape = list(int(s) for s in everyone[r][2:2 + int(everyone[r][1])])
        raise RuntimeError(f"{what}: tensors differ across ranks: rank {comm.Get_rank()} has "
                           f"shape {list(t.shape)} ({t.dtype.name}), rank {r} has shape "
                           f"{other_shape} ({other_dtype})")


def _check_tensor(what: str, t) -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"{what}(): argument 'tensor' must be Tensor, not {type(t).__name__}")
    if t.dtype in _UNSUPPORTED:
        raise RuntimeError(f"{what}: {t.dtype.name} tensors are not supported by the MPI "
                           "backend; communicate in float32")
    if t.device.type != "cpu":
        raise RuntimeError(f"{what}: the MPI backend communicates CPU tensors; got a tensor on "
                           f"{t.device}")


def _in_place(what: str, t: Tensor, name: str, post, after=None, async_op: bool = False):
    """A collective that overwrites t: through a contiguous buffer when t is not one."""
    buffer = t if t.is_contiguous() else t.contiguous()
    with grad_mode.no_grad():
        work = _post_in_place(buffer, name, post)

        def finish() -> None:
            work.wait()
            with grad_mode.no_grad():
                if after is not None:
                    after(buffer)
                if buffer is not t:
                    t.copy_(buffer)

    result = Work(finish)
    if async_op:
        return result
    result.wait()
    return None


# ------------------------------------------------------------ collectives
def all_reduce(tensor: Tensor, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Reduce tensor across ranks, in place, on every rank."""
    _check_tensor("all_reduce", tensor)
    op = _as_reduce_op(op)
    comm = group_comm(group)
    _check_same_everywhere(comm, "all_reduce", tensor)
    size = comm.Get_size()
    after = None
    if op is ReduceOp.AVG:
        if not tensor.is_floating_point():
            raise RuntimeError(f"all_reduce: ReduceOp.AVG needs a floating point tensor, got "
                               f"{tensor.dtype.name}")
        def after(t):  # noqa: E306
            t.div_(size)
    mpi, mpi_op = mpi_module(), _mpi_op(op)
    name = f"mpi.start.allreduce.{op.value}"
    return _in_place("all_reduce", tensor, name,
                     lambda array: comm.Iallreduce(mpi.IN_PLACE, array, mpi_op), after, async_op)


def broadcast(tensor: Tensor, src: int, group=None, async_op: bool = False):
    """Copy rank src's tensor into tensor on every rank."""
    _check_tensor("broadcast", tensor)
    comm = group_comm(group)
    _check_rank("broadcast", src, comm)
    _check_same_everywhere(comm, "broadcast", tensor)
    return _in_place("broadcast", tensor, f"mpi.start.bcast.{src}",
                     lambda array: comm.Ibcast(array, root=src), None, async_op)


def _check_rank(what: str, rank: int, comm) -> None:
    if not 0 <= rank < comm.Get_size():
        raise ValueError(f"{what}: invalid rank {rank} for a world of size {comm.Get_size()}")


def _host(t: Tensor) -> np.ndarray:
    return np.ascontiguousarray(t.detach()._host_array())


def _from_host(array: np.ndarray, like: Tensor) -> Tensor:
    return creation.tensor(array, dtype=like.dtype)


def _write(dst: Tensor, array: np.ndarray) -> None:
    with grad_mode.no_grad():
        dst.copy_(_from_host(array.reshape(tuple(dst.shape)), dst))


def all_gather(tensor_list: list, tensor: Tensor, group=None, async_op: bool = False):
    """tensor_list[r] = rank r's tensor, on every rank."""
    _check_tensor("all_gather", tensor)
    comm = group_comm(group)
    if len(tensor_list) != comm.Get_size():
        raise ValueError(f"all_gather: tensor_list has {len(tensor_list)} tensors; the world has "
                         f"{comm.Get_size()} ranks")
    _check_same_everywhere(comm, "all_gather", tensor)
    mine = _host(tensor)
    everyone = np.empty((comm.Get_size(), *mine.shape), mine.dtype)
    comm.Allgather(mine, everyone)
    for out, part in zip(tensor_list, everyone):
        _write(out, part)
    return Work() if async_op else None


def all_gather_into_tensor(output_tensor: Tensor, input_tensor: Tensor, group=None,
                           async_op: bool = False):
    """output = the ranks' inputs concatenated along dim 0 (or stacked)."""
    _check_tensor("all_gather_into_tensor", input_tensor)
    comm = group_comm(group)
    _check_same_everywhere(comm, "all_gather_into_tensor", input_tensor)
    if output_tensor.numel() != input_tensor.numel() * comm.Get_size():
        raise ValueError("all_gather_into_tensor: output tensor size must be equal to "
                         "world_size times input tensor size")
    mine = _host(input_tensor)
    everyone = np.empty((comm.Get_size(), *mine.shape), mine.dtype)
    comm.Allgather(mine, everyone)
    _write(output_tensor, everyone)
    return Work() if async_op else None


def reduce_scatter(output: Tensor, input_list: list, op=ReduceOp.SUM, group=None,
                   async_op: bool = False):
    """output = the reduction over ranks of each rank's input_list[my rank]."""
    comm = group_comm(group)
    if len(input_list) != comm.Get_size():
        raise ValueError(f"reduce_scatter: input_list has {len(input_list)} tensors; the world "
                         f"has {comm.Get_size()} ranks")
    from lazyt import shape_ops  # noqa: PLC0415 - reason: stacking is only needed here

    stacked = shape_ops.stack([t.detach().reshape(-1) for t in input_list])
    return reduce_scatter_tensor(output, stacked, op, group, async_op)


def reduce_scatter_tensor(output: Tensor, input: Tensor, op=ReduceOp.SUM, group=None,
                          async_op: bool = False):
    """output = my rank's block (along dim 0) of input reduced over ranks."""
    _check_tensor("reduce_scatter_tensor", input)
    op = _as_reduce_op(op)
    comm = group_comm(group)
    _check_same_everywhere(comm, "reduce_scatter_tensor", input)
    size = comm.Get_size()
    if input.numel() != output.numel() * size:
        raise ValueError("reduce_scatter_tensor: input tensor must be the same size as output "
                         "size times world size")
    mine = _host(input).reshape(size, -1)
    block = np.empty(mine.shape[1:], mine.dtype)
    comm.Reduce_scatter_block(mine, block, op=_mpi_op(op))
    if op is ReduceOp.AVG:
        _write(output, block)
        with grad_mode.no_grad():
            output.div_(size)
    else:
        _write(output, block)
    return Work() if async_op else None


def reduce(tensor: Tensor, dst: int, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """tensor on rank dst = the reduction over ranks (other ranks keep theirs)."""
    _check_tensor("reduce", tensor)
    op = _as_reduce_op(op)
    comm = group_comm(group)
    _check_rank("reduce", dst, comm)
    _check_same_everywhere(comm, "reduce", tensor)
    mine = _host(tensor)
    result = np.empty_like(mine)
    comm.Reduce(mine, result, op=_mpi_op(op), root=dst)
    if comm.Get_rank() == dst:
        _write(tensor, result)
        if op is ReduceOp.AVG:
            with grad_mode.no_grad():
                tensor.div_(comm.Get_size())
    return Work() if async_op else None


def gather(tensor: Tensor, gather_list: list | None = None, dst: int = 0, group=None,
           async_op: bool = False):
    """gather_list on rank dst receives every rank's tensor."""
    _check_tensor("gather", tensor)
    comm = group_comm(group)
    _check_rank("gather", dst, comm)
    _check_same_everywhere(comm, "gather", tensor)
    mine = _host(tensor)
    everyone = np.empty((comm.Get_size(), *mine.shape), mine.dtype)
    comm.Gather(mine, everyone, root=dst)
    if comm.Get_rank() == dst:
        if gather_list is None or len(gather_list) != comm.Get_size():
            raise ValueError("gather: rank dst needs a gather_list of world_size tensors")
        for out, part in zip(gather_list, everyone):
            _write(out, part)
    return Work() if async_op else None


def scatter(tensor: Tensor, scatter_list: list | None = None, src: int = 0, group=None,
            async_op: bool = False):
    """tensor on every rank = rank src's scatter_list[rank]."""
    _check_tensor("scatter", tensor)
    comm = group_comm(group)
    _check_rank("scatter", src, comm)
    _check_same_everywhere(comm, "scatter", tensor)
    mine = _host(tensor)
    parts = None
    if comm.Get_rank() == src:
        if scatter_list is None or len(scatter_list) != comm.Get_size():
            raise ValueError("scatter: rank src needs a scatter_list of world_size tensors")
        parts = np.stack([_host(t).reshape(mine.shape) for t in scatter_list])
    block = np.empty_like(mine)
    comm.Scatter(parts, block, root=src)
    _write(tensor, block)
    return Work() if async_op else None


def send(tensor: Tensor, dst: int, group=None, tag: int = 0) -> None:
    _check_tensor("send", tensor)
    comm = group_comm(group)
    _check_rank("send", dst, comm)
    comm.Send(_host(tensor), dest=dst, tag=tag)


def recv(tensor: Tensor, src: int | None = None, group=None, tag: int = 0) -> int:
    _check_tensor("recv", tensor)
    comm = group_comm(group)
    mpi = mpi_module()
    buffer = np.empty_like(_host(tensor))
    status = mpi.Status()
    comm.Recv(buffer, source=mpi.ANY_SOURCE if src is None else src,
              tag=mpi.ANY_TAG if tag is None else tag, status=status)
    _write(tensor, buffer)
    return status.Get_source()


def barrier(group=None, async_op: bool = False, device_ids=None):
    group_comm(group).Barrier()
    return Work() if async_op else None
