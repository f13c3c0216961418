"""nn.Module, Parameter, containers, nn.init and nn.utils: PyTorch's behaviour."""

import copy
import math
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import lazyt as lt
import lazyt.nn as nn
import lazyt.nn.functional as F
from tests.nn._helpers import torch


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)
        self.bn = nn.BatchNorm2d(2)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(8, 3))
        self.register_buffer("scale", lt.ones(3))
        self.register_buffer("cache", lt.zeros(2), persistent=False)
        self.tied = self.head[1]  # the same module twice: counted once

    def forward(self, x):
        return self.head(F.relu(self.bn(self.conv(x)))) * self.scale


def test_registration_and_walks():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["conv.weight", "conv.bias", "bn.weight", "bn.bias", "head.1.weight",
                     "head.1.bias"]
    assert [n for n, _ in net.named_buffers()] == [
        "scale", "cache", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked"]
    assert [n for n, _ in net.named_children()] == ["conv", "bn", "head", "tied"]
    assert [n for n, _ in net.named_modules()] == ["", "conv", "bn", "head", "head.0",
                                                   "head.1"]
    assert len(list(net.parameters())) == 6
    assert net.get_submodule("head.1") is net.tied
    assert net.get_parameter("head.1.bias") is net.head[1].bias
    assert isinstance(net.conv.weight, nn.Parameter) and isinstance(net.conv.weight, lt.Tensor)
    assert "scale" in dir(net)
    with pytest.raises(AttributeError, match="has no attribute 'missing'"):
        _ = net.missing


def test_state_dict_keys_and_non_persistent_buffers():
    net = Net()
    keys = list(net.state_dict())
    assert keys == ["scale", "conv.weight", "conv.bias", "bn.weight", "bn.bias",
                    "bn.running_mean", "bn.running_var", "bn.num_batches_tracked",
                    "head.1.weight", "head.1.bias", "tied.weight", "tied.bias"]
    assert not any(v.requires_grad for v in net.state_dict().values())
    assert net.state_dict(keep_vars=True)["conv.weight"] is net.conv.weight


def test_state_dict_matches_torch_names():
    if torch is None:
        pytest.skip("torch not installed")

    def build(nn):
        return nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(),
                             nn.ModuleList([nn.Linear(2, 2)]),
                             nn.ModuleDict({"x": nn.LayerNorm(2)}))

    assert list(build(nn).state_dict()) == list(build(torch.nn).state_dict())


def test_load_state_dict_copies_values_in_place():
    a, b = Net(), Net()
    weight = b.conv.weight
    result = b.load_state_dict(a.state_dict())
    assert repr(result) == "<All keys matched successfully>"
    assert b.conv.weight is weight
    assert b.conv.weight.tolist() == a.conv.weight.tolist()
    a.conv.weight.data.fill_(3.0)
    assert b.conv.weight.tolist() != a.conv.weight.tolist()


def test_load_state_dict_strict_errors_like_torch():
    net = nn.Linear(2, 3)
    state = net.state_dict()
    bad = dict(state)
    del bad["bias"]
    bad["extra"] = lt.ones(1)
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(bad)
    message = str(info.value)
    assert message.startswith("Error(s) in loading state_dict for Linear:")
    assert 'Missing key(s) in state_dict: "bias".' in message
    assert 'Unexpected key(s) in state_dict: "extra".' in message
    result = net.load_state_dict(bad, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["extra"]
    missing = Net().load_state_dict({}, strict=False).missing_keys
    assert "bn.num_batches_tracked" not in missing and "tied.bias" in missing
    with pytest.raises(RuntimeError, match=r"size mismatch for weight: copying a param with "
                                           r"shape lazyt.Size\(\[4, 2\]\)"):
        net.load_state_dict({"weight": lt.ones(4, 2), "bias": lt.ones(3)})


def test_load_state_dict_assign_replaces_parameters():
    net = nn.Linear(2, 3)
    new = {"weight": lt.ones(3, 2), "bias": lt.zeros(3)}
    net.load_state_dict(new, assign=True)
    assert isinstance(net.weight, nn.Parameter) and net.weight.requires_grad
    assert net.weight.tolist() == [[1.0, 1.0]] * 3


def test_train_eval_apply_and_requires_grad():
    net = Net()
    net.eval()
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Net" and "Linear" in seen
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_forward_backward_and_zero_grad():
    net = Net()
    out = net(lt.randn(4, 1, 4, 4))
    assert out.shape == (4, 3)
    out.sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(float(p.grad.abs().sum()) == 0.0 for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_to_casts_floating_parameters_and_buffers_only():
    net = Net()
    weight = net.conv.weight
    net.to(lt.float64)
    assert net.conv.weight is weight and weight.dtype == lt.float64
    assert net.bn.running_mean.dtype == lt.float64
    assert net.bn.num_batches_tracked.dtype == lt.int64
    assert net(lt.randn(2, 1, 4, 4, dtype=lt.float64)).dtype == lt.float64
    net.float()
    assert net.conv.weight.dtype == lt.float32
    with pytest.raises(TypeError, match="floating point"):
        net.to(lt.int32)


def test_hooks_run_and_can_be_removed():
    lin = nn.Linear(2, 2)
    calls = []
    pre = lin.register_forward_pre_hook(lambda m, args: calls.append("pre"))
    post = lin.register_forward_hook(lambda m, args, out: out * 0)
    assert lin(lt.ones(1, 2)).tolist() == [[0.0, 0.0]] and calls == ["pre"]
    pre.remove()
    post.remove()
    assert lin(lt.ones(1, 2)).abs().sum().item() > 0 and calls == ["pre"]


def test_setattr_rules():
    m = nn.Module()
    m.p = nn.Parameter(lt.ones(2))
    with pytest.raises(TypeError, match="cannot assign"):
        m.p = lt.ones(2)
    m.p = None
    assert m.p is None and "p" in m._parameters
    m.child = nn.ReLU()
    del m.child
    assert "child" not in m._modules
    m.buf = nn.Buffer(lt.ones(1))
    assert "buf" in m._buffers and not isinstance(m.buf, nn.Buffer)
    with pytest.raises(TypeError, match="cannot assign 'Tensor' object to parameter"):
        m.register_parameter("q", nn.Parameter(lt.ones(1)) * 2)
    with pytest.raises(AttributeError, match="before Module.__init__"):
        class Broken(nn.Module):
            def __init__(self):
                self.lin = nn.Linear(1, 1)
        Broken()


def test_parameter_semantics():
    data = lt.ones(2, 3)
    p = nn.Parameter(data)
    assert p.requires_grad and p.is_leaf
    assert p.data_ptr() == data.data_ptr()  # shares storage
    assert type(p * 2) is lt.Tensor
    assert repr(nn.Parameter(lt.tensor([1.0]))) == \
        "Parameter containing:\ntensor([1.], requires_grad=True)"
    frozen = nn.Parameter(lt.ones(1), requires_grad=False)
    assert not frozen.requires_grad
    clone = copy.deepcopy(p)
    assert isinstance(clone, nn.Parameter) and clone.data_ptr() != p.data_ptr()


def test_deepcopy_and_pickle_of_a_model():
    net = Net()
    twin = copy.deepcopy(net)
    assert twin.tied is twin.head[1]
    assert twin.conv.weight.tolist() == net.conv.weight.tolist()
    twin.conv.weight.data.fill_(0.0)
    assert net.conv.weight.abs().sum().item() > 0
    restored = pickle.loads(pickle.dumps(net))
    x = lt.randn(2, 1, 4, 4)
    net.eval()
    restored.eval()
    assert np.allclose(restored(x).tolist(), net(x).tolist())


def test_sequential_container_operations():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear)
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2
    seq.append(nn.Sigmoid())
    seq.insert(0, nn.Identity())
    assert [type(m).__name__ for m in seq] == ["Identity", "Linear", "ReLU", "Linear",
                                               "Sigmoid"]
    del seq[0]
    assert list(seq._modules) == ["0", "1", "2", "3"]
    assert seq.pop(-1).__class__ is nn.Sigmoid
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.Tanh())]))
    assert named.fc is named[0]
    assert (seq + named)[-1] is named.act
    assert seq(lt.ones(4, 2)).shape == (4, 1)


def test_module_list_dict_and_parameter_containers():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    layers.append(nn.ReLU())
    layers.extend([nn.Tanh()])
    layers.insert(1, nn.Identity())
    assert len(layers) == 6 and isinstance(layers[1], nn.Identity)
    assert len(list(layers.parameters())) == 6
    assert isinstance(layers[1:3], nn.ModuleList)
    d = nn.ModuleDict({"a": nn.ReLU()})
    d["b"] = nn.Linear(1, 1)
    assert list(d.keys()) == ["a", "b"] and "b" in d and len(list(d.parameters())) == 2
    assert d.pop("a").__class__ is nn.ReLU
    plist = nn.ParameterList([lt.ones(2), nn.Parameter(lt.zeros(3))])
    assert all(isinstance(p, nn.Parameter) for p in plist) and len(plist) == 2
    assert len(list(plist.parameters())) == 2
    pdict = nn.ParameterDict({"w": lt.ones(2)})
    assert isinstance(pdict["w"], nn.Parameter)
    assert [n for n, _ in pdict.named_parameters()] == ["w"]
    if torch is not None:
        assert repr(plist).replace("lazyt", "torch") == \
            repr(torch.nn.ParameterList([torch.ones(2), torch.zeros(3)]))


# ------------------------------------------------------------------ init
def test_calculate_gain_and_fans_match_torch():
    gains = [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
             ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)]
    expected = [1.0, 1.0, 1.0, 5 / 3, math.sqrt(2), math.sqrt(2 / (1 + 0.01 ** 2)),
                math.sqrt(2 / 1.04), 0.75]
    for (name, param), want in zip(gains, expected):
        assert nn.init.calculate_gain(name, param) == pytest.approx(want)
    w = lt.empty(8, 3, 5, 5)
    assert nn.init._calculate_fan_in_and_fan_out(w) == (75, 200)
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        nn.init.calculate_gain("swish")


@pytest.mark.parametrize("name,std_of_fan", [
    ("xavier_uniform_", lambda fi, fo: math.sqrt(2 / (fi + fo))),
    ("xavier_normal_", lambda fi, fo: math.sqrt(2 / (fi + fo))),
    ("kaiming_uniform_", lambda fi, fo: math.sqrt(2 / (1 + 0.0)) / math.sqrt(fi)),
    ("kaiming_normal_", lambda fi, fo: math.sqrt(2) / math.sqrt(fi)),
])
def test_init_distributions_have_pytorchs_spread(name, std_of_fan):
    lt.manual_seed(0)
    w = lt.empty(200, 300)
    getattr(nn.init, name)(w)
    values = np.array(w.tolist())
    assert values.std() == pytest.approx(std_of_fan(300, 200), rel=0.03)
    assert abs(values.mean()) < 0.01


def test_other_initialisers():
    lt.manual_seed(1)
    w = lt.empty(100, 100)
    nn.init.trunc_normal_(w, std=1.0, a=-0.5, b=0.5)
    values = np.array(w.tolist())
    assert values.min() >= -0.5 and values.max() <= 0.5 and values.std() > 0.2
    nn.init.trunc_normal_(w, mean=0.0, std=1.0, a=2.0, b=3.0)
    values = np.array(w.tolist())
    assert values.min() >= 2.0 and values.max() <= 3.0
    q = nn.init.orthogonal_(lt.empty(4, 6), gain=2.0)
    qq = np.array(q.tolist())
    assert np.allclose(qq @ qq.T, 4 * np.eye(4), atol=1e-5)
    d = nn.init.dirac_(lt.empty(4, 2, 3, 3), groups=2)
    assert d.sum().item() == 4 and d[1, 1, 1, 1].item() == 1.0
    assert nn.init.eye_(lt.empty(2, 3)).tolist() == [[1, 0, 0], [0, 1, 0]]
    assert nn.init.constant_(lt.empty(2), 0.5).tolist() == [0.5, 0.5]
    s = nn.init.sparse_(lt.empty(10, 4), 0.3)
    assert all(int((s[:, j] == 0).sum()) >= 3 for j in range(4))
    p = nn.Parameter(lt.empty(3))
    nn.init.uniform_(p, 2.0, 3.0)  # in place on a leaf that requires grad
    assert p.requires_grad and 2.0 <= p.min().item() and p.max().item() <= 3.0


def test_init_with_generator_is_reproducible():
    a = nn.init.normal_(lt.empty(5), generator=lt.Generator().manual_seed(3)).tolist()
    b = nn.init.normal_(lt.empty(5), generator=lt.Generator().manual_seed(3)).tolist()
    assert a == b
    lt.manual_seed(42)
    first = nn.Linear(3, 3).weight.tolist()
    lt.manual_seed(42)
    assert nn.Linear(3, 3).weight.tolist() == first


# ----------------------------------------------------------------- utils
def test_clip_grad_norm_and_value_match_torch():
    grads = [np.random.default_rng(i).standard_normal(s) for i, s in enumerate([(3, 4), (5,)])]
    results = []
    for m in (lt, torch) if torch is not None else (lt,):
        params = [m.nn.Parameter(m.zeros(*g.shape)) for g in grads]
        for p, g in zip(params, grads):
            p.grad = m.tensor(g, dtype=m.float32)
        total = m.nn.utils.clip_grad_norm_(params, 1.0)
        results.append((float(total), [np.array(p.grad.tolist()) for p in params]))
    want_total = math.sqrt(sum((g ** 2).sum() for g in grads))
    assert results[0][0] == pytest.approx(want_total, rel=1e-5)
    clipped = np.sqrt(sum((g ** 2).sum() for g in results[0][1]))
    assert clipped == pytest.approx(1.0, rel=1e-4)
    if len(results) == 2:
        for a, b in zip(results[0][1], results[1][1]):
            np.testing.assert_allclose(a, b, rtol=1e-5)
    p = nn.Parameter(lt.zeros(3))
    p.grad = lt.tensor([-5.0, 0.1, 5.0])
    nn.utils.clip_grad_value_([p], 1.0)
    assert p.grad.tolist() == pytest.approx([-1.0, 0.1, 1.0])


def test_parameters_to_vector_round_trip():
    net = nn.Linear(3, 2)
    vec = nn.utils.parameters_to_vector(net.parameters())
    assert vec.shape == (8,)
    nn.utils.vector_to_parameters(lt.arange(8.0), net.parameters())
    assert net.bias.tolist() == [6.0, 7.0]
