"""Thread-count independence: every reduction family gives the same bits with
LAZYT_NUM_THREADS=1 and LAZYT_NUM_THREADS=2.

A launch is split across threads once its work reaches PARALLEL_MIN_WORK
elements (lazyt/runtime/launch.py); the split must never change a reduction's
order. Each thread count runs in its own subprocess (the count is read from
the environment at import), computes every family on inputs past the split
threshold (row, column and whole-tensor reductions, float32 and float64), and
prints one sha256 per result; the two runs must print the same digests.
"""

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import lazyt as lt
from lazyt.runtime import launch, native_pool
from lazyt.runtime.launch import PARALLEL_MIN_WORK

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Runs in the subprocess: prints {name: sha256 of the result's bytes} as JSON.
WORKER = r"""
import hashlib, json, sys
import numpy as np
import lazyt as lt
import lazyt.runtime.launch as launch_module
from lazyt.runtime.launch import PARALLEL_MIN_WORK, thread_count

split_launches = []
unpatched_splits = launch_module.splits
def counting_splits(launch):
    split = unpatched_splits(launch)
    split_launches.append(split)
    return split
launch_module.splits = counting_splits

rows, cols = 2048, 1024
assert rows * cols >= 2 * PARALLEL_MIN_WORK
rng = np.random.default_rng(0)
data = rng.standard_normal((rows, cols))
near_one = 1.0 + 1e-4 * rng.standard_normal((rows, cols))   # prod stays finite

FAMILIES = {
    "sum": lambda x: x.sum(-1),
    "sum_dim0": lambda x: x.sum(0),
    "sum_all": lambda x: x.sum(),
    "mean": lambda x: x.mean(-1),
    "mean_dim0": lambda x: x.mean(0),
    "mean_all": lambda x: x.mean(),
    "amax": lambda x: x.amax(-1),
    "amin_dim0": lambda x: x.amin(0),
    "argmax": lambda x: x.argmax(-1),
    "argmin_dim0": lambda x: x.argmin(0),
    "argmax_all": lambda x: x.argmax(),
    "var": lambda x: x.var(-1),
    "std_dim0": lambda x: x.std(0),
    "var_all": lambda x: x.var(),
    "logsumexp": lambda x: x.logsumexp(-1),
    "logsumexp_dim0": lambda x: x.logsumexp(0),
    "sum_dim0_leftover_columns": lambda x: x[:, :1001].sum(0),  # column blocks + 9 leftover
    "log_softmax": lambda x: x.log_softmax(-1),
    "layer_norm": lambda x: lt.nn.functional.layer_norm(x, (x.shape[-1],)),
    "softmax": lambda x: x.softmax(-1),
    "softmax_dim0": lambda x: x.softmax(0),
    "cumsum": lambda x: x.cumsum(-1),
    "cumsum_dim0": lambda x: x.cumsum(0),
    "norm": lambda x: x.norm(dim=-1),
    "norm_all": lambda x: x.norm(),
    "elementwise": lambda x: (x.sin() * x + 0.5).exp().tanh(),
}
PROD = {
    "prod": lambda x: x.prod(-1),
    "prod_dim0": lambda x: x.prod(0),
}

digests = {}
for dtype in ("float32", "float64"):
    x = lt.tensor(data, dtype=getattr(lt, dtype))
    y = lt.tensor(near_one, dtype=getattr(lt, dtype))
    for mode in ("eager", "deferred"):
        for table, source in ((FAMILIES, x), (PROD, y)):
            for name, fn in table.items():
                if mode == "deferred":
                    with lt.deferred():
                        result = fn(source)
                else:
                    result = fn(source)
                array = np.ascontiguousarray(result.numpy())
                key = f"{name}/{dtype}/{mode}"
                digests[key] = hashlib.sha256(array.tobytes()).hexdigest() + str(array.shape)
print(json.dumps({"threads": thread_count(), "split_launches": sum(split_launches),
                  "digests": digests}))
"""


def _digests(threads: int) -> dict:
    env = dict(os.environ, LAZYT_NUM_THREADS=str(threads), PYTHONPATH=REPO_ROOT)
    done = subprocess.run([sys.executable, "-c", WORKER], env=env, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["threads"] == threads
    return report


def test_inputs_are_past_the_split_threshold():
    assert 2048 * 1024 >= 2 * PARALLEL_MIN_WORK


def test_reductions_give_the_same_bits_with_one_and_two_threads():
    one_report, two_report = _digests(1), _digests(2)
    # The two-thread run did split launches (else this test compares nothing).
    assert one_report["split_launches"] == 0 and two_report["split_launches"] > 10
    one, two = one_report["digests"], two_report["digests"]
    assert one.keys() == two.keys()
    differing = sorted(name for name in one if one[name] != two[name])
    assert not differing, f"results differ between 1 and 2 threads: {differing}"
    # Sanity: the digests hash real data (families differ; arg* indices may
    # agree across dtypes).
    eager = {name: digest for name, digest in one.items()
             if name.endswith("/eager") and not name.startswith("arg")}
    assert len(set(eager.values())) == len(eager)
    assert hashlib.sha256(b"").hexdigest() not in {v[:64] for v in one.values()}


def _split_sum_in_child(queue) -> None:
    queue.put(float(((lt.ones(1024, 1024) * 2).exp() - 1).sum()))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_splits_launches_over_threads_of_its_own():
    # The parent's launch threads exist (a split launch ran); a child forked
    # from it has the pool (native, or Python's executor) without the threads
    # and must make its own.
    import multiprocessing

    before = launch.thread_count()
    lt.set_num_threads(2)
    try:
        ((lt.ones(1024, 1024) * 2).exp() - 1).sum().item()
        started = launch._POOL or (native_pool._POOL and native_pool._POOL[0].workers)
        assert started, "no launch was split: the test needs a bigger tensor"
        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        child = context.Process(target=_split_sum_in_child, args=(queue,))
        child.start()
        child.join(60)
        hung = child.is_alive()
        if hung:
            child.kill()
        assert not hung, "the forked child hung on the parent's launch threads"
        want = 1024 * 1024 * (np.exp(2.0) - 1)
        assert abs(queue.get(timeout=5) - want) < 1e-4 * want
    finally:
        lt.set_num_threads(before)


def _count_splits(monkeypatch) -> list:
    """Every split launch from now on appends its chunk count."""
    counted = []
    unpatched = launch._run_split

    def counting(step, storages, rng_shift):
        counted.append(len(step[3]))
        unpatched(step, storages, rng_shift)

    monkeypatch.setattr(launch, "_run_split", counting)
    return counted


def test_set_num_threads_reaches_programs_prepared_before(monkeypatch):
    # A Program (here the eager cache's) prepared under one thread count is
    # prepared again under a new one, in both directions.
    before = launch.thread_count()
    x = lt.ones(2048, 1024)
    try:
        lt.set_num_threads(1)
        x.sum(-1)
        x.sum(-1)  # (from the eager cache)
        counted = _count_splits(monkeypatch)
        lt.set_num_threads(2)
        two = x.sum(-1)
        assert counted == [2]
        lt.set_num_threads(1)
        one = x.sum(-1)
        assert counted == [2]
        assert np.array_equal(one.numpy(), two.numpy())
        assert lt.get_num_threads() == 1
    finally:
        lt.set_num_threads(before)


@pytest.mark.skipif(not native_pool.available(), reason="no native pool on this platform")
def test_native_pool_gives_the_bits_of_python_threads(monkeypatch):
    before = launch.thread_count()
    data = np.random.default_rng(1).standard_normal((2048, 1024)).astype(np.float32)
    x = lt.tensor(data)
    families = (lambda t: t.sum(-1), lambda t: t.softmax(-1), lambda t: t.sum(0),
                lambda t: (t.sin() * t).exp())
    try:
        for threads in (2, 3):  # 3: the pool starts another worker
            lt.set_num_threads(threads)
            results = {}
            for native in (True, False):
                monkeypatch.setattr(launch, "_NATIVE_POOL", native)
                counted = _count_splits(monkeypatch)
                results[native] = [fn(x).numpy() for fn in families]
                assert counted and set(counted) == {threads}
            for a, b in zip(results[True], results[False]):
                assert np.array_equal(a, b)
            assert native_pool._POOL[0].workers >= threads - 1
        # (float32 lanes: an error of a few float32 ulps of the row sizes summed)
        np.testing.assert_allclose(results[True][0], data.sum(-1, dtype=np.float64),
                                   rtol=1e-5, atol=1e-4)
    finally:
        lt.set_num_threads(before)


@pytest.mark.skipif(not native_pool.available(), reason="no native pool on this platform")
def test_split_launches_from_several_python_threads_at_once():
    # One job at a time runs on the native pool; a launch that finds it busy
    # runs on Python threads instead, with the same results.
    import threading

    before = launch.thread_count()
    lt.set_num_threads(2)
    data = np.random.default_rng(2).standard_normal((2048, 1024))
    x = lt.tensor(data)
    want = x.sum(-1).numpy()
    failures = []

    def work():
        for _ in range(20):
            if not np.array_equal(x.sum(-1).numpy(), want):
                failures.append("differs")

    try:
        threads = [threading.Thread(target=work) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not any(t.is_alive() for t in threads), "a launch hung"
        assert not failures
    finally:
        lt.set_num_threads(before)
