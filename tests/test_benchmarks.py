"""benchmarks/run_all.py's plumbing: rows from a benchmark's main(argv) in a
fresh process, and the ratios of the shared table (the figures themselves
live in the benchmarks, never in tests)."""

from __future__ import annotations

import json

from benchmarks import common, run_all


def test_ratios_are_to_the_best_peer_and_the_floor(capsys):
    rows = [common.row("w", "lazyt deferred", 2.0), common.row("w", "numpy", 8.0),
            common.row("w", "torch", 4.0), common.row("w", "floor", 1.0),
            common.count_row("k", "lazyt eager", 25, "launches")]
    table = run_all.markdown(rows)
    assert "| w | lazyt deferred | 2 | 0.50 | 2.00 |" in table
    assert "| w | torch | 4 |  |  |" in table
    assert "| k | lazyt eager | 25 launches | | |" in table
    common.print_rows(rows)
    line = next(ln for ln in capsys.readouterr().out.splitlines() if "lazyt deferred" in ln)
    assert line.split()[-2:] == ["0.50", "2.00"]


def test_run_all_collects_rows_from_a_fresh_process(tmp_path):
    out = tmp_path / "rows.json"
    rows = run_all.main(["--quick", "--only", "kernel_counts", "--json", str(out)])
    assert json.loads(out.read_text()) == rows
    by_mode = {r["contender"]: r["value"] for r in rows}
    assert by_mode["lazyt deferred"] < by_mode["lazyt eager"]


def test_missing_benchmark_is_reported_not_fatal():
    assert run_all.run_one("no_such_benchmark", [], 10) == ([], "not present")
