"""@lt.compile: traced once per signature, replayed after; equal to eager."""

from __future__ import annotations

import numpy as np
import pytest

import lazyt as lt
import lazyt.nn as nn
import lazyt.nn.functional as F


def _mlp_and_data(seed=0):
    lt.manual_seed(seed)
    model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4))
    x = lt.randn(24, 16)
    y = lt.randint(0, 4, (24,))
    return model, x, y


def _train_step(model, opt):
    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


@pytest.mark.parametrize("make_opt", [
    lambda p: lt.optim.SGD(p, lr=0.1, momentum=0.9),
    lambda p: lt.optim.Adam(p, lr=0.01),
], ids=["sgd_momentum", "adam"])
def test_compiled_training_step_equals_eager(make_opt):
    eager_model, x, y = _mlp_and_data()
    compiled_model, _, _ = _mlp_and_data()
    eager_step = _train_step(eager_model, make_opt(eager_model.parameters()))
    compiled_step = lt.compile(_train_step(compiled_model, make_opt(compiled_model.parameters())))
    for _ in range(6):
        le, lc = eager_step(x, y), compiled_step(x, y)
        assert abs(float(le) - float(lc)) < 1e-5
    for pe, pc in zip(eager_model.parameters(), compiled_model.parameters()):
        np.testing.assert_allclose(pe.detach().numpy(), pc.detach().numpy(), atol=1e-5)


def test_replays_compile_nothing_and_build_no_graph():
    model, x, y = _mlp_and_data()
    step = lt.compile(_train_step(model, lt.optim.SGD(model.parameters(), lr=0.1)))
    step(x, y)
    step(x, y)
    lt.debug.reset_stats()
    step(x, y)
    stats = lt.debug.stats()
    assert stats["kernels_compiled"] == 0 and stats["kernel_launches"] > 0
    # only the copies of the 2 inputs into the program and the fresh returned loss
    assert stats["realizations"] <= 3


def test_new_shape_retraces_and_says_why(capsys):
    f = lt.compile(lambda a: (a * 2).sum(), verbose=True)
    assert float(f(lt.ones(3))) == 6.0
    assert float(f(lt.ones(5))) == 10.0
    assert "input 0 shape (3,) -> (5,)" in capsys.readouterr().err
    assert float(f(lt.ones(3) * 2)) == 12.0  # the first program is still cached
    assert len(f.programs) == 2


def test_recompile_limit_raises_with_reasons():
    f = lt.compile(lambda a: a + 1, recompile_limit=2)
    f(lt.ones(1))
    f(lt.ones(2))
    with pytest.raises(RuntimeError, match="recompile_limit=2.*input 0 shape"):
        f(lt.ones(3))


@pytest.mark.parametrize("read", [lambda t: t.item(), lambda t: bool(t > 0),
                                  lambda t: t.tolist(), lambda t: t.numpy()])
def test_reading_values_while_tracing_raises_pointing_at_the_user(read):
    def f(a):
        s = a.sum()
        read(s)
        return s

    with pytest.raises(RuntimeError, match="cannot read a tensor's value.*test_compile.py"):
        lt.compile(f)(lt.ones(3))


def test_outputs_are_fresh_tensors_each_call():
    f = lt.compile(lambda a: a * 2)
    first = f(lt.ones(3))
    second = f(lt.full((3,), 5.0))
    assert first.tolist() == [2.0, 2.0, 2.0] and second.tolist() == [10.0, 10.0, 10.0]
    assert first.untyped_storage().data_ptr() != second.untyped_storage().data_ptr()


def test_random_ops_draw_fresh_numbers_on_each_replay():
    f = lt.compile(lambda a: F.dropout(a, p=0.5, training=True))
    x = lt.ones(4000)
    masks = [(f(x) > 0).float() for _ in range(3)]
    assert not lt.equal(masks[1], masks[2])
    assert abs(float(masks[2].mean()) - 0.5) < 0.05


def test_new_inputs_of_any_layout_are_used_on_replay():
    f = lt.compile(lambda a, b: (a @ b).relu())
    for _ in range(2):
        f(lt.randn(4, 3), lt.randn(3, 2))
    big = lt.randn(10, 3)
    a2, b2 = big[3:7], lt.randn(2, 3).t()  # an offset slice and a transposed view
    assert len(f.programs) == 1
    np.testing.assert_allclose(f(a2, b2).numpy(), np.maximum(a2.numpy() @ b2.numpy(), 0),
                               rtol=1e-5)
    assert len(f.programs) == 1


def test_compile_a_module_forward():
    model, x, _ = _mlp_and_data()
    compiled = lt.compile(model)
    with lt.no_grad():
        np.testing.assert_allclose(compiled(x).numpy(), model(x).numpy(), rtol=1e-6)
        np.testing.assert_allclose(compiled(x * 2).numpy(), model(x * 2).numpy(), rtol=1e-6)


def test_compiled_cnn_with_batchnorm_equals_eager_and_lists_its_kernels():
    def build():
        lt.manual_seed(3)
        return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                             nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))

    lt.manual_seed(4)
    x, y = lt.randn(6, 1, 8, 8), lt.randint(0, 3, (6,))
    eager_model, compiled_model = build(), build()
    eager_step = _train_step(eager_model, lt.optim.SGD(eager_model.parameters(), lr=0.05,
                                                        momentum=0.9))
    compiled_step = lt.compile(_train_step(
        compiled_model, lt.optim.SGD(compiled_model.parameters(), lr=0.05, momentum=0.9)))
    for _ in range(4):
        assert abs(float(eager_step(x, y)) - float(compiled_step(x, y))) < 1e-5
    for (name, pe), pc in zip(eager_model.state_dict().items(),
                              compiled_model.state_dict().values()):
        np.testing.assert_allclose(pe.numpy(), pc.numpy(), atol=1e-5, err_msg=name)
    kernels = lt.debug.kernels(compiled_step)
    assert kernels and any("define void" in src for _, src in kernels)


def test_compile_training_example_runs_with_identical_accuracy():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "examples/compile_training.py", "--epochs", "1"],
                         capture_output=True, text=True, timeout=300,
                         cwd=__file__.rsplit("/tests/", 1)[0])
    assert out.returncode == 0, out.stderr
    assert "same accuracy: True" in out.stdout


def test_a_bad_target_on_replay_raises_like_eager():
    @lt.compile
    def loss_of(logits, target):
        return lt.nn.functional.cross_entropy(logits, target)

    logits = lt.randn(4, 3)
    good = loss_of(logits, lt.tensor([0, 1, 2, 1]))
    assert good.item() == pytest.approx(
        lt.nn.functional.cross_entropy(logits, lt.tensor([0, 1, 2, 1])).item(), rel=1e-6)
    loss_of(logits, lt.tensor([0, 1, 2, 1]))  # a replay
    with pytest.raises(IndexError, match="Target 5 is out of bounds"):
        loss_of(logits, lt.tensor([0, 5, 2, 1]))
    # The error block is reset: a good batch after a bad one replays fine.
    assert loss_of(logits, lt.tensor([0, 1, 2, 1])).item() == pytest.approx(good.item())


def test_kernels_of_a_function_not_traced_yet_say_why_they_are_empty():
    import warnings

    f = lt.compile(lambda a: a * 2)
    with pytest.warns(UserWarning, match="not traced yet \\(has not been called\\)") as caught:
        assert lt.debug.kernels(f) == []
    assert caught[0].filename == __file__  # the warning points at the caller's line
    f(lt.ones(3))
    with pytest.warns(UserWarning, match="called once per signature.*traces on the second call"):
        assert lt.debug.kernels(f) == []
    f(lt.ones(3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert any("define void" in source for _, source in lt.debug.kernels(f))
