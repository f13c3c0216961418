"""lazyt: PyTorch's API over one small IR, JIT-compiled with LLVM.

This file is the public namespace: re-exports only, a table of contents.
"""

from lazyt.tensor import Size, Tensor, broadcast_shapes, is_tensor, numel
from lazyt import dtypes
from lazyt.dtypes import DType as dtype
from lazyt.dtypes import bool_ as bool
from lazyt.dtypes import (bfloat16, finfo, float16, float32, float64, get_default_dtype, iinfo,
                          int8, int16, int32, int64, promote_types, set_default_dtype, uint8)
from lazyt.runtime.device import device
from lazyt.autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from lazyt.autograd.grad_mode import is_inference_mode_enabled
from lazyt.autograd.anomaly_mode import (is_anomaly_check_nan_enabled, is_anomaly_enabled,
                                         set_anomaly_enabled)
# Loading the autograd engine registers the backward-graph recorders behind
# grad_mode's hooks and gives Tensor backward(), register_hook(), retain_grad().
import lazyt.autograd.engine
from lazyt.modes import CompileError, deferred, get_mode, set_mode
from lazyt.realization import realize
from lazyt import (counting, creation, elementwise, index_ops, indexing, linalg, math_ops,
                   reductions, shape_ops)
from lazyt import linalg_decompositions, linalg_norms, linalg_products
from lazyt import real_math, return_types
from lazyt import combinatorics, histograms, statistics
from lazyt import storage_api
from lazyt.storage_api import TypedStorage, UntypedStorage
from lazyt import linalg_lu, linalg_solvers
# Loading methods binds every op module's Tensor methods (lazyt/methods.py).
from lazyt import methods
from lazyt.conversions import from_dlpack
# Loading regions installs run_region as autograd's rule runner (grad_mode.RULE_RUNNER).
from lazyt import regions
from lazyt import cuda
from lazyt.formats import (channels_last, channels_last_3d, contiguous_format, layout,
                           memory_format, preserve_format, strided)
from lazyt.settings import (are_deterministic_algorithms_enabled, get_default_device,
                            get_deterministic_debug_mode, get_float32_matmul_precision,
                            get_num_interop_threads, get_num_threads,
                            is_deterministic_algorithms_warn_only_enabled,
                            is_warn_always_enabled, set_default_device,
                            set_deterministic_debug_mode, set_float32_matmul_precision,
                            set_flush_denormal, set_num_interop_threads, set_num_threads,
                            set_warn_always, use_deterministic_algorithms)
from lazyt.random import (Generator, default_generator, get_rng_state, initial_seed, manual_seed,
                          seed, set_rng_state)

__version__ = "0.1.0"

half, float, double = float16, float32, float64  # noqa: A001
short, int, long = int16, int32, int64  # noqa: A001
from lazyt.out_arguments import with_out
from lazyt.tensor_types import TYPES as _LEGACY_TENSOR_TYPES

globals().update(_LEGACY_TENSOR_TYPES)  # FloatTensor, LongTensor, ... (types, as in PyTorch)


def result_type(tensor1, tensor2):
    return dtypes.result_type(tensor1, tensor2)


def can_cast(from_, to) -> bool:
    return elementwise._can_cast(from_, to)


def is_floating_point(t) -> bool:
    return t.is_floating_point()


def is_complex(t) -> bool:
    return t.is_complex()


def is_nonzero(t) -> bool:
    return t.is_nonzero()


def is_same_size(t, other) -> bool:
    return t.is_same_size(other)


def is_signed(t) -> bool:
    return t.is_signed()


def get_device(t) -> int:
    return t.get_device()


def is_storage(obj) -> bool:
    return isinstance(obj, (storage_api.UntypedStorage, storage_api.TypedStorage))


def typename(obj) -> str:
    """'lazyt.FloatTensor' for a float32 tensor (t.type()), else the object's type name."""
    if isinstance(obj, Tensor):
        return obj.type()
    kind = type(obj)
    return kind.__qualname__ if kind.__module__ in ("builtins", "__builtin__") else \
        f"{kind.__module__}.{kind.__qualname__}"


def _export(table: dict) -> None:
    """Publish an op table; each function accepts out= (lazyt/out_arguments.py)."""
    globals().update({name: with_out(name, function) for name, function in table.items()})


for _module in (creation, elementwise, math_ops, reductions, shape_ops, indexing, index_ops,
                counting, linalg, linalg_products, linalg_norms, linalg_decompositions,
                real_math, statistics, combinatorics, histograms, linalg_solvers, linalg_lu):
    _export(_module.FUNCTIONS)
del _module
# View copies and scatters, ATen names, strided creation (the views branch).
from lazyt import aten_ops, inplace_views, strided_creation, view_copies
from lazyt.aten_ops import ops
for _module in (view_copies, aten_ops, strided_creation, inplace_views):
    _export(_module.FUNCTIONS)
del _module


def _function_of_method(name: str):
    method = getattr(Tensor, name)

    def function(input, *args, **kwargs):
        return method(input, *args, **kwargs)

    function.__name__ = name
    function.__doc__ = f"lazyt.{name}(input, ...) is input.{name}(...)."
    return function


# View and shape methods that PyTorch also exposes as functions.
for _name in ("reshape", "view_as_real", "transpose", "swapaxes", "swapdims", "permute", "t",
              "squeeze", "unsqueeze", "flatten", "unflatten", "ravel", "narrow", "select",
              "unbind", "split", "chunk", "tensor_split", "movedim", "moveaxis",
              "broadcast_to", "detach", "contiguous", "as_strided"):
    if hasattr(Tensor, _name):
        globals()[_name] = _function_of_method(_name)
del _name


from lazyt.compile import compile, jit

# Loaded on first use (PEP 562): namespaces that bind no Tensor method and
# register nothing, and the names re-exported from them. Importing them all
# up front cost more than the rest of the package (`python -X importtime`).
_LAZY_SUBMODULES = ("accelerator", "amp", "backends", "debug", "distributed", "distributions",
                    "fft", "func", "masked", "nn", "optim", "signal", "special", "testing",
                    "utils")
_LAZY_NAMES = {
    **dict.fromkeys(("_native_batch_norm_legit", "_softmax_backward_data", "native_batch_norm",
                     "native_group_norm", "native_layer_norm"), "lazyt.nn._functional.native"),
    "pdist": "lazyt.nn._functional.distance",
    **dict.fromkeys(("grid_sampler_2d", "grid_sampler_3d"), "lazyt.nn._functional.grid_sample"),
    "channel_shuffle": "lazyt.nn._functional.pixel_shuffle",
    **dict.fromkeys(("gru", "gru_cell", "lstm", "lstm_cell", "rnn_relu", "rnn_relu_cell",
                     "rnn_tanh", "rnn_tanh_cell"), "lazyt.nn._functional.rnn"),
    **dict.fromkeys(("load", "save"), "lazyt.serialization"),
    "set_printoptions": "lazyt.printing",
    "vmap": "lazyt.func",
    # torch.* names of nn ops, with their ATen signatures
    **dict.fromkeys(("dropout", "dropout_", "alpha_dropout", "feature_alpha_dropout",
                     "native_dropout", "layer_norm", "group_norm", "batch_norm",
                     "instance_norm", "embedding", "conv1d", "conv2d", "conv3d",
                     "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "max_pool1d",
                     "max_pool2d", "max_pool3d", "max_pool1d_with_indices", "avg_pool1d",
                     "adaptive_avg_pool1d", "adaptive_max_pool1d", "pixel_shuffle",
                     "pixel_unshuffle", "cosine_similarity", "pairwise_distance", "bilinear",
                     "prelu", "selu", "selu_", "celu", "celu_", "rrelu", "rrelu_", "threshold",
                     "threshold_", "hardshrink", "kl_div", "binary_cross_entropy_with_logits",
                     "cosine_embedding_loss", "margin_ranking_loss", "hinge_embedding_loss",
                     "triplet_margin_loss", "poisson_nll_loss", "ctc_loss"), "lazyt.aten_nn"),
    **dict.fromkeys(("autocast", "get_autocast_dtype", "is_autocast_available",
                     "is_autocast_enabled"), "lazyt.amp"),
    **dict.fromkeys(("bartlett_window", "blackman_window", "hamming_window", "hann_window",
                     "kaiser_window"), "lazyt.signal.torch_windows"),
}


def __getattr__(name: str):
    """A lazy submodule or name, imported (and kept in the namespace) on first use."""
    import importlib  # (here: only a first use of a lazy name needs it)

    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"lazyt.{name}")  # (the import binds it here too)
    module = _LAZY_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'lazyt' has no attribute '{name}'")
    value = globals()[name] = getattr(importlib.import_module(module), name)
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY_SUBMODULES) | set(_LAZY_NAMES))
