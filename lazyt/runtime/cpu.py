"""The CPU backend: LLVM-compiled kernels launched through ctypes, and the
CPU's extern ops (numpy's BLAS matmul, numpy's stable sort, numpy.linalg's
LAPACK decompositions).

The engine gives it kernel IR; the renderer that turns kernel IR into LLVM
text (codegen/llvm.render_llvm) is handed in when the engine builds the
backend, so this layer imports nothing above it. Compiled kernels are kept
in a bounded in-memory cache (and on disk, runtime/disk_cache.py).
"""

from __future__ import annotations

import ctypes
import hashlib
import itertools
import weakref

import numpy as np

from lazyt.ir.view import View, prod
from lazyt.runtime import launch, stats
from lazyt.runtime.backend import Backend
from lazyt.runtime.blas_threads import use_threads_for
from lazyt.runtime.checked import CHECK_BOUNDS
from lazyt.runtime.compiler import (
    DEBUG_LEVEL,
    CompiledKernel,
    KernelCache,
    KernelSource,
    compile_llvm,
    compile_many,
    debug_level,
)
from lazyt.runtime.device import CPU
from lazyt.runtime.storage import Storage


def count_extern(name: str, dtype) -> None:
    stats.bump("extern_calls")
    if debug_level() >= 2:
        print(f"[lazyt] extern {name} ({dtype.name})")


# (View, itemsize) -> (byte offset, byte strides) of views seen before: an
# eager matmul's operands have the same few views every step. Bounded.
_BYTE_LAYOUTS: dict = {}


def array_view(storage: Storage, view: View) -> np.ndarray:
    """A numpy array over the storage's memory as seen through view (no copy)."""
    itemsize = storage.dtype.itemsize
    array = storage.array
    layout = _BYTE_LAYOUTS.get((view, itemsize))
    if layout is None:
        if prod(view.shape) == 0:
            return np.empty(view.shape, dtype=array.dtype)
        if len(_BYTE_LAYOUTS) >= 4096:
            _BYTE_LAYOUTS.clear()
        layout = _BYTE_LAYOUTS[view, itemsize] = (
            view.offset * itemsize, tuple(s * itemsize for s in view.strides))
    # The ndarray constructor over the storage's memory: as_strided's checks
    # cost more than the small matmuls it serves.
    return np.ndarray(view.shape, array.dtype, array, layout[0], layout[1])


def matmul(out: Storage, out_view: View, sources: list) -> None:
    """The matmul extern: numpy's BLAS matmul of two realised operands
    ((storage, view) each), written into out's memory. (bind_matmul's call,
    without building the call: an eager or replayed matmul runs once.)"""
    (a_st, a_view), (b_st, b_view) = sources
    a, b = array_view(a_st, a_view), array_view(b_st, b_view)
    stats.COUNTERS["extern_calls"] += 1
    if DEBUG_LEVEL[0] >= 2:
        print(f"[lazyt] extern matmul ({out.dtype.name})")
    use_threads_for(prod(out_view.shape) * (a.shape[-1] if a.ndim else 1))
    np.matmul(a, b, out=array_view(out, out_view))


def bind_matmul(out: Storage, out_view: View, sources: list):
    """The matmul extern on these storages, as a call to repeat (lt.compile's
    replays run it on the same buffers every step)."""
    (a_st, a_view), (b_st, b_view) = sources
    a, b = array_view(a_st, a_view), array_view(b_st, b_view)
    out_array = array_view(out, out_view)
    multiply_adds = out_view.numel * (a.shape[-1] if a.ndim else 1)
    dtype, counters = out.dtype, stats.COUNTERS

    def run() -> None:
        counters["extern_calls"] += 1
        if DEBUG_LEVEL[0] >= 2:
            print(f"[lazyt] extern matmul ({dtype.name})")
        use_threads_for(multiply_adds)
        np.matmul(a, b, out=out_array)

    return run


def argsort(array: np.ndarray, descending: bool) -> np.ndarray:
    """The sort extern: a stable argsort along the last axis (NaN sorts as
    the largest value, like PyTorch), int64 indices."""
    if descending:
        if array.dtype.kind == "f":
            keys = (np.where(np.isnan(array), -np.inf, -array.astype(np.float64)),
                    ~np.isnan(array))
            order = np.lexsort(keys, axis=-1)
        elif array.dtype == np.bool_:
            order = np.argsort(~array, axis=-1, kind="stable")
        else:
            order = np.argsort(-array.astype(np.float64) if array.dtype == np.uint64 else
                               np.negative(array.astype(np.int64)), axis=-1, kind="stable")
    else:
        order = np.argsort(array, axis=-1, kind="stable")
    return order.astype(np.int64, copy=False)


def _lstsq(a: np.ndarray, b: np.ndarray, rcond):
    """Batched least squares: solution, rank and singular values per matrix."""
    batch = a.shape[:-2]
    solutions, ranks, singular_values = [], [], []
    for index in np.ndindex(*batch):
        x, _, rank, sv = np.linalg.lstsq(a[index], b[index], rcond=rcond)
        solutions.append(x)
        ranks.append(rank)
        singular_values.append(sv)
    n, k = a.shape[-1], b.shape[-1]
    solution = np.array(solutions, dtype=a.dtype).reshape(*batch, n, k)
    rank = np.array(ranks, dtype=np.int64).reshape(batch)
    sv = np.array(singular_values, dtype=a.dtype).reshape(*batch, -1)
    return solution, rank, sv


def _lu_factor(a: np.ndarray):
    """LAPACK getrf on a batch of (m, n) matrices: the packed factors (unit
    lower L below the diagonal, U on and above), the 1-based int32 row swaps
    and getrf's info (the first zero pivot, 1-based; 0 if none). Partial
    pivoting picks the first largest |value| in the column, as idamax does."""
    m, n = a.shape[-2], a.shape[-1]
    lu = np.array(a, dtype=a.dtype, copy=True).reshape(int(np.prod(a.shape[:-2])), m, n)
    batch = lu.shape[0]
    k = min(m, n)
    pivots = np.zeros((batch, k), dtype=np.int32)
    info = np.zeros(batch, dtype=np.int32)
    rows = np.arange(batch)
    for j in range(k):
        pivot = j + np.argmax(np.abs(lu[:, j:, j]), axis=1)
        pivots[:, j] = pivot + 1
        swapped = lu[rows, pivot].copy()
        lu[rows, pivot] = lu[:, j]
        lu[:, j] = swapped
        diagonal = lu[:, j, j]
        zero = diagonal == 0
        info[(info == 0) & zero] = j + 1
        safe = np.where(zero, 1, diagonal)
        lu[:, j + 1:, j] = np.where(zero[:, None], lu[:, j + 1:, j],
                                    lu[:, j + 1:, j] / safe[:, None])
        lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j, None] * lu[:, j, None, j + 1:]
    batch_shape = a.shape[:-2]
    return (lu.reshape(a.shape), pivots.reshape(*batch_shape, k), info.reshape(batch_shape))


def _geqrf(a: np.ndarray):
    """LAPACK geqrf: R on and above the diagonal, the Householder vectors below
    it, and their scales tau (numpy's 'raw' QR, which returns it transposed)."""
    k = min(a.shape[-2], a.shape[-1])
    if k == 0:
        return a.copy(), np.zeros((*a.shape[:-2], 0), dtype=a.dtype)
    reflectors, tau = np.linalg.qr(a, mode="raw")
    return np.swapaxes(reflectors, -1, -2), tau


_BUNCH_KAUFMAN_ALPHA = (1.0 + 17.0 ** 0.5) / 8.0


def _ldl_factor_one(matrix: np.ndarray):
    """LAPACK sytf2 (lower) on one matrix: Bunch-Kaufman pivoting, 1x1 and 2x2
    blocks. The trailing part is kept as a full symmetric matrix, so LAPACK's
    row/column interchanges are symmetric swaps of it."""
    a = np.tril(matrix) + np.tril(matrix, -1).T
    n = a.shape[0]
    pivots = np.zeros(n, dtype=np.int32)
    info, k = 0, 0
    while k < n:
        step = 1
        absakk = abs(a[k, k])
        imax = k + 1 + int(np.argmax(np.abs(a[k + 1:, k]))) if k < n - 1 else k
        colmax = abs(a[imax, k]) if k < n - 1 else 0.0
        if max(absakk, colmax) == 0 or np.isnan(absakk):
            info = info or k + 1
            pivots[k] = k + 1
            k += 1
            continue
        if absakk >= _BUNCH_KAUFMAN_ALPHA * colmax:
            kp = k
        else:
            row = np.abs(a[imax, k:])
            row[imax - k] = 0
            rowmax = row.max()
            if absakk >= _BUNCH_KAUFMAN_ALPHA * colmax * (colmax / rowmax):
                kp = k
            elif abs(a[imax, imax]) >= _BUNCH_KAUFMAN_ALPHA * rowmax:
                kp = imax
            else:
                kp, step = imax, 2
        kk = k + step - 1
        if kp != kk:  # swap rows and columns kk, kp of the trailing block
            a[[kk, kp], k:] = a[[kp, kk], k:]
            a[k:, [kk, kp]] = a[k:, [kp, kk]]
        if step == 1:
            column = a[k + 1:, k] / a[k, k]
            a[k + 1:, k + 1:] -= np.outer(column, a[k + 1:, k])
            a[k + 1:, k] = column
            a[k, k + 1:] = column
            pivots[k] = kp + 1
        else:
            block = a[k:k + 2, k:k + 2]
            below = a[k + 2:, k:k + 2]
            d21 = block[1, 0]
            d11, d22 = block[1, 1] / d21, block[0, 0] / d21
            scale = (1.0 / (d11 * d22 - 1.0)) / d21
            w = np.stack([scale * (d11 * below[:, 0] - below[:, 1]),
                          scale * (d22 * below[:, 1] - below[:, 0])], axis=1)
            a[k + 2:, k + 2:] -= below @ w.T
            a[k + 2:, k:k + 2] = w
            a[k:k + 2, k + 2:] = w.T
            pivots[k] = pivots[k + 1] = -(kp + 1)
        k += step
    return np.tril(a), pivots, info


def _ldl_factor(a: np.ndarray):
    """LAPACK sytrf (lower) on a batch: the compact LD, 1-based pivots (negative
    for a 2x2 block) and info, as torch.linalg.ldl_factor_ex returns them."""
    n = a.shape[-1]
    stack = a.reshape(int(np.prod(a.shape[:-2])), n, n)
    results = [_ldl_factor_one(matrix) for matrix in stack]
    batch = a.shape[:-2]
    factors = np.array([r[0] for r in results], dtype=a.dtype).reshape(a.shape)
    pivots = np.array([r[1] for r in results], dtype=np.int32).reshape(*batch, n)
    info = np.array([r[2] for r in results], dtype=np.int32).reshape(batch)
    return factors, pivots, info


def _cholesky_ex(a: np.ndarray):
    """LAPACK potrf (lower) that reports instead of raising: per matrix the
    factor and info, the order of the first leading minor that is not
    positive-definite. A failed matrix keeps what potf2 leaves: the columns
    before the failure factored, the failing pivot's value on the diagonal
    and A's own lower triangle after it."""
    n = a.shape[-1]
    stack = a.reshape(int(np.prod(a.shape[:-2])), n, n)
    factors = np.tril(stack).copy()
    info = np.zeros(stack.shape[0], dtype=np.int32)
    for element, matrix in enumerate(stack):
        try:
            factors[element] = np.linalg.cholesky(matrix)
            continue
        except np.linalg.LinAlgError:
            pass
        lower = factors[element]
        for j in range(n):
            pivot = lower[j, j] - lower[j, :j] @ lower[j, :j]
            if not pivot > 0:
                lower[j, j] = pivot
                info[element] = j + 1
                break
            lower[j, j] = np.sqrt(pivot)
            lower[j + 1:, j] = (lower[j + 1:, j] - lower[j + 1:, :j] @ lower[j, :j]) / lower[j, j]
    return factors.reshape(a.shape), info.reshape(a.shape[:-2])


# The LAPACK externs: numpy.linalg's routines on realised, batched arrays.
LAPACK_ROUTINES = {
    "solve": np.linalg.solve, "inv": np.linalg.inv, "det": np.linalg.det,
    "slogdet": np.linalg.slogdet, "svd": np.linalg.svd, "qr": np.linalg.qr,
    "eigh": np.linalg.eigh, "eigvalsh": np.linalg.eigvalsh,
    "cholesky": np.linalg.cholesky, "lstsq": _lstsq, "lu_factor": _lu_factor,
    "geqrf": _geqrf, "ldl_factor": _ldl_factor, "cholesky_ex": _cholesky_ex,
}


def lapack(name: str, dtype, *arrays: np.ndarray, **options):
    """Run the LAPACK extern `name` (counted in extern_calls); numpy's
    LinAlgError passes through for the caller to word as PyTorch does."""
    count_extern(name, dtype)
    return LAPACK_ROUTINES[name](*arrays, **options)


def first_zero_pivot(matrices: np.ndarray) -> tuple[int, int]:
    """(batch element, 1-based pivot) of the first matrix whose LU factorisation
    with partial pivoting (LAPACK getrf) meets a zero pivot; (-1, 0) if none.
    Only used to word a singular-matrix error."""
    stack = matrices.reshape(-1, *matrices.shape[-2:]).astype(np.float64)
    for element, matrix in enumerate(stack):
        lu = matrix.copy()
        n = lu.shape[0]
        for k in range(n):
            pivot_row = k + int(np.argmax(np.abs(lu[k:, k])))
            if lu[pivot_row, k] == 0:
                return element, k + 1
            lu[[k, pivot_row]] = lu[[pivot_row, k]]
            lu[k + 1:, k] /= lu[k, k]
            lu[k + 1:, k + 1:] -= np.outer(lu[k + 1:, k], lu[k, k + 1:])
    return -1, 0


def first_failed_minor(matrices: np.ndarray) -> tuple[int, int]:
    """(batch element, order) of the first leading minor that is not positive
    definite (LAPACK potrf's info); (-1, 0) if none. For error messages."""
    stack = matrices.reshape(-1, *matrices.shape[-2:])
    for element, matrix in enumerate(stack):
        for order in range(1, matrix.shape[0] + 1):
            try:
                np.linalg.cholesky(matrix[:order, :order])
            except np.linalg.LinAlgError:
                return element, order
    return -1, 0


class CPUBackend(Backend):
    """Kernels: kernel IR -> LLVM text -> machine code in one MCJIT engine."""

    device = CPU

    def __init__(self, render):
        self.render = render  # kernel IR, symbol -> LLVM IR text (codegen/llvm.render_llvm)
        self.check_bounds = CHECK_BOUNDS  # LAZYT_CHECK_BOUNDS=1 (runtime/checked.py)
        self.kernels = KernelCache()
        self._used_symbols: set[str] = set()
        # Live compiled kernels by symbol: kernel IR that differs only in ways
        # the code does not show (two equal renderings) shares one kernel.
        self._by_symbol: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
        self._extra_symbols = itertools.count()
        self._ahead: dict = {}  # kernel IR -> compiled by compile_ahead, not yet handed out
        self.externs = {"matmul": (matmul, bind_matmul)}
        self.execute = launch.execute  # (an attribute: one call less per launch)
        self.direct_call = launch.direct_call
        self.prepared_version = launch.thread_count

    def register_extern(self, name: str, run, bind) -> None:
        self.externs[name] = (run, bind)

    def allocate(self, dtype, numel: int) -> Storage:
        return Storage.allocate(dtype, numel, CPU)

    def copy_bytes(self, dst: Storage, dst_offset: int, src: Storage, src_offset: int,
                   nbytes: int) -> None:
        ctypes.memmove(dst.address + dst_offset, src.address + src_offset, nbytes)

    def compile(self, kernel) -> CompiledKernel:
        return self.kernels.get(kernel, lambda: self._ahead.pop(kernel, None)
                                or self._build(kernel))

    def compile_ahead(self, kernels: list) -> None:
        """Compile the kernels (kernel IR) a schedule is about to launch, all
        at once (runtime/compiler.compile_many: on several threads); compile()
        then hands each out as if it had just built it (until the next
        compile_ahead)."""
        self._ahead.clear()
        wanted: dict = {}  # kernel IR -> its live kernel, or the symbol to compile
        requests: dict[str, KernelSource] = {}
        for kernel in kernels:
            if kernel in wanted or kernel in self.kernels.entries:
                continue
            found = self._existing_or_request(kernel)
            if isinstance(found, KernelSource):
                requests.setdefault(found.name, found)
                found = found.name
            wanted[kernel] = found
        compiled = dict(zip(requests, compile_many(list(requests.values())) if requests else ()))
        for symbol, kernel in compiled.items():
            self._used_symbols.add(symbol)
            self._by_symbol[symbol] = kernel
        for kernel, found in wanted.items():
            self._ahead[kernel] = compiled[found] if isinstance(found, str) else found

    def _existing_or_request(self, kernel):
        """The live compiled kernel with this kernel's code, or what to compile.
        The symbol is derived from the kernel's code, so the same kernel has
        the same source in every process (the disk cache's key). A kernel
        compiled again after eviction gets a fresh name and skips the cache."""
        generic = (self.render(kernel, "k", check_bounds=True) if self.check_bounds
                   else self.render(kernel, "k"))
        digest = hashlib.sha256(generic.encode()).hexdigest()[:20]
        symbol = f"{kernel.name}_{digest}"
        same_code = self._by_symbol.get(symbol)
        if same_code is not None and not same_code.released:
            return same_code
        fresh = symbol not in self._used_symbols
        if not fresh:
            symbol = f"{symbol}_{next(self._extra_symbols)}"
        # The same text with the symbol in its places (@k.body, @k).
        source = generic.replace("@k.body(", f"@{symbol}.body(").replace("@k(", f"@{symbol}(")
        return KernelSource(source, symbol, fresh, kernel.compact)

    def _build(self, kernel) -> CompiledKernel:
        found = self._existing_or_request(kernel)
        if not isinstance(found, KernelSource):
            return found
        self._used_symbols.add(found.name)
        compiled = compile_llvm(found.source, found.name, use_disk_cache=found.use_disk_cache,
                                compact=found.compact)
        self._by_symbol[found.name] = compiled
        return compiled

    def kernel_from_source(self, symbol: str, source: str, compact: bool) -> CompiledKernel | None:
        """The kernel `symbol` of a Program read from disk (engine/program_store.py):
        the live one of that name, else compiled from its source (its machine code
        comes from the disk cache). None when the name was given to other code here."""
        same_code = self._by_symbol.get(symbol)
        if same_code is not None and not same_code.released:
            return same_code if same_code.source == source else None
        if symbol in self._used_symbols:
            return None
        self._used_symbols.add(symbol)
        compiled = compile_llvm(source, symbol, compact=compact)
        self._by_symbol[symbol] = compiled
        # Kept like a compiled kernel IR (bounded, least recently used first), so
        # the same kernel compiled from its IR later finds it by symbol.
        return self.kernels.get(("from source", symbol), lambda: compiled)

    def prepare(self, launches: tuple, static: dict) -> list:
        return launch.prepare(launches, static, self.externs)

    def execute(self, prepared, storages: list, rng_shift: int = 0) -> None:
        launch.execute(prepared, storages, rng_shift)

