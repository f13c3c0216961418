"""The persistent kernel cache: warm processes load machine code instead of
compiling; corrupt entries are detected and rewritten; processes share it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

SCRIPT = """
import json, lazyt as lt
x = lt.arange(64, dtype=lt.float32) / 7
y = ((x * 2 + 1).tanh() - x.sigmoid()).sum()
print(json.dumps({"value": float(y), **lt.debug.stats()}))
"""


def run(cache_dir, enabled="1"):
    env = dict(os.environ, LAZYT_CACHE_DIR=str(cache_dir), LAZYT_CACHE=enabled)
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def entries(cache_dir):
    return [os.path.join(d, f) for d, _, files in os.walk(cache_dir) for f in files
            if f.endswith(".o")]


def test_warm_process_loads_kernels_instead_of_compiling(tmp_path):
    cold = run(tmp_path)
    warm = run(tmp_path)
    assert cold["kernels_compiled"] > 0 and cold["disk_cache_hits"] == 0
    assert warm["kernels_compiled"] == 0 and warm["disk_cache_hits"] == cold["kernels_compiled"]
    assert warm["value"] == cold["value"]


def test_corrupt_or_truncated_entries_are_recompiled_not_loaded(tmp_path):
    cold = run(tmp_path)
    files = entries(tmp_path)
    assert files
    with open(files[0], "r+b") as f:  # truncate one entry
        f.truncate(20)
    with open(files[-1], "r+b") as f:  # flip a byte of another
        f.seek(-1, os.SEEK_END)
        last = f.read(1)
        f.seek(-1, os.SEEK_END)
        f.write(bytes([last[0] ^ 0xFF]))
    again = run(tmp_path)
    assert again["kernels_compiled"] >= 1 and again["value"] == cold["value"]
    assert run(tmp_path)["kernels_compiled"] == 0  # rewritten intact


def test_two_processes_can_share_a_cache_directory(tmp_path):
    env = dict(os.environ, LAZYT_CACHE_DIR=str(tmp_path), LAZYT_CACHE="1")
    procs = [subprocess.Popen([sys.executable, "-c", SCRIPT], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert results[0]["value"] == results[1]["value"]
    assert run(tmp_path)["kernels_compiled"] == 0


def test_lazyt_cache_0_writes_nothing(tmp_path):
    run(tmp_path, enabled="0")
    assert entries(tmp_path) == []
