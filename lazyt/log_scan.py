"""logcumsumexp: the running log-sum-exp along a dimension, numerically stable.

Frontend layer, composed of lazyt ops (so its gradient comes from theirs): each
output is a logsumexp over the prefix it covers, never exp of an unshifted input, so
no prefix underflows to -inf or overflows to inf however far apart the values are.
Blocks of up to `BLOCK` elements take the logsumexp of their masked prefixes
(BLOCK^2 elements per block); a longer dimension is cut into blocks whose running
totals are scanned the same way (recursively, one level per factor of BLOCK) and
added back with logaddexp. It runs as an eager region (lazyt/regions.py): one fused
replay, one grad_fn named LogcumsumexpBackward0 as in PyTorch. lazyt/real_math.py
exports it.
"""

from __future__ import annotations

import math

from lazyt import creation, reductions, shape_ops
from lazyt import elementwise as ew
from lazyt.regions import run_region
from lazyt.tensor import Tensor, normalize_dim

BLOCK = 64


def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    if input.dtype.kind != "f":
        name = ew.TORCH_NAMES[input.dtype.name]
        raise NotImplementedError(f"\"logcumsumexp_out_cpu\" not implemented for '{name}'")
    if input.ndim == 0:
        normalize_dim(dim, 1)
        return ew.clone(input)
    dim = normalize_dim(dim, input.ndim)
    if input.numel() == 0:
        return ew.clone(input)
    return run_region("logcumsumexp", lambda x: _along_last(x.movedim(dim, -1)).movedim(
        -1, dim).contiguous(), (input,), (dim,), "LogcumsumexpBackward0")


def _minus_inf(like: Tensor, length: int) -> Tensor:
    return creation.full((*like.shape[:-1], length), -math.inf, dtype=like.dtype)


def _along_last(x: Tensor) -> Tensor:
    n = x.shape[-1]
    if n <= BLOCK:
        positions = creation.arange(n)
        in_prefix = ew.apply("le", positions, positions.reshape(n, 1))  # [i, j]: j <= i
        masked = ew.where(in_prefix, x.unsqueeze(-2), -math.inf)
        return reductions.logsumexp(masked, -1)
    blocks = -(-n // BLOCK)
    padded = x if blocks * BLOCK == n else shape_ops.cat(
        [x, _minus_inf(x, blocks * BLOCK - n)], -1)
    inner = _along_last(padded.reshape(*x.shape[:-1], blocks, BLOCK))
    carry = _along_last(inner[..., -1])
    before = shape_ops.cat([_minus_inf(carry, 1), carry[..., :-1]], -1)
    out = ew.apply("logaddexp", inner, before.unsqueeze(-1))
    return out.reshape(*x.shape[:-1], blocks * BLOCK)[..., :n]

