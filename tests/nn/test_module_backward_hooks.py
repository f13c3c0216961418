"""Module.register_full_backward_hook / _pre_hook, with PyTorch's arguments
and replacement rules."""

import pytest

import lazyt as lt

nn = lt.nn


def _linear():
    m = nn.Linear(3, 2)
    with lt.no_grad():
        m.weight.copy_(lt.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
        m.bias.zero_()
    return m


def test_full_backward_hook_sees_grad_input_and_grad_output():
    m, seen = _linear(), []
    handle = m.register_full_backward_hook(lambda mod, gi, go: seen.append(
        ([None if g is None else g.tolist() for g in gi], [g.tolist() for g in go])))
    x = lt.ones(1, 3, requires_grad=True)
    m(x).sum().backward()
    assert seen == [([[[5.0, 7.0, 9.0]]], [[[1.0, 1.0]]])]
    seen.clear()
    with pytest.warns(UserWarning, match="no inputs require gradients"):
        m(lt.ones(1, 3)).sum().backward()
    assert seen == [([None], [[[1.0, 1.0]]])]
    seen.clear()
    handle.remove()
    x.grad = None
    m(x).sum().backward()
    assert len(seen) == 0 and x.grad.tolist() == [[5.0, 7.0, 9.0]]


def test_hooks_may_replace_gradients():
    m, x = _linear(), lt.ones(1, 3, requires_grad=True)
    handle = m.register_full_backward_hook(lambda mod, gi, go: (gi[0] * 10,))
    m(x).sum().backward()
    assert x.grad.tolist() == [[50.0, 70.0, 90.0]]
    handle.remove()
    m.register_full_backward_pre_hook(lambda mod, go: (go[0] * 2,))
    x.grad = m.weight.grad = None
    m(x).sum().backward()
    assert x.grad.tolist() == [[10.0, 14.0, 18.0]]
    assert m.weight.grad.tolist() == [[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]]


def test_load_state_dict_result_prints_as_pytorchs():
    m = _linear()
    assert repr(m.load_state_dict(m.state_dict())) == "<All keys matched successfully>"
    assert repr(m.load_state_dict({"weight": m.weight}, strict=False)) == \
        "_IncompatibleKeys(missing_keys=['bias'], unexpected_keys=[])"
