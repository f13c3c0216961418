"""nn.utils.fusion, skip_init, stateless.functional_call and nn.utils.rnn
against PyTorch (weights copied across as numpy arrays)."""

import numpy as np
import pytest

import lazyt as lt
from tests.nn_utils._torch_pairs import assert_close, load_from_torch

RNG = np.random.default_rng(4)


def _bn_state(n):
    return {"weight": RNG.uniform(0.5, 1.5, n), "bias": RNG.standard_normal(n),
            "running_mean": RNG.standard_normal(n), "running_var": RNG.uniform(0.5, 2.0, n)}


def _set_bn(bn, state, lib):
    with lib.no_grad():
        for name, value in state.items():
            getattr(bn, name).copy_(lib.tensor(value.astype(np.float32)))


@pytest.mark.parametrize("transpose", [False, True])
def test_fuse_conv_bn_eval_matches_torch(transpose):
    torch = pytest.importorskip("torch")
    state = _bn_state(3)
    pairs = []
    for lib in (torch, lt):
        conv = (lib.nn.ConvTranspose2d(2, 3, 2) if transpose else lib.nn.Conv2d(2, 3, 2)).eval()
        bn = lib.nn.BatchNorm2d(3).eval()
        _set_bn(bn, state, lib)
        pairs.append((conv, bn))
    load_from_torch(pairs[1][0], pairs[0][0])
    fused_t = torch.nn.utils.fuse_conv_bn_eval(*pairs[0], transpose=transpose)
    fused_l = lt.nn.utils.fuse_conv_bn_eval(*pairs[1], transpose=transpose)
    assert type(fused_l) is type(pairs[1][0]) and fused_l is not pairs[1][0]
    assert_close(fused_l.weight, fused_t.weight, rtol=1e-5, atol=1e-6)
    assert_close(fused_l.bias, fused_t.bias, rtol=1e-5, atol=1e-6)
    x = RNG.standard_normal((1, 2, 4, 4)).astype(np.float32)
    conv, bn = pairs[1]
    assert_close(fused_l(lt.tensor(x)), bn(conv(lt.tensor(x))), rtol=1e-4, atol=1e-5)
    with pytest.raises(AssertionError, match="Fusion only for eval!"):
        lt.nn.utils.fuse_conv_bn_eval(conv.train(), bn)


def test_fuse_linear_bn_eval_matches_torch():
    torch = pytest.importorskip("torch")
    state = _bn_state(3)
    pairs = []
    for lib in (torch, lt):
        bn = lib.nn.BatchNorm1d(3).eval()
        _set_bn(bn, state, lib)
        pairs.append((lib.nn.Linear(4, 3).eval(), bn))
    load_from_torch(pairs[1][0], pairs[0][0])
    fused_t = torch.nn.utils.fuse_linear_bn_eval(*pairs[0])
    fused_l = lt.nn.utils.fuse_linear_bn_eval(*pairs[1])
    assert_close(fused_l.weight, fused_t.weight)
    assert_close(fused_l.bias, fused_t.bias)
    with pytest.raises(AssertionError, match="To fuse, linear.out_features == bn.num_features"):
        lt.nn.utils.fuse_linear_bn_eval(lt.nn.Linear(4, 2).eval(), pairs[1][1])


def test_skip_init_builds_the_module_and_checks_like_torch():
    m = lt.nn.utils.skip_init(lt.nn.Linear, 3, 2)
    assert type(m) is lt.nn.Linear and tuple(m.weight.shape) == (2, 3)

    class NoDevice(lt.nn.Module):
        def __init__(self):
            super().__init__()

    with pytest.raises(RuntimeError, match="Module must support a 'device' arg to skip "
                                           "initialization"):
        lt.nn.utils.skip_init(NoDevice)
    with pytest.raises(RuntimeError, match="Expected a Module; got"):
        lt.nn.utils.skip_init(int)


def test_functional_call_swaps_and_restores():
    m = lt.nn.Linear(2, 1)
    weight = m.weight
    ones = {"weight": lt.ones(1, 2), "bias": lt.zeros(1)}
    with pytest.warns(FutureWarning, match="functional_call` is deprecated"):
        out = lt.nn.utils.stateless.functional_call(m, ones, (lt.tensor([[1.0, 2.0]]),))
    assert out.tolist() == [[3.0]]
    assert m.weight is weight and isinstance(m.weight, lt.nn.Parameter)
    with pytest.raises(RuntimeError, match="Error\\(s\\) in reparametrizing for Linear:\n\t"
                                           "Unexpected key\\(s\\): 'nope'.\n\t"
                                           "Missing key\\(s\\): 'bias'."), \
            pytest.warns(FutureWarning):
        lt.nn.utils.stateless.functional_call(m, {"weight": lt.ones(1, 2), "nope": lt.ones(1)},
                                              lt.ones(1, 2), strict=True)

    tied = lt.nn.Sequential(lt.nn.Linear(2, 2, bias=False), lt.nn.Linear(2, 2, bias=False))
    tied[1].weight = tied[0].weight
    with pytest.warns(FutureWarning):
        out = lt.nn.utils.stateless.functional_call(tied, {"0.weight": lt.eye(2) * 2},
                                                    lt.ones(1, 2))
    assert out.tolist() == [[4.0, 4.0]]  # the tied 1.weight follows


def test_rnn_utils_match_torch():
    torch = pytest.importorskip("torch")
    seqs = [RNG.standard_normal((n, 2)).astype(np.float32) for n in (2, 4, 3)]
    results = {}
    for lib in (torch, lt):
        rnn = lib.nn.utils.rnn
        tensors = [lib.tensor(s) for s in seqs]
        padded = rnn.pad_sequence(tensors, batch_first=True)
        left = rnn.pad_sequence(tensors, padding_value=-1.0, padding_side="left")
        packed = rnn.pack_padded_sequence(padded, [2, 4, 3], batch_first=True,
                                        enforce_sorted=False)
        unpacked, lengths = rnn.pad_packed_sequence(packed, batch_first=True, total_length=5)
        packed_seq = rnn.pack_sequence(tensors, enforce_sorted=False)
        results[lib.__name__] = {
            "padded": padded.numpy(), "left": left.numpy(),
            "data": packed.data.numpy(), "batch_sizes": packed.batch_sizes.tolist(),
            "sorted": packed.sorted_indices.tolist(), "unsorted": packed.unsorted_indices.tolist(),
            "unpacked": unpacked.numpy(), "lengths": lengths.tolist(),
            "unpack_sequence": [t.numpy() for t in rnn.unpack_sequence(packed_seq)],
            "unpad_sequence": [t.numpy() for t in rnn.unpad_sequence(padded, lengths,
                                                                    batch_first=True)]}
        with pytest.raises(RuntimeError) as error:
            rnn.pack_sequence(tensors)
        results[lib.__name__]["error"] = str(error.value)
    mine, theirs = results["lazyt"], results["torch"]
    for key, value in theirs.items():
        if isinstance(value, list) and value and isinstance(value[0], np.ndarray):
            for a, b in zip(mine[key], value):
                np.testing.assert_array_equal(a, b)
        elif isinstance(value, np.ndarray):
            np.testing.assert_array_equal(mine[key], value)
        else:
            assert mine[key] == value, key


def test_conv_weight_memory_format_conversion():
    model = lt.nn.Sequential(lt.nn.Conv2d(2, 3, 2), lt.nn.ReLU(), lt.nn.Conv1d(2, 2, 1))
    weight = model[0].weight
    lt.nn.utils.convert_conv2d_weight_memory_format(model, lt.channels_last)
    assert model[0].weight is weight and isinstance(model[0].weight, lt.nn.Parameter)
    assert model[0].weight.is_contiguous(memory_format=lt.channels_last)
    assert model[2].weight.is_contiguous()


def test_nn_utils_names_match_torch():
    torch = pytest.importorskip("torch")
    theirs = {n for n in dir(torch.nn.utils) if not n.startswith("_")}
    assert sorted(theirs - set(dir(lt.nn.utils))) == []
    for module in ("parametrize", "parametrizations", "stateless", "fusion", "rnn",
                   "clip_grad", "convert_parameters", "spectral_norm", "weight_norm"):
        their_module = getattr(torch.nn.utils, module, None) or \
            __import__(f"torch.nn.utils.{module}", fromlist=["_"])
        names = [n for n in getattr(their_module, "__all__", [])]
        mine = __import__(f"lazyt.nn.utils.{module}", fromlist=["_"])
        assert [n for n in names if not hasattr(mine, n)] == [], module
