"""nn.utils: gradient clipping and parameter <-> vector conversion
(clip_grad.py), and the padded / packed sequence helpers of nn.utils.rnn
(rnn.py). Re-exports only."""

from lazyt.nn.utils import rnn
from lazyt.nn.utils.clip_grad import (
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
    parameters_to_vector,
    vector_to_parameters,
)

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm",
           "parameters_to_vector", "rnn", "vector_to_parameters"]
