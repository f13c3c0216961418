"""Float32 sums in float32 lanes (lazyt/codegen/sum_lanes.py): the order of
every addition is the one the module docstring writes down, in eager and
deferred mode, whatever else the kernel computes; strided sums keep the
float64 loop."""

import numpy as np
import pytest

import lazyt as lt
from lazyt.codegen.sum_lanes import BLOCK, LANES


def lanes_sum(row: np.ndarray) -> np.float32:
    """The documented order, in numpy: float32 lanes per block of BLOCK
    elements and their halves tree, the last elements as one more group, the
    blocks added in float64."""
    groups = len(row) // LANES
    total = np.float64(0)
    per_block = BLOCK // LANES
    for first in range(0, groups, per_block):
        lanes = np.zeros(LANES, np.float32)
        for g in range(first, min(first + per_block, groups)):
            lanes = lanes + row[g * LANES:(g + 1) * LANES]  # lane-wise float32 adds
        while len(lanes) > 1:
            half = len(lanes) // 2
            lanes = lanes[:half] + lanes[half:]
        total = total + np.float64(lanes[0])
    tail = row[groups * LANES:]
    if len(tail):  # the last elements: one more group, zero past the end
        lanes = np.zeros(LANES, np.float32)
        lanes[:len(tail)] += tail
        while len(lanes) > 1:
            half = len(lanes) // 2
            lanes = lanes[:half] + lanes[half:]
        total = total + np.float64(lanes[0])
    return np.float32(total)


@pytest.mark.parametrize("length", [0, 5, 16, 17, 255, 256, 257, 1000, 4099])
def test_float32_row_sums_add_in_the_documented_lane_order(length):
    data = (np.random.default_rng(length).standard_normal((3, length)) * 1e3).astype(np.float32)
    expected = np.array([lanes_sum(row) for row in data])
    got = lt.tensor(data).sum(-1).numpy()
    assert np.array_equal(got, expected)
    with lt.deferred():
        pending = lt.tensor(data).sum(-1)
    assert np.array_equal(pending.numpy(), expected)


def test_a_fused_sum_has_the_bits_of_the_eager_one():
    data = np.random.default_rng(0).standard_normal((64, 777)).astype(np.float32)
    x = lt.tensor(data)
    scale, column = lt.tensor(1.5), lt.randn(64, 1)  # broadcast along the rows summed
    eager = [x.softmax(-1).numpy(), (x * 3 + 1).sum(-1).numpy(), x.log_softmax(-1).numpy(),
             lt.nn.functional.layer_norm(x, (777,)).numpy(),
             (x * scale + column).pow(2).sum(-1).numpy()]
    with lt.deferred():
        y = x * 1  # (a fused producer in front of each)
        deferred = [y.softmax(-1), (y * 3 + 1).sum(-1), y.log_softmax(-1),
                    lt.nn.functional.layer_norm(y, (777,)), (y * scale + column).pow(2).sum(-1)]
    for a, b in zip(eager, deferred):
        assert np.array_equal(a, b.numpy())


def test_lane_sums_are_as_accurate_as_pairwise_float32():
    data = np.random.default_rng(1).standard_normal((512, 1024)).astype(np.float32)
    exact = data.sum(-1, dtype=np.float64)
    lanes_error = np.abs(lt.tensor(data).sum(-1).numpy() - exact).mean()
    pairwise_error = np.abs(data.sum(-1) - exact).mean()  # numpy: pairwise, float32
    assert lanes_error <= 1.2 * pairwise_error


def test_the_row_sum_kernel_accumulates_lanes_and_a_strided_sum_does_not():
    x = lt.randn(8, 512)
    with lt.deferred():
        rows = x.sum(-1)
        columns = x.sum(0)
        strided = (x.t() * 2).sum(-1)
    (row_kernel,) = [src for _, src in lt.debug.kernels(rows)]
    assert f"alloca <{LANES} x float>" in row_kernel
    assert "llvm.loop.unroll.disable" in row_kernel
    assert "reassoc" not in row_kernel
    for pending in (columns, strided):
        (kernel,) = [src for _, src in lt.debug.kernels(pending)]
        assert "x float>" not in kernel and "fadd reassoc double" in kernel
        np.testing.assert_allclose(pending.numpy(),
                                   x.numpy().astype(np.float64).sum(0) * (2 if pending is strided
                                                                          else 1), rtol=1e-6)
