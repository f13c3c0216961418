"""Introspection: lt.debug.stats(), reset_stats(), graph(t) and kernels(t).

LAZYT_DEBUG=2 prints each launch with its time, =3 each compile, =4 the
generated LLVM IR as kernels compile.
"""

from __future__ import annotations

from lazyt import graph_drawing
from lazyt.engine.realize import CPU_BACKEND, scheduled_kernels
from lazyt.ir.node import walk
from lazyt.runtime import stats as _stats
from lazyt.runtime.compiler import set_debug_level
from lazyt.runtime.launch import thread_count


def set_level(level: int) -> None:
    """Change the LAZYT_DEBUG level at run time (0 quiet .. 4 generated source)."""
    set_debug_level(level)


def stats() -> dict:
    """Counters since start or the last reset_stats(): kernels_compiled,
    kernel_launches (calls into compiled code), kernels (the scheduled kernels
    those launches ran: small ones share a launch), cache_hits,
    compile_seconds, extern_calls, realizations, graphs_scheduled (graphs
    scheduled anew rather than replayed from the realisation cache or the
    disk), programs_loaded (recorded Programs of lt.compile's calls read from
    the disk cache)."""
    return dict(_stats.COUNTERS)


def reset_stats() -> None:
    _stats.reset()


def graph(t, format: str = "text") -> str:  # noqa: A002 - matches the API contract
    """The pending IR a tensor would be computed from (deferred mode), as text,
    with format="dot" as Graphviz source, with format="svg" as a picture drawn
    without Graphviz (lazyt/graph_drawing.py). A realised tensor is a single load."""
    if format not in ("text", "dot", "svg"):
        raise ValueError(f"lt.debug.graph: format must be 'text', 'dot' or 'svg', got {format!r}")
    node = t._load()
    nodes = walk(node)
    if format == "svg":
        return graph_drawing.to_svg(nodes)
    names = {id(n): f"%{i}" for i, n in enumerate(nodes)}
    if format == "dot":
        lines = ["digraph lazyt {"]
        for n in nodes:
            lines.append(f'  n{names[id(n)][1:]} [label="{n.op} {n.dtype.name} {list(n.shape)}"];')
            for s in n.srcs:
                lines.append(f"  n{names[id(s)][1:]} -> n{names[id(n)][1:]};")
        lines.append("}")
        return "\n".join(lines)
    lines = []
    for n in nodes:
        srcs = ", ".join(names[id(s)] for s in n.srcs)
        arg = "" if n.arg is None or n.op == "load" else f" arg={n.arg!r}"
        if n.op == "load":
            v = n.arg[1]
            arg = f" view(shape={v.shape}, strides={v.strides}, offset={v.offset})"
        lines.append(f"{names[id(n)]} = {n.op}({srcs}) : {n.dtype.name}{list(n.shape)}{arg}")
    return "\n".join(lines)


def kernels(t=None) -> list:
    """(name, LLVM IR) of the fused kernels that would compute pending tensor t,
    scheduled but not run; of the program an lt.compile'd function replays; or,
    without an argument, the kernels in the compiled-kernel cache."""
    if t is None:
        return [(k.name, c.source) for k, c in CPU_BACKEND.kernels.entries.items()]
    if hasattr(t, "programs") and hasattr(t, "kernels"):  # an lt.compile'd function
        return t.kernels()
    if getattr(t, "_node", None) is None:
        return []
    return scheduled_kernels(t._node)


def kernel_cache_size() -> int:
    """Compiled kernels held in memory (bounded; see runtime/compiler.KernelCache)."""
    return len(CPU_BACKEND.kernels.entries)


def threads() -> int:
    """Threads a large kernel launch is split across (env LAZYT_NUM_THREADS)."""
    return thread_count()
