"""A quick memory-safety sweep: PyTorch's OpInfo samples through lazyt, in one process.

For every OpInfo (torch.testing._internal.common_methods_invocations.op_db)
with a lazyt counterpart (`lt.<name>`, `lt.nn.functional.<name>`,
`lt.linalg.<name>`, or a Tensor method), build its float64 sample inputs as
lazyt tensors (requires_grad where torch's had it), run the op and
`.sum().backward()` every float output. Python exceptions are counted and
ignored: the point is that the process survives. Results are not compared
with torch (the OpInfo test harness does that).

Run it under glibc's malloc checker and with tracebacks on crashes:

    LD_PRELOAD=/lib/x86_64-linux-gnu/libc_malloc_debug.so.0 MALLOC_CHECK_=3 \\
    PYTHONFAULTHANDLER=1 PYTHONPATH=$PWD python tests/tools/opinfo_sweep.py

Options: `--only a,b,c` (OpInfo names), `--start N --stop M` (a slice of the
op list, to bisect), `-v` (print each op before it runs, flushed, so the
last line before a crash names the op), `--deferred` (run in deferred mode),
`--reference` (OpInfo's reference_inputs: more and harder samples),
`--errors` (OpInfo's error_inputs: bad input, each must raise),
`--inplace` (the in-place variants, writing through views into a wider buffer).
Needs torch and expecttest (`pip install expecttest`).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import torch  # noqa: E402

import lazyt as lt  # noqa: E402


def resolve(name: str):
    """The lazyt callable for an OpInfo name, or None."""
    for root in (lt, lt.nn.functional, getattr(lt, "linalg", None)):
        target = root
        for part in name.split("."):
            target = getattr(target, part, None)
            if target is None:
                break
        if target is not None and callable(target):
            return target
    if "." not in name and hasattr(lt.Tensor, name):
        method = getattr(lt.Tensor, name)
        return lambda self, *a, **k: method(self, *a, **k)
    return None


def to_lazyt(value):
    """Torch sample arguments -> lazyt (tensors, dtypes, nested lists)."""
    if isinstance(value, torch.Tensor):
        t = lt.tensor(value.detach().cpu().numpy())
        if value.requires_grad and t.is_floating_point():
            t.requires_grad_(True)
        return t
    if isinstance(value, torch.dtype):
        return getattr(lt, str(value).removeprefix("torch."))
    if isinstance(value, torch.device):
        return lt.device(str(value))
    if isinstance(value, torch.Size):
        return tuple(value)
    if isinstance(value, (list, tuple)):
        return type(value)(to_lazyt(v) for v in value)
    if isinstance(value, dict):
        return {k: to_lazyt(v) for k, v in value.items()}
    return value


def float_outputs(result):
    stack, found = [result], []
    while stack:
        item = stack.pop()
        if isinstance(item, lt.Tensor):
            if item.is_floating_point() and item.requires_grad:
                found.append(item)
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return found


def tensors_in(value) -> list:
    stack, found = [value], []
    while stack:
        item = stack.pop()
        if isinstance(item, lt.Tensor):
            found.append(item)
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return found


def check_view(t, name: str, counts) -> None:
    """A result's view must lie within its storage (numpy reads go through it unchecked)."""
    storage, view = t._storage, t._view
    low, high = view.storage_extent()
    if t.numel() and (low < 0 or high >= len(storage)):
        counts["bad_views"] += 1
        print(f"BAD VIEW from {name}: shape {view.shape} strides {view.strides} offset "
              f"{view.offset} over {len(storage)} elements", flush=True)


def run_op(op, fn, counts, verbose: bool, reference=False, inplace: bool = False) -> None:
    try:
        if reference == "errors":
            samples = [e.sample_input for e in op.error_inputs("cpu")]
        else:
            inputs = op.reference_inputs if reference else op.sample_inputs
            samples = list(inputs("cpu", torch.float64, requires_grad=op.supports_autograd))
    except Exception:  # noqa: BLE001 (a sample generator torch itself cannot run here)
        counts["no_samples"] += 1
        return
    for sample in samples:
        try:
            args = [to_lazyt(sample.input), *to_lazyt(tuple(sample.args))]
            kwargs = to_lazyt(dict(sample.kwargs))
        except Exception:  # noqa: BLE001
            counts["unconvertible"] += 1
            continue
        if inplace:
            # The in-place variant on a copy of the input (a view of a bigger
            # tensor, so that a write past the view lands in live memory).
            try:
                first = args[0]
                wide = lt.zeros((first.numel() + 8,), dtype=first.dtype)
                target = wide[4:4 + first.numel()].view(first.shape)
                with lt.no_grad():
                    target.copy_(first.detach())
                args[0] = target
            except Exception:  # noqa: BLE001
                counts["unconvertible"] += 1
                continue
        try:
            result = fn(*args, **kwargs)
            outs = float_outputs(result)
            if outs:
                total = outs[0].sum()
                for out in outs[1:]:
                    total = total + out.sum()
                total.backward()
            # Read every result and gradient back (as a comparison with torch would).
            for t in tensors_in(result) + [a.grad for a in tensors_in(args) + tensors_in(kwargs)
                                           if a.grad is not None]:
                check_view(t, op.name, counts)
                t.detach().tolist()
            counts["ok"] += 1
        except Exception as exc:  # noqa: BLE001
            counts["errors"] += 1
            if verbose:
                print(f"    {type(exc).__name__}: {str(exc)[:100]}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="")
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--stop", type=int, default=None)
    parser.add_argument("--deferred", action="store_true")
    parser.add_argument("--reference", action="store_true",
                        help="OpInfo reference_inputs (more, and harder, samples)")
    parser.add_argument("--inplace", action="store_true",
                        help="the ops' in-place variants (x.add_), on views into a wider buffer")
    parser.add_argument("--errors", action="store_true",
                        help="OpInfo error_inputs (bad input that must raise)")
    parser.add_argument("-v", "--verbose", action="store_true")
    options = parser.parse_args()
    warnings.simplefilter("ignore")
    from torch.testing._internal.common_methods_invocations import op_db

    wanted = set(filter(None, options.only.split(",")))
    ops = []
    for op in op_db:
        if wanted and op.name not in wanted:
            continue
        if torch.float64 not in op.supported_dtypes("cpu"):
            continue
        fn = resolve(op.name)
        if options.inplace:
            name = op.name.rpartition(".")[2] + "_"
            method = getattr(lt.Tensor, name, None) if op.inplace_variant is not None else None
            fn = None if method is None else (lambda m: lambda self, *a, **k: m(self, *a, **k))(
                method)
        if fn is not None:
            ops.append((op, fn))
    ops = ops[options.start:options.stop]
    counts = {"ok": 0, "errors": 0, "no_samples": 0, "unconvertible": 0, "bad_views": 0}
    start = time.perf_counter()
    if options.deferred:
        lt.set_mode("deferred")
    for i, (op, fn) in enumerate(ops):
        if options.verbose:
            label = f"{op.name}.{op.variant_test_name}" if op.variant_test_name else op.name
            print(f"[{i + options.start}] {label}", flush=True)
        torch.manual_seed(0)
        run_op(op, fn, counts, options.verbose,
               "errors" if options.errors else options.reference, options.inplace)
    print(f"{len(ops)} ops, {counts} in {time.perf_counter() - start:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
