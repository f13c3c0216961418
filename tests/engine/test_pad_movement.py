"""Zero padding as the IR's pad movement: a masked view that reads zero
outside the padded tensor (ir/view.py View.pad, the scheduler's move_load,
ir/lower.py's masked loads, codegen's masked load).

F.pad with value 0 builds it; in deferred mode it is index arithmetic in the
kernel that reads it (a convolution's col2im sums nine shifted windows of a
padded gradient in one kernel), never pushed through an elementwise op
(exp(pad(x)) is 1 on the padding, not exp of nothing), and stored first where
a row kernel, an extern or a gather reads it.
"""

from __future__ import annotations

import numpy as np
import pytest

import lazyt as lt
import lazyt.nn.functional as F
from lazyt.ir.view import View

DTYPES = ["float32", "float64", "float16", "int64", "int8", "uint8", "bool"]
PADS = [(1, 1), (0, 2, 1, 0), (1, 1, 1, 1, 1, 1), (2, 0, 0, 0, 0, 0, 1, 1), (-1, 2, 1, -1)]


def _data(dtype: str) -> np.ndarray:
    values = np.random.default_rng(0).standard_normal((2, 3, 4, 5)) * 3
    return (values > 0) if dtype == "bool" else values.astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pads", PADS, ids=repr)
@pytest.mark.parametrize("mode", ["eager", "deferred"])
def test_zero_pad_matches_torch(dtype, pads, mode):
    torch = pytest.importorskip("torch")
    data = _data(dtype)
    want = torch.nn.functional.pad(torch.from_numpy(data), pads)
    if mode == "deferred":
        with lt.deferred():
            got = F.pad(lt.tensor(data), pads)
    else:
        got = F.pad(lt.tensor(data), pads)
    assert str(got.dtype).split(".")[1] == str(want.dtype).split(".")[1]
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_pad_is_not_pushed_through_an_elementwise_op():
    data = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    with lt.deferred():
        padded = F.pad(lt.tensor(data) * 2, (1, 1, 2, 0))
        exp_of_pad = padded.exp()  # 1 on the padding
        pad_of_exp = F.pad((lt.tensor(data) * 2).exp(), (1, 1, 2, 0))  # 0 there
    np.testing.assert_allclose(exp_of_pad.numpy(), np.exp(np.pad(data * 2, ((2, 0), (1, 1)))),
                               rtol=1e-6)
    np.testing.assert_allclose(pad_of_exp.numpy(), np.pad(np.exp(data * 2), ((2, 0), (1, 1))),
                               rtol=1e-6)


def test_a_padded_tensor_read_by_reductions_a_matmul_and_a_gather():
    data = np.random.default_rng(2).standard_normal((3, 4))
    ref = np.pad(data, ((1, 2), (0, 1)))
    with lt.deferred():
        padded = F.pad(lt.tensor(data), (0, 1, 1, 2))
        row = padded.sum(1)
        column = padded.amax(0)
        total = padded.cumsum(1)
        product = padded.t() @ lt.ones(6, 2, dtype=lt.float64)
        picked = padded[lt.tensor([0, 2, 5])]
    np.testing.assert_allclose(row.numpy(), ref.sum(1))
    np.testing.assert_allclose(column.numpy(), ref.max(0))
    np.testing.assert_allclose(total.numpy(), ref.cumsum(1))
    np.testing.assert_allclose(product.numpy(), ref.T @ np.ones((6, 2)))
    np.testing.assert_allclose(picked.numpy(), ref[[0, 2, 5]])


def test_views_of_a_padded_tensor_fuse_into_one_kernel():
    # Shifted windows (slices, a select, a flip) of a padded pending value:
    # one kernel, with masked loads, and no padded copy stored.
    data = np.random.default_rng(3).standard_normal((2, 3, 5)).astype(np.float32)
    x = lt.tensor(data)
    ref = np.pad(data, ((0, 0), (0, 0), (1, 1)))
    lt.debug.reset_stats()
    with lt.deferred():
        padded = F.pad(x, (1, 1))
        out = padded[:, :, 0:5] + padded[:, :, 2:7].flip(2) + padded[1, :, 1:6]
        out.realize()
    assert lt.debug.stats()["kernels"] == 1
    np.testing.assert_allclose(out.numpy(), ref[:, :, 0:5] + ref[:, :, 2:7][:, :, ::-1]
                               + ref[1, :, 1:6], rtol=1e-6)
    # A select that lands on the padding reads zeros.
    with lt.deferred():
        edge = F.pad(x, (0, 0, 1, 0))[:, 0] + 1
    np.testing.assert_array_equal(edge.numpy(), np.ones((2, 5), np.float32))


def test_pad_gradient_matches_torch():
    torch = pytest.importorskip("torch")
    data = np.random.default_rng(4).standard_normal((2, 3, 4))
    x = lt.tensor(data, requires_grad=True)
    y = F.pad(x, (1, 2, 0, 1))
    (y.exp() * 2).sum().backward()
    tx = torch.tensor(data, requires_grad=True)
    ty = torch.nn.functional.pad(tx, (1, 2, 0, 1))
    (ty.exp() * 2).sum().backward()
    assert type(y.grad_fn).__name__ == type(ty.grad_fn).__name__ == "ConstantPadNdBackward0"
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10)


def test_deferred_conv_input_gradient_sums_the_padded_columns_in_one_kernel():
    # col2im: the columns' gradient (a matmul) padded and summed through nine
    # shifted windows by one kernel. Before, the pad was a zero fill and a
    # copy realised on their own (7 kernels in 3 realisations; now 4 in one).
    lt.manual_seed(0)
    x = lt.randn(2, 3, 6, 6, requires_grad=True)
    w = lt.randn(4, 3, 3, 3)
    lt.debug.reset_stats()
    with lt.deferred():
        F.conv2d(x, w, padding=1).square().sum().backward()
        x.grad.realize()
    stats = lt.debug.stats()
    assert (stats["kernels"], stats["extern_calls"]) == (4, 2)
    torch = pytest.importorskip("torch")
    tx = torch.tensor(x.detach().numpy(), requires_grad=True)
    torch.nn.functional.conv2d(tx, torch.tensor(w.numpy()), padding=1).square().sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_masked_loads_vectorise_without_gathers():
    from lazyt.codegen.llvm import render_llvm
    from lazyt.ir.lower import lower_elementwise
    from lazyt.ir.node import Buffer, make_node
    from lazyt.runtime.compiler import compile_llvm

    source = make_node("load", lt.float32, (64, 64), (), (Buffer(None), View.contiguous((64, 64))))
    padded_view = View.contiguous((64, 64)).pad(((1, 1), (2, 2)))
    padded = make_node("load", lt.float32, padded_view.shape, (), (source.arg[0], padded_view))
    out = Buffer(None)
    plan = lower_elementwise(make_node("exp", lt.float32, padded.shape, (padded,)), out,
                             View.contiguous(padded.shape))
    kernel = compile_llvm(render_llvm(plan.kernel, "pad_probe"), "pad_probe",
                          use_disk_cache=False)
    ir = kernel.optimized_ir
    assert "masked.load" in ir and "gather" not in ir


def test_padded_views_compose():
    view = View.contiguous((3, 4)).pad(((1, 1), (2, 0)))
    assert view.shape == (5, 6) and view.mask == ((1, 4), (2, 6))
    assert view.pad(((0, 1), (1, 0))).mask == ((1, 4), (3, 7))
    assert view.slice(1, 1, 6, 2).mask == ((1, 4), (1, 3))  # old columns 1, 3, 5
    assert view.flip((0,)).mask == ((1, 4), (2, 6))
    assert view.flip((1,)).mask == ((1, 4), (0, 4))
    assert view.select(0, 2).mask == ((2, 6),)
    assert view.select(0, 0) is None  # all padding
