"""Tests for lazyt/codegen/llvm_math.py: the inline math helpers the LLVM codegen calls.

Each helper is called from a small loop kernel, optimised at O3 and JIT-compiled with
llvmlite exactly as lazyt/codegen/llvm.py does, then run on numpy arrays. Checked:
float32 accuracy over a dense sample of all float32 bit patterns against numpy/math in
float64, C99 special values bit for bit, that the kernel loop vectorised, the float64
(libm) helpers, and the 16-bit float casts bit for bit.

Acceptance criterion for a float32 result `got` against the float64 reference `ref`
(see `accuracy_failures`):
  - NaN exactly where `ref` is NaN;
  - otherwise one of: `got` equals `ref` rounded to float32 (this covers infinities,
    and a zero must then also have the sign of `ref`); |got - ref| <= RTOL |ref|;
    |ref| < FLT_MIN (the result underflows) and |got - ref| <= FLT_MIN;
    `got` is an infinity of ref's sign and |ref| >= FLT_MAX (1 - RTOL).
No relaxation is needed anywhere, huge sin/cos/tan arguments included.
"""

from __future__ import annotations

import ctypes
import importlib.util
import math
import re
import sys
from pathlib import Path

import llvmlite.binding as llvm
import numpy as np
import pytest

RTOL = 2e-6
FLT_MIN = float(np.finfo(np.float32).tiny)
FLT_MAX = float(np.finfo(np.float32).max)
INF, NAN = math.inf, math.nan


def _load_llvm_math():
    """Import lazyt.codegen.llvm_math; load the file directly if the package cannot be imported
    (no __init__ files yet, or a broken module elsewhere): this file depends on nothing else."""
    try:
        from lazyt.codegen import llvm_math
    except Exception:  # noqa: BLE001 - any failure of the rest of the package
        path = Path(__file__).resolve().parents[2] / "lazyt" / "codegen" / "llvm_math.py"
        spec = importlib.util.spec_from_file_location("lazyt_codegen_llvm_math", path)
        llvm_math = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = llvm_math
        spec.loader.exec_module(llvm_math)
    return llvm_math


llvm_math = _load_llvm_math()
MathLibrary = llvm_math.MathLibrary

# ------------------------------------------------------------------ JIT harness

_NUMPY_OF_LLVM = {"float": np.float32, "double": np.float64, "i16": np.uint16}
_engines: list = []  # keep JIT engines (and their code) alive for the whole session


@pytest.fixture(scope="session")
def target_machine():
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    target = llvm.Target.from_default_triple()
    return target.create_target_machine(
        cpu=llvm.get_host_cpu_name(), features=llvm.get_host_cpu_features().flatten(), opt=3)


class Kernel:
    """`void k(ptr noalias %in0, [ptr noalias %in1,] ptr noalias %out, i64 %n)` applying one
    helper elementwise, optimised at O3 and JIT-compiled; `ir` is the optimised module text."""

    def __init__(self, tm, name: str, llvm_type: str, arity: int) -> None:
        library = MathLibrary()
        symbol = library.function(name, llvm_type)
        arg_type, ret_type = llvm_math.CONVERSION_FUNCTIONS.get(name, (llvm_type, llvm_type))
        self.arg_dtype, self.ret_dtype = _NUMPY_OF_LLVM[arg_type], _NUMPY_OF_LLVM[ret_type]
        self.arity = arity
        inputs = [f"ptr noalias %in{i}" for i in range(arity)]
        loads = "\n".join(
            f"  %p{i} = getelementptr inbounds {arg_type}, ptr %in{i}, i64 %i\n"
            f"  %a{i} = load {arg_type}, ptr %p{i}" for i in range(arity))
        call_args = ", ".join(f"{arg_type} %a{i}" for i in range(arity))
        text = f"""
define void @k({", ".join(inputs)}, ptr noalias %out, i64 %n) {{
entry:
  %empty = icmp sle i64 %n, 0
  br i1 %empty, label %done, label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %next, %loop ]
{loads}
  %r = call {ret_type} {symbol}({call_args})
  %q = getelementptr inbounds {ret_type}, ptr %out, i64 %i
  store {ret_type} %r, ptr %q
  %next = add nuw nsw i64 %i, 1
  %more = icmp slt i64 %next, %n
  br i1 %more, label %loop, label %done
done:
  ret void
}}
""" + library.render()
        module = llvm.parse_assembly(text)
        module.triple = tm.triple
        module.data_layout = str(tm.target_data)
        module.verify()
        tuning = llvm.create_pipeline_tuning_options(speed_level=3)
        tuning.loop_vectorization = True
        tuning.slp_vectorization = True
        builder = llvm.create_pass_builder(tm, tuning)
        builder.getModulePassManager().run(module, builder)
        self.ir = str(module)
        engine = llvm.create_mcjit_compiler(module, tm)
        engine.finalize_object()
        _engines.append(engine)
        argtypes = [ctypes.c_void_p] * (arity + 1) + [ctypes.c_int64]
        self._function = ctypes.CFUNCTYPE(None, *argtypes)(engine.get_function_address("k"))

    def __call__(self, *arrays: np.ndarray) -> np.ndarray:
        assert len(arrays) == self.arity
        arrays = [np.ascontiguousarray(a, dtype=self.arg_dtype) for a in arrays]
        out = np.empty(arrays[0].shape, dtype=self.ret_dtype)
        self._function(*[a.ctypes.data for a in arrays], out.ctypes.data, out.size)
        return out


_kernels: dict = {}


def kernel(tm, name: str, llvm_type: str) -> Kernel:
    """The compiled kernel for one helper, built once per session."""
    key = (name, llvm_type)
    if key not in _kernels:
        arity = llvm_math.SUPPORTED_FUNCTIONS.get(name, 1)
        _kernels[key] = Kernel(tm, name, llvm_type, arity)
    return _kernels[key]


def kernel_body(ir: str) -> str:
    """The text of @k in an optimised module."""
    match = re.search(r"define [^\n]*@k\(.*?\n}\n", ir, re.S)
    assert match, ir
    return match.group(0)


# ------------------------------------------------------------------ references


def _sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0, e) / (1.0 + e)


REFERENCES = {
    "exp": np.exp, "exp2": np.exp2, "log": np.log, "log2": np.log2, "log10": np.log10,
    "log1p": np.log1p, "expm1": np.expm1, "sin": np.sin, "cos": np.cos, "tan": np.tan,
    "tanh": np.tanh, "sigmoid": _sigmoid, "erf": np.vectorize(math.erf, otypes=[np.float64]),
    "erfc": np.vectorize(math.erfc, otypes=[np.float64]), "pow": np.power, "atan": np.arctan,
    "asin": np.arcsin, "acos": np.arccos, "sinh": np.sinh, "cosh": np.cosh, "atan2": np.arctan2,
}
UNARY = [name for name, arity in llvm_math.SUPPORTED_FUNCTIONS.items() if arity == 1]
BINARY = [name for name, arity in llvm_math.SUPPORTED_FUNCTIONS.items() if arity == 2]


def reference(name: str, *inputs: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return REFERENCES[name](*[np.asarray(a, dtype=np.float64) for a in inputs])


def f32(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float32)


def bits_to_f32(bits) -> np.ndarray:
    return np.asarray(bits, dtype=np.uint32).view(np.float32)


SPECIAL_INPUTS = f32([0.0, -0.0, INF, -INF, NAN, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 3.0, -3.0,
                      FLT_MIN, -FLT_MIN, 1e-45, -1e-45, FLT_MAX, -FLT_MAX, math.pi, -math.pi])


def dense_f32_sample(seed: int = 0) -> np.ndarray:
    """~1.2M float32: every 4099th bit pattern (all exponents and signs, NaNs included),
    random bit patterns, and uniform values where the functions change behaviour."""
    rng = np.random.default_rng(seed)
    stride = bits_to_f32(np.arange(0, 2**32, 4099, dtype=np.uint64))
    random_bits = bits_to_f32(rng.integers(0, 2**32, 2**16, dtype=np.uint64))
    moderate = f32(rng.uniform(-12, 12, 2**16))
    small = f32(rng.uniform(-1.1, 1.1, 2**16))
    near_one = f32(1 + rng.uniform(-2**-8, 2**-8, 2**14))
    return np.concatenate([stride, random_bits, moderate, small, near_one, SPECIAL_INPUTS])


def accuracy_failures(got: np.ndarray, ref: np.ndarray, rtol: float = RTOL) -> np.ndarray:
    """Indices where float32 `got` misses float64 `ref` under the criterion in the module docstring."""
    got = got.astype(np.float64)
    magnitude = np.abs(ref)
    with np.errstate(all="ignore"):
        ref_rounded = ref.astype(np.float32).astype(np.float64)
        error = np.abs(got - ref)
        exact = (got == ref_rounded) & ((ref != 0) | (np.signbit(got) == np.signbit(ref)))
        relative = (ref != 0) & (error <= rtol * magnitude)
        underflow = (magnitude < FLT_MIN) & (error <= FLT_MIN)
        overflow = np.isinf(got) & (np.sign(got) == np.sign(ref)) & (magnitude >= FLT_MAX * (1 - rtol))
    nan_ok = np.isnan(got) == np.isnan(ref)
    ok = nan_ok & (np.isnan(ref) | exact | relative | underflow | overflow)
    return np.flatnonzero(~ok)


def max_relative_error(got: np.ndarray, ref: np.ndarray) -> float:
    """Largest |got - ref| / |ref| over normal-range finite references (for reporting)."""
    got = got.astype(np.float64)
    mask = np.isfinite(ref) & (np.abs(ref) >= FLT_MIN) & (np.abs(ref) <= FLT_MAX) & np.isfinite(got)
    return float(np.max(np.abs(got[mask] - ref[mask]) / np.abs(ref[mask]), initial=0.0))


def describe_failures(name: str, inputs: list[np.ndarray], got, ref, failures) -> str:
    rows = [f"{name}({', '.join(repr(float(a[i])) for a in inputs)}) = {float(got[i])!r}, "
            f"reference {float(ref[i])!r}" for i in failures[:10]]
    return f"{len(failures)} inaccurate results, e.g.\n" + "\n".join(rows)


def check_accuracy(name: str, k: Kernel, *inputs: np.ndarray) -> float:
    got = k(*inputs)
    ref = reference(name, *inputs)
    failures = accuracy_failures(got, ref)
    assert failures.size == 0, describe_failures(name, list(inputs), got, ref, failures)
    return max_relative_error(got, ref)


# ------------------------------------------------------------------ float32 helpers


@pytest.mark.parametrize("name", UNARY)
def test_f32_unary_helper_is_accurate_over_all_float32(target_machine, name):
    x = dense_f32_sample()
    error = check_accuracy(name, kernel(target_machine, name, "float"), x)
    print(f"{name}: max relative error {error:.3g}")


# The float32 closest to a multiple of pi/2 relative to its size: 16367173 * 2^72, whose
# remainder is ~2^-30 pi/2 (found by an exhaustive search over all float32 at development
# time); the argument reduction must keep ~33 bits there. Plus neighbours and huge values.
HARD_TRIG_INPUTS = f32([16367173 * 2.0**72, 16367172 * 2.0**72, 16367174 * 2.0**72,
                        -16367173 * 2.0**72, FLT_MAX, 1e38, 8.0e37, 105414350.0, 13176795.0,
                        1.5707964, 3.1415927, 4.712389, 6.2831855, 1e22, 2.0**100])


@pytest.mark.parametrize("name", ["sin", "cos", "tan"])
def test_trig_is_accurate_at_the_hardest_arguments(target_machine, name):
    x = np.concatenate([HARD_TRIG_INPUTS, -HARD_TRIG_INPUTS])
    check_accuracy(name, kernel(target_machine, name, "float"), x)


def pow_inputs() -> tuple[np.ndarray, np.ndarray]:
    """Pairs that reach every regime of pow: all bit patterns against small and random y,
    finite results over a wide range, x near 1 with huge y, negative x with integer y."""
    rng = np.random.default_rng(1)
    x_bits = bits_to_f32(np.arange(0, 2**32, 16411, dtype=np.uint64))
    parts = [
        (x_bits, f32(rng.choice([-3.0, -2.0, -1.0, -0.5, 0.5, 1.0, 2.0, 3.0, 7.0], x_bits.size))),
        (x_bits, bits_to_f32(rng.integers(0, 2**32, x_bits.size, dtype=np.uint64))),
        (x_bits, f32(rng.uniform(-40, 40, x_bits.size))),
        (f32(rng.uniform(0, 4, 2**17)), f32(rng.uniform(-90, 90, 2**17))),
        (f32(1 + rng.integers(-2**12, 2**12, 2**16) * 2.0**-23), f32(rng.uniform(-2e9, 2e9, 2**16))),
        (f32(-rng.uniform(0, 10, 2**16)), f32(rng.integers(-60, 60, 2**16))),
        (np.repeat(SPECIAL_INPUTS, SPECIAL_INPUTS.size), np.tile(SPECIAL_INPUTS, SPECIAL_INPUTS.size)),
    ]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def atan2_inputs() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2)
    y_bits = bits_to_f32(rng.integers(0, 2**32, 2**18, dtype=np.uint64))
    x_bits = bits_to_f32(rng.integers(0, 2**32, 2**18, dtype=np.uint64))
    moderate = f32(rng.uniform(-10, 10, (2, 2**17)))
    specials = (np.repeat(SPECIAL_INPUTS, SPECIAL_INPUTS.size), np.tile(SPECIAL_INPUTS, SPECIAL_INPUTS.size))
    return (np.concatenate([y_bits, moderate[0], specials[0]]),
            np.concatenate([x_bits, moderate[1], specials[1]]))


@pytest.mark.parametrize("name", BINARY)
def test_f32_binary_helper_is_accurate(target_machine, name):
    inputs = pow_inputs() if name == "pow" else atan2_inputs()
    error = check_accuracy(name, kernel(target_machine, name, "float"), *inputs)
    print(f"{name}: max relative error {error:.3g}")


HALF_PI, PI = float(f32(math.pi / 2)), float(f32(math.pi))
SPECIAL_CASES = {  # C99 Annex F values, compared bit for bit (sign of zero included)
    "exp": [(0.0, 1.0), (-0.0, 1.0), (INF, INF), (-INF, 0.0), (NAN, NAN), (89.0, INF), (-104.0, 0.0)],
    "exp2": [(0.0, 1.0), (-0.0, 1.0), (INF, INF), (-INF, 0.0), (NAN, NAN), (3.0, 8.0), (128.0, INF),
             (-149.0, 1e-45), (-150.0, 0.0), (-126.0, FLT_MIN)],
    "log": [(1.0, 0.0), (0.0, -INF), (-0.0, -INF), (-1.0, NAN), (INF, INF), (-INF, NAN), (NAN, NAN)],
    "log2": [(1.0, 0.0), (0.0, -INF), (-1.0, NAN), (INF, INF), (NAN, NAN), (8.0, 3.0), (0.5, -1.0),
             (1e-45, -149.0)],
    "log10": [(1.0, 0.0), (0.0, -INF), (-0.0, -INF), (-1.0, NAN), (INF, INF), (NAN, NAN)],
    "log1p": [(0.0, 0.0), (-0.0, -0.0), (-1.0, -INF), (-2.0, NAN), (INF, INF), (-INF, NAN), (NAN, NAN),
              (1e-45, 1e-45), (-1e-45, -1e-45)],
    "expm1": [(0.0, 0.0), (-0.0, -0.0), (INF, INF), (-INF, -1.0), (NAN, NAN), (-100.0, -1.0),
              (1e-45, 1e-45)],
    "sin": [(0.0, 0.0), (-0.0, -0.0), (INF, NAN), (-INF, NAN), (NAN, NAN), (1e-45, 1e-45), (-1e-45, -1e-45)],
    "cos": [(0.0, 1.0), (-0.0, 1.0), (INF, NAN), (-INF, NAN), (NAN, NAN), (1e-45, 1.0)],
    "tan": [(0.0, 0.0), (-0.0, -0.0), (INF, NAN), (-INF, NAN), (NAN, NAN), (-1e-45, -1e-45)],
    "tanh": [(0.0, 0.0), (-0.0, -0.0), (INF, 1.0), (-INF, -1.0), (NAN, NAN), (20.0, 1.0), (-20.0, -1.0),
             (1e-45, 1e-45)],
    "sigmoid": [(0.0, 0.5), (-0.0, 0.5), (INF, 1.0), (-INF, 0.0), (NAN, NAN), (100.0, 1.0), (-200.0, 0.0)],
    "erf": [(0.0, 0.0), (-0.0, -0.0), (INF, 1.0), (-INF, -1.0), (NAN, NAN), (10.0, 1.0), (-10.0, -1.0)],
    "erfc": [(0.0, 1.0), (-0.0, 1.0), (INF, 0.0), (-INF, 2.0), (NAN, NAN), (30.0, 0.0), (-30.0, 2.0)],
    "atan": [(0.0, 0.0), (-0.0, -0.0), (INF, HALF_PI), (-INF, -HALF_PI), (NAN, NAN), (1e-45, 1e-45)],
    "asin": [(0.0, 0.0), (-0.0, -0.0), (1.0, HALF_PI), (-1.0, -HALF_PI), (1.5, NAN), (-1.5, NAN),
             (INF, NAN), (NAN, NAN)],
    "acos": [(1.0, 0.0), (-1.0, PI), (0.0, HALF_PI), (-0.0, HALF_PI), (2.0, NAN), (-INF, NAN), (NAN, NAN)],
    "sinh": [(0.0, 0.0), (-0.0, -0.0), (INF, INF), (-INF, -INF), (NAN, NAN), (100.0, INF), (-100.0, -INF)],
    "cosh": [(0.0, 1.0), (-0.0, 1.0), (INF, INF), (-INF, INF), (NAN, NAN), (100.0, INF), (-100.0, INF)],
    "pow": [
        ((NAN, 0.0), 1.0), ((NAN, -0.0), 1.0), ((INF, 0.0), 1.0), ((1.0, NAN), 1.0), ((1.0, INF), 1.0),
        ((1.0, -INF), 1.0), ((-1.0, INF), 1.0), ((-1.0, -INF), 1.0), ((-1.0, NAN), NAN), ((NAN, 1.0), NAN),
        ((2.0, NAN), NAN), ((0.0, -3.0), INF), ((-0.0, -3.0), -INF), ((0.0, -2.0), INF),
        ((-0.0, -2.0), INF), ((-0.0, -0.5), INF), ((0.0, -INF), INF), ((-0.0, -INF), INF),
        ((0.0, 3.0), 0.0), ((-0.0, 3.0), -0.0), ((-0.0, 2.0), 0.0), ((-0.0, 0.5), 0.0), ((0.0, INF), 0.0),
        ((0.5, -INF), INF), ((2.0, -INF), 0.0), ((0.5, INF), 0.0), ((2.0, INF), INF), ((-0.5, INF), 0.0),
        ((-2.0, INF), INF), ((-2.0, -INF), 0.0), ((-INF, -3.0), -0.0), ((-INF, -2.0), 0.0),
        ((-INF, -0.5), 0.0), ((-INF, 3.0), -INF), ((-INF, 2.0), INF), ((-INF, 0.5), INF),
        ((INF, -1.0), 0.0), ((INF, 0.5), INF), ((-2.0, 0.5), NAN), ((-1.0, 0.5), NAN),
        ((-8.0, float(f32(1 / 3))), NAN), ((-2.0, 3.0), -8.0), ((-2.0, 2.0), 4.0), ((-2.0, -1.0), -0.5),
        ((-1.0, 3.0), -1.0), ((-1.0, 16777216.0), 1.0), ((-2.0, -149.0), -1e-45), ((2.0, -150.0), 0.0),
        ((2.0, 128.0), INF), ((-2.0, 129.0), -INF), ((10.0, 2.0), 100.0), ((3.0, -0.0), 1.0),
    ],
    "atan2": [
        ((0.0, 0.0), 0.0), ((-0.0, 0.0), -0.0), ((0.0, -0.0), PI), ((-0.0, -0.0), -PI), ((0.0, -1.0), PI),
        ((-0.0, -1.0), -PI), ((0.0, 1.0), 0.0), ((-0.0, 1.0), -0.0), ((1.0, 0.0), HALF_PI),
        ((1.0, -0.0), HALF_PI), ((-1.0, 0.0), -HALF_PI), ((1.0, -INF), PI), ((-1.0, -INF), -PI),
        ((1.0, INF), 0.0), ((-1.0, INF), -0.0), ((INF, 1.0), HALF_PI), ((-INF, 1.0), -HALF_PI),
        ((INF, -INF), float(f32(3 * math.pi / 4))), ((-INF, -INF), -float(f32(3 * math.pi / 4))),
        ((INF, INF), float(f32(math.pi / 4))), ((-INF, INF), -float(f32(math.pi / 4))),
        ((NAN, 1.0), NAN), ((1.0, NAN), NAN),
    ],
}


def same_bits(got: float, expected: float) -> bool:
    """Equal to `expected` rounded to float32, including the sign of zero; any NaN matches NaN."""
    expected = float(f32(expected))
    if math.isnan(expected):
        return math.isnan(got)
    return got == expected and math.copysign(1.0, got) == math.copysign(1.0, expected)


@pytest.mark.parametrize("name", list(llvm_math.SUPPORTED_FUNCTIONS))
def test_f32_helper_gives_c99_special_values(target_machine, name):
    cases = SPECIAL_CASES[name]
    k = kernel(target_machine, name, "float")
    if k.arity == 1:
        got = k(f32([x for x, _ in cases]))
        inputs = [(x,) for x, _ in cases]
    else:
        got = k(f32([xy[0] for xy, _ in cases]), f32([xy[1] for xy, _ in cases]))
        inputs = [xy for xy, _ in cases]
    wrong = [f"{name}{args} = {float(g)!r}, expected {expected!r}"
             for args, g, (_, expected) in zip(inputs, got, cases) if not same_bits(float(g), expected)]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("name", [*llvm_math.SUPPORTED_FUNCTIONS, *llvm_math.CONVERSION_FUNCTIONS])
def test_f32_helper_loop_vectorises(target_machine, name):
    llvm_type = llvm_math.CONVERSION_FUNCTIONS.get(name, ("float",))[0]
    body = kernel_body(kernel(target_machine, name, llvm_type).ir)
    widths = [int(w) for w in re.findall(r"<(\d+) x (?:float|double|i16|i32|i64)>", body)]
    assert widths and max(widths) >= 4, f"{name}: the kernel loop did not vectorise\n{body[:3000]}"
    calls = set(re.findall(r"call [^@]*(@[\w.]+)", body))
    assert all(c.startswith("@llvm.") for c in calls), f"{name}: calls left in the loop: {calls}"


# ------------------------------------------------------------------ float64 helpers


@pytest.mark.parametrize("name", list(llvm_math.SUPPORTED_FUNCTIONS))
def test_f64_helper_matches_numpy(target_machine, name):
    rng = np.random.default_rng(3)
    k = kernel(target_machine, name, "double")
    specials = np.array([0.0, -0.0, INF, -INF, NAN, 1.0, -1.0, 0.5, 2.0, 1e-300, 1e300])
    samples = [np.concatenate([rng.uniform(-3, 3, 4000), rng.uniform(-700, 700, 2000),
                               np.exp(rng.uniform(-700, 700, 2000)), specials])
               for _ in range(k.arity)]
    got = k(*samples)
    with np.errstate(all="ignore"):
        ref = reference(name, *samples) if name != "sigmoid" else 1 / (1 + np.exp(-samples[0]))
        close = np.isclose(got, ref, rtol=1e-12, atol=0, equal_nan=True) | (got == ref)
    assert close.all(), f"{name}: {np.flatnonzero(~close)[:10]} {got[~close][:5]} {ref[~close][:5]}"


# ------------------------------------------------------------------ 16-bit float casts

ALL_16_BIT = np.arange(2**16, dtype=np.uint16)


def assert_same_bits_except_nan_payload(got: np.ndarray, expected: np.ndarray, float_type) -> None:
    """Bit-equal, except that two NaNs of the same sign are equal whatever their payload."""
    got_f, expected_f = got.view(float_type), expected.view(float_type)
    both_nan = np.isnan(got_f) & np.isnan(expected_f) & (np.signbit(got_f) == np.signbit(expected_f))
    wrong = np.flatnonzero((got != expected) & ~both_nan)
    assert wrong.size == 0, (f"{wrong.size} mismatches, e.g. index {wrong[:5]}: "
                             f"{got[wrong[:5]]} vs {expected[wrong[:5]]}")


def test_bf16_to_f32_is_exact_for_all_patterns(target_machine):
    got = kernel(target_machine, "bf16_to_f32", "i16")(ALL_16_BIT)
    expected = ALL_16_BIT.astype(np.uint32) << 16
    np.testing.assert_array_equal(got.view(np.uint32), expected)


def test_f16_to_f32_matches_numpy_for_all_patterns(target_machine):
    got = kernel(target_machine, "f16_to_f32", "i16")(ALL_16_BIT)
    expected = ALL_16_BIT.view(np.float16).astype(np.float32)
    assert_same_bits_except_nan_payload(got.view(np.uint32), expected.view(np.uint32), np.float32)


def rounding_sample(dropped_bits: int) -> np.ndarray:
    """float32 bit patterns that stress rounding away `dropped_bits` low bits: for every
    value of the kept high bits (a stride of them), the low bits just below, at and above
    the halfway point and at the ends, plus a stride through all patterns."""
    half = 1 << (dropped_bits - 1)
    high = np.arange(0, 2**32, 1 << dropped_bits, dtype=np.uint64)
    if high.size > 2**17:
        high = high[:: high.size // 2**17]
    low = np.array([0, 1, half - 1, half, half + 1, 2 * half - 1], dtype=np.uint64)
    ties = (high[:, None] + low[None, :]).ravel()
    stride = np.arange(0, 2**32, 1021, dtype=np.uint64)
    return np.concatenate([ties, stride]).astype(np.uint32)


def test_f32_to_f16_matches_numpy_rounding(target_machine):
    bits = rounding_sample(13)
    # the subnormal halves drop more bits: add every pattern below 2^-14 in a stride
    bits = np.concatenate([bits, np.arange(0, 0x38800000, 97, dtype=np.uint32),
                           np.arange(0x477FE000, 0x47800100, dtype=np.uint32)])  # up to overflow
    bits = np.concatenate([bits, bits | np.uint32(0x80000000)])
    got = kernel(target_machine, "f32_to_f16", "float")(bits.view(np.float32))
    with np.errstate(over="ignore"):
        expected = bits.view(np.float32).astype(np.float16).view(np.uint16)
    assert_same_bits_except_nan_payload(got, expected, np.float16)


def bf16_reference(bits: np.ndarray) -> np.ndarray:
    """Round float32 bit patterns to bfloat16 bits by comparing distances in float64 to the
    two neighbouring bfloat16 values (ties to the even one), inf as 2^128 beyond the top."""
    def value(b):
        v = (b.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
        return np.where(np.isinf(v), np.copysign(2.0**128, v), v)

    with np.errstate(invalid="ignore"):  # NaN patterns
        x = bits.view(np.float32).astype(np.float64)
        below = (bits >> 16).astype(np.uint16)
        above = below + np.uint16(1)
        d_below, d_above = np.abs(x - value(below)), np.abs(x - value(above))
    choose_above = (d_above < d_below) | ((d_above == d_below) & (below % 2 == 1))
    rounded = np.where(choose_above, above, below)
    is_nan = np.isnan(x)
    return np.where(is_nan, below | np.uint16(0x40), rounded).astype(np.uint16)


def test_f32_to_bf16_rounds_to_nearest_even(target_machine):
    bits = rounding_sample(16)
    bits = np.concatenate([bits, bits | np.uint32(0x80000000)])
    got = kernel(target_machine, "f32_to_bf16", "float")(bits.view(np.float32))
    expected = bf16_reference(bits)
    np.testing.assert_array_equal(got, expected)
    nan = np.isnan(bits.view(np.float32))
    assert np.all(got[nan] & 0x40), "NaN must come out quiet"


# ------------------------------------------------------------------ the library itself


def test_intrinsic_symbols_take_the_first_argument_type_suffix():
    library = MathLibrary()
    assert library.intrinsic("llvm.fabs", "float", ["float"]) == "@llvm.fabs.f32"
    assert library.intrinsic("llvm.smax", "i32", ["i32", "i32"]) == "@llvm.smax.i32"
    assert library.intrinsic("llvm.sqrt", "double", ["double"]) == "@llvm.sqrt.f64"
    assert library.intrinsic("llvm.fabs", "half", ["half"]) == "@llvm.fabs.f16"
    text = library.render()
    assert "declare float @llvm.fabs.f32(float)" in text
    assert "declare i32 @llvm.smax.i32(i32, i32)" in text


def test_function_symbols_and_unknown_names():
    library = MathLibrary()
    assert library.function("exp", "float") == "@lazyt_exp_f32"
    assert library.function("pow", "double") == "@lazyt_pow_f64"
    assert library.function("f32_to_bf16", "float") == "@lazyt_f32_to_bf16"
    assert library.function("f16_to_f32", "i16") == "@lazyt_f16_to_f32"
    with pytest.raises(ValueError, match="unknown math helper"):
        library.function("gamma", "float")
    with pytest.raises(ValueError):
        library.function("exp", "half")


def test_render_emits_each_declaration_and_definition_once(target_machine):
    library = MathLibrary()
    fma = library.intrinsic("llvm.fmuladd", "float", ["float", "float", "float"])
    for name in ["exp", "tanh", "sigmoid", "exp", "sin", "cos", "pow"]:
        library.function(name, "float")
    library.function("exp", "double")
    library.function("sigmoid", "double")
    text = library.render()
    declares = re.findall(r"^declare .*$", text, re.M)
    defines = re.findall(r"^define .*?(@[\w.]+)\(", text, re.M)
    assert len(declares) == len(set(declares)) and f"declare float {fma}(float, float, float)" in declares
    assert len(defines) == len(set(defines)) == 8
    assert "#" not in text, "attributes must be inline lists, not groups"
    module = llvm.parse_assembly("define float @user(float %x) {\n  %r = call float @lazyt_exp_f32(float %x)\n"
                                 "  ret float %r\n}\n" + text)
    module.verify()


def test_render_is_empty_until_something_is_recorded_and_then_complete():
    library = MathLibrary()
    assert library.render() == ""
    library.function("bf16_to_f32", "i16")  # a helper that needs no declarations
    assert "define internal float @lazyt_bf16_to_f32(i16 %x)" in library.render()


def test_float_literals_must_be_exact_in_float32():
    assert llvm_math.exact_float_literal(1.0, "float") == "0x3FF0000000000000"
    assert llvm_math.exact_float_literal(0.1, "double") == "0x3FB999999999999A"
    with pytest.raises(AssertionError):
        llvm_math.exact_float_literal(0.1, "float")
