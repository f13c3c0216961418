"""The wider linalg surface against PyTorch: out= of the tuple-returning
decompositions, lstsq's per-driver outputs, pinv(hermitian=True), the
in-place addmm family, tensordot's size-1 broadcasting, and the solvers and
factorisations of lazyt/linalg_solvers.py (values and float64 gradients)."""

from __future__ import annotations

import re

import numpy as np
import pytest

import lazyt as lt

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:torch.(triangular_solve|lu) is deprecated")

RNG = np.random.default_rng(1)


def pair(shape, spd=False, well_conditioned=False):
    """The same float64 values as (torch, lazyt) tensors requiring grad."""
    array = RNG.standard_normal(shape)
    if spd:
        array = array @ np.swapaxes(array, -1, -2) + shape[-1] * np.eye(shape[-1])
    if well_conditioned:
        array = array + shape[-1] * np.eye(shape[-1])
    return (torch.tensor(array, requires_grad=True), lt.tensor(array, requires_grad=True))


def close(actual, expected, atol=1e-8):
    np.testing.assert_allclose(np.asarray(actual.detach().numpy()),
                               expected.detach().numpy(), atol=atol, rtol=1e-6)


def check_grads(torch_out, lazyt_out, torch_inputs, lazyt_inputs, atol=1e-7):
    """Gradients of sum(outputs) w.r.t. the inputs agree."""
    torch_outs = torch_out if isinstance(torch_out, tuple) else (torch_out,)
    lazyt_outs = lazyt_out if isinstance(lazyt_out, tuple) else (lazyt_out,)
    torch_total = sum(t.sum() for t in torch_outs if t.requires_grad)
    lazyt_total = sum(t.sum() for t in lazyt_outs if t.requires_grad)
    expected = torch.autograd.grad(torch_total, torch_inputs)
    got = lt.autograd.grad(lazyt_total, lazyt_inputs)
    for g, e in zip(got, expected):
        close(g, e, atol)


# ------------------------------------------------------------ fixes
@pytest.mark.parametrize("name", ["eigh", "qr", "slogdet"])
def test_tuple_results_are_written_to_out(name):
    t_a, l_a = pair((4, 4), spd=True)
    t_a, l_a = t_a.detach(), l_a.detach()
    expected = getattr(torch.linalg, name)(t_a)
    outs = tuple(lt.empty(0, dtype=lt.float64) for _ in expected)
    result = getattr(lt.linalg, name)(l_a, out=outs)
    assert result[0] is outs[0]
    for got, want in zip(outs, expected):  # (signs of eigenvectors are free: compare |.|)
        close(got.abs(), want.abs())


def test_slogdet_sign_is_a_differentiable_output():
    t_a, l_a = pair((3, 3))
    assert lt.linalg.slogdet(l_a).sign.requires_grad
    check_grads(torch.linalg.slogdet(t_a), lt.linalg.slogdet(l_a), (t_a,), (l_a,))


@pytest.mark.parametrize("driver", ["gels", "gelsy", "gelsd", "gelss"])
@pytest.mark.parametrize("rows", [2, 3, 5])
def test_lstsq_outputs_per_driver(driver, rows):
    t_a, l_a = pair((2, rows, 3))
    t_b, l_b = pair((2, rows, 2))
    expected = torch.linalg.lstsq(t_a, t_b, driver=driver)
    got = lt.linalg.lstsq(l_a, l_b, driver=driver)
    for g, e in zip(got, expected):
        assert tuple(g.shape) == tuple(e.shape) and g.requires_grad == e.requires_grad
    close(got.residuals, expected.residuals, 1e-7)
    if rows >= 3:
        close(got.solution, expected.solution, 1e-7)
        check_grads(expected, got, (t_a, t_b), (l_a, l_b))


def test_pinv_hermitian_reads_the_lower_triangle_and_matches_gradients():
    t_a, l_a = pair((4, 4), spd=True)
    close(lt.linalg.pinv(l_a.tril(), hermitian=True), torch.linalg.pinv(t_a, hermitian=True))
    check_grads(torch.linalg.pinv(t_a, hermitian=True), lt.linalg.pinv(l_a, hermitian=True),
                (t_a,), (l_a,))


@pytest.mark.parametrize("name, shapes", [
    ("addmm_", [(5, 4), (5, 3), (3, 4)]), ("addmv_", [(5,), (5, 3), (3,)]),
    ("addr_", [(5, 4), (5,), (4,)]), ("baddbmm_", [(2, 5, 4), (2, 5, 3), (2, 3, 4)]),
    ("addbmm_", [(5, 4), (2, 5, 3), (2, 3, 4)])])
def test_inplace_addmm_family(name, shapes):
    arrays = [RNG.standard_normal(s) for s in shapes]
    expected = getattr(torch.tensor(arrays[0]), name)(
        *map(torch.tensor, arrays[1:]), beta=0.5, alpha=2)
    target = lt.tensor(arrays[0])
    result = getattr(target, name)(*map(lt.tensor, arrays[1:]), beta=0.5, alpha=2)
    assert result is target
    close(target, expected)


def test_inplace_addmm_rejects_a_broadcast_self():
    with pytest.raises(RuntimeError, match=r"Bad in-place call: input tensor size \[1\]"):
        lt.ones(1).addmm_(lt.ones(5, 3), lt.ones(3, 4))


def test_integer_addmv_truncates_float_scalars_like_torch():
    expected = torch.addmv(torch.arange(5), torch.ones(5, 4, dtype=torch.long),
                           torch.ones(4, dtype=torch.long), beta=1.5, alpha=2.7)
    got = lt.addmv(lt.arange(5), lt.ones(5, 4, dtype=lt.int64), lt.ones(4, dtype=lt.int64),
                   beta=1.5, alpha=2.7)
    assert got.tolist() == expected.tolist()


def test_tensordot_broadcasts_size_one_contracted_dims():
    for a_shape, b_shape in (((1, 1, 1), (2, 1, 2)), ((2, 1, 2), (1, 1, 1))):
        t_a, l_a = pair(a_shape)
        t_b, l_b = pair(b_shape)
        expected = torch.tensordot(t_a, t_b, dims=([0, 1], [2, 0]))
        got = lt.tensordot(l_a, l_b, dims=([0, 1], [2, 0]))
        close(got, expected)
        check_grads(expected, got, (t_a, t_b), (l_a, l_b))


def test_index_add_on_a_0d_tensor():
    for m in (torch, lt):
        x = m.tensor(2.0, dtype=m.float64, requires_grad=True)
        s = m.tensor(3.0, dtype=m.float64, requires_grad=True)
        y = m.index_add(x, 0, m.tensor([0]), s, alpha=2)
        y.backward()
        assert (y.item(), x.grad.item(), s.grad.item()) == (8.0, 1.0, 2.0)


def test_creation_keywords():
    assert lt.scalar_tensor(2.0, requires_grad=True).requires_grad
    got = lt.logspace(-3, 0, 5, base=2.0, dtype=lt.float32, device="cpu")
    close(got, torch.logspace(-3, 0, 5, base=2.0, dtype=torch.float32), 1e-6)
    assert lt.normal(0.3, 1.0, (2, 3), device="cpu").shape == (2, 3)


# ------------------------------------------------------------ solvers
@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("unitriangular", [True, False])
def test_solve_triangular_reads_one_triangle(upper, left, unitriangular):
    t_a, l_a = pair((2, 4, 4), well_conditioned=True)
    t_b, l_b = pair((4, 3) if left else (3, 4))
    expected = torch.linalg.solve_triangular(t_a, t_b, upper=upper, left=left,
                                             unitriangular=unitriangular)
    got = lt.linalg.solve_triangular(l_a, l_b, upper=upper, left=left,
                                     unitriangular=unitriangular)
    close(got, expected)
    check_grads(expected, got, (t_a, t_b), (l_a, l_b))


def test_triangular_solve_returns_the_coefficient_copy():
    t_a, l_a = pair((3, 3), well_conditioned=True)
    t_b, l_b = pair((2, 3, 2))
    expected = torch.triangular_solve(t_b, t_a, upper=False, transpose=True)
    got = lt.triangular_solve(l_b, l_a, upper=False, transpose=True)
    close(got.solution, expected.solution)
    assert got.cloned_coefficient.shape == expected.cloned_coefficient.shape
    check_grads(tuple(expected), tuple(got), (t_a, t_b), (l_a, l_b))


@pytest.mark.parametrize("upper", [True, False])
def test_cholesky_solve_and_inverse_match_torch_gradients(upper):
    t_s, l_s = pair((2, 3, 3), spd=True)
    t_f = torch.linalg.cholesky(t_s, upper=upper).detach().requires_grad_()
    l_f = lt.tensor(t_f.detach().numpy(), requires_grad=True)
    t_b, l_b = pair((3, 2))
    expected = torch.cholesky_solve(t_b, t_f, upper=upper)
    got = lt.cholesky_solve(l_b, l_f, upper=upper)
    close(got, expected)
    check_grads(expected, got, (t_b, t_f), (l_b, l_f))
    expected = torch.cholesky_inverse(t_f, upper=upper)
    got = lt.cholesky_inverse(l_f, upper=upper)
    close(got, expected)
    check_grads(expected, got, (t_f,), (l_f,))


def test_ex_variants_report_info_instead_of_raising():
    singular = np.zeros((2, 3, 3))
    singular[0] = np.eye(3)
    singular[1, 0, 0] = 1.0
    for name, args in (("inv_ex", ()), ("cholesky_ex", ()), ("solve_ex", (np.ones((2, 3, 1)),))):
        expected = getattr(torch.linalg, name)(torch.tensor(singular),
                                               *map(torch.tensor, args)).info
        got = getattr(lt.linalg, name)(lt.tensor(singular), *map(lt.tensor, args)).info
        assert got.dtype == lt.int32 and got.tolist() == expected.tolist(), name
    with pytest.raises(RuntimeError):
        lt.linalg.inv_ex(lt.tensor(singular), check_errors=True)
    indefinite = RNG.standard_normal((6, 4, 4))
    indefinite = indefinite + np.swapaxes(indefinite, -1, -2)
    expected = torch.linalg.cholesky_ex(torch.tensor(indefinite))
    got = lt.linalg.cholesky_ex(lt.tensor(indefinite))
    close(got.L, expected.L)  # LAPACK's partial factors
    assert got.info.tolist() == expected.info.tolist()


@pytest.mark.parametrize("p", [None, 2, -2, "fro", "nuc", 1, -1, float("inf")])
def test_cond(p):
    t_a, l_a = pair((2, 3, 3), well_conditioned=True)
    expected = torch.linalg.cond(t_a, p)
    got = lt.linalg.cond(l_a, p)
    close(got, expected, 1e-7)
    if p in (None, 2, -2):
        check_grads(expected, got, (t_a,), (l_a,), atol=1e-6)
    else:  # torch 2.13's own cond backward fails here: differentiate its definition
        expected = torch.linalg.matrix_norm(t_a, p) * torch.linalg.matrix_norm(
            torch.linalg.inv(t_a), p)
        check_grads(expected, got, (t_a,), (l_a,), atol=1e-6)


def test_tensorinv_tensorsolve_vander():
    t_a, l_a = pair((4, 6, 8, 3))
    close(lt.linalg.tensorinv(l_a, ind=2), torch.linalg.tensorinv(t_a, ind=2), 1e-6)
    t_b, l_b = pair((2, 3, 4))
    t_a, l_a = pair((2, 3, 4, 2, 3, 4))
    expected = torch.linalg.tensorsolve(t_a, t_b)
    got = lt.linalg.tensorsolve(l_a, l_b)
    close(got, expected, 1e-6)
    check_grads(expected, got, (t_a, t_b), (l_a, l_b), atol=1e-5)
    t_x, l_x = pair((2, 4))
    expected, got = torch.linalg.vander(t_x, N=5), lt.linalg.vander(l_x, N=5)
    close(got, expected)
    check_grads(expected, got, (t_x,), (l_x,))
    assert lt.linalg.vander(lt.tensor([1, 2, 3], dtype=lt.int8)).dtype == lt.int64


@pytest.mark.parametrize("shape, scale", [((3, 3), 0.1), ((2, 4, 4), 3.0), ((1, 1), 2.0)])
def test_matrix_exp(shape, scale):
    array = RNG.standard_normal(shape) * scale
    t_a = torch.tensor(array, requires_grad=True)
    l_a = lt.tensor(array, requires_grad=True)
    expected, got = torch.matrix_exp(t_a), lt.linalg.matrix_exp(l_a)
    close(got, expected, 1e-9 * max(1.0, float(expected.abs().max())))
    check_grads(expected, got, (t_a,), (l_a,), atol=1e-6 * max(1.0, float(expected.abs().max())))
    assert lt.matrix_exp(lt.tensor(array, dtype=lt.float32)).dtype == lt.float32


def test_householder_product_and_torch_qr():
    t_a, l_a = pair((2, 5, 3))
    t_tau, l_tau = pair((2, 3))
    expected = torch.linalg.householder_product(t_a, t_tau)
    got = lt.linalg.householder_product(l_a, l_tau)
    close(got, expected)
    check_grads(expected, got, (t_a, t_tau), (l_a, l_tau))
    for some in (True, False):
        expected = torch.qr(t_a.detach(), some=some)
        got = lt.qr(l_a.detach(), some=some)
        assert tuple(got.Q.shape) == tuple(expected.Q.shape)
        close(lt.matmul(got.Q, got.R), t_a)


# ----------------------------------------------------------------- LU
@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 5), (2, 5, 3)])
def test_lu_factors_and_gradients(shape):
    t_a, l_a = pair(shape)
    expected, got = torch.linalg.lu(t_a), lt.linalg.lu(l_a)
    for g, e in zip(got, expected):
        close(g, e)
    check_grads(tuple(expected), tuple(got), (t_a,), (l_a,))
    expected, got = torch.linalg.lu_factor_ex(t_a), lt.linalg.lu_factor_ex(l_a)
    close(got.LU, expected.LU)
    assert got.pivots.dtype == lt.int32 and got.pivots.tolist() == expected.pivots.tolist()
    check_grads(expected.LU, got.LU, (t_a,), (l_a,))
    perm, lower, upper = lt.lu_unpack(got.LU, got.pivots)
    close(lt.matmul(perm, lt.matmul(lower, upper)), t_a)


def test_lu_factor_of_a_singular_matrix_raises_like_torch():
    with pytest.raises(RuntimeError, match=r"\(Batch element 0\): U\[1,1\] is zero"):
        lt.linalg.lu_factor(lt.zeros(2, 3, 3))
    assert lt.linalg.lu_factor_ex(lt.zeros(3, 3)).info.item() == 1


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [True, False])
def test_lu_solve(left, adjoint):
    t_a, l_a = pair((2, 4, 4))
    t_b, l_b = pair((4, 3) if left else (3, 4))
    t_lu, t_piv = torch.linalg.lu_factor(t_a)
    l_lu, l_piv = lt.linalg.lu_factor(l_a)
    expected = torch.linalg.lu_solve(t_lu, t_piv, t_b, left=left, adjoint=adjoint)
    got = lt.linalg.lu_solve(l_lu, l_piv, l_b, left=left, adjoint=adjoint)
    close(got, expected, 1e-7)
    check_grads(expected, got, (t_a, t_b), (l_a, l_b), atol=1e-6)
    assert lt.debug.stats()["extern_calls"] > 0


# ------------------------------------------------------ smaller surface
def test_conjugate_transposes_and_adjoint():
    array = RNG.standard_normal((2, 3, 4))
    assert tuple(lt.tensor(array).mH.shape) == (2, 4, 3)
    assert tuple(lt.adjoint(lt.tensor(array)).shape) == (2, 4, 3)
    assert tuple(lt.tensor(array[0]).H.shape) == (4, 3)
    with pytest.raises(RuntimeError, match="consider using tensor.mH"):
        _ = lt.tensor(array).H


def test_zero_gradient_outputs_still_require_grad():
    t_a, l_a = pair((3, 3))
    for m, a in ((torch, t_a), (lt, l_a)):
        assert m.linalg.matrix_power(a, 0).requires_grad
        assert m.linalg.vector_norm(a, 0).requires_grad
    for result in (lt.linalg.matrix_power(l_a, 0), lt.linalg.vector_norm(l_a, 0)):
        (grad,) = lt.autograd.grad(result.sum(), (l_a,))
        assert not grad.numpy().any()


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("transpose", [True, False])
def test_geqrf_and_ormqr(left, transpose):
    t_a, l_a = pair((2, 5, 3))
    expected, got = torch.geqrf(t_a.detach()), lt.geqrf(l_a.detach())
    close(got.a, expected.a)
    close(got.tau, expected.tau)
    t_tau, l_tau = (expected.tau.clone().requires_grad_(),
                    lt.tensor(expected.tau.numpy(), requires_grad=True))
    t_c, l_c = pair((2, 5, 4) if left else (2, 4, 5))
    expected = torch.ormqr(t_a, t_tau, t_c, left=left, transpose=transpose)
    got = lt.ormqr(l_a, l_tau, l_c, left=left, transpose=transpose)
    close(got, expected)
    check_grads(expected, got, (t_a, t_tau, t_c), (l_a, l_tau, l_c))


# ----------------------------------------------------------------- LDL
def test_ldl_factor_matches_lapack_pivoting_including_2x2_blocks():
    matrices = RNG.standard_normal((40, 6, 6))
    matrices[::2] += np.swapaxes(matrices[::2], -1, -2)
    matrices[::5, 0, 0] = 0.0  # forces 2x2 pivots
    expected = torch.linalg.ldl_factor_ex(torch.tensor(matrices))
    got = lt.linalg.ldl_factor_ex(lt.tensor(matrices))
    close(got.LD, expected.LD)
    assert got.pivots.tolist() == expected.pivots.tolist()
    assert got.info.tolist() == expected.info.tolist()
    assert (expected.pivots < 0).any()  # the test covers 2x2 blocks


def test_ldl_solve_with_2x2_blocks_and_broadcasting():
    array = RNG.standard_normal((3, 5, 5))
    array = array + np.swapaxes(array, -1, -2)
    array[:, 0, 0] = 0.0
    t_ld, t_piv = torch.linalg.ldl_factor(torch.tensor(array))
    l_ld, l_piv = lt.linalg.ldl_factor(lt.tensor(array))
    rhs = RNG.standard_normal((5, 2))
    expected = torch.linalg.ldl_solve(t_ld, t_piv, torch.tensor(rhs))
    got = lt.linalg.ldl_solve(l_ld, l_piv, lt.tensor(rhs))
    close(got, expected, 1e-7)


def test_qr_gradient_of_a_wide_matrix():
    t_a, l_a = pair((2, 3, 5))
    expected, got = torch.linalg.qr(t_a), lt.linalg.qr(l_a)
    close(lt.matmul(got.Q, got.R), t_a)
    # Q R is sign-invariant; so is this loss: sum(R^2) + sum((Q Q^T A)^2)
    t_loss = (expected.R ** 2).sum() + ((expected.Q @ expected.Q.mT @ t_a) ** 2).sum()
    l_loss = (got.R ** 2).sum() + ((lt.matmul(lt.matmul(got.Q, got.Q.mT), l_a)) ** 2).sum()
    check_grads(t_loss, l_loss, (t_a,), (l_a,))


def test_integer_logspace_truncates_its_exponents():
    for args in ((0, 1.2, 2), (0.5, 2.7, 4, 2.0)):
        expected = torch.logspace(*args, dtype=torch.int64)
        assert lt.logspace(*args, dtype=lt.int64).tolist() == expected.tolist()


def test_svd_out_and_householder_product_without_reflectors():
    t_a, l_a = pair((3, 3))
    outs = tuple(lt.empty(0, dtype=lt.float64) for _ in range(3))
    lt.svd(l_a.detach(), out=outs)
    close(outs[1], torch.svd(t_a.detach()).S)
    result = lt.linalg.householder_product(l_a, lt.zeros(0, dtype=lt.float64, requires_grad=True))
    assert result.requires_grad
    close(result, torch.eye(3, dtype=torch.float64))


@pytest.mark.parametrize("ord", [0.5, 1.5, 3.0, -1.5])
def test_vector_norm_subgradient_at_zero_is_torchs(ord):
    for values in (np.zeros(5), np.array([0.0, 1.5, -2.0, 0.0, 0.3])):
        t_x = torch.tensor(values, requires_grad=True)
        l_x = lt.tensor(values, requires_grad=True)
        expected = torch.linalg.vector_norm(t_x, ord)
        got = lt.linalg.vector_norm(l_x, ord)
        close(got, expected)
        check_grads(expected, got, (t_x,), (l_x,))


def test_spectral_gradients_of_a_zero_matrix_and_empty_matrix_norms():
    t_a = torch.zeros(4, 4, dtype=torch.float64, requires_grad=True)
    l_a = lt.zeros(4, 4, dtype=lt.float64, requires_grad=True)
    check_grads(torch.linalg.matrix_norm(t_a, "nuc"), lt.linalg.matrix_norm(l_a, "nuc"),
                (t_a,), (l_a,))
    check_grads(torch.linalg.eigvalsh(t_a), lt.linalg.eigvalsh(l_a), (t_a,), (l_a,))
    for ord in (1, float("inf")):
        result = lt.linalg.matrix_norm(lt.zeros(0, 3, requires_grad=True), ord)
        assert result.item() == 0.0 and result.requires_grad


@pytest.mark.parametrize("call", [
    lambda m: m.linalg.solve_triangular(m.ones(3, 3, dtype=m.int64),
                                        m.ones(3, 2, dtype=m.int64), upper=True),
    lambda m: m.linalg.solve_triangular(m.ones(3, 3), m.ones(3, 2), upper=True, left=False),
    lambda m: m.linalg.lu_factor(m.ones(3, 3, dtype=m.int64)),
    lambda m: m.linalg.inv_ex(m.ones(3)),
    lambda m: m.linalg.cond(m.ones(3, 4), 1),
    lambda m: m.linalg.tensorsolve(m.ones(2, 3, 4), m.ones(2)),
    lambda m: m.cholesky_solve(m.ones(3, 2), m.ones(4, 4)),
    lambda m: m.linalg.householder_product(m.ones(3, 2), m.ones(3)),
    lambda m: m.lu_unpack(m.ones(3, 3), m.ones(3, dtype=m.int64)),
    lambda m: m.addmm(m.ones(2, 3), m.ones(2, 4), m.ones(4, 3, dtype=m.float64)),
    lambda m: m.addmv(m.ones(2), m.ones(2, 4, dtype=m.float64), m.ones(4)),
    lambda m: m.linalg.lstsq(m.ones(5, 3), m.ones(2, 5, 2)),
])
def test_errors_match_torch(call):
    with pytest.raises(Exception) as expected:
        call(torch)
    first_line = str(expected.value).splitlines()[0]
    with pytest.raises(type(expected.value), match="^" + re.escape(first_line)):
        call(lt)


def test_singular_systems_give_lapacks_inf_and_nan_like_torch():
    singular = [[1.0, 2.0], [2.0, 4.0]]
    triangular = [[0.0, 1.0], [0.0, 1.0]]
    cases = [
        lambda m: m.linalg.inv_ex(m.tensor(singular)).inverse,
        lambda m: m.linalg.solve_ex(m.tensor(singular), m.ones(2)).result,
        lambda m: m.linalg.solve_triangular(m.tensor(triangular), m.ones(2, 1), upper=True),
        lambda m: m.linalg.solve_triangular(m.tensor(triangular), m.ones(1, 2), upper=True,
                                            left=False),
        lambda m: m.triangular_solve(m.ones(2, 1), m.tensor(triangular), transpose=True)[0],
    ]
    for case in cases:
        np.testing.assert_array_equal(case(lt).numpy(), case(torch).numpy())
