"""PyTorch's OpInfo database as the oracle: every OpInfo that fails is on the list.

Runs every OpInfo of torch's op_db (CPU; float32, int64, bool; the first samples
of each dtype, every sample with `pytest --long` or LAZYT_OPINFO_FULL=1) through
lazyt in worker processes (tests/opinfo/run.py) and compares with
known_failures.txt: an OpInfo that fails but is not listed is a regression, and
a listed OpInfo that now passes must be taken off the list. LAZYT_OPINFO_OPS=a,b
restricts the run to some OpInfos. Skipped without torch (and its expecttest).
"""

import os

import pytest

pytest.importorskip("torch")
pytest.importorskip("expecttest")

from tests.opinfo import run as opinfo  # noqa: E402


def test_opinfo_database_fails_only_where_listed():
    selected = os.environ.get("LAZYT_OPINFO_OPS")
    keys = selected.split(",") if selected else opinfo.tested_keys()
    results = opinfo.run_opinfos(keys)
    print("\n" + "\n".join(opinfo.summary_lines(results)))
    regressions, fixed = opinfo.compare_with_known(results)
    problems = [f"fails and is not in tests/opinfo/known_failures.txt: {r}" for r in regressions]
    problems += [f"passes now: remove it from tests/opinfo/known_failures.txt: {f}" for f in fixed]
    assert not problems, "\n".join(problems)


def test_worker_crash_fails_only_the_op_that_crashed():
    keys = ["selftest.pass", "selftest.abort", "selftest.pass2"]
    results = opinfo.run_opinfos(keys, workers=1, chunks=1)
    assert results["selftest.pass"]["forward"] == "pass"
    assert results["selftest.pass2"]["forward"] == "pass"
    assert results["selftest.abort"]["forward"] == "fail"
    assert results["selftest.abort"]["reason"].startswith("crash: worker exit code")


def test_known_failures_list_only_shrinks(tmp_path):
    listed = tmp_path / "known.txt"
    listed.write_text("[forward]\nabs: wrong result: sign of zero\nneg: fails: old\n[grad]\n")
    results = {
        "abs": {"key": "abs", "counterpart": True, "forward": "pass", "reason": "",
                "grad": "n/a", "grad_reason": ""},
        "neg": {"key": "neg", "counterpart": True, "forward": "fail", "reason": "new error",
                "grad": "fail", "grad_reason": "grad error"},
        "cos": {"key": "cos", "counterpart": False, "forward": "fail",
                "reason": "not implemented: lazyt has no cos", "grad": "n/a", "grad_reason": ""},
    }
    known = opinfo.read_known_failures(listed)
    regressions, fixed = opinfo.compare_with_known(results, known)
    assert fixed == ["abs [forward]"]
    assert regressions == ["cos [forward]: not implemented: lazyt has no cos",
                           "neg [grad]: fails: grad error"]
    opinfo.write_known_failures(results, listed)
    rewritten = opinfo.read_known_failures(listed)
    assert rewritten["forward"] == {"neg": "fails: new error",
                                    "cos": "not implemented: lazyt has no cos"}
    assert rewritten["grad"] == {"neg": "fails: grad error"}
