"""softmax and log_softmax as one row kernel (max, sum of exps accumulated in
float32 like PyTorch's, the normalised store), against PyTorch: values over
dims, float32 and float64, non-contiguous inputs, -inf and huge values,
empty rows, gradients, cross_entropy through log_softmax, and the same bits
in eager (first call and replays) and deferred mode."""

import contextlib

import numpy as np
import pytest

import lazyt as lt

torch = pytest.importorskip("torch")


def _pair(array):
    return lt.tensor(array), torch.tensor(array)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("dim", [-1, 0, 1])
def test_matches_torch_over_dims_and_dtypes(name, dtype, dim):
    x = np.random.default_rng(1).standard_normal((5, 300, 3)).astype(dtype) * 4
    ours, theirs = _pair(x)
    got = getattr(ours, name)(dim).numpy()
    expected = getattr(theirs, name)(dim).numpy()
    assert got.dtype == expected.dtype
    tol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, expected, rtol=tol * 10, atol=tol)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_non_contiguous_inputs(name):
    base = np.random.default_rng(2).standard_normal((40, 64)).astype(np.float32)
    ours, theirs = _pair(base)
    for view in (lambda t: t.t(), lambda t: t[:, ::3], lambda t: t[::2].t()):
        got = getattr(view(ours), name)(-1)
        expected = getattr(view(theirs), name)(-1)
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)
        assert got.is_contiguous()  # row-major, as PyTorch


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_infinities_and_huge_values(name):
    inf = np.inf
    x = np.array([[0.0, -inf, 1.0, -inf],
                  [-inf, -inf, -inf, -inf],      # every term -inf: NaN, as PyTorch
                  [3e38, -3e38, 0.0, 1e30],      # huge but finite: no overflow
                  [inf, 1.0, 2.0, 3.0],          # +inf: NaN (inf - inf)
                  [-1000.0, 0.0, -200.0, -90.0]],  # exps far below float32's range
                 dtype=np.float32)
    ours, theirs = _pair(x)
    got = getattr(ours, name)(-1).numpy()
    expected = getattr(theirs, name)(-1).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7, equal_nan=True)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape,dim", [((3, 0), -1), ((0, 5), -1), ((0, 5), 0), ((4, 0, 2), 1)])
def test_empty_rows(name, shape, dim):
    ours, theirs = _pair(np.zeros(shape, dtype=np.float32))
    got = getattr(ours, name)(dim)
    assert tuple(got.shape) == tuple(getattr(theirs, name)(dim).shape)
    ours.requires_grad_(), theirs.requires_grad_()
    got, expected = getattr(ours, name)(dim), getattr(theirs, name)(dim)
    assert got.grad_fn.name() == expected.grad_fn.name()
    got.sum().backward()
    assert tuple(ours.grad.shape) == shape


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradients_match_torch(name, dtype):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 50)).astype(dtype)
    g = rng.standard_normal((6, 50)).astype(dtype)
    ours = lt.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    for _ in range(3):  # op by op, recorded, replayed
        ours.grad = None
        getattr(ours, name)(-1).backward(lt.tensor(g))
    getattr(theirs, name)(-1).backward(torch.tensor(g))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=tol, atol=tol)


def test_cross_entropy_through_log_softmax():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((32, 1000)).astype(np.float32) * 3
    target = rng.integers(0, 1000, 32)
    ours = lt.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    loss = lt.nn.functional.cross_entropy(ours, lt.tensor(target))
    loss.backward()
    expected = torch.nn.functional.cross_entropy(theirs, torch.tensor(target))
    expected.backward()
    np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-6)
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_same_bits_in_every_mode(name):
    x = lt.tensor(np.random.default_rng(5).standard_normal((64, 1000)).astype(np.float32))
    eager = [getattr(x, name)(-1).numpy() for _ in range(3)]  # op by op, recorded, replayed
    with lt.deferred():
        pending = getattr(x, name)(-1)
        pending.realize()
    for result in eager[1:] + [pending.numpy()]:
        assert np.array_equal(result, eager[0])


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_zero_dim_input(name, dtype):
    ours, theirs = _pair(np.array(1.5, dtype=dtype))
    got = getattr(ours, name)(0)
    expected = getattr(theirs, name)(0)
    assert got.shape == () and got.numpy().dtype == expected.numpy().dtype
    np.testing.assert_allclose(got.numpy(), expected.numpy())


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("mode", ["eager", "deferred"])
def test_the_node_saves_the_result_not_the_input(name, mode):
    # PyTorch's (Log)SoftmaxBackward0 keeps the result: writing the result in
    # place before backward raises; writing the input does not.
    node_name = {"softmax": "Softmax", "log_softmax": "LogSoftmax"}[name]
    for lib in (torch, lt):
        context = lt.deferred() if lib is lt and mode == "deferred" else contextlib.nullcontext()
        for _ in range(3):  # eager: op by op, recorded, replayed
            with context:
                leaf = lib.ones(3, 4, requires_grad=True)
                x = leaf * 2
                out = getattr(x, name)(1)
                x.add_(1)
                (out * lib.arange(4.0)).sum().backward()
                leaf = lib.ones(3, 4, requires_grad=True)
                out = getattr(leaf * 2, name)(1)
                out.mul_(2)
                with pytest.raises(RuntimeError, match=f"modified by an inplace operation.*"
                                                       f"output 0 of {node_name},"):
                    out.sum().backward()

