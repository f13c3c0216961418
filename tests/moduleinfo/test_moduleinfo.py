"""PyTorch's ModuleInfo database as the oracle for lt.nn: every failing sample is listed.

Runs each ModuleInfo of torch's module_db (plus tests/moduleinfo/extra_modules.py's
for nn classes module_db lacks) through tests/moduleinfo/check_module.py: forward
values, dtypes and shapes, updated buffers, input and parameter gradients, repr,
state_dict layout and default initialisation against torch's, in training, eval,
float64 and non-contiguous-input runs. CI checks a few spread samples per run;
`pytest --long`, LAZYT_MODULEINFO_FULL=1 (or LAZYT_OPINFO_FULL=1) checks every
sample. The selected ModuleInfos run once, in worker processes (tests/moduleinfo/
run.py); each test reads its ModuleInfo's results. A sample that fails but is not
in known_failures.txt is a regression; a listed key that passes must come off the
list. Skipped without torch (and expecttest).
"""

import pytest

pytest.importorskip("torch")
pytest.importorskip("expecttest")

import torch  # noqa: E402

from tests.moduleinfo import check_module, run  # noqa: E402

MODULE_INFOS = check_module.load_module_db()
NAMES = [m.name for m in MODULE_INFOS]
_TEST_NAME = "test_module_matches_torch_or_is_listed"


@pytest.fixture(scope="session")
def module_results(request):
    """Results of every ModuleInfo this session selected, run in worker processes."""
    selected = [item.callspec.params["module_info"] for item in request.session.items
                if item.originalname == _TEST_NAME and hasattr(item, "callspec")]
    return run.run_module_infos(selected, run.full_run_requested())


@pytest.mark.parametrize("module_info", NAMES)
def test_module_matches_torch_or_is_listed(module_info, module_results):
    entry = module_results[module_info]
    regressions, fixed = run.compare_with_known(entry["results"])
    problems = [f"fails and is not in tests/moduleinfo/known_failures.txt: {r}"
                for r in regressions]
    problems += [f"passes now: remove it from tests/moduleinfo/known_failures.txt: {f}"
                 for f in fixed]
    assert not problems, "\n".join(problems)


def test_known_failures_are_module_infos_that_exist():
    unknown = [k for k in run.read_known_failures() if run.module_name_of(k) not in NAMES]
    assert not unknown, f"known_failures.txt lists keys of no ModuleInfo: {unknown}"


def test_known_failures_list_only_shrinks(tmp_path):
    listed = tmp_path / "known.txt"
    listed.write_text("nn.A[train#0]: wrong result: x\nnn.B: not implemented: lazyt has no nn.B\n"
                      "nn.C[eval#1]: fails: old\n")
    result = check_module.SampleResult
    results = [result("nn.A[train#0]", True), result("nn.A[train#1]", False, "new"),
               result("nn.B", False, "not implemented: lazyt has no nn.B"),
               result("nn.C[eval#1]", False, "fails: new error"), result("nn.D", True)]
    known = run.read_known_failures(listed)
    regressions, fixed = run.compare_with_known(results, known)
    assert regressions == ["nn.A[train#1]: new"]
    assert fixed == ["nn.A[train#0]"]
    run.write_known_failures(results, listed)
    assert run.read_known_failures(listed) == {
        "nn.A[train#1]": "new", "nn.B": "not implemented: lazyt has no nn.B",
        "nn.C[eval#1]": "fails: old"}


def test_noncontiguous_inputs_keep_values_and_leafness():
    x = torch.randn(3, 4, requires_grad=True)
    y = check_module.noncontiguous(x)
    assert not y.is_contiguous() and y.is_leaf and y.requires_grad
    assert torch.equal(y, x)


def test_the_checker_catches_a_wrong_forward(monkeypatch):
    import lazyt as lt  # (the checker's own subject; imported here to patch it)

    linear = next(m for m in MODULE_INFOS if m.name == "nn.Linear")
    original = lt.nn.Linear.forward
    monkeypatch.setattr(lt.nn.Linear, "forward", lambda self, x: original(self, x) * 1.001)
    results = check_module.check_moduleinfo(linear)
    assert results and not any(r.passed for r in results)
    assert all("wrong" in r.reason or "fails" in r.reason for r in results)
