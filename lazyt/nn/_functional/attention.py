"""Attention: F.scaled_dot_product_attention and F.multi_head_attention_forward.

Where it sits: nn.MultiheadAttention (modules/attention.py) and the
Transformer layers call `multi_head_attention_forward`, which projects with
F.linear and attends with `scaled_dot_product_attention` (or, when the
attention weights are wanted, with an explicit softmax, as PyTorch does).

The attention core (scores, masks, softmax, weighted sum) is written with
lazyt ops and runs as one eager region: two batched matmuls (the BLAS
extern) with the scaling, masking and softmax fused between them. Rows that
every mask hides give zeros, as PyTorch's safe softmax does.
"""

from __future__ import annotations

import math
import warnings
from functools import lru_cache

from lazyt import creation, dtypes
from lazyt.elementwise import where
from lazyt.nn._functional.activation import softmax
from lazyt.nn._functional.dropout import dropout
from lazyt.nn._functional.linear import linear
from lazyt.nn._functional.padding import pad
from lazyt.regions import run_region
from lazyt.shape_ops import cat
from lazyt.tensor import Tensor

_MASK_CACHE_SIZE = 64
_C10_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
              "bfloat16": "c10::BFloat16"}


@lru_cache(maxsize=_MASK_CACHE_SIZE)
def _causal_mask(target: int, source: int, device: str) -> Tensor:
    """(L, S) bool: True where query i may attend key j (j <= i)."""
    return creation.ones(target, source, dtype=dtypes.bool_).tril().to(device).realize()


def _attention_weights(query: Tensor, key: Tensor, mask: Tensor | None, scale: float,
                       masked: bool) -> Tensor:
    """softmax(q k^T * scale (+ mask)); a bool mask keeps where True, and a
    row the mask hides entirely gets zero weights (PyTorch's safe softmax)."""
    scores = (query @ key.transpose(-2, -1)) * scale
    if mask is not None:
        if mask.dtype is dtypes.bool_:
            scores = scores.masked_fill(mask.logical_not(), -math.inf)
        else:
            scores = scores + mask
    if not masked:
        return softmax(scores, -1)
    hidden = (scores == -math.inf).all(-1, keepdim=True)
    return where(hidden, 0.0, softmax(where(hidden, 0.0, scores), -1))


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """Attention of query (..., L, E) over key (..., S, E) and value (..., S, Ev)."""
    if query.dtype != key.dtype or query.dtype != value.dtype:
        names = [_C10_NAMES.get(t.dtype.name, t.dtype.name) for t in (query, key, value)]
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got "
                           f"query.dtype: {names[0]} key.dtype: {names[1]} and value.dtype: "
                           f"{names[2]} instead.")
    if not query.dtype.is_floating_point:
        raise RuntimeError(f"scaled_dot_product_attention: expected floating point query, key "
                           f"and value, got {query.dtype}")
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise RuntimeError("scaled_dot_product_attention: expected query, key and value of at "
                           f"least 2 dimensions, got query {list(query.shape)}, key "
                           f"{list(key.shape)}, value {list(value.shape)}")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"scaled_dot_product_attention: query {list(query.shape)}, key "
                           f"{list(key.shape)} and value {list(value.shape)} do not fit: "
                           "expected query (..., L, E), key (..., S, E), value (..., S, Ev)")
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set "
                           "when is_causal=True")
    if attn_mask is not None and attn_mask.dtype is not dtypes.bool_ \
            and attn_mask.dtype != query.dtype:
        raise RuntimeError(f"Expected attn_mask dtype to be bool or float or to match query "
                           f"dtype, but got attn_mask.dtype: {attn_mask.dtype} and  "
                           f"query.dtype: {query.dtype} instead.")
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        heads, kv_heads = query.shape[-3], key.shape[-3]
        if kv_heads == 0 or heads % kv_heads or value.shape[-3] != kv_heads:
            raise RuntimeError(f"scaled_dot_product_attention: number of heads in key/value "
                               f"({kv_heads}) must divide the number of heads in query "
                               f"({heads})")
        key = key.repeat_interleave(heads // kv_heads, -3)
        value = value.repeat_interleave(heads // kv_heads, -3)
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    mask = attn_mask
    if is_causal:
        mask = _causal_mask(query.shape[-2], key.shape[-2], str(query.device))
    masked = mask is not None
    if dropout_p > 0.0:  # random numbers: op by op, not a recorded region
        weights = _attention_weights(query, key, mask, scale, masked)
        return dropout(weights, dropout_p, training=True) @ value

    def attend(query, key, value, mask):
        return _attention_weights(query, key, mask, scale, masked) @ value

    # One fused region in eager mode (regions.py): the two matmuls with the
    # scaling, masking and softmax between them; one grad_fn.
    return run_region("scaled_dot_product_attention", attend, (query, key, value, mask),
                      (scale, masked))


def _canonical_mask(mask: Tensor | None, name: str, dtype) -> Tensor | None:
    """A bool mask (True = hide) as an additive float mask, as PyTorch's."""
    if mask is None:
        return None
    if mask.dtype is not dtypes.bool_ and not mask.dtype.is_floating_point:
        raise AssertionError(f"only bool and floating types of {name} are supported")
    if mask.dtype is dtypes.bool_:
        return creation.zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill(
            mask, -math.inf)
    return mask


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads) -> bool:
    """Whether the inputs are batched; PyTorch's shape errors otherwise."""
    if query.ndim == 3:
        if key.ndim != 3 or value.ndim != 3:
            raise AssertionError("For batched (3-D) `query`, expected `key` and `value` to be 3-D"
                                 f" but found {key.ndim}-D and {value.ndim}-D tensors "
                                 "respectively")
        if key_padding_mask is not None and key_padding_mask.ndim != 2:
            raise AssertionError("For batched (3-D) `query`, expected `key_padding_mask` to be "
                                 f"`None` or 2-D but found {key_padding_mask.ndim}-D tensor "
                                 "instead")
        if attn_mask is not None and attn_mask.ndim not in (2, 3):
            raise AssertionError("For batched (3-D) `query`, expected `attn_mask` to be `None`, "
                                 f"2-D or 3-D but found {attn_mask.ndim}-D tensor instead")
        return True
    if query.ndim == 2:
        if key.ndim != 2 or value.ndim != 2:
            raise AssertionError("For unbatched (2-D) `query`, expected `key` and `value` to be "
                                 f"2-D but found {key.ndim}-D and {value.ndim}-D tensors "
                                 "respectively")
        if key_padding_mask is not None and key_padding_mask.ndim != 1:
            raise AssertionError("For unbatched (2-D) `query`, expected `key_padding_mask` to be "
                                 f"`None` or 1-D but found {key_padding_mask.ndim}-D tensor "
                                 "instead")
        if attn_mask is not None:
            if attn_mask.ndim not in (2, 3):
                raise AssertionError("For unbatched (2-D) `query`, expected `attn_mask` to be "
                                     f"`None`, 2-D or 3-D but found {attn_mask.ndim}-D tensor "
                                     "instead")
            expected = (num_heads, query.shape[0], key.shape[0])
            if attn_mask.ndim == 3 and tuple(attn_mask.shape) != expected:
                raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got "
                                     f"{attn_mask.shape}")
        return False
    raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received "
                         f"{query.ndim}-D query tensor")


def _in_projection(query, key, value, in_proj_weight, in_proj_bias, separate):
    """q, k, v projected: with the packed (3E, E) weight, or (q, k, v) weights."""
    if separate is not None:
        q_weight, k_weight, v_weight = separate
        biases = (None,) * 3 if in_proj_bias is None else in_proj_bias.chunk(3)
        return (linear(query, q_weight, biases[0]), linear(key, k_weight, biases[1]),
                linear(value, v_weight, biases[2]))
    weights = in_proj_weight.chunk(3)
    biases = (None,) * 3 if in_proj_bias is None else in_proj_bias.chunk(3)
    if query is key and key is value:  # self-attention: one projection
        projected = linear(query, in_proj_weight, in_proj_bias)
        return projected.chunk(3, -1)
    return (linear(query, weights[0], biases[0]), linear(key, weights[1], biases[1]),
            linear(value, weights[2], biases[2]))


def multi_head_attention_forward(
        query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int, num_heads: int,
        in_proj_weight: Tensor | None, in_proj_bias: Tensor | None, bias_k: Tensor | None,
        bias_v: Tensor | None, add_zero_attn: bool, dropout_p: float, out_proj_weight: Tensor,
        out_proj_bias: Tensor | None, training: bool = True,
        key_padding_mask: Tensor | None = None, need_weights: bool = True,
        attn_mask: Tensor | None = None, use_separate_proj_weight: bool = False,
        q_proj_weight: Tensor | None = None, k_proj_weight: Tensor | None = None,
        v_proj_weight: Tensor | None = None, static_k: Tensor | None = None,
        static_v: Tensor | None = None, average_attn_weights: bool = True,
        is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
    """PyTorch's multi-head attention on (L, N, E) inputs (or unbatched (L, E))."""
    batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    target_len, batch, embed_dim = query.shape
    source_len = key.shape[0]
    if key_padding_mask is not None and attn_mask is not None \
            and key_padding_mask.dtype != attn_mask.dtype:
        warnings.warn("Support for mismatched key_padding_mask and attn_mask is deprecated. Use "
                      "same type for both instead.", stacklevel=2)
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", query.dtype)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match "
                                 f"value's {value.shape[:2]}")
        q, k, v = _in_projection(query, key, value, None, in_proj_bias,
                                 (q_proj_weight, k_proj_weight, v_proj_weight))
    else:
        if tuple(key.shape) != tuple(value.shape):
            raise AssertionError(f"key shape {key.shape} does not match value shape "
                                 f"{value.shape}")
        q, k, v = _in_projection(query, key, value, in_proj_weight, in_proj_bias, None)
    if attn_mask is not None:
        if attn_mask.ndim == 2:
            if tuple(attn_mask.shape) != (target_len, source_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but "
                                   f"should be {(target_len, source_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.ndim == 3:
            wanted = (batch * num_heads, target_len, source_len)
            if tuple(attn_mask.shape) != wanted:
                raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but "
                                   f"should be {wanted}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.ndim} is not supported")
    if bias_k is not None and bias_v is not None:
        k = cat([k, bias_k.repeat(1, batch, 1)])
        v = cat([v, bias_v.repeat(1, batch, 1)])
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
    q = q.reshape(target_len, batch * num_heads, head_dim).transpose(0, 1)
    k = k.reshape(k.shape[0], batch * num_heads, head_dim).transpose(0, 1) \
        if static_k is None else static_k
    v = v.reshape(v.shape[0], batch * num_heads, head_dim).transpose(0, 1) \
        if static_v is None else static_v
    if add_zero_attn:
        zeros = creation.zeros((batch * num_heads, 1, head_dim), dtype=k.dtype, device=k.device)
        k, v = cat([k, zeros], 1), cat([v, zeros], 1)
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
    source_len = k.shape[1]
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (batch, source_len):
            raise AssertionError(f"expecting key_padding_mask shape of {(batch, source_len)}, "
                                 f"but got {key_padding_mask.shape}")
        key_padding_mask = key_padding_mask.reshape(batch, 1, 1, source_len).expand(
            -1, num_heads, -1, -1).reshape(batch * num_heads, 1, source_len)
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask
    if not training:
        dropout_p = 0.0
    if need_weights:
        scores = (q * math.sqrt(1.0 / head_dim)) @ k.transpose(-2, -1)
        if attn_mask is not None:
            scores = scores + attn_mask
        weights = softmax(scores, -1)
        if dropout_p > 0.0:
            weights = dropout(weights, dropout_p)
        out = (weights @ v).transpose(0, 1).reshape(target_len * batch, embed_dim)
        out = linear(out, out_proj_weight, out_proj_bias).reshape(target_len, batch, -1)
        weights = weights.reshape(batch, num_heads, target_len, source_len)
        if average_attn_weights:
            weights = weights.mean(1)
        if not batched:
            out, weights = out.squeeze(1), weights.squeeze(0)
        return out, weights
    if attn_mask is not None:
        attn_mask = attn_mask.unsqueeze(0) if attn_mask.shape[0] == 1 else \
            attn_mask.reshape(batch, num_heads, -1, source_len)
    q = q.reshape(batch, num_heads, target_len, head_dim)
    k = k.reshape(batch, num_heads, source_len, head_dim)
    v = v.reshape(batch, num_heads, source_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(batch * target_len, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(target_len, batch, -1)
    return (out if batched else out.squeeze(1)), None
