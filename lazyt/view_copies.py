"""The functional forms of the view ops: `*_copy` (the view, as a fresh
contiguous tensor) and `*_scatter` (a copy of the input with a view of it
overwritten by src), PyTorch's names for what functionalization produces.

Each is written with lazyt's own view ops, clone and copy_, so the copies are
generated kernels and gradients come from the existing rules (clone, the view
rules, and copy_ into a view's CopySlices). `out=` comes from lazyt's
`with_out` for single results; the ops returning a list of tensors take `out=`
themselves and, like PyTorch, return None when given one.
"""

from __future__ import annotations

from lazyt import out_arguments
from lazyt.autograd import grad_mode
from lazyt.tensor import Tensor, normalize_dim


def fresh_copy(view: Tensor) -> Tensor:
    """A new contiguous tensor with view's values (differentiable, like clone)."""
    out = Tensor._from_node(view._load())
    grad_mode.record("clone", out, (view,))
    return out


def _check_tensor(name: str, value, argument: str = "input") -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{name}(): argument '{argument}' (position 1) must be Tensor, not "
                        f"{type(value).__name__}")


def alias_copy(input: Tensor) -> Tensor:
    _check_tensor("alias_copy", input)
    return fresh_copy(input)


def as_strided_copy(input: Tensor, size, stride, storage_offset: int | None = None) -> Tensor:
    _check_tensor("as_strided_copy", input)
    return fresh_copy(input.as_strided(size, stride, storage_offset))


def diagonal_copy(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    _check_tensor("diagonal_copy", input)
    return fresh_copy(input.diagonal(offset, dim1, dim2))


def expand_copy(input: Tensor, size, *, implicit: bool = False) -> Tensor:
    _check_tensor("expand_copy", input)
    return fresh_copy(input.expand(size))


def permute_copy(input: Tensor, dims) -> Tensor:
    _check_tensor("permute_copy", input)
    return fresh_copy(input.permute(dims))


def squeeze_copy(input: Tensor, dim=None) -> Tensor:
    _check_tensor("squeeze_copy", input)
    return fresh_copy(input.squeeze(dim))


def t_copy(input: Tensor) -> Tensor:
    _check_tensor("t_copy", input)
    return fresh_copy(input.t())


def transpose_copy(input: Tensor, dim0: int, dim1: int) -> Tensor:
    _check_tensor("transpose_copy", input)
    return fresh_copy(input.transpose(dim0, dim1))


def unfold_copy(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    _check_tensor("unfold_copy", input)
    return fresh_copy(input.unfold(dimension, size, step))


def unsqueeze_copy(input: Tensor, dim: int) -> Tensor:
    _check_tensor("unsqueeze_copy", input)
    return fresh_copy(input.unsqueeze(dim))


def view_copy(input: Tensor, size) -> Tensor:
    """input.view(size) as a new tensor; like PyTorch's, it also takes strides
    a view could not (the copy is made through reshape)."""
    _check_tensor("view_copy", input)
    if not isinstance(size, (tuple, list)) or not all(
            isinstance(s, int) and not isinstance(s, bool) for s in size):
        raise TypeError(f"view_copy(): argument 'size' (position 2) must be tuple of ints, not "
                        f"{type(size).__name__}")
    return fresh_copy(input.reshape(size))


def _copies_with_out(name: str, views: tuple, out):
    """Fresh copies of views; written into out (and None returned) when given."""
    copies = tuple(fresh_copy(v) for v in views)
    if out is None:
        return copies
    if not isinstance(out, (list, tuple)):
        raise TypeError(f"{name}(): argument 'out' must be tuple of Tensors, not "
                        f"{type(out).__name__}")
    out_arguments.write_out(name, copies, out)
    return None


def unbind_copy(input: Tensor, dim: int = 0, *, out=None):
    _check_tensor("unbind_copy", input)
    return _copies_with_out("unbind_copy", input.unbind(dim), out)


def split_with_sizes_copy(input: Tensor, split_sizes, dim: int = 0, *, out=None):
    _check_tensor("split_with_sizes_copy", input)
    return _copies_with_out("split_with_sizes_copy", input.split(list(split_sizes), dim), out)


def split_copy(input: Tensor, split_size, dim: int = 0, *, out=None):
    _check_tensor("split_copy", input)
    return _copies_with_out("split_copy", input.split(split_size, dim), out)


# ------------------------------------------------------------------ scatters
def _scatter_into_view(name: str, input: Tensor, src, take_view) -> Tensor:
    """A fresh copy of input whose view `take_view(copy)` holds src."""
    _check_tensor(name, input)
    _check_tensor(name, src, "src")
    out = fresh_copy(input)
    _write_region(take_view(out), src)
    return out


def _write_region(region: Tensor, src: Tensor) -> None:
    if tuple(region.shape) != tuple(src.shape):
        raise RuntimeError("expected src to have a size equal to the slice of self. src size = "
                           f"{list(src.shape)}, slice size = {list(region.shape)}")
    region.copy_(src)


def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    return _scatter_into_view("select_scatter", input, src, lambda t: t.select(dim, index))


def slice_scatter(input: Tensor, src: Tensor, dim: int = 0, start: int | None = None,
                  end: int | None = None, step: int = 1) -> Tensor:
    def take_slice(t: Tensor) -> Tensor:
        d = normalize_dim(dim, t.ndim, scalar_ok=False)
        return t[(slice(None),) * d + (slice(start, end, step),)]

    if step <= 0:
        raise RuntimeError("slice step must be positive")
    return _scatter_into_view("slice_scatter", input, src, take_slice)


def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0,
                     dim2: int = 1) -> Tensor:
    return _scatter_into_view("diagonal_scatter", input, src,
                              lambda t: t.diagonal(offset, dim1, dim2))


def as_strided_scatter(input: Tensor, src: Tensor, size, stride,
                       storage_offset: int | None = None) -> Tensor:
    """Sizes, strides and offset address input's storage, so the copy is of
    the whole storage, viewed with input's layout (PyTorch's
    clone_preserve_strides); a plain copy when input's elements overlap (an
    expanded tensor), which could not be written."""
    _check_tensor("as_strided_scatter", input)
    _check_tensor("as_strided_scatter", src, "src")
    layout = input._view
    if any(st == 0 and n > 1 for n, st in zip(layout.shape, layout.strides)):
        out = fresh_copy(input)
        _write_region(out.as_strided(size, stride, storage_offset), src)
        return out
    whole = fresh_copy(input.as_strided((len(input._storage),), (1,), 0))
    offset = layout.offset if storage_offset is None else storage_offset
    _write_region(whole.as_strided(size, stride, offset), src)
    # The view is taken after the write, so its history includes it.
    return whole.as_strided(layout.shape, layout.strides, layout.offset)


FUNCTIONS = {
    "alias_copy": alias_copy, "as_strided_copy": as_strided_copy,
    "diagonal_copy": diagonal_copy, "expand_copy": expand_copy, "permute_copy": permute_copy,
    "squeeze_copy": squeeze_copy, "t_copy": t_copy, "transpose_copy": transpose_copy,
    "unfold_copy": unfold_copy, "unsqueeze_copy": unsqueeze_copy, "view_copy": view_copy,
    "unbind_copy": unbind_copy, "split_with_sizes_copy": split_with_sizes_copy,
    "split_copy": split_copy,
    "select_scatter": select_scatter, "slice_scatter": slice_scatter,
    "diagonal_scatter": diagonal_scatter, "as_strided_scatter": as_strided_scatter,
}
TENSOR_METHODS = {
    "select_scatter": select_scatter, "slice_scatter": slice_scatter,
    "diagonal_scatter": diagonal_scatter, "as_strided_scatter": as_strided_scatter,
}
