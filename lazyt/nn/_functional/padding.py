"""F.pad: constant, reflect, replicate and circular padding.

Zero padding is the IR's pad movement: a masked view of the input that
reads zero outside it (one copy kernel in eager mode; in deferred mode index
arithmetic in the kernel that reads it, such as a convolution's col2im). Other
constants write the input into a filled tensor of the padded shape (one fill +
one strided copy). Either way the gradient is a view of the output's;
negative pads crop. The other modes gather each padded dim with an index
computed from the shape (index_select, whose gradient scatter-adds).
Differentiated, the result's grad_fn is PyTorch's (ConstantPadNdBackward0,
ReflectionPad2DBackward0, ...: regions.differentiated_as).
"""

from __future__ import annotations

from lazyt import creation
from lazyt.autograd import grad_mode
from lazyt.autograd.rules import rule
from lazyt.ir.node import make_node
from lazyt.regions import differentiated_as
from lazyt.tensor import Tensor


def _pairs(input: Tensor, pad) -> list[tuple[int, int, int]]:
    """(dim, before, after) for each padded dim, last dim first (PyTorch's order)."""
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.ndim:
        raise RuntimeError("Padding length should be less than or equal to two times the "
                           f"input dimension but got padding length {len(pad)} and input of "
                           f"dimension {input.ndim}")
    return [(input.ndim - 1 - i, pad[2 * i], pad[2 * i + 1]) for i in range(len(pad) // 2)]


def _constant(input: Tensor, pairs, value: float) -> Tensor:
    for dim, before, after in pairs:  # negative pads crop first
        if before < 0 or after < 0:
            start, stop = max(-before, 0), input.shape[dim] - max(-after, 0)
            if stop <= start:
                raise RuntimeError(f"The input size {input.shape[dim]}, plus negative padding "
                                   f"{before} and {after} resulted in a negative output size, "
                                   "which is invalid. Check dimension "
                                   f"{dim} of your input.")
            input = input.narrow(dim, start, stop - start)
    pairs = [(d, max(b, 0), max(a, 0)) for d, b, a in pairs]
    if all(b == 0 and a == 0 for _, b, a in pairs):
        return input.clone()
    if value == 0:
        pads = [(0, 0)] * input.ndim
        for dim, before, after in pairs:
            pads[dim] = (before, after)
        shape = tuple(n + b + a for n, (b, a) in zip(input.shape, pads))
        with grad_mode.no_grad():
            out = Tensor._from_node(make_node("movement", input.dtype, shape, (input._load(),),
                                              ("pad", (tuple(pads),))))
        grad_mode.record("zero_pad", out, (input,), pads=tuple(pads))
        return out
    shape = list(input.shape)
    index: list = [slice(None)] * input.ndim
    for dim, before, after in pairs:
        shape[dim] += before + after
        index[dim] = slice(before, before + input.shape[dim])
    out = creation.full(shape, value, dtype=input.dtype, device=input.device)
    out[tuple(index)] = input
    return out


@rule("zero_pad", "ConstantPadNdBackward0")
def _zero_pad_backward(ctx, grad):
    pads = ctx.kw["pads"]
    return (grad[tuple(slice(b, n - a) for n, (b, a) in zip(grad.shape, pads))],)


def _source_index(size: int, before: int, after: int, mode: str) -> list[int]:
    positions = range(-before, size + after)
    if mode == "replicate":
        return [min(max(i, 0), size - 1) for i in positions]
    if mode == "circular":
        return [i % size for i in positions]
    period = 2 * size - 2  # reflect: mirror without repeating the edge
    out = []
    for i in positions:
        i = abs(i) % period if period else 0
        out.append(period - i if i >= size else i)
    return out


def _gathered(input: Tensor, pairs, mode: str) -> Tensor:
    for dim, before, after in pairs:
        size = input.shape[dim]
        if mode == "reflect" and (before >= size or after >= size):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding "
                               f"input dimension, but got: padding ({before}, {after}) at "
                               f"dimension {dim} of input {list(input.shape)}")
        if mode == "circular" and (before > size or after > size):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if before == 0 and after == 0:
            continue
        index = creation.tensor(_source_index(size, before, after, mode), device=input.device)
        input = input.index_select(dim, index)
    return input


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    pairs = _pairs(input, pad)
    if mode == "constant":
        fill = 0.0 if value is None else value
        return differentiated_as("constant_pad_nd", lambda x: _constant(x, pairs, fill),
                                 (input,), (tuple(pairs), fill), "ConstantPadNdBackward0")
    if value is not None and value != 0:
        raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument.")
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if len(pairs) > 3 or input.ndim not in (len(pairs) + 1, len(pairs) + 2):
        # PyTorch pads the last k dims of a (k+1)- or (k+2)-d input only (a
        # batch dim and a channel dim, or just channels).
        raise NotImplementedError(
            f"Padding size {2 * len(pairs)} is not supported for {input.ndim}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    if mode == "circular":  # (PyTorch's is a composite of copies too)
        return _gathered(input, pairs, mode)
    kind = "Reflection" if mode == "reflect" else "Replication"
    return differentiated_as(f"{mode}_pad", lambda x: _gathered(x, pairs, mode), (input,),
                             (tuple(pairs),), f"{kind}Pad{len(pairs)}DBackward0")
