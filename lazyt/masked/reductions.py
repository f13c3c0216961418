"""torch.masked's operations on strided tensors: reductions, scans and normalizations
that take a `mask=` of valid elements.

Frontend layer beside lazyt/reductions.py, following torch/masked/_ops.py: a
masked-out element is replaced by the operation's identity (0 for sum, -inf for
amax, NaN for median, ...) with `where`, then the plain lazyt op runs, so
gradients are the ops' own (zero at masked-out elements) and deferred mode fuses
the whole thing. A result whose elements are all masked out is what that gives:
the identity, or NaN for mean/var/std/median, as in PyTorch.
"""

from __future__ import annotations

from lazyt import creation, dtypes, elementwise, linalg_norms, reductions, statistics
from lazyt.tensor import Tensor

_SMALL_INTEGERS = (dtypes.uint8, dtypes.bool_, dtypes.int8, dtypes.int16, dtypes.int32)


def _canonical_dims(dim, ndim: int) -> tuple[int, ...]:
    """dim as a sorted tuple of non-negative dims (None and () mean every dim)."""
    if dim is None or dim == ():
        return tuple(range(ndim))
    ndim = max(ndim, 1)
    found: list[int] = []
    for d in ((dim,) if isinstance(dim, int) else dim):
        if d in found:
            raise RuntimeError(f"dim={d} appears multiple times in the list of dims")
        if d >= ndim or d < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, "
                             f"{ndim - 1}], but got {d})")
        found.append(d % ndim)
    return tuple(sorted(found))


def _identity(op: str, input: Tensor, ord=2.0):
    """The value a masked-out element takes for op (a Python number)."""
    dtype = input.dtype
    if op in ("sum", "cumsum"):
        return 0
    if op in ("prod", "cumprod"):
        return 1
    if op in ("amax", "argmax", "logaddexp", "logsumexp", "amin", "argmin"):
        largest = op in ("amin", "argmin")
        if dtype.kind == "f":
            return float("inf") if largest else -float("inf")
        if dtype is not dtypes.bool_:
            info = dtypes.iinfo(dtype)
            return info.max if largest else info.min
    if op == "norm":
        return float("inf") if ord == -float("inf") else 0
    if op == "median":
        return float("nan")
    raise NotImplementedError(f"identity of {op} on {elementwise.TORCH_NAMES[dtype.name]} input")


def _input_mask(input: Tensor, mask: Tensor) -> Tensor:
    """mask broadcast to input's shape, as bool."""
    if tuple(mask.shape) != tuple(input.shape):
        if mask.ndim > input.ndim:
            raise IndexError("_input_mask expected broadcastable mask (got mask dimensionality "
                             "higher than of the input)")
        mask = mask.broadcast_to(tuple(input.shape))
    return elementwise.cast_if(mask, dtypes.bool_)


def _masked_input(op: str, input: Tensor, mask, ord=2.0) -> Tensor:
    """input with its masked-out elements replaced by op's identity."""
    if mask is None:
        return input
    fill = creation.full((), _identity(op, input, ord), dtype=input.dtype)
    return elementwise.where(_input_mask(input, mask), input, fill)


def _sum_dtype(input: Tensor, dtype):
    if dtype is not None:
        return dtype
    return dtypes.int64 if input.dtype in _SMALL_INTEGERS else input.dtype


def sum(input: Tensor, dim=None, *, keepdim: bool = False, dtype=None,  # noqa: A001
        mask: Tensor | None = None) -> Tensor:
    """Sum of the masked-in elements over dim (0 where none are)."""
    dtype = _sum_dtype(input, dtype)
    dims = _canonical_dims(dim, input.ndim)
    return reductions.sum(_masked_input("sum", input, mask), dims, bool(keepdim), dtype=dtype)


def prod(input: Tensor, dim=None, *, keepdim: bool = False, dtype=None,
         mask: Tensor | None = None) -> Tensor:
    """Product of the masked-in elements over dim (1 where none are)."""
    dtype = _sum_dtype(input, dtype)
    result = elementwise.cast_if(_masked_input("prod", input, mask), dtype)
    for d in reversed(_canonical_dims(dim, input.ndim)):
        result = reductions.prod(result, d, bool(keepdim))
    return result


def cumsum(input: Tensor, dim: int, *, dtype=None, mask: Tensor | None = None) -> Tensor:
    """Running sum along dim, masked-out elements counting as 0."""
    dtype = input.dtype if dtype is None else dtype
    d = _canonical_dims(dim, input.ndim)[0]
    return elementwise.cast_if(
        reductions.cumsum(_masked_input("cumsum", input, mask), d, dtype=dtype), dtype)


def cumprod(input: Tensor, dim: int, *, dtype=None, mask: Tensor | None = None) -> Tensor:
    """Running product along dim, masked-out elements counting as 1."""
    dtype = input.dtype if dtype is None else dtype
    d = _canonical_dims(dim, input.ndim)[0]
    return elementwise.cast_if(
        reductions.cumprod(_masked_input("cumprod", input, mask), d, dtype=dtype), dtype)


def amax(input: Tensor, dim=None, *, keepdim: bool = False, dtype=None,
         mask: Tensor | None = None) -> Tensor:
    """Maximum of the masked-in elements (the dtype's lowest value where none are)."""
    dtype = input.dtype if dtype is None else dtype
    masked = _masked_input("amax", input, mask)
    return elementwise.cast_if(
        reductions.amax(masked, _canonical_dims(dim, masked.ndim), bool(keepdim)), dtype)


def amin(input: Tensor, dim=None, *, keepdim: bool = False, dtype=None,
         mask: Tensor | None = None) -> Tensor:
    """Minimum of the masked-in elements (the dtype's highest value where none are)."""
    dtype = input.dtype if dtype is None else dtype
    masked = _masked_input("amin", input, mask)
    return elementwise.cast_if(
        reductions.amin(masked, _canonical_dims(dim, masked.ndim), bool(keepdim)), dtype)


def argmax(input: Tensor, dim: int | None = None, *, keepdim: bool = False, dtype=None,
           mask: Tensor | None = None) -> Tensor:
    """Index of the largest masked-in element, in input's dtype (as torch.masked gives it)."""
    dtype = input.dtype if dtype is None else dtype
    masked = _masked_input("argmax", input, mask)
    return elementwise.cast_if(reductions.argmax(masked, dim, bool(keepdim)), dtype)


def argmin(input: Tensor, dim: int | None = None, *, keepdim: bool = False, dtype=None,
           mask: Tensor | None = None) -> Tensor:
    """Index of the smallest masked-in element, in input's dtype (as torch.masked gives it)."""
    dtype = input.dtype if dtype is None else dtype
    masked = _masked_input("argmin", input, mask)
    return elementwise.cast_if(reductions.argmin(masked, dim, bool(keepdim)), dtype)


def _count(input: Tensor, dim, keepdim: bool, mask) -> Tensor:
    """How many elements are masked in over dim (int64)."""
    if mask is None:
        return sum(creation.ones(tuple(input.shape), dtype=dtypes.int64), dim, keepdim=keepdim)
    return reductions.sum(_input_mask(input, mask), _canonical_dims(dim, input.ndim), bool(keepdim))


def mean(input: Tensor, dim=None, *, keepdim: bool = False, dtype=None,
         mask: Tensor | None = None) -> Tensor:
    """Mean of the masked-in elements (NaN where none are)."""
    source = "Optional"
    if dtype is None:
        dtype, source = input.dtype, "Input"
    if dtype.kind != "f":
        raise ValueError(f"mean(): Could not infer output dtype. {source} dtype must be either a "
                         f"floating point or complex dtype. Got: {dtype}")
    total = sum(input, dim, keepdim=keepdim, dtype=dtype, mask=mask)
    return elementwise.true_divide(total, _count(input, dim, keepdim, mask))


def median(input: Tensor, dim: int = -1, *, keepdim: bool = False, dtype=None,
           mask: Tensor | None = None) -> Tensor:
    """Lower median of the masked-in elements along dim (NaN where none are)."""
    dtype = input.dtype if dtype is None else dtype
    d = _canonical_dims(dim, input.ndim)[0]
    is_float = input.dtype.kind == "f"
    x = input if is_float else elementwise.cast(input, dtypes.float32)
    output = statistics.nanmedian(_masked_input("median", x, mask), d, bool(keepdim)).values
    if is_float:
        return output
    if bool(reductions.any_(elementwise.apply("isnan", output))):
        raise ValueError("masked median expects no fully masked out rows if dtype is not "
                         "floating point")
    return elementwise.cast_if(output, dtype)


def logsumexp(input: Tensor, dim=None, *, keepdim: bool = False, dtype=None,
              mask: Tensor | None = None) -> Tensor:
    """log(sum(exp(x))) over the masked-in elements (-inf where none are)."""
    dtype = input.dtype if dtype is None else dtype
    dims = _canonical_dims(dim, input.ndim)
    masked = _masked_input("logsumexp", input, mask)
    return elementwise.cast_if(reductions.logsumexp(masked, dims, bool(keepdim)), dtype)


def logaddexp(input: Tensor, other: Tensor, *, dtype=None, input_mask: Tensor | None = None,
              other_mask: Tensor | None = None) -> Tensor:
    """logaddexp(input, other) with masked-out elements of either taken as -inf."""
    dtype = input.dtype if dtype is None else dtype
    return elementwise.cast_if(
        elementwise.apply("logaddexp", _masked_input("logaddexp", input, input_mask),
                          _masked_input("logaddexp", other, other_mask)), dtype)


def norm(input: Tensor, ord=2.0, dim=None, *, keepdim: bool = False, dtype=None,
         mask: Tensor | None = None) -> Tensor:
    """Vector ord-norm of the masked-in elements over dim."""
    dtype = input.dtype if dtype is None else dtype
    masked = _masked_input("norm", input, mask, ord)
    return linalg_norms.vector_norm(masked, ord, _canonical_dims(dim, input.ndim),
                                    bool(keepdim), dtype=dtype)


def _std_var(input: Tensor, dim, unbiased, correction, keepdim: bool, dtype, mask,
             take_sqrt: bool) -> Tensor:
    if unbiased is not None and correction is not None:
        # torch.masked raises AssertionError here; the same class keeps except clauses working.
        raise AssertionError("Only one of unbiased and correction may be given")
    if input.dtype is dtypes.bool_:
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    amount = 1.0
    if unbiased is not None:
        amount = 1.0 if unbiased else 0.0
    if correction is not None:
        amount = float(correction)
    if dtype is None:
        dtype = input.dtype if input.dtype.kind == "f" else dtypes.float32
    compute_dtype = dtype if dtype.kind == "f" else dtypes.float32
    inmask = None if mask is None else _input_mask(input, mask)
    count = _count(input, dim, True, inmask)
    sample_mean = elementwise.true_divide(sum(input, dim, keepdim=True, dtype=dtype, mask=inmask),
                                          count)
    x = elementwise.sub(input, sample_mean)
    total = sum(elementwise.mul(x, x), dim, keepdim=keepdim, dtype=compute_dtype, mask=inmask)
    if not keepdim:
        count = count.reshape(tuple(total.shape))
    if amount != 0:
        count = elementwise.cast(count, compute_dtype)
        count = elementwise.clamp_min(elementwise.sub(count, amount), 0)
    output = elementwise.cast_if(elementwise.true_divide(total, count), dtype)
    return elementwise.apply("sqrt", output) if take_sqrt else output


def var(input: Tensor, dim=None, unbiased: bool | None = None, *, correction=None,
        keepdim: bool = False, dtype=None, mask: Tensor | None = None) -> Tensor:
    """Variance of the masked-in elements (NaN where none are)."""
    return _std_var(input, dim, unbiased, correction, keepdim, dtype, mask, take_sqrt=False)


def std(input: Tensor, dim=None, unbiased: bool | None = None, *, correction=None,
        keepdim: bool = False, dtype=None, mask: Tensor | None = None) -> Tensor:
    """Standard deviation of the masked-in elements (NaN where none are)."""
    return _std_var(input, dim, unbiased, correction, keepdim, dtype, mask, take_sqrt=True)


def softmax(input: Tensor, dim: int, *, dtype=None, mask: Tensor | None = None) -> Tensor:
    """softmax along dim over the masked-in elements (0 at masked-out ones)."""
    dtype = input.dtype if dtype is None else dtype
    d = _canonical_dims(dim, input.ndim)[0]
    return reductions.softmax(_masked_input("amax", input, mask), d, dtype=dtype)


def log_softmax(input: Tensor, dim: int, *, dtype=None, mask: Tensor | None = None) -> Tensor:
    """log_softmax along dim over the masked-in elements (-inf at masked-out ones)."""
    dtype = input.dtype if dtype is None else dtype
    d = _canonical_dims(dim, input.ndim)[0]
    return reductions.log_softmax(_masked_input("amax", input, mask), d, dtype=dtype)


def softmin(input: Tensor, dim: int, *, dtype=None, mask: Tensor | None = None) -> Tensor:
    """softmin along dim over the masked-in elements (0 at masked-out ones)."""
    dtype = input.dtype if dtype is None else dtype
    d = _canonical_dims(dim, input.ndim)[0]
    masked = elementwise.cast_if(_masked_input("amin", input, mask), dtype)
    return reductions.softmax(elementwise.neg(masked), d)


def normalize(input: Tensor, ord, dim: int, *, eps: float = 1e-12, dtype=None,
              mask: Tensor | None = None) -> Tensor:
    """input divided by its masked ord-norm along dim (masked-out elements become 0)."""
    dtype = input.dtype if dtype is None else dtype
    masked = _masked_input("sum", input, mask)
    norms = norm(input, ord, dim, keepdim=True, dtype=dtype, mask=mask)
    return elementwise.true_divide(masked, elementwise.clamp_min(norms, eps))
