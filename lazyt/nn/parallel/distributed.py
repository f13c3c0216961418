"""DistributedDataParallel: one model replica per MPI rank, gradients averaged.

At construction the parameters and buffers are broadcast from rank 0, and the
parameters that require grad are grouped into buckets (about bucket_cap_mb
each, in reverse registration order: the order backward produces them). Each
parameter's post-accumulate-grad hook counts its bucket down; when a bucket's
last gradient has arrived, its gradients are flattened into one buffer and
its all-reduce is started (non-blocking), so communication overlaps the rest
of backward. When every bucket has started, the reductions are waited for in
order and the averaged values are written back into each `.grad`.

The all-reduces are extern launches (lazyt/distributed/collectives.py), so a
training step under @lt.compile records and replays them between its kernels.
"""

from __future__ import annotations

from contextlib import contextmanager

from lazyt import creation, shape_ops
from lazyt.autograd import grad_mode
from lazyt.distributed import collectives
from lazyt.distributed.process_group import ReduceOp, group_comm
from lazyt.nn.modules.module import Module
from lazyt.tensor import Tensor

_UNUSED_PARAMETERS = (
    "Expected to have finished reduction in the prior iteration before starting a new one. "
    "This error indicates that your module has parameters that were not used in producing "
    "loss. You can enable unused parameter detection by passing the keyword argument "
    "`find_unused_parameters=True` to `lazyt.nn.parallel.DistributedDataParallel`, and by "
    "making sure all `forward` function outputs participate in calculating loss.\n"
    "Parameter indices which did not receive grad for rank {rank}: {indices}")


class _Bucket:
    """Parameters whose gradients are reduced together."""

    def __init__(self, indices: list[int]) -> None:
        self.indices = indices
        self.arrived = 0
        self.flat = None
        self.work = None


class DistributedDataParallel(Module):
    """PyTorch's DistributedDataParallel over lazyt.distributed (MPI)."""

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0,
                 broadcast_buffers: bool = True, process_group=None,
                 bucket_cap_mb: float | None = None, find_unused_parameters: bool = False,
                 check_reduction: bool = False, gradient_as_bucket_view: bool = False,
                 static_graph: bool = False, **unsupported) -> None:
        super().__init__()
        if unsupported:
            raise TypeError(f"DistributedDataParallel got unexpected keyword arguments "
                            f"{sorted(unsupported)}")
        comm = group_comm(process_group)
        if device_ids not in (None, []) and any(d not in (None, "cpu") for d in device_ids):
            raise ValueError("DistributedDataParallel: lazyt's MPI backend trains CPU modules; "
                             f"device_ids must be None, got {device_ids}")
        self.module = module
        self.process_group = process_group
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.world_size = comm.Get_size()
        self.rank = comm.Get_rank()
        self.require_backward_grad_sync = True
        self._parameters_in_order = [p for p in module.parameters() if p.requires_grad]
        self._sync_parameters_and_buffers()
        cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024)
        self._buckets = _make_buckets(self._parameters_in_order, cap)
        self._bucket_of = {i: b for b in self._buckets for i in b.indices}
        self._arrived: set[int] = set()
        self._reducing = False
        self._overlap = True  # False: start every all-reduce after backward (benchmarks/ddp.py)
        for index, p in enumerate(self._parameters_in_order):
            p.register_post_accumulate_grad_hook(self._make_hook(index))

    # ------------------------------------------------------------ setup
    def _sync_parameters_and_buffers(self) -> None:
        with grad_mode.no_grad():
            for t in list(self.module.parameters()) + list(self.module.buffers()):
                collectives.broadcast(t.data if t.requires_grad else t, 0, self.process_group)

    def _make_hook(self, index: int):
        def hook(parameter) -> None:
            if self._reducing:
                self._mark_ready(index)

        return hook

    # ------------------------------------------------------------ forward
    def forward(self, *inputs, **kwargs):
        if self._reducing and self._arrived:
            missing = [i for i in range(len(self._parameters_in_order)) if i not in self._arrived]
            raise RuntimeError(_UNUSED_PARAMETERS.format(rank=self.rank, indices=missing))
        if self.broadcast_buffers:
            with grad_mode.no_grad():
                for b in self.module.buffers():
                    collectives.broadcast(b, 0, self.process_group)
        outputs = self.module(*inputs, **kwargs)
        self._arrived = set()
        for bucket in self._buckets:
            bucket.arrived, bucket.flat, bucket.work = 0, None, None
        self._reducing = self.require_backward_grad_sync and grad_mode.is_grad_enabled()
        if self._reducing and self.find_unused_parameters:
            used = _parameters_reached(outputs)
            for index, p in enumerate(self._parameters_in_order):
                if id(p) not in used:
                    self._mark_ready(index)
        return outputs

    @contextmanager
    def no_sync(self):
        """Within: backward passes accumulate local gradients without reducing them."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    # ------------------------------------------------------------ reduction
    def _mark_ready(self, index: int) -> None:
        if index in self._arrived:
            return
        self._arrived.add(index)
        bucket = self._bucket_of[index]
        bucket.arrived += 1
        if bucket.arrived == len(bucket.indices) and self._overlap:
            self._start(bucket)
        if len(self._arrived) == len(self._parameters_in_order):
            if not self._overlap:
                for every in self._buckets:
                    self._start(every)
            self._finish()

    def _start(self, bucket: _Bucket) -> None:
        with grad_mode.no_grad():
            pieces = []
            for i in bucket.indices:
                p = self._parameters_in_order[i]
                grad = p.grad if p.grad is not None else creation.zeros_like(p)
                pieces.append(grad.detach().reshape(-1))
            if self.find_unused_parameters:  # one more element each: 1 where used here
                pieces.append(creation.tensor(
                    [float(self._parameters_in_order[i].grad is not None)
                     for i in bucket.indices], dtype=pieces[0].dtype))
            bucket.flat = shape_ops.cat(pieces).contiguous()
            bucket.work = collectives.all_reduce(bucket.flat, ReduceOp.SUM, self.process_group,
                                                 async_op=True)

    def _finish(self) -> None:
        self._reducing = False
        with grad_mode.no_grad():
            for bucket in self._buckets:
                bucket.work.wait()
                averaged = bucket.flat / self.world_size
                offset = 0
                used_flags = averaged[-len(bucket.indices):] if self.find_unused_parameters \
                    else None
                for k, i in enumerate(bucket.indices):
                    p = self._parameters_in_order[i]
                    n = p.numel()
                    value = averaged[offset:offset + n].view(p.shape)
                    offset += n
                    if p.grad is not None:
                        p.grad.copy_(value)
                    elif used_flags is not None and used_flags[k].item() > 0:
                        p.grad = value.clone()
                bucket.flat = bucket.work = None


def _make_buckets(parameters: list, cap_bytes: int) -> list[_Bucket]:
    """Reverse order, split where a bucket would pass cap_bytes or the dtype changes."""
    buckets: list[_Bucket] = []
    current: list[int] = []
    size = 0
    for index in reversed(range(len(parameters))):
        p = parameters[index]
        nbytes = p.numel() * p.dtype.itemsize
        if current and (size + nbytes > cap_bytes or
                        parameters[current[0]].dtype != p.dtype):
            buckets.append(_Bucket(current))
            current, size = [], 0
        current.append(index)
        size += nbytes
    if current:
        buckets.append(_Bucket(current))
    return buckets


def _parameters_reached(outputs) -> set[int]:
    """ids of the leaves the outputs' backward graph reaches (iterative walk)."""
    roots, stack = [], [outputs]
    while stack:
        item = stack.pop()
        if isinstance(item, Tensor):
            roots.append(item)
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    reached: set[int] = set()
    seen: set[int] = set()
    nodes = [t.grad_fn for t in roots if t.grad_fn is not None]
    for t in roots:
        if t.grad_fn is None and t.requires_grad:
            reached.add(id(t))
    while nodes:
        node = nodes.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        variable = getattr(node, "variable", None)
        if variable is not None:
            reached.add(id(variable))
        nodes.extend(child for child, _ in node.next_functions if child is not None)
    return reached
