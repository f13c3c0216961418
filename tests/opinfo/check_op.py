"""Run one OpInfo's sample inputs through lazyt and compare every variant with torch.

`check_opinfo(op, limits)` returns an `OpResult`: whether lazyt has a counterpart,
whether every sample passes in every variant torch has for the OpInfo (function,
method, in-place, operator, in-place operator, `out=`; contiguous and
non-contiguous samples; float32, int64 and bool), and whether float64 gradients
of the sum of the outputs match torch's. Only the first failure of each part is
kept, as one line: that is what coverage.md and known_failures.txt show.
"""

from __future__ import annotations

import copy
import math
import os
import re
import time
from dataclasses import asdict, dataclass
from itertools import islice

import torch

import lazyt as lt
from tests.opinfo.translate import (
    Unsupported,
    lazyt_callable,
    lazyt_path,
    op_overload_path,
    to_lazyt,
    to_torch,
)

# The dtypes checked; LAZYT_OPINFO_DTYPES=float64,int32,float16 checks others.
DTYPES = tuple(getattr(torch, name) for name in
               os.environ.get("LAZYT_OPINFO_DTYPES", "float32,int64,bool").split(","))
TOLERANCES = {torch.float32: (1e-4, 1e-5), torch.float64: (1e-6, 1e-7),
              torch.float16: (1e-2, 1e-3), torch.bfloat16: (2e-2, 1e-2)}

# Ops whose order among equal values is unspecified: their values are compared,
# and their indices only through the values they select. (name -> position of
# `dim` in args, its default)
TIE_OPS = {"sort": (0, -1), "argsort": (0, -1), "topk": (1, -1), "kthvalue": (1, -1),
           "median": (0, -1), "nanmedian": (0, -1), "mode": (0, -1), "max": (0, -1),
           "min": (0, -1), "cummax": (0, -1), "cummin": (0, -1)}
# Ops whose values are random or uninitialised: only dtype and shape are compared.
_RANDOM_WORDS = ("rand", "empty", "dropout", "bernoulli", "normal", "uniform", "cauchy",
                 "exponential", "geometric", "multinomial", "rrelu")


@dataclass
class Limits:
    samples_per_dtype: int | None = 3
    grad_samples: int | None = 2
    noncontiguous_samples: int | None = 1


@dataclass
class OpResult:
    key: str
    counterpart: bool
    forward: str  # "pass", "fail", "skip"
    reason: str = ""
    grad: str = "n/a"  # "pass", "fail", "n/a"
    grad_reason: str = ""
    errors: str = "n/a"  # the OpInfo's error inputs: "pass", "fail", "n/a"
    errors_reason: str = ""
    samples: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict:
        return asdict(self)


class Mismatch(AssertionError):
    pass


def opinfo_key(op) -> str:
    return op.name + (f".{op.variant_test_name}" if op.variant_test_name else "")


def tested_dtypes(op) -> list:
    supported = op.supported_dtypes("cpu")
    return [d for d in DTYPES if d in supported]


def counterpart_names(op) -> list[str]:
    """The lazyt names looked up for an OpInfo: function, method, in-place method."""
    name = op.name
    names = [name]
    if "." not in name:
        names += [f"Tensor.{name}", f"Tensor.{name}_"]
    overload = op_overload_path(op.op)
    return names + ([overload] if overload else [])


def has_counterpart(op) -> bool:
    return any(lazyt_path(n) is not None for n in counterpart_names(op))


def is_random(op) -> bool:
    return op.has_nondeterministic_output or any(w in op.name for w in _RANDOM_WORDS)


# Attention samples with dropout draw random numbers (torch's and lazyt's
# generators differ): such a sample is compared by dtype and shape only.
_MHA_DROPOUT_ARG = 9  # multi_head_attention_forward(query, key, ..., dropout_p, ...)


def sample_is_random(op, sample) -> bool:
    probability = sample.kwargs.get("dropout_p", 0.0)
    if op.name == "nn.functional.multi_head_attention_forward" and \
            len(sample.args) > _MHA_DROPOUT_ARG:
        probability = sample.args[_MHA_DROPOUT_ARG] if sample.kwargs.get("training", True) \
            else 0.0
    return isinstance(probability, (int, float)) and probability > 0


def without_dropout(op, sample):
    """The sample with dropout_p = 0 (its gradient is deterministic)."""
    if not sample_is_random(op, sample):
        return sample
    sample = copy.copy(sample)
    if "dropout_p" in sample.kwargs:
        sample.kwargs = {**sample.kwargs, "dropout_p": 0.0}
    else:
        args = list(sample.args)
        args[_MHA_DROPOUT_ARG] = 0.0
        sample.args = tuple(args)
    return sample


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    line = next((t.strip() for t in text if t.strip()), "")
    return f"{type(error).__name__}: {line}"[:300]


def _flatten(value) -> list:
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in _flatten(v)]
    if isinstance(value, dict):
        return [x for v in value.values() for x in _flatten(v)]
    return [value]


# ------------------------------------------------------------------ comparison

def assert_same(actual, expected, where: str, *, values: bool = True) -> None:
    """Compare a lazyt result with torch's: type, dtype, shape and (unless random) values."""
    if isinstance(expected, torch.Tensor):
        if not isinstance(actual, lt.Tensor):
            raise Mismatch(f"{where}: expected a Tensor, got {type(actual).__name__}")
        got = to_torch(actual)
        if got.dtype != expected.dtype:
            raise Mismatch(f"{where}: dtype {got.dtype} != torch's {expected.dtype}")
        if got.shape != expected.shape:
            raise Mismatch(f"{where}: shape {tuple(got.shape)} != torch's {tuple(expected.shape)}")
        if values:
            _assert_close(got, expected.detach(), where)
    elif isinstance(expected, (tuple, list)):
        if not isinstance(actual, (tuple, list)) or len(actual) != len(expected):
            raise Mismatch(f"{where}: expected a sequence of {len(expected)}, got {actual!r:.80}")
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_same(a, e, f"{where}[{i}]", values=values)
    elif isinstance(expected, (bool, int, float)):
        if isinstance(actual, lt.Tensor) or not isinstance(actual, (bool, int, float)):
            raise Mismatch(f"{where}: expected a Python {type(expected).__name__}, "
                           f"got {type(actual).__name__}")
        if values and not (actual == expected or (isinstance(expected, float) and (
                math.isclose(actual, expected, rel_tol=1e-5, abs_tol=1e-6)
                or (math.isnan(expected) and math.isnan(actual))))):
            raise Mismatch(f"{where}: {actual!r} != torch's {expected!r}")
    elif isinstance(expected, torch.dtype):
        if str(actual).split(".")[-1] != str(expected).split(".")[-1]:
            raise Mismatch(f"{where}: {actual} != torch's {expected}")
    elif isinstance(expected, torch.Size):
        if tuple(actual) != tuple(expected):
            raise Mismatch(f"{where}: {tuple(actual)} != torch's {tuple(expected)}")
    elif expected is None:
        if actual is not None:
            raise Mismatch(f"{where}: expected None, got {type(actual).__name__}")


def _dim_of(op, sample) -> int:
    position, default = TIE_OPS[op.name]
    if "dim" in sample.kwargs:
        return sample.kwargs["dim"]
    if len(sample.args) > position and isinstance(sample.args[position], int):
        return sample.args[position]
    return default


def _gather(source: torch.Tensor, dim: int, index: torch.Tensor) -> torch.Tensor:
    if source.dim() == 0:
        return source.reshape(1).gather(0, index.reshape(1)).reshape(index.shape)
    if index.dim() < source.dim():
        index = index.unsqueeze(dim)
        return source.gather(dim, index).squeeze(dim)
    return source.gather(dim, index)


def _assert_close(got: torch.Tensor, expected: torch.Tensor, where: str) -> None:
    rtol, atol = TOLERANCES.get(expected.dtype, (0, 0))
    try:
        torch.testing.assert_close(got, expected, rtol=rtol, atol=atol, equal_nan=True)
    except AssertionError as error:
        lines = [x.strip() for x in str(error).splitlines() if x.strip()]
        raise Mismatch(f"{where}: wrong values ({'; '.join(lines[:3])})") from None


def assert_same_ties(op, sample, actual, expected, where: str) -> None:
    """Tie-order ops: values must match; indices must select those values from the input."""
    dim = _dim_of(op, sample)
    source = sample.input
    assert_same(actual, expected, where, values=False)
    if isinstance(expected, torch.Tensor):  # argsort: indices only
        _assert_close(_gather(source, dim, to_torch(actual)), _gather(source, dim, expected),
                      f"{where} selected values")
        return
    values_lt, indices_lt = to_torch(actual[0]), to_torch(actual[1])
    values_t = expected[0]
    if op.name == "topk" and not sample.kwargs.get("sorted", True):
        values_lt, values_t = values_lt.sort(dim).values, values_t.sort(dim).values
    _assert_close(values_lt, values_t, f"{where} values")
    _assert_close(_gather(source, dim, indices_lt), to_torch(actual[0]), f"{where} indices")


# ------------------------------------------------------------------ variants

@dataclass
class Variant:
    name: str
    torch_fn: object
    lazyt_fn: object
    inplace: bool = False
    out: bool = False


def variants_of(op) -> list[Variant]:
    """Every variant torch has for the OpInfo, with its lazyt counterpart (None if missing)."""
    function_path = op.name if "." in op.name or lazyt_path(op.name) else f"Tensor.{op.name}"
    found = [Variant("function", op.op, lazyt_callable(op.op, function_path))]
    if op.method_variant is not None:
        found.append(Variant("method", op.method_variant,
                             lazyt_callable(op.method_variant, f"Tensor.{op.name}")))
    if op.inplace_variant is not None:
        found.append(Variant("inplace", op.inplace_variant,
                             lazyt_callable(op.inplace_variant, f"Tensor.{op.name}_"), inplace=True))
    if op.operator_variant is not None:
        found.append(Variant("operator", op.operator_variant, op.operator_variant))
    if op.inplace_operator_variant is not None:
        found.append(Variant("inplace_operator", op.inplace_operator_variant,
                             op.inplace_operator_variant, inplace=True))
    if op.supports_out:
        found.append(Variant("out", op.op, found[0].lazyt_fn, out=True))
    return found


def _torch_clone(value):
    if isinstance(value, torch.Tensor):
        return value.clone()
    if isinstance(value, list):
        return [_torch_clone(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_torch_clone(v) for v in value)
    return value


def _empty_like_torch(value):
    if isinstance(value, torch.Tensor):
        return torch.empty_like(value)
    return tuple(_empty_like_torch(v) for v in value)


def _empty_like_lazyt(value):
    if isinstance(value, torch.Tensor):
        return lt.empty(tuple(value.shape), dtype=to_lazyt(value.dtype))
    return tuple(_empty_like_lazyt(v) for v in value)


def run_variant(op, variant: Variant, sample, where: str, random: bool) -> bool:
    """Run one sample in one variant on torch then lazyt; False when torch rejects it."""
    torch_input = _torch_clone(sample.input) if variant.inplace else sample.input
    try:
        with torch.no_grad():
            if variant.out:
                expected_plain = variant.torch_fn(sample.input, *sample.args, **sample.kwargs)
                if not isinstance(expected_plain, (torch.Tensor, tuple)):
                    return False
                out_t = _empty_like_torch(expected_plain)
                expected = variant.torch_fn(torch_input, *sample.args, **sample.kwargs, out=out_t)
            else:
                expected = variant.torch_fn(torch_input, *sample.args, **sample.kwargs)
    except Exception:
        return False  # torch itself rejects this sample in this variant
    if variant.lazyt_fn is None:
        raise Mismatch(f"{variant.name}: lazyt has no counterpart")
    # An in-place variant gets a copy of the input on both sides (torch's is a clone).
    lt_input = to_lazyt(_torch_clone(sample.input) if variant.inplace else sample.input)
    lt_args, lt_kwargs = to_lazyt(sample.args), to_lazyt(sample.kwargs)
    if variant.out:
        out_lt = _empty_like_lazyt(out_t)
        actual = variant.lazyt_fn(lt_input, *lt_args, **lt_kwargs, out=out_lt)
    else:
        actual = variant.lazyt_fn(lt_input, *lt_args, **lt_kwargs)
    if op.name in TIE_OPS and isinstance(expected, (tuple, torch.Tensor)) and \
            isinstance(sample.input, torch.Tensor) and (
                op.name == "argsort" or (isinstance(expected, tuple) and len(expected) == 2)):
        assert_same_ties(op, sample, actual, expected, where)
        if variant.out:
            assert_same_ties(op, sample, out_lt, out_t, f"{where} out")
        return True
    assert_same(actual, expected, where, values=not random)
    if variant.out:
        assert_same(out_lt, out_t, f"{where} out tensor", values=not random)
    if variant.inplace:
        assert_same(lt_input, torch_input, f"{where} mutated input", values=not random)
    return True


def check_forward(op, limits: Limits) -> tuple[int, str]:
    """(samples run, first failure or "") over the tested dtypes and all variants."""
    variants = variants_of(op)
    random = is_random(op)
    run = 0
    for dtype in tested_dtypes(op):
        torch.manual_seed(0)
        samples = op.sample_inputs("cpu", dtype, requires_grad=False)
        for index, sample in enumerate(islice(samples, limits.samples_per_dtype)):
            cases = [("", sample, variants)]
            if limits.noncontiguous_samples is None or index < limits.noncontiguous_samples:
                cases.append((" noncontiguous", sample.noncontiguous(),
                              [v for v in variants if v.name in ("function", "method")]))
            for label, case, case_variants in cases:
                for variant in case_variants:
                    where = f"{variant.name} {str(dtype)[6:]} sample {index}{label}"
                    try:
                        run += run_variant(op, variant, case, where,
                                           random or sample_is_random(op, case))
                    except Unsupported as error:
                        return run, f"unsupported: {error}"
                    except Mismatch as error:
                        return run, str(error)
                    except Exception as error:
                        return run, f"{where}: {_first_line(error)}"
    if run == 0:
        return 0, "no sample ran in torch"
    return run, ""


def check_grad(op, limits: Limits) -> tuple[str, str]:
    """float64 gradients of the sum of the outputs, lazyt vs torch, over the samples."""
    if not op.supports_autograd or torch.float64 not in op.supported_backward_dtypes("cpu"):
        return "n/a", ""
    if is_random(op):
        return "n/a", ""
    function = variants_of(op)[0]
    if function.lazyt_fn is None:
        return "fail", "no lazyt function"
    torch.manual_seed(0)
    compared = 0
    samples = (without_dropout(op, sample)
               for sample in op.sample_inputs("cpu", torch.float64, requires_grad=True))
    for index, sample in enumerate(islice(samples, limits.grad_samples)):
        where = f"grad sample {index}"
        parts = (sample.input, sample.args, sample.kwargs)
        leaves_t = [t for t in _flatten(parts) if isinstance(t, torch.Tensor) and t.requires_grad]
        if not leaves_t:
            continue
        try:
            out_t = sample.output_process_fn_grad(op.op(sample.input, *sample.args, **sample.kwargs))
            outs_t = [o for o in _flatten(out_t) if isinstance(o, torch.Tensor)
                      and o.requires_grad and o.is_floating_point()]
            if not outs_t:
                continue
            grads_t = torch.autograd.grad(sum(o.sum() for o in outs_t), leaves_t, allow_unused=True)
        except Exception:
            continue
        try:
            lt_parts = to_lazyt(parts, grad_leaves=True)
            leaves_lt = [t for t in _flatten(lt_parts) if isinstance(t, lt.Tensor) and t.requires_grad]
            process = to_lazyt(sample.output_process_fn_grad)
            out_lt = process(function.lazyt_fn(lt_parts[0], *lt_parts[1], **lt_parts[2]))
            outs_lt = [o for o in _flatten(out_lt) if isinstance(o, lt.Tensor) and o.requires_grad]
            if len(outs_lt) != len(outs_t):
                return "fail", f"{where}: {len(outs_lt)} outputs require grad, torch has {len(outs_t)}"
            total = outs_lt[0].sum()
            for o in outs_lt[1:]:
                total = total + o.sum()
            total.backward()
            for i, (leaf, expected) in enumerate(zip(leaves_lt, grads_t)):
                if expected is None:
                    continue
                if leaf.grad is None:
                    return "fail", f"{where}: input {i} got no gradient"
                assert_same(leaf.grad, expected, f"{where} input {i}")
        except Unsupported as error:
            return "fail", f"unsupported: {error}"
        except Mismatch as error:
            return "fail", str(error)
        except Exception as error:
            return "fail", f"{where}: {_first_line(error)}"
        compared += 1
    return ("pass", "") if compared else ("n/a", "")


def check_errors(op) -> tuple[str, str]:
    """("pass"/"fail"/"n/a", first failure): each of the OpInfo's error inputs
    must raise torch's exception type with a message its regex finds (the
    message read with "torch" for "lazyt"); the function variant only."""
    if op.error_inputs_func is None:
        return "n/a", ""
    try:
        error_inputs = list(op.error_inputs("cpu"))
    except Exception:  # (an error input generator that needs CUDA or more)
        return "n/a", ""
    function = variants_of(op)[0].lazyt_fn
    checked = 0
    for i, error in enumerate(error_inputs):
        sample = error.sample_input
        if not error.error_regex:  # (torch-only cases: devices, complex, ...)
            continue
        try:
            args = to_lazyt((sample.input, *sample.args))
            kwargs = to_lazyt(sample.kwargs)
        except Exception:  # noqa: BLE001 - an input lazyt cannot hold (complex, > 64 dims)
            continue
        checked += 1
        try:
            function(*args, **kwargs)
        except Exception as e:  # noqa: BLE001 - any exception is compared with torch's
            message = str(e).replace("lazyt", "torch")
            if not isinstance(e, error.error_type):
                return "fail", (f"error input {i}: {type(e).__name__} instead of "
                                f"{error.error_type.__name__}: {_first_line(e)}")
            if not re.search(error.error_regex, message):
                return "fail", (f"error input {i}: message {message[:150]!r} does not match "
                                f"{error.error_regex[:150]!r}")
            continue
        return "fail", f"error input {i}: no error (torch raises {error.error_type.__name__})"
    return ("pass", "") if checked else ("n/a", "")


def check_opinfo(op, limits: Limits) -> OpResult:
    start = time.perf_counter()
    key = opinfo_key(op)
    result = OpResult(key, has_counterpart(op), "fail")
    if not result.counterpart:
        result.reason = f"not implemented: lazyt has no {op.name}"
        if op.supports_autograd:
            result.grad, result.grad_reason = "fail", "not implemented"
        return result
    result.samples, result.reason = check_forward(op, limits)
    result.forward = "fail" if result.reason else "pass"
    result.grad, result.grad_reason = check_grad(op, limits)
    result.errors, result.errors_reason = check_errors(op)
    result.seconds = round(time.perf_counter() - start, 2)
    return result
