"""Row kernels against numpy and PyTorch: row and column sums, mean and max
rows of 4096x4096, softmax, log_softmax and layer_norm over the rows of
4096x1024 (float32), next to the memory floor (np.copyto's time scaled to
the bytes each workload must read and write).

    python benchmarks/reductions.py [--repeat 9] [--only softmax,row sum]

PyTorch is timed at 1 and at 2 threads (the faster is the peer to beat: on
a busy machine its 2-thread runs suffer most); lazyt uses its default
threads (LAZYT_NUM_THREADS). softmax and log_softmax also run in deferred
mode (one realisation of the pending graph). `main(argv)` returns the rows
({"workload", "contender", "ms"}) for benchmarks/run_all.py.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time

import numpy as np

import lazyt as lt

try:
    import torch
except ImportError:  # PyTorch is optional: its rows are skipped
    torch = None


def median_ms(fn, repeat: int) -> float:
    fn()  # warm up (compile, first-touch page faults)
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def copy_floor_ms(numel: int, reads: float, writes: float, repeat: int) -> float:
    """np.copyto moves two arrays' bytes; scaled to reads + writes arrays."""
    src = np.random.rand(numel).astype(np.float32)
    dst = np.empty_like(src)
    return median_ms(lambda: np.copyto(dst, src), repeat) * (reads + writes) / 2


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


def _deferred(fn):
    def run():
        with lt.deferred():
            out = fn()
            out.realize()
        return out
    return run


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
             deferred=_deferred(lambda: wd.softmax(-1))),
        dict(name="log_softmax 4096x1024", numel=wide.size, reads=1, writes=1,
             lazyt=lambda: wd.log_softmax(-1), numpy=lambda: _log_softmax_np(wide),
             torch=lambda t: torch.log_softmax(t["wd"], -1),
             deferred=_deferred(lambda: wd.log_softmax(-1))),
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
    parser.add_argument("--only", default="", help="comma-separated workload name prefixes")
    args = parser.parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    rows: list[dict] = []
    threads_before = torch.get_num_threads() if torch is not None else None
    try:
        for w in workloads(np.random.default_rng(0)):
            if only and not any(w["name"].startswith(o) for o in only):
                continue
            name, r = w["name"], args.repeat
            rows.append(dict(workload=name, contender="lazyt", ms=median_ms(w["lazyt"], r)))
            if "deferred" in w:
                rows.append(dict(workload=name, contender="lazyt deferred",
                                 ms=median_ms(w["deferred"], r)))
            rows.append(dict(workload=name, contender="numpy", ms=median_ms(w["numpy"], r)))
            if torch is not None:
                for threads in (1, 2):
                    torch.set_num_threads(threads)
                    run = functools.partial(w["torch"], w["tensors"])
                    rows.append(dict(workload=name, contender=f"torch ({threads} thread"
                                     f"{'s' if threads > 1 else ''})", ms=median_ms(run, r)))
            rows.append(dict(workload=name, contender="memory floor",
                             ms=copy_floor_ms(w["numel"], w["reads"], w["writes"], r)))
    finally:
        if torch is not None:
            torch.set_num_threads(threads_before)
    print_table(rows)
    return rows


def _column(contender: str) -> int:
    order = ("lazyt", "lazyt deferred", "numpy", "torch (1 thread)", "torch (2 threads)",
             "memory floor")
    return order.index(contender) if contender in order else len(order)


def print_table(rows: list[dict]) -> None:
    """One line per workload: each contender's median, and lazyt's ratio to
    the fastest PyTorch run."""
    names = list(dict.fromkeys(r["workload"] for r in rows))
    contenders = sorted(dict.fromkeys(r["contender"] for r in rows), key=_column)
    print("| workload | " + " | ".join(contenders) + " | lazyt / best torch |")
    print("|---" * (len(contenders) + 2) + "|")
    for name in names:
        times = {r["contender"]: r["ms"] for r in rows if r["workload"] == name}
        cells = [f"{times[c]:.2f}" if c in times else "-" for c in contenders]
        torch_times = [t for c, t in times.items() if c.startswith("torch")]
        ratio = f"{times['lazyt'] / min(torch_times):.2f}x" if torch_times else "-"
        print(f"| {name} | " + " | ".join(cells) + f" | {ratio} |")


if __name__ == "__main__":
    main()
