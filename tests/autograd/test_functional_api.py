"""lt.autograd.functional (jacobian, hessian, vjp, jvp, vhp, hvp), anomaly
detection and the autograd warnings, with PyTorch's shapes, values and messages."""

import warnings

import numpy as np
import pytest

import lazyt as lt

F = lt.autograd.functional
X = [1.0, 2.0, 3.0]
Y = [[0.5, -1.0], [2.0, 0.25]]


def test_jacobian_blocks_are_output_shape_plus_input_shape():
    x, y = lt.tensor(X), lt.tensor(Y)
    assert F.jacobian(lambda t: t ** 2, x).tolist() == np.diag([2.0, 4.0, 6.0]).tolist()
    blocks = F.jacobian(lambda a, b: (a * b.sum(), b.exp()), (x, y))
    shapes = [[tuple(block.shape) for block in row] for row in blocks]
    assert shapes == [[(3, 3), (3, 2, 2)], [(2, 2, 3), (2, 2, 2, 2)]]
    np.testing.assert_allclose(blocks[0][1].numpy(), np.broadcast_to(
        np.array(X)[:, None, None], (3, 2, 2)), rtol=1e-6)
    assert blocks[1][0].abs().sum().item() == 0.0
    assert not blocks[0][0].requires_grad
    assert F.jacobian(lambda t: t ** 3, x, create_graph=True).requires_grad


def test_strict_mode_refuses_outputs_independent_of_an_input():
    x, y = lt.tensor(X), lt.tensor(Y)
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function is independent "
                                           "of input 1. This is not allowed in strict mode."):
        F.jacobian(lambda a, b: a * 2, (x, y), strict=True)


def test_hessian_and_its_products():
    x = lt.tensor(X)
    cube = lambda t: (t ** 3).sum()  # noqa: E731
    assert F.hessian(cube, x).tolist() == np.diag([6.0, 12.0, 18.0]).tolist()
    v = lt.tensor([1.0, 0.0, 2.0])
    for product in (F.hvp, F.vhp):
        value, hv = product(cube, x, v)
        assert value.item() == 36.0 and hv.tolist() == [6.0, 0.0, 36.0]
    with pytest.raises(RuntimeError, match="should contain a single element"):
        F.hessian(lambda t: t ** 2, x)


def test_vjp_and_jvp():
    x, y = lt.tensor(X), lt.tensor(Y)
    out, vj = F.vjp(lambda t: t ** 2, x, lt.ones(3))
    assert out.tolist() == [1.0, 4.0, 9.0] and vj.tolist() == [2.0, 4.0, 6.0]
    (first, second), (d_first, d_second) = F.jvp(
        lambda a, b: (a * b.sum(), b * 2), (x, y), (lt.ones(3), lt.ones(2, 2)))
    assert d_first.tolist() == [5.75, 9.75, 13.75] and d_second.tolist() == [[2.0, 2.0]] * 2
    with pytest.raises(RuntimeError, match="v can only be None if the user-provided function "
                                           "returns a single Tensor with a single element"):
        F.vjp(lambda t: t ** 2, x)
    with pytest.raises(RuntimeError, match=r"v has invalid size: should be lazyt.Size\(\[3\]\)"):
        F.vjp(lambda t: t ** 2, x, lt.ones(2))
    with pytest.raises(TypeError, match="must be either a Tensor or a tuple of Tensors"):
        F.jacobian(lambda t: t, [1.0])


def test_anomaly_detection_names_the_node_that_made_a_nan():
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        mode = lt.autograd.detect_anomaly()
    with mode:
        assert lt.is_anomaly_enabled()
        b = lt.tensor([0.0, 1.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="Function 'DivBackward0' returned nan values in "
                                               "its 1th output."):
            (b / b).sum().backward()
    assert not lt.is_anomaly_enabled()
    c = lt.tensor([0.0, 1.0], requires_grad=True)
    (c / c).sum().backward()  # (off: the NaN reaches .grad)
    assert np.isnan(c.grad.numpy()[0])


def test_autograd_warnings():
    a = lt.tensor(X, requires_grad=True)
    b = a * 2
    with pytest.warns(UserWarning, match="The .grad attribute of a Tensor that is not a leaf"):
        assert b.grad is None
    b.retain_grad()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert b.grad is None and a.grad is None
    with pytest.warns(UserWarning, match=r"var_mean\(\): degrees of freedom is <= 0"):
        lt.var_mean(lt.tensor([1.0]))
    with pytest.raises(RuntimeError, match="^Only Tensors of floating point"):
        lt.tensor([1, 2], requires_grad=True)
