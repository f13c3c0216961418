"""PyTorch's OptimizerInfo database (optim_db) as lazyt.optim's oracle: the checker.

For each OptimizerInfo of `torch.testing._internal.common_optimizers.optim_db`
and each configuration its `optim_inputs_func` gives on the CPU (plus each
implementation flag the OptimizerInfo supports: foreach, differentiable, and
fused where torch has a fused CPU kernel), identical parameters are made in
torch and lazyt, given identical gradients each step (or, for optimizers whose
step needs a closure, the gradients of the same quadratic loss), stepped
STEPS times, and compared after every step. Then the state_dicts are compared
(state keys per parameter, values, dtypes, the type of `step`, param_groups),
lazyt's state_dict is loaded into a fresh lazyt optimizer, and both continue
for RESUME_STEPS more step. A configuration torch rejects (at construction or
step) must be rejected by lazyt with the same exception type and message.
Every `optim_error_inputs_func` input must raise (or warn) in lazyt with
torch's exception type and a message matching torch's regex.

Results are keyed "<Optimizer>.<desc>" (float32), "<Optimizer>.<desc>.float64",
"<Optimizer>.error.<desc>"; tests/optiminfo/known_failures.txt lists the
keys that knowingly fail.

    python -m tests.optiminfo.check_optim                 # run all, print failures
    python -m tests.optiminfo.check_optim Adam SGD        # some optimizers
    python -m tests.optiminfo.check_optim --update-known-failures
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
import time
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

import lazyt as lt

HERE = Path(__file__).resolve().parent
KNOWN_FAILURES = HERE / "known_failures.txt"
STEPS = 5
RESUME_STEPS = 1
SHAPES = [(3, 4), (5,), (2, 3, 2)]
SHAPES_2D = [(3, 4), (5, 2)]  # Muon optimizes 2-D parameters only
# Optimizers whose step takes a closure (LBFGS: up to 20 iterations a step)
# minimise an ill-conditioned quadratic that they do not solve within the
# steps compared, so that parameters and state stay above rounding noise.
SHAPES_CLOSURE = [(8, 10), (30,)]
CURVATURE_CLOSURE = (1e-2, 1e2)
TOLERANCES = {np.float32: (1e-5, 1e-6), np.float64: (1e-9, 1e-11)}
# L-BFGS amplifies the rounding of its dot products (summed in another order
# than torch's) over its 20 iterations a step: after 2 steps in float32,
# torch's and lazyt's parameters are each ~3e-3 from torch's float64 ones
# (measured; ~0.1 after 3), so they run 1 step and 1 resumed step, float32
# with a loose tolerance and float64 with a tight one.
CLOSURE_TOLERANCES = {np.float32: (1e-2, 1e-2), np.float64: (1e-6, 1e-8)}
IMPL_FLAGS = ("foreach", "differentiable", "fused")


@dataclass
class Result:
    key: str
    passed: bool
    reason: str = ""


class Mismatch(Exception):
    """lazyt differs from torch; the message says where."""


def load_optim_db() -> list:
    warnings.filterwarnings("ignore")
    from torch.testing._internal.common_optimizers import optim_db

    return optim_db


# ------------------------------------------------------------- configurations

def configurations(info) -> list[tuple[str, dict]]:
    """(desc, kwargs) for every CPU configuration: each base config with the
    implementation flags off, then with each supported flag on in turn."""
    flags = [f for f in IMPL_FLAGS if f in info.supported_impls
             and (f != "fused" or "cpu" in info.supports_fused_on)]
    result = []
    for optim_input in info.optim_inputs_func("cpu", torch.float32):
        base = copy.deepcopy(optim_input.kwargs)
        for flag in flags:
            base[flag] = False
        result.append((optim_input.desc, base))
        for flag in flags:
            result.append((f"{optim_input.desc} & {flag}", {**copy.deepcopy(base), flag: True}))
    return _unique(result)


def cuda_configurations(info) -> list[tuple[str, dict]]:
    """(desc, kwargs) of the configurations optim_inputs_func gives for CUDA only."""
    on_cpu = {optim_input.desc for optim_input in info.optim_inputs_func("cpu", torch.float32)}
    return _unique([(i.desc, copy.deepcopy(i.kwargs))
                    for i in info.optim_inputs_func("cuda", torch.float32)
                    if i.desc not in on_cpu and i.kwargs.get("capturable")])


def _unique(pairs: list[tuple[str, object]]) -> list[tuple[str, object]]:
    seen: dict[str, int] = {}
    out = []
    for desc, value in pairs:
        seen[desc] = seen.get(desc, 0) + 1
        out.append((desc if seen[desc] == 1 else f"{desc} #{seen[desc]}", value))
    return out


def to_lazyt(value, memo: dict | None = None):
    """torch objects (tensors, inside tuples, lists and dicts) -> lazyt objects;
    a tensor met twice becomes one lazyt tensor (duplicate parameters stay so)."""
    memo = {} if memo is None else memo
    if isinstance(value, torch.Tensor):
        if id(value) not in memo:
            memo[id(value)] = _tensor_to_lazyt(value)
        return memo[id(value)]
    if isinstance(value, tuple):
        return tuple(to_lazyt(v, memo) for v in value)
    if isinstance(value, list):
        return [to_lazyt(v, memo) for v in value]
    if isinstance(value, dict):
        return {k: to_lazyt(v, memo) for k, v in value.items()}
    return value


def _tensor_to_lazyt(value: torch.Tensor):
    if value.is_complex() or value.layout != torch.strided:
        raise NotImplementedError(f"lazyt has no {value.dtype}/{value.layout} tensors")
    dtype = getattr(lt, str(value.dtype).removeprefix("torch."))
    out = lt.tensor(value.detach().numpy().copy(), dtype=dtype)
    if value.requires_grad:
        out.requires_grad_(True)
    if value.grad is not None:
        out.grad = _tensor_to_lazyt(value.grad)
    return out


def to_numpy(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().numpy()
    # tolist, not numpy(): reading a lazyt parameter through a zero-copy numpy
    # view between steps currently corrupts a replayed optimizer region (a
    # lazyt core bug reported separately); the oracle checks lazyt.optim.
    return np.array(value.detach().tolist(), dtype=str(value.dtype).split(".")[-1])


def dtype_name(tensor) -> str:
    return str(tensor.dtype).split(".")[-1]


# ------------------------------------------------------------------ the runs

class SideBySide:
    """The same parameters, gradients and optimizer in torch and in lazyt."""

    def __init__(self, info, kwargs: dict, np_dtype, torch_overrides: dict | None = None) -> None:
        self.info, self.kwargs, self.np_dtype = info, kwargs, np_dtype
        self.torch_kwargs = {**kwargs, **(torch_overrides or {})}
        shapes = SHAPES_2D if info.name == "Muon" else \
            SHAPES_CLOSURE if info.step_requires_closure else SHAPES
        rng = np.random.default_rng(0)
        self.initial = [rng.standard_normal(s).astype(np_dtype) for s in shapes]
        # the closure's loss: sum(0.5 * a * p**2 + b * p), a log-uniform
        low, high = np.log(CURVATURE_CLOSURE)
        self.curvature = [np.exp(rng.uniform(low, high, s)).astype(np_dtype) for s in shapes]
        self.slope = [rng.standard_normal(s).astype(np_dtype) for s in shapes]
        self.grad_rng = np.random.default_rng(1)
        # differentiable=True steps with grad mode on: torch forbids in-place
        # updates of leaves that require grad there, so those params do not.
        requires_grad = info.step_requires_closure or not kwargs.get("differentiable")
        self.torch_params = [torch.tensor(a, requires_grad=requires_grad) for a in self.initial]
        self.lazyt_params = [lt.tensor(a, requires_grad=requires_grad) for a in self.initial]

    def constructors(self):
        torch_cls = self.info.optim_cls
        lazyt_cls = getattr(lt.optim, torch_cls.__name__)
        return (lambda params: torch_cls(params, **self.torch_kwargs),
                lambda params: lazyt_cls(params, **to_lazyt(self.kwargs)))

    def closure(self, lib, optimizer, params):
        def closure():
            optimizer.zero_grad()
            loss = 0
            for p, a, b in zip(params, self.curvature, self.slope):
                a = lib.tensor(a)
                b = lib.tensor(b)
                loss = loss + (0.5 * a * p * p + b * p).sum()
            loss.backward()
            return loss
        return closure

    def step_both(self, torch_opt, lazyt_opt, lazyt_params) -> None:
        if self.info.step_requires_closure:
            torch_step = lambda: torch_opt.step(self.closure(torch, torch_opt, self.torch_params))  # noqa: E731
            lazyt_step = lambda: lazyt_opt.step(self.closure(lt, lazyt_opt, lazyt_params))  # noqa: E731
        else:
            for tp, lp in zip(self.torch_params, lazyt_params):
                g = self.grad_rng.standard_normal(tp.shape).astype(self.np_dtype)
                tp.grad = torch.tensor(g)
                lp.grad = lt.tensor(g)
            torch_step, lazyt_step = torch_opt.step, lazyt_opt.step
        same_outcome(torch_step, lazyt_step, "step")


def same_outcome(torch_fn, lazyt_fn, what: str):
    """Run both; when torch raises, lazyt must raise the same type and message."""
    try:
        expected = torch_fn()
    except Exception as torch_error:  # noqa: BLE001 - any error torch raises is the oracle
        try:
            lazyt_fn()
        except Exception as lazyt_error:  # noqa: BLE001
            if type(lazyt_error) is not type(torch_error) or \
                    str(torch_error) not in str(lazyt_error):
                raise Mismatch(f"{what}: torch raises {type(torch_error).__name__}"
                               f"({torch_error}), lazyt {type(lazyt_error).__name__}"
                               f"({lazyt_error})") from None
            raise ExpectedError() from None
        raise Mismatch(f"{what}: torch raises {type(torch_error).__name__}({torch_error}), "
                       "lazyt does not") from None
    return expected, lazyt_fn()


class ExpectedError(Exception):
    """Both torch and lazyt raised the same error: the configuration is done."""


def compare_params(torch_params, lazyt_params, np_dtype, where: str,
                   tolerances: dict = TOLERANCES) -> None:
    rtol, atol = tolerances[np_dtype]
    for i, (tp, lp) in enumerate(zip(torch_params, lazyt_params)):
        expected, actual = to_numpy(tp), to_numpy(lp)
        if actual.dtype != expected.dtype or actual.shape != expected.shape:
            raise Mismatch(f"{where}: param {i} is {actual.dtype}{list(actual.shape)}, "
                           f"torch's {expected.dtype}{list(expected.shape)}")
        if not np.allclose(actual, expected, rtol=rtol, atol=atol):
            worst = np.max(np.abs(actual - expected))
            raise Mismatch(f"{where}: param {i} differs from torch's by up to {worst:.3g}")


def compare_values(expected, actual, np_dtype, where: str,
                   tolerances: dict = TOLERANCES) -> None:
    """A state or param-group value: tensors by dtype, shape and value."""
    if isinstance(expected, torch.Tensor):
        if not isinstance(actual, lt.Tensor):
            raise Mismatch(f"{where}: torch has a tensor, lazyt {type(actual).__name__} "
                           f"{actual!r}")
        if dtype_name(actual) != dtype_name(expected) or \
                tuple(actual.shape) != tuple(expected.shape):
            raise Mismatch(f"{where}: lazyt {dtype_name(actual)}{list(actual.shape)}, torch "
                           f"{dtype_name(expected)}{list(expected.shape)}")
        rtol, atol = tolerances[np.float32 if dtype_name(expected) != "float64" else np_dtype]
        if not np.allclose(to_numpy(actual), to_numpy(expected), rtol=rtol, atol=atol,
                           equal_nan=True):
            raise Mismatch(f"{where}: lazyt {to_numpy(actual)} , torch {to_numpy(expected)}")
    elif isinstance(expected, (list, tuple)):
        if type(actual) is not type(expected) or len(actual) != len(expected):
            raise Mismatch(f"{where}: lazyt {actual!r}, torch {expected!r}")
        for i, (e, a) in enumerate(zip(expected, actual)):
            compare_values(e, a, np_dtype, f"{where}[{i}]", tolerances)
    elif isinstance(expected, dict):
        if set(expected) != set(actual):
            raise Mismatch(f"{where}: keys {sorted(map(str, actual))}, torch's "
                           f"{sorted(map(str, expected))}")
        for k in expected:
            compare_values(expected[k], actual[k], np_dtype, f"{where}[{k!r}]", tolerances)
    elif isinstance(expected, float) and isinstance(actual, float):
        rtol, atol = tolerances[np_dtype]
        if not np.isclose(actual, expected, rtol=rtol, atol=atol):
            raise Mismatch(f"{where}: lazyt {actual!r}, torch {expected!r}")
    elif type(actual) is not type(expected) or actual != expected:
        raise Mismatch(f"{where}: lazyt {actual!r}, torch {expected!r}")


def compare_state_dicts(torch_sd: dict, lazyt_sd: dict, np_dtype, where: str,
                        tolerances: dict = TOLERANCES, group_values: dict | None = None) -> None:
    """group_values: param-group entries lazyt was given and torch was not."""
    if group_values:
        torch_sd = {**torch_sd, "param_groups": [{**g, **group_values}
                                                 for g in torch_sd["param_groups"]]}
    if set(lazyt_sd) != set(torch_sd):
        raise Mismatch(f"{where}: keys {sorted(lazyt_sd)}, torch's {sorted(torch_sd)}")
    compare_values(torch_sd["state"], lazyt_sd["state"], np_dtype, f"{where} state",
                   tolerances)
    compare_values(torch_sd["param_groups"], lazyt_sd["param_groups"], np_dtype,
                   f"{where} param_groups", tolerances)


def check_configuration(info, kwargs: dict, np_dtype, torch_overrides: dict | None = None):
    """Raises Mismatch where lazyt differs from torch (torch_overrides: the
    kwargs torch gets instead, for a configuration torch runs on CUDA only)."""
    run = SideBySide(info, kwargs, np_dtype, torch_overrides)
    patch = {k: kwargs[k] for k in (torch_overrides or {})}
    make_torch, make_lazyt = run.constructors()
    tol = CLOSURE_TOLERANCES if info.step_requires_closure else TOLERANCES
    steps, resume_steps = STEPS, RESUME_STEPS
    if info.step_requires_closure:  # (float32's rounding noise grows ~30x a step)
        steps, resume_steps = 1, 1  # (the resumed step runs on the loaded history)
    try:
        torch_opt, lazyt_opt = same_outcome(lambda: make_torch(run.torch_params),
                                            lambda: make_lazyt(run.lazyt_params),
                                            "constructor")
        for step in range(steps):
            run.step_both(torch_opt, lazyt_opt, run.lazyt_params)
            compare_params(run.torch_params, run.lazyt_params, np_dtype, f"step {step + 1}", tol)
        compare_state_dicts(torch_opt.state_dict(), lazyt_opt.state_dict(), np_dtype,
                            f"after {steps} steps: state_dict", tol, patch)
        # Fresh optimizers on copies of the parameters, each loaded from its
        # library's own state_dict (loading casts state to the parameters'
        # dtype), must continue alike.
        run.torch_params = [torch.tensor(to_numpy(p), requires_grad=p.requires_grad)
                            for p in run.torch_params]
        resumed_params = [lt.tensor(to_numpy(p), requires_grad=p.requires_grad)
                          for p in run.lazyt_params]
        torch_resumed = make_torch(run.torch_params)
        torch_resumed.load_state_dict(torch_opt.state_dict())
        resumed = make_lazyt(resumed_params)
        resumed.load_state_dict(lazyt_opt.state_dict())
        compare_state_dicts(torch_resumed.state_dict(), resumed.state_dict(), np_dtype,
                            "after load_state_dict: state_dict", tol, patch)
        for step in range(resume_steps):
            run.step_both(torch_resumed, resumed, resumed_params)
            compare_params(run.torch_params, resumed_params, np_dtype,
                           f"resumed step {step + 1}", tol)
        compare_state_dicts(torch_resumed.state_dict(), resumed.state_dict(), np_dtype,
                            "after resuming: state_dict", tol, patch)
    except ExpectedError:
        return


# --------------------------------------------------------------- error inputs

def default_error_params(info, dtype):
    shape = (2, 3) if info.name == "Muon" else (3,)
    return [torch.ones(shape, dtype=dtype, requires_grad=True)]


def check_error_input(info, error_input) -> str | None:
    """None when lazyt raises as torch does; 'skip: ...' when the input is
    out of lazyt's scope (complex, sparse); raises Mismatch otherwise."""
    optim_input = error_input.optimizer_error_input
    params = optim_input.params
    if params is None:
        params = default_error_params(info, torch.float32)
    try:
        lazyt_params = to_lazyt(params)
        kwargs = to_lazyt(optim_input.kwargs)
    except NotImplementedError as e:
        return f"skip: {e}"
    lazyt_cls = getattr(lt.optim, info.name)
    expected = error_input.error_type
    step_error = error_input.error_on.name == "STEP_ERROR"

    def act():
        optimizer = lazyt_cls(lazyt_params, **kwargs)
        if step_error:
            for group in optimizer.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        p.grad = lt.ones_like(p)
            closure = (lambda: lt.tensor(0.0)) if info.step_requires_closure else None
            optimizer.step(closure)

    if issubclass(expected, Warning):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                act()
            except Exception as e:  # noqa: BLE001
                raise Mismatch(f"raises {type(e).__name__}({e}) instead of warning "
                               f"{expected.__name__}") from None
        messages = [str(w.message) for w in caught if issubclass(w.category, expected)]
        if not any(re.search(error_input.error_regex, m) for m in messages):
            raise Mismatch(f"no {expected.__name__} matching {error_input.error_regex!r} "
                           f"(warned: {messages})")
        return None
    try:
        act()
    except Exception as e:  # noqa: BLE001
        if type(e) is not expected or not re.search(error_input.error_regex, str(e)):
            raise Mismatch(f"raises {type(e).__name__}({e}), torch "
                           f"{expected.__name__} matching {error_input.error_regex!r}") from None
        return None
    raise Mismatch(f"does not raise; torch raises {expected.__name__} matching "
                   f"{error_input.error_regex!r}")


# ------------------------------------------------------------------- driver

def _first_line(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}" if not isinstance(error, Mismatch) else str(error)
    return " ".join(text.split())[:300]


def check_optimizer_info(info) -> list[Result]:
    """Every configuration (float32; float64 for those without an
    implementation flag) and every error input of one OptimizerInfo."""
    name = info.name
    if not hasattr(lt.optim, name):
        return [Result(name, False, f"not implemented: lazyt.optim has no {name}")]
    results = []
    cases = [(f"{name}.{desc}", kwargs, np.float32, None)
             for desc, kwargs in configurations(info)]
    if info.step_requires_closure:  # float32 is a loose check there: the first config only
        cases = cases[:1]
    # (Muon orthogonalizes in bfloat16 whatever the parameters' dtype: no float64 run)
    cases += [(f"{name}.{desc}.float64", kwargs, np.float64, None)
              for desc, kwargs in configurations(info)
              if not any(kwargs.get(flag) for flag in IMPL_FLAGS) and name != "Muon"]
    # The configurations torch runs on CUDA only (capturable=True, whose
    # step torch refuses on the CPU): lazyt's capturable path (the per-step
    # scalars as tensors) against torch's capturable=False numbers.
    cases += [(f"{name}.{desc} [cuda config]", kwargs, np.float32, {"capturable": False})
              for desc, kwargs in cuda_configurations(info)]
    for key, kwargs, np_dtype, torch_overrides in cases:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                check_configuration(info, kwargs, np_dtype, torch_overrides)
            results.append(Result(key, True))
        except Mismatch as e:
            results.append(Result(key, False, _first_line(e)))
        except Exception as e:  # noqa: BLE001 - a lazyt crash is a failure of this key
            results.append(Result(key, False, _first_line(e)))
    if info.optim_error_inputs_func is not None:
        errors = info.optim_error_inputs_func("cpu", torch.float32)
        for desc, error_input in _unique([(e.optimizer_error_input.desc, e) for e in errors]):
            key = f"{name}.error.{desc}"
            try:
                outcome = check_error_input(info, error_input)
                if outcome is None:
                    results.append(Result(key, True))
            except Mismatch as e:
                results.append(Result(key, False, _first_line(e)))
            except Exception as e:  # noqa: BLE001
                results.append(Result(key, False, _first_line(e)))
    return results


def run_all(names: list[str] | None = None) -> list[Result]:
    results = []
    for info in load_optim_db():
        if names and info.name not in names:
            continue
        results += check_optimizer_info(info)
    return results


# ------------------------------------------------------------ known failures

def read_known_failures(path: Path = KNOWN_FAILURES) -> dict[str, str]:
    known = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, sep, reason = line.partition(" :: ")
        known[key.strip()] = reason.strip() if sep else ""
    return known


def compare_with_known(results: list[Result], known: dict[str, str],
                       names: list[str] | None = None) -> tuple[list[str], list[str]]:
    """(regressions: failing keys not listed, fixed: listed keys that pass)."""
    regressions = [f"{r.key} :: {r.reason}" for r in results
                   if not r.passed and r.key not in known]
    passed = {r.key for r in results if r.passed}
    ran = {r.key for r in results}
    fixed = [k for k in known if k in passed]
    if not names:
        fixed += [f"{k} (no such key any more)" for k in known if k not in ran]
    return regressions, fixed


HEADER = """\
# Keys of PyTorch's optim_db that knowingly fail tests/optiminfo, one line each:
#     <Optimizer>.<config desc>[.float64] :: <reason>
#     <Optimizer>.error.<error input desc> :: <reason>
# The test fails when a key fails that is not listed here, and when a listed key
# passes: the list only shrinks. Regenerate (keeps the reasons written here):
#     python -m tests.optiminfo.check_optim --update-known-failures
"""


def write_known_failures(results: list[Result], path: Path = KNOWN_FAILURES) -> None:
    old = read_known_failures(path) if path.exists() else {}
    lines = [f"{r.key} :: {old.get(r.key) or 'fails: ' + r.reason}"
             for r in results if not r.passed]
    path.write_text(HEADER + "\n" + "\n".join(lines) + ("\n" if lines else ""))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="optimizer class names (default: all)")
    parser.add_argument("--update-known-failures", action="store_true")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    results = run_all(args.names or None)
    failed = [r for r in results if not r.passed]
    for r in failed:
        print(f"FAIL {r.key} :: {r.reason}")
    print(f"{len(results) - len(failed)} of {len(results)} keys pass "
          f"({time.perf_counter() - start:.1f} s)")
    if args.update_known_failures:
        write_known_failures(results)
        return 0
    regressions, fixed = compare_with_known(results, read_known_failures(), args.names)
    for r in regressions:
        print("not in known_failures.txt:", r)
    for f in fixed:
        print("passes now (take it off known_failures.txt):", f)
    return 1 if regressions or fixed else 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Exception:
        traceback.print_exc()
        sys.exit(2)
