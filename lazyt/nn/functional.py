"""lazyt.nn.functional: PyTorch's torch.nn.functional, written with lazyt ops.

A table of contents; the implementations live in lazyt/nn/_functional/, one
file per concern (activations, losses, convolution, pooling, normalisation,
dropout, embeddings, padding, linear layers).
"""

from lazyt.nn._functional.activation import (
                                             celu,
                                             elu,
                                             gelu,
                                             glu,
                                             hardshrink,
                                             hardsigmoid,
                                             hardswish,
                                             hardtanh,
                                             leaky_relu,
                                             log_softmax,
                                             logsigmoid,
                                             mish,
                                             prelu,
                                             relu,
                                             relu6,
                                             relu_,
                                             rrelu,
                                             rrelu_,
                                             selu,
                                             sigmoid,
                                             silu,
                                             softmax,
                                             softmin,
                                             softplus,
                                             softshrink,
                                             softsign,
                                             tanh,
                                             tanhshrink,
                                             threshold,
)
from lazyt.nn._functional.attention import (
                                             multi_head_attention_forward,
                                             scaled_dot_product_attention,
)
from lazyt.nn._functional.conv import (
                                             conv1d,
                                             conv2d,
                                             conv3d,
                                             conv_transpose1d,
                                             conv_transpose2d,
                                             conv_transpose3d,
                                             fold,
                                             unfold,
)
from lazyt.nn._functional.ctc import ctc_loss
from lazyt.nn._functional.distance import pdist
from lazyt.nn._functional.dropout import (
                                             alpha_dropout,
                                             dropout,
                                             dropout1d,
                                             dropout2d,
                                             dropout3d,
                                             feature_alpha_dropout,
)
from lazyt.nn._functional.fractional_pooling import fractional_max_pool2d, fractional_max_pool3d
from lazyt.nn._functional.grid_sample import grid_sample
from lazyt.nn._functional.linear import bilinear, linear
from lazyt.nn._functional.loss import (
                                             binary_cross_entropy,
                                             binary_cross_entropy_with_logits,
                                             cosine_similarity,
                                             cross_entropy,
                                             huber_loss,
                                             kl_div,
                                             l1_loss,
                                             linear_cross_entropy,
                                             margin_ranking_loss,
                                             mse_loss,
                                             nll_loss,
                                             pairwise_distance,
                                             poisson_nll_loss,
                                             smooth_l1_loss,
)
from lazyt.nn._functional.margin_loss import (
                                             cosine_embedding_loss,
                                             gaussian_nll_loss,
                                             hinge_embedding_loss,
                                             multi_margin_loss,
                                             multilabel_margin_loss,
                                             multilabel_soft_margin_loss,
                                             soft_margin_loss,
                                             triplet_margin_loss,
                                             triplet_margin_with_distance_loss,
)
from lazyt.nn._functional.normalization import (
                                             batch_norm,
                                             group_norm,
                                             instance_norm,
                                             layer_norm,
                                             local_response_norm,
                                             normalize,
                                             rms_norm,
)
from lazyt.nn._functional.padding import pad
from lazyt.nn._functional.pixel_shuffle import channel_shuffle, pixel_shuffle, pixel_unshuffle
from lazyt.nn._functional.pooling import (
                                             adaptive_avg_pool1d,
                                             adaptive_avg_pool2d,
                                             adaptive_avg_pool3d,
                                             adaptive_max_pool1d,
                                             adaptive_max_pool2d,
                                             adaptive_max_pool3d,
                                             avg_pool1d,
                                             avg_pool2d,
                                             avg_pool3d,
                                             lp_pool1d,
                                             lp_pool2d,
                                             lp_pool3d,
                                             max_pool1d,
                                             max_pool2d,
                                             max_pool3d,
)
from lazyt.nn._functional.sparse import embedding, embedding_bag, one_hot
from lazyt.nn._functional.unpooling import max_unpool1d, max_unpool2d, max_unpool3d
from lazyt.nn._functional.upsampling import (
                                             interpolate,
                                             upsample,
                                             upsample_bilinear,
                                             upsample_nearest,
)
from lazyt.out_arguments import with_out

__all__ = [
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d",
    "adaptive_max_pool2d", "alpha_dropout", "avg_pool1d", "avg_pool2d", "avg_pool3d",
    "batch_norm", "bilinear", "binary_cross_entropy", "binary_cross_entropy_with_logits", "celu",
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "cosine_similarity", "cross_entropy", "dropout", "dropout1d",
    "dropout2d", "dropout3d", "elu", "embedding", "embedding_bag", "gelu", "glu", "group_norm",
    "hardshrink", "hardsigmoid", "hardswish", "hardtanh", "huber_loss", "instance_norm", "interpolate",
    "kl_div", "l1_loss", "layer_norm", "leaky_relu", "linear", "local_response_norm",
    "log_softmax", "logsigmoid", "margin_ranking_loss", "max_pool1d", "max_pool2d",
    "max_pool3d", "mish", "mse_loss", "multi_head_attention_forward", "nll_loss", "normalize", "one_hot", "pad", "pairwise_distance",
    "pixel_shuffle", "pixel_unshuffle", "poisson_nll_loss", "prelu", "relu", "relu6", "relu_", "rms_norm", "scaled_dot_product_attention", "selu", "sigmoid", "silu",
    "smooth_l1_loss", "softmax", "softmin", "softplus", "softshrink", "softsign", "tanh",
    "tanhshrink", "threshold", "unfold", "upsample", "upsample_bilinear", "upsample_nearest",
    # margin, embedding and likelihood losses (margin_loss.py)
    "cosine_embedding_loss", "gaussian_nll_loss", "hinge_embedding_loss", "multi_margin_loss",
    "multilabel_margin_loss", "multilabel_soft_margin_loss", "soft_margin_loss",
    "triplet_margin_loss", "triplet_margin_with_distance_loss",
    "adaptive_max_pool3d", "channel_shuffle", "feature_alpha_dropout", "pdist", "rrelu", "rrelu_",
    "max_unpool1d", "max_unpool2d", "max_unpool3d", "ctc_loss", "grid_sample",
    "fold", "lp_pool1d", "lp_pool2d", "lp_pool3d", "fractional_max_pool2d",
    "fractional_max_pool3d", "linear_cross_entropy",
]

# PyTorch's C++-backed functionals take out= (F.gelu(x, out=y)); these get
# the same wrapper as lt.* (lazyt/out_arguments.py).
avg_pool2d = with_out("avg_pool2d", avg_pool2d)
avg_pool3d = with_out("avg_pool3d", avg_pool3d)
gelu = with_out("gelu", gelu)
hardshrink = with_out("hardshrink", hardshrink)
linear = with_out("linear", linear)
logsigmoid = with_out("logsigmoid", logsigmoid)
softplus = with_out("softplus", softplus)
softshrink = with_out("softshrink", softshrink)
