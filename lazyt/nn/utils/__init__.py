"""nn.utils, as torch.nn.utils: gradient clipping (clip_grad.py), parameters
as one vector (convert_parameters.py), the hook-based weight_norm and
spectral_norm (weight_norm.py, spectral_norm.py), parametrizations
(parametrize.py, parametrizations.py), Conv/Linear + BatchNorm fusion
(fusion.py), skip_init (init.py), conv weights' memory format
(memory_format.py), functional_call (stateless.py), pruning (prune.py) and
the padded / packed sequence helpers (rnn.py). Re-exports only."""

from lazyt.nn.utils import (
    clip_grad,
    convert_parameters,
    fusion,
    init,
    memory_format,
    parametrizations,
    parametrize,
    prune,
    rnn,
    stateless,
)
from lazyt.nn.utils.clip_grad import (
    clip_grad_norm,
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
)
from lazyt.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters
from lazyt.nn.utils.fusion import (
    fuse_conv_bn_eval,
    fuse_conv_bn_weights,
    fuse_linear_bn_eval,
    fuse_linear_bn_weights,
)
from lazyt.nn.utils.init import skip_init
from lazyt.nn.utils.memory_format import (
    convert_conv2d_weight_memory_format,
    convert_conv3d_weight_memory_format,
)
from lazyt.nn.utils.spectral_norm import remove_spectral_norm, spectral_norm
from lazyt.nn.utils.weight_norm import remove_weight_norm, weight_norm

__all__ = ["clip_grad", "clip_grad_norm", "clip_grad_norm_", "clip_grad_value_",
           "clip_grads_with_norm_", "convert_conv2d_weight_memory_format",
           "convert_conv3d_weight_memory_format", "convert_parameters", "fuse_conv_bn_eval",
           "fuse_conv_bn_weights", "fuse_linear_bn_eval", "fuse_linear_bn_weights", "fusion",
           "get_total_norm", "init", "memory_format", "parameters_to_vector",
           "parametrizations", "parametrize", "prune", "remove_spectral_norm",
           "remove_weight_norm", "rnn", "skip_init", "spectral_norm", "stateless",
           "vector_to_parameters", "weight_norm"]
