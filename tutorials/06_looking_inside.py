"""
6. Looking inside: graphs, debug levels, generated code
=======================================================

lazyt keeps nothing hidden: the graph a pending tensor would be computed
from (`lt.debug.graph`, as text, Graphviz source or a picture), what each
launch does (`LAZYT_DEBUG=1..4`), the counters (`lt.debug.stats()`), and the
LLVM IR of every fused kernel (`lt.debug.kernels`).

    python tutorials/06_looking_inside.py
"""

# %%
# The graph of a softmax, three ways
# ----------------------------------
import os
import shutil
import subprocess
import sys

from _tutorial import picture_path, pyplot

import lazyt as lt
from lazyt import graph_drawing
from lazyt.ir.node import walk

x = lt.randn(64, 32)
with lt.deferred():
    e = (x - x.amax(-1, keepdim=True)).exp()
    probabilities = e / e.sum(-1, keepdim=True)
print(lt.debug.graph(probabilities))
dot = lt.debug.graph(probabilities, format="dot")
svg_path = picture_path("06_softmax_graph.svg")
with open(svg_path, "w") as f:
    f.write(lt.debug.graph(probabilities, format="svg"))
print(f"picture: {svg_path} (drawn without Graphviz)")
if shutil.which("dot"):  # Graphviz installed: its own layout too
    subprocess.run(["dot", "-Tpng", "-o", picture_path("06_softmax_graphviz.png")],
                   input=dot, text=True, check=True)
    print(f"picture: {picture_path('06_softmax_graphviz.png')}")
if pyplot() is not None:
    graph_drawing.to_png(walk(probabilities._load()), picture_path("06_softmax_graph.png"))
    print(f"picture: {picture_path('06_softmax_graph.png')}")

# %%
# The fused kernels and their LLVM IR
# -----------------------------------
kernels = lt.debug.kernels(probabilities)
print(f"softmax over rows fuses into {len(kernels)} kernel(s):", [name for name, _ in kernels])
name, llvm_ir = kernels[0]
print("\n".join(llvm_ir.splitlines()[:30]))
assert "define" in llvm_ir
probabilities.realize()
assert lt.allclose(probabilities.sum(-1), lt.ones(64))

# %%
# Counters
# --------
lt.debug.reset_stats()
y = (x.sin() * 2 + 1).relu().sum()
print(lt.debug.stats())
assert lt.debug.stats()["kernel_launches"] >= 1

# %%
# LAZYT_DEBUG levels
# ------------------
# 1: retraces and cache events, 2: every launch with its time, 3: every
# compile, 4: the LLVM IR of every kernel as it compiles. Here level 2 in a
# child process:
child = ("import lazyt as lt; x = lt.ones(1000); y = (x * 2 + 1).relu(); "
         "z = x @ lt.ones(1000)")
out = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True,
                     env=dict(os.environ, LAZYT_DEBUG="2"))
lines = [line for line in (out.stdout + out.stderr).splitlines() if line.startswith("[lazyt]")]
print("\n".join(lines[:8]))
assert lines, "LAZYT_DEBUG=2 printed nothing"
