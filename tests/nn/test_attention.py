"""scaled_dot_product_attention, nn.MultiheadAttention and the Transformer
layers against PyTorch from identical weights: values, float64/float32
gradients, state_dict names and shapes, errors, deferred mode."""

import numpy as np
import pytest

import lazyt as lt
import lazyt.nn as nn
import lazyt.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional
RNG = np.random.default_rng(11)


def _pair(array, dtype, grad=True):
    return (lt.tensor(array, dtype=getattr(lt, dtype), requires_grad=grad),
            torch.tensor(array, dtype=getattr(torch, dtype), requires_grad=grad))


def _mask_pair(mask, dtype):
    if mask is None:
        return None, None
    ours, theirs = lt.tensor(mask), torch.tensor(mask)
    if mask.dtype.kind == "f":
        ours, theirs = ours.to(getattr(lt, dtype)), theirs.to(getattr(torch, dtype))
    return ours, theirs


def _backward_both(got, want):
    upstream = RNG.standard_normal(tuple(want.shape))
    (got * lt.tensor(upstream, dtype=got.dtype)).sum().backward()
    (want * torch.tensor(upstream, dtype=want.dtype)).sum().backward()


def _close(got, want, tol):
    np.testing.assert_allclose(np.asarray(got.detach().tolist()),
                               want.detach().numpy(), atol=tol, rtol=tol)


SDPA_CASES = [
    ([(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)], {}, None),
    ([(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)], dict(is_causal=True), None),
    ([(3, 6, 5), (3, 4, 5), (3, 4, 2)], dict(is_causal=True), None),
    ([(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)], {}, "bool"),
    ([(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)], dict(scale=0.3), "float"),
    ([(2, 4, 4, 5), (2, 2, 6, 5), (2, 2, 6, 7)], dict(enable_gqa=True), None),
    ([(4, 5), (6, 5), (6, 7)], {}, None),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shapes,kwargs,mask_kind", SDPA_CASES)
def test_sdpa_matches_torch(shapes, kwargs, mask_kind, dtype):
    tol = 2e-5 if dtype == "float32" else 1e-12
    tensors = [_pair(RNG.standard_normal(s), dtype) for s in shapes]
    target, source = shapes[0][-2], shapes[1][-2]
    mask = None
    if mask_kind == "bool":
        mask = RNG.random((target, source)) > 0.4
        mask[1] = False  # a row hidden entirely: zeros, as torch's safe softmax
    elif mask_kind == "float":
        mask = RNG.standard_normal((shapes[0][0], 1, target, source))
    ours_mask, theirs_mask = _mask_pair(mask, dtype)
    got = F.scaled_dot_product_attention(*(t[0] for t in tensors), attn_mask=ours_mask, **kwargs)
    want = TF.scaled_dot_product_attention(*(t[1] for t in tensors), attn_mask=theirs_mask,
                                           **kwargs)
    _backward_both(got, want)
    _close(got, want, tol)
    for ours, theirs in tensors:
        _close(ours.grad, theirs.grad, tol)


def test_sdpa_dropout_keeps_shape_and_zero_dropout_is_deterministic():
    q, k, v = (lt.randn(2, 3, 4) for _ in range(3))
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    assert tuple(out.shape) == (2, 3, 4) and bool(out.isfinite().all())


def test_sdpa_errors_match_torch():
    q, k, v = (np.zeros((1, 3, 4)) for _ in range(3))
    mask = np.ones((3, 3), dtype=bool)
    with pytest.raises(RuntimeError, match="Explicit attn_mask should not be set"):
        F.scaled_dot_product_attention(lt.tensor(q), lt.tensor(k), lt.tensor(v),
                                       attn_mask=lt.tensor(mask), is_causal=True)
    with pytest.raises(RuntimeError) as theirs:
        TF.scaled_dot_product_attention(torch.tensor(q, dtype=torch.float32), torch.tensor(k),
                                        torch.tensor(v))
    with pytest.raises(RuntimeError) as ours:
        F.scaled_dot_product_attention(lt.tensor(q, dtype=lt.float32), lt.tensor(k),
                                       lt.tensor(v))
    assert str(ours.value) == str(theirs.value)
    with pytest.raises(RuntimeError, match="do not fit"):
        F.scaled_dot_product_attention(lt.tensor(q), lt.tensor(np.zeros((1, 3, 5))),
                                       lt.tensor(v))


def test_sdpa_deferred_matches_eager():
    q, k, v = (lt.randn(2, 5, 4) for _ in range(3))
    eager = F.scaled_dot_product_attention(q, k, v, is_causal=True).numpy()
    with lt.deferred():
        lazy = F.scaled_dot_product_attention(q * 1.0, k, v, is_causal=True)
    np.testing.assert_allclose(lazy.numpy(), eager, atol=1e-6)


def _twin(make, dtype="float64"):
    """(lazyt module, torch module) with the lazyt module's weights."""
    ours, theirs = make(nn), make(torch.nn)
    ours_names = {k: tuple(v.shape) for k, v in ours.state_dict().items()}
    theirs_names = {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    assert ours_names == theirs_names
    assert list(ours_names) == list(theirs_names)
    theirs.to(getattr(torch, dtype))
    ours.to(dtype=getattr(lt, dtype))
    state = {k: torch.tensor(np.asarray(v.detach().tolist()), dtype=getattr(torch, dtype))
             for k, v in ours.state_dict().items()}
    theirs.load_state_dict(state)
    return ours, theirs


MHA_CASES = [
    (dict(embed_dim=8, num_heads=2), dict(), False),
    (dict(embed_dim=8, num_heads=2, batch_first=True), dict(need_weights=False), False),
    (dict(embed_dim=8, num_heads=4, kdim=5, vdim=3), dict(average_attn_weights=False), False),
    (dict(embed_dim=8, num_heads=2, bias=False, add_bias_kv=True, add_zero_attn=True), dict(),
     False),
    (dict(embed_dim=8, num_heads=2), dict(need_weights=False), True),
    (dict(embed_dim=8, num_heads=2, batch_first=True), dict(), True),
]


@pytest.mark.filterwarnings("ignore:Support for mismatched")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("ctor,call,masks", MHA_CASES)
def test_multihead_attention_matches_torch(ctor, call, masks, dtype):
    tol = 2e-5 if dtype == "float32" else 1e-12
    ours, theirs = _twin(lambda m: m.MultiheadAttention(**ctor), dtype)
    batch, target, source = 2, 3, 4
    layout = (lambda n: (batch, n)) if ctor.get("batch_first") else (lambda n: (n, batch))
    query = _pair(RNG.standard_normal(layout(target) + (ctor["embed_dim"],)), dtype)
    key = _pair(RNG.standard_normal(layout(source) + (ctor.get("kdim", ctor["embed_dim"]),)),
                dtype)
    value = _pair(RNG.standard_normal(layout(source) + (ctor.get("vdim", ctor["embed_dim"]),)),
                  dtype)
    extra_ours, extra_theirs = {}, {}
    if masks:
        padding = np.zeros((batch, source), dtype=bool)
        padding[0, -1] = True
        attn = RNG.standard_normal((target, source))
        extra_ours = dict(key_padding_mask=lt.tensor(padding),
                          attn_mask=lt.tensor(attn, dtype=getattr(lt, dtype)))
        extra_theirs = dict(key_padding_mask=torch.tensor(padding),
                            attn_mask=torch.tensor(attn, dtype=getattr(torch, dtype)))
    got, got_weights = ours(query[0], key[0], value[0], **call, **extra_ours)
    want, want_weights = theirs(query[1], key[1], value[1], **call, **extra_theirs)
    assert (got_weights is None) == (want_weights is None)
    if want_weights is not None:
        _close(got_weights, want_weights, tol)
    _backward_both(got, want)
    _close(got, want, tol)
    for a, b in (query, key, value):
        _close(a.grad, b.grad, tol)
    params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        _close(p.grad, params[name].grad, tol)


def test_multihead_attention_self_attention_unbatched_and_causal():
    ours, theirs = _twin(lambda m: m.MultiheadAttention(6, 3))
    x = _pair(RNG.standard_normal((5, 6)), "float64")
    mask = np.triu(np.full((5, 5), -np.inf), 1)
    got, _ = ours(x[0], x[0], x[0], attn_mask=lt.tensor(mask), is_causal=True,
                  need_weights=False)
    want, _ = theirs(x[1], x[1], x[1], attn_mask=torch.tensor(mask), is_causal=True,
                     need_weights=False)
    _close(got, want, 1e-12)
    with pytest.raises(RuntimeError, match="Need attn_mask"):
        ours(x[0], x[0], x[0], is_causal=True)


def test_multihead_attention_default_init_statistics():
    m = nn.MultiheadAttention(16, 4)
    assert float(m.in_proj_bias.abs().sum()) == 0 and float(m.out_proj.bias.abs().sum()) == 0
    bound = (6 / (16 + 48)) ** 0.5  # xavier_uniform_ over (3E, E)
    assert float(m.in_proj_weight.abs().max()) <= bound
    with pytest.raises(AssertionError, match="divisible"):
        nn.MultiheadAttention(10, 3)


ENCODER_CASES = [
    dict(norm_first=False, activation="relu", batch_first=False),
    dict(norm_first=True, activation="gelu", batch_first=True),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("options", ENCODER_CASES)
def test_transformer_encoder_matches_torch(options, dtype):
    tol = 5e-5 if dtype == "float32" else 1e-11

    def make(m):
        layer = m.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, **options)
        return m.TransformerEncoder(layer, 2, norm=m.LayerNorm(8), enable_nested_tensor=False)

    ours, theirs = _twin(make, dtype)
    shape = (2, 5, 8) if options["batch_first"] else (5, 2, 8)
    x = _pair(RNG.standard_normal(shape), dtype)
    padding = np.zeros((2, 5), dtype=bool)
    padding[1, 3:] = True
    got = ours(x[0], src_key_padding_mask=lt.tensor(padding))
    want = theirs(x[1], src_key_padding_mask=torch.tensor(padding))
    _backward_both(got, want)
    _close(got, want, tol)
    _close(x[0].grad, x[1].grad, tol)
    params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        _close(p.grad, params[name].grad, tol)


def test_encoder_layer_with_callable_activation_and_causal_mask():
    def make(m):
        return m.TransformerEncoderLayer(8, 4, dim_feedforward=12, dropout=0.0,
                                         activation=(lt if m is nn else torch).tanh)

    ours, theirs = _twin(make)
    x = _pair(RNG.standard_normal((4, 3, 8)), "float64")
    mask = nn.Transformer.generate_square_subsequent_mask(4, dtype=lt.float64)
    want_mask = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64)
    np.testing.assert_array_equal(mask.numpy(), want_mask.numpy())
    _close(ours(x[0], src_mask=mask, is_causal=True),
           theirs(x[1], src_mask=want_mask, is_causal=True), 1e-12)
    with pytest.raises(RuntimeError, match="activation should be relu/gelu"):
        nn.TransformerEncoderLayer(8, 2, activation="swish")


def test_transformer_matches_torch():
    def make(m):
        return m.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=2,
                             dim_feedforward=16, dropout=0.0, batch_first=True)

    ours, theirs = _twin(make)
    src, tgt = _pair(RNG.standard_normal((2, 5, 8)), "float64"), \
        _pair(RNG.standard_normal((2, 3, 8)), "float64")
    mask = np.triu(np.full((3, 3), -np.inf), 1)
    got = ours(src[0], tgt[0], tgt_mask=lt.tensor(mask))
    want = theirs(src[1], tgt[1], tgt_mask=torch.tensor(mask))
    _backward_both(got, want)
    _close(got, want, 1e-11)
    _close(src[0].grad, src[1].grad, 1e-11)
    with pytest.raises(RuntimeError, match="batch number"):
        ours(src[0], lt.randn(3, 3, 8, dtype=lt.float64))


def test_encoder_layer_trains_in_deferred_mode_like_eager():
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True)
    x = lt.randn(2, 4, 8)
    eager = layer(x).detach().numpy()
    with lt.deferred():
        lazy = layer(x)
        lazy.sum().backward()
    np.testing.assert_allclose(lazy.detach().numpy(), eager, atol=1e-5)
    assert layer.linear1.weight.grad is not None
