"""
4. Eager vs deferred: one model both ways
=========================================

Eager mode runs each op when it is called. Deferred mode (`with lt.deferred():`)
records the ops as a graph and, when a value is needed, schedules the whole
graph at once: elementwise chains and reductions fuse into few kernels, and
intermediates never touch memory. This tutorial counts the kernels a GELU and
a training step launch each way, draws the graph, and charts the times.

    python tutorials/04_eager_vs_deferred.py
"""

# %%
# GELU: eight ops, one kernel
# ---------------------------
import math
import time

from _tutorial import SHORT, picture_path, pyplot, save

import lazyt as lt
from lazyt import graph_drawing
from lazyt.ir.node import walk


def gelu(x):
    return 0.5 * x * (1 + ((x + 0.044715 * x * x * x) * math.sqrt(2 / math.pi)).tanh())


lt.manual_seed(0)
x = lt.randn(1024, 1024)


def launches(fn) -> tuple[int, float]:
    fn()  # warm: compile what it needs
    lt.debug.reset_stats()
    start = time.perf_counter()
    fn()
    return lt.debug.stats()["kernel_launches"], (time.perf_counter() - start) * 1e3


def gelu_deferred():
    with lt.deferred():
        y = gelu(x)
    return y.realize()


eager_gelu, deferred_gelu = launches(lambda: gelu(x)), launches(gelu_deferred)
print(f"GELU eager:    {eager_gelu[0]} kernel launches, {eager_gelu[1]:.2f} ms")
print(f"GELU deferred: {deferred_gelu[0]} kernel launches, {deferred_gelu[1]:.2f} ms")
assert deferred_gelu[0] < eager_gelu[0]

# %%
# The pending graph, drawn
# ------------------------
with lt.deferred():
    pending = gelu(x)
svg_path = picture_path("04_gelu_graph.svg")
with open(svg_path, "w") as f:
    f.write(lt.debug.graph(pending, format="svg"))
print(f"picture: {svg_path}")
if pyplot() is not None:
    graph_drawing.to_png(walk(pending._load()), picture_path("04_gelu_graph.png"))
    print(f"picture: {picture_path('04_gelu_graph.png')}")
print(f"it fuses into {len(lt.debug.kernels(pending))} kernel(s)")
pending.realize()

# %%
# A training step both ways
# -------------------------
model = lt.nn.Sequential(lt.nn.Linear(64, 256), lt.nn.GELU(), lt.nn.Linear(256, 10))
optimizer = lt.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
data, target = lt.randn(128, 64), lt.randint(0, 10, (128,))


def step():
    optimizer.zero_grad()
    loss = lt.nn.functional.cross_entropy(model(data), target)
    loss.backward()
    optimizer.step()
    return loss


def eager_step():
    return step().item()


def deferred_step():
    with lt.deferred():
        loss = step()
    return loss.item()


compiled = lt.compile(step)


def compiled_step():
    return compiled().item()


rows = {}
repeats = 5 if SHORT else 50
for name, fn in (("eager", eager_step), ("deferred", deferred_step),
                 ("compiled", compiled_step)):
    for _ in range(3):
        fn()
    lt.debug.reset_stats()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    ms = (time.perf_counter() - start) * 1e3 / repeats
    stats = lt.debug.stats()
    rows[name] = (stats["kernel_launches"] / repeats, ms)
    print(f"{name:9s}: {rows[name][0]:5.1f} kernel launches per step, {ms:.2f} ms per step")
assert rows["deferred"][0] <= rows["eager"][0]

# %%
# Times side by side
# ------------------
plt = pyplot()
if plt is not None:
    figure, (left, right) = plt.subplots(1, 2, figsize=(8, 3))
    names = list(rows)
    left.bar(names, [rows[n][0] for n in names], color=["tab:gray", "tab:blue", "tab:green"])
    left.set_title("kernel launches per step")
    right.bar(names, [rows[n][1] for n in names], color=["tab:gray", "tab:blue", "tab:green"])
    right.set_title("ms per step")
    save(figure, "04_modes.png")
