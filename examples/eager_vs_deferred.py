"""The same computation eagerly and deferred: what fusion buys.

    python examples/eager_vs_deferred.py

Eager mode runs one kernel per op and writes every intermediate to memory.
Deferred mode builds the graph and, when the value is needed, fuses it: the
GELU below becomes one kernel, and so does softmax (its max, sum and
normalisation share one pass per row). A whole training step (forward,
backward, SGD update) becomes a few launches between its matmuls.

Eager mode fuses too, within library ops: linear, cross_entropy, each
gradient rule and an optimizer's update run as "regions" whose launches are
recorded once and replayed (lazyt/regions.py). So the eager step below is
already few launches, and for a model this small it is faster than deferred
mode, which rebuilds and looks up the whole graph in Python every step;
lt.compile (examples/compile_training.py) removes that cost as well.
"""

import math
import time

import lazyt as lt


def gelu(x):
    return 0.5 * x * (1 + ((x + 0.044715 * x * x * x) * math.sqrt(2 / math.pi)).tanh())


def softmax(x):
    e = (x - x.amax(-1, keepdim=True)).exp()
    return e / e.sum(-1, keepdim=True)


def measure(label, fn, deferred):
    fn_run = fn
    if deferred:
        def fn_run():
            with lt.deferred():
                out = fn()
            return out.realize()
    fn_run()  # compile
    lt.debug.reset_stats()
    start = time.perf_counter()
    out = fn_run()
    ms = (time.perf_counter() - start) * 1e3
    launches = lt.debug.stats()["kernel_launches"]
    mode = "deferred" if deferred else "eager   "
    print(f"  {label:8s} {mode}: {launches:2d} kernel launches, {ms:7.2f} ms")
    return out


lt.manual_seed(0)
x = lt.randn(2048, 1024)
print("GELU(tanh) and softmax on a 2048x1024 float32 tensor")
for label, fn in (("gelu", lambda: gelu(x)), ("softmax", lambda: softmax(x))):
    eager = measure(label, fn, deferred=False)
    fused = measure(label, fn, deferred=True)
    print(f"  {label:8s} same result: {bool(lt.allclose(eager, fused))}")

with lt.deferred():
    y = gelu(x)
print("\nThe pending graph of gelu(x) (lt.debug.graph):")
print(lt.debug.graph(y))
name, source = lt.debug.kernels(y)[0]
print(f"\nIt fuses into {len(lt.debug.kernels(y))} kernel; the start of its LLVM IR:")
print("\n".join(source.splitlines()[:25]))

# A training step: forward, backward and the optimizer's in-place updates.
model = lt.nn.Sequential(lt.nn.Linear(64, 256), lt.nn.ReLU(), lt.nn.Linear(256, 10))
opt = lt.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
data, target = lt.randn(128, 64), lt.randint(0, 10, (128,))


def train_step():
    opt.zero_grad()
    loss = lt.nn.functional.cross_entropy(model(data), target)
    loss.backward()
    opt.step()
    return loss


print("\nAn MLP training step (64-256-10, batch 128, SGD with momentum):")
for deferred in (False, True):
    for _ in range(3):  # compile, and create the momentum buffers
        with (lt.deferred() if deferred else lt.set_grad_enabled(True)):
            train_step().item()
    lt.debug.reset_stats()
    start = time.perf_counter()
    with (lt.deferred() if deferred else lt.set_grad_enabled(True)):
        train_step().item()  # reading the loss also carries out the updates
    ms = (time.perf_counter() - start) * 1e3
    stats = lt.debug.stats()
    print(f"  {'deferred' if deferred else 'eager   '}: {stats['kernels']:2d} kernels in "
          f"{stats['kernel_launches']:2d} launches + {stats['extern_calls']} matmuls, {ms:.2f} ms")
