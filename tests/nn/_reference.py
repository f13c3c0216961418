"""Straightforward numpy references for the nn tests (float64, no tricks).

Each follows the formula in PyTorch's documentation directly (sliding windows
for convolution and pooling, explicit sums for losses); tests compare lazyt's
forward values with these whether or not torch is installed.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def out_len(n: int, k: int, s: int, p: int, d: int = 1, ceil: bool = False) -> int:
    """PyTorch's documented output length (pooling's ceil_mode rule included)."""
    span = n + 2 * p - d * (k - 1) - 1
    out = (math.ceil(span / s) if ceil else span // s) + 1
    if ceil and (out - 1) * s >= n + p:
        out -= 1
    return out


def windows(x: np.ndarray, kernel, stride, pad_before, pad_after, dilation, fill: float):
    """(N, C, *spatial) -> (N, C, *out, *kernel) windows, padded with fill."""
    dims = len(kernel)
    pads = [(0, 0), (0, 0)] + [(b, a) for b, a in zip(pad_before, pad_after)]
    xp = np.pad(x, pads, constant_values=fill)
    spans = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    view = sliding_window_view(xp, spans, axis=tuple(range(2, 2 + dims)))
    index = (slice(None), slice(None)) + tuple(slice(None, None, s) for s in stride) + \
        tuple(slice(None, None, d) for d in dilation)
    return view[index]


def conv(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    dims = w.ndim - 2

    def as_tuple(v):
        return tuple(v) if isinstance(v, (tuple, list)) else (v,) * dims

    stride, dilation = as_tuple(stride), as_tuple(dilation)
    kernel = w.shape[2:]
    if padding == "same":
        totals = [d * (k - 1) for d, k in zip(dilation, kernel)]
        before = [t // 2 for t in totals]
        after = [t - bb for t, bb in zip(totals, before)]
    elif padding == "valid":
        before = after = [0] * dims
    else:
        before = after = list(as_tuple(padding))
    win = windows(x, kernel, stride, before, after, dilation, 0.0)
    n, c = x.shape[:2]
    o = w.shape[0]
    cg, og = c // groups, o // groups
    letters = "xyz"[:dims]
    klet = "uvw"[:dims]
    spec = f"nc{letters}{klet},oc{klet}->no{letters}"
    outs = [np.einsum(spec, win[:, g * cg:(g + 1) * cg], w[g * og:(g + 1) * og])
            for g in range(groups)]
    out = np.concatenate(outs, 1)
    if b is not None:
        out = out + b.reshape((1, -1) + (1,) * dims)
    return out


def max_pool(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    dims = x.ndim - 2
    kernel = (kernel_size,) * dims if isinstance(kernel_size, int) else tuple(kernel_size)
    stride = kernel if stride is None else ((stride,) * dims if isinstance(stride, int)
                                            else tuple(stride))
    padding = (padding,) * dims if isinstance(padding, int) else tuple(padding)
    dilation = (dilation,) * dims if isinstance(dilation, int) else tuple(dilation)
    outs = [out_len(n, k, s, p, d, ceil_mode) for n, k, s, p, d in
            zip(x.shape[2:], kernel, stride, padding, dilation)]
    after = [max(0, (o - 1) * s + d * (k - 1) + 1 - n - p) for o, s, d, k, n, p in
             zip(outs, stride, dilation, kernel, x.shape[2:], padding)]
    win = windows(x, kernel, stride, padding, after, dilation, -np.inf)
    win = win[(slice(None), slice(None)) + tuple(slice(0, o) for o in outs)]
    return win.reshape(win.shape[:2 + dims] + (-1,)).max(-1)


def avg_pool(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
             divisor_override=None):
    dims = x.ndim - 2
    kernel = (kernel_size,) * dims if isinstance(kernel_size, int) else tuple(kernel_size)
    stride = kernel if stride is None else ((stride,) * dims if isinstance(stride, int)
                                            else tuple(stride))
    padding = (padding,) * dims if isinstance(padding, int) else tuple(padding)
    ones = (1,) * dims
    outs = [out_len(n, k, s, p, 1, ceil_mode) for n, k, s, p in
            zip(x.shape[2:], kernel, stride, padding)]
    after = [max(0, (o - 1) * s + k - n - p) for o, s, k, n, p in
             zip(outs, stride, kernel, x.shape[2:], padding)]
    crop = (slice(None), slice(None)) + tuple(slice(0, o) for o in outs)
    total = windows(x, kernel, stride, padding, after, ones, 0.0)[crop]
    total = total.reshape(total.shape[:2 + dims] + (-1,)).sum(-1)
    if divisor_override:
        return total / divisor_override
    if count_include_pad:
        # Elements inside the zero padding count; those beyond it (ceil_mode) do not.
        inside = np.pad(np.ones((1, 1) + x.shape[2:]), [(0, 0), (0, 0)] +
                        [(p, p) for p in padding], constant_values=1.0)
        counts = windows(inside, kernel, stride, [0] * dims,
                         [max(0, a - p) for a, p in zip(after, padding)], ones, 0.0)[crop]
    else:
        counts = windows(np.ones((1, 1) + x.shape[2:]), kernel, stride, padding, after, ones,
                         0.0)[crop]
    counts = counts.reshape(counts.shape[:2 + dims] + (-1,)).sum(-1)
    return total / counts


def adaptive_avg_pool(x, output_size):
    dims = x.ndim - 2
    sizes = (output_size,) * dims if isinstance(output_size, int) else tuple(output_size)
    sizes = tuple(n if o is None else o for o, n in zip(sizes, x.shape[2:]))
    out = x
    for d, (n, o) in enumerate(zip(x.shape[2:], sizes)):
        axis = 2 + d
        parts = []
        for i in range(o):
            start, end = (i * n) // o, -(-((i + 1) * n) // o)
            parts.append(np.take(out, range(start, end), axis=axis).mean(axis, keepdims=True))
        out = np.concatenate(parts, axis)
    return out


def softmax(x, dim):
    e = np.exp(x - x.max(dim, keepdims=True))
    return e / e.sum(dim, keepdims=True)


def log_softmax(x, dim):
    shifted = x - x.max(dim, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(dim, keepdims=True))


def reduce(loss, reduction):
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


def nll_loss(logp, target, weight=None, ignore_index=-100, reduction="mean"):
    """logp (N, C, ...) or (C,), integer target."""
    class_dim = 0 if logp.ndim == 1 else 1
    c = logp.shape[class_dim]
    w = np.ones(c) if weight is None else weight
    keep = target != ignore_index
    safe = np.where(keep, target, 0)
    picked = np.take_along_axis(logp, np.expand_dims(safe, class_dim), class_dim)
    picked = np.squeeze(picked, class_dim)
    ew = w[safe] * keep
    loss = -picked * ew
    if reduction == "mean":
        return loss.sum() / ew.sum()
    return reduce(loss, reduction)


def cross_entropy(x, target, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    class_dim = 0 if x.ndim == 1 else 1
    c = x.shape[class_dim]
    logp = log_softmax(x, class_dim)
    w = np.ones(c) if weight is None else weight
    wshape = (-1,) + (1,) * (x.ndim - class_dim - 1)
    if np.issubdtype(target.dtype, np.floating):
        t = target * (1 - label_smoothing) + label_smoothing / c
        loss = -(logp * t * w.reshape(wshape)).sum(class_dim)
        return reduce(loss, reduction)
    keep = target != ignore_index
    safe = np.where(keep, target, 0)
    # Smoothed one-hot targets: (1 - eps) on the class, eps / C spread on all.
    onehot = np.moveaxis(np.eye(c)[safe], -1, class_dim)
    t = onehot * (1 - label_smoothing) + label_smoothing / c
    per_class = -logp * t * w.reshape(wshape)
    loss = per_class.sum(class_dim) * keep
    if reduction == "mean":
        if label_smoothing == 0.0:
            return loss.sum() / (w[safe] * keep).sum()
        # PyTorch: the nll part is normalised by the target weights, the
        # smoothing part by them too (or by the kept count without weights).
        nll = -np.squeeze(np.take_along_axis(logp, np.expand_dims(safe, class_dim), class_dim),
                          class_dim) * w[safe] * keep
        smooth = -(logp * w.reshape(wshape)).sum(class_dim) * keep
        denom_smooth = (w[safe] * keep).sum() if weight is not None else keep.sum()
        return (1 - label_smoothing) * nll.sum() / (w[safe] * keep).sum() + \
            label_smoothing / c * smooth.sum() / denom_smooth
    return reduce(loss, reduction)


def bce(p, t, weight=None, reduction="mean"):
    loss = -(t * np.maximum(np.log(p), -100) + (1 - t) * np.maximum(np.log(1 - p), -100))
    return reduce(loss if weight is None else loss * weight, reduction)


def bce_with_logits(x, t, weight=None, pos_weight=None, reduction="mean"):
    sig = 1 / (1 + np.exp(-x))
    pw = 1.0 if pos_weight is None else pos_weight
    loss = -(pw * t * np.log(sig) + (1 - t) * np.log(1 - sig))
    return reduce(loss if weight is None else loss * weight, reduction)


def layer_norm(x, shape, weight=None, bias=None, eps=1e-5):
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    mean = x.mean(axes, keepdims=True)
    var = x.var(axes, keepdims=True)
    out = (x - mean) / np.sqrt(var + eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def batch_norm_train(x, weight, bias, eps=1e-5):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mean = x.mean(axes, keepdims=True)
    var = x.var(axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight.reshape(shape) + bias.reshape(shape)


def group_norm(x, groups, weight, bias, eps=1e-5):
    n = x.shape[0]
    g = x.reshape(n, groups, -1)
    out = ((g - g.mean(2, keepdims=True)) / np.sqrt(g.var(2, keepdims=True) + eps))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return out.reshape(x.shape) * weight.reshape(shape) + bias.reshape(shape)


def gelu(x, approximate="none"):
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


ACTIVATIONS = {
    "relu": lambda x: np.maximum(x, 0),
    "relu6": lambda x: np.clip(x, 0, 6),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.01 * x),
    "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "selu": lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x)),
    "celu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "gelu": gelu,
    "silu": lambda x: x / (1 + np.exp(-x)),
    "mish": lambda x: x * np.tanh(np.log1p(np.exp(x))),
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "tanh": np.tanh,
    "hardtanh": lambda x: np.clip(x, -1, 1),
    "hardsigmoid": lambda x: np.clip(x / 6 + 0.5, 0, 1),
    "hardswish": lambda x: x * np.clip(x + 3, 0, 6) / 6,
    "softplus": lambda x: np.log1p(np.exp(x)),
    "softsign": lambda x: x / (1 + np.abs(x)),
    "logsigmoid": lambda x: -np.log1p(np.exp(-x)),
    "tanhshrink": lambda x: x - np.tanh(x),
    "softshrink": lambda x: np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0)),
    "hardshrink": lambda x: np.where(np.abs(x) > 0.5, x, 0),
}
