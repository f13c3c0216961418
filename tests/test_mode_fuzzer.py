"""Differential fuzzer over lazyt's three modes: eager, deferred, compiled.

A seeded random program is a chain of steps over one float32 value, each step
valid for the value's current shape (tracked while drawing it): elementwise
ops, broadcasting binary ops against an extra input, reductions with
dim/keepdim, movements (transpose, permute, strided slices, expand, reshape),
indexing (getitem with an index tensor, gather), in-place writes through views
of a clone (`v = b[1:]; v.add_(...)`, `b.t().mul_(...)`), and a backward pass
through the chain to every leaf that requires grad.

Each program runs
- eagerly, and in `with lt.deferred():` (values, shapes, dtypes, leaf
  gradients, and the aliasing facts of every view it makes: strides,
  storage_offset, shared storage, data_ptr offset from its base, contiguity,
  version counters of the view and its base, all read right after the step);
- under `@lt.compile`, called three times with fresh inputs of the same shapes
  (warm-up, trace, replay), each call's output and `lt.autograd.grad` leaf
  gradients compared with eager on the same inputs (compiled outputs are fresh
  tensors, so aliasing is not compared);
- in numpy (float64) for forward values, and in PyTorch when installed for
  values, gradients and aliasing facts.

CI runs a short budget (FUZZ_SECONDS, at least FUZZ_MIN_PROGRAMS programs);
`pytest --long` (LAZYT_FUZZ_LONG=1) runs 10,000 (LAZYT_FUZZ_SEEDS=start:stop
picks a range of them, to split the run over processes). A failure names the seed:
`run_seed(seed)` replays it; `program_text(draw_program(seed))` prints it;
`python -m tests.tools.fuzz_seed SEED --minimise` prints the program, runs it
and takes out every step it can while the mismatch stays.
"""

import math
import os
import random
import time

import numpy as np
import pytest

import lazyt as lt

try:
    import torch
except ImportError:  # the oracle is optional
    torch = None

LONG = bool(os.environ.get("LAZYT_FUZZ_LONG"))
FUZZ_PROGRAMS = 10_000 if LONG else None
# A long run split over processes: LAZYT_FUZZ_SEEDS=4000:7000 runs those seeds.
FUZZ_SEEDS = tuple(int(s) for s in os.environ.get("LAZYT_FUZZ_SEEDS", "0:10000").split(":"))
FUZZ_SECONDS = 12.0
FUZZ_MIN_PROGRAMS = 30
RTOL, ATOL = 2e-4, 2e-5          # float32 against float32 (other mode, torch)
NUMPY_RTOL, NUMPY_ATOL = 1e-3, 1e-4  # float32 against the float64 numpy reference

UNARY = ("neg", "sin", "tanh", "exp_clamped", "abs", "relu", "sigmoid", "square")
BINARY = ("add", "sub", "mul", "maximum", "div_safe")
REDUCTIONS = ("sum", "mean", "amax", "amin", "var", "std", "logsumexp", "softmax", "prod")

VIEW_STEPS = ("transpose", "permute", "slice", "expand_dim", "expand_new", "reshape")
# No mismatch is excluded: results have PyTorch's strides in every mode
# (eager layouts follow TensorIterator, deferred results are realised in
# them, advanced indexing keeps the input's dim order), so every aliasing
# fact of every view is compared.


# ---------------------------------------------------------------- drawing

def _broadcast_shape(rng: random.Random, shape: tuple) -> tuple:
    """A shape that broadcasts against `shape`: some leading dims dropped,
    some others set to 1."""
    drop = rng.randint(0, len(shape))
    kept = list(shape[drop:])
    for i in range(len(kept)):
        if rng.random() < 0.3:
            kept[i] = 1
    return tuple(kept)


def draw_program(seed: int) -> dict:
    """A random program: {"shape", "steps", "requires_grad", "aux"}; `aux`
    lists the extra inputs' (kind, shape, bound) in the order steps use them."""
    rng = random.Random(seed)
    shape = tuple(rng.randint(1, 5) for _ in range(rng.randint(1, 3)))
    program = {"shape": shape, "steps": [], "requires_grad": rng.random() < 0.6, "aux": []}
    steps, aux = program["steps"], program["aux"]

    def new_aux(kind, aux_shape, bound=None):
        aux.append((kind, tuple(aux_shape), bound))
        return len(aux) - 1

    for _ in range(rng.randint(1, 7)):
        ndim = len(shape)
        kind = rng.choice(["unary", "binary", "reduce", "transpose", "permute", "slice",
                           "expand", "reshape", "index", "gather", "inplace_view"])
        if kind == "unary":
            steps.append(("unary", rng.choice(UNARY)))
        elif kind == "binary":
            steps.append(("binary", rng.choice(BINARY),
                          new_aux("float", _broadcast_shape(rng, shape))))
        elif kind == "reduce" and ndim:
            name, dim, keep = rng.choice(REDUCTIONS), rng.randrange(ndim), rng.random() < 0.5
            if name in ("var", "std") and shape[dim] < 2:
                name = "sum"
            steps.append(("reduce", name, dim, keep))
            if name != "softmax":
                shape = shape[:dim] + ((1,) if keep else ()) + shape[dim + 1:]
        elif kind == "transpose" and ndim >= 2:
            d0, d1 = rng.sample(range(ndim), 2)
            steps.append(("transpose", d0, d1))
            shape = list(shape)
            shape[d0], shape[d1] = shape[d1], shape[d0]
            shape = tuple(shape)
        elif kind == "permute" and ndim >= 2:
            order = tuple(rng.sample(range(ndim), ndim))
            steps.append(("permute", order))
            shape = tuple(shape[i] for i in order)
        elif kind == "slice" and ndim:
            dim = rng.randrange(ndim)
            start = rng.randrange(shape[dim])
            stop = rng.randint(start + 1, shape[dim])
            step = rng.randint(1, 3)
            steps.append(("slice", dim, start, stop, step))
            shape = shape[:dim] + (len(range(start, stop, step)),) + shape[dim + 1:]
        elif kind == "expand":
            ones = [i for i, n in enumerate(shape) if n == 1]
            if ones and rng.random() < 0.5:
                dim, n = rng.choice(ones), rng.randint(2, 3)
                steps.append(("expand_dim", dim, n))
                shape = shape[:dim] + (n,) + shape[dim + 1:]
            elif ndim < 4:
                n = rng.randint(1, 3)
                steps.append(("expand_new", n))
                shape = (n,) + shape
        elif kind == "reshape":
            numel = math.prod(shape)
            factors = [f for f in range(1, numel + 1) if numel % f == 0]
            f = rng.choice(factors)
            new = rng.choice([(numel,), (f, numel // f), (f, -1)])
            steps.append(("reshape", new))
            shape = (numel,) if len(new) == 1 else (f, numel // f)
        elif kind == "index" and ndim:
            dim = rng.randrange(min(ndim, 2))
            k = rng.randint(1, 4)
            steps.append(("index", dim, new_aux("index", (k,), shape[dim])))
            shape = shape[:dim] + (k,) + shape[dim + 1:]
        elif kind == "gather" and ndim:
            dim = rng.randrange(ndim)
            index_shape = tuple(rng.randint(1, n) for n in shape)
            index_shape = index_shape[:dim] + (rng.randint(1, 4),) + index_shape[dim + 1:]
            steps.append(("gather", dim, new_aux("index", index_shape, shape[dim])))
            shape = index_shape
        elif kind == "inplace_view" and ndim:
            how = rng.choice(["slice", "t"] if ndim == 2 else ["slice", "transpose"])
            dim = rng.randrange(ndim)
            start = 1 if shape[dim] > 1 else 0
            step = rng.randint(1, 2)
            view_shape = shape if how != "slice" else (
                shape[:dim] + (len(range(start, shape[dim], step)),) + shape[dim + 1:])
            if how in ("t", "transpose"):
                view_shape = tuple(reversed(shape)) if how == "t" else (
                    (shape[-1],) + shape[1:-1] + (shape[0],) if ndim > 1 else shape)
            op = rng.choice(["add_", "mul_", "copy_"])
            source = new_aux("float", _broadcast_shape(rng, view_shape))
            keep_view = rng.random() < 0.3
            steps.append(("inplace_view", how, dim, start, step, op, source, keep_view))
            if keep_view:
                shape = view_shape
    program["weights"] = new_aux("float", shape)
    return program


def program_text(program: dict) -> str:
    lines = [f"x: {program['shape']} float32, requires_grad={program['requires_grad']}"]
    lines += [f"  {step}" for step in program["steps"]]
    lines.append(f"aux inputs: {program['aux']}")
    return "\n".join(lines)


def make_inputs(program: dict, seed: int) -> list:
    """Numpy arrays for the program's inputs: x, then every aux input."""
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(program["shape"]).astype(np.float32)]
    for kind, shape, bound in program["aux"]:
        if kind == "index":
            arrays.append(rng.integers(0, bound, size=shape).astype(np.int64))
        else:
            arrays.append(rng.standard_normal(shape).astype(np.float32))
    return arrays


# ---------------------------------------------------------------- running

def _strides(t) -> tuple:
    return tuple(None if n == 1 else s for n, s in zip(t.shape, t.stride()))


def _facts(view, base) -> tuple:
    """What a view shares with its base, as eager PyTorch reports it. Strides
    of size-1 dims are left out (PyTorch leaves them unspecified), and the
    data_ptr offset is taken only when the storage is shared."""
    shares = view.untyped_storage().data_ptr() == base.untyped_storage().data_ptr()
    return (tuple(view.shape), _strides(view), view.storage_offset(), view.is_contiguous(), shares,
            view.data_ptr() - base.data_ptr() if shares else None,
            getattr(view, "_version", None), getattr(base, "_version", None))


def _unary(mod, name, x):
    if name == "neg":
        return -x
    if name == "sin":
        return x.sin()
    if name == "tanh":
        return x.tanh()
    if name == "exp_clamped":
        return x.clamp(-4, 4).exp()
    if name == "abs":
        return x.abs()
    if name == "relu":
        return mod.relu(x)
    if name == "sigmoid":
        return mod.sigmoid(x)
    return x * x


def _np_unary(name, x):
    return {"neg": lambda: -x, "sin": lambda: np.sin(x), "tanh": lambda: np.tanh(x),
            "exp_clamped": lambda: np.exp(np.clip(x, -4, 4)), "abs": lambda: np.abs(x),
            "relu": lambda: np.maximum(x, 0), "sigmoid": lambda: 1 / (1 + np.exp(-x)),
            "square": lambda: x * x}[name]()


def _binary(mod, name, x, y):
    if name == "add":
        return x + y
    if name == "sub":
        return x - y
    if name == "mul":
        return x * y
    if name == "maximum":
        return mod.maximum(x, y)
    return x / (y.abs() + 1)


def _np_binary(name, x, y):
    return {"add": np.add, "sub": np.subtract, "mul": np.multiply, "maximum": np.maximum,
            "div_safe": lambda a, b: a / (np.abs(b) + 1)}[name](x, y)


def _ramp(mod, x, dim):
    """0, 0.1, 0.2, ... along dim: var/std of x + ramp is never of constant
    data (whose gradient PyTorch computes from rounding noise)."""
    shape = (x.shape[dim],) + (1,) * (x.ndim - dim - 1)
    if mod is None:
        return (np.arange(x.shape[dim]) * 0.1).reshape(shape)
    return (mod.arange(x.shape[dim]) * 0.1).reshape(shape)


def _reduce(name, x, dim, keep):
    if name == "softmax":
        return x.softmax(dim)
    if name in ("amax", "amin", "logsumexp"):
        return getattr(x, name)(dim, keepdim=keep)
    return getattr(x, name)(dim, keepdim=keep)


def _np_reduce(name, x, dim, keep):
    if name == "softmax":
        e = np.exp(x - x.max(axis=dim, keepdims=True))
        return e / e.sum(axis=dim, keepdims=True)
    if name == "logsumexp":
        m = x.max(axis=dim, keepdims=True)
        out = np.log(np.exp(x - m).sum(axis=dim, keepdims=True)) + m
        return out if keep else np.squeeze(out, dim)
    fn = {"sum": np.sum, "mean": np.mean, "amax": np.max, "amin": np.min, "prod": np.prod,
          "var": lambda a, axis, keepdims: np.var(a, axis=axis, ddof=1, keepdims=keepdims),
          "std": lambda a, axis, keepdims: np.std(a, axis=axis, ddof=1, keepdims=keepdims)}[name]
    return fn(x, axis=dim, keepdims=keep)


def _np_gather(x, dim, index):
    """torch.gather in numpy: the index may be smaller than x in every dim."""
    window = tuple(slice(None) if d == dim else slice(0, n) for d, n in enumerate(index.shape))
    return np.take_along_axis(x[window], index, dim)


def _view_of(how, x, dim, start, step):
    if how == "slice":
        return x[(slice(None),) * dim + (slice(start, None, step),)]
    if how == "t":
        return x.t() if not isinstance(x, np.ndarray) else x.T
    if isinstance(x, np.ndarray):
        return np.swapaxes(x, 0, -1)
    return x.transpose(0, -1)


def run(program: dict, mod, inputs: list, facts: list | None = None):
    """Run on tensors of `mod` (lazyt or torch; `inputs` already tensors) or
    numpy arrays (mod=None). Appends the facts of every view to `facts`."""
    x, aux = inputs[0], inputs[1:]
    for step in program["steps"]:
        kind, before = step[0], x
        if kind == "unary":
            x = _np_unary(step[1], x) if mod is None else _unary(mod, step[1], x)
        elif kind == "binary":
            y = aux[step[2]]
            x = _np_binary(step[1], x, y) if mod is None else _binary(mod, step[1], x, y)
        elif kind == "reduce":
            _, name, dim, keep = step
            if name in ("var", "std"):
                x = x + _ramp(mod, x, dim)
            x = _np_reduce(name, x, dim, keep) if mod is None else _reduce(name, x, dim, keep)
        elif kind == "transpose":
            x = np.swapaxes(x, step[1], step[2]) if mod is None else x.transpose(step[1], step[2])
        elif kind == "permute":
            x = np.transpose(x, step[1]) if mod is None else x.permute(*step[1])
        elif kind == "slice":
            _, dim, start, stop, stp = step
            x = x[(slice(None),) * dim + (slice(start, stop, stp),)]
        elif kind == "expand_dim":
            _, dim, n = step
            shape = x.shape[:dim] + (n,) + x.shape[dim + 1:]
            x = np.broadcast_to(x, shape) if mod is None else x.expand(*shape)
        elif kind == "expand_new":
            shape = (step[1],) + tuple(x.shape)
            x = np.broadcast_to(x, shape) if mod is None else x.expand(*shape)
        elif kind == "reshape":
            x = x.reshape(step[1])
        elif kind == "index":
            _, dim, slot = step
            x = x[(slice(None),) * dim + (aux[slot],)]
        elif kind == "gather":
            _, dim, slot = step
            x = _np_gather(x, dim, aux[slot]) if mod is None else x.gather(dim, aux[slot])
        elif kind == "inplace_view":
            _, how, dim, start, stp, op, slot, keep_view = step
            base = x.copy() if mod is None else x.clone()
            view = _view_of(how, base, dim, start, stp)
            source = aux[slot]
            if mod is None:
                if op == "add_":
                    view += source
                elif op == "mul_":
                    view *= source
                else:
                    view[...] = source
            else:
                getattr(view, op)(source)
                if facts is not None:  # a clone's layout follows its source's
                    facts.append((step, _facts(view, base), _strides(base)))
            x = view if keep_view else base
            continue
        if facts is not None and mod is not None and kind in VIEW_STEPS:
            facts.append((step, _facts(x, before), _strides(before)))
    return x


def _tensors(mod, arrays, requires_grad):
    out = []
    for array in arrays:
        t = mod.tensor(array)
        if requires_grad and array.dtype == np.float32:
            t.requires_grad_(True)
        out.append(t)
    return out


def _full_run(program, mod, arrays):
    """Forward, view facts, and (when the program requires grad) a backward
    through sum(out * weights); returns (out, facts, leaf grads)."""
    inputs = _tensors(mod, arrays, program["requires_grad"])
    facts = []
    out = run(program, mod, inputs, facts)
    grads = []
    if program["requires_grad"]:
        (out * inputs[program["weights"] + 1]).sum().backward()
        grads = [None if t.grad is None else t.grad for t in inputs if t.requires_grad]
    return out, facts, grads


def _as_numpy(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def _close(a, b, what, rtol=RTOL, atol=ATOL):
    a, b = _as_numpy(a), _as_numpy(b)
    assert a.shape == b.shape, f"{what}: shape {a.shape} != {b.shape}"
    np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), rtol=rtol,
                               atol=atol, equal_nan=True, err_msg=what)


FACT_NAMES = ("shape", "stride", "storage_offset", "is_contiguous", "shares_storage",
              "data_ptr - base.data_ptr", "_version", "base._version")


def _same_facts(facts, other, name, other_name):
    assert len(facts) == len(other), f"{name} made {len(facts)} views, {other_name} {len(other)}"
    for (step, got, base_strides), (_, want, other_base_strides) in zip(facts, other):
        assert base_strides == other_base_strides, \
            f"after {step}: the view's base has strides {base_strides} in {name}, " \
            f"{other_base_strides} in {other_name}"
        for fact, a, b in zip(FACT_NAMES, got, want):
            assert a == b, f"after {step}: {fact} is {a} in {name}, {b} in {other_name}"


def _compare_grads(grads, other, what):
    assert len(grads) == len(other), f"{what}: {len(grads)} leaf grads != {len(other)}"
    for i, (g, h) in enumerate(zip(grads, other)):
        assert (g is None) == (h is None), f"{what}: grad {i} is None in one run only"
        if g is not None:
            _close(g, h, f"{what} grad {i}")


def run_seed(seed: int) -> None:
    """Run one program in every mode and compare; raises AssertionError naming the mode."""
    run_program(draw_program(seed), seed)


def run_program(program: dict, seed: int) -> None:
    """run_seed's body for any program (tests/tools/fuzz_seed.py runs programs
    with steps taken out of a seed's); `seed` draws the inputs."""
    arrays = make_inputs(program, seed)

    eager, eager_facts, eager_grads = _full_run(program, lt, arrays)
    assert eager.dtype is lt.float32
    with lt.deferred():
        deferred, deferred_facts, deferred_grads = _full_run(program, lt, arrays)
    assert deferred.dtype is lt.float32
    _close(deferred, eager, "deferred vs eager")
    _same_facts(deferred_facts, eager_facts, "deferred", "eager")
    _compare_grads(deferred_grads, eager_grads, "deferred vs eager")

    reference = run(program, None, [a.astype(np.float64) if a.dtype == np.float32 else a
                                    for a in arrays])
    _close(eager, reference, "eager vs numpy", NUMPY_RTOL, NUMPY_ATOL)

    if torch is not None:
        expected, torch_facts, torch_grads = _full_run(program, torch, arrays)
        assert str(expected.dtype) == "torch.float32"
        _close(eager, expected, "eager vs torch")
        _same_facts(eager_facts, torch_facts, "eager", "torch")
        _compare_grads(eager_grads, torch_grads, "eager vs torch")

    def forward_and_grads(*inputs):
        out = run(program, lt, list(inputs))
        if not program["requires_grad"]:
            return (out,)
        leaves = [t for t in inputs if t.requires_grad]
        loss = (out * inputs[program["weights"] + 1]).sum()
        return (out,) + tuple(lt.autograd.grad(loss, leaves, allow_unused=True))

    compiled = lt.compile(forward_and_grads)
    for call in range(3):
        fresh = make_inputs(program, seed + 1_000_003 * (call + 1))
        got = compiled(*_tensors(lt, fresh, program["requires_grad"]))
        want = forward_and_grads(*_tensors(lt, fresh, program["requires_grad"]))
        assert len(got) == len(want)
        assert got[0].dtype is want[0].dtype
        _close(got[0], want[0], f"compiled call {call + 1} vs eager")
        _compare_grads(list(got[1:]), list(want[1:]), f"compiled call {call + 1} vs eager")
    # The second call recorded a program and the third replayed it.
    assert len(compiled.traces.programs()) == 1, "the compiled program was not traced"


def test_program_drawing_is_deterministic_and_varied():
    assert draw_program(7) == draw_program(7)
    kinds = {step[0] for seed in range(200) for step in draw_program(seed)["steps"]}
    assert kinds >= {"unary", "binary", "reduce", "transpose", "permute", "slice", "expand_dim",
                     "expand_new", "reshape", "index", "gather", "inplace_view"}


def test_view_facts_catch_a_copy_passed_off_as_a_view():
    x = lt.ones(3, 4)
    assert _facts(x[1:], x)[4] is True
    assert _facts(x[:, 1:].contiguous(), x)[4] is False


# Minimal cases of what the fuzzer found (fixed, but for the strict xfail).

def test_std_backward_is_zero_where_the_std_is_zero():
    """Seed 112: std over an expanded (constant) dim gave nan gradients; PyTorch
    gives 0 there (its std_backward masks result == 0)."""
    x = lt.tensor([[1.0, 2.0, 3.0], [4.0, 4.0, 4.0]], requires_grad=True)
    x.std(1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[-0.5, 0.0, 0.5], [0.0, 0.0, 0.0]])
    y = lt.ones(5, requires_grad=True)
    with lt.deferred():
        y.expand(3, 5).std(0).sum().backward()
    assert y.grad.tolist() == [0.0] * 5


def test_deferred_keeps_the_layout_of_an_elementwise_result_on_a_permuted_input():
    x = lt.ones(2, 3, 1)
    eager = x.permute(1, 2, 0).permute(1, 0, 2).square()
    with lt.deferred():
        deferred = x.permute(1, 2, 0).permute(1, 0, 2).square()
        assert deferred.stride() == eager.stride() == (1, 1, 3)


def test_advanced_indexing_keeps_the_input_dim_order_like_pytorch():
    assert lt.ones(4, 3, 3).permute(2, 1, 0)[:, [0, 1]].stride() == (1, 3, 6)


@pytest.mark.parametrize("seed", [6676, 6723, 7973, 9292])
def test_seeds_the_long_fuzzer_found(seed):
    run_seed(seed)


def _clone_written_then_written_through_a_view(mod, x, a, b, c_view):
    """Seeds 6676, 6723, 9292 cut down: a write through a view of a clone, a
    clone of that view, and a write through a view of the second clone."""
    base = x.clone()
    written = base[:, 1:]
    written.mul_(a)
    second = written.clone()
    c_view(second).add_(b)
    return second, base


@pytest.mark.parametrize("c_view", [lambda t: t.t(), lambda t: t[1:], lambda t: t],
                         ids=["t", "slice", "itself"])
def test_a_deferred_write_keeps_the_value_it_read_before_earlier_writes_land(c_view):
    """The write `c.t().add_(b)` was built on c's pending graph (mul of a load
    of base); realising c carried out the pending `base[:, 1:].mul_(a)`, and
    the add then recomputed the mul from the written base: a applied twice."""
    x = np.arange(6, dtype=np.float32).reshape(2, 3)

    def fn(x):
        return _clone_written_then_written_through_a_view(lt, x, 2.0, 10.0, c_view)

    want = [t.numpy() for t in fn(lt.tensor(x))]
    np.testing.assert_array_equal(want[1], [[0, 2, 4], [3, 8, 10]])
    with lt.deferred():
        got = fn(lt.tensor(x))
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g.numpy(), w, err_msg="deferred")
    compiled = lt.compile(fn)
    for call in range(3):
        for g, w in zip(compiled(lt.tensor(x)), want):
            np.testing.assert_array_equal(g.numpy(), w, err_msg=f"compiled call {call + 1}")
    if torch is not None:
        expected = _clone_written_then_written_through_a_view(torch, torch.tensor(x), 2.0, 10.0,
                                                              c_view)
        for e, w in zip(expected, want):
            np.testing.assert_array_equal(e.numpy(), w, err_msg="torch")


def test_three_modes_agree_on_random_programs():
    started, failures = time.monotonic(), []
    seed = FUZZ_SEEDS[0] if LONG else 0
    while True:
        if FUZZ_PROGRAMS is not None and seed >= FUZZ_SEEDS[1]:
            break
        if FUZZ_PROGRAMS is None and seed >= FUZZ_MIN_PROGRAMS and \
                time.monotonic() - started > FUZZ_SECONDS:
            break
        try:
            run_seed(seed)
        except Exception as error:  # noqa: BLE001 - every mismatch is collected and reported
            failures.append(f"seed {seed}: {type(error).__name__}: {str(error)[:400]}\n"
                            f"{program_text(draw_program(seed))}")
            if LONG:
                print(failures[-1], flush=True)
        seed += 1
        if LONG and (seed - FUZZ_SEEDS[0]) % 250 == 0:  # a long run reports as it goes
            print(f"mode fuzzer: seeds {FUZZ_SEEDS[0]}..{seed - 1} in "
                  f"{time.monotonic() - started:.0f} s, {len(failures)} mismatches", flush=True)
    count = seed - (FUZZ_SEEDS[0] if LONG else 0)
    failing = [line.split(":")[0] for line in failures]
    print(f"mode fuzzer: failing {failing}; {count} programs in {time.monotonic() - started:.1f} s, "
          f"{len(failures)} mismatches")
    if failures:
        pytest.fail(f"{len(failures)} of {count} programs mismatch:\n" + "\n\n".join(failures[:5]))
