"""
5. @lt.compile: trace once, replay
==================================

`@lt.compile` runs a function normally on its first call, records every
kernel it launches on the second (the trace), and from then on replays the
recorded program: no Python per op, no graph building, no cache lookups.
This tutorial measures the speedup, provokes a retrace and reads its reason,
hits the recompile limit, and shows the disk cache making a fresh process's
first call cheap.

    python tutorials/05_compile.py
"""

# %%
# A training step, eager and compiled
# -----------------------------------
import os
import subprocess
import sys
import tempfile
import time

from _tutorial import SHORT, pyplot, save

import lazyt as lt

lt.manual_seed(0)
model = lt.nn.Sequential(lt.nn.Linear(64, 256), lt.nn.ReLU(), lt.nn.Linear(256, 10))
optimizer = lt.optim.SGD(model.parameters(), lr=0.05)


def train_step(x, y):
    optimizer.zero_grad()
    loss = lt.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    return loss


compiled_step = lt.compile(train_step)
x, y = lt.randn(128, 64), lt.randint(0, 10, (128,))


def per_step_ms(step, repeats: int) -> float:
    for _ in range(3):
        step(x, y).item()
    start = time.perf_counter()
    for _ in range(repeats):
        step(x, y).item()
    return (time.perf_counter() - start) * 1e3 / repeats


repeats = 10 if SHORT else 200
eager_ms, compiled_ms = per_step_ms(train_step, repeats), per_step_ms(compiled_step, repeats)
print(f"eager {eager_ms:.3f} ms/step, compiled {compiled_ms:.3f} ms/step "
      f"({eager_ms / compiled_ms:.1f}x)")

# %%
# Same numbers both ways
# ----------------------
lt.manual_seed(1)
reference = lt.nn.Sequential(lt.nn.Linear(4, 3))
twin = lt.nn.Sequential(lt.nn.Linear(4, 3))
twin.load_state_dict(reference.state_dict())
losses = {}
for name, net in (("eager", reference), ("compiled", twin)):
    opt = lt.optim.SGD(net.parameters(), lr=0.1)

    def step(a, b, net=net, opt=opt):
        opt.zero_grad()
        loss = ((net(a) - b) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    run = lt.compile(step) if name == "compiled" else step
    lt.manual_seed(2)
    losses[name] = [run(lt.randn(8, 4), lt.randn(8, 3)).item() for _ in range(6)]
print("eager losses   ", [f"{v:.4f}" for v in losses["eager"]])
print("compiled losses", [f"{v:.4f}" for v in losses["compiled"]])
assert max(abs(a - b) for a, b in zip(losses["eager"], losses["compiled"])) < 1e-6

# %%
# A retrace, and why it happened
# ------------------------------
# A new input shape is a new signature: the function is traced again, and
# `reasons` says what changed. Nothing recompiles silently.
compiled_step(lt.randn(64, 64), lt.randint(0, 10, (64,)))
compiled_step(lt.randn(64, 64), lt.randint(0, 10, (64,)))
print("retrace reasons:", compiled_step.reasons)
assert compiled_step.reasons and "shape" in compiled_step.reasons[-1]

# %%
# The recompile limit
# -------------------
# A function whose input shape changes on every call would retrace forever;
# after `recompile_limit` traces lt.compile raises instead.
limited = lt.compile(lambda t: (t * 2).sum(), recompile_limit=3)
try:
    for n in range(1, 10):
        for _ in range(2):
            limited(lt.ones(n))
except lt.CompileError as error:
    print("CompileError:", str(error)[:160], "...")
else:
    raise AssertionError("the recompile limit did not trigger")

# %%
# The disk cache: a second process starts warm
# --------------------------------------------
# Compiled machine code is kept on disk (LAZYT_CACHE_DIR), keyed by the
# kernel, the CPU and the versions; a new process finds it there.
program = ("import time, lazyt as lt; t = time.perf_counter(); "
           "x = lt.randn(256, 256); y = ((x * 3).sin() + x.exp()).sum(1); y.tolist(); "
           "s = lt.debug.stats(); "
           "print(round((time.perf_counter() - t) * 1e3, 1), s['kernels_compiled'], "
           "s['disk_cache_hits'])")
with tempfile.TemporaryDirectory() as cache:
    env = dict(os.environ, LAZYT_CACHE_DIR=cache, LAZYT_CACHE="1")
    runs = [subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                           env=env, check=True).stdout.split() for _ in range(2)]
(cold_ms, cold_compiled, cold_hits), (warm_ms, warm_compiled, warm_hits) = runs
print(f"first process: {cold_ms} ms, {cold_compiled} kernels compiled; "
      f"second process: {warm_ms} ms, {warm_compiled} compiled, {warm_hits} from the disk cache")
assert int(cold_compiled) > 0 and int(warm_compiled) == 0 and int(warm_hits) > int(cold_hits)

# %%
# The picture
# -----------
plt = pyplot()
if plt is not None:
    figure, (left, right) = plt.subplots(1, 2, figsize=(8, 3))
    left.bar(["eager", "compiled"], [eager_ms, compiled_ms], color=["tab:gray", "tab:green"])
    left.set_title("ms per training step")
    right.bar(["empty cache", "disk cache"], [float(cold_ms), float(warm_ms)],
              color=["tab:gray", "tab:green"])
    right.set_title("first call in a new process (ms)")
    save(figure, "05_compile.png")
