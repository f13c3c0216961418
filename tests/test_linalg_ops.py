"""Linear algebra against PyTorch: products (addmm family, tensordot, kron, cross,
cdist, ...), norms, and the LAPACK-extern decompositions: values, dtypes,
shapes, errors and float64 gradients, over batches, broadcasting, 0-size and
transposed (non-contiguous) inputs; deferred mode for the composite ops."""

from __future__ import annotations

import math

import numpy as np
import pytest

import lazyt as lt

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)


def make(shape, dtype="float64", transposed=False, spd=False):
    """The same values as a (torch, lazyt) pair; transposed: a non-contiguous .mT view."""
    if dtype in ("int64", "bool"):
        array = RNG.integers(-3, 4, size=shape).astype(dtype)
    else:
        array = RNG.standard_normal(shape).astype(dtype)
    if spd:
        array = array @ np.swapaxes(array, -1, -2) + shape[-1] * np.eye(shape[-1], dtype=dtype)
    if transposed:
        array = np.ascontiguousarray(np.swapaxes(array, -1, -2))
        return torch.from_numpy(array.copy()).mT, lt.tensor(array).mT
    return torch.from_numpy(array.copy()), lt.tensor(array)


def to_numpy(value):
    if isinstance(value, (tuple, list)):
        return [to_numpy(v) for v in value]
    if isinstance(value, torch.Tensor):
        return value.detach().numpy()
    return value.detach().numpy() if isinstance(value, lt.Tensor) else value


def assert_same(expected, got, rtol=1e-6, atol=1e-8):
    if isinstance(expected, (tuple, list)):
        assert len(expected) == len(got)
        for e, g in zip(expected, got):
            assert_same(e, g, rtol, atol)
        return
    assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    assert tuple(got.shape) == tuple(expected.shape)
    np.testing.assert_allclose(to_numpy(got), to_numpy(expected), rtol=rtol, atol=atol)


def check(call, *pairs, rtol=1e-6, atol=1e-8, **kwargs):
    """call(module, *tensors, **kwargs) agrees between torch and lazyt."""
    expected = call(torch, *(p[0] for p in pairs), **kwargs)
    got = call(lt, *(p[1] for p in pairs), **kwargs)
    assert_same(expected, got, rtol, atol)
    return got


def check_error(call, *pairs, **kwargs):
    with pytest.raises(Exception) as expected:
        call(torch, *(p[0] for p in pairs), **kwargs)
    with pytest.raises(Exception) as got:
        call(lt, *(p[1] for p in pairs), **kwargs)
    assert isinstance(got.value, RuntimeError) == isinstance(expected.value, RuntimeError)
    assert type(got.value).__name__.lstrip("_") == type(expected.value).__name__.lstrip("_") \
        or isinstance(got.value, RuntimeError)
    assert str(got.value) == str(expected.value).splitlines()[0]


def check_grad(call, *pairs, output=lambda out: out):
    """float64 gradients of sum(output(call(...)) * weights) agree with torch's."""
    results = []
    for module, side in ((torch, 0), (lt, 1)):
        leaves = [p[side].detach().clone().requires_grad_(True) for p in pairs]
        out = output(call(module, *leaves))
        weights = module.from_numpy(np.linspace(0.5, 1.5, max(out.numel(), 1)).reshape(out.shape)) \
            if module is torch else lt.tensor(np.linspace(0.5, 1.5, max(out.numel(), 1))
                                              .reshape(tuple(out.shape)))
        (out * weights).sum().backward()
        results.append([leaf.grad for leaf in leaves])
    for expected, got in zip(*results):
        np.testing.assert_allclose(to_numpy(got), to_numpy(expected), rtol=1e-6, atol=1e-8)


# ------------------------------------------------------------- products
@pytest.mark.parametrize("transposed", [False, True])
def test_addmm_family_matches_torch(transposed):
    m1, m2 = make((3, 4), transposed=transposed), make((4, 5), transposed=transposed)
    check(lambda mod, i, a, b: mod.addmm(i, a, b, beta=0.5, alpha=2), make((5,)), m1, m2)
    check(lambda mod, i, a, b: mod.addmm(i, a, b), make((3, 5)), m1, m2)
    check(lambda mod, i, a, b: i.addmm(a, b, beta=0), make((3, 5)), m1, m2)
    check(lambda mod, i, a, b: mod.addmv(i, a, b, alpha=3), make((3,)), m1, make((4,)))
    check(lambda mod, i, a, b: mod.addr(i, a, b, beta=2, alpha=-1), make((1, 5)), make((3,)),
          make((5,)))
    b1, b2 = make((2, 3, 4)), make((2, 4, 5))
    check(lambda mod, i, a, b: mod.baddbmm(i, a, b, beta=0.5), make((3, 5)), b1, b2)
    check(lambda mod, i, a, b: mod.addbmm(i, a, b, alpha=0.5), make((3, 5)), b1, b2)
    ints = make((3, 3), "int64"), make((3, 3), "int64"), make((3, 3), "int64")
    check(lambda mod, i, a, b: mod.addmm(i, a, b, beta=2, alpha=3), *ints)
    bools = make((3,), "bool"), make((4,), "bool")
    check(lambda mod, i, a, b: mod.addr(i, a, b), make((3, 4), "bool"), *bools)


def test_addmm_family_errors_match_torch():
    check_error(lambda mod, i, a, b: mod.addmm(i, a, b), make((3,)), make((2, 3)), make((4, 5)))
    check_error(lambda mod, i, a, b: mod.addmm(i, a, b), make((3,)), make((3,)), make((3, 5)))
    check_error(lambda mod, i, a, b: mod.addmm(i, a, b), make((2, 3), "float32"), make((2, 3)),
                make((3, 5)))
    check_error(lambda mod, i, a, b: mod.addmm(i, a, b), make((4,)), make((2, 3)), make((3, 5)))
    check_error(lambda mod, i, a, b: mod.addmv(i, a, b), make((2,)), make((2, 3)), make((4,)))
    check_error(lambda mod, i, a, b: mod.addr(i, a, b), make((2, 3)), make((2,)), make((3, 1)))
    check_error(lambda mod, i, a, b: mod.baddbmm(i, a, b), make((2, 3, 5)), make((2, 3, 4)),
                make((3, 4, 5)))
    check_error(lambda mod, i, a, b: mod.addbmm(i, a, b), make((3, 5)), make((2, 3, 4)),
                make((3, 4, 5)))
    check_error(lambda mod, i, a, b: mod.addbmm(i, a, b), make((3, 5)), make((2, 3, 4)),
                make((2, 5, 5)))


def test_addmm_out_writes_and_resizes():
    i, a, b = make((3, 5)), make((3, 4)), make((4, 5))
    for module, side in ((torch, 0), (lt, 1)):
        out = module.empty(0, dtype=module.float64)
        result = module.addmm(i[side], a[side], b[side], out=out)
        assert result is out and tuple(out.shape) == (3, 5)
    check_error(lambda mod, i, a, b: mod.addmm(i, a, b, out=mod.empty(3, 5, dtype=mod.float32)),
                i, a, b)


def test_addmm_family_gradients_match_torch():
    check_grad(lambda mod, i, a, b: mod.addmm(i, a, b, beta=0.5, alpha=2), make((5,)), make((3, 4)),
               make((4, 5)))
    check_grad(lambda mod, i, a, b: mod.addbmm(i, a, b), make((3, 5)), make((2, 3, 4)),
               make((2, 4, 5)))
    check_grad(lambda mod, i, a, b: mod.addr(i, a, b), make((3, 5)), make((3,)), make((5,)))


@pytest.mark.parametrize("dims", [0, 1, 2, ([1, 2], [1, 0]), ([2], [0])])
def test_tensordot_matches_torch(dims):
    check(lambda mod, a, b: mod.tensordot(a, b, dims=dims), make((3, 4, 2)), make((2, 4, 5)) if
          dims != 2 else make((4, 2, 5)))


def test_tensordot_errors_match_torch():
    check_error(lambda mod, a, b: mod.tensordot(a, b, dims=1), make((2, 3)), make((4, 5)))
    check_error(lambda mod, a, b: mod.tensordot(a, b, dims=-1), make((2, 3)), make((3, 5)))
    check_error(lambda mod, a, b: mod.tensordot(a, b, dims=([0, 1], [0])), make((2, 3)),
                make((3, 5)))


def test_kron_inner_vdot_multi_dot_match_torch():
    check(lambda mod, a, b: mod.kron(a, b), make((2, 3)), make((3,)))
    check(lambda mod, a, b: mod.kron(a, b), make((2, 1, 3)), make((2, 2), "int64"))
    check(lambda mod, a, b: mod.inner(a, b), make((2, 3)), make((4, 3), transposed=True))
    check(lambda mod, a, b: mod.inner(a, b), make(()), make((4, 3)))
    check(lambda mod, a, b: mod.vdot(a, b), make((5,)), make((5,)))
    check(lambda mod, a, b, c: mod.linalg.multi_dot([a, b, c]), make((3,)), make((3, 4)),
          make((4,)))
    check(lambda mod, a, b, c: mod.linalg.multi_dot([a, b, c]), make((2, 3)), make((3, 4)),
          make((4, 2)))
    check_error(lambda mod, a, b: mod.linalg.multi_dot([a, b]), make((2, 3)), make((4, 5)))
    check_error(lambda mod, a: mod.linalg.multi_dot([a]), make((3,)))
    check_error(lambda mod, a, b: mod.inner(a, b), make((2, 3)), make((4, 5)))
    check_error(lambda mod, a, b: mod.vdot(a, b), make((3,)), make((3,), "float32"))
    check_grad(lambda mod, a, b: mod.kron(a, b), make((2, 3)), make((2, 2)))
    check_grad(lambda mod, a, b, c: mod.linalg.multi_dot([a, b, c]), make((3,)), make((3, 4)),
               make((4, 2)))


def test_cross_matches_torch():
    check(lambda mod, a, b: mod.linalg.cross(a, b), make((4, 3)), make((1, 3)))
    check(lambda mod, a, b: mod.cross(a, b, dim=0), make((3, 2)), make((3, 2)))
    check(lambda mod, a, b: mod.linalg.cross(a, b, dim=1), make((2, 3, 2), "int64"),
          make((2, 3, 2), "int64"))
    check_error(lambda mod, a, b: mod.linalg.cross(a, b), make((3, 2)), make((3, 2)))
    check_error(lambda mod, a, b: mod.linalg.cross(a, b), make((2, 3)), make((3,)))
    check_error(lambda mod, a, b: mod.cross(a, b, dim=1), make((2, 3)), make((2, 4)))
    check_grad(lambda mod, a, b: mod.linalg.cross(a, b), make((4, 3)), make((4, 3)))


@pytest.mark.parametrize("p", [0, 1, 2, 3.5, math.inf])
def test_cdist_matches_torch(p):
    x1, x2 = make((2, 4, 3)), make((1, 5, 3))
    check(lambda mod, a, b: mod.cdist(a, b, p=p), x1, x2)
    if p in (1, 2, 3.5):
        check_grad(lambda mod, a, b: mod.cdist(a, b, p=p), x1, x2)


def test_cdist_errors_match_torch():
    check_error(lambda mod, a, b: mod.cdist(a, b), make((3,)), make((4, 3)))
    check_error(lambda mod, a, b: mod.cdist(a, b), make((2, 3)), make((4, 5)))
    check_error(lambda mod, a, b: mod.cdist(a, b, p=-1), make((2, 3)), make((4, 3)))
    check_error(lambda mod, a, b: mod.cdist(a, b), make((2, 3), "int64"), make((4, 3), "int64"))


def test_matrix_power_vecdot_diag_embed_match_torch():
    for n in (0, 1, 2, 5, -1, -3):
        check(lambda mod, a, n=n: mod.linalg.matrix_power(a, n), make((2, 3, 3), spd=True),
              rtol=1e-5)
    check(lambda mod, a: mod.matrix_power(a, 3), make((3, 3), transposed=True))
    check_error(lambda mod, a: mod.matrix_power(a, 2), make((2, 3)))
    check_error(lambda mod, a: mod.matrix_power(a, 2), make((3,)))
    check(lambda mod, a, b: mod.linalg.vecdot(a, b), make((2, 3)), make((3,)))
    check_error(lambda mod, a, b: mod.linalg.vecdot(a, b), make((3,), "int64"), make((3,), "int64"))
    for offset, d1, d2 in ((0, -2, -1), (1, 0, 2), (-2, 2, 0)):
        check(lambda mod, a, o=offset, d1=d1, d2=d2: mod.diag_embed(a, o, d1, d2), make((2, 3)))
    check(lambda mod, a: mod.linalg.diagonal(a, offset=1), make((2, 3, 4)))
    check_grad(lambda mod, a: mod.diag_embed(a, 1), make((2, 3)))
    check_grad(lambda mod, a: mod.linalg.matrix_power(a, 3), make((3, 3)))


def test_composites_fuse_in_deferred_mode():
    (_, a), (_, b), (_, c) = make((3, 4)), make((4, 5)), make((3, 5))
    eager = lt.addmm(c, a, b, beta=0.5).numpy()
    with lt.deferred():
        pending = lt.addmm(c, a, b, beta=0.5)
        distances = lt.cdist(a, a, p=1)
        norms = lt.linalg.vector_norm(a, 3, dim=1)
    np.testing.assert_allclose(pending.numpy(), eager)
    np.testing.assert_allclose(distances.numpy(), lt.cdist(a, a, p=1).numpy())
    np.testing.assert_allclose(norms.numpy(), lt.linalg.vector_norm(a, 3, dim=1).numpy())


# ----------------------------------------------------------------- norms
@pytest.mark.parametrize("ord", [2, 1, 0, 3, -1.5, math.inf, -math.inf])
def test_vector_norm_matches_torch(ord):
    x = make((3, 4), transposed=True)
    check(lambda mod, a: mod.linalg.vector_norm(a, ord), x)
    check(lambda mod, a: mod.linalg.vector_norm(a, ord, dim=(0,), keepdim=True), x)
    check(lambda mod, a: mod.linalg.vector_norm(a.float(), ord, dim=1, dtype=mod.float64), x)
    check_error(lambda mod, a: mod.linalg.vector_norm(a, ord, dtype=mod.float32), x)
    if ord not in (0, -1.5):
        check_grad(lambda mod, a: mod.linalg.vector_norm(a, ord, dim=-1), make((3, 4)))


@pytest.mark.parametrize("ord", ["fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf])
def test_matrix_norm_matches_torch(ord):
    x = make((2, 3, 4))
    check(lambda mod, a: mod.linalg.matrix_norm(a, ord), x)
    check(lambda mod, a: mod.linalg.matrix_norm(a, ord, dim=(0, 2), keepdim=True), x)
    check(lambda mod, a: mod.linalg.norm(a, ord, dim=(-1, -2)), x)
    check_grad(lambda mod, a: mod.linalg.matrix_norm(a, ord), make((3, 4)))


def test_norm_front_ends_match_torch():
    x = make((3, 4))
    check(lambda mod, a: mod.linalg.norm(a), make((2, 3, 4)))
    check(lambda mod, a: mod.linalg.norm(a, 3), make((5,)))
    check(lambda mod, a: mod.linalg.norm(a, -2), x)
    check(lambda mod, a: mod.norm(a, p="nuc"), x)
    check(lambda mod, a: a.norm(p="fro", dim=(0, 1)), x)
    check(lambda mod, a: a.norm(1, dim=1, keepdim=True), x)
    check(lambda mod, a: mod.norm(a), make((0, 3)))
    check_error(lambda mod, a: mod.linalg.matrix_norm(a, 3), x)
    check_error(lambda mod, a: mod.linalg.matrix_norm(a), make((3,)))
    check_error(lambda mod, a: mod.linalg.norm(a, 2), make((2, 3, 4)))
    check_error(lambda mod, a: mod.norm(a, p="nuc"), make((2, 3, 4)))
    check_error(lambda mod, a: mod.linalg.vector_norm(a, math.inf), make((0,)))
    check_error(lambda mod, a: mod.norm(a), make((3,), "int64"))


# --------------------------------------------------------- decompositions
SQUARE_SHAPES = [(3, 3), (2, 4, 4), (0, 3, 3), (3, 0, 0)]


@pytest.mark.parametrize("shape", SQUARE_SHAPES)
def test_inv_det_slogdet_solve_match_torch(shape):
    A = make(shape, spd=shape[-1] > 0)
    before = lt.debug.stats()["extern_calls"]
    check(lambda mod, a: mod.linalg.inv(a), A)
    assert lt.debug.stats()["extern_calls"] > before
    check(lambda mod, a: mod.inverse(a), A)
    check(lambda mod, a: mod.linalg.det(a), A)
    check(lambda mod, a: tuple(mod.linalg.slogdet(a)), A)
    check(lambda mod, a, b: mod.linalg.solve(a, b), A, make((*shape[:-1], 2)))
    check(lambda mod, a, b: mod.linalg.solve(a, b), A, make(shape[-1:]))


def test_solve_broadcasts_and_transposes():
    A = make((2, 3, 3), transposed=True)
    check(lambda mod, a, b: mod.linalg.solve(a, b), A, make((3, 2)))
    check(lambda mod, a, b: mod.linalg.solve(a, b), A, make((2, 3)))
    check(lambda mod, a, b: mod.linalg.solve(a, b, left=False), A, make((4, 3)))
    check(lambda mod, a, b: mod.linalg.solve(a, b), make((1, 3, 3)), make((4, 3, 1)))
    check_error(lambda mod, a, b: mod.linalg.solve(a, b), make((2, 2)), make((3,)))
    check_error(lambda mod, a, b: mod.linalg.solve(a, b), make((2, 2)), make((2,), "float32"))


def test_decomposition_errors_match_torch():
    singular = torch.tensor([[1.0, 2.0], [2.0, 4.0]]), lt.tensor([[1.0, 2.0], [2.0, 4.0]])
    check_error(lambda mod, a: mod.linalg.inv(a), singular)
    check_error(lambda mod, a: mod.linalg.inv(mod.stack([a, a])), singular)
    check_error(lambda mod, a: mod.linalg.cholesky(a), singular)
    check_error(lambda mod, a: mod.linalg.cholesky(-mod.stack([a.abs() + 5, a])), singular)
    check_error(lambda mod, a: mod.linalg.solve(a, a), singular)
    check_error(lambda mod, a: mod.linalg.inv(a), make((3, 4)))
    check_error(lambda mod, a: mod.linalg.det(a), make((3,)))
    check_error(lambda mod, a: mod.linalg.inv(a), make((2, 2), "int64"))
    check_error(lambda mod, a: mod.linalg.inv(a.half()), make((2, 2)))
    check_error(lambda mod, a: mod.linalg.eigh(a, UPLO="X"), make((2, 2)))
    check_error(lambda mod, a: mod.linalg.qr(a, mode="x"), make((2, 2)))
    with pytest.raises(lt.linalg.LinAlgError):
        lt.linalg.inv(singular[1])
    assert issubclass(lt.linalg.LinAlgError, RuntimeError)


def _sign_fixed(U, Vh):
    """Singular/eigen vectors are unique up to sign: make each column's largest entry positive."""
    signs = np.sign(np.take_along_axis(U, np.abs(U).argmax(-2)[..., None, :], -2))
    signs[signs == 0] = 1
    return U * signs, (Vh * np.swapaxes(signs, -1, -2) if Vh is not None else None)


@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 5), (3, 3)])
def test_svd_qr_match_torch(shape):
    (ta, la) = make(shape)
    for full in (True, False):
        expected = torch.linalg.svd(ta, full_matrices=full)
        got = lt.linalg.svd(la, full_matrices=full)
        k = min(shape[-2:])
        U, Vh = _sign_fixed(to_numpy(expected.U)[..., :k], to_numpy(expected.Vh)[..., :k, :])
        U2, Vh2 = _sign_fixed(to_numpy(got.U)[..., :k], to_numpy(got.Vh)[..., :k, :])
        np.testing.assert_allclose(U2, U, atol=1e-10)
        np.testing.assert_allclose(Vh2, Vh, atol=1e-10)
        assert tuple(got.U.shape) == tuple(expected.U.shape)
        assert tuple(got.Vh.shape) == tuple(expected.Vh.shape)
        np.testing.assert_allclose(to_numpy(got.S), to_numpy(expected.S))
    legacy, mine = torch.svd(ta), lt.svd(la)
    assert type(mine).__name__ == "svd" and tuple(mine.V.shape) == tuple(legacy.V.shape)
    np.testing.assert_allclose(np.abs(to_numpy(mine.V)), np.abs(to_numpy(legacy.V)), atol=1e-10)
    check(lambda mod, a: mod.linalg.svdvals(a), (ta, la))
    check(lambda mod, a: tuple(mod.linalg.qr(a)), (ta, la))
    check(lambda mod, a: mod.linalg.qr(a, mode="r").R, (ta, la))
    check(lambda mod, a: mod.linalg.matrix_rank(a), (ta, la))
    check(lambda mod, a: mod.linalg.pinv(a), (ta, la))


def test_eigh_cholesky_lstsq_match_torch():
    A = make((2, 4, 4), spd=True)
    check(lambda mod, a: mod.linalg.eigvalsh(a), A)
    check(lambda mod, a: mod.linalg.eigh(a, UPLO="U").eigenvalues, A)
    vectors = [_sign_fixed(to_numpy(module.linalg.eigh(a).eigenvectors), None)[0]
               for module, a in ((torch, A[0]), (lt, A[1]))]
    np.testing.assert_allclose(vectors[1], vectors[0], atol=1e-10)
    check(lambda mod, a: mod.linalg.cholesky(a), A)
    check(lambda mod, a: mod.linalg.cholesky(a, upper=True), A)
    check(lambda mod, a: mod.linalg.matrix_rank(a, hermitian=True), A)
    check(lambda mod, a, b: mod.linalg.lstsq(a, b).solution, make((5, 3)), make((5, 2)))


def _symmetric(mod, a):
    return (a + a.mT) / 2


@pytest.mark.parametrize("name, call, shapes", [
    ("inv", lambda mod, a: mod.linalg.inv(a), [(2, 3, 3)]),
    ("solve", lambda mod, a, b: mod.linalg.solve(a, b), [(3, 3), (2, 3, 2)]),
    ("solve_vector", lambda mod, a, b: mod.linalg.solve(a, b), [(3, 3), (3,)]),
    ("det", lambda mod, a: mod.linalg.det(a), [(2, 3, 3)]),
    ("slogdet", lambda mod, a: mod.linalg.slogdet(a).logabsdet, [(3, 3)]),
    ("cholesky", lambda mod, a: mod.linalg.cholesky(_symmetric(mod, a) @ _symmetric(mod, a).mT
                                                + 3 * mod.eye(3, dtype=mod.float64)), [(3, 3)]),
    ("eigh_values", lambda mod, a: mod.linalg.eigvalsh(_symmetric(mod, a)), [(2, 3, 3)]),
    ("svdvals", lambda mod, a: mod.linalg.svdvals(a), [(4, 3)]),
    ("pinv", lambda mod, a: mod.linalg.pinv(a), [(4, 3)]),
    ("qr_r", lambda mod, a: mod.linalg.qr(a).R, [(4, 3)]),
    ("nuclear", lambda mod, a: mod.linalg.matrix_norm(a, "nuc"), [(3, 4)]),
])
def test_decomposition_gradients_match_torch(name, call, shapes):
    check_grad(call, *(make(shape) for shape in shapes))


def test_decomposition_gradients_pass_gradcheck():
    a = lt.tensor(RNG.standard_normal((4, 3)), requires_grad=True)
    square = lt.tensor(RNG.standard_normal((3, 3)) + 3 * np.eye(3), requires_grad=True)

    def svd_sign_fixed(x):
        U, S, Vh = lt.linalg.svd(x, full_matrices=False)
        signs = U.sum(-2, keepdim=True).sign()
        return U * signs, S, Vh * signs.mT

    def eigh_sign_fixed(x):
        values, vectors = lt.linalg.eigh(x + x.mT)
        return values, vectors * vectors.sum(-2, keepdim=True).sign()

    assert lt.autograd.gradcheck(svd_sign_fixed, (a,))
    assert lt.autograd.gradcheck(lambda x: tuple(lt.linalg.qr(x)), (a,))
    assert lt.autograd.gradcheck(eigh_sign_fixed, (square,))
    assert lt.autograd.gradgradcheck(lambda x: lt.linalg.inv(x), (square,))
