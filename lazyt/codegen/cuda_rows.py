"""The block-per-row form of a CUDA reduction kernel (codegen/cuda.py's renderer
mixes this in).

A kernel that reduces rows can run one block per row: the block's threads
share the row's loops (strided by the block size), each reduction is
combined across the block by a tree in shared memory, and a store at row
level is written by thread 0. On a GPU the tree stops at 32 partials and the
first warp finishes with register shuffles (`warp_shuffles`: no barrier per
level); Numba's simulator has no shuffles, so there the tree goes to the end.
"""

from __future__ import annotations

import re

from lazyt.codegen.cuda_ops import cuda_template
from lazyt.codegen.cuda_types import register
from lazyt.dtypes import DType
from lazyt.ir import kernel as K

WARP_SIZE = 32


def _walk_statements(body: tuple, kind) -> list:
    """Every statement of `kind` in a statement tree, in order (iterative)."""
    found, pending = [], list(reversed(body))
    while pending:
        s = pending.pop()
        if isinstance(s, kind):
            found.append(s)
        if isinstance(s, K.Loop):
            pending.extend(reversed(s.body))
    return found


def reduces_rows(kern: K.Kernel) -> bool:
    """Does the kernel reduce within each outer iteration (a row-level
    accumulator updated in a loop)? Such kernels have a block-per-row form."""
    body = kern.body
    if not (kern.parallel and len(body) == 1 and isinstance(body[0], K.Loop)
            and body[0].start == K.Param(0) and body[0].stop == K.Param(1)):
        return False
    row_accs = {s.name for s in body[0].body if isinstance(s, K.AccInit)}
    return any(update.name in row_accs for loop in body[0].body if isinstance(loop, K.Loop)
               for update in _walk_statements(loop.body, K.AccUpdate))


class BlockRowRendering:
    """The block-per-row methods of codegen/cuda._Renderer (which provides
    emit, assign, expr, stmt, store and the accumulator table)."""

    def block_rows(self, outer: K.Loop) -> None:
        """The outer loop with one block per iteration: the row's loops are
        shared among the block's threads (strided by the block size), each
        reduction over the row is combined by a shared-memory tree, and a
        store at row level is written by thread 0."""
        size = self.row_block
        self.emit("tid = int64(cuda.threadIdx.x)")
        for init in _walk_statements(outer.body, K.AccInit):
            name = "acc_" + re.sub(r"\W", "_", init.name)
            shared_type = "SHARED_" + register(init.dtype).upper()
            self.emit(f"sh_{name} = cuda.shared.array({size}, {shared_type})")
            if init.op in ("argmax", "argmin"):
                self.emit(f"sh_{name}_i = cuda.shared.array({size}, SHARED_INT64)")
        var = self.fresh("L")
        start, stop = self.expr(outer.start), self.expr(outer.stop)
        self.emit(f"{var} = {start} + int64(cuda.blockIdx.x)")
        self.emit(f"while {var} < {stop}:")
        self.loop_vars[outer.var] = var
        self.indent += 1
        self.scopes.append({})
        row_accs = {s.name for s in outer.body if isinstance(s, K.AccInit)}
        for s in outer.body:
            if isinstance(s, K.Loop):
                self.shared_loop(s, row_accs)
            elif isinstance(s, K.Store):
                self.store(s, only_thread_zero=True)
            else:
                self.stmt(s)
        self.emit(f"{var} += int64(cuda.gridDim.x)")
        self.scopes.pop()
        self.indent -= 1

    def shared_loop(self, loop: K.Loop, row_accs: set) -> None:
        """A row-level loop whose iterations the block's threads share; then
        the row's reductions it updated are combined across the block."""
        var = self.fresh("L")
        start, stop = self.expr(loop.start), self.expr(loop.stop)
        self.emit(f"for {var} in range({start} + tid, {stop}, {self.row_block}):")
        self.loop_vars[loop.var] = var
        self.indent += 1
        self.scopes.append({})
        for s in loop.body:
            self.stmt(s)
        if not loop.body:
            self.emit("pass")
        self.scopes.pop()
        self.indent -= 1
        updated = []
        for update in _walk_statements(loop.body, K.AccUpdate):
            if update.name in row_accs and update.name not in updated:
                updated.append(update.name)
        for name in updated:
            self.combine(name)

    def combine(self, name: str) -> None:
        """Every thread's partial accumulator -> the row's, by a tree in shared
        memory (with `warp_shuffles`, only down to 32 partials: one warp then
        finishes with register shuffles, no barrier per level); every thread
        then holds the result."""
        acc, dtype, op = self.accs[name]
        arg = op in ("argmax", "argmin")
        self.emit(f"sh_{acc}[tid] = {acc}")
        if arg:
            self.emit(f"sh_{acc}_i[tid] = {acc}_i")
        self.emit("cuda.syncthreads()")
        step = self.row_block // 2
        last_tree_step = WARP_SIZE if self.warp_shuffles else 1
        while step >= last_tree_step:
            self.emit(f"if tid < {step}:")
            self.indent += 1
            mine, other = f"sh_{acc}[tid]", f"sh_{acc}[tid + {step}]"
            if arg:
                self.arg_combine(op, dtype, mine, f"sh_{acc}_i[tid]", other,
                                 f"sh_{acc}_i[tid + {step}]")
            else:
                self.emit(f"{mine} = {self.combined(op, dtype, mine, other)}")
            self.indent -= 1
            self.emit("cuda.syncthreads()")
            step //= 2
        if self.warp_shuffles:
            self.warp_combine(acc, dtype, op, min(self.row_block, WARP_SIZE))
        self.emit(f"{acc} = {'bool(' if dtype.kind == 'b' else register(dtype) + '('}"
                  f"sh_{acc}[0])")
        if arg:
            self.emit(f"{acc}_i = sh_{acc}_i[0]")
        self.emit("cuda.syncthreads()")  # (the shared slots are reused by the next row)

    def arg_combine(self, op: str, dtype: DType, mine: str, mine_i: str, other: str,
                    other_i: str) -> None:
        """mine (value, index) = the better of mine and other: argmax/argmin's
        order (the first index wins ties; NaN wins for floats)."""
        compare = ">" if op == "argmax" else "<"
        tie = f"({other} == {mine} and {other_i} < {mine_i})"
        better = f"({other} {compare} {mine}) or {tie}"
        if dtype.kind == "f":
            better += (f" or ({other} != {other} and ({mine} == {mine} or "
                       f"{other_i} < {mine_i}))")
        self.emit(f"if {better}:")
        self.emit(f"    {mine} = {other}")
        self.emit(f"    {mine_i} = {other_i}")

    def warp_combine(self, acc: str, dtype: DType, op: str, width: int) -> None:
        """The last `width` (<= 32) partials, in shared memory, combined by
        the first warp with shfl_down_sync (lane i reads lane i + offset; only
        lane 0's result is used, and it only ever reads lanes below width);
        lane 0 writes the row's result back to slot 0."""
        arg = op in ("argmax", "argmin")
        mask = (1 << width) - 1
        self.emit(f"if tid < {width}:")
        self.indent += 1
        value = self.assign(f"sh_{acc}[tid]", "w")
        index = self.assign(f"sh_{acc}_i[tid]", "wi") if arg else None
        offset = width // 2
        while offset:
            other = self.assign(self.shuffled(value, dtype, mask, offset), "w")
            if arg:
                other_i = self.assign(f"cuda.shfl_down_sync({mask}, {index}, {offset})", "wi")
                self.arg_combine(op, dtype, value, index, other, other_i)
            else:
                self.emit(f"{value} = {self.combined(op, dtype, value, other)}")
            offset //= 2
        self.emit("if tid == 0:")
        self.emit(f"    sh_{acc}[0] = {value}")
        if arg:
            self.emit(f"    sh_{acc}_i[0] = {index}")
        self.indent -= 1
        self.emit("cuda.syncthreads()")

    def shuffled(self, value: str, dtype: DType, mask: int, offset: int) -> str:
        """shfl_down_sync of a register value (it moves 32- and 64-bit words:
        narrower integers and bools travel as int32)."""
        reg = register(dtype)
        if reg in ("float32", "float64", "int32", "int64"):
            return f"cuda.shfl_down_sync({mask}, {value}, {offset})"
        moved = f"cuda.shfl_down_sync({mask}, int32({value}), {offset})"
        return f"({moved} != 0)" if dtype.kind == "b" else f"{reg}({moved})"

    def combined(self, op: str, dtype: DType, a: str, b: str) -> str:
        kind = dtype.kind
        if op in ("any", "all") or kind == "b":
            return f"({a} {'and' if op in ('all', 'prod', 'min') else 'or'} {b})"
        if op in ("sum", "prod"):
            return self.rounded(f"{a} {'+' if op == 'sum' else '*'} {b}", dtype)
        template = cuda_template("maximum" if op == "max" else "minimum", kind)
        return self.rounded(template.format(a=a, b=b, T=register(dtype)), dtype)
