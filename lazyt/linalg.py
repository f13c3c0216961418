"""Matrix products and sorting: the declared extern ops.

matmul/mm/bmm/@ build an IR "extern" node whose inputs are realised buffers;
realize.py runs it with numpy's BLAS-backed matmul writing straight into the
output storage (counted in debug.stats()['extern_calls']). sort/topk/argsort
are the other declared extern (numpy's stable sort on the realised buffer).
Everything else in lazyt is generated code.

This module is also the `lt.linalg` namespace. The rest of that namespace
lives in the modules built on top of matmul (linalg_products.py,
linalg_norms.py, linalg_decompositions.py: each names its part in a `LINALG`
table); `__getattr__` below resolves those names on first use, so this
module never imports the modules that import it.
"""

from __future__ import annotations

import importlib

import numpy as np

from lazyt import autocast_state, creation, dtypes, indexing, modes, reductions, return_types
from lazyt import elementwise as ew
from lazyt.autograd import grad_mode
from lazyt.engine.realize import run_matmul
from lazyt.ir.node import make_node
from lazyt.ir.view import View, is_blas_matrix, prod
from lazyt.runtime import cpu, stats
from lazyt.runtime.device import CPU
from lazyt.runtime.storage import Storage
from lazyt.tensor import Tensor, broadcast_shapes, normalize_dim

_TORCH_DTYPE = {"float32": "float", "float64": "double", "float16": "c10::Half",
                "bfloat16": "c10::BFloat16", "int64": "long int", "int32": "int",
                "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
                "bool": "bool"}


def _check_dtypes(a: Tensor, b: Tensor, what: str = "m1 and m2") -> None:
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"matmul(): argument 'other' (position 1) must be Tensor, not "
                        f"{type(b if isinstance(a, Tensor) else a).__name__}")
    if a.dtype is not b.dtype:
        raise RuntimeError(f"expected {what} to have the same dtype, but got: "
                           f"{_TORCH_DTYPE[a.dtype.name]} != {_TORCH_DTYPE[b.dtype.name]}")
    if a.dtype is dtypes.bool_:
        raise NotImplementedError("\"addmm_impl_cpu_\" not implemented for 'Bool'")


def _extern_matmul(a: Tensor, b: Tensor, out_shape: tuple[int, ...]) -> Tensor:
    """out = a @ b for already-broadcast operands (batch dims equal or absent)."""
    compute = _compute_dtype(a.dtype)
    a_c, b_c = _blas_ready(ew.cast_if(a, compute)), _blas_ready(ew.cast_if(b, compute))
    if _realised(a_c) and _realised(b_c) and not modes.is_deferred():
        out = _product_now(a_c, b_c, out_shape, compute)
    else:
        node = make_node("extern", compute, out_shape, (a_c._load(), b_c._load()), "matmul")
        out = Tensor._from_node(node)
    return out if compute is a.dtype else ew.cast(out, a.dtype)


def _compute_dtype(dtype):
    """The dtype a matmul computes in: float16/bfloat16 in float32."""
    return dtype if dtype.itemsize >= 4 or dtype.kind != "f" else dtypes.float32


def _product_now(a: Tensor, b: Tensor, out_shape: tuple[int, ...], dtype) -> Tensor:
    """Eager and realised: the extern call itself, without an IR node."""
    storage = Storage.allocate(dtype, prod(out_shape), a._st.device)
    view = View.contiguous(out_shape)
    stats.bump("realizations")
    run_matmul(storage, view, [(a._st, a._vw), (b._st, b._vw)])
    return Tensor._make(storage, view)


def _matrices_product_now(a: Tensor, b: Tensor) -> Tensor | None:
    """a @ b in the common eager case, two realised matrices that BLAS reads
    as they are (no cast, no copy): computed without the general path's
    no_grad scope (nothing here records) or its shape dispatch. None for
    any other case."""
    if not (_realised(a) and _realised(b)) or modes.is_deferred() or \
            _compute_dtype(a.dtype) is not a.dtype:
        return None
    va, vb = a._vw, b._vw
    if len(va.shape) != 2 or len(vb.shape) != 2 or not is_blas_matrix(va.shape, va.strides) \
            or not is_blas_matrix(vb.shape, vb.strides):
        return None
    _check_mm_shapes(a, b)
    return _product_now(a, b, (va.shape[0], vb.shape[1]), a.dtype)


def _realised(t: Tensor) -> bool:
    return t._node is None and t._st.writer is None


def _blas_ready(t: Tensor) -> Tensor:
    """BLAS needs each matrix row- or column-major; a broadcast (stride 0) or
    sliced operand would send numpy to its slow generic loop: copy it first."""
    if t._node is not None:
        return t
    view = t._layout()
    if is_blas_matrix(view.shape, view.strides):
        return t
    return t.contiguous()


def stored_transposed(t: Tensor) -> bool:
    """A realised matrix laid out as its transpose's dense rows (linear's
    weight.t()): matmul's backward computes its gradient in that layout, as
    PyTorch does, so the optimizer reads the weight's gradient densely."""
    if t.ndim != 2 or t._node is not None:
        return False
    view = t._vw
    return view.shape[0] > 1 and view.shape[1] > 1 and view.strides == (1, view.shape[0])


def autocast_operands(*operands) -> tuple:
    """Under lt.autocast: the floating tensors among the operands of an op
    of PyTorch's lower-precision list (matmul, linear, conv, ...) cast to
    its dtype (differentiably); else the operands unchanged."""
    target = autocast_state.lower_precision()
    if target is None:
        return operands
    return tuple(ew.cast(x, target) if isinstance(x, Tensor) and x.dtype.is_floating_point and
                 x.dtype is not target else x for x in operands)


def matmul(input: Tensor, other: Tensor) -> Tensor:
    input, other = autocast_operands(input, other)
    _check_dtypes(input, other)
    out = _matrices_product_now(input, other)
    if out is None:
        with grad_mode.no_grad():
            out = _matmul(input, other)
    grad_mode.record("matmul", out, (input, other), mat2_transposed=stored_transposed(other))
    return out


def _matmul(input: Tensor, other: Tensor) -> Tensor:
    a, b = input, other
    if a._node is None and b._node is None and len(a._vw.shape) == 2 and len(b._vw.shape) == 2:
        _check_mm_shapes(a, b)  # (the common case first: two realised matrices)
        return _extern_matmul(a, b, (a._vw.shape[0], b._vw.shape[1]))
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{a.ndim}D and {b.ndim}D")
    if a.ndim == 1 and b.ndim == 1:
        if a.shape[0] != b.shape[0]:
            raise RuntimeError(
                f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src "
                f"[{b.shape[0]}] to have the same number of elements, but got {a.shape[0]} and "
                f"{b.shape[0]} elements respectively")
        out = _extern_matmul(a.reshape(1, -1), b.reshape(-1, 1), (1, 1)).reshape(())
    elif a.ndim == 2 and b.ndim == 1:
        if a.shape[1] != b.shape[0]:
            raise RuntimeError(f"size mismatch, got input ({a.shape[0]}), mat "
                               f"({a.shape[0]}x{a.shape[1]}), vec ({b.shape[0]})")
        out = _extern_matmul(a, b.reshape(-1, 1), (a.shape[0], 1)).reshape(a.shape[0])
    elif a.ndim == 1 and b.ndim == 2:
        if a.shape[0] != b.shape[0]:
            raise RuntimeError(f"size mismatch, got input ({a.shape[0]}), mat "
                               f"({b.shape[1]}x{b.shape[0]}), vec ({a.shape[0]})")
        out = _extern_matmul(a.reshape(1, -1), b, (1, b.shape[1])).reshape(b.shape[1])
    elif a.ndim == 2 and b.ndim == 2:
        _check_mm_shapes(a, b)
        out = _extern_matmul(a, b, (a.shape[0], b.shape[1]))
    else:
        a2 = a.unsqueeze(0) if a.ndim == 1 else a
        b2 = b.unsqueeze(-1) if b.ndim == 1 else b
        if a2.shape[-1] != b2.shape[-2]:
            raise RuntimeError(
                f"Expected size for first two dimensions of batch2 tensor to be: "
                f"[{a2.shape[0] if a2.ndim > 2 else 1}, {a2.shape[-1]}] but got: "
                f"[{b2.shape[0] if b2.ndim > 2 else 1}, {b2.shape[-2]}].")
        batch = broadcast_shapes(tuple(a2.shape[:-2]), tuple(b2.shape[:-2]))
        m, k, n = a2.shape[-2], a2.shape[-1], b2.shape[-1]
        a3 = a2.expand(*batch, m, k)
        b3 = b2.expand(*batch, k, n)
        out = _extern_matmul(a3, b3, (*batch, m, n))
        if a.ndim == 1:
            out = out.squeeze(-2)
        if b.ndim == 1:
            out = out.squeeze(-1)
    return out


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    input, mat2 = autocast_operands(input, mat2)
    _check_dtypes(input, mat2, "mat1 and mat2")
    if input.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    out = _matrices_product_now(input, mat2)
    if out is None:
        _check_mm_shapes(input, mat2)
        with grad_mode.no_grad():
            out = _extern_matmul(input, mat2, (input.shape[0], mat2.shape[1]))
    grad_mode.record("matmul", out, (input, mat2), mat2_transposed=stored_transposed(mat2))
    return out


def _check_mm_shapes(a: Tensor, b: Tensor) -> None:
    (m, k), (k2, n) = a._shape, b._shape
    if k != k2:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({m}x{k} and {k2}x{n})")


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    input, mat2 = autocast_operands(input, mat2)
    _check_dtypes(input, mat2, "batch1 and batch2")
    if input.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if input.shape[0] != mat2.shape[0] or input.shape[2] != mat2.shape[1]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: "
            f"[{input.shape[0]}, {input.shape[2]}] but got: [{mat2.shape[0]}, {mat2.shape[1]}].")
    with grad_mode.no_grad():
        out = _extern_matmul(input, mat2, (input.shape[0], input.shape[1], mat2.shape[2]))
    grad_mode.record("matmul", out, (input, mat2))
    return out


def dot(input: Tensor, other: Tensor) -> Tensor:
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    if input.dtype is not other.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                           f"{ew.TORCH_NAMES[input.dtype.name]} and "
                           f"{ew.TORCH_NAMES[other.dtype.name]}")
    return matmul(input, other)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    return matmul(input, vec)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    return ew.mul(input.reshape(-1, 1), vec2.reshape(1, -1))


# -------------------------------------------------------------------- sort
sort_result = return_types.sort
topk_result = return_types.topk


def _sort_indices(x: Tensor, dim: int, descending: bool) -> Tensor:
    """Extern: stable argsort along dim (NaN sorts as the largest value, like PyTorch)."""
    check_cpu_extern("sort", x)
    src = x.to(dtypes.float32) if x.dtype is dtypes.bfloat16 else x
    arr = np.moveaxis(src._host_array(), dim, -1)
    cpu.count_extern("sort", x.dtype)
    order = np.ascontiguousarray(np.moveaxis(cpu.argsort(arr, descending), -1, dim))
    storage = Storage.from_array(dtypes.int64, order, CPU)
    return Tensor._make(storage, View.contiguous(tuple(order.shape)))


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False):
    if input.ndim == 0:
        return sort_result(ew.clone(input), creation.zeros((), dtype=dtypes.int64))
    dim = normalize_dim(dim, input.ndim)
    indices = _sort_indices(input, dim, descending)
    values = indexing.gather_recorded_as(input, dim, indices, "SortBackward0")
    return sort_result(values, indices)


def check_cpu_extern(name: str, *tensors: Tensor) -> None:
    """The CPU-only extern ops (numpy's sort, LAPACK) refuse CUDA tensors
    plainly rather than computing on the host behind the user's back."""
    for t in tensors:
        if t.device.type != "cpu":
            raise RuntimeError(f"lazyt: {name} is not implemented for {t.device} tensors yet "
                               "(it runs on the CPU only); move the tensor with .cpu() first")


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False):
    if input.ndim == 0:
        return creation.zeros((), dtype=dtypes.int64)
    return _sort_indices(input, normalize_dim(dim, input.ndim), descending)


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    dim = normalize_dim(dim, input.ndim)
    size = input.shape[dim] if input.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError("selected index k out of range")
    if input.ndim == 0:
        return topk_result(*sort(input, dim, descending=largest))
    indices = _sort_indices(input, dim, largest).narrow(dim, 0, k).contiguous()
    if k == 0:
        return topk_result(ew.clone(input.narrow(dim, 0, 0)), indices)
    return topk_result(indexing.gather_recorded_as(input, dim, indices, "TopkBackward0"), indices)


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False):
    dim = normalize_dim(dim, input.ndim)
    size = input.shape[dim] if input.ndim else 1
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {dim}")
    if input.ndim == 0:  # (its one element, at index 0)
        return return_types.kthvalue(
            ew.clone(input), creation.zeros((), dtype=dtypes.int64))
    values, indices = sort(input, dim)
    v, i = values.select(dim, k - 1), indices.select(dim, k - 1)
    if keepdim:
        v, i = v.unsqueeze(dim), i.unsqueeze(dim)
    return return_types.kthvalue(ew.clone(v), ew.clone(i))


def einsum(equation: str, *operands) -> Tensor:
    """torch.einsum: explicit or implicit output, '...', repeated subscripts
    within an operand (diagonals), size-1 broadcasting. Operands are
    contracted left to right, two at a time, as batched matmuls over the
    letters they share (PyTorch's plan without opt_einsum), so nothing the
    size of the full broadcast product is allocated."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    inputs, out = _einsum_subscripts(equation.replace(" ", ""), operands)
    operands = [_einsum_diagonals(op, sub, i) for i, (sub, op) in enumerate(zip(inputs, operands))]
    inputs = [sub for _, sub in operands]
    operands = [op for op, _ in operands]
    sizes: dict = {}
    for i, (sub, op) in enumerate(zip(inputs, operands)):
        for c, n in zip(sub, op.shape):
            if c in sizes and n != sizes[c] and 1 not in (n, sizes[c]):
                raise RuntimeError(f"einsum(): subscript {_einsum_name(c)} has size {n} for "
                                   f"operand {i} which does not broadcast with previously seen "
                                   f"size {sizes[c]}")
            sizes[c] = n if sizes.get(c, 1) == 1 else sizes[c]
    result, letters = operands[0], inputs[0]
    for i in range(1, len(operands)):
        later = set(out).union(*inputs[i + 1:])
        result, letters = _contract(result, letters, operands[i], inputs[i], later, sizes)
    summed = tuple(d for d, c in enumerate(letters) if c not in out)
    if summed:
        result = reductions.sum(result, summed)
        letters = "".join(c for c in letters if c in out)
    # (one operand, nothing summed: a view of it, as PyTorch gives)
    return result.permute(*[letters.index(c) for c in out]) if out else result


def _einsum_name(c: str) -> str:
    """A subscript as the user wrote it ('...' dims are named by private letters)."""
    return c if c.isascii() else "..."


def _einsum_subscripts(eq: str, operands) -> tuple[list[str], str]:
    """Each operand's subscripts and the output's, checked as PyTorch does;
    an operand's '...' becomes one private letter per dim it covers (right-
    aligned across operands, so they broadcast like shapes)."""
    lhs, arrow, rhs = eq.partition("->")
    inputs = lhs.split(",")
    if len(operands) < len(inputs):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(operands) > len(inputs):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    for position, c in enumerate(eq):
        if not (c.isascii() and c.isalpha()) and c not in ".,->":
            raise RuntimeError(f"einsum(): invalid subscript given at index {position} in the "
                               "equation string, subscripts must be in [a-zA-Z]")
    widest = 0
    parts = []
    for i, (sub, op) in enumerate(zip(inputs, operands)):
        if not isinstance(op, Tensor):
            raise TypeError(f"einsum(): expected Tensor operands, got {type(op).__name__}")
        head, dots, tail = sub.partition("...")
        if "." in head + tail:
            raise RuntimeError(f"einsum(): found '.' for operand {i} "
                               + ("for which an ellipsis was already found" if dots and "..." in tail
                                  else "that is not part of any ellipsis"))
        named = len(head) + len(tail)
        if (op.ndim != named) if not dots else (op.ndim < named):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({named}) "
                               + ("does not match" if not dots else "is more than")
                               + f" the number of dimensions ({op.ndim}) for operand {i}"
                               + ("" if dots else " and no ellipsis was given"))
        covered = op.ndim - named if dots else 0
        widest = max(widest, covered)
        parts.append((head, covered, tail))
    ellipsis = "".join(chr(0x100 + k) for k in range(widest))
    inputs = [head + ellipsis[widest - covered:] + tail for head, covered, tail in parts]
    if arrow:
        if "." in rhs.replace("...", "", 1) or rhs.count("...") > 1:
            raise RuntimeError("einsum(): found '.' for output that is not part of any ellipsis")
        out = rhs.replace("...", ellipsis)
        for c in out:
            if out.count(c) > 1:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in "
                                   "the output")
            if not any(c in sub for sub in inputs):
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the "
                                   "equation for any input operand")
    else:
        counts: dict = {}
        for sub in inputs:
            for c in sub:
                counts[c] = counts.get(c, 0) + 1
        out = ellipsis + "".join(sorted(c for c, n in counts.items() if n == 1 and c.isascii()))
    return inputs, out


def _einsum_diagonals(op: Tensor, sub: str, i: int) -> tuple[Tensor, str]:
    """op with each repeated subscript taken along its diagonal (the letter
    moves last), and its subscripts without repeats."""
    while len(set(sub)) != len(sub):
        c = next(c for c in sub if sub.count(c) > 1)
        first, second = sub.index(c), sub.index(c, sub.index(c) + 1)
        if op.shape[first] != op.shape[second]:
            raise RuntimeError(f"einsum(): subscript {_einsum_name(c)} is repeated for operand "
                               f"{i} but the sizes don't match, {op.shape[second]} != "
                               f"{op.shape[first]}")
        op = op.diagonal(0, first, second)
        sub = sub[:first] + sub[first + 1:second] + sub[second + 1:] + c
    return op, sub


def _contract(a: Tensor, la: str, b: Tensor, lb: str, later: set, sizes: dict):
    """a (letters la) times b (letters lb), summed over the letters neither
    a later operand nor the output uses: (result, its letters), by one
    batched matmul (batch: shared letters kept; contracted: shared letters
    summed)."""
    a, la = _sum_letters(a, la, lambda c: c not in lb and c not in later)
    b, lb = _sum_letters(b, lb, lambda c: c not in la and c not in later)
    batch = [c for c in la if c in lb and c in later]
    summed = [c for c in la if c in lb and c not in later]
    left = [c for c in la if c not in lb]
    right = [c for c in lb if c not in la]

    def arranged(t, letters, groups):
        order = [letters.index(c) for group in groups for c in group]
        t = t.permute(*order) if order != list(range(len(order))) else t
        t = t.expand([sizes[c] for group in groups for c in group])
        return t.reshape([prod([sizes[c] for c in group]) for group in groups])

    product = matmul(arranged(a, la, (batch, left, summed)), arranged(b, lb, (batch, summed, right)))
    letters = batch + left + right
    return product.reshape([sizes[c] for c in letters]), "".join(letters)


def _sum_letters(t: Tensor, letters: str, drop) -> tuple[Tensor, str]:
    """t summed over the dims whose letter `drop` accepts, and its remaining letters."""
    dims = tuple(d for d, c in enumerate(letters) if drop(c))
    if not dims:
        return t, letters
    return reductions.sum(t, dims), "".join(c for c in letters if not drop(c))


def median(input: Tensor, dim: int | None = None, keepdim: bool = False):
    """The lower median (PyTorch's choice for even counts), via the sort extern."""
    if dim is None:
        flat = input.reshape(-1)
        if flat.numel() == 0:
            return creation.full((), float("nan"), dtype=input.dtype)
        values, _ = sort(flat)
        return ew.clone(values.select(0, (flat.numel() - 1) // 2))
    dim = normalize_dim(dim, input.ndim)
    values, indices = sort(input, dim) if input.ndim else (input, None)
    if input.ndim == 0:
        return return_types.median(
            ew.clone(input), creation.zeros((), dtype=dtypes.int64))
    k = (input.shape[dim] - 1) // 2
    v, i = values.select(dim, k), indices.select(dim, k)
    if keepdim:
        v, i = v.unsqueeze(dim), i.unsqueeze(dim)
    return return_types.median(ew.clone(v), ew.clone(i))


FUNCTIONS = {
    "einsum": einsum,
    "median": median,
    "matmul": matmul, "mm": mm, "bmm": bmm, "dot": dot, "mv": mv, "outer": outer,
    "sort": sort, "argsort": argsort, "topk": topk, "kthvalue": kthvalue,
}
TENSOR_METHODS = dict(FUNCTIONS)
def _matmul_operator(reflected: bool):
    """Tensor @ other (other @ Tensor when reflected); NotImplemented for a
    non-Tensor operand, so that Python raises its TypeError, as with PyTorch."""
    def method(self, other):
        if not isinstance(other, Tensor):
            return NotImplemented
        return matmul(other, self) if reflected else matmul(self, other)

    return method


TENSOR_METHODS.update({"__matmul__": _matmul_operator(False),
                       "__rmatmul__": _matmul_operator(True)})


# The modules whose LINALG tables complete the lt.linalg namespace.
_NAMESPACE_MODULES = ("lazyt.linalg_products", "lazyt.linalg_norms",
                      "lazyt.linalg_decompositions", "lazyt.linalg_solvers", "lazyt.linalg_lu",
                      "lazyt.linalg_ldl")


def __getattr__(name: str):
    if name.startswith("__"):  # import machinery probing (__path__, ...): not ours
        raise AttributeError(f"module 'lazyt.linalg' has no attribute {name!r}")
    for module_name in _NAMESPACE_MODULES:
        table = importlib.import_module(module_name).LINALG
        if name in table:
            globals()[name] = table[name]
            return table[name]
    raise AttributeError(f"module 'lazyt.linalg' has no attribute {name!r}")


def __dir__() -> list[str]:
    names = set(globals())
    for module_name in _NAMESPACE_MODULES:
        names.update(importlib.import_module(module_name).LINALG)
    return sorted(names)
