"""torch.* names of nn ops with ATen signatures (lazyt/aten_nn.py), against
lt.nn.functional and, where installed, PyTorch."""

import numpy as np
import pytest

import lazyt as lt

F = lt.nn.functional
RNG = np.random.default_rng(0)
X = RNG.standard_normal((2, 3, 8, 8)).astype(np.float32)
W = RNG.standard_normal((4, 3, 3, 3)).astype(np.float32)
V = RNG.standard_normal((2, 3, 8)).astype(np.float32)

CASES = [
    ("conv2d", lambda m, x, w, v: m.conv2d(x, w, None, 1, 1)),
    ("conv_transpose2d", lambda m, x, w, v: m.conv_transpose2d(x, w.transpose(0, 1), None, 2, 1, 1)),
    ("layer_norm", lambda m, x, w, v: m.layer_norm(x, [8, 8])),
    ("group_norm", lambda m, x, w, v: m.group_norm(x, 3)),
    ("batch_norm", lambda m, x, w, v: m.batch_norm(x, None, None, m.zeros(3), m.ones(3), True,
                                                   0.1, 1e-5, True)),
    ("embedding", lambda m, x, w, v: m.embedding(m.arange(10.0).reshape(5, 2), m.tensor([0, 4]))),
    ("max_pool1d", lambda m, x, w, v: m.max_pool1d(v, 2, ())),
    ("avg_pool1d", lambda m, x, w, v: m.avg_pool1d(v, 3, 1, 1)),
    ("adaptive_max_pool1d", lambda m, x, w, v: m.adaptive_max_pool1d(v, 3)[0]),
    ("cosine_similarity", lambda m, x, w, v: m.cosine_similarity(v, v + 1)),
    ("kl_div sum", lambda m, x, w, v: m.kl_div(x.log_softmax(1), x.softmax(1), 2)),
    ("bce logits none", lambda m, x, w, v: m.binary_cross_entropy_with_logits(
        v, v.sigmoid(), None, None, 0)),
    ("hinge sum", lambda m, x, w, v: m.hinge_embedding_loss(v, v.sign(), 1.0, 2)),
    ("threshold", lambda m, x, w, v: m.threshold(x, 0.1, 20.0)),
    ("celu", lambda m, x, w, v: m.celu(x, 0.5)),
]


@pytest.mark.parametrize("name, call", CASES, ids=[c[0] for c in CASES])
def test_aten_signatures_match_pytorch(name, call):
    got = call(lt, lt.tensor(X), lt.tensor(W), lt.tensor(V))
    torch = pytest.importorskip("torch")
    expected = call(torch, torch.tensor(X), torch.tensor(W), torch.tensor(V))
    assert tuple(got.shape) == tuple(expected.shape)
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-4, atol=1e-5)


def test_flags_are_positional_and_indices_weights_swap():
    x = lt.tensor(X)
    assert lt.dropout(x, 0.5, False).tolist() == x.tolist()
    table = lt.arange(10.0).reshape(5, 2)
    assert lt.embedding(table, lt.tensor([4])).tolist() == F.embedding(lt.tensor([4]),
                                                                        table).tolist()
    lt.manual_seed(0)
    out, mask = lt.native_dropout(lt.ones(1000), 0.25, True)
    assert mask.dtype is lt.bool and abs(mask.float().mean().item() - 0.75) < 0.05
    assert np.allclose(sorted(set(out.unique().tolist())), [0.0, 1.0 / 0.75])
    y = lt.tensor([-1.0, 2.0])
    lt.selu_(y)
    assert y.tolist() == F.selu(lt.tensor([-1.0, 2.0])).tolist()
