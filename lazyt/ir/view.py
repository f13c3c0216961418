"""Views: how a tensor's indices map onto a flat storage.

A View is (shape, strides, offset), exactly PyTorch's strided layout, plus an
optional validity mask used by the IR's pad op (elements outside the mask read
as a constant instead of touching storage). Movement ops are functions
View -> View; they never copy. The tensor layer uses them for PyTorch's view
semantics and the kernel lowering turns a View into index arithmetic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


def contiguous_strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    strides = []
    acc = 1
    for size in reversed(shape):
        strides.append(acc)
        acc *= max(size, 1)
    return tuple(reversed(strides))


def is_blas_matrix(shape: tuple[int, ...], strides: tuple[int, ...]) -> bool:
    """Are the last two dims a matrix BLAS reads as it is (rows or columns
    dense)? A broadcast (stride 0) or sliced one sends numpy's matmul to its
    slow generic loop."""
    rows, cols = shape[-2], shape[-1]
    s_rows, s_cols = strides[-2], strides[-1]
    return (s_cols == 1 and s_rows >= max(cols, 1)) or (s_rows == 1 and s_cols >= max(rows, 1))


def prod(xs) -> int:
    return math.prod(xs)


_CONTIGUOUS: dict = {}  # (shape, offset) -> View.contiguous(shape, offset), bounded


@dataclass(frozen=True, slots=True)
class View:
    shape: tuple[int, ...]
    strides: tuple[int, ...]
    offset: int = 0
    # Per dim (lo, hi): indices in [lo, hi) are backed by storage, others read
    # as the pad value. None means every index is valid.
    mask: tuple[tuple[int, int], ...] | None = None
    # Views key the dispatch caches: hash once, not per lookup.
    _hash: int | None = field(default=None, init=False, repr=False, compare=False)

    def __hash__(self) -> int:
        if self._hash is None:
            object.__setattr__(self, "_hash",
                               hash((self.shape, self.strides, self.offset, self.mask)))
        return self._hash

    @staticmethod
    def contiguous(shape: tuple[int, ...], offset: int = 0) -> View:
        # Views are immutable: one per (shape, offset) seen recently is shared
        # (making a frozen dataclass costs more than an eager op's launch).
        shape = tuple(shape)
        found = _CONTIGUOUS.get((shape, offset))
        if found is None:
            if len(_CONTIGUOUS) >= 4096:
                _CONTIGUOUS.clear()
            ints = tuple(map(int, shape))  # (numpy ints hash alike: keep one kind)
            found = _CONTIGUOUS[shape, offset] = View(ints, contiguous_strides(ints), int(offset))
        return found

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def numel(self) -> int:
        return prod(self.shape)

    def is_contiguous(self) -> bool:
        """PyTorch's rule: size-1 dims may have any stride."""
        if self.mask is not None:
            return False
        if 0 in self.shape:
            return True
        expected = 1
        for size, stride in zip(reversed(self.shape), reversed(self.strides)):
            if size == 1:
                continue
            if stride != expected:
                return False
            expected *= size
        return True

    def dense_layout(self) -> tuple[int, ...] | None:
        """Strides of a fresh dense tensor laid out like this view (PyTorch's
        preserve_format), or None if this view is not dense and non-overlapping."""
        if self.mask is not None or 0 in self.shape:
            return None
        order = sorted(range(self.ndim), key=lambda d: (-self.strides[d], -d))
        expected = 1
        for d in reversed(order):
            if self.shape[d] != 1 and self.strides[d] != expected:
                return None
            expected *= self.shape[d]
        strides = [0] * self.ndim
        acc = 1
        for d in reversed(order):
            strides[d] = acc
            acc *= self.shape[d]
        return tuple(strides)

    def storage_extent(self) -> tuple[int, int]:
        """[lowest, highest] storage index touched (for bounds validation)."""
        lo = hi = self.offset
        for size, stride in zip(self.shape, self.strides):
            if size == 0:
                return (self.offset, self.offset - 1)
            if stride > 0:
                hi += (size - 1) * stride
            else:
                lo += (size - 1) * stride
        return lo, hi

    # --- movement ops (PyTorch view semantics) ------------------------------
    def permute(self, order: tuple[int, ...]) -> View:
        mask = None if self.mask is None else tuple(self.mask[i] for i in order)
        return View(tuple(self.shape[i] for i in order),
                    tuple(self.strides[i] for i in order), self.offset, mask)

    def expand(self, shape: tuple[int, ...]) -> View:
        """Broadcast to `shape` (same rank; size-1 dims become stride 0)."""
        strides = tuple(st if old == new else 0
                        for old, new, st in zip(self.shape, shape, self.strides))
        mask = None
        if self.mask is not None:
            mask = tuple(m if old == new else (0, new)
                         for old, new, m in zip(self.shape, shape, self.mask))
        return View(tuple(shape), strides, self.offset, mask)

    def slice(self, dim: int, start: int, stop: int, step: int) -> View:
        """Elements start, start+step, ... < stop along dim (start/stop already clamped)."""
        size = max(0, (stop - start + step - 1) // step)
        shape = self.shape[:dim] + (size,) + self.shape[dim + 1:]
        strides = self.strides[:dim] + (self.strides[dim] * step,) + self.strides[dim + 1:]
        offset = self.offset + start * self.strides[dim]
        mask = None
        if self.mask is not None:  # new index i is old start + i*step: valid where lo <= that < hi
            lo, hi = self.mask[dim]
            kept = (min(max(-(-(lo - start) // step), 0), size),
                    min(max(-(-(hi - start) // step), 0), size))
            mask = self.mask[:dim] + (kept,) + self.mask[dim + 1:]
        return View(shape, strides, offset, mask)

    def select(self, dim: int, index: int) -> View | None:
        mask = None
        if self.mask is not None:
            lo, hi = self.mask[dim]
            if not lo <= index < hi:
                return None  # (all padding: the scheduler stores the padded value first)
            mask = self.mask[:dim] + self.mask[dim + 1:]
        return View(self.shape[:dim] + self.shape[dim + 1:],
                    self.strides[:dim] + self.strides[dim + 1:],
                    self.offset + index * self.strides[dim], mask)

    def unsqueeze(self, dim: int) -> View:
        stride = self.strides[dim] * self.shape[dim] if dim < self.ndim else 1
        mask = None if self.mask is None else self.mask[:dim] + ((0, 1),) + self.mask[dim:]
        return View(self.shape[:dim] + (1,) + self.shape[dim:],
                    self.strides[:dim] + (stride,) + self.strides[dim:], self.offset, mask)

    def squeeze(self, dims: tuple[int, ...]) -> View:
        keep = [i for i in range(self.ndim) if not (i in dims and self.shape[i] == 1)]
        mask = None if self.mask is None else tuple(self.mask[i] for i in keep)
        return View(tuple(self.shape[i] for i in keep), tuple(self.strides[i] for i in keep),
                    self.offset, mask)

    def flip(self, dims: tuple[int, ...]) -> View:
        """Reverse dims by negative strides (only the IR uses this; tensors copy)."""
        offset = self.offset
        strides = list(self.strides)
        mask = None if self.mask is None else list(self.mask)
        for d in dims:
            if self.shape[d] > 0:
                offset += (self.shape[d] - 1) * strides[d]
            strides[d] = -strides[d]
            if mask is not None:
                lo, hi = mask[d]
                mask[d] = (self.shape[d] - hi, self.shape[d] - lo)
        return View(self.shape, tuple(strides), offset, None if mask is None else tuple(mask))

    def pad(self, pads: tuple[tuple[int, int], ...]) -> View:
        """Grow each dim by (before, after); the new elements are masked out
        (and read as zero: ir/lower.py's masked loads)."""
        shape = tuple(s + b + a for s, (b, a) in zip(self.shape, pads))
        offset = self.offset - sum(b * st for (b, _), st in zip(pads, self.strides))
        old = self.mask or tuple((0, s) for s in self.shape)
        mask = tuple((lo + b, hi + b) for (lo, hi), (b, _) in zip(old, pads))
        return View(shape, self.strides, offset, mask)

    def expand_to(self, shape: tuple[int, ...]) -> View:
        """PyTorch's expand (inferExpandGeometry), leading new dims included: a
        new dim of size 1 gets the stride a contiguous dim would have there,
        a broadcast dim gets 0."""
        lead = len(shape) - self.ndim
        view = self
        for _ in range(lead):
            view = view.unsqueeze(0)
        view = view.expand(tuple(shape))
        if lead:
            strides = list(view.strides)
            for i in range(lead - 1, -1, -1):
                if shape[i] != 1:
                    strides[i] = 0
                else:
                    strides[i] = shape[i + 1] * strides[i + 1] if i + 1 < len(shape) else 0
            view = View(view.shape, tuple(strides), view.offset, view.mask)
        return view

    def reshape(self, shape: tuple[int, ...]) -> View | None:
        """The view of the same elements with `shape`, or None if strides can't express it.

        Follows PyTorch's computeStride: each run of old dims that is
        contiguous in memory may be regrouped into new dims.
        """
        if self.mask is not None:
            return None
        if self.ndim == 0 and prod(shape) == 1:  # PyTorch: a 0-d view gets strides of 1
            return View(tuple(shape), (1,) * len(shape), self.offset)
        if self.numel == 0 and tuple(shape) == self.shape:
            return View(self.shape, self.strides, self.offset)  # PyTorch keeps the strides
        if prod(shape) == 0 or self.numel == 0:
            return View.contiguous(shape, self.offset) if prod(shape) == prod(self.shape) else None
        new_strides = [0] * len(shape)
        view_d = len(shape) - 1
        chunk_base_stride = self.strides[-1] if self.strides else 1
        tensor_numel = 1
        view_numel = 1
        for tensor_d in range(self.ndim - 1, -1, -1):
            tensor_numel *= self.shape[tensor_d]
            boundary = tensor_d == 0 or (
                self.shape[tensor_d - 1] != 1
                and self.strides[tensor_d - 1] != tensor_numel * chunk_base_stride)
            if boundary:
                while view_d >= 0 and (view_numel < tensor_numel or shape[view_d] == 1):
                    new_strides[view_d] = view_numel * chunk_base_stride
                    view_numel *= shape[view_d]
                    view_d -= 1
                if view_numel != tensor_numel:
                    return None
                if tensor_d > 0:
                    chunk_base_stride = self.strides[tensor_d - 1]
                    tensor_numel = 1
                    view_numel = 1
        if view_d != -1:
            return None
        return View(tuple(shape), tuple(new_strides), self.offset)


def apply_movement(view: View, kind: str, params: tuple) -> View | None:
    """Apply one movement op (the IR's "movement" node) to a view; None when
    strides cannot express the result (a reshape of a non-viewable layout).
    Remembered: a step's views are the same few every step, and making a
    View costs more than the launch of the small kernel that reads it."""
    key = (view, kind, params)
    try:
        return _MOVED[key]
    except KeyError:
        pass
    except TypeError:  # (unhashable params, a list: computed, not remembered)
        return _moved_view(view, kind, params)
    moved = _moved_view(view, kind, params)
    if len(_MOVED) >= 4096:
        _MOVED.clear()
    _MOVED[key] = moved
    return moved


_MOVED: dict = {}  # (view, kind, params) -> apply_movement's result, bounded


def _moved_view(view: View, kind: str, params: tuple) -> View | None:
    if kind == "reshape":
        return view.reshape(*params)
    if kind == "expand":
        return view.expand_to(*params)
    return getattr(view, kind)(*params)
