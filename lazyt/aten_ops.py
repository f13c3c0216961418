"""PyTorch's lower-level names for ops lazyt already has: `unsafe_chunk`,
`unsafe_split`, `sum_to_size`, `constant_pad_nd`, and the `lt.ops.aten`
namespace (`lt.ops.aten.slice.Tensor(x, dim, start, end, step)`, the op
PyTorch's OpInfo database calls `slice`).

Each one is a thin front for the public op it names (split, chunk, sum,
F.pad, basic indexing), so it builds the same IR and has the same gradient.
"""

from __future__ import annotations

import builtins

from lazyt import creation, reductions
from lazyt.autograd import grad_mode
from lazyt.tensor import _SCALAR_NAMES, Tensor, normalize_dim, normalize_shape


def unsafe_split(input: Tensor, split_size: int, dim: int = 0) -> tuple[Tensor, ...]:
    """split, with views PyTorch does not check for in-place writes (here: split)."""
    return input.split(split_size, dim)


def unsafe_chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    return input.chunk(chunks, dim)


def unsafe_split_with_sizes(input: Tensor, split_sizes, dim: int = 0) -> tuple[Tensor, ...]:
    return input.split(list(split_sizes), dim)


def sum_to_size(self: Tensor, *size) -> Tensor:
    """Sum self down to `size`, a shape that broadcasts to self's (autograd's sum_to)."""
    if not size:
        raise TypeError('sum_to_size() missing 1 required positional arguments: "size"')
    target = normalize_shape(size)
    shape = tuple(self.shape)
    lead = len(shape) - len(target)
    if lead < 0 or builtins.any(t != s and t != 1 for t, s in zip(target, shape[lead:])):
        raise RuntimeError(f"size {{{list(target)}}} is not expandable to size {{{list(shape)}}}.")
    if not target:  # PyTorch's sum_to: the empty shape is a full sum (int64 for bools)
        return reductions.sum(self)
    if target == shape:
        return self
    out = self
    if lead:
        out = reductions.sum(out, tuple(range(lead)))
    ones = tuple(d for d, (t, s) in enumerate(zip(target, out.shape)) if t == 1 and s != 1)
    if ones:
        out = reductions.sum(out, ones, keepdim=True)
    return out


def constant_pad_nd(input: Tensor, pad, value=0) -> Tensor:
    """F.pad(input, pad, "constant", value): negative pads crop."""
    from lazyt.nn._functional.padding import pad as functional_pad  # nn sits above op modules
    if not isinstance(value, (int, float)) and not (isinstance(value, Tensor)
                                                    and value.ndim == 0):
        raise TypeError("constant_pad_nd(): argument 'value' (position 3) must be Number, not "
                        f"{type(value).__name__}")
    pad = list(pad)
    if len(pad) % 2:
        raise RuntimeError(f"Length of pad must be even but instead it equals {len(pad)}")
    if len(pad) > 2 * input.ndim:
        raise RuntimeError("Length of pad should be no more than twice the number of dimensions "
                           f"of the input. Pad length is {len(pad)}while the input has "
                           f"{input.ndim}dimensions.")
    return functional_pad(input, pad, "constant", value)


def aten_slice(self: Tensor, dim: int = 0, start: int | None = None, end: int | None = None,
               step: int = 1) -> Tensor:
    """aten::slice.Tensor: self[..., start:end:step] along dim, a view."""
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    dim = normalize_dim(dim, self.ndim, scalar_ok=False)
    return self[(builtins.slice(None),) * dim + (builtins.slice(start, end, step),)]


class OpPacket:
    """An ATen op with its overloads as attributes (`aten.slice.Tensor`), as torch.ops has."""

    def __init__(self, name: str, function, overloads: tuple[str, ...]):
        self.__name__ = name
        self.default = function
        for overload in overloads:
            setattr(self, overload, function)

    def __call__(self, *args, **kwargs):
        return self.default(*args, **kwargs)

    def __repr__(self) -> str:
        return f"lazyt.ops.aten.{self.__name__}"


class AtenNamespace:
    """lt.ops.aten: the ATen ops lazyt exposes by their torch.ops names."""

    slice = OpPacket("slice", aten_slice, ("Tensor",))


class OpsNamespace:
    """lt.ops, as torch.ops: namespaces of low-level ops."""

    aten = AtenNamespace()


ops = OpsNamespace()

def set_(self: Tensor, source: Tensor | None = None) -> Tensor:
    """self becomes a view of source's storage with source's shape and
    strides (of an empty storage without source), as PyTorch's set_."""
    grad_mode.check_inplace(self)
    if source is None:
        source = creation.empty(0, dtype=self.dtype)
    if not isinstance(source, Tensor):
        raise TypeError(f"set_(): argument 'source' must be Tensor, not {type(source).__name__}")
    if source.dtype is not self.dtype:
        raise RuntimeError(f"Could not set tensor of type {_SCALAR_NAMES[source.dtype.name]} to "
                           f"a tensor of type {_SCALAR_NAMES[self.dtype.name]}")
    self.data = source
    return self


def dim_order(self: Tensor) -> tuple[int, ...]:
    """The dims from outermost to innermost in memory (largest stride first)."""
    strides = self.stride()
    return tuple(sorted(range(self.ndim), key=lambda d: (-strides[d], d)))


def to_dense(self: Tensor, dtype=None, *, masked_grad=None) -> Tensor:
    """A strided tensor is dense already: itself (cast when dtype is given)."""
    return self if dtype is None else self.to(dtype)


def ger(self: Tensor, vec2: Tensor) -> Tensor:
    """The deprecated name of outer."""
    return self.outer(vec2)


def hardshrink(self: Tensor, lambd: float = 0.5) -> Tensor:
    from lazyt.nn import functional  # (nn sits above the core: loaded on first use)

    return functional.hardshrink(self, lambd)


def prelu(self: Tensor, weight: Tensor) -> Tensor:
    from lazyt.nn import functional  # (nn sits above the core: loaded on first use)

    return functional.prelu(self, weight)


FUNCTIONS = {
    "unsafe_split": unsafe_split, "unsafe_chunk": unsafe_chunk,
    "unsafe_split_with_sizes": unsafe_split_with_sizes, "constant_pad_nd": constant_pad_nd,
    "ger": ger,
}
TENSOR_METHODS = {
    "unsafe_split": unsafe_split, "unsafe_chunk": unsafe_chunk,
    "unsafe_split_with_sizes": unsafe_split_with_sizes, "sum_to_size": sum_to_size,
    "set_": set_, "dim_order": dim_order, "to_dense": to_dense, "ger": ger,
    "hardshrink": hardshrink, "prelu": prelu,
}
