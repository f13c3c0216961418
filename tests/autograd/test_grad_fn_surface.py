"""The autograd surface users inspect matches PyTorch: grad_fn names of
reductions, pow, clamp and regions (eagerly and in deferred mode),
F.linear's next_functions layout, and the checks on `t.grad = ...`; and
lt.debug.kernels says when an lt.compile'd function is not traced yet."""

import numpy as np
import pytest

import lazyt as lt

torch = pytest.importorskip("torch")

CALLS = {
    "mean": lambda m, x: x.mean(), "mean_dim": lambda m, x: x.mean(0),
    "max": lambda m, x: x.max(), "min": lambda m, x: x.min(),
    "std": lambda m, x: x.std(), "var_dim": lambda m, x: x.var(1, keepdim=True),
    "logsumexp": lambda m, x: x.logsumexp(1), "pow2": lambda m, x: x ** 2,
    "sqrt_pow": lambda m, x: x.abs() ** 0.5, "clamp": lambda m, x: x.clamp(-0.5, 0.5),
    "clamp_min": lambda m, x: x.clamp(min=0), "clamp_max": lambda m, x: x.clamp_max(0),
    "linear": lambda m, x: m.nn.functional.linear(x, m.ones(5, 4, dtype=x.dtype),
                                                        m.ones(5, dtype=x.dtype)),
    "mse": lambda m, x: m.nn.functional.mse_loss(x, m.zeros(3, 4)),
    "cross_entropy": lambda m, x: m.nn.functional.cross_entropy(x, m.tensor([0, 1, 3])),
    "softmax": lambda m, x: m.nn.functional.softmax(x, 1),
}


@pytest.mark.parametrize("mode", ["eager", "deferred"])
@pytest.mark.parametrize("name", list(CALLS))
def test_grad_fn_name_and_gradient_match_torch(name, mode):
    data = np.random.default_rng(0).standard_normal((3, 4))
    theirs = torch.tensor(data, requires_grad=True)
    expected = CALLS[name](torch, theirs)
    expected.sum().backward()
    previous = lt.get_mode()
    lt.set_mode(mode)
    try:
        for _ in range(3):  # first call, recorded call, replay
            ours = lt.tensor(data, requires_grad=True)
            out = CALLS[name](lt, ours)
            assert out.grad_fn.name() == expected.grad_fn.name()
            out.sum().backward()
            np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-5,
                                       atol=1e-6)
    finally:
        lt.set_mode(previous)


def _edge_names(node):
    return [None if n is None else n.name().split("::")[-1] for n, _ in node.next_functions]


@pytest.mark.parametrize("bias", [True, False])
def test_linear_next_functions_laid_out_as_torch(bias):
    for module in (torch, lt):
        module.manual_seed(0)
    theirs = torch.nn.Linear(4, 3, bias=bias)(torch.ones(2, 4)).grad_fn
    for _ in range(3):
        ours = lt.nn.Linear(4, 3, bias=bias)(lt.ones(2, 4)).grad_fn
        assert ours.name() == theirs.name()
        assert _edge_names(ours) == _edge_names(theirs)
        transpose = ours.next_functions[-1][0]
        assert _edge_names(transpose) == ["AccumulateGrad"]


@pytest.mark.parametrize("value, error, message", [
    (0.0, TypeError, "assigned grad expected to be a Tensor or None but got grad of type float"),
    ([1.0], TypeError, "got grad of type list"),
    (lt.ones(2), RuntimeError, "attempting to assign a gradient of size '[2]' to a tensor of "
                               "size '[3]'"),
    (lt.ones(3, dtype=lt.float64), RuntimeError, "attempting to assign a gradient with dtype "
                                                 "'double' to a tensor with grad_dtype 'Float'"),
])
def test_grad_assignment_is_checked_as_torch(value, error, message):
    a = lt.ones(3, requires_grad=True)
    with pytest.raises(error) as raised:
        a.grad = value
    assert message in str(raised.value)
    a.grad = lt.full((3,), 2.0)
    a.grad = None
    assert a.grad is None


def test_debug_kernels_says_when_not_traced_yet():
    @lt.compile
    def step(x):
        return (x * 2 + 1).relu()

    x = lt.ones(8)
    for _ in range(2):
        with pytest.warns(UserWarning, match="not traced yet.*second call"):
            assert lt.debug.kernels(step) == []
        step(x)
    step(x)
    assert lt.debug.kernels(step)
