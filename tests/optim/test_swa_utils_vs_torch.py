"""optim.swa_utils side by side with PyTorch's: AveragedModel (SWA, EMA,
custom avg_fn, use_buffers), update_bn and SWALR."""

import numpy as np
import pytest

import lazyt as lt

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
X = RNG.standard_normal((16, 4)).astype(np.float32)
Y = RNG.standard_normal((16, 2)).astype(np.float32)


def _model(m):
    m.manual_seed(0)
    model = m.nn.Sequential(m.nn.Linear(4, 6), m.nn.BatchNorm1d(6), m.nn.ReLU(),
                            m.nn.Linear(6, 2))
    rng = np.random.default_rng(1)
    with m.no_grad():
        for p in model.parameters():
            p.copy_(m.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32)))
    return model


def _train_and_average(m, make_averaged, steps=6):
    model = _model(m)
    averaged = make_averaged(m, model)
    opt = m.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    x, y = m.tensor(X), m.tensor(Y)
    for _ in range(steps):
        opt.zero_grad()
        m.nn.functional.mse_loss(model(x), y).backward()
        opt.step()
        averaged.update_parameters(model)
    state = {k: np.array(v.detach().tolist()) for k, v in averaged.state_dict().items()}
    return averaged, state


AVERAGES = {
    "swa": lambda m, model: m.optim.swa_utils.AveragedModel(model),
    "ema": lambda m, model: m.optim.swa_utils.AveragedModel(
        model, multi_avg_fn=m.optim.swa_utils.get_ema_multi_avg_fn(0.9)),
    "ema_avg_fn": lambda m, model: m.optim.swa_utils.AveragedModel(
        model, avg_fn=m.optim.swa_utils.get_ema_avg_fn(0.8)),
    "swa_avg_fn_buffers": lambda m, model: m.optim.swa_utils.AveragedModel(
        model, avg_fn=m.optim.swa_utils.get_swa_avg_fn(), use_buffers=True),
}


@pytest.mark.parametrize("kind", sorted(AVERAGES))
def test_averaged_model_matches_torch(kind):
    _, want = _train_and_average(torch, AVERAGES[kind])
    _, got = _train_and_average(lt, AVERAGES[kind])
    assert sorted(got) == sorted(want)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-5, atol=1e-6, err_msg=key)


def test_update_bn_matches_torch():
    results = []
    for m in (torch, lt):
        averaged, _ = _train_and_average(m, AVERAGES["swa"])
        loader = [(m.tensor(X[i:i + 4]), m.tensor(Y[i:i + 4])) for i in range(0, 16, 4)]
        m.optim.swa_utils.update_bn(loader, averaged)
        bn = averaged.module[1]
        results.append([np.array(t.tolist()) for t in (bn.running_mean, bn.running_var)]
                       + [int(bn.num_batches_tracked), bn.momentum, averaged.training])
    (want_mean, want_var, *want_rest), (got_mean, got_var, *got_rest) = results
    np.testing.assert_allclose(got_mean, want_mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_var, want_var, rtol=1e-5, atol=1e-6)
    assert got_rest == want_rest


@pytest.mark.parametrize("kwargs", [dict(swa_lr=0.05, anneal_epochs=5),
                                    dict(swa_lr=[0.01, 0.2], anneal_epochs=3,
                                         anneal_strategy="linear"),
                                    dict(swa_lr=0.02, anneal_epochs=0)])
def test_swalr_matches_torch(kwargs):
    lrs = []
    for m in (torch, lt):
        params = [m.zeros(2, requires_grad=True), m.zeros(3, requires_grad=True)]
        opt = m.optim.SGD([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.3}], lr=0.1)
        scheduler = m.optim.swa_utils.SWALR(opt, **kwargs)
        history = []
        for _ in range(10):
            opt.step()
            scheduler.step()
            history.append(scheduler.get_last_lr())
        lrs.append(history)
    want, got = lrs
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_swa_errors_match_torch():
    model = lt.nn.Linear(2, 2)
    with pytest.raises(ValueError, match=r"Invalid decay value 1.5 provided"):
        lt.optim.swa_utils.get_ema_avg_fn(1.5)
    opt = lt.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or 'linear'"):
        lt.optim.swa_utils.SWALR(opt, swa_lr=0.1, anneal_strategy="exp")
    with pytest.raises(ValueError, match="anneal_epochs must be equal or greater than 0"):
        lt.optim.swa_utils.SWALR(opt, swa_lr=0.1, anneal_epochs=-1)
