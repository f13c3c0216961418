"""Learning-rate schedulers: the lr sequence over many epochs equals PyTorch's
(and known closed forms without torch); state_dict resumes a schedule."""

import math
import warnings

import pytest

import lazyt as lt
import lazyt.nn as nn
import lazyt.optim as optim
from lazyt.optim import lr_scheduler

try:
    import torch
except ImportError:
    torch = None


def _optimizer(m, name="SGD", lr=0.1, groups=1):
    params = [m.nn.Parameter(m.zeros(2)) for _ in range(groups)]
    if name == "SGD":
        return m.optim.SGD([{"params": [p]} for p in params], lr=lr, momentum=0.9)
    return m.optim.Adam([{"params": [p]} for p in params], lr=lr)


SCHEDULES = [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[2, 5, 5, 9], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=5, eta_min=0.01)),
    ("LambdaLR", dict(lr_lambda=lambda epoch: 1.0 / (epoch + 1))),
    ("MultiplicativeLR", dict(lr_lambda=lambda epoch: 0.95)),
    ("LinearLR", dict(start_factor=0.25, total_iters=4)),
    ("ConstantLR", dict(factor=0.5, total_iters=3)),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=12)),
    ("OneCycleLR", dict(max_lr=[1.0, 0.5], total_steps=12, anneal_strategy="linear",
                        three_phase=True)),
]


def _lrs(m, name, kwargs, epochs=12, optimizer="SGD"):
    opt = _optimizer(m, optimizer, groups=2)
    scheduler = getattr(m.optim.lr_scheduler, name)(opt, **kwargs)
    lrs = []
    for _ in range(epochs - (1 if name == "OneCycleLR" else 0)):
        opt.step()
        scheduler.step()
        lrs.append(list(scheduler.get_last_lr()))
    momentum = [g.get("momentum", g.get("betas")) for g in opt.param_groups]
    return lrs, momentum


@pytest.mark.parametrize("name,kwargs", SCHEDULES, ids=[s[0] for s in SCHEDULES])
def test_schedule_matches_torch(name, kwargs):
    got, got_momentum = _lrs(lt, name, kwargs)
    assert all(lr >= 0 for epoch in got for lr in epoch)
    if torch is None:
        pytest.skip("torch not installed")
    want, want_momentum = _lrs(torch, name, kwargs)
    for g, w in zip(got, want):
        assert g == pytest.approx(w, rel=1e-12, abs=1e-15)
    assert got_momentum == pytest.approx(want_momentum)


def test_closed_forms_without_torch():
    got, _ = _lrs(lt, "StepLR", dict(step_size=2, gamma=0.1), epochs=5)
    assert [g[0] for g in got] == pytest.approx([0.1, 0.01, 0.01, 0.001, 0.001])
    got, _ = _lrs(lt, "CosineAnnealingLR", dict(T_max=4), epochs=4)
    want = [0.1 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(1, 5)]
    assert [g[0] for g in got] == pytest.approx(want, abs=1e-12)


def test_onecycle_cycles_adam_beta1():
    opt = _optimizer(lt, "Adam")
    scheduler = lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=10)
    assert opt.param_groups[0]["betas"][0] == pytest.approx(0.95)
    for _ in range(3):
        opt.step()
        scheduler.step()
    assert opt.param_groups[0]["betas"][0] < 0.95


def test_reduce_lr_on_plateau_matches_torch():
    def run(m):
        opt = _optimizer(m)
        scheduler = m.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1,
                                                           cooldown=1)
        out = []
        for metric in [1.0, 0.9, 0.95, 0.97, 0.99, 0.5, 0.6, 0.7, 0.8]:
            opt.step()
            scheduler.step(metric)
            out.append(opt.param_groups[0]["lr"])
        return out

    got = run(lt)
    assert got[0] == 0.1 and min(got) < 0.1
    if torch is not None:
        assert got == pytest.approx(run(torch))


def test_sequential_lr_matches_torch():
    def run(m):
        opt = _optimizer(m)
        warmup = m.optim.lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=3)
        decay = m.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
        scheduler = m.optim.lr_scheduler.SequentialLR(opt, [warmup, decay], milestones=[3])
        out = []
        for _ in range(7):
            opt.step()
            scheduler.step()
            out.append(scheduler.get_last_lr()[0])
        return out

    got = run(lt)
    if torch is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert got == pytest.approx(run(torch))


def test_scheduler_state_dict_resumes_the_schedule():
    opt = _optimizer(lt)
    scheduler = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(3):
        opt.step()
        scheduler.step()
    state = scheduler.state_dict()
    assert "optimizer" not in state and state["last_epoch"] == 3
    opt2 = _optimizer(lt)
    opt2.load_state_dict(opt.state_dict())
    scheduler2 = lr_scheduler.StepLR(opt2, step_size=2, gamma=0.5)
    scheduler2.load_state_dict(state)
    opt.step()
    opt2.step()
    scheduler.step()
    scheduler2.step()
    assert scheduler2.get_last_lr() == scheduler.get_last_lr()


def test_scheduler_before_optimizer_warns():
    opt = optim.SGD([nn.Parameter(lt.zeros(1))], lr=0.1)
    scheduler = lr_scheduler.StepLR(opt, 1)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        scheduler.step()


def test_scheduler_rejects_non_optimizers():
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.StepLR(object(), 1)
