"""Runs bad-input cases (tests/bad_input/cases.py) with one library and
prints one JSON line per case as soon as it is done, so that a crash loses
only the case that crashed.

    python tests/bad_input/worker.py lazyt|torch CASE [CASE ...]

A line: {"case": name, "raised": builtin exception class or null,
"message": str, "result": a summary of the value}.
"""

import builtins
import json
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from tests.bad_input.cases import CASES  # noqa: E402


def _library(name: str) -> dict:
    if name == "torch":
        import torch as module
        import torch.utils.data as data
    else:
        import lazyt as module
        import lazyt.utils.data as data
    import numpy as np

    return {"M": module, "F": module.nn.functional, "nn": module.nn, "optim": module.optim,
            "data": data, "np": np}


def builtin_class(error: BaseException) -> str:
    """The nearest builtin class of an exception (torch's own classes derive
    from RuntimeError, ValueError, ...), so the libraries compare by it."""
    for cls in type(error).__mro__:
        if getattr(builtins, cls.__name__, None) is cls:
            return cls.__name__
    return type(error).__name__


def summarize(value):
    """A JSON-able summary: tensors as shape, dtype name and values."""
    if hasattr(value, "shape") and hasattr(value, "dtype") and hasattr(value, "tolist"):
        dtype = str(value.dtype).split(".")[-1]
        values = value.detach().float().tolist() if dtype == "bfloat16" else \
            value.detach().tolist()
        return {"shape": list(value.shape), "dtype": dtype, "values": _plain(values)}
    if isinstance(value, (list, tuple)):
        return [summarize(v) for v in value]
    if isinstance(value, (bool, int, float)) or value is None:
        return _plain(value)
    return {"type": type(value).__name__}


def _plain(values):
    """JSON cannot hold NaN/inf: spell them."""
    if isinstance(values, list):
        return [_plain(v) for v in values]
    if isinstance(values, float) and (values != values or values in (float("inf"),
                                                                      float("-inf"))):
        return repr(values)
    return values


def main() -> None:
    names = _library(sys.argv[1])
    # Cases a test adds for itself (the isolation test's deliberate crash).
    CASES.update(json.loads(os.environ.get("BAD_INPUT_EXTRA_CASES", "{}")))
    warnings.simplefilter("ignore")
    for case in sys.argv[2:]:
        record = {"case": case, "raised": None, "message": "", "result": None}
        try:
            record["result"] = summarize(eval(CASES[case], dict(names)))
        except Exception as error:  # noqa: BLE001 - the class is what is compared
            record["raised"] = builtin_class(error)
            record["message"] = f"{type(error).__module__}.{type(error).__name__}: {error}"[:300]
        print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
