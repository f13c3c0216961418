"""lt.einsum against numpy's einsum: '...', diagonals, broadcasting, implicit
output, PyTorch's errors, and contraction by matmul (no broadcast product)."""

import numpy as np
import pytest

import lazyt as lt
from lazyt.runtime import stats

CASES = [
    ("ij,jk", [(2, 3), (3, 4)]),
    ("ii", [(3, 3)]),
    ("ii->i", [(3, 3)]),
    ("iij->j", [(2, 2, 4)]),
    ("aab,bcc->ac", [(2, 2, 3), (3, 4, 4)]),
    ("i...->...", [(2, 3, 4)]),
    ("...ij,...jk", [(5, 2, 3), (3, 4)]),
    ("...ii->...i", [(2, 3, 3)]),
    ("a...,...b->...ab", [(2, 3, 4), (4, 5)]),
    ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),
    ("ijk,ikl,ilm->ijm", [(2, 3, 4), (2, 4, 5), (2, 5, 6)]),
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ba,ab->", [(3, 2), (2, 3)]),
    ("ij,jk->ik", [(0, 3), (3, 4)]),
    ("i,->i", [(3,), ()]),
]


@pytest.mark.parametrize("equation, shapes", CASES)
def test_einsum_matches_numpy(equation, shapes):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    out = lt.einsum(equation, *[lt.tensor(a) for a in arrays])
    expected = np.einsum(equation, *arrays)
    assert tuple(out.shape) == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-4, atol=1e-5)


def test_size_one_subscripts_broadcast_as_in_pytorch():
    out = lt.einsum("ij,jk", lt.ones(2, 1), lt.ones(3, 2))
    assert out.tolist() == [[3.0, 3.0], [3.0, 3.0]]
    assert lt.einsum("i,i", lt.ones(1), lt.ones(3)).item() == 3.0


def test_a_permutation_or_diagonal_of_one_operand_is_a_view():
    x = lt.zeros(3, 3)
    lt.einsum("ii->i", x).add_(1)
    lt.einsum("ij->ji", x)[0, 1] = 5
    assert x.tolist() == [[1.0, 0.0, 0.0], [5.0, 1.0, 0.0], [0.0, 0.0, 1.0]]


def test_contractions_run_as_matmuls_and_have_gradients():
    q, k = lt.randn(2, 3, 64, 16, requires_grad=True), lt.randn(2, 3, 64, 16, requires_grad=True)
    before = stats.COUNTERS["extern_calls"]
    scores = lt.einsum("bhqd,bhkd->bhqk", q, k)
    assert stats.COUNTERS["extern_calls"] == before + 1
    scores.sum().backward()
    np.testing.assert_allclose(q.grad.numpy(), np.broadcast_to(
        k.detach().numpy().sum(2, keepdims=True), (2, 3, 64, 16)), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("equation, shapes, message", [
    ("ij,jk", [(2, 3, 1), (3, 4)], r"number of subscripts in the equation \(2\) does not match "
                                   r"the number of dimensions \(3\) for operand 0 and no ellipsis"),
    ("ii", [(3, 4)], "subscript i is repeated for operand 0 but the sizes don't match, 4 != 3"),
    ("ij->ii", [(2, 2)], "output subscript i appears more than once in the output"),
    ("ij->k", [(2, 2)], "output subscript k does not appear in the equation for any input"),
    ("ij,jk", [(2, 3), (4, 4)], "subscript j has size 4 for operand 1 which does not broadcast "
                                "with previously seen size 3"),
    ("ij", [(2, 3), (2, 3)], "more operands were provided than specified in the equation"),
    ("ij,jk", [(2, 3)], "fewer operands were provided than specified in the equation"),
    ("i.j", [(2, 3)], "found '.' for operand 0 that is not part of any ellipsis"),
    ("i1", [(2, 3)], r"invalid subscript given at index 1 in the equation string"),
])
def test_bad_equations_raise_pytorchs_errors(equation, shapes, message):
    with pytest.raises(RuntimeError, match=message):
        lt.einsum(equation, *[lt.randn(*s) for s in shapes])
