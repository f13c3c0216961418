"""lt.compile's programs on disk (engine/program_store.py): a warm process
replays the recorded Programs of its warm-up and traced calls with no
scheduling and no compiling, bit for bit as a cold one; a changed function
or input signature schedules again; a broken entry warns and is rewritten."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys

import pytest

from lazyt.runtime import disk_cache

SCRIPT = """
import json, sys, warnings
import lazyt as lt
import lazyt.nn as nn
import lazyt.nn.functional as F
batch, activation = int(sys.argv[1]), sys.argv[2]
lt.manual_seed(0)
model = nn.Sequential(nn.Linear(8, 16), getattr(nn, activation)(), nn.Linear(16, 3))
opt = lt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

@lt.compile
def step(x, y):
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss

x, y = lt.randn(batch, 8), lt.randint(0, 3, (batch,))
lt.debug.reset_stats()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    first_two = [step(x, y).item() for _ in range(2)]
stats = lt.debug.stats()
losses = first_two + [step(x, y).item() for _ in range(2)]
print(json.dumps({"losses": [float(v).hex() for v in losses],
                  "weight": [float(v).hex() for v in model[0].weight.detach().reshape(-1).tolist()],
                  "warnings": [str(w.message) for w in caught], **stats}))
"""


def run(cache_dir, batch=6, activation="ReLU", enabled="1"):
    env = dict(os.environ, LAZYT_CACHE_DIR=str(cache_dir), LAZYT_CACHE=enabled)
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(batch), activation], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def programs(cache_dir):
    return [os.path.join(d, f) for d, _, files in os.walk(cache_dir) for f in files
            if f.endswith(".prog")]


@pytest.fixture(scope="module")
def cold(tmp_path_factory):
    """A cold process's results and the cache directory it filled (kernels
    and programs); each test works on a copy."""
    cache_dir = tmp_path_factory.mktemp("cold")
    return cache_dir, run(cache_dir)


def warm_copy(cold, tmp_path):
    shutil.copytree(cold[0], tmp_path / "cache")
    return tmp_path / "cache"


def test_warm_process_replays_stored_programs_without_scheduling_bit_for_bit(cold, tmp_path):
    cold_dir, cold_result = cold
    assert cold_result["graphs_scheduled"] >= 2 and cold_result.get("programs_loaded", 0) == 0
    assert programs(cold_dir)
    warm = run(warm_copy(cold, tmp_path))
    assert warm.get("graphs_scheduled", 0) == 0 and warm["programs_loaded"] >= 2
    assert warm["kernels_compiled"] == 0
    assert warm["losses"] == cold_result["losses"] and warm["weight"] == cold_result["weight"]


def test_a_changed_function_or_input_signature_is_scheduled_again(cold, tmp_path):
    cache_dir = warm_copy(cold, tmp_path)
    assert run(cache_dir, batch=5)["graphs_scheduled"] >= 2
    assert run(cache_dir, activation="Tanh")["graphs_scheduled"] >= 2


def test_a_broken_program_entry_warns_and_is_rewritten(cold, tmp_path):
    cache_dir = warm_copy(cold, tmp_path)
    files = programs(cache_dir)
    with open(files[0], "r+b") as f:  # flip the last byte: the checksum no longer matches
        f.seek(-1, os.SEEK_END)
        last = f.read(1)
        f.seek(-1, os.SEEK_END)
        f.write(bytes([last[0] ^ 0xFF]))
    payload = b'{"format": 2, "kernels": [["k", false, "not llvm"]]}'
    for path in files[1:]:  # an intact checksum over a payload that is not a program
        with open(path, "wb") as f:
            f.write(disk_cache._MAGIC + hashlib.sha256(payload).digest() + payload)
    broken = run(cache_dir)
    assert broken["losses"] == cold[1]["losses"]
    assert any("broken program cache entry" in w for w in broken["warnings"])
    assert broken["graphs_scheduled"] >= 1
    again = run(cache_dir)
    assert again.get("graphs_scheduled", 0) == 0 and not again["warnings"]


def test_lazyt_cache_0_stores_no_programs(tmp_path):
    run(tmp_path, enabled="0")
    assert programs(tmp_path) == []
