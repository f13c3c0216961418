"""The CUDA backend: kernels rendered to Numba-CUDA source, compiled with
cuda.jit and explicit signatures, launched on Numba device arrays.

The second implementation of the device interface (runtime/backend.py),
beside runtime/cpu.py. The engine gives it the same kernel IR and the same
launch records (engine/program.py); the renderers (codegen/cuda.render_cuda
for kernels, codegen/cuda_matmul.render_matmul for the matmul extern) are
handed in when the engine builds it, so this layer imports nothing above it.
Memory (storages, the caching allocator, host <-> device copies) is
runtime/cuda_memory.py.

Under NUMBA_ENABLE_CUDASIM=1 everything runs on Numba's simulator: math
functions are numpy's ufuncs there (inf and NaN instead of Python's math
errors), libdevice's on a real GPU. Compiled kernels are cached in memory by
source text (Numba's own cache=True does not work for generated source).
"""

from __future__ import annotations

import math
import os
import time
from collections import OrderedDict

import numpy as np

from lazyt.ir.view import View, prod
from lazyt.runtime import disk_cache, stats
from lazyt.runtime.backend import Backend
from lazyt.runtime.compiler import debug_level
from lazyt.runtime.cuda_disk_cache import jit_with_disk_cache
from lazyt.runtime.cuda_memory import (
    CudaStorage,
    copy_on_device,
    numba_cuda,
)
from lazyt.runtime.launch import ERROR_SENTINEL, raise_bounds_error

THREADS_PER_BLOCK = 256
MAX_BLOCKS = 4096  # a grid-stride loop covers the rest
MAX_ROW_BLOCKS = 65535


def row_block_size() -> int:
    """Threads sharing a row in the block-per-row form of a reduction (the
    simulator's are few: each of its threads costs ~0.1 ms)."""
    return 8 if simulated() else 256


def row_length_for_blocks() -> int:
    """Rows at least this long (on average) are reduced by a block each."""
    return 2 if simulated() else 64
KERNEL_CACHE_LIMIT = 2048


def simulated() -> bool:
    return os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"


def kernel_namespace(math_names=()) -> dict:
    """The globals a generated kernel's text runs with: numba.cuda, the dtype
    constructors, INF/NAN, and the math functions it calls (f_exp32, ...:
    libdevice on a GPU, numpy's ufuncs under the simulator)."""
    import numba  # (only CUDA work pays its import)

    from lazyt.codegen.cuda_ops import (  # (CUDA only)
        MATH_FUNCTIONS,
        SIMULATOR_FROM_MATH,
        SIMULATOR_FROM_SCIPY,
    )

    cuda = numba_cuda()
    namespace = {"cuda": cuda, "INF": math.inf, "NAN": math.nan, "bool": bool,
                 "SHARED_FLOAT32": numba.float32, "SHARED_FLOAT64": numba.float64,
                 "SHARED_INT64": numba.int64, "SHARED_INT32": numba.int32,
                 "SHARED_INT16": numba.int16, "SHARED_INT8": numba.int8,
                 "SHARED_UINT8": numba.uint8, "SHARED_BOOL": numba.boolean}
    for name in ("float16", "float32", "float64", "int8", "uint8", "int16", "int32", "int64",
                 "uint16", "uint64"):
        namespace[name] = getattr(np, name)
    sim = simulated()
    if not sim:
        from numba.cuda import libdevice  # (a GPU build only)

        namespace["float_as_int"], namespace["int_as_float"] = \
            libdevice.float_as_int, libdevice.int_as_float
    else:  # (float32 <-> its bits, for bfloat16: numpy views)
        namespace["float_as_int"] = lambda x: np.array(x, dtype=np.float32).view(np.int32)[()]
        namespace["int_as_float"] = lambda x: np.array(x, dtype=np.int32).view(np.float32)[()]
    for symbol in math_names:
        base, width = symbol[2:-2], symbol[-2:]
        f32, f64, ufunc = MATH_FUNCTIONS[base]
        if sim and base in SIMULATOR_FROM_SCIPY:
            namespace[symbol] = _scipy_special(base, ufunc)
        elif sim:
            namespace[symbol] = getattr(math, base) if base in SIMULATOR_FROM_MATH else \
                getattr(np, ufunc)
        else:
            namespace[symbol] = getattr(libdevice, f32 if width == "32" else f64)
    return namespace


def _scipy_special(op: str, name: str):
    """scipy.special's function, which the simulator runs for a special
    function libdevice has and numpy has not."""
    try:
        import scipy.special  # (the simulator only; not a dependency)
    except ImportError:
        raise RuntimeError(f'"{op}" on CUDA tensors under Numba\'s simulator needs scipy '
                           "(a GPU computes it with libdevice)") from None
    return getattr(scipy.special, name)


def compile_source(source):
    """A CudaSource (codegen/cuda.py) -> the cuda.jit kernel; on a GPU through
    the PTX disk cache (runtime/cuda_disk_cache.py)."""
    namespace = kernel_namespace(source.math)
    exec(compile(source.text, f"<lazyt cuda {source.name}>", "exec"), namespace)
    function = namespace[source.name]
    if simulated() or not disk_cache.enabled():
        return numba_cuda().jit(source.signature)(function)
    return jit_with_disk_cache(numba_cuda(), function, source.signature, source.text)


class CudaKernel:
    """A compiled kernel: its source (lt.debug.kernels) and the Numba kernel."""

    __slots__ = ("name", "source", "function", "grid_stride", "block", "row_function",
                 "row_block")

    def __init__(self, name: str, source, function, row_source=None, row_function=None):
        self.name = name
        self.source = source.text if row_source is None else \
            source.text + "\n# block-per-row form:\n" + row_source.text
        self.function = function
        self.grid_stride = source.grid_stride
        self.block = source.block
        self.row_function = row_function  # the block-per-row form, for long rows
        self.row_block = 0 if row_source is None else row_source.row_block


def launch_config(outer: int, grid_stride: bool) -> tuple[int, int]:
    """(blocks, threads per block) for a kernel over `outer` outer iterations."""
    if not grid_stride or outer <= 1:
        return 1, 1
    threads = min(THREADS_PER_BLOCK, outer)
    return min(MAX_BLOCKS, -(-outer // threads)), threads


def _device_params(params: tuple) -> tuple:
    """The argument block on the device, as int64 and as float64 (float
    scalars travel as float64 bits)."""
    cuda = numba_cuda()
    host = np.array(params if params else (0,), dtype=np.int64)
    return cuda.to_device(host), cuda.to_device(host.view(np.float64))


class _KernelStep:
    __slots__ = ("launch", "function", "slots", "config", "params", "errors", "rng")

    def __init__(self, launch):
        self.launch = launch
        kernel = launch.kernel
        self.function = kernel.function
        self.slots = launch.slots
        self.config = launch_config(launch.outer, kernel.grid_stride)
        if kernel.row_function is not None and \
                launch.work >= row_length_for_blocks() * max(launch.outer, 1):
            self.function = kernel.row_function
            self.config = (min(max(launch.outer, 1), MAX_ROW_BLOCKS), kernel.row_block)
        self.params = _device_params(launch.params)
        self.errors = numba_cuda().to_device(np.full(4, ERROR_SENTINEL, dtype=np.int64)) \
            if -1 in launch.slots else None
        self.rng = tuple(launch.rng_slots)

    def run(self, storages: list, rng_shift: int) -> None:
        params = self.params
        if self.rng and rng_shift:
            shifted = list(self.launch.params)
            for slot in self.rng:
                shifted[slot] += rng_shift
            params = _device_params(tuple(shifted))
        arrays = [self.errors if s < 0 else storages[s].array for s in self.slots]
        if self.errors is not None:
            self.errors.copy_to_device(np.full(4, ERROR_SENTINEL, dtype=np.int64))
        blocks, threads = self.config
        with np.errstate(all="ignore"):  # (the simulator's numpy scalars: inf/NaN as on a GPU)
            self.function[blocks, threads](*arrays, *params)
        if self.errors is not None:
            errors = self.errors.copy_to_host()
            if errors[0] != ERROR_SENTINEL:
                raise_bounds_error(errors)


class _MatmulStep:
    """One matmul launch (with its epilogue, if fused); its argument arrays
    are made on the first run and kept (a replay only binds storages)."""

    __slots__ = ("backend", "out", "out_view", "sources", "epilogue", "bound")

    def __init__(self, backend, out: int, out_view: View, sources: tuple, epilogue=None):
        self.backend = backend
        self.out, self.out_view, self.sources = out, out_view, sources
        self.epilogue = epilogue
        self.bound = None

    def run(self, storages: list, rng_shift: int) -> None:
        operands = [(storages[s], v) for s, v in self.sources]
        if self.bound is None:
            self.bound = self.backend.matmul_launch(storages[self.out], self.out_view,
                                                    operands, self.epilogue)
        self.backend.run_matmul_launch(self.bound, storages[self.out], operands)


def _matmul_layout(out_view: View, a_view: View, b_view: View):
    """(offsets per batch element [batch, 3], params) of a batched product:
    a (..., M, K) @ b (..., K, N) -> out (..., M, N), batch dims already
    broadcast by the views."""
    m, n = out_view.shape[-2], out_view.shape[-1]
    k = a_view.shape[-1]
    batch_shape = out_view.shape[:-2]
    offsets = []
    for index in np.ndindex(*batch_shape):
        offsets.append([view.offset + sum(i * s for i, s in zip(index, view.strides[:-2]))
                        for view in (a_view, b_view, out_view)])
    params = (m, n, k, a_view.strides[-2], a_view.strides[-1], b_view.strides[-2],
              b_view.strides[-1], out_view.strides[-2], out_view.strides[-1])
    return np.array(offsets or [[0, 0, 0]], dtype=np.int64).reshape(-1, 3), params


class CudaBackend(Backend):
    """Kernels: kernel IR -> Numba-CUDA source -> cuda.jit; storages on one device."""

    def __init__(self, device, render_kernel, render_matmul):
        self.device = device
        self.render_kernel = render_kernel  # codegen/cuda.render_cuda
        self.render_matmul = render_matmul  # codegen/cuda_matmul.render_matmul
        self.kernels: OrderedDict = OrderedDict()  # kernel IR -> CudaKernel
        # Block reductions end with warp shuffles where the hardware has them
        # (every GPU numba-cuda supports; not the simulator).
        self.warp_shuffles = not simulated()
        self.by_source: dict = {}  # source text -> cuda.jit kernel

    def allocate(self, dtype, numel: int) -> CudaStorage:
        return CudaStorage.allocate(dtype, numel, self.device)

    def copy_bytes(self, dst, dst_offset: int, src, src_offset: int, nbytes: int) -> None:
        copy_on_device(dst, dst_offset, src, src_offset, nbytes)

    def compile(self, kernel) -> CudaKernel:
        found = self.kernels.get(kernel)
        if found is not None:
            self.kernels.move_to_end(kernel)
            stats.bump("cache_hits")
            return found
        source = self.render_kernel(kernel)
        compiled = self._compile_source(source, kernel.name)
        if source.reduces_rows:
            row_source = self.render_kernel(kernel, row_block=row_block_size(),
                                            warp_shuffles=self.warp_shuffles)
            rows = self._compile_source(row_source, kernel.name)
            compiled = CudaKernel(kernel.name, source, compiled.function, row_source,
                                  rows.function)
        self.kernels[kernel] = compiled
        while len(self.kernels) > KERNEL_CACHE_LIMIT:
            self.kernels.popitem(last=False)
        return compiled

    def _compile_source(self, source, name: str) -> CudaKernel:
        key = (source.text, source.signature)
        function = self.by_source.get(key)
        if function is None:
            start = time.perf_counter()
            hits = stats.COUNTERS["disk_cache_hits"]
            function = self.by_source[key] = compile_source(source)
            if stats.COUNTERS["disk_cache_hits"] == hits:  # (else loaded from disk)
                stats.bump("kernels_compiled")
            stats.bump("compile_seconds", time.perf_counter() - start)
            if debug_level() >= 3:
                print(f"[lazyt] cuda kernel {name}:\n{source.text}")
        return CudaKernel(name, source, function)

    def prepare(self, launches: tuple, static: dict) -> list:
        steps = []
        for launch in launches:
            if hasattr(launch, "op"):
                assert launch.op == "matmul", f"no CUDA extern {launch.op}"
                steps.append(_MatmulStep(self, launch.out, launch.out_view, launch.sources,
                                         launch.epilogue))
            else:
                steps.append(_KernelStep(launch))
        return steps

    def execute(self, prepared, storages: list, rng_shift: int = 0) -> None:
        for step in prepared:
            if isinstance(step, _KernelStep):
                stats.COUNTERS["kernel_launches"] += 1
            step.run(storages, rng_shift)

    def matmul(self, out: CudaStorage, out_view: View, sources: list, epilogue=None) -> None:
        """The matmul extern: the tiled kernel of codegen/cuda_matmul.py (with
        the epilogue its consumer fused into it: sources[2:] are its buffers)."""
        bound = self.matmul_launch(out, out_view, sources, epilogue)
        self.run_matmul_launch(bound, out, sources)

    def matmul_launch(self, out: CudaStorage, out_view: View, sources: list, epilogue=None):
        """(kernel, grid, argument arrays) of a matmul, or None if it is empty."""
        (a, a_view), (b, b_view) = sources[:2]
        if prod(out_view.shape) == 0:
            return None
        kernel = self.matmul_kernel(a.dtype, epilogue)
        offsets, params = _matmul_layout(out_view, a_view, b_view)
        cuda = numba_cuda()
        tile_rows, tile_cols = kernel.block
        m, n = params[0], params[1]
        grid = (-(-n // tile_cols), -(-m // tile_rows), offsets.shape[0])
        arguments = [cuda.to_device(offsets), cuda.to_device(np.array(params, dtype=np.int64))]
        extra = _device_params(epilogue.params) if epilogue is not None else ()
        return kernel, grid, arguments, extra

    def run_matmul_launch(self, bound, out: CudaStorage, sources: list) -> None:
        stats.bump("extern_calls")
        if bound is None:
            return
        kernel, grid, arguments, extra = bound
        buffers = [storage.array for storage, _ in sources[2:]]
        with np.errstate(all="ignore"):
            kernel.function[grid, kernel.block](sources[0][0].array, sources[1][0].array,
                                                out.array, *arguments, *buffers, *extra)
        stats.COUNTERS["kernel_launches"] += 1

    def matmul_kernel(self, dtype, epilogue=None) -> CudaKernel:
        key = ("matmul", dtype.name, None if epilogue is None else epilogue.structure)
        found = self.kernels.get(key)
        if found is None:
            name = f"matmul_{dtype.name}" + ("" if epilogue is None else "_epilogue")
            found = self.kernels[key] = self._compile_source(
                self.render_matmul(dtype, epilogue), name)
        return found

    def synchronize(self) -> None:
        numba_cuda().synchronize()
