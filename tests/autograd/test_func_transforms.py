"""lt.func (torch.func's transforms): grad, grad_and_value, vjp, jvp,
jacrev/jacfwd, hessian and vmap, composed, on trees of tensors."""

import numpy as np
import pytest

import lazyt as lt

F = lt.func
X = [1.0, 2.0, 3.0]
Y = [[0.5, -1.0], [2.0, 0.25]]


def cube_sum(t):
    return (t ** 3).sum()


def test_grad_composes_and_takes_argnums_aux_and_trees():
    x, y = lt.tensor(X), lt.tensor(Y)
    g = F.grad(cube_sum)(x)
    assert g.tolist() == [3.0, 12.0, 27.0] and not g.requires_grad
    assert F.grad(F.grad(cube_sum))(lt.tensor(2.0)).item() == 12.0
    ga, gb = F.grad(lambda a, b: (a * b.sum()).sum(), argnums=(0, 1))(x, y)
    assert ga.tolist() == [1.75] * 3 and gb.tolist() == [[6.0, 6.0], [6.0, 6.0]]
    g, aux = F.grad(lambda a: ((a ** 2).sum(), a.mean()), has_aux=True)(x)
    assert g.tolist() == [2.0, 4.0, 6.0] and aux.item() == 2.0
    tree = F.grad(lambda p: (p["w"] * p["b"]).sum())({"w": x, "b": lt.ones(3)})
    assert tree["w"].tolist() == [1.0] * 3 and tree["b"].tolist() == X
    g, value = F.grad_and_value(cube_sum)(x)
    assert value.item() == 36.0
    with pytest.raises(RuntimeError, match="Expected f\\(\\*args\\) to return a scalar Tensor"):
        F.grad(lambda t: t * 2)(x)


def test_vjp_jvp_and_jacobians():
    x, y = lt.tensor(X), lt.tensor(Y)
    out, vjp_fn = F.vjp(lambda t: t ** 2, x)
    assert out.tolist() == [1.0, 4.0, 9.0] and vjp_fn(lt.ones(3))[0].tolist() == [2.0, 4.0, 6.0]
    out, tangent = F.jvp(lambda t: t ** 2, (x,), (lt.ones(3),))
    assert tangent.tolist() == [2.0, 4.0, 6.0]
    assert F.jacrev(lambda t: t ** 2)(x).tolist() == np.diag([2.0, 4.0, 6.0]).tolist()
    ja, jb = F.jacrev(lambda a, b: a * b.sum(), argnums=(0, 1))(x, y)
    assert tuple(ja.shape) == (3, 3) and tuple(jb.shape) == (3, 2, 2)
    first, second = F.jacrev(lambda a: (a * 2, a.sum()))(x)
    assert tuple(first.shape) == (3, 3) and second.tolist() == [1.0] * 3
    np.testing.assert_allclose(F.jacfwd(lambda t: t.sin())(x).numpy(),
                               np.diag(np.cos(X)), atol=1e-6)
    assert F.hessian(cube_sum)(x).tolist() == np.diag([6.0, 12.0, 18.0]).tolist()


def test_vmap_maps_slices_and_stacks():
    x, y = lt.tensor(X), lt.tensor(Y)
    assert F.vmap(lambda t: t.sum())(y).tolist() == [-0.5, 2.25]
    assert F.vmap(lambda a, b: a * b, in_dims=(0, None))(y, lt.tensor([1.0, 2.0])).tolist() == \
        [[0.5, -2.0], [2.0, 0.5]]
    assert F.vmap(lambda a: a * 2, out_dims=1)(y).tolist() == [[1.0, 4.0], [-2.0, 0.5]]
    assert F.vmap(lt.dot, in_dims=(1, 1))(y, y).tolist() == [4.25, 1.0625]
    sums, doubled = F.vmap(lambda a: (a.sum(), a * 2))(y)
    assert sums.tolist() == [-0.5, 2.25] and tuple(doubled.shape) == (2, 2)
    assert F.vmap(F.grad(lambda t: (t ** 2).sum()))(y).tolist() == [[1.0, -2.0], [4.0, 0.5]]
    assert lt.vmap(lambda t: t * 2)(x).tolist() == [2.0, 4.0, 6.0]
    with pytest.raises(ValueError, match=r"got sizes \[2, 3\] for the mapped dimension"):
        F.vmap(lambda a, b: a + b)(lt.ones(2), lt.ones(3))


def test_functional_call_with_grad_gives_per_parameter_gradients():
    model = lt.nn.Linear(3, 1)
    params = {name: p.detach() for name, p in model.named_parameters()}
    x = lt.tensor([[1.0, 2.0, 3.0]])

    def loss(p):
        return F.functional_call(model, p, (x,)).sum()

    grads = F.grad(loss)(params)
    assert grads["weight"].tolist() == [[1.0, 2.0, 3.0]] and grads["bias"].tolist() == [1.0]
    with pytest.raises(ValueError, match="appeared in multiple dictionaries"):
        F.functional_call(model, (params, {"bias": lt.zeros(1)}), (x,))
