"""nn.RNN / LSTM / GRU, their cells, the functional ops (torch.lstm_cell,
torch.gru, ...) and nn.utils.rnn against PyTorch from identical weights:
outputs, final states, gradients of every parameter, input and initial
state; parameter names, shapes and init; errors; unbatched input; packed
sequences; deferred mode and @lt.compile."""

import numpy as np
import pytest

import lazyt as lt
import lazyt.nn as nn
from lazyt.nn.utils import rnn as rnn_utils

torch = pytest.importorskip("torch")
TORCH_RNN_UTILS = torch.nn.utils.rnn
RNG = np.random.default_rng(5)


def _np(t):
    return np.asarray(t.detach().tolist(), dtype=np.float64)


def _twins(cls_name, *args, dtype="float64", **kwargs):
    """(lazyt module, torch module) with the torch module's weights."""
    theirs = getattr(torch.nn, cls_name)(*args, **kwargs).to(getattr(torch, dtype))
    ours = getattr(nn, cls_name)(*args, **kwargs).to(getattr(lt, dtype))
    ours.load_state_dict({k: lt.tensor(v.detach().numpy()) for k, v in
                          theirs.state_dict().items()})
    return ours, theirs


def _pair(array, dtype="float64", grad=True):
    return (lt.tensor(array, dtype=getattr(lt, dtype), requires_grad=grad),
            torch.tensor(array, dtype=getattr(torch, dtype), requires_grad=grad))


def _flatten(result):
    """The tensors of a module's result ((out, h) or (out, (h, c)))."""
    out = []
    stack = [result]
    while stack:
        item = stack.pop(0)
        if isinstance(item, (tuple, list)):
            stack[:0] = list(item)
        else:
            out.append(item)
    return out


def _backward_both(ours, theirs):
    """sum(output * upstream) over every output, with the same upstream."""
    loss_ours, loss_theirs = 0, 0
    for got, want in zip(ours, theirs):
        upstream = RNG.standard_normal(tuple(want.shape))
        loss_ours = loss_ours + (got * lt.tensor(upstream, dtype=got.dtype)).sum()
        loss_theirs = loss_theirs + (want * torch.tensor(upstream, dtype=want.dtype)).sum()
    loss_ours.backward()
    loss_theirs.backward()


def _close(got, want, tol):
    assert tuple(got.shape) == tuple(want.shape), (tuple(got.shape), tuple(want.shape))
    np.testing.assert_allclose(_np(got), want.detach().double().numpy(), atol=tol, rtol=tol)


def _compare_module(ours, theirs, inputs, tol):
    """Run both modules on (input, hx) pairs; compare results and gradients."""
    got = _flatten(ours(*[pair[0] for pair in inputs]))
    want = _flatten(theirs(*[pair[1] for pair in inputs]))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        _close(g, w, tol)
    _backward_both(got, want)
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert p.grad is not None, name
        np.testing.assert_allclose(_np(p.grad), q.grad.double().numpy(), atol=tol, rtol=tol,
                                   err_msg=name)
    for pairs in inputs:
        for g, w in zip(_flatten(pairs[0]), _flatten(pairs[1])):
            if w.requires_grad:
                _close(g.grad, w.grad, tol)


MODULE_CASES = [
    ("RNN", {}),
    ("RNN", dict(nonlinearity="relu", bias=False)),
    ("RNN", dict(num_layers=2, bidirectional=True, batch_first=True)),
    ("LSTM", {}),
    ("LSTM", dict(num_layers=2, bias=False, batch_first=True)),
    ("LSTM", dict(bidirectional=True, proj_size=2)),
    ("LSTM", dict(num_layers=2, bidirectional=True, proj_size=3, dropout=0.3)),
    ("GRU", {}),
    ("GRU", dict(num_layers=2, bidirectional=True, bias=False)),
    ("GRU", dict(batch_first=True, dropout=0.5, num_layers=2)),
]


def _hidden_pairs(cls_name, kwargs, batch, hidden=4, batched=True):
    layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    lead = (layers, batch) if batched else (layers,)
    h_size = kwargs.get("proj_size") or hidden
    h0 = _pair(RNG.standard_normal((*lead, h_size)))
    if cls_name != "LSTM":
        return h0
    c0 = _pair(RNG.standard_normal((*lead, hidden)))
    return (h0[0], c0[0]), (h0[1], c0[1])


@pytest.mark.parametrize("with_hidden", [False, True])
@pytest.mark.parametrize("cls_name,kwargs", MODULE_CASES)
def test_module_matches_torch(cls_name, kwargs, with_hidden):
    ours, theirs = _twins(cls_name, 3, 4, **kwargs)
    ours.eval(), theirs.eval()  # dropout between layers is random: compare without it
    seq, batch = 4, 2
    shape = (batch, seq, 3) if kwargs.get("batch_first") else (seq, batch, 3)
    inputs = [_pair(RNG.standard_normal(shape))]
    if with_hidden:
        inputs.append(_hidden_pairs(cls_name, kwargs, batch))
    _compare_module(ours, theirs, inputs, 1e-10)


@pytest.mark.parametrize("cls_name,kwargs", [("RNN", {}), ("LSTM", dict(proj_size=2)),
                                             ("GRU", dict(bidirectional=True))])
def test_module_float32_matches_torch(cls_name, kwargs):
    ours, theirs = _twins(cls_name, 3, 4, dtype="float32", **kwargs)
    _compare_module(ours, theirs, [_pair(RNG.standard_normal((5, 2, 3)), "float32")], 2e-5)


@pytest.mark.parametrize("cls_name,kwargs", [("RNN", dict(num_layers=2)),
                                             ("LSTM", dict(bidirectional=True, proj_size=2)),
                                             ("GRU", dict(batch_first=True))])
@pytest.mark.parametrize("with_hidden", [False, True])
def test_unbatched_input_matches_torch(cls_name, kwargs, with_hidden):
    ours, theirs = _twins(cls_name, 3, 4, **kwargs)
    inputs = [_pair(RNG.standard_normal((4, 3)))]
    if with_hidden:
        inputs.append(_hidden_pairs(cls_name, kwargs, None, batched=False))
    _compare_module(ours, theirs, inputs, 1e-10)


@pytest.mark.parametrize("cls_name,kwargs", [
    ("RNN", dict(num_layers=3, bidirectional=True, nonlinearity="relu", bias=False)),
    ("LSTM", dict(num_layers=2, bidirectional=True, proj_size=2)),
    ("GRU", dict(num_layers=2, batch_first=True))])
def test_parameters_names_shapes_and_init_match_torch(cls_name, kwargs):
    ours = getattr(nn, cls_name)(5, 6, **kwargs)
    theirs = getattr(torch.nn, cls_name)(5, 6, **kwargs)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    assert ours._flat_weights_names == theirs._flat_weights_names
    assert [[tuple(p.shape) for p in group] for group in ours.all_weights] == \
        [[tuple(p.shape) for p in group] for group in theirs.all_weights]
    assert all(ours.all_weights[0][0] is ours.weight_ih_l0 for _ in [0])
    assert repr(ours) == repr(theirs)
    bound = 1 / np.sqrt(6)
    for p in ours.parameters():
        values = _np(p)
        assert values.min() >= -bound and values.max() <= bound and values.std() > bound / 4


@pytest.mark.parametrize("cls_name", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("case", ["batched", "batched_hidden", "unbatched",
                                  "unbatched_hidden"])
def test_cell_matches_torch(cls_name, bias, case):
    kwargs = dict(bias=bias)
    if cls_name == "RNNCell" and not bias:
        kwargs["nonlinearity"] = "relu"
    ours, theirs = _twins(cls_name, 3, 4, **kwargs)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    assert repr(ours) == repr(theirs)
    lead = (2,) if case.startswith("batched") else ()
    inputs = [_pair(RNG.standard_normal((*lead, 3)))]
    if case.endswith("hidden"):
        h = _pair(RNG.standard_normal((*lead, 4)))
        if cls_name == "LSTMCell":
            c = _pair(RNG.standard_normal((*lead, 4)))
            h = ((h[0], c[0]), (h[1], c[1]))
        inputs.append(h)
    _compare_module(ours, theirs, inputs, 1e-10)


def _params_pair(cls_name, kwargs):
    ours, theirs = _twins(cls_name, 3, 4, **kwargs)
    return ([p for p in ours._flat_weights], [p for p in theirs._flat_weights])


@pytest.mark.parametrize("name", ["rnn_tanh_cell", "rnn_relu_cell", "gru_cell", "lstm_cell"])
def test_functional_cells_match_torch(name):
    chunks = {"gru_cell": 3, "lstm_cell": 4}.get(name, 1)
    x = _pair(RNG.standard_normal((2, 3)))
    h = _pair(RNG.standard_normal((2, 4)))
    hx = (h, _pair(RNG.standard_normal((2, 4)))) if name == "lstm_cell" else h
    weights = [_pair(RNG.standard_normal(s)) for s in
               [(4 * chunks, 3), (4 * chunks, 4), (4 * chunks,), (4 * chunks,)]]

    def call(lib, side):
        state = tuple(p[side] for p in hx) if name == "lstm_cell" else hx[side]
        return getattr(lib, name)(x[side], state, *(w[side] for w in weights))

    got, want = _flatten(call(lt, 0)), _flatten(call(torch, 1))
    for g, w in zip(got, want):
        _close(g, w, 1e-10)
    _backward_both(got, want)
    for pair in [x, *(hx if name == "lstm_cell" else [hx]), *weights]:
        _close(pair[0].grad, pair[1].grad, 1e-10)


@pytest.mark.parametrize("name,cls_name,kwargs", [
    ("rnn_tanh", "RNN", dict(num_layers=2, bidirectional=True)),
    ("rnn_relu", "RNN", dict(nonlinearity="relu")),
    ("lstm", "LSTM", dict(proj_size=2, batch_first=True)),
    ("gru", "GRU", dict(bias=False, num_layers=2))])
def test_functional_sequence_ops_match_torch(name, cls_name, kwargs):
    ours_params, theirs_params = _params_pair(cls_name, kwargs)
    layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    x = RNG.standard_normal((2, 5, 3) if kwargs.get("batch_first") else (5, 2, 3))
    h0 = RNG.standard_normal((layers, 2, kwargs.get("proj_size") or 4))
    c0 = RNG.standard_normal((layers, 2, 4))
    flags = (kwargs.get("bias", True), kwargs.get("num_layers", 1), 0.0, False,
             kwargs.get("bidirectional", False), kwargs.get("batch_first", False))
    results = []
    for lib, params in ((lt, ours_params), (torch, theirs_params)):
        hx = lib.tensor(h0)
        if name == "lstm":
            hx = (hx, lib.tensor(c0))
        results.append(getattr(lib, name)(lib.tensor(x), hx, params, *flags))
    for g, w in zip(*results):
        _close(g, w, 1e-10)


# ------------------------------------------------------------------ errors
def _error(fn):
    try:
        fn()
    except Exception as error:  # noqa: BLE001 - the class and message are what is compared
        return type(error), str(error)
    return None


def _same_error(make_call):
    got, want = _error(lambda: make_call(lt)), _error(lambda: make_call(torch))
    assert want is not None
    assert got is not None and got[0] is want[0], (got, want)
    return got, want


@pytest.mark.parametrize("make_call", [
    lambda m: m.nn.RNN(10, 4)(m.zeros(3, 2, 5)),
    lambda m: m.nn.LSTM(3, 4)(m.zeros(3, 2, 3), (m.zeros(1, 3, 4), m.zeros(1, 2, 4))),
    lambda m: m.nn.LSTM(3, 4)(m.zeros(3, 2, 3), (m.zeros(1, 2, 4), m.zeros(1, 2, 5))),
    lambda m: m.nn.LSTM(3, 4)(m.zeros(3, 2, 3), (m.zeros(2, 4), m.zeros(2, 4))),
    lambda m: m.nn.GRU(3, 4, num_layers=2)(m.zeros(3, 2, 3), m.zeros(1, 2, 4)),
    lambda m: m.nn.GRU(3, 4)(m.zeros(3, 3), m.zeros(1, 1, 4)),
    lambda m: m.nn.RNN(3, 4)(m.zeros(3, 2, 3, 1)),
    lambda m: m.nn.LSTM(3, 4)(m.zeros(3, 2, 3, dtype=m.float64)),
    lambda m: m.nn.GRU(3, 4)(m.zeros(0, 2, 3)),
    lambda m: m.nn.GRUCell(3, 4)(m.zeros(2, 5)),
    lambda m: m.nn.LSTMCell(3, 4)(m.zeros(2, 3), (m.zeros(3, 4), m.zeros(3, 4))),
    lambda m: m.nn.RNNCell(3, 4)(m.zeros(2, 3), m.zeros(2, 5)),
    lambda m: m.nn.RNNCell(3, 4)(m.zeros(2, 3, 1)),
    lambda m: m.nn.LSTMCell(3, 4)(m.zeros(2, 3), (m.zeros(2, 4, 1), m.zeros(2, 4))),
    lambda m: m.nn.RNN(3, 4, nonlinearity="gelu"),
    lambda m: m.nn.GRU(3, 4, proj_size=2),
    lambda m: m.nn.LSTM(3, 4, proj_size=4),
    lambda m: m.nn.LSTM(3, 4, dropout=1.5),
    lambda m: m.nn.LSTM(3, 0),
    lambda m: m.nn.LSTM(3.0, 4),
])
def test_errors_match_torch(make_call):
    got, want = _same_error(make_call)
    assert got[1] == want[1].replace("torch.", "lazyt.")


def test_dropout_between_layers_is_random_in_training_only():
    lt.manual_seed(0)
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.LSTM(3, 4, dropout=0.5)
    model = nn.GRU(3, 4, num_layers=2, dropout=0.5)
    x = lt.randn(6, 2, 3)
    first, second = model(x)[0], model(x)[0]
    assert not np.allclose(_np(first), _np(second))
    model.eval()
    np.testing.assert_array_equal(_np(model(x)[0]), _np(model(x)[0]))


# ---------------------------------------------------------- nn.utils.rnn
def test_pad_sequence_matches_torch():
    arrays = [RNG.standard_normal((n, 2)) for n in (3, 1, 4)]
    for kwargs in ({}, dict(batch_first=True, padding_value=-1.5),
                   dict(padding_side="left", padding_value=7.0)):
        ours = [lt.tensor(a, requires_grad=True) for a in arrays]
        theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
        got = rnn_utils.pad_sequence(ours, **kwargs)
        want = TORCH_RNN_UTILS.pad_sequence(theirs, **kwargs)
        _close(got, want, 0)
        _backward_both([got], [want])
        for g, w in zip(ours, theirs):
            _close(g.grad, w.grad, 1e-12)
    assert _same_error(lambda m: m.nn.utils.rnn.pad_sequence([]))
    assert _same_error(lambda m: m.nn.utils.rnn.pad_sequence([m.zeros(2)], padding_side="up"))
    lengths = lt.tensor([3, 1, 4])
    padded = rnn_utils.pad_sequence([lt.tensor(a) for a in arrays])
    for got, want in zip(rnn_utils.unpad_sequence(padded, lengths), arrays):
        np.testing.assert_array_equal(_np(got), want)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths", [[4, 4, 2, 1], [2, 4, 1, 4]])
def test_pack_and_pad_packed_match_torch(lengths, batch_first):
    enforce_sorted = lengths == sorted(lengths, reverse=True)
    x = RNG.standard_normal((4, 4, 3))
    ours, theirs = _pair(x)
    got = rnn_utils.pack_padded_sequence(ours, lengths, batch_first, enforce_sorted)
    want = TORCH_RNN_UTILS.pack_padded_sequence(theirs, lengths, batch_first, enforce_sorted)
    assert isinstance(got, rnn_utils.PackedSequence) and isinstance(got, tuple)
    for g, w in zip(got, want):
        assert (g is None) == (w is None)
        if g is not None:
            np.testing.assert_array_equal(_np(g), w.detach().double().numpy())
    assert got.batch_sizes.dtype == lt.int64
    padded, out_lengths = rnn_utils.pad_packed_sequence(got, batch_first, -1.0, total_length=6)
    want_padded, want_lengths = TORCH_RNN_UTILS.pad_packed_sequence(want, batch_first, -1.0,
                                                                    total_length=6)
    _close(padded, want_padded, 0)
    assert out_lengths.tolist() == want_lengths.tolist()
    _backward_both([padded], [want_padded])
    _close(ours.grad, theirs.grad, 1e-12)
    unpacked = rnn_utils.unpack_sequence(rnn_utils.pack_sequence(
        [lt.tensor(x[:n, i]) for i, n in enumerate(lengths)], enforce_sorted=enforce_sorted))
    for i, (seq, n) in enumerate(zip(unpacked, lengths)):
        np.testing.assert_array_equal(_np(seq), x[:n, i])


@pytest.mark.parametrize("make_call", [
    lambda m: m.nn.utils.rnn.pack_padded_sequence(m.zeros(4, 3, 2), [4, 2, 3]),
    lambda m: m.nn.utils.rnn.pack_padded_sequence(m.zeros(4, 3, 2), [4, 2]),
    lambda m: m.nn.utils.rnn.pack_padded_sequence(m.zeros(4, 3, 2), [4, 2, 0]),
    lambda m: m.nn.utils.rnn.pad_packed_sequence(
        m.nn.utils.rnn.pack_padded_sequence(m.zeros(4, 3, 2), [4, 2, 1]), total_length=2),
])
def test_packing_errors_match_torch(make_call):
    got, want = _same_error(make_call)
    assert got[1] == want[1]


@pytest.mark.parametrize("cls_name,kwargs", [
    ("RNN", dict(num_layers=2)),
    ("LSTM", dict(bidirectional=True, proj_size=2)),
    ("GRU", dict(bidirectional=True, num_layers=2)),
])
@pytest.mark.parametrize("with_hidden", [False, True])
def test_packed_sequence_through_module_matches_torch(cls_name, kwargs, with_hidden):
    ours_module, theirs_module = _twins(cls_name, 3, 4, **kwargs)
    lengths = [3, 5, 1]
    x_ours, x_theirs = _pair(RNG.standard_normal((5, 3, 3)))
    packed_ours = rnn_utils.pack_padded_sequence(x_ours, lengths, enforce_sorted=False)
    packed_theirs = TORCH_RNN_UTILS.pack_padded_sequence(x_theirs, lengths,
                                                         enforce_sorted=False)
    hidden = _hidden_pairs(cls_name, kwargs, 3) if with_hidden else None
    args_ours = [packed_ours] + ([hidden[0]] if with_hidden else [])
    args_theirs = [packed_theirs] + ([hidden[1]] if with_hidden else [])
    out_ours, state_ours = ours_module(*args_ours)
    out_theirs, state_theirs = theirs_module(*args_theirs)
    assert isinstance(out_ours, rnn_utils.PackedSequence)
    padded_ours = rnn_utils.pad_packed_sequence(out_ours)[0]
    padded_theirs = TORCH_RNN_UTILS.pad_packed_sequence(out_theirs)[0]
    got = [padded_ours, *_flatten(state_ours)]
    want = [padded_theirs, *_flatten(state_theirs)]
    for g, w in zip(got, want):
        _close(g, w, 1e-10)
    _backward_both(got, want)
    _close(x_ours.grad, x_theirs.grad, 1e-10)
    for (name, p), (_, q) in zip(ours_module.named_parameters(),
                                 theirs_module.named_parameters()):
        np.testing.assert_allclose(_np(p.grad), q.grad.numpy(), atol=1e-10, err_msg=name)
    if with_hidden:
        for g, w in zip(_flatten(hidden[0]), _flatten(hidden[1])):
            _close(g.grad, w.grad, 1e-10)


# ------------------------------------------------------- deferred and compiled
def _train_steps(cls_name, kwargs, mode, steps=3):
    """Losses and final weights of a few SGD steps on a fixed batch."""
    lt.manual_seed(0)
    model = getattr(nn, cls_name)(3, 4, **kwargs)
    width = kwargs.get("proj_size") or 4
    head = nn.Linear(width * (2 if kwargs.get("bidirectional") else 1), 1)
    params = list(model.parameters()) + list(head.parameters())
    opt = lt.optim.SGD(params, lr=0.1)
    data = np.random.default_rng(3)
    x = lt.tensor(data.standard_normal((3, 2, 3)), dtype=lt.float32)
    y = lt.tensor(data.standard_normal((3, 2, 1)), dtype=lt.float32)

    def step(x, y):
        opt.zero_grad()
        out = model(x)[0]
        loss = ((head(out) - y) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    if mode == "compiled":
        step = lt.compile(step)
    losses = []
    for _ in range(steps):
        if mode == "deferred":
            with lt.deferred():
                losses.append(step(x, y).item())
        else:
            losses.append(step(x, y).item())
    return losses, [_np(p) for p in params]


@pytest.mark.parametrize("cls_name,kwargs", [("LSTM", dict(proj_size=2)),
                                             ("GRU", dict(bidirectional=True))])
def test_deferred_and_compiled_training_match_eager(cls_name, kwargs):
    eager_losses, eager_params = _train_steps(cls_name, kwargs, "eager")
    assert eager_losses[-1] < eager_losses[0]
    for mode in ("deferred", "compiled"):
        losses, params = _train_steps(cls_name, kwargs, mode)
        np.testing.assert_allclose(losses, eager_losses, rtol=1e-5, atol=1e-6)
        for got, want in zip(params, eager_params):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
