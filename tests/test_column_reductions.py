"""Reductions over leading axes (x.sum(0), bias gradients) use the column
form of the row kernel (ir/lower_rows._column_blocks); results match numpy and
the weight gradient of a linear layer keeps the weight's layout."""

from __future__ import annotations

import re

import numpy as np
import pytest

import lazyt as lt
from lazyt.runtime.compiler import compile_llvm


@pytest.mark.parametrize("shape,dim", [((37, 53), 0), ((128, 16), 0), ((5, 7, 40), (0, 1)),
                                       ((3, 33, 17), 0), ((64, 15), 0)])
@pytest.mark.parametrize("op", ["sum", "mean", "amax", "prod"])
def test_reductions_over_leading_axes_match_numpy(shape, dim, op):
    rng = np.random.default_rng(0)
    a = rng.uniform(0.9, 1.1, size=shape).astype(np.float32)
    got = getattr(lt.from_numpy(a), op)(dim)
    expected = getattr(np, {"amax": "max"}.get(op, op))(a.astype(np.float64), axis=dim)
    np.testing.assert_allclose(got.numpy(), expected, rtol=2e-5)


def test_column_sum_runs_as_a_column_kernel_and_fuses_its_epilogue():
    x = lt.randn(40, 48)
    with lt.deferred():
        y = (x * 2).sum(0) + 1
        kernels = lt.debug.kernels(y)
    assert any("reduce_columns" in name for name, _ in kernels)
    np.testing.assert_allclose(y.numpy(), (x.numpy().astype(np.float64) * 2).sum(0) + 1,
                               rtol=1e-5)


def test_column_sum_is_the_same_in_eager_and_deferred_mode():
    x = lt.randn(50, 70)
    eager = x.sum(0).numpy()
    with lt.deferred():
        deferred = x.sum(0).numpy()
    np.testing.assert_array_equal(eager, deferred)


def test_linear_weight_gradient_is_contiguous_like_the_weight():
    layer = lt.nn.Linear(6, 4)
    layer(lt.randn(3, 6)).sum().backward()
    grad = layer.weight.grad
    assert grad.is_contiguous() and grad.stride() == (6, 1)
    x = lt.randn(3, 6)
    w = layer.weight.detach().requires_grad_()
    (x @ w.t()).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), np.ones((3, 4)).T @ x.numpy(), rtol=1e-5)


def test_column_blocks_read_neighbouring_columns_as_vectors():
    # A block's columns are adjacent in memory (their unit stride is baked
    # into the kernel): the loads of one row's block vectorise.
    # Without it, LLVM vectorised the row loop with gathers (a relu's bias
    # gradient took twice as long).
    pre, bias, grad = lt.randn(128, 256), lt.randn(256), lt.randn(128, 256)
    with lt.deferred():
        bias_grad = lt.where((pre + bias).relu() > 0, grad, 0.0).sum(0)
        kernels = [k for k in lt.debug.kernels(bias_grad) if "reduce_columns" in k[0]]
    assert len(kernels) == 1
    name, source = kernels[0]
    optimized = compile_llvm(source, name, use_disk_cache=False).optimized_ir
    assert re.search(r"load <\d+ x float>", optimized)
    assert "gather" not in optimized
    expected = np.where(np.maximum(pre.numpy() + bias.numpy(), 0) > 0, grad.numpy(), 0)
    np.testing.assert_allclose(bias_grad.numpy(), expected.astype(np.float64).sum(0),
                               rtol=1e-5, atol=1e-5)
