"""Views: a Tensor is (storage, shape, strides, offset) and view ops share storage exactly like PyTorch.

A small reference model below (`Geometry`) re-implements PyTorch's rules for the
strides and storage offset each view op produces (including the corner cases:
unsqueeze strides, expand of new dims, view of size-1 and 0-sized dims). Chains
of drawn view ops are checked against it step by step: values (against numpy),
shape, stride(), storage_offset(), is_contiguous(), data_ptr() and storage
sharing; writes through a chain of views must land in the base. When torch is
installed, the same chain is also run in torch and compared.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests._backend import (
    ALL_DTYPES,
    ITEMSIZE,
    TORCH,
    assert_same_values,
    basic_indices,
    dtype_name,
    lt,
    shapes,
    to_numpy,
)

# ---------------------------------------------------------------- the reference geometry model


def contiguous_strides(shape) -> tuple[int, ...]:
    """Row-major strides; a 0-sized dim counts as 1 like in PyTorch."""
    strides, running = [], 1
    for size in reversed(shape):
        strides.append(running)
        running *= max(size, 1)
    return tuple(reversed(strides))


def view_strides(old_shape, old_strides, new_shape) -> tuple[int, ...] | None:
    """PyTorch's computeStride: strides for viewing a tensor as new_shape, or None if impossible."""
    if len(old_shape) == 0:
        return (1,) * len(new_shape)
    numel = math.prod(old_shape)
    if numel == 0 and tuple(old_shape) == tuple(new_shape):
        return tuple(old_strides)
    if numel == 0:
        return contiguous_strides(new_shape)
    new_strides = [0] * len(new_shape)
    view_d = len(new_shape) - 1
    chunk_base_stride = old_strides[-1]
    tensor_numel = view_numel = 1
    for tensor_d in reversed(range(len(old_shape))):
        tensor_numel *= old_shape[tensor_d]
        chunk_ends = tensor_d == 0 or (
            old_shape[tensor_d - 1] != 1
            and old_strides[tensor_d - 1] != tensor_numel * chunk_base_stride)
        if chunk_ends:
            while view_d >= 0 and (view_numel < tensor_numel or new_shape[view_d] == 1):
                new_strides[view_d] = view_numel * chunk_base_stride
                view_numel *= new_shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if tensor_d > 0:
                chunk_base_stride = old_strides[tensor_d - 1]
                tensor_numel = view_numel = 1
    return tuple(new_strides) if view_d == -1 else None


def infer_shape(shape, numel: int) -> tuple[int, ...]:
    if -1 not in shape:
        return tuple(shape)
    known = math.prod(s for s in shape if s != -1)
    return tuple(numel // known if s == -1 else s for s in shape)


@dataclass(frozen=True)
class Geometry:
    """What PyTorch says a tensor's layout is; `fresh` marks a copy into new storage."""

    shape: tuple[int, ...]
    strides: tuple[int, ...]
    offset: int = 0
    fresh: bool = False

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def numel(self) -> int:
        return math.prod(self.shape)

    def is_contiguous(self) -> bool:
        if self.numel == 0:
            return True
        expected = 1
        for size, stride in zip(reversed(self.shape), reversed(self.strides)):
            if size != 1:
                if stride != expected:
                    return False
                expected *= size
        return True

    def view(self, shape, **changes) -> Geometry:
        return Geometry(tuple(shape), self.strides, self.offset, **changes)

    def copied(self, shape=None) -> Geometry:
        shape = self.shape if shape is None else tuple(shape)
        return Geometry(shape, contiguous_strides(shape), 0, fresh=True)

    def replace(self, shape, strides, offset=None) -> Geometry:
        return Geometry(tuple(shape), tuple(strides), self.offset if offset is None else offset)


def wrap(dim: int, ndim: int) -> int:
    return dim % max(ndim, 1)


def geometry_of_index(g: Geometry, index: tuple) -> Geometry:
    """Basic indexing applied item by item, as PyTorch's applySlicing does."""
    consumed = sum(1 for item in index if item is not None and item is not Ellipsis)
    shape, strides, offset = list(g.shape), list(g.strides), g.offset
    out_shape, out_strides = [], []
    d = 0
    for item in index:
        if item is Ellipsis:
            for _ in range(g.ndim - consumed):
                out_shape.append(shape[d])
                out_strides.append(strides[d])
                d += 1
        elif item is None:
            out_shape.append(1)
            out_strides.append(shape[d] * strides[d] if d < g.ndim else 1)
        elif isinstance(item, int):
            offset += (item % shape[d]) * strides[d]
            d += 1
        else:
            start, stop, step = item.indices(shape[d])
            offset += start * strides[d]
            out_shape.append(len(range(start, stop, step)))
            out_strides.append(strides[d] * step)
            d += 1
    out_shape += shape[d:]
    out_strides += strides[d:]
    return g.replace(out_shape, out_strides, offset)


def geometry_of_expand(g: Geometry, sizes) -> Geometry:
    ndim = len(sizes)
    shape, strides = [0] * ndim, [0] * ndim
    for i in reversed(range(ndim)):
        dim = g.ndim - (ndim - i)
        size = g.shape[dim] if dim >= 0 else 1
        if dim >= 0:
            stride = g.strides[dim]
        else:
            stride = shape[i + 1] * strides[i + 1] if i + 1 < ndim else 0
        target = size if sizes[i] == -1 else sizes[i]
        if size != target:
            size, stride = target, 0
        shape[i], strides[i] = size, stride
    return g.replace(shape, strides)


def geometry_of_reshape(g: Geometry, shape, must_view: bool) -> Geometry:
    shape = infer_shape(shape, g.numel)
    strides = view_strides(g.shape, g.strides, shape)
    if strides is None:
        assert not must_view, "the chain only draws views that PyTorch allows"
        return g.copied(shape)
    return g.replace(shape, strides)


def geometry_of_narrow(g: Geometry, dim: int, start: int, length: int) -> Geometry:
    dim = wrap(dim, g.ndim)
    start = start + g.shape[dim] if start < 0 else start
    shape = list(g.shape)
    shape[dim] = length
    return g.replace(shape, g.strides, g.offset + start * g.strides[dim])


def piece_sizes(length: int, split_size: int) -> list[int]:
    """torch.split(split_size) sizes: one empty piece for an empty dim."""
    if length == 0:
        return [0]
    return [min(split_size, length - start) for start in range(0, length, split_size)]


def chunk_sizes(length: int, chunks: int) -> list[int]:
    if length == 0:
        return [0] * chunks
    return piece_sizes(length, -(-length // chunks))


# ---------------------------------------------------------------- view ops: tensor, numpy, geometry


@dataclass(frozen=True)
class ViewOp:
    """One view op with its PyTorch-API spelling, its numpy meaning and its geometry rule."""

    name: str
    args: tuple

    def __repr__(self) -> str:
        return f"{self.name}{self.args!r}"

    def on_tensor(self, t):
        a = self.args
        if self.name in ("index", "index_single"):
            return t[a[0]]
        if self.name == "piece":
            method, argument, dim, i = a
            pieces = getattr(t, method)(argument, dim)
            return pieces[i]
        if self.name == "unbind":
            dim, i = a
            pieces = t.unbind(dim)
            assert len(pieces) == t.shape[dim]
            return pieces[i]
        if self.name in ("view", "reshape", "permute"):  # t.view(2, 3) or t.view((2, 3))
            as_varargs = a[1] and len(a[0]) > 0
            return getattr(t, self.name)(*a[0]) if as_varargs else getattr(t, self.name)(a[0])
        if self.name == "expand":
            return t.expand(*a[0])
        if self.name == "squeeze":
            return t.squeeze() if a[0] is None else t.squeeze(a[0])
        return getattr(t, self.name)(*a)

    def on_numpy(self, x: np.ndarray) -> np.ndarray:
        a = self.args
        if self.name in ("index", "index_single"):
            return np.asarray(x[a[0]])  # x[()] of a 0-d array is a numpy scalar
        if self.name == "t":
            return x.T
        if self.name == "transpose":
            return np.swapaxes(x, a[0], a[1])
        if self.name == "permute":
            return np.transpose(x, a[0])
        if self.name in ("view", "reshape"):
            return x.reshape(a[0])
        if self.name == "expand":
            return np.broadcast_to(x, infer_expand(x.shape, a[0]))
        if self.name == "narrow":
            dim, start, length = a
            start = start + x.shape[dim] if start < 0 else start
            return np.take(x, np.arange(start, start + length), axis=dim)
        if self.name == "select":
            return np.take(x, a[1], axis=a[0])
        if self.name == "unsqueeze":
            return np.expand_dims(x, wrap(a[0], x.ndim + 1))
        if self.name == "squeeze":
            return np_squeeze(x, a[0])
        if self.name == "flatten":
            return np_flatten(x, *a)
        if self.name == "unbind":
            return np.take(x, a[1], axis=a[0])
        if self.name == "piece":
            method, argument, dim, i = a
            length = x.shape[dim]
            if method == "chunk":
                sizes = chunk_sizes(length, argument)
            else:
                sizes = piece_sizes(length, argument) if isinstance(argument, int) else argument
            start = sum(sizes[:i])
            return np.take(x, np.arange(start, start + sizes[i]), axis=dim)
        if self.name == "contiguous":
            return x
        raise AssertionError(self.name)

    def on_geometry(self, g: Geometry) -> Geometry:
        a = self.args
        if self.name in ("index", "index_single"):
            index = a[0] if isinstance(a[0], tuple) else (a[0],)
            return geometry_of_index(g, index)
        if self.name == "t":
            return g.replace(g.shape[::-1], g.strides[::-1])
        if self.name == "transpose":
            d0, d1 = wrap(a[0], g.ndim), wrap(a[1], g.ndim)
            shape, strides = list(g.shape), list(g.strides)
            shape[d0], shape[d1] = shape[d1], shape[d0]
            strides[d0], strides[d1] = strides[d1], strides[d0]
            return g.replace(shape, strides)
        if self.name == "permute":
            order = [wrap(d, g.ndim) for d in a[0]]
            return g.replace([g.shape[d] for d in order], [g.strides[d] for d in order])
        if self.name == "view":
            return geometry_of_reshape(g, a[0], must_view=True)
        if self.name == "reshape":
            return geometry_of_reshape(g, a[0], must_view=False)
        if self.name == "expand":
            return geometry_of_expand(g, a[0])
        if self.name == "narrow":
            return geometry_of_narrow(g, *a)
        if self.name in ("select", "unbind"):
            dim, index = wrap(a[0], g.ndim), a[1]
            offset = g.offset + (index % g.shape[dim]) * g.strides[dim]
            return g.replace(g.shape[:dim] + g.shape[dim + 1:],
                             g.strides[:dim] + g.strides[dim + 1:], offset)
        if self.name == "unsqueeze":
            dim = wrap(a[0], g.ndim + 1)
            stride = g.shape[dim] * g.strides[dim] if dim < g.ndim else 1
            return g.replace(g.shape[:dim] + (1,) + g.shape[dim:],
                             g.strides[:dim] + (stride,) + g.strides[dim:])
        if self.name == "squeeze":
            keep = [d for d in range(g.ndim) if d not in squeezed_dims(g.shape, a[0])]
            return g.replace([g.shape[d] for d in keep], [g.strides[d] for d in keep])
        if self.name == "flatten":
            start, end = a
            if g.ndim == 0:
                return geometry_of_reshape(g, (1,), must_view=False)
            start, end = wrap(start, g.ndim), wrap(end, g.ndim)
            if start == end:
                return g
            shape = g.shape[:start] + (math.prod(g.shape[start:end + 1]),) + g.shape[end + 1:]
            return geometry_of_reshape(g, shape, must_view=False)
        if self.name == "piece":
            method, argument, dim, i = a
            length = g.shape[dim]
            if method == "chunk":
                sizes = chunk_sizes(length, argument)
            else:
                sizes = piece_sizes(length, argument) if isinstance(argument, int) else argument
            return geometry_of_narrow(g, dim, sum(sizes[:i]), sizes[i])
        if self.name == "contiguous":
            return g if g.is_contiguous() else g.copied()
        raise AssertionError(self.name)


def infer_expand(shape, sizes):
    lead = len(sizes) - len(shape)
    return tuple(shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))


def squeezed_dims(shape, dims) -> set[int]:
    if dims is None:
        candidates = range(len(shape))
    elif isinstance(dims, int):
        candidates = [wrap(dims, len(shape))]
    else:
        candidates = [wrap(d, len(shape)) for d in dims]
    return {d for d in candidates if shape[d] == 1}


def np_squeeze(x, dims):
    drop = squeezed_dims(x.shape, dims)
    return x.reshape([s for d, s in enumerate(x.shape) if d not in drop])


def np_flatten(x, start, end):
    if x.ndim == 0:
        return x.reshape(1)
    start, end = wrap(start, x.ndim), wrap(end, x.ndim)
    merged = math.prod(x.shape[start:end + 1])
    return x.reshape(x.shape[:start] + (merged,) + x.shape[end + 1:])


# ---------------------------------------------------------------- drawing valid view ops


@st.composite
def target_shapes(draw, numel: int, allow_infer: bool = True):
    """A shape with `numel` elements (rank <= 4), maybe with one -1."""
    rank = draw(st.integers(0 if numel == 1 else 1, 4))
    if numel == 0:
        shape = [draw(st.integers(0, 4)) for _ in range(rank)]
        shape[draw(st.integers(0, rank - 1))] = 0
        return tuple(shape)
    factors = _prime_factors(numel)
    shape = [1] * rank
    for factor in factors:
        shape[draw(st.integers(0, rank - 1))] *= factor
    if allow_infer and rank and draw(st.booleans()):
        shape[draw(st.integers(0, rank - 1))] = -1
    return tuple(shape)


def _prime_factors(n: int) -> list[int]:
    factors, p = [], 2
    while n > 1:
        while n % p == 0:
            factors.append(p)
            n //= p
        p += 1
    return factors


VIEW_OP_NAMES = ("index", "index_single", "t", "transpose", "permute", "view", "reshape", "expand",
                 "narrow", "select", "unsqueeze", "squeeze", "flatten", "unbind", "piece",
                 "contiguous")


@st.composite
def view_ops(draw, g: Geometry, allow_expand: bool, views_only: bool) -> ViewOp:
    """One view op valid for geometry g (views_only: nothing that would copy)."""
    names = [n for n in VIEW_OP_NAMES if allow_expand or n != "expand"]
    if g.ndim == 0:
        names = [n for n in names if n in ("index", "view", "reshape", "expand", "unsqueeze",
                                           "squeeze", "flatten", "contiguous", "t", "permute")]
    if g.ndim > 2:
        names.remove("t")
    if views_only and not g.is_contiguous():
        names.remove("contiguous")
    name = draw(st.sampled_from(names))
    dim = st.integers(-g.ndim, g.ndim - 1) if g.ndim else st.just(0)
    if name == "index":
        return ViewOp(name, (draw(basic_indices(g.shape)),))
    if name == "index_single":  # t[item] rather than t[(item,)]
        index = draw(basic_indices(g.shape))
        return ViewOp(name, (index[0] if index else Ellipsis,))
    if name == "t" or name == "contiguous":
        return ViewOp(name, ())
    if name == "transpose":
        return ViewOp(name, (draw(dim), draw(dim)))
    if name == "permute":
        order = draw(st.permutations(range(g.ndim)))
        order = tuple(d - g.ndim if draw(st.booleans()) else d for d in order)
        return ViewOp(name, (order, draw(st.booleans())))
    if name in ("view", "reshape"):
        shape = draw(target_shapes(g.numel))
        viewable = view_strides(g.shape, g.strides, infer_shape(shape, g.numel)) is not None
        if not viewable and (name == "view" or views_only):
            return ViewOp("unsqueeze", (0,))
        return ViewOp(name, (shape, draw(st.booleans())))
    if name == "expand":
        new_dims = draw(st.integers(1 if g.ndim == 0 else 0, max(1, 4 - g.ndim)))
        sizes = [draw(st.integers(1, 3)) for _ in range(new_dims)]
        for size in g.shape:
            sizes.append(draw(st.sampled_from((-1, 0, 1, 2, 3))) if size == 1
                         else draw(st.sampled_from((-1, size))))
        return ViewOp(name, (tuple(sizes),))
    if name == "narrow":
        d = wrap(draw(dim), g.ndim)
        size = g.shape[d]
        start = draw(st.integers(-size, size))
        length = draw(st.integers(0, size - (start + size if start < 0 else start)))
        return ViewOp(name, (d, start, length))
    if name in ("select", "unbind"):
        candidates = [d for d in range(g.ndim) if g.shape[d] > 0]
        if not candidates:
            return ViewOp("unsqueeze", (0,))
        d = draw(st.sampled_from(candidates))
        index = draw(st.integers(-g.shape[d], g.shape[d] - 1))
        return ViewOp(name, (d, index if name == "select" else index % g.shape[d]))
    if name == "unsqueeze":
        return ViewOp(name, (draw(st.integers(-g.ndim - 1, g.ndim)),))
    if name == "squeeze":
        if g.ndim == 0:
            return ViewOp(name, (None,))
        dims = draw(st.none() | dim | st.lists(dim, min_size=1, max_size=g.ndim).map(
            lambda ds: tuple(dict.fromkeys(wrap(d, g.ndim) for d in ds))))
        return ViewOp(name, (dims,))
    if name == "flatten":
        if g.ndim == 0:
            return ViewOp(name, (0, -1))
        start, end = sorted((wrap(draw(dim), g.ndim), wrap(draw(dim), g.ndim)))
        shape = g.shape[:start] + (math.prod(g.shape[start:end + 1]),) + g.shape[end + 1:]
        if views_only and start != end and view_strides(g.shape, g.strides, shape) is None:
            return ViewOp("unsqueeze", (0,))
        return ViewOp(name, (start, end - g.ndim if draw(st.booleans()) else end))
    # split / chunk, then pick one piece
    d = wrap(draw(dim), g.ndim)
    length = g.shape[d]
    method = draw(st.sampled_from(("split", "split_sections", "chunk")))
    if method == "chunk":
        argument = draw(st.integers(1, 4))
        sizes = chunk_sizes(length, argument)
    elif method == "split":
        argument = draw(st.integers(1, 4))
        sizes = piece_sizes(length, argument)
    else:
        cuts = sorted(draw(st.lists(st.integers(0, length), max_size=3)))
        argument = [int(b - a) for a, b in zip([0, *cuts], [*cuts, length])]
        sizes = argument
        method = "split"
    return ViewOp("piece", (method, argument, d, draw(st.integers(0, len(sizes) - 1))))


@st.composite
def view_chains(draw, allow_expand: bool, views_only: bool):
    """A base shape and dtype and 1..5 view ops, each valid for the result of the previous."""
    shape = draw(shapes(min_dims=0, max_dims=4, max_side=5))
    dtype = draw(st.sampled_from(("float32", "int64", "float16", "uint8", "bool")))
    g = Geometry(shape, contiguous_strides(shape))
    ops = []
    for _ in range(draw(st.integers(1, 5))):
        op = draw(view_ops(g, allow_expand, views_only))
        ops.append(op)
        g = op.on_geometry(g)
    return shape, dtype, ops


def base_values(shape, dtype) -> np.ndarray:
    """Distinct (as far as the dtype allows) values, so a wrong offset shows up."""
    values = np.arange(math.prod(shape)).reshape(shape)
    if dtype == "bool":
        return values % 3 == 1
    if dtype == "uint8":
        return (values % 251).astype(np.uint8)
    return values.astype({"float32": np.float32, "int64": np.int64, "float16": np.float16}[dtype])


def contiguous_tensor(module, values: np.ndarray, dtype: str):
    """A contiguous tensor built from a flat list: tensor(ndarray) copies numpy's strides for
    0-sized arrays (numpy 2 gives them stride 0), which is beside the point here."""
    flat = module.tensor(values.ravel().tolist(), dtype=getattr(module, dtype))
    return flat.reshape(values.shape)


def assert_geometry(t, g: Geometry, where: str) -> None:
    assert t.size() == g.shape, f"{where}: size {tuple(t.size())} != {g.shape}"
    assert tuple(t.shape) == g.shape, f"{where}: shape"
    assert t.dim() == g.ndim and t.ndim == g.ndim, f"{where}: dim"
    assert t.numel() == g.numel, f"{where}: numel"
    assert t.stride() == g.strides, f"{where}: stride {t.stride()} != {g.strides}"
    assert t.storage_offset() == g.offset, f"{where}: offset {t.storage_offset()} != {g.offset}"
    assert t.is_contiguous() == g.is_contiguous(), f"{where}: is_contiguous"
    for d in range(g.ndim):
        assert t.stride(d) == g.strides[d] and t.stride(d - g.ndim) == g.strides[d], where
        assert t.size(d) == g.shape[d] and t.size(d - g.ndim) == g.shape[d], where


def storage_ptr(t) -> int:
    return t.untyped_storage().data_ptr()


@given(chain=view_chains(allow_expand=True, views_only=False))
def test_view_chains_have_pytorch_strides_offsets_and_share_storage(chain):
    shape, dtype, ops = chain
    values = base_values(shape, dtype)
    base = contiguous_tensor(lt, values, dtype)
    oracle = contiguous_tensor(TORCH, values, dtype) if TORCH is not None else None
    owner, t, x = base, base, values
    g = Geometry(shape, contiguous_strides(shape))
    for step, op in enumerate(ops):
        where = f"step {step}: {op!r} on {g.shape}/{g.strides}"
        t, x, g = op.on_tensor(t), op.on_numpy(x), op.on_geometry(g)
        if g.fresh:
            owner = t
        assert_geometry(t, g, where)
        assert_same_values(t, x)
        assert t.element_size() == ITEMSIZE[dtype]
        if t.numel() > 0:
            assert storage_ptr(t) == storage_ptr(owner), f"{where}: storage not shared"
            assert t.data_ptr() == storage_ptr(t) + g.offset * ITEMSIZE[dtype], where
            if owner is not base and base.numel() > 0:
                assert storage_ptr(t) != storage_ptr(base), f"{where}: copy shares storage"
        if oracle is not None:
            oracle = op.on_tensor(oracle)
            assert tuple(oracle.shape) == tuple(t.shape), where
            assert oracle.stride() == t.stride(), f"{where}: torch stride {oracle.stride()}"
            assert oracle.storage_offset() == t.storage_offset(), f"{where}: torch offset"
            assert oracle.is_contiguous() == t.is_contiguous(), f"{where}: torch contiguity"


# ---------------------------------------------------------------- writes through views


WRITES = ("fill_", "zero_", "setitem_scalar", "setitem_tensor", "copy_", "add_", "sub_",
          "mul_", "div_", "clamp_", "iadd")


def write_through(t, x: np.ndarray, write: str, module) -> None:
    """Apply `write` to tensor view t (of module) and to numpy view x of the numpy base."""
    row = np.arange(x.shape[-1], dtype=np.float32) * 10 + 100 if x.ndim else np.float32(100)
    if write == "fill_":
        assert t.fill_(7.0) is t
        x[...] = 7
    elif write == "zero_":
        assert t.zero_() is t
        x[...] = 0
    elif write == "setitem_scalar":
        t[...] = -3.0
        x[...] = -3
    elif write == "setitem_tensor":  # a row broadcast over the view
        t[...] = module.tensor(row)
        x[...] = row
    elif write == "copy_":
        assert t.copy_(module.tensor(row)) is t
        x[...] = row
    elif write == "add_":
        assert t.add_(5) is t
        x += 5
    elif write == "sub_":
        assert t.sub_(module.tensor(row)) is t
        x -= row
    elif write == "mul_":
        assert t.mul_(2) is t
        x *= 2
    elif write == "div_":
        assert t.div_(4) is t
        x /= 4
    elif write == "clamp_":
        assert t.clamp_(3.0, 9.0) is t
        np.clip(x, 3, 9, out=x)
    elif write == "iadd":
        before = t
        t += 1.5
        assert t is before
        x += 1.5


@given(chain=view_chains(allow_expand=False, views_only=True), write=st.sampled_from(WRITES))
def test_writes_through_a_chain_of_views_change_the_base(chain, write):
    shape, _, ops = chain
    storage = np.arange(math.prod(shape), dtype=np.float32)
    base = contiguous_tensor(lt, storage.reshape(shape), "float32")
    view, g = base, Geometry(shape, contiguous_strides(shape))
    for op in ops:
        view, g = op.on_tensor(view), op.on_geometry(g)
        assert not g.fresh
    expected_storage = storage.copy()
    numpy_view = np.lib.stride_tricks.as_strided(
        expected_storage[g.offset:], g.shape, [s * 4 for s in g.strides], writeable=True)
    write_through(view, numpy_view, write, lt)
    assert_same_values(base, expected_storage.reshape(shape))
    assert_same_values(view, numpy_view)


# ---------------------------------------------------------------- the seed walk-through


@pytest.mark.filterwarnings("ignore:TypedStorage is deprecated")
def test_points_storage_is_a_flat_row_major_buffer():
    points = lt.tensor([[1.0, 4.0], [2.0, 1.0], [3.0, 5.0]])
    storage = points.storage()
    assert len(storage) == 6
    assert list(storage) == [1.0, 4.0, 2.0, 1.0, 3.0, 5.0]
    assert storage[2] == 2.0
    assert points.size() == (3, 2) and points.shape == (3, 2)
    assert points.storage_offset() == 0
    assert points.stride() == (2, 1)
    assert float(points[0][0]) == 1.0
    assert points[0, 1].item() == 4.0


def test_row_of_points_is_a_view_at_offset_two():
    points = lt.tensor([[1.0, 4.0], [2.0, 1.0], [3.0, 5.0]])
    second_point = points[1]
    assert second_point.storage_offset() == 2
    assert second_point.size() == (2,)
    assert second_point.stride() == (1,)
    assert storage_ptr(second_point) == storage_ptr(points)
    assert points[2].storage_offset() == 4
    second_point[0] = 10.0
    assert points.tolist() == [[1.0, 4.0], [10.0, 1.0], [3.0, 5.0]]


@pytest.mark.filterwarnings("ignore:TypedStorage is deprecated")
def test_writing_the_storage_changes_the_tensor():
    points = lt.tensor([[1.0, 4.0], [2.0, 1.0], [3.0, 5.0]])
    points.storage()[0] = 2.0
    assert points[0, 0].item() == 2.0
    assert points.untyped_storage().nbytes() == 6 * 4


def test_transpose_shares_storage():
    points = lt.tensor([[1.0, 4.0], [2.0, 1.0], [3.0, 5.0]])
    points_t = points.t()
    assert storage_ptr(points_t) == storage_ptr(points)
    assert points_t.stride() == (1, 2) and points_t.shape == (2, 3)
    assert points.is_contiguous() and not points_t.is_contiguous()
    assert points_t.tolist() == [[1.0, 2.0, 3.0], [4.0, 1.0, 5.0]]
    assert points.transpose(0, 1).stride() == (1, 2)
    points_t[0, 2] = -1.0
    assert points[2, 0].item() == -1.0


def test_transpose_of_higher_dims_and_permute():
    some_t = lt.ones(3, 4, 5)
    transpose_t = some_t.transpose(0, 2)
    assert transpose_t.shape == (5, 4, 3)
    assert some_t.stride() == (20, 5, 1)
    assert transpose_t.stride() == (1, 5, 20)
    assert some_t.permute(2, 0, 1).stride() == (1, 20, 5)
    assert some_t.permute(-1, 0, 1).stride() == (1, 20, 5)
    assert some_t.transpose(-1, -3).stride() == (1, 5, 20)


def test_tensor_with_dtype_and_cpu_device():
    t = lt.tensor([[1.0, 4.0], [2.0, 1.0]], dtype=lt.float32, device="cpu")
    assert t.dtype == lt.float32
    assert t.device.type == "cpu"


def test_randn_scaled_by_sqrt_of_fan_in():
    lt.manual_seed(0)
    weights = lt.randn(256, 4) / math.sqrt(256)
    assert weights.shape == (256, 4) and weights.dtype == lt.float32
    assert 0.04 < float(weights.std()) < 0.09


def test_zeros_with_requires_grad_is_a_leaf():
    t = lt.zeros(4, requires_grad=True)
    assert t.requires_grad and t.is_leaf and t.grad is None
    assert t.tolist() == [0.0] * 4


# ---------------------------------------------------------------- named behaviours


def test_view_shares_storage_and_infers_minus_one():
    base = lt.arange(12.0)
    viewed = base.view(3, -1)
    assert viewed.shape == (3, 4) and viewed.stride() == (4, 1)
    assert base.view((2, 6)).shape == (2, 6)
    assert storage_ptr(viewed) == storage_ptr(base)
    viewed[1, 1] = 100.0
    assert base[5].item() == 100.0


def test_view_of_a_size_one_dim_keeps_it_viewable():
    column = lt.arange(6.0).view(6, 1).expand(6, 3)[:, 1]
    assert column.stride() == (1,)
    assert column.view(2, 3).stride() == (3, 1)


def test_reshape_is_a_view_when_possible_and_a_copy_otherwise():
    base = lt.arange(6.0).view(2, 3)
    as_view = base.reshape(3, 2)
    assert storage_ptr(as_view) == storage_ptr(base)
    transposed = base.t()
    as_copy = transposed.reshape(6)
    assert storage_ptr(as_copy) != storage_ptr(base)
    assert as_copy.tolist() == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
    as_copy[0] = 50.0
    assert base[0, 0].item() == 0.0


def test_expand_uses_zero_strides_without_copying():
    row = lt.tensor([1.0, 2.0, 3.0])
    expanded = row.expand(4, 3)
    assert expanded.stride() == (0, 1)
    assert storage_ptr(expanded) == storage_ptr(row)
    assert row.view(3, 1).expand(3, 5).stride() == (1, 0)
    assert row.expand(2, -1).shape == (2, 3)
    assert not expanded.is_contiguous()
    row[0] = 9.0
    assert expanded[3, 0].item() == 9.0


def test_narrow_and_select_offset_into_storage():
    base = lt.arange(20.0).view(4, 5)
    narrowed = base.narrow(1, 2, 3)
    assert narrowed.shape == (4, 3)
    assert narrowed.storage_offset() == 2 and narrowed.stride() == (5, 1)
    selected = base.select(0, 2)
    assert selected.storage_offset() == 10 and selected.stride() == (1,)
    assert base.select(1, -1).storage_offset() == 4
    assert base.select(1, -1).stride() == (5,)
    assert selected.tolist() == base[2].tolist()


def test_unsqueeze_and_squeeze_strides():
    base = lt.ones(2, 3)
    assert base.unsqueeze(0).stride() == (6, 3, 1)
    assert base.unsqueeze(1).stride() == (3, 3, 1)
    assert base.unsqueeze(-1).stride() == (3, 1, 1)
    assert base.t().unsqueeze(0).stride() == (3, 1, 3)
    assert base[:, None].stride() == (3, 3, 1)
    squeezed = lt.ones(1, 3, 1, 2).squeeze()
    assert squeezed.shape == (3, 2) and squeezed.stride() == (2, 1)
    assert lt.ones(1, 3, 1).squeeze(0).shape == (3, 1)
    assert lt.ones(1, 3, 1).squeeze(1).shape == (1, 3, 1)


def test_flatten_is_a_view_of_contiguous_and_a_copy_of_transposed():
    base = lt.arange(24.0).view(2, 3, 4)
    flat = base.flatten()
    assert flat.shape == (24,) and storage_ptr(flat) == storage_ptr(base)
    assert base.flatten(1).shape == (2, 12)
    assert base.flatten(0, 1).shape == (6, 4)
    copy = base.transpose(0, 2).flatten()
    assert storage_ptr(copy) != storage_ptr(base)
    assert lt.tensor(5.0).flatten().shape == (1,)


def test_unbind_split_and_chunk_return_views():
    base = lt.arange(10.0).view(2, 5)
    rows = base.unbind(0)
    assert len(rows) == 2 and rows[1].storage_offset() == 5
    columns = base.unbind(1)
    assert len(columns) == 5 and columns[3].stride() == (5,) and columns[3].storage_offset() == 3
    pieces = base.split(2, dim=1)
    assert [p.shape[1] for p in pieces] == [2, 2, 1]
    assert [p.storage_offset() for p in pieces] == [0, 2, 4]
    sections = base.split([1, 4], dim=1)
    assert sections[1].storage_offset() == 1 and sections[1].shape == (2, 4)
    chunks = base.chunk(2, dim=1)
    assert [c.shape[1] for c in chunks] == [3, 2]
    chunks[1][0, 0] = -7.0
    assert base[0, 3].item() == -7.0


def test_contiguous_returns_self_when_already_contiguous():
    base = lt.arange(6.0).view(2, 3)
    assert base.contiguous() is base
    transposed = base.t()
    copy = transposed.contiguous()
    assert copy is not transposed
    assert copy.is_contiguous() and copy.stride() == (2, 1)
    assert storage_ptr(copy) != storage_ptr(base)
    assert copy.tolist() == transposed.tolist()


def test_is_contiguous_ignores_size_one_and_empty_dims():
    assert lt.ones(3, 1).expand(3, 1).is_contiguous()
    assert lt.ones(1, 3)[:, ::1].is_contiguous()
    assert lt.ones(4, 4)[:, :1].is_contiguous() is False
    assert lt.ones(4, 1)[::2].is_contiguous() is False
    assert lt.ones(0, 3).t().is_contiguous()
    assert lt.zeros(2, 0, 3).stride() == (3, 3, 1)


def test_step_slices_multiply_strides():
    base = lt.arange(36.0).view(6, 6)
    sliced = base[1::2, ::3]
    assert sliced.shape == (3, 2)
    assert sliced.stride() == (12, 3)
    assert sliced.storage_offset() == 6
    assert sliced.tolist() == [[6.0, 9.0], [18.0, 21.0], [30.0, 33.0]]
    assert base[..., 2].stride() == (6,) and base[..., 2].storage_offset() == 2
    assert base[None, 2:, None].stride() == (36, 6, 6, 1)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_element_size_and_data_ptr_offsets(dtype):
    t = lt.zeros(4, 4, dtype=getattr(lt, dtype))
    assert t.element_size() == ITEMSIZE[dtype]
    assert dtype_name(t.dtype) == dtype
    assert t[1, 2].data_ptr() == t.data_ptr() + 6 * ITEMSIZE[dtype]
    assert t[:, 3].data_ptr() == t.data_ptr() + 3 * ITEMSIZE[dtype]
    assert t.untyped_storage().nbytes() == 16 * ITEMSIZE[dtype]


def test_setitem_with_scalars_tensors_and_broadcast_changes_the_base():
    base = lt.zeros(3, 4)
    base[1] = 1.0
    base[:, 0] = lt.tensor([5.0, 6.0, 7.0])
    base[2, 1:] = lt.tensor(9.0)
    base[0, 1::2] = lt.tensor([2.0, 3.0])
    base[..., -1] += 100.0
    expected = [[5.0, 2.0, 0.0, 103.0], [6.0, 1.0, 1.0, 101.0], [7.0, 9.0, 9.0, 109.0]]
    assert base.tolist() == expected
    view = base[1:, 2:]
    view[:] = lt.tensor([[-1.0], [-2.0]])
    assert base[1:, 2:].tolist() == [[-1.0, -1.0], [-2.0, -2.0]]
    assert base[0].tolist() == expected[0]


def test_inplace_ops_on_a_transposed_view_change_the_base():
    base = lt.arange(6.0).view(2, 3)
    view = base.t()[1:]
    view.add_(10).mul_(2)
    assert base.tolist() == [[0.0, 22.0, 24.0], [3.0, 28.0, 30.0]]
    view.clamp_(min=25.0, max=29.0)
    assert base.tolist() == [[0.0, 25.0, 25.0], [3.0, 28.0, 29.0]]
    view.sub_(1).div_(2)
    assert base.tolist() == [[0.0, 12.0, 12.0], [3.0, 13.5, 14.0]]
    view.copy_(lt.tensor([1.0, 2.0]))
    assert base.tolist() == [[0.0, 1.0, 1.0], [3.0, 2.0, 2.0]]
    view.fill_(4.0)
    base[0].zero_()
    assert base.tolist() == [[0.0, 0.0, 0.0], [3.0, 4.0, 4.0]]


def test_augmented_assignment_updates_a_parameter_in_place():
    p = lt.ones(3)
    grad = lt.tensor([1.0, 2.0, 3.0])
    before, pointer = p, p.data_ptr()
    p -= grad * 0.5
    assert p is before and p.data_ptr() == pointer
    assert p.tolist() == [0.5, 0.0, -0.5]
    p *= 2
    p /= 4
    p += 1
    assert p.tolist() == [1.25, 1.0, 0.75]


def test_uniform_and_normal_on_a_view_fill_only_the_view():
    lt.manual_seed(0)
    base = lt.zeros(4, 100)
    rows = base[1:3]
    assert rows.uniform_(2.0, 3.0) is rows
    filled = to_numpy(base)
    assert np.all(filled[[0, 3]] == 0)
    assert np.all((filled[1:3] >= 2.0) & (filled[1:3] < 3.0))
    assert len(np.unique(filled[1:3])) > 150
    columns = base[:, ::2]
    columns.normal_(mean=5.0, std=0.1)
    sampled = to_numpy(base)
    assert np.all(sampled[:, 1::2] == filled[:, 1::2])
    assert abs(sampled[:, ::2].mean() - 5.0) < 0.05
