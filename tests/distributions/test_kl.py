"""lt.distributions.kl_divergence against torch for every registered pair both sides
can build from the shared test parameters, plus register_kl dispatch."""

import pytest

import lazyt as lt
from tests.distributions.test_against_torch import CASES, NO_GRAD_PARAMS, _close

torch = pytest.importorskip("torch")

SCALE_Q = 1.1


def _params(case, lib, scale):
    out = {}
    for name, value in CASES[case].items():
        if isinstance(value, int):
            out[name] = value
        elif name in NO_GRAD_PARAMS:
            out[name] = lib.tensor(value, dtype=lib.float64)
        else:
            scaled = lib.tensor(value, dtype=lib.float64)
            if "probs" not in name:
                scaled = scaled * scale
            out[name] = scaled.detach().requires_grad_(True)
    return out


def _case_for(cls_name):
    return next((case for case in sorted(CASES) if case.split("_")[0] == cls_name), None)


def _kl_pairs():
    pairs = []
    for p_cls, q_cls in lt.distributions.kl._RULES:
        p_case, q_case = _case_for(p_cls.__name__), _case_for(q_cls.__name__)
        if p_case and q_case:
            pairs.append((p_case, q_case))
    return sorted(pairs)


@pytest.mark.parametrize("p_case,q_case", _kl_pairs())
def test_kl_divergence_and_its_gradient_match_torch(p_case, q_case):
    results = []
    for lib in (torch, lt):
        p_params, q_params = _params(p_case, lib, 1.0), _params(q_case, lib, SCALE_Q)
        p = getattr(lib.distributions, p_case.split("_")[0])(**p_params)
        q = getattr(lib.distributions, q_case.split("_")[0])(**q_params)
        try:
            kl = lib.distributions.kl_divergence(p, q)
        except NotImplementedError:
            results.append(None)
            continue
        leaves = [v for v in (*p_params.values(), *q_params.values())
                  if not isinstance(v, int) and v.requires_grad]
        # with an infinite entry, torch's gradient of the others is NaN-polluted
        all_finite = bool((kl.abs() < float("inf")).all())
        grads = lib.autograd.grad(kl.sum(), leaves, allow_unused=True) if all_finite else []
        results.append((kl, grads))
    if results[0] is None:
        assert results[1] is None
        return
    (torch_kl, torch_grads), (lt_kl, lt_grads) = results
    _close(lt_kl, torch_kl)
    for got, expected in zip(lt_grads, torch_grads):
        if expected is None:
            continue
        _close(got, expected, rtol=1e-3, atol=1e-4)


def test_register_kl_dispatches_to_the_most_specific_pair():
    class MyNormal(lt.distributions.Normal):
        pass

    @lt.distributions.register_kl(MyNormal, lt.distributions.Normal)
    def _kl_my_normal(p, q):
        return lt.zeros(p.batch_shape)

    try:
        p = MyNormal(lt.tensor([0.0, 1.0]), lt.tensor([1.0, 2.0]))
        q = lt.distributions.Normal(lt.tensor([0.5]), lt.tensor([1.0]))
        assert lt.distributions.kl_divergence(p, q).tolist() == [0.0, 0.0]
        # subclasses without a registration of their own use the parent's rule
        assert lt.distributions.kl_divergence(q, p).shape == (2,)
    finally:
        del lt.distributions.kl._RULES[MyNormal, lt.distributions.Normal]
        lt.distributions.kl._DISPATCH_CACHE.clear()


def test_kl_divergence_without_a_rule_raises_not_implemented():
    p = lt.distributions.Poisson(lt.tensor([1.0]))
    q = lt.distributions.Normal(lt.tensor([0.0]), lt.tensor([1.0]))
    with pytest.raises(NotImplementedError):
        lt.distributions.kl_divergence(p, q)
