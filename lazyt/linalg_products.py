"""Products built on matmul: addmm and its family, tensordot, kron, cross,
cdist, inner, multi_dot, vdot, matrix_power, vecdot, diag_embed.

Every op here is a composite of lazyt ops (the matmul extern of
lazyt/linalg.py plus elementwise ops and reductions), so each gets its
gradient from the ops it is made of and fuses in deferred mode. `LINALG`
names the functions that `lt.linalg` exposes (lazyt/linalg.py resolves them
on first use); `FUNCTIONS` and `TENSOR_METHODS` are the top-level names.
"""

from __future__ import annotations

from lazyt import creation, dtypes, reductions, shape_ops
from lazyt import elementwise as ew
from lazyt.autograd import grad_mode
from lazyt.linalg import autocast_operands, matmul
from lazyt.tensor import Tensor, broadcast_shapes, normalize_dim

TORCH_NAMES = ew.TORCH_NAMES


def _type_name(t: Tensor) -> str:
    return TORCH_NAMES[t.dtype.name]


def write_out(result: Tensor, out: Tensor | None, op_name: str, inputs=()) -> Tensor:
    """Store result into a user's out= tensor (PyTorch's rules: same dtype, no
    autograd, a tensor of another shape is resized to the result's)."""
    if out is None:
        return result
    if grad_mode.is_grad_enabled() and any(
            isinstance(t, Tensor) and t.requires_grad for t in (*inputs, out)):
        raise RuntimeError(f"{op_name}(): functions with out=... arguments don't support "
                           "automatic differentiation, but one of the arguments requires grad.")
    if out.dtype is not result.dtype:
        raise RuntimeError(f"Expected out tensor to have dtype {_cpp_name(result)}, but got "
                           f"{_cpp_name(out)} instead")
    if tuple(out.shape) == tuple(result.shape):
        out.copy_(result)
    else:  # PyTorch resizes out
        out.data = result.detach().contiguous().clone()
    return out


def _cpp_name(t: Tensor) -> str:
    return {"float32": "float", "float64": "double", "int64": "long int",
            "int32": "int"}.get(t.dtype.name, t.dtype.name)


def _scaled_sum(input: Tensor, product: Tensor, beta, alpha, strict: bool = False) -> Tensor:
    """beta * input + alpha * product, PyTorch's way: beta == 0 ignores input
    (NaN in it does not propagate), integer and bool results keep their dtype
    (float beta/alpha are truncated; `strict` (addr) rejects them instead)."""
    dtype = product.dtype
    if dtype is dtypes.bool_:
        scaled = ew.logical_and(product, bool(alpha))
        if not beta:
            return scaled
        return ew.logical_or(ew.logical_and(input, bool(beta)), scaled)
    if dtype.kind != "f":
        for name, value in (("beta", beta), ("alpha", alpha)):
            if strict and isinstance(value, float) and not value.is_integer():
                raise RuntimeError(f"For integral input tensors, argument {name} must not be a "
                                   "floating point number.")
        beta, alpha = int(beta), int(alpha)
    scaled = product if alpha == 1 else ew.mul(product, alpha)
    if beta == 0:
        return ew.cast_if(scaled.expand(product.shape), dtype)
    base = input if beta == 1 else ew.mul(input, beta)
    return ew.cast_if(ew.add(base, scaled), dtype)


def _expand_input(input: Tensor, shape: tuple[int, ...]) -> Tensor:
    """input broadcast to the product's shape (expand's error names both)."""
    return input.expand(*shape) if tuple(input.shape) != shape else input


def _check_same_dtype(a: Tensor, b: Tensor, names: str) -> None:
    if a.dtype is not b.dtype:
        raise RuntimeError(f"{names} must have the same dtype, but got {_type_name(a)} and "
                           f"{_type_name(b)}")


# ------------------------------------------------------------ addmm family
def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2)."""
    input, mat1, mat2 = autocast_operands(input, mat1, mat2)
    for name, t in (("mat1", mat1), ("mat2", mat2)):
        if t.ndim != 2:
            raise RuntimeError(f"{name} must be a matrix, got {t.ndim}-D tensor")
    _check_same_dtype(input, mat2, "self and mat2")
    _check_same_dtype(mat1, mat2, "mat1 and mat2")
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({mat1.shape[0]}x{mat1.shape[1]} and "
            f"{mat2.shape[0]}x{mat2.shape[1]})")
    shape = (mat1.shape[0], mat2.shape[1])
    base = _expand_input(input, shape)
    result = _scaled_sum(base, matmul(mat1, mat2), beta, alpha)
    return write_out(result, out, "addmm", (input, mat1, mat2))


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:
    """beta * input + alpha * (mat @ vec)."""
    if mat.ndim != 2 or vec.ndim != 1 or input.ndim > 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.ndim}, {mat.ndim}, "
                           f"{vec.ndim}")
    input_size = input.shape[0] if input.ndim else 1
    if mat.shape[1] != vec.shape[0] or input_size not in (1, mat.shape[0]):
        raise RuntimeError(f"size mismatch, got input ({input_size}), mat "
                           f"({mat.shape[0]}x{mat.shape[1]}), vec ({vec.shape[0]})")
    if not (input.dtype is mat.dtype is vec.dtype):
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got "
                           f"{_type_name(input)}, {_type_name(mat)}, and {_type_name(vec)}")
    base = _expand_input(input, (mat.shape[0],))
    result = _scaled_sum(base, matmul(mat, vec), beta, alpha)
    return write_out(result, out, "addmv", (input, mat, vec))


def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:
    """beta * input + alpha * outer(vec1, vec2), in the three operands' promoted dtype."""
    for name, t in (("vec1", vec1), ("vec2", vec2)):
        if t.ndim != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {name}, but got {t.ndim}-D")
    dtype = dtypes.result_type(input, vec1, vec2)
    shape = (vec1.shape[0], vec2.shape[0])
    base = _expand_input(ew.cast_if(input, dtype), shape)
    product = ew.mul(ew.cast_if(vec1, dtype).reshape(-1, 1), ew.cast_if(vec2, dtype).reshape(1, -1))
    result = _scaled_sum(base, product, beta, alpha, strict=True)
    return write_out(result, out, "addr", (input, vec1, vec2))


def _check_batches(batch1: Tensor, batch2: Tensor) -> None:
    for name, t in (("batch1", batch1), ("batch2", batch2)):
        if t.ndim != 3:
            raise RuntimeError(f"{name} must be a 3D tensor")


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1,
            out=None) -> Tensor:
    """beta * input + alpha * bmm(batch1, batch2)."""
    input, batch1, batch2 = autocast_operands(input, batch1, batch2)
    _check_batches(batch1, batch2)
    if batch1.shape[0] != batch2.shape[0] or batch1.shape[2] != batch2.shape[1]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: "
            f"[{batch1.shape[0]}, {batch1.shape[2]}] but got: [{batch2.shape[0]}, "
            f"{batch2.shape[1]}].")
    _check_same_dtype(batch1, batch2, "batch1 and batch2")
    _check_same_dtype(input, batch1, "self and batch1")
    shape = (batch1.shape[0], batch1.shape[1], batch2.shape[2])
    base = _expand_input(input, shape)
    result = _scaled_sum(base, matmul(batch1, batch2), beta, alpha)
    return write_out(result, out, "baddbmm", (input, batch1, batch2))


def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1,
           out=None) -> Tensor:
    """beta * input + alpha * sum over b of batch1[b] @ batch2[b] (one matmul over
    the batch laid along the contracted dimension)."""
    input, batch1, batch2 = autocast_operands(input, batch1, batch2)
    _check_batches(batch1, batch2)
    if batch1.shape[0] != batch2.shape[0]:
        raise RuntimeError(f"batch1 and batch2 must have same number of batches, got "
                           f"{batch1.shape[0]} and {batch2.shape[0]}")
    if batch1.shape[2] != batch2.shape[1]:
        raise RuntimeError(f"Incompatible matrix sizes for bmm ({batch1.shape[1]}x"
                           f"{batch1.shape[2]} and {batch2.shape[1]}x{batch2.shape[2]})")
    _check_same_dtype(batch1, batch2, "batch1 and batch2")
    _check_same_dtype(input, batch1, "self and batch1")
    b, n, k = batch1.shape
    p = batch2.shape[2]
    shape = (n, p)
    base = _expand_input(input, shape)
    product = matmul(batch1.permute(1, 0, 2).reshape(n, b * k), batch2.reshape(b * k, p))
    result = _scaled_sum(base, product, beta, alpha)
    return write_out(result, out, "addbmm", (input, batch1, batch2))


# ------------------------------------------------------ their in-place forms
def _write_inplace(self: Tensor, result: Tensor) -> Tensor:
    if tuple(result.shape) != tuple(self.shape):
        raise RuntimeError(f"Bad in-place call: input tensor size {list(self.shape)} and output "
                           f"tensor size {list(result.shape)} should match")
    return self.copy_(result)


def addmm_(self: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
    return _write_inplace(self, addmm(self, mat1, mat2, beta=beta, alpha=alpha))


def addmv_(self: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1) -> Tensor:
    return _write_inplace(self, addmv(self, mat, vec, beta=beta, alpha=alpha))


def baddbmm_(self: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    return _write_inplace(self, baddbmm(self, batch1, batch2, beta=beta, alpha=alpha))


def addr_(self: Tensor, vec1: Tensor, vec2: Tensor, *, beta=1, alpha=1) -> Tensor:
    if self.ndim != 2:
        raise RuntimeError(f"2D tensor expected, got {self.ndim}D tensor for input")
    return _write_inplace(self, addr(self, vec1, vec2, beta=beta, alpha=alpha))


def addbmm_(self: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """PyTorch resizes self when its shape is not the result's (no error, no warning)."""
    result = addbmm(self, batch1, batch2, beta=beta, alpha=alpha)
    if tuple(result.shape) != tuple(self.shape):
        self.data = result.detach().contiguous().clone()
        return self
    return self.copy_(result)


# ------------------------------------------------------ contractions
def _dims_list(dims) -> list[int]:
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    return [dims] if isinstance(dims, int) else list(dims)


def tensordot(a: Tensor, b: Tensor, dims=2, out=None) -> Tensor:
    """Contract dims of a with dims of b: one matmul of the permuted operands."""
    if isinstance(dims, Tensor):
        dims = dims.item() if dims.numel() == 1 else dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > a.ndim or dims > b.ndim:
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        dims_a, dims_b = list(range(-dims, 0)), list(range(dims))
    else:
        if len(dims) != 2:
            raise RuntimeError("tensordot expects dims to be a pair of dimension lists")
        dims_a, dims_b = _dims_list(dims[0]), _dims_list(dims[1])
    if len(dims_a) != len(dims_b):
        raise RuntimeError("both dimension lists should have same length")
    if a.dtype is not b.dtype:
        raise RuntimeError("both inputs should have same dtype")
    for da, db in zip(dims_a, dims_b):
        # PyTorch broadcasts a size-1 contracted dim: the other side is summed there first.
        if b.shape[db] == 1 and a.shape[da] != 1:
            a = ew.cast_if(reductions.sum(a, da, keepdim=True), a.dtype)
        elif a.shape[da] == 1 and b.shape[db] != 1:
            b = ew.cast_if(reductions.sum(b, db, keepdim=True), b.dtype)
        elif a.shape[da] != b.shape[db]:
            raise RuntimeError(
                f"contracted dimensions need to match, but first has size {a.shape[da]} in dim "
                f"{da} and second has size {b.shape[db]} in dim {db}")
    dims_a = [normalize_dim(d, a.ndim) for d in dims_a]
    dims_b = [normalize_dim(d, b.ndim) for d in dims_b]
    free_a = [d for d in range(a.ndim) if d not in dims_a]
    free_b = [d for d in range(b.ndim) if d not in dims_b]
    size = 1
    for d in dims_a:
        size *= a.shape[d]
    left = a.permute(*free_a, *dims_a).reshape(-1, size)
    right = b.permute(*dims_b, *free_b).reshape(size, -1)
    shape = [a.shape[d] for d in free_a] + [b.shape[d] for d in free_b]
    if a.dtype is dtypes.bool_:
        result = ew.cast(matmul(ew.cast(left, dtypes.int64), ew.cast(right, dtypes.int64))
                         .reshape(shape), dtypes.bool_)
    else:
        result = matmul(left, right).reshape(shape)
    return write_out(result, out, "tensordot", (a, b))


def kron(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """The Kronecker product: interleave the two operands' dims, multiply, merge pairs."""
    ndim = max(input.ndim, other.ndim)
    a_shape = (1,) * (ndim - input.ndim) + tuple(input.shape)
    b_shape = (1,) * (ndim - other.ndim) + tuple(other.shape)
    a = input.reshape([s for n in a_shape for s in (n, 1)])
    b = other.reshape([s for n in b_shape for s in (1, n)])
    result = ew.mul(a, b).reshape([x * y for x, y in zip(a_shape, b_shape)])
    return write_out(result, out, "kron", (input, other))


def inner(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """Sum over the last dims: shape input.shape[:-1] + other.shape[:-1]."""
    if input.ndim == 0 or other.ndim == 0:
        return write_out(ew.mul(input, other), out, "inner", (input, other))
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but "
                           f"got shapes {list(input.shape)} and {list(other.shape)}")
    return tensordot(input, other, dims=([-1], [-1]), out=out)


def vdot(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """The dot product of two 1-D tensors (conjugating the first: a no-op for reals)."""
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D "
                           "tensors")
    if input.dtype is not other.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                           f"{_type_name(input)} and {_type_name(other)}")
    return write_out(matmul(input, other), out, "vdot", (input, other))


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1, out=None) -> Tensor:
    """linalg.vecdot: sum(x * y, dim) with broadcasting."""
    if x.dtype is not y.dtype:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found "
                           f"x of type {_type_name(x)} and y of type {_type_name(y)} instead")
    if x.dtype.kind != "f":
        raise RuntimeError(f"linalg.vecdot: Expected a floating point or complex tensor as "
                           f"input. Got {_type_name(x)}")
    result = reductions.sum(ew.mul(x, y), dim)
    return write_out(result, out, "linalg_vecdot", (x, y))


def multi_dot(tensors, *, out=None) -> Tensor:
    """linalg.multi_dot: a chain of matmuls; the first operand may be a row
    vector and the last a column vector (their dims are dropped again)."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    first, last = tensors[0], tensors[-1]
    if first.ndim not in (1, 2):
        raise RuntimeError(f"multi_dot(): the first tensor must be 1D or 2D but got "
                           f"{first.ndim}D")
    if last.ndim not in (1, 2):
        raise RuntimeError(f"multi_dot(): the last tensor must be 1D or 2D but got {last.ndim}D")
    for i, t in enumerate(tensors[1:-1], start=1):
        if t.ndim != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {t.ndim}D")
    for i, t in enumerate(tensors[1:], start=1):
        if t.dtype is not first.dtype:
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but tensor "
                               f"0 is {_type_name(first)} and tensor {i} is {_type_name(t)}")
    matrices = list(tensors)
    if first.ndim == 1:
        matrices[0] = first.unsqueeze(0)
    if last.ndim == 1:
        matrices[-1] = last.unsqueeze(1)
    for i in range(len(matrices) - 1):
        if matrices[i].shape[1] != matrices[i + 1].shape[0]:
            raise RuntimeError(
                f"multi_dot(): tensors {i} and {i + 1} with shapes "
                f"{list(matrices[i].shape)} and {list(matrices[i + 1].shape)} cannot be "
                "multiplied")
    result = matrices[0]
    for matrix in matrices[1:]:
        result = matmul(result, matrix)
    if first.ndim == 1:
        result = result.squeeze(0)
    if last.ndim == 1:
        result = result.squeeze(-1)
    return write_out(result, out, "linalg_multi_dot", tensors)


def chain_matmul(*matrices, out=None) -> Tensor:
    """The deprecated torch.chain_matmul: multi_dot of 2-D matrices only."""
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    for t in matrices:
        if t.ndim != 2:
            raise RuntimeError(f"Tensor dimension is {t.ndim}, expected 2 instead.")
    if len(matrices) == 1:
        return write_out(ew.clone(matrices[0]), out, "chain_matmul", matrices)
    return multi_dot(matrices, out=out)


def matrix_power(input: Tensor, n: int, *, out=None) -> Tensor:
    """A^n by repeated squaring; n < 0 inverts first, n == 0 is the identity."""
    _check_square(input, "linalg.matrix_power")
    if n == 0:
        eye = creation.eye(input.shape[-1], dtype=input.dtype).expand(*input.shape)
        # Still an output of input's graph (a zero gradient), as in PyTorch.
        result = ew.where(creation.tensor(True), eye, input)
    else:
        base = input
        if n < 0:
            from lazyt.linalg_decompositions import inv  # it imports this module
            base = inv(input)
            n = -n
        result = None
        while n:
            if n & 1:
                result = base if result is None else matmul(result, base)
            n >>= 1
            if n:
                base = matmul(base, base)
        if result is input:
            result = ew.clone(input)
    return write_out(result, out, "linalg_matrix_power", (input,))


def _check_square(A: Tensor, op_name: str) -> None:
    if A.ndim < 2:
        raise RuntimeError(f"{op_name}: The input tensor A must have at least 2 dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{op_name}: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")


# --------------------------------------------------------------- cross
def linalg_cross(input: Tensor, other: Tensor, *, dim: int = -1, out=None) -> Tensor:
    """linalg.cross: the 3-vector cross product along dim (operands broadcast)."""
    if input.ndim != other.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    axis = normalize_dim(dim, input.ndim)
    if input.shape[axis] != 3 or other.shape[axis] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{input.shape[axis]} and {other.shape[axis]}")
    if input.dtype is not other.dtype:
        raise RuntimeError(f"expected scalar type {_type_name(input)} but found "
                           f"{_type_name(other)}")
    shape = list(broadcast_shapes(tuple(input.shape), tuple(other.shape)))
    shape[axis] = 3
    a, b = input.expand(*shape), other.expand(*shape)
    a0, a1, a2 = (a.narrow(axis, i, 1) for i in range(3))
    b0, b1, b2 = (b.narrow(axis, i, 1) for i in range(3))
    result = shape_ops.cat([ew.sub(ew.mul(a1, b2), ew.mul(a2, b1)),
                            ew.sub(ew.mul(a2, b0), ew.mul(a0, b2)),
                            ew.sub(ew.mul(a0, b1), ew.mul(a1, b0))], axis)
    return write_out(result, out, "linalg_cross", (input, other))


def cross(input: Tensor, other: Tensor, dim: int | None = None, *, out=None) -> Tensor:
    """torch.cross: without dim, the first dimension of size 3 (deprecated in PyTorch)."""
    if dim is None:
        shape = broadcast_shapes(tuple(input.shape), tuple(other.shape))
        sizes = [d for d, n in enumerate(shape) if n == 3]
        if not sizes:
            raise RuntimeError("no dimension of size 3 in input")
        dim = sizes[0]
    return linalg_cross(input, other, dim=dim, out=out)


# --------------------------------------------------------------- cdist
def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode=None) -> Tensor:
    """Pairwise p-norm distances between the rows of x1 (..., P, M) and x2 (..., R, M)."""
    for name, t in (("X1", x1), ("X2", x2)):
        if t.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {t.ndim}D")
    if x1.dtype.kind != "f":
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: "
                           f"{_type_name(x1)}")
    if x2.dtype.kind != "f":
        raise RuntimeError(f"cdist only supports floating-point dtypes, X2 got: "
                           f"{_type_name(x2)}")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1.shape[-1]} X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    if x1.dtype is not x2.dtype:
        raise RuntimeError(f"expected scalar type {_type_name(x1)} but found {_type_name(x2)}")
    batch = broadcast_shapes(tuple(x1.shape[:-2]), tuple(x2.shape[:-2]))
    a = x1.expand(*batch, *x1.shape[-2:]).unsqueeze(-2)  # (..., P, 1, M)
    b = x2.expand(*batch, *x2.shape[-2:]).unsqueeze(-3)  # (..., 1, R, M)
    diff = ew.sub(a, b)
    if p == 2:
        return reductions.norm(diff, 2, dim=-1)
    magnitude = ew.apply("abs", diff)
    if p == 0:
        return reductions.sum(ew.cast(ew.apply("ne", diff, 0), diff.dtype), -1)
    if p == 1:
        return reductions.sum(magnitude, -1)
    if p == float("inf"):
        if diff.shape[-1] == 0:
            return creation.zeros(diff.shape[:-1], dtype=diff.dtype)
        return reductions.amax(magnitude, -1)
    return ew.pow(reductions.sum(ew.pow(magnitude, p), -1), 1.0 / p)


# ---------------------------------------------------- diagonals
def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Place the last dim of input on a diagonal of new (dim1, dim2) planes."""
    ndim = input.ndim + 1
    d1, d2 = normalize_dim(dim1, ndim), normalize_dim(dim2, ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    m = input.shape[-1] if input.ndim else 1
    x = input.reshape(1) if input.ndim == 0 else input
    n = m + abs(offset)
    if offset:
        padding = creation.zeros((*x.shape[:-1], abs(offset)), dtype=x.dtype)
        x = shape_ops.cat([x, padding], -1)
    rows = creation.arange(n).reshape(n, 1)
    cols = creation.arange(n).reshape(1, n)
    on_diagonal = ew.apply("eq", ew.sub(cols, rows), offset)
    # Above the main diagonal element i sits in row i, below it in column i.
    values = x.unsqueeze(-1) if offset >= 0 else x.unsqueeze(-2)
    result = ew.where(on_diagonal, values, creation.zeros((), dtype=x.dtype))
    return result.movedim((-2, -1), (d1, d2))


def linalg_diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    return shape_ops.diagonal_view(A, offset, dim1, dim2)


FUNCTIONS = {
    "addmm": addmm, "addmv": addmv, "addr": addr, "baddbmm": baddbmm, "addbmm": addbmm,
    "tensordot": tensordot, "kron": kron, "inner": inner, "vdot": vdot, "cross": cross,
    "cdist": cdist, "chain_matmul": chain_matmul, "matrix_power": matrix_power,
    "diag_embed": diag_embed,
}
TENSOR_METHODS = {
    "addmm": addmm, "addmv": addmv, "addr": addr, "baddbmm": baddbmm, "addbmm": addbmm,
    "addmm_": addmm_, "addmv_": addmv_, "addr_": addr_, "baddbmm_": baddbmm_,
    "addbmm_": addbmm_,
    "kron": kron, "inner": inner, "vdot": vdot, "cross": cross, "matrix_power": matrix_power,
    "diag_embed": diag_embed,
}
# lt.linalg.X (lazyt/linalg.py resolves these names on first use).
LINALG = {
    "cross": linalg_cross, "multi_dot": multi_dot, "vecdot": vecdot,
    "matrix_power": matrix_power, "diagonal": linalg_diagonal,
}
