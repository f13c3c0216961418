"""Kernels of one schedule compile together (engine/plans.compile_ahead,
runtime/compiler.compile_many): on worker threads they give the same machine
code as on the calling thread, a schedule's new kernels go to the compiler
in one batch, and a forked child still compiles."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import lazyt as lt
from lazyt.runtime import compiler, cpu


def _step_kernels():
    """(name, source) of a small compiled training step's kernels."""
    model = lt.nn.Sequential(lt.nn.Linear(12, 20), lt.nn.ReLU(), lt.nn.Linear(20, 3))
    opt = lt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def step(x, y):
        opt.zero_grad()
        loss = lt.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    compiled = lt.compile(step)
    x, y = lt.randn(9, 12), lt.randint(0, 3, (9,))
    for _ in range(2):
        compiled(x, y)
    return [(name, source) for name, source in compiled.kernels()
            if not name.startswith("extern")]


def test_worker_threads_emit_the_machine_code_of_the_calling_thread():
    kernels = _step_kernels()
    assert kernels
    requests = [compiler.KernelSource(source, name, False, name.startswith("group"))
                for name, source in kernels]
    here = [compiler._optimise_and_emit(r, False)[0] for r in requests]
    with ThreadPoolExecutor(2) as pool:
        there = list(pool.map(lambda r: compiler._optimise_and_emit(r, True)[0], requests))
    assert here == there


def test_a_schedule_hands_its_new_kernels_to_the_compiler_at_once(monkeypatch):
    batches = []
    original = cpu.compile_many

    def recorded(requests):
        batches.append([r.name for r in requests])
        return original(requests)

    monkeypatch.setattr(cpu, "compile_many", recorded)
    # Steps big enough to keep launches of their own (not merged into one);
    # shapes and constants of their own: kernels new to this process.
    a = np.random.default_rng(0).standard_normal((1031, 1029)).astype(np.float32)
    x = lt.tensor(a)
    with lt.deferred():
        y = (x * 1.2345 + 0.5).exp().sum(1) + (x - 0.25).abs().amax(0).sum()
        lt.realize(y)
    want = np.exp(a * np.float32(1.2345) + np.float32(0.5)).sum(1) + \
        np.abs(a - np.float32(0.25)).max(0).sum()
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-4)
    assert any(len(batch) >= 2 for batch in batches), batches


def _child_input() -> np.ndarray:
    return (np.arange(1033 * 1027, dtype=np.float32) % 97).reshape(1033, 1027) / 97


def _compile_in_child(queue) -> None:
    # (Big launches split over the launch threads: the child's own pool.)
    x = lt.tensor(_child_input())
    with lt.deferred():  # (two results big enough for launches of their own)
        y, z = (x * 3.5 - 1).sin(), (x / 7).cos()
        lt.realize(y, z)
    queue.put(float(y.sum() + z.amax()))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_compiles_kernels_together():
    _step_kernels()  # the parent's compile threads exist now
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_compile_in_child, args=(queue,))
    child.start()
    child.join(60)
    assert not child.is_alive(), "the child hung compiling"
    child_value = queue.get(timeout=5)
    a = _child_input().astype(np.float64)
    want = np.sin(a * 3.5 - 1).sum() + np.cos(a / 7).max()
    assert abs(child_value - want) < 1e-4 * abs(want) + 1e-3
