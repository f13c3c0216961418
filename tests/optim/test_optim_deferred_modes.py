"""Every optimizer steps alike in eager and deferred mode (where per-step
scalars are tensor ops on the `step` counters instead of Python floats), and
with capturable=True where it has the option. Needs no torch: torch's
numbers are checked by tests/optiminfo."""

import numpy as np
import pytest

import lazyt as lt
import lazyt.optim as optim

CONFIGS = [
    ("SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.1, nesterov=True)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01)),
    ("Adamax", dict(lr=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1)),
    ("Adadelta", dict(lr=0.5, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
    ("Rprop", dict(lr=0.01)),
    ("ASGD", dict(lr=0.05, t0=2)),
    ("Adafactor", dict(lr=0.01, weight_decay=0.1)),
    ("Muon", dict(lr=0.01)),
]
CAPTURABLE = {"Adam", "AdamW", "Adamax", "NAdam", "RAdam", "Adadelta", "RMSprop", "Rprop",
              "ASGD"}


def _run(name, kwargs, deferred, steps=6):
    rng = np.random.default_rng(0)
    params = [lt.tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=True),
              lt.tensor(rng.standard_normal((3, 5)).astype(np.float32), requires_grad=True)]
    opt = getattr(optim, name)(params, **kwargs)
    for _ in range(steps):
        for p in params:
            p.grad = lt.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32))
        if deferred:
            with lt.deferred():
                opt.step()
        else:
            opt.step()
    return [np.array(p.detach().tolist()) for p in params]


@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=[c[0] for c in CONFIGS])
def test_deferred_step_matches_eager_step(name, kwargs):
    eager = _run(name, kwargs, deferred=False)
    for got, want in zip(_run(name, kwargs, deferred=True), eager):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    if name in CAPTURABLE:
        for got, want in zip(_run(name, {**kwargs, "capturable": True}, deferred=False), eager):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
