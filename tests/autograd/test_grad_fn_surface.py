"""The autograd surface users inspect matches PyTorch: grad_fn names of
reductions, pow, clamp and regions (eagerly and in deferred mode),
F.linear's next_functions layout, and the checks on `t.grad = ...`; and
lt.debug.kernels says when an lt.compile'd function is not traced yet; and the
values a node saved, read as `grad_fn._saved_<name>`."""

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
    # composites named as PyTorch's one op (regions): gradients unchanged
    "lerp": lambda m, x: m.lerp(x, x.flip(0), 0.3),
    "lerp_tensor": lambda m, x: m.lerp(x, x.flip(1), x.sigmoid()),
    "pad": lambda m, x: m.nn.functional.pad(x, (1, 2), value=0.5),
    "pad_reflect": lambda m, x: m.nn.functional.pad(x[None], (2, 1, 1, 2), mode="reflect"),
    "pad_replicate": lambda m, x: m.nn.functional.pad(x[None], (2, 1), mode="replicate"),
    "avg_pool2d": lambda m, x: m.nn.functional.avg_pool2d(x[None], 2, 1, 1),
    "adaptive_avg_pool2d": lambda m, x: m.nn.functional.adaptive_avg_pool2d(x[None], (2, 3)),
    "celu": lambda m, x: m.nn.functional.celu(x, 0.7),
    "selu": lambda m, x: m.nn.functional.selu(x),
    "hardswish": lambda m, x: m.nn.functional.hardswish(x * 3),
    "hardsigmoid": lambda m, x: m.nn.functional.hardsigmoid(x * 3),
    "softshrink": lambda m, x: m.nn.functional.softshrink(x, 0.3),
    "hardshrink": lambda m, x: m.nn.functional.hardshrink(x, 0.3),
    "threshold": lambda m, x: m.nn.functional.threshold(x, 0.1, 2.0),
    "glu": lambda m, x: m.nn.functional.glu(x),
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


# ------------------------------------------- grad_fn graphs, op by op vs torch
def _functional(m):
    return m.nn.functional


def _written_through_setitem(m, x):
    y = x * 1
    y[0] = 0
    return y


# Each case: (module, x, w) -> a result; x and w are 3x4 leaves requiring grad.
GRAPH_CASES = {
    "add": lambda m, x, w: x + w, "add_scalar": lambda m, x, w: x + 2,
    "radd": lambda m, x, w: 2 + x, "sub": lambda m, x, w: x - w, "rsub": lambda m, x, w: 1 - x,
    "mul": lambda m, x, w: x * w, "rmul": lambda m, x, w: 3 * x, "div": lambda m, x, w: x / w,
    "div_scalar": lambda m, x, w: x / 2, "pow2": lambda m, x, w: x ** 2,
    "pow_tensor": lambda m, x, w: x.abs() ** w, "rpow": lambda m, x, w: 2 ** x,
    "neg": lambda m, x, w: -x, "exp": lambda m, x, w: x.exp(), "log": lambda m, x, w: x.abs().log(),
    "sqrt": lambda m, x, w: x.abs().sqrt(), "rsqrt": lambda m, x, w: x.abs().rsqrt(),
    "sin": lambda m, x, w: x.sin(), "tanh": lambda m, x, w: x.tanh(),
    "sigmoid": lambda m, x, w: x.sigmoid(), "relu": lambda m, x, w: x.relu(),
    "abs": lambda m, x, w: x.abs(), "square": lambda m, x, w: x.square(),
    "clamp": lambda m, x, w: x.clamp(-1, 1), "clamp_min": lambda m, x, w: x.clamp(min=0),
    "clamp_": lambda m, x, w: (x * 1).clamp_(-1, 1), "maximum": lambda m, x, w: m.maximum(x, w),
    "minimum": lambda m, x, w: m.minimum(x, w), "where": lambda m, x, w: m.where(x > 0, x, w),
    "where_scalar": lambda m, x, w: m.where(x > 0, x, 0.0),
    "sum": lambda m, x, w: x.sum(), "sum_dim": lambda m, x, w: x.sum(1),
    "mean": lambda m, x, w: x.mean(), "mean_dim": lambda m, x, w: x.mean(0),
    "sum_all_dims": lambda m, x, w: x.sum((0, 1)), "prod_dim": lambda m, x, w: x.prod(1),
    "prod": lambda m, x, w: x.prod(), "amax": lambda m, x, w: x.amax(1),
    "max": lambda m, x, w: x.max(), "max_dim": lambda m, x, w: x.max(1)[0],
    "var": lambda m, x, w: x.var(), "std_dim": lambda m, x, w: x.std(1),
    "logsumexp": lambda m, x, w: x.logsumexp(1), "norm": lambda m, x, w: x.norm(),
    "cumsum": lambda m, x, w: x.cumsum(1),
    "t": lambda m, x, w: x.t(), "transpose": lambda m, x, w: x.transpose(0, 1),
    "permute": lambda m, x, w: x.permute(1, 0), "T": lambda m, x, w: x.T,
    "mT": lambda m, x, w: x.mT, "view": lambda m, x, w: x.view(12),
    "reshape": lambda m, x, w: x.reshape(2, 6), "flatten": lambda m, x, w: x.flatten(),
    "unsqueeze": lambda m, x, w: x.unsqueeze(0), "squeeze": lambda m, x, w: x[None].squeeze(),
    "squeeze_dim": lambda m, x, w: x[None].squeeze(0), "expand": lambda m, x, w: x[:1].expand(3, 4),
    "select": lambda m, x, w: x[0], "slice": lambda m, x, w: x[1:],
    "slice2": lambda m, x, w: x[:, 1:3], "narrow": lambda m, x, w: x.narrow(1, 0, 2),
    "index": lambda m, x, w: x[m.tensor([0, 2])], "mask": lambda m, x, w: x[x > 0],
    "gather": lambda m, x, w: x.gather(1, m.tensor([[0], [1], [2]])),
    "index_select": lambda m, x, w: x.index_select(0, m.tensor([0, 2])),
    "cat": lambda m, x, w: m.cat([x, w]), "stack": lambda m, x, w: m.stack([x, w]),
    "split": lambda m, x, w: x.split(2, 1)[1], "split_sizes": lambda m, x, w: x.split([1, 3], 1)[1],
    "chunk": lambda m, x, w: x.chunk(2)[0], "unbind": lambda m, x, w: x.unbind(0)[1],
    "contiguous": lambda m, x, w: x.t().contiguous(), "clone": lambda m, x, w: x.clone(),
    "to64": lambda m, x, w: x.double(), "flip": lambda m, x, w: x.flip(0),
    "roll": lambda m, x, w: x.roll(1, 0), "repeat": lambda m, x, w: x.repeat(2, 1),
    "tril": lambda m, x, w: x.tril(), "triu": lambda m, x, w: x.triu(),
    "trace": lambda m, x, w: x[:, :3].trace(),
    "masked_fill": lambda m, x, w: x.masked_fill(x > 0, 0.0),
    "sort": lambda m, x, w: x.sort(1)[0], "topk": lambda m, x, w: x.topk(2)[0],
    "matmul": lambda m, x, w: x @ w.t(), "mm": lambda m, x, w: x.mm(w.t()),
    "mv": lambda m, x, w: x.mv(w[0]),
    "bmm": lambda m, x, w: x.unsqueeze(0).bmm(w.t().unsqueeze(0)),
    "linear": lambda m, x, w: _functional(m).linear(x, w),
    "linear_bias": lambda m, x, w: _functional(m).linear(x, w, w[:, 0]),
    "relu_f": lambda m, x, w: _functional(m).relu(x), "gelu": lambda m, x, w: _functional(m).gelu(x),
    "silu": lambda m, x, w: _functional(m).silu(x), "elu": lambda m, x, w: _functional(m).elu(x),
    "leaky_relu": lambda m, x, w: _functional(m).leaky_relu(x),
    "softplus": lambda m, x, w: _functional(m).softplus(x),
    "hardtanh": lambda m, x, w: _functional(m).hardtanh(x),
    "softmax": lambda m, x, w: _functional(m).softmax(x, 1),
    "log_softmax": lambda m, x, w: _functional(m).log_softmax(x, 1),
    "mse": lambda m, x, w: _functional(m).mse_loss(x, w),
    "l1": lambda m, x, w: _functional(m).l1_loss(x, w),
    "smooth_l1": lambda m, x, w: _functional(m).smooth_l1_loss(x, w),
    "nll": lambda m, x, w: _functional(m).nll_loss(x, m.tensor([0, 1, 3])),
    "bce": lambda m, x, w: _functional(m).binary_cross_entropy(x.sigmoid(), w.sigmoid()),
    "bce_logits": lambda m, x, w: _functional(m).binary_cross_entropy_with_logits(
        x, w.sigmoid()),
    "layer_norm": lambda m, x, w: _functional(m).layer_norm(x, (4,)),
    "layer_norm_affine": lambda m, x, w: _functional(m).layer_norm(x, (4,), w[0], w[1]),
    "layer_norm_bias": lambda m, x, w: _functional(m).layer_norm(x, (4,), None, w[1]),
    "batch_norm": lambda m, x, w: _functional(m).batch_norm(x, None, None, training=True),
    "batch_norm_eval": lambda m, x, w: _functional(m).batch_norm(
        x, m.zeros(4), m.ones(4), w[0], w[1], training=False),
    "embedding": lambda m, x, w: _functional(m).embedding(m.tensor([0, 2]), x),
    "max_pool2d": lambda m, x, w: _functional(m).max_pool2d(x.view(1, 1, 3, 4), 2),
    "setitem": lambda m, x, w: _written_through_setitem(m, x),
    "sub_": lambda m, x, w: (x * 1).sub_(w), "mul_": lambda m, x, w: (x * 1).mul_(2),
    "detached_operand": lambda m, x, w: x.detach() * w,
    "cosine_similarity": lambda m, x, w: _functional(m).cosine_similarity(x, w),
}

def _image(x):
    return x.view(1, 1, 3, 4)


# Composites that PyTorch computes as one op (regions.differentiated_as and
# the activation regions give them PyTorch's node), views and reshapes named
# as PyTorch's, and lazyt's own Functions named as PyTorch's generated nodes.
GRAPH_CASES.update({
    "cross_entropy": lambda m, x, w: _functional(m).cross_entropy(x, m.tensor([0, 1, 3])),
    "cross_entropy_weighted": lambda m, x, w: _functional(m).cross_entropy(
        x, m.tensor([0, 1, 3]), m.ones(4), reduction="sum"),
    "avg_pool2d": lambda m, x, w: _functional(m).avg_pool2d(_image(x), 2),
    "avg_pool2d_padded": lambda m, x, w: _functional(m).avg_pool2d(_image(x), 2, 1, 1),
    "adaptive_avg_pool2d": lambda m, x, w: _functional(m).adaptive_avg_pool2d(_image(x), (1, 2)),
    "adaptive_avg_pool2d_uneven": lambda m, x, w: _functional(m).adaptive_avg_pool2d(
        _image(x), (2, 3)),
    "lerp": lambda m, x, w: m.lerp(x, w, 0.5), "lerp_tensor": lambda m, x, w: m.lerp(x, w, w),
    "lerp_method": lambda m, x, w: x.lerp(w, 0.75),
    "pad": lambda m, x, w: _functional(m).pad(x, (1, 1)),
    "pad_crop": lambda m, x, w: _functional(m).pad(x, (-1, 2, 1, 0), value=2.0),
    "pad_reflect": lambda m, x, w: _functional(m).pad(_image(x), (1, 1, 1, 1), mode="reflect"),
    "pad_reflect1d": lambda m, x, w: _functional(m).pad(x.view(1, 3, 4), (1, 2), mode="reflect"),
    "pad_replicate": lambda m, x, w: _functional(m).pad(_image(x), (1, 0, 2, 1),
                                                        mode="replicate"),
    "celu": lambda m, x, w: _functional(m).celu(x, 0.7), "selu": lambda m, x, w: _functional(m).selu(x),
    "relu6": lambda m, x, w: _functional(m).relu6(x),
    "hardswish": lambda m, x, w: _functional(m).hardswish(x),
    "hardsigmoid": lambda m, x, w: _functional(m).hardsigmoid(x),
    "softshrink": lambda m, x, w: _functional(m).softshrink(x, 0.3),
    "hardshrink": lambda m, x, w: _functional(m).hardshrink(x),
    "threshold": lambda m, x, w: _functional(m).threshold(x, 0.1, 2.0),
    "glu": lambda m, x, w: _functional(m).glu(x), "mish": lambda m, x, w: _functional(m).mish(x),
    "logsigmoid": lambda m, x, w: _functional(m).logsigmoid(x),
    "view_adding_a_dim": lambda m, x, w: x.view(1, 3, 4), "view_as": lambda m, x, w: x.view_as(w),
    "reshape_adding_a_dim": lambda m, x, w: x.reshape(3, 1, 4),
    "reshape_alias": lambda m, x, w: x[:, :2].reshape(3, 2, 1),
    "reshape_copy": lambda m, x, w: x.t().reshape(12),
    "repeat_interleave": lambda m, x, w: x.repeat_interleave(2, 0),
    "det": lambda m, x, w: m.linalg.det(x[:, :3]), "inv": lambda m, x, w: m.linalg.inv(x[:, :3]),
    "slogdet": lambda m, x, w: m.linalg.slogdet(x[:, :3])[1],
    "cholesky": lambda m, x, w: m.linalg.cholesky(x[:, :3] @ x[:, :3].t() + m.eye(3)),
})
# Still differing from PyTorch (fixing one fails its test below; then move
# it to GRAPH_CASES). Found by comparing a sweep of nn.functional and tensor
# ops with torch; a sample of each kind of difference:
GRAPH_DIFFERENCES = {
    "cross_entropy_probs": (lambda m, x, w: _functional(m).cross_entropy(x, w.softmax(1)),
                            "one region node; PyTorch's is a composite of sum, neg, div"),
    "avg_pool1d": (lambda m, x, w: _functional(m).avg_pool1d(x.view(1, 3, 4), 2),
                   "a mean; PyTorch's is AvgPool2D between an unsqueeze and a squeeze"),
    "pad_circular": (lambda m, x, w: _functional(m).pad(_image(x), (1, 1, 1, 1), mode="circular"),
                     "index_select; PyTorch's is a chain of CopySlices"),
    "huber": (lambda m, x, w: _functional(m).huber_loss(x, w),
              "composite: MeanBackward0 over a where, PyTorch's HuberLossBackward0"),
    "interpolate": (lambda m, x, w: _functional(m).interpolate(_image(x), scale_factor=2),
                    "a region with None edges for its index tables"),
    "dist": (lambda m, x, w: m.dist(x, w), "a norm of the difference, PyTorch's DistBackward0"),
    "addcmul": (lambda m, x, w: m.addcmul(x, x, w), "composite: AddBackward0 over a product"),
    "sub_alpha": (lambda m, x, w: m.sub(x, w, alpha=2), "alpha as a MulBackward0 on the edge"),
    "fmod_scalar": (lambda m, x, w: x.fmod(1.5), "a None edge for the number"),
    "qr": (lambda m, x, w: m.linalg.qr(x)[0], "a None edge for the mode argument"),
    "median": (lambda m, x, w: x.median(), "a select of a sort, PyTorch's MedianBackward0"),
    "lerp_": (lambda m, x, w: (x * 1).lerp_(w, 0.3), "CopyBackwards over LerpBackward0: an "
                                                      "in-place op written as copy_"),
}


def _graph(node, depth: int = 2):
    """(name(), type name, the next nodes' graphs) down to depth: what a user sees."""
    if node is None:
        return None
    name = node.name().split("::")[-1]
    if depth == 0:
        return (name, type(node).__name__)
    return (name, type(node).__name__,
            tuple(_graph(child, depth - 1) for child, _ in node.next_functions))


@pytest.mark.parametrize("mode", ["eager", "deferred"])
@pytest.mark.parametrize("case", list(GRAPH_CASES))
def test_grad_fn_graph_matches_torch(case, mode):
    """grad_fn.name(), type(grad_fn).__name__ and next_functions (None,
    AccumulateGrad or which node), two levels deep, on the first, recorded and
    replayed call."""
    data = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)

    def leaves(module):
        return [module.tensor(d, requires_grad=True) for d in data]

    expected = _graph(GRAPH_CASES[case](torch, *leaves(torch)).grad_fn)
    previous = lt.get_mode()
    lt.set_mode(mode)
    try:
        for _ in range(3):
            assert _graph(GRAPH_CASES[case](lt, *leaves(lt)).grad_fn) == expected
    finally:
        lt.set_mode(previous)


@pytest.mark.parametrize("case", list(GRAPH_DIFFERENCES))
def test_grad_fn_graph_differences_left(case):
    fn, reason = GRAPH_DIFFERENCES[case]
    data = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    expected = _graph(fn(torch, *[torch.tensor(d, requires_grad=True) for d in data]).grad_fn)
    got = _graph(fn(lt, *[lt.tensor(d, requires_grad=True) for d in data]).grad_fn)
    if got == expected:
        pytest.fail(f"{case} now matches PyTorch: move it to GRAPH_CASES ({reason})")


def test_grad_fn_types_are_one_class_per_name():
    x = lt.ones(3, requires_grad=True)
    a, b = (x * 2).grad_fn, (x * 3).grad_fn
    assert type(a) is type(b) and type(a).__name__ == "MulBackward0"
    assert repr(a).startswith("<MulBackward0 object at 0x")
    assert type(x.sum().grad_fn).__name__ == "SumBackward0"
    assert type(x.sum(0).grad_fn).__name__ == "SumBackward1"


def test_pow_by_a_number_has_one_edge_as_in_torch():
    x = lt.ones(3, requires_grad=True)
    edges = (x ** 2).grad_fn.next_functions
    assert len(edges) == 1 and type(edges[0][0]).__name__ == "AccumulateGrad"
    ((x ** 2).sum() + (x ** 3).sum()).backward()
    assert x.grad.tolist() == [5.0, 5.0, 5.0]


SAVED = [  # (name, op, attributes, one freed by backward, or None)
    ("log_softmax", lambda x: x.log_softmax(1), ("_saved_dim", "_saved_result"), "_saved_result"),
    ("softmax", lambda x: x.softmax(0), ("_saved_dim", "_saved_result"), "_saved_result"),
    ("mul", lambda x: x * (x + 1), ("_saved_self", "_saved_other"), "_saved_self"),
    ("mul_number", lambda x: x * 2.5, ("_saved_other",), None),
    ("exp", lambda x: x.exp(), ("_saved_result",), "_saved_result"),
]


@pytest.mark.parametrize("name,fn,attributes,freed", SAVED, ids=[c[0] for c in SAVED])
def test_saved_values_read_as_in_torch(name, fn, attributes, freed):
    # grad_fn._saved_<name>: what the node keeps for backward; freed by it.
    values = np.random.default_rng(6).standard_normal((3, 4))
    found = {}
    for lib in (lt, torch):
        x = lib.tensor(values, requires_grad=True)
        out = fn(x)
        found[lib] = [getattr(out.grad_fn, a) for a in attributes]
        out.sum().backward()
        if freed is not None:
            with pytest.raises(RuntimeError, match="backward through the graph a second time"):
                getattr(out.grad_fn, freed)
        with pytest.raises(AttributeError):
            _ = out.grad_fn._saved_no_such_value
    for a, mine, theirs in zip(attributes, found[lt], found[torch]):
        if isinstance(theirs, torch.Tensor):
            assert mine.dtype.name == str(theirs.dtype).split(".")[-1], a
            np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(),
                                       rtol=1e-6, err_msg=a)
        else:
            assert mine == theirs, a
