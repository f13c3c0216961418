"""Row kernels against numpy and PyTorch: row and column sums, mean and max
rows of 4096x4096, softmax, log_softmax and layer_norm over the rows of
4096x1024 (float32), next to the memory floor (np.copyto's time scaled to
the bytes each workload must read and write).

    python benchmarks/reductions.py [--repeat 9] [--only softmax,row sum]

PyTorch's figure is the faster of its 1- and 2-thread runs (benchmarks/
common.py); lazyt uses its default threads (LAZYT_NUM_THREADS). softmax and log_softmax also run in deferred
mode (one realisation of the pending graph). `main(argv)` returns the rows
({"workload", "contender", "ms"}) for benchmarks/run_all.py.
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make the benchmarks package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import lazyt as lt  # noqa: E402
from benchmarks.common import (  # noqa: E402
    deferred_call,
    floor_ms,
    median_ms,
    print_rows,
    row,
    torch,
    torch_best_ms,
)


def _softmax_np(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _log_softmax_np(x: np.ndarray) -> np.ndarray:
    shifted = x - x.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


def _layer_norm_np(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + np.float32(1e-5)) * w + b


def workloads(rng: np.random.Generator) -> list[dict]:
    """Each workload: its name, input numel, floor reads/writes (in arrays of
    the input's size) and one callable per contender."""
    square = rng.standard_normal((4096, 4096), dtype=np.float32)
    wide = rng.standard_normal((4096, 1024), dtype=np.float32)
    weight = rng.standard_normal(1024, dtype=np.float32)
    bias = rng.standard_normal(1024, dtype=np.float32)
    sq, wd = lt.from_numpy(square), lt.from_numpy(wide)
    lw, lb = lt.from_numpy(weight), lt.from_numpy(bias)
    out = [
        dict(name="row sum 4096x4096", numel=square.size, reads=1, writes=0,
             lazyt=lambda: sq.sum(-1), numpy=lambda: square.sum(-1),
             torch=lambda t: t["sq"].sum(-1)),
        dict(name="column sum 4096x4096", numel=square.size, reads=1, writes=0,
             lazyt=lambda: sq.sum(0), numpy=lambda: square.sum(0),
             torch=lambda t: t["sq"].sum(0)),
        dict(name="row mean 4096x4096", numel=square.size, reads=1, writes=0,
             lazyt=lambda: sq.mean(-1), numpy=lambda: square.mean(-1),
             torch=lambda t: t["sq"].mean(-1)),
        dict(name="row max 4096x4096", numel=square.size, reads=1, writes=0,
             lazyt=lambda: sq.amax(-1), numpy=lambda: square.max(-1),
             torch=lambda t: t["sq"].amax(-1)),
        dict(name="softmax 4096x1024", numel=wide.size, reads=1, writes=1,
             lazyt=lambda: wd.softmax(-1), numpy=lambda: _softmax_np(wide),
             torch=lambda t: torch.softmax(t["wd"], -1),
             deferred=deferred_call(lambda: wd.softmax(-1))),
        dict(name="log_softmax 4096x1024", numel=wide.size, reads=1, writes=1,
             lazyt=lambda: wd.log_softmax(-1), numpy=lambda: _log_softmax_np(wide),
             torch=lambda t: torch.log_softmax(t["wd"], -1),
             deferred=deferred_call(lambda: wd.log_softmax(-1))),
        dict(name="layer_norm 4096x1024", numel=wide.size, reads=1, writes=1,
             lazyt=lambda: lt.nn.functional.layer_norm(wd, (1024,), lw, lb),
             numpy=lambda: _layer_norm_np(wide, weight, bias),
             torch=lambda t: torch.nn.functional.layer_norm(t["wd"], (1024,), t["w"], t["b"])),
    ]
    tensors = None
    if torch is not None:
        tensors = {"sq": torch.from_numpy(square), "wd": torch.from_numpy(wide),
                   "w": torch.from_numpy(weight), "b": torch.from_numpy(bias)}
    for w in out:
        w["tensors"] = tensors
    return out


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--quick", action="store_true", help="3 repeats")
    parser.add_argument("--only", default="", help="comma-separated workload name prefixes")
    args = parser.parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    r = 3 if args.quick else args.repeat
    rows: list[dict] = []
    for w in workloads(np.random.default_rng(0)):
        if only and not any(w["name"].startswith(o) for o in only):
            continue
        name = w["name"]
        rows.append(row(name, "lazyt eager", median_ms(w["lazyt"], r)))
        if "deferred" in w:
            rows.append(row(name, "lazyt deferred", median_ms(w["deferred"], r)))
        rows.append(row(name, "numpy", median_ms(w["numpy"], r)))
        if torch is not None:
            rows.append(row(name, "torch", torch_best_ms(
                functools.partial(w["torch"], w["tensors"]), r)))
        rows.append(row(name, "floor", floor_ms((w["reads"] + w["writes"]) * w["numel"] * 4, r)))
    print_rows(rows, f"median of {r} runs (ms); floor = np.copyto of the bytes read and written")
    return rows


if __name__ == "__main__":
    main()
