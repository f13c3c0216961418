"""Bad input gets PyTorch's exception class, never a crash, a hang or an
internal error: every case of cases.py runs in a subprocess (all of them in
one worker for speed; the cases a crashed or hung worker did not report run
again one per process, so a segfault or hang fails only its own case), and
is compared with what torch does with the same source.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.bad_input.cases import CASES, XFAIL

pytest.importorskip("torch")

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker.py")
BATCH_TIMEOUT_S = 240
CASE_TIMEOUT_S = 60


def _run_worker(library: str, cases: list[str], timeout: float) -> tuple[dict, str]:
    """{case: record} for the cases the worker finished, and how it ended."""
    try:
        done = subprocess.run([sys.executable, WORKER, library, *cases], capture_output=True,
                              text=True, timeout=timeout)
        stdout, ending = done.stdout, f"exit status {done.returncode}: {done.stderr[-500:]}"
    except subprocess.TimeoutExpired as expired:
        stdout = expired.stdout.decode() if isinstance(expired.stdout, bytes) else \
            expired.stdout or ""
        ending = f"timed out after {timeout} s"
    records = {}
    for line in stdout.splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            records[record["case"]] = record
    return records, ending


def _run_isolating(library: str, cases: list[str]) -> dict:
    """All cases in one worker; any it did not report, one per worker."""
    records, _ = _run_worker(library, cases, BATCH_TIMEOUT_S)
    for case in cases:
        if case not in records:
            alone, ending = _run_worker(library, [case], CASE_TIMEOUT_S)
            records[case] = alone.get(case, {"case": case, "crashed": ending})
    return records


@pytest.fixture(scope="module")
def outcomes() -> dict:
    names = list(CASES)
    return {"lazyt": _run_isolating("lazyt", names), "torch": _run_isolating("torch", names)}


def _values(summary):
    """Flatten a result summary into (structure, numbers) for comparison."""
    numbers = []

    def walk(item):
        if isinstance(item, dict) and "values" in item:
            flat = np.asarray(item["values"], dtype=object).reshape(-1).tolist() \
                if item["values"] != [] else []
            numbers.extend(float(v) if isinstance(v, str) else v for v in flat)
            return ("tensor", tuple(item["shape"]), item["dtype"])
        if isinstance(item, list):
            return tuple(walk(v) for v in item)
        if isinstance(item, (int, float)) and not isinstance(item, bool):
            numbers.append(item)
            return "number"
        if isinstance(item, str):
            numbers.append(float(item))
            return "number"
        return json.dumps(item)

    return walk(summary), np.asarray(numbers, dtype=np.float64)


def _params():
    for case in CASES:
        marks = [pytest.mark.xfail(reason=XFAIL[case], strict=True)] if case in XFAIL else []
        yield pytest.param(case, marks=marks, id=case)


@pytest.mark.parametrize("case", _params())
def test_bad_input_matches_torch(case, outcomes):
    ours, theirs = outcomes["lazyt"][case], outcomes["torch"][case]
    assert "crashed" not in ours, f"{CASES[case]}: the lazyt worker crashed ({ours['crashed']})"
    assert "crashed" not in theirs, f"{CASES[case]}: torch crashed ({theirs['crashed']})"
    assert ours["raised"] == theirs["raised"], (
        f"{CASES[case]}: torch -> {theirs['raised'] or 'a result'} ({theirs['message']}); "
        f"lazyt -> {ours['raised'] or 'a result'} ({ours['message']})")
    if ours["raised"] is None:
        our_shape, our_numbers = _values(ours["result"])
        their_shape, their_numbers = _values(theirs["result"])
        assert our_shape == their_shape, f"{CASES[case]}: {our_shape} != {their_shape}"
        np.testing.assert_allclose(our_numbers, their_numbers, rtol=1e-5, atol=1e-6,
                                   equal_nan=True, err_msg=CASES[case])


def test_no_internal_exception_classes(outcomes):
    """No numpy exception, AssertionError or AttributeError reaches a user
    where torch raised a clear error of its own."""
    leaked = {case: record["message"] for case, record in outcomes["lazyt"].items()
              if record.get("message", "").split(":")[0].startswith("numpy")
              or record.get("raised") in ("AssertionError", "AttributeError", "KeyError")
              and outcomes["torch"][case].get("raised") != record.get("raised")}
    assert not leaked, leaked


def test_a_crashing_case_fails_alone(monkeypatch):
    """The isolation itself: a worker that dies mid-batch loses only the case
    that killed it."""
    monkeypatch.setenv("BAD_INPUT_EXTRA_CASES",
                       json.dumps({"_segfault": "__import__('ctypes').string_at(0)"}))
    records = _run_isolating("lazyt", ["mul_empty", "_segfault", "neg_bool"])
    assert records["mul_empty"]["raised"] is None and records["neg_bool"]["raised"] is not None
    assert "crashed" in records["_segfault"]
