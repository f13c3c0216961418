"""One ModuleInfo of PyTorch's module_db against lazyt.nn, sample by sample.

For each sample (training mode, and eval mode where the ModuleInfo says the two
differ, both in the full run) the torch module is built from the sample's
constructor input, lazyt's `nn.<Name>` is built from the same arguments
translated by tests/opinfo/translate.py, torch's state (parameters and buffers)
is loaded into it with `load_state_dict`, and both run forward on the same
inputs: outputs must agree in structure, dtype, shape and values (random
modules: dtype and shape only), and so must the buffers the forward updates
(BatchNorm's running statistics). Then the sum of the floating outputs is
backpropagated on both and the input gradients and every parameter's `.grad`
are compared. A sample torch rejects must be rejected by lazyt with the same
exception class.
"""

from __future__ import annotations

import functools
import inspect
import math
import signal
import types
import warnings
from dataclasses import dataclass

import torch

import lazyt as lt
from tests.opinfo.translate import Unsupported, lazyt_callable, to_lazyt, to_torch

CI_SAMPLES_PER_MODE = 2  # evenly spread over a ModuleInfo's samples
# CI runs the float64 and non-contiguous checks (one sample each) on the modules
# users reach for most; every kernel compiles afresh in CI, and each dtype and
# layout is a kernel of its own. The full run checks them on every module.
CI_COMMON = {"nn.Linear", "nn.Conv1d", "nn.Conv2d", "nn.ConvTranspose2d", "nn.BatchNorm1d",
             "nn.BatchNorm2d", "nn.LayerNorm", "nn.GroupNorm", "nn.Embedding", "nn.LSTM",
             "nn.GRU", "nn.MultiheadAttention", "nn.TransformerEncoderLayer",
             "nn.CrossEntropyLoss", "nn.NLLLoss", "nn.MSELoss", "nn.BCEWithLogitsLoss",
             "nn.MaxPool2d", "nn.AvgPool2d", "nn.AdaptiveAvgPool2d", "nn.GELU", "nn.ReLU",
             "nn.Softmax"}
RANDOM_MODULES = {"RReLU", "FractionalMaxPool2d", "FractionalMaxPool3d", "Dropout", "Dropout1d",
                  "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"}
TIME_LIMIT_S = 120  # per ModuleInfo; generous for a loaded CI machine


class Mismatch(AssertionError):
    """lazyt's result differs from torch's."""


class ModuleTimeout(BaseException):
    """A ModuleInfo ran past its time (a BaseException: the checks' `except Exception` miss it)."""


@dataclass
class SampleResult:
    key: str
    passed: bool
    reason: str = ""


def sample_key(module_info, mode, index: int) -> str:
    """"nn.LSTM[train#3]": the ModuleInfo, the mode and the sample's position."""
    return f"{module_info.name}[{mode.name}#{index}]"


def lazyt_class(module_info):
    return getattr(lt.nn, module_info.module_cls.__name__, None)


def spread(count: int, limit: int | None) -> list[int]:
    """`limit` indices spread evenly over range(count) (all of them when limit is None)."""
    if limit is None or count <= limit:
        return list(range(count))
    if limit == 1:
        return [0]
    return sorted({round(i * (count - 1) / (limit - 1)) for i in range(limit)})


def _first_line(error: BaseException) -> str:
    lines = [t.strip() for t in str(error).strip().splitlines() if t.strip()]
    return f"{type(error).__name__}: {lines[0] if lines else ''}"[:300]


# ------------------------------------------------------------------ translation

def _encoder_layer_settings(layer) -> dict:
    activation = layer.activation
    if isinstance(activation, torch.nn.Module):
        activation = translate_argument(activation)
    else:
        activation = lazyt_callable(activation)
    return dict(d_model=layer.self_attn.embed_dim, nhead=layer.self_attn.num_heads,
                dim_feedforward=layer.linear1.out_features, dropout=layer.dropout.p,
                activation=activation, layer_norm_eps=layer.norm1.eps,
                batch_first=layer.self_attn.batch_first, norm_first=layer.norm_first,
                bias=layer.linear1.bias is not None)


# Torch modules with state passed to a constructor (TransformerEncoder(encoder_layer, 2)):
# lazyt's module of the same class with the same settings; the state comes later
# with the outer module's state_dict.
_MODULE_SETTINGS = {
    "TransformerEncoderLayer": _encoder_layer_settings,
    "TransformerDecoderLayer": _encoder_layer_settings,
    "Linear": lambda m: dict(in_features=m.in_features, out_features=m.out_features,
                             bias=m.bias is not None),
    "LayerNorm": lambda m: dict(normalized_shape=m.normalized_shape, eps=m.eps,
                                elementwise_affine=m.elementwise_affine,
                                bias=m.bias is not None or not m.elementwise_affine),
}


def translate_argument(value):
    """A sample's constructor/forward argument as lazyt objects (modules included)."""
    if isinstance(value, torch.nn.Module) and type(value).__name__ in _MODULE_SETTINGS:
        cls = getattr(lt.nn, type(value).__name__, None)
        if cls is None:
            raise Unsupported(f"lazyt has no nn.{type(value).__name__}")
        return cls(**_MODULE_SETTINGS[type(value).__name__](value))
    if isinstance(value, (types.BuiltinFunctionType, functools.partial)):  # activation=F.gelu
        found = lazyt_callable(value)
        if found is None:
            raise Unsupported(f"lazyt has no counterpart of {value!r}")
        return found
    if isinstance(value, list):
        return [translate_argument(v) for v in value]
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(translate_argument(v) for v in value)
    if isinstance(value, dict):
        return {k: translate_argument(v) for k, v in value.items()}
    return to_lazyt(value)


def _leaves(value) -> list:
    """Non-container items of a (nested) argument structure."""
    stack, found = [value], []
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        else:
            found.append(item)
    return found


def _tensor_leaves(value) -> list:
    """Tensors of a (nested) argument structure, in order."""
    stack, found = [value], []
    while stack:
        item = stack.pop()
        if isinstance(item, (torch.Tensor, lt.Tensor)):
            found.append(item)
        elif isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
    return found


# ------------------------------------------------------------------ comparison

def assert_close(got: torch.Tensor, expected: torch.Tensor, where: str,
                 tolerance: tuple[float, float]) -> None:
    """Values within (rtol, atol), atol scaled by the largest magnitude of torch's tensor."""
    rtol, atol = tolerance
    expected = expected.detach()
    scale = 1.0
    if expected.is_floating_point() and expected.numel():
        finite = expected[torch.isfinite(expected)]
        if finite.numel():
            scale = max(1.0, float(finite.abs().max()))
    try:
        torch.testing.assert_close(got, expected, rtol=rtol, atol=atol * scale, equal_nan=True,
                                   check_dtype=True)
    except AssertionError as error:
        lines = [x.strip() for x in str(error).splitlines() if x.strip()]
        raise Mismatch(f"{where}: wrong values ({'; '.join(lines[1:4])})") from None


def assert_same(actual, expected, where: str, *, values: bool = True,
                tolerance: tuple[float, float] = (1e-4, 1e-5)) -> None:
    """A lazyt result against torch's: structure, dtype, shape and (unless random) values."""
    if isinstance(expected, torch.Tensor):
        if not isinstance(actual, lt.Tensor):
            raise Mismatch(f"{where}: expected a Tensor, got {type(actual).__name__}")
        got = to_torch(actual)
        if got.dtype != expected.dtype:
            raise Mismatch(f"{where}: dtype {got.dtype} != torch's {expected.dtype}")
        if got.shape != expected.shape:
            raise Mismatch(f"{where}: shape {tuple(got.shape)} != torch's {tuple(expected.shape)}")
        if values:
            assert_close(got, expected, where, tolerance)
    elif isinstance(expected, (tuple, list)):
        if not isinstance(actual, (tuple, list)) or len(actual) != len(expected):
            raise Mismatch(f"{where}: expected a sequence of {len(expected)}, "
                           f"got {type(actual).__name__}")
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_same(a, e, f"{where}[{i}]", values=values, tolerance=tolerance)
    elif expected is None:
        if actual is not None:
            raise Mismatch(f"{where}: expected None, got {type(actual).__name__}")
    elif isinstance(expected, (bool, int, float)):
        if values and not (actual == expected or math.isclose(actual, expected, rel_tol=tolerance[0])):
            raise Mismatch(f"{where}: {actual!r} != torch's {expected!r}")


def _floating_outputs_sum(output, tensor_type):
    parts = [t for t in _tensor_leaves(output)
             if isinstance(t, tensor_type) and t.is_floating_point() and t.requires_grad]
    if not parts:
        return None
    total = parts[0].sum()
    for part in parts[1:]:
        total = total + part.sum()
    return total


def is_random(torch_module, training: bool) -> bool:
    """Whether the module draws random numbers in this mode (compare dtype/shape only)."""
    for sub in torch_module.modules():
        name = type(sub).__name__
        if name in ("FractionalMaxPool2d", "FractionalMaxPool3d"):
            if sub._random_samples is None:  # windows drawn at random
                return True
        if not training:
            continue
        if name in RANDOM_MODULES and getattr(sub, "p", 1) != 0:
            return True
        if name in ("MultiheadAttention", "RNN", "LSTM", "GRU") and sub.dropout:
            return True
    return False


# ------------------------------------------------------------------ one sample

@dataclass(frozen=True)
class Mode:
    """How a sample runs: "train" / "eval" in float32, "double": training in float64,
    the module built with dtype=torch.float64 where its constructor takes one."""
    name: str
    training: bool
    dtype: torch.dtype


TRAIN = Mode("train", True, torch.float32)
EVAL = Mode("eval", False, torch.float32)
DOUBLE = Mode("double", True, torch.float64)
NONCONTIGUOUS = Mode("noncontig", True, torch.float32)  # floating inputs as strided views
INIT_ELEMENTS = 2000  # values drawn per state tensor to compare default initialisations
INIT_MAX_BUILDS = 32
# Looser float32 tolerances where torch's own float32 result is far from float64's:
# CTC's forward-backward sums over every time step in log space.
LOOSER = {"nn.CTCLoss": (1e-3, 1e-4)}
TOLERANCES = {torch.float32: (1e-4, 1e-5), torch.float64: (1e-7, 1e-9)}


def _build(cls, args, kwargs, dtype_kwarg, dtype, training: bool):
    """cls(*args, **kwargs) in the mode's dtype (factory kwarg, else .to(dtype))."""
    if dtype_kwarg is not None:
        module = cls(*args, **kwargs, dtype=dtype_kwarg)
    else:
        module = cls(*args, **kwargs)
        if dtype is not None:
            module = module.to(dtype)
    module.train(training)
    return module


def _takes_dtype(module_cls, kwargs) -> bool:
    try:
        parameters = inspect.signature(module_cls.__init__).parameters
    except (TypeError, ValueError):
        return False
    return "dtype" in parameters and "dtype" not in kwargs


def _assert_same_layout(lazyt_module, torch_module) -> None:
    """repr, and the names, order, dtypes, shapes and requires_grad of parameters and state."""
    if repr(lazyt_module) != repr(torch_module):
        raise Mismatch(f"repr {repr(lazyt_module)!r:.150} != torch's {repr(torch_module)!r:.150}")
    got = [(n, tuple(p.shape), p.requires_grad) for n, p in lazyt_module.named_parameters()]
    want = [(n, tuple(p.shape), p.requires_grad) for n, p in torch_module.named_parameters()]
    if got != want:
        raise Mismatch(f"named_parameters {got} != torch's {want}")
    got_state = lazyt_module.state_dict()
    want_state = torch_module.state_dict()
    if list(got_state) != list(want_state):
        raise Mismatch(f"state_dict keys {list(got_state)} != torch's {list(want_state)}")
    for name, tensor in want_state.items():
        assert_same(got_state[name], tensor, f"state {name} before loading", values=False)


def fresh_leaves(value):
    """Tensors of an argument structure copied into new leaves (same strides where the
    layout allows it, same values and requires_grad)."""
    if isinstance(value, torch.Tensor):
        data = value.detach()
        copy = torch.empty_strided(tuple(data.shape), data.stride(), dtype=data.dtype)
        try:
            copy.copy_(data)
        except RuntimeError:  # an overlapping layout (an expanded input): dense instead
            copy = data.clone(memory_format=torch.contiguous_format)
        return copy.requires_grad_(value.requires_grad)
    if isinstance(value, list):
        return [fresh_leaves(v) for v in value]
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(fresh_leaves(v) for v in value)
    if isinstance(value, dict):
        return {k: fresh_leaves(v) for k, v in value.items()}
    return value


def noncontiguous(value):
    """Floating tensors of an argument structure as non-contiguous leaves (every other
    element of a buffer twice as wide), same values and requires_grad."""
    if isinstance(value, torch.Tensor):
        if not value.is_floating_point() or value.dim() == 0 or value.numel() == 0:
            return value
        wide = torch.empty(tuple(value.shape[:-1]) + (2 * value.shape[-1],), dtype=value.dtype)
        view = wide[..., ::2]
        with torch.no_grad():
            view.copy_(value)
        return view.requires_grad_(value.requires_grad)
    if isinstance(value, list):
        return [noncontiguous(v) for v in value]
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(noncontiguous(v) for v in value)
    if isinstance(value, dict):
        return {k: noncontiguous(v) for k, v in value.items()}
    return value


def _initial_state(build, seed_with, builds: int) -> dict[str, list[torch.Tensor]]:
    """Each floating state tensor of `builds` fresh modules, as float64 torch tensors."""
    states: dict[str, list[torch.Tensor]] = {}
    seed_with(0)  # once: torch.manual_seed costs a millisecond
    for _ in range(builds):
        for name, tensor in build().state_dict().items():
            tensor = tensor if isinstance(tensor, torch.Tensor) else to_torch(tensor)
            if tensor.is_floating_point():
                states.setdefault(name, []).append(tensor.detach().double().flatten())
    return states


def _assert_same_initialisation(build_torch, build_lazyt) -> None:
    """Default initialisation: deterministic ones exactly; random ones by mean and spread
    over enough fresh modules (INIT_ELEMENTS values per tensor) to keep noise far below
    the bounds (5 standard errors)."""
    smallest = min((t.numel() for t in build_torch().state_dict().values()
                    if t.is_floating_point() and t.numel()), default=1)
    builds = max(2, min(INIT_MAX_BUILDS, -(-INIT_ELEMENTS // smallest)))
    want = _initial_state(build_torch, torch.manual_seed, builds)
    got = _initial_state(build_lazyt, lt.manual_seed, builds)
    for name, torch_values in want.items():
        expected, actual = torch.cat(torch_values), torch.cat(got[name])
        if expected.numel() == 0:
            continue
        if all(torch.equal(v, torch_values[0]) for v in torch_values):  # not random
            if not torch.allclose(actual, expected, rtol=1e-6, atol=1e-7):
                raise Mismatch(f"initial {name}: {actual[:4].tolist()} != torch's "
                               f"{expected[:4].tolist()} (a deterministic initialisation)")
            continue
        spread_t, spread_l = float(expected.std()), float(actual.std())
        error = 5 * math.sqrt(2 / expected.numel())  # relative standard error, 5 times
        if abs(spread_l - spread_t) > error * spread_t * 1.5 or \
                abs(float(actual.mean() - expected.mean())) > error * spread_t:
            raise Mismatch(f"initial {name}: mean {float(actual.mean()):.4g} std {spread_l:.4g} "
                           f"!= torch's mean {float(expected.mean()):.4g} std {spread_t:.4g} "
                           f"({expected.numel()} values)")


def _check_initialisation(module_info, cls, ctor, lazyt_ctor, builds, fwd, lazyt_fwd,
                          lazy: bool) -> None:
    """Default initialisations: fresh modules of both libraries, after the sample's checks."""
    ctor_args, ctor_kwargs = ctor
    # (modules passed to the constructor were initialised once, outside: nothing to compare)
    if any(isinstance(v, torch.nn.Module) for v in _leaves(ctor_args) + _leaves(ctor_kwargs)):
        return
    torch_build, lazyt_build = builds

    def torch_fresh():
        module = _build(module_info.module_cls, *ctor, *torch_build, True)
        if lazy:
            with torch.no_grad():
                module(*fwd[0], **fwd[1])
        return module

    def lazyt_fresh():
        module = _build(cls, *lazyt_ctor, *lazyt_build, True)
        if lazy:
            with lt.no_grad():
                module(*lazyt_fwd[0], **lazyt_fwd[1])
        return module

    _assert_same_initialisation(torch_fresh, lazyt_fresh)


def check_sample(module_info, sample, mode: Mode, check_init: bool = False) -> None:
    """Raise Mismatch (or lazyt's error) when lazyt differs from torch on one sample."""
    cls = lazyt_class(module_info)
    ctor_args, ctor_kwargs = sample.constructor_input.args, sample.constructor_input.kwargs
    # Fresh leaves: module_db shares input tensors between samples, and the .grad one
    # sample leaves must not add into the next one's.
    fwd_args = fresh_leaves(sample.forward_input.args)
    fwd_kwargs = fresh_leaves(sample.forward_input.kwargs)
    # Translate before torch runs: an in-place module must not change what lazyt sees.
    if mode is NONCONTIGUOUS:
        fwd_args, fwd_kwargs = noncontiguous(fwd_args), noncontiguous(fwd_kwargs)
    lt_ctor_args, lt_ctor_kwargs = translate_argument(ctor_args), translate_argument(ctor_kwargs)
    lt_fwd_args = to_lazyt(fwd_args, grad_leaves=True)
    lt_fwd_kwargs = to_lazyt(fwd_kwargs, grad_leaves=True)
    factory = _takes_dtype(module_info.module_cls, ctor_kwargs) and mode.dtype != torch.float32
    torch_build = (torch.float64 if factory else None, None if factory else mode.dtype)
    # (both are moved to the mode's dtype, as torch's own module tests do: a float64
    # buffer passed to the constructor becomes float32 in the float32 runs)
    lazyt_build = (lt.float64 if factory else None,
                   None if factory else to_lazyt(mode.dtype))

    lazy = issubclass(module_info.module_cls, torch.nn.modules.lazy.LazyModuleMixin)
    torch.manual_seed(0)
    try:
        torch_module = _build(module_info.module_cls, ctor_args, ctor_kwargs, *torch_build,
                              mode.training)
        lazy_repr = repr(torch_module)
        if lazy:  # a dry run gives the state its shapes (and the module its final class)
            with torch.no_grad():
                torch_module(*fwd_args, **fwd_kwargs)
        torch_state = {k: v.detach().clone() for k, v in torch_module.state_dict().items()}
        expected = torch_module(*fwd_args, **fwd_kwargs)
    except Exception as error:  # torch rejects the sample: lazyt must reject it alike
        try:
            lazyt_module = _build(cls, lt_ctor_args, lt_ctor_kwargs, *lazyt_build, mode.training)
            lazyt_module(*lt_fwd_args, **lt_fwd_kwargs)
        except Exception as lazyt_error:
            if not isinstance(lazyt_error, type(error)):
                raise Mismatch(f"torch raises {_first_line(error)}; lazyt raises "
                               f"{_first_line(lazyt_error)}") from None
            return
        raise Mismatch(f"torch raises {_first_line(error)}; lazyt does not") from None

    lazyt_module = _build(cls, lt_ctor_args, lt_ctor_kwargs, *lazyt_build, mode.training)
    if lazy:
        if repr(lazyt_module) != lazy_repr:
            raise Mismatch(f"repr before the dry run {repr(lazyt_module)!r:.150} != torch's "
                           f"{lazy_repr!r:.150}")
        with lt.no_grad():
            lazyt_module(*lt_fwd_args, **lt_fwd_kwargs)
    _assert_same_layout(lazyt_module, torch_module)
    lazyt_module.load_state_dict({k: to_lazyt(v) for k, v in torch_state.items()})

    random = is_random(torch_module, mode.training)
    tolerance = TOLERANCES[mode.dtype]
    if mode.dtype == torch.float32:
        tolerance = LOOSER.get(module_info.name, tolerance)
    actual = lazyt_module(*lt_fwd_args, **lt_fwd_kwargs)
    assert_same(actual, expected, "output", values=not random, tolerance=tolerance)
    # Buffers a forward updates (running statistics, num_batches_tracked).
    lazyt_buffers = dict(lazyt_module.named_buffers())
    for name, buffer in torch_module.named_buffers():
        if name not in lazyt_buffers:
            raise Mismatch(f"buffer {name}: lazyt has no such buffer")
        assert_same(lazyt_buffers[name], buffer, f"buffer {name} after forward",
                    values=not random, tolerance=tolerance)

    torch_total = _floating_outputs_sum(expected, torch.Tensor)
    if torch_total is not None and not random:
        _check_gradients(module_info, torch_module, lazyt_module, expected, actual,
                         (fwd_args, fwd_kwargs), (lt_fwd_args, lt_fwd_kwargs), tolerance)
    if check_init:
        _check_initialisation(module_info, cls, (ctor_args, ctor_kwargs),
                              (lt_ctor_args, lt_ctor_kwargs), (torch_build, lazyt_build),
                              (fwd_args, fwd_kwargs), (lt_fwd_args, lt_fwd_kwargs), lazy)


def _check_gradients(module_info, torch_module, lazyt_module, expected, actual, fwd, lazyt_fwd,
                     tolerance) -> None:
    """Backward the sum of the floating outputs on both; compare input and parameter grads."""
    torch_total = _floating_outputs_sum(expected, torch.Tensor)
    lazyt_total = _floating_outputs_sum(actual, lt.Tensor)
    if lazyt_total is None:
        raise Mismatch("output: torch's requires grad, lazyt's does not")
    torch_total.backward()
    lazyt_total.backward()
    torch_inputs = _tensor_leaves(fwd)
    lazyt_inputs = _tensor_leaves(lazyt_fwd)
    for i, (t_in, l_in) in enumerate(zip(torch_inputs, lazyt_inputs)):
        if t_in.requires_grad and t_in.is_leaf:
            assert_same(l_in.grad, t_in.grad, f"grad of input {i}", tolerance=tolerance)
    lazyt_params = dict(lazyt_module.named_parameters())
    for name, param in torch_module.named_parameters():
        assert_same(lazyt_params[name].grad, param.grad, f"grad of parameter {name}",
                    tolerance=tolerance)


# ------------------------------------------------------------------ one ModuleInfo

def _on_alarm(signum, frame):
    raise ModuleTimeout()


def planned_modes(module_info, full: bool) -> list[tuple[Mode, int | None]]:
    """(mode, samples to check: None for all) for a ModuleInfo; CI checks a few."""
    if full:
        return [(TRAIN, None), (EVAL, None), (DOUBLE, None), (NONCONTIGUOUS, None)]
    plan = [(TRAIN, CI_SAMPLES_PER_MODE)]
    if module_info.train_and_eval_differ:
        plan.append((EVAL, CI_SAMPLES_PER_MODE))
    if module_info.name in CI_COMMON:
        plan += [(DOUBLE, 1), (NONCONTIGUOUS, 1)]
    return plan


def check_moduleinfo(module_info, full: bool = False,
                     time_limit: int | None = None) -> list[SampleResult]:
    """The result of every sample checked (CI: a few spread samples per mode)."""
    time_limit = time_limit or TIME_LIMIT_S * (5 if full else 1)
    if lazyt_class(module_info) is None:
        return [SampleResult(module_info.name, False,
                             f"not implemented: lazyt has no nn.{module_info.module_cls.__name__}")]
    results = []
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(time_limit)
    try:
        for mode, limit in planned_modes(module_info, full):
            torch.manual_seed(0)
            samples = module_info.module_inputs_func(module_info, device="cpu", dtype=mode.dtype,
                                                     requires_grad=True, training=mode.training)
            for index in spread(len(samples), limit):
                key = sample_key(module_info, mode, index)
                try:
                    # Default initialisations: on the first sample of each run (all in --full).
                    check_init = mode is TRAIN and (full or index == 0)
                    check_sample(module_info, samples[index], mode, check_init)
                    results.append(SampleResult(key, True))
                except ModuleTimeout:
                    results.append(SampleResult(key, False, f"timeout: over {time_limit} s"))
                    return results
                except Unsupported as error:
                    results.append(SampleResult(key, False, f"unsupported: {error}"))
                except Mismatch as error:
                    results.append(SampleResult(key, False, f"wrong result: {error}"[:300]))
                except Exception as error:
                    results.append(SampleResult(key, False, f"fails: {_first_line(error)}"))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    return results


def load_module_db() -> list:
    """torch's module_db, then extra_modules.py's ModuleInfos."""
    warnings.filterwarnings("ignore")
    from torch.testing._internal.common_modules import module_db  # heavy: only when running

    from tests.moduleinfo.extra_modules import extra_module_db  # imports torch's test helpers

    return list(module_db) + extra_module_db({m.name for m in module_db})
