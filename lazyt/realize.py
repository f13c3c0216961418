"""Realisation: IR nodes -> kernels -> compiled code -> results in storage.

The one place where the layers meet: it asks ir/lower.py for a LaunchPlan,
codegen/llvm.py for its source, runtime/compiler.py for machine code (through
the in-memory kernel cache) and runtime/launch.py to run it. Tensor ops call
`realize_into` / `realize_new`; extern ops (BLAS matmul, sort) are counted
here too.
"""

from __future__ import annotations

import time

from lazyt.codegen.llvm import render_llvm
from lazyt.dtypes import DType
from lazyt.ir import lower
from lazyt.ir.node import Node
from lazyt.ir.view import View, prod
from lazyt.runtime import stats
from lazyt.runtime.compiler import CompiledKernel, KernelCache, compile_llvm, debug_level
from lazyt.runtime.launch import launch
from lazyt.runtime.storage import Storage

KERNELS = KernelCache()


def compiled_for(plan: lower.LaunchPlan) -> CompiledKernel:
    kern = plan.kernel
    return KERNELS.get(kern, lambda: compile_llvm(render_llvm(kern), kern.name))


def run(plan: lower.LaunchPlan | None, work: int) -> None:
    if plan is None:  # nothing to compute (an empty tensor)
        return
    compiled = compiled_for(plan)
    start = time.perf_counter() if debug_level() >= 2 else 0.0
    launch(compiled.function, plan.buffers, plan.params, plan.outer, plan.kernel.parallel, work)
    if debug_level() >= 2:
        ms = (time.perf_counter() - start) * 1e3
        print(f"[lazyt] {plan.kernel.name}: {ms:.3f} ms, {work} elements")


def plan_for(node: Node, out: Storage, view: View) -> lower.LaunchPlan | None:
    if node.op in ("reduce", "scan"):
        return lower.lower_reduce(node, out.buffer, view)
    if node.op == "gather":
        return lower.lower_gather(node, out.buffer, view)
    return lower.lower_elementwise(node, out.buffer, view)


def realize_into(node: Node, out: Storage, view: View) -> None:
    """Compute node into out's memory as seen through view (ASSIGN)."""
    stats.bump("realizations")
    if node.op == "extern":
        run_extern(node, out, view)
        return
    work = prod(node.srcs[0].shape) if node.op in ("reduce", "scan") else prod(node.shape)
    run(plan_for(node, out, view), work)


def realize_new(node: Node, device, strides: tuple[int, ...] | None = None
                ) -> tuple[Storage, View]:
    """Compute node into a fresh dense storage (contiguous unless strides are given)."""
    view = View.contiguous(node.shape) if strides is None else View(node.shape, strides, 0)
    out = Storage.allocate(node.dtype, prod(node.shape), device)
    realize_into(node, out, view)
    return out, view


def scatter_into(dst: Storage, dst_view: View, values: Node, index_nodes: list[Node],
                 mapping: tuple, accumulate: str | None) -> None:
    stats.bump("realizations")
    plan = lower.lower_scatter(dst.buffer, dst.dtype, dst_view, values, index_nodes,
                               mapping, accumulate)
    run(plan, prod(values.shape))


def nonzero_into(mask: Node, out: Storage) -> None:
    stats.bump("realizations")
    run(lower.lower_nonzero(mask, out.buffer), prod(mask.shape))


def run_extern(node: Node, out: Storage, view: View) -> None:
    """Extern ops: their inputs are realised loads, their code is a library's."""
    from lazyt import linalg

    if node.arg == "matmul":
        a, b = (linalg.array_of_load(src) for src in node.srcs)
        linalg.run_extern_matmul(out, view, a, b)
        return
    raise AssertionError(f"unknown extern op {node.arg}")


def count_extern(name: str, dtype: DType) -> None:
    stats.bump("extern_calls")
    if debug_level() >= 2:
        print(f"[lazyt] extern {name} ({dtype.name})")
