"""Learning-rate schedulers side by side with PyTorch's over 30 epochs: the
lr (and momentum or beta1) of every param group after every step, then the
scheduler's state_dict (keys and values), and a load_state_dict that
continues alike. Skipped without torch."""

import math

import pytest

import lazyt as lt

torch = pytest.importorskip("torch")

EPOCHS = 30
# state_dict entries only torch has, for its warning about get_lr() called
# outside step(), which lazyt does not give
TORCH_ONLY_KEYS = {"_get_lr_called_within_step"}


def _decay(epoch):
    return 0.95 ** epoch


def _cycle(x):
    return 1 / (1.5 ** (x - 1))


# (name, optimizer, kwargs); kwargs of SequentialLR/ChainedScheduler name
# their inner schedulers as (name, kwargs)
SCHEDULES = [
    ("StepLR", "SGD", dict(step_size=7, gamma=0.5)),
    ("MultiStepLR", "SGD", dict(milestones=[3, 10, 10, 22], gamma=0.3)),
    ("ExponentialLR", "SGD", dict(gamma=0.9)),
    ("CosineAnnealingLR", "SGD", dict(T_max=10, eta_min=0.001)),
    ("CosineAnnealingLR", "Adam", dict(T_max=7)),
    ("LambdaLR", "SGD", dict(lr_lambda=_decay)),
    ("LambdaLR", "SGD", dict(lr_lambda=[_decay, lambda epoch: 1 / (1 + epoch)])),
    ("MultiplicativeLR", "SGD", dict(lr_lambda=lambda epoch: 0.9)),
    ("LinearLR", "SGD", dict(start_factor=0.1, total_iters=8)),
    ("LinearLR", "SGD", dict(start_factor=1.0, end_factor=0.2, total_iters=12)),
    ("ConstantLR", "SGD", dict(factor=0.3, total_iters=5)),
    ("PolynomialLR", "SGD", dict(total_iters=20, power=2.0)),
    ("PolynomialLR", "SGD", dict()),
    ("CosineAnnealingWarmRestarts", "SGD", dict(T_0=5)),
    ("CosineAnnealingWarmRestarts", "SGD", dict(T_0=3, T_mult=2, eta_min=0.01)),
    ("OneCycleLR", "SGD", dict(max_lr=1.0, total_steps=EPOCHS + 4)),
    ("OneCycleLR", "Adam", dict(max_lr=[0.5, 0.2], epochs=4, steps_per_epoch=10,
                                anneal_strategy="linear", three_phase=True)),
    ("OneCycleLR", "SGD", dict(max_lr=0.3, total_steps=40, pct_start=0.4, div_factor=10,
                               final_div_factor=100, cycle_momentum=False)),
    ("CyclicLR", "SGD", dict(base_lr=0.01, max_lr=0.1, step_size_up=4)),
    ("CyclicLR", "SGD", dict(base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=3,
                             step_size_down=5, mode="triangular2")),
    ("CyclicLR", "Adam", dict(base_lr=0.001, max_lr=0.01, step_size_up=5, mode="exp_range",
                              gamma=0.95)),
    ("CyclicLR", "SGD", dict(base_lr=0.01, max_lr=0.1, step_size_up=3, scale_fn=_cycle,
                             cycle_momentum=False)),
    ("SequentialLR", "SGD", dict(schedulers=[("LinearLR", dict(start_factor=0.1,
                                                              total_iters=5)),
                                             ("ExponentialLR", dict(gamma=0.9)),
                                             ("StepLR", dict(step_size=3, gamma=0.5))],
                                 milestones=[5, 15])),
    ("ChainedScheduler", "SGD", dict(schedulers=[("ConstantLR", dict(factor=0.5,
                                                                     total_iters=4)),
                                                 ("ExponentialLR", dict(gamma=0.9))])),
    ("ReduceLROnPlateau", "SGD", dict(patience=2, factor=0.5)),
    ("ReduceLROnPlateau", "SGD", dict(mode="max", patience=1, threshold=0.1,
                                      threshold_mode="abs", cooldown=2, min_lr=[0.02, 0.0])),
]
# metrics for ReduceLROnPlateau: improving, then flat, then noisy
METRICS = [1.0 / (1 + e) if e < 8 else 0.1 + 0.01 * ((e * 7) % 5) for e in range(EPOCHS + 5)]


def _optimizer(m, name):
    params = [m.zeros(2, requires_grad=True), m.zeros(3, requires_grad=True)]
    groups = [{"params": [params[0]]}, {"params": [params[1]], "lr": 0.05}]
    if name == "SGD":
        return m.optim.SGD(groups, lr=0.1, momentum=0.9)
    return m.optim.Adam(groups, lr=0.01)


def _scheduler(m, opt, name, kwargs):
    cls = getattr(m.optim.lr_scheduler, name)
    if name in ("SequentialLR", "ChainedScheduler"):
        inner = [getattr(m.optim.lr_scheduler, n)(opt, **k) for n, k in kwargs["schedulers"]]
        rest = {k: v for k, v in kwargs.items() if k != "schedulers"}
        return cls(schedulers=inner, optimizer=opt, **rest) if name == "SequentialLR" \
            else cls(inner, optimizer=opt)
    return cls(opt, **kwargs)


def _momenta(opt):
    return [g["betas"][0] if "betas" in g else g["momentum"] for g in opt.param_groups]


def _step(opt, scheduler, name, epoch):
    opt.step()
    if name == "ReduceLROnPlateau":
        scheduler.step(METRICS[epoch])
    else:
        scheduler.step()


def _history(m, optimizer, name, kwargs, epochs=EPOCHS):
    opt = _optimizer(m, optimizer)
    scheduler = _scheduler(m, opt, name, kwargs)
    history = [([g["lr"] for g in opt.param_groups], _momenta(opt))]
    for epoch in range(epochs):
        _step(opt, scheduler, name, epoch)
        history.append((list(scheduler.get_last_lr()), _momenta(opt)))
    return opt, scheduler, history


def _plain(value):
    """A state_dict value without callables (they are not compared)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k not in TORCH_ONLY_KEYS}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if callable(value):
        return "<callable>"
    return value


def _assert_close(got, want, where):
    if isinstance(want, dict):
        assert set(got) == set(want), f"{where}: keys {sorted(got)} != torch's {sorted(want)}"
        for k in want:
            _assert_close(got[k], want[k], f"{where}[{k!r}]")
    elif isinstance(want, (list, tuple)):
        assert len(got) == len(want), f"{where}: {got} != torch's {want}"
        for i, (g, w) in enumerate(zip(got, want)):
            _assert_close(g, w, f"{where}[{i}]")
    elif isinstance(want, float) and not isinstance(want, bool):
        assert isinstance(got, (float, int)), f"{where}: {got!r} != torch's {want!r}"
        assert math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-15) or \
            (math.isinf(want) and got == want), f"{where}: {got!r} != torch's {want!r}"
    else:
        assert got == want, f"{where}: {got!r} != torch's {want!r}"


@pytest.mark.parametrize("name,optimizer,kwargs", SCHEDULES,
                         ids=[f"{s[0]}-{i}" for i, s in enumerate(SCHEDULES)])
def test_schedule_state_and_resume_match_torch(name, optimizer, kwargs):
    want_opt, want_sched, want = _history(torch, optimizer, name, kwargs)
    got_opt, got_sched, got = _history(lt, optimizer, name, kwargs)
    for epoch, (g, w) in enumerate(zip(got, want)):
        _assert_close(g, w, f"epoch {epoch} (lr, momentum)")
    _assert_close(_plain(got_sched.state_dict()), _plain(want_sched.state_dict()),
                  "state_dict")
    # a fresh scheduler loaded from the state_dict continues alike
    for m, opt, sched in ((torch, want_opt, want_sched), (lt, got_opt, got_sched)):
        state = sched.state_dict()
        sched = _scheduler(m, opt, name, kwargs)
        sched.load_state_dict(state)
        for epoch in range(EPOCHS, EPOCHS + 3):
            _step(opt, sched, name, epoch)
        if m is torch:
            want_resumed = (list(sched.get_last_lr()), _momenta(opt))
        else:
            _assert_close((list(sched.get_last_lr()), _momenta(opt)), want_resumed, "resumed")
