"""PyTorch's OptimizerInfo database (optim_db) as lazyt.optim's oracle.

Every configuration of every OptimizerInfo (with its foreach, differentiable
and CPU-fused variants; float32, and float64 without those flags) runs side by
side in torch and lazyt: parameters after each step, state_dicts, a
load_state_dict round trip that continues alike, and every error input
(tests/optiminfo/check_optim.py). The test fails when a key fails that
known_failures.txt does not list, and when a listed key passes (take its line
out: the list only shrinks). Skipped without torch (and its expecttest).
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("expecttest")

import lazyt as lt  # noqa: E402
from tests.optiminfo import check_optim  # noqa: E402


def _info(name: str):
    return next(info for info in check_optim.load_optim_db() if info.name == name)


def test_optim_db_fails_only_where_listed():
    results = check_optim.run_all()
    regressions, fixed = check_optim.compare_with_known(results,
                                                        check_optim.read_known_failures())
    passed = sum(r.passed for r in results)
    print(f"\n{passed} of {len(results)} optim_db keys pass")
    problems = [f"fails and is not in tests/optiminfo/known_failures.txt: {r}"
                for r in regressions]
    problems += [f"passes now: remove it from tests/optiminfo/known_failures.txt: {f}"
                 for f in fixed]
    assert not problems, "\n".join(problems)


class _SGDWithWrongMomentum(lt.optim.SGD):
    """SGD whose momentum buffer is rescaled after each step: a numerics bug."""

    def step(self, closure=None):
        loss = super().step(closure)
        for state in self.state.values():
            if "momentum_buffer" in state:
                state["momentum_buffer"].mul_(1.01)
        return loss


class _SGDWithoutErrors(lt.optim.SGD):
    """SGD that accepts a negative momentum: a missing error."""

    def __init__(self, params, lr=1e-3, momentum=0, *args, **kwargs):
        super().__init__(params, lr, abs(momentum), *args, **kwargs)


def test_checker_catches_wrong_numerics(monkeypatch):
    monkeypatch.setattr(lt.optim, "SGD", _SGDWithWrongMomentum)
    sgd = _info("SGD")
    check_optim.check_configuration(sgd, {"lr": 0.1}, np.float32)  # no momentum: unaffected
    with pytest.raises(check_optim.Mismatch, match="differs from torch"):
        check_optim.check_configuration(sgd, {"momentum": 0.9}, np.float32)


def test_checker_catches_missing_errors(monkeypatch):
    monkeypatch.setattr(lt.optim, "SGD", _SGDWithoutErrors)
    sgd = _info("SGD")
    error_input = next(e for e in sgd.optim_error_inputs_func("cpu", torch.float32)
                       if e.optimizer_error_input.desc == "momentum should be between 0 and 1")
    with pytest.raises(check_optim.Mismatch, match="does not raise"):
        check_optim.check_error_input(sgd, error_input)


def test_checker_reports_missing_optimizers(monkeypatch):
    monkeypatch.delattr(lt.optim, "Rprop")
    results = check_optim.check_optimizer_info(_info("Rprop"))
    assert [(r.key, r.passed) for r in results] == [("Rprop", False)]
    assert results[0].reason.startswith("not implemented")


def test_known_failures_list_only_shrinks(tmp_path):
    listed = tmp_path / "known.txt"
    listed.write_text("# comment\nAdam.default :: wrong result: x\nSGD.maximize :: fails: old\n")
    results = [check_optim.Result("Adam.default", True),
               check_optim.Result("SGD.maximize", False, "new error"),
               check_optim.Result("NAdam.default", False, "boom")]
    known = check_optim.read_known_failures(listed)
    regressions, fixed = check_optim.compare_with_known(results, known, names=["x"])
    assert fixed == ["Adam.default"]
    assert regressions == ["NAdam.default :: boom"]
    check_optim.write_known_failures(results, listed)
    assert check_optim.read_known_failures(listed) == {"SGD.maximize": "fails: old",
                                                       "NAdam.default": "fails: boom"}
