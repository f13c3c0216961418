"""linear and bilinear: the BLAS matmul extern plus a fused bias add."""

from __future__ import annotations

from lazyt.linalg import autocast_operands
from lazyt.regions import run_region
from lazyt.tensor import Tensor


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """input @ weight.T + bias, weight of shape (out_features, in_features)."""
    input, weight, bias = autocast_operands(input, weight, bias)
    in_shape, weight_shape = input._shape, weight._shape  # (no Size objects: every step calls this)
    if len(weight_shape) not in (1, 2):
        raise RuntimeError(f"linear(): weight should be 1-D or 2-D, got {weight.ndim}-D")
    if not in_shape or in_shape[-1] != weight_shape[-1]:
        in_rows = input.numel() // max(input.shape[-1], 1) if input.ndim else 1
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({in_rows}x"
            f"{input.shape[-1] if input.ndim else 1} and {weight.shape[-1]}x"
            f"{weight.shape[0] if weight.ndim == 2 else 1})")
    # One fused region in eager mode (regions.py): the matmul and the bias
    # add in one replay, one grad_fn whose backward is replayed too.
    # PyTorch's graph for 2-D operands: AddmmBackward0 over (bias, input,
    # TBackward0 of weight), MmBackward0 over (input, TBackward0 of weight).
    edges = None
    if bias is None:
        name = {(2, 2): "MmBackward0", (1, 1): "DotBackward0",
                (1, 2): "SqueezeBackward4"}.get((len(in_shape), len(weight_shape)),
                                                "ViewBackward0")
        if name == "MmBackward0":
            edges = ((0, False), (1, True))
    else:
        name = "AddmmBackward0" if len(in_shape) == 2 and len(weight_shape) == 2 \
            else "ViewBackward0"
        if name == "AddmmBackward0":
            edges = ((2, False), (0, False), (1, True))
    return run_region("linear", _linear, (input, weight, bias), (), name, edges=edges)


def _linear(input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    out = input @ (weight.t() if weight.ndim == 2 else weight)
    return out if bias is None else out + bias


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor,
             bias: Tensor | None = None) -> Tensor:
    """out[..., o] = input1[..., i] weight[o, i, j] input2[..., j] + bias[o]."""
    out_features, in1, in2 = weight.shape
    if input1.shape[-1] != in1 or input2.shape[-1] != in2:
        raise RuntimeError(f"bilinear(): input sizes {list(input1.shape)} and "
                           f"{list(input2.shape)} do not match weight {list(weight.shape)}")
    lead = tuple(input1.shape[:-1])
    left = input1.reshape(-1, in1) @ weight.permute(1, 0, 2).reshape(in1, out_features * in2)
    out = (left.reshape(-1, out_features, in2) * input2.reshape(-1, 1, in2)).sum(-1)
    out = out.reshape(*lead, out_features)
    return out if bias is None else out + bias
