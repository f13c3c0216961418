"""Tensor creation: tensor(), from_numpy, zeros/ones/full/empty (and *_like),
arange/linspace/eye, and the random functions (drawing from lazyt/random.py's
Generator).

Values are produced by kernels: constants, the "iota" index leaf and the
counter-based "rand" leaf (ir/node.py). User data (lists, numpy arrays) is
ingested as-is and, when its dtype differs from the requested one, cast by a
kernel like any other `.to(dtype)`.
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np

from lazyt import dtypes, eager_cache, formats, linalg, modes
from lazyt import elementwise as ew
from lazyt.autograd import grad_mode
from lazyt.dtypes import DType
from lazyt.engine.realize import nonzero_into
from lazyt.ir.layout import preserve_format_strides
from lazyt.ir.node import Node, make_node
from lazyt.ir.view import View, prod
from lazyt.random import default_generator  # (compile.py imports it from here too)
from lazyt.runtime.device import CPU, CREATION_DEVICE, to_device
from lazyt.runtime.storage import Storage
from lazyt.tensor import Size, Tensor, broadcast_shapes, normalize_shape


# ------------------------------------------------------------------ helpers
def _on_device(like: bool = False):
    """A creation function taking device=: computed results (constants,
    ranges, random numbers) are made by kernels on that device (CREATION_DEVICE
    while it runs); a tensor from host data is copied there once. With
    `like`, no device means the input's device, as PyTorch's *_like functions."""

    def wrap(function):
        @functools.wraps(function)
        def create(*args, device=None, **kwargs):
            if like and device is None:
                source = args[0] if args else kwargs.get("input")
                target = source.device if isinstance(source, Tensor) else CPU
            else:
                target = to_device(device)
            if target is CPU or target.type == "cpu":
                return function(*args, **kwargs)
            CREATION_DEVICE.append(target)
            try:
                out = function(*args, **kwargs)
                if out._node is not None:
                    out.realize()  # (pending: computed on the target now, not where used)
            finally:
                CREATION_DEVICE.pop()
            if out.device == target:
                return out
            # Built from host data (lt.tensor(list, device='cuda')): one copy.
            return out.detach().to(target).requires_grad_(out.requires_grad)

        return create

    return wrap


def _finish(t: Tensor, requires_grad: bool) -> Tensor:
    if requires_grad:
        t.requires_grad_(True)
    return t


_INT64_MAX = 2**63 - 1


def check_new_shape(shape: tuple[int, ...], dtype: DType) -> None:
    """PyTorch's errors for a tensor that cannot exist: a negative dimension,
    or a byte size past int64 (too large for memory is the allocator's
    RuntimeError, runtime/storage.py)."""
    for size in shape:
        if size < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {size}: "
                               f"{list(shape)}")
    if prod(shape) * dtype.itemsize > _INT64_MAX:
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(shape)}")


def _empty(shape: tuple[int, ...], dtype: DType, like: Tensor | None = None) -> Tensor:
    """A new tensor; `like` (for the *_like functions) keeps a dense input's layout."""
    check_new_shape(shape, dtype)
    view = View.contiguous(shape)
    if like is not None and like._shape == tuple(shape):
        layout = like._layout()
        view = View(shape, preserve_format_strides(layout.shape, layout.strides), 0)
    device = CREATION_DEVICE[-1] if CREATION_DEVICE else CPU
    return Tensor._make(Storage.allocate(dtype, prod(shape), device), view)


def _fill(shape: tuple[int, ...], value, dtype: DType, like: Tensor | None = None) -> Tensor:
    def constant() -> Node:
        node = ew.source(value, dtype, shape)
        if node.shape != shape:
            node = make_node("movement", dtype, shape, (node,), ("expand", (shape,)))
        return node

    check_new_shape(shape, dtype)
    if modes.is_deferred() and all(size >= 0 for size in shape) and (
            like is None or like._node is not None or like.is_contiguous()):
        # A pending constant: it fuses into whatever reads it (laid out
        # contiguously, as a dense or pending `like` would be).
        return Tensor._from_node(constant())
    if (like is None or like.is_contiguous()) and type(value) in (int, float, bool) and \
            all(size >= 0 for size in shape) and not CREATION_DEVICE:
        # A repeated fill (the ones of loss.backward(), zeros of a buffer)
        # relaunches its kernel from the eager dispatch cache.
        return eager_cache.computed(eager_cache.key_for(("fill", dtype, shape), (value,)),
                                    (value,), constant)
    out = _empty(shape, dtype, like)
    ew.assign(out, ew.source(value, dtype, shape))
    return out


def _dtype_of_scalar(value) -> DType:
    return dtypes.scalar_dtype(value)


def _infer_dtype(data) -> DType:
    """torch.tensor's inference over nested Python data: float > int > bool."""
    found = dtypes.bool_
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, Tensor):
            found = dtypes.promote_types(found, item.dtype)
        elif isinstance(item, (bool, np.bool_)):
            continue
        elif isinstance(item, (np.integer, np.floating)) and item.dtype != np.float16:
            found = dtypes.promote_types(found, dtypes.from_numpy_dtype(item.dtype))
        elif isinstance(item, (int, np.integer)):
            found = dtypes.promote_types(found, dtypes.int64)
        elif isinstance(item, (float, np.floating)):
            found = dtypes.promote_types(found, dtypes.get_default_dtype())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, complex):
            raise TypeError("lazyt does not support complex numbers")
        elif isinstance(item, (str, bytes)):
            raise TypeError(f"new(): invalid data type '{type(item).__name__}'")
        else:
            raise RuntimeError(f"Could not infer dtype of {type(item).__name__}")
    if data is not None and isinstance(data, (list, tuple)) and _is_empty(data):
        return dtypes.get_default_dtype()
    return found


def _is_empty(data) -> bool:
    while isinstance(data, (list, tuple)):
        if not data:
            return True
        data = data[0]
    return False


def _check_ragged(data, shape=None, depth=0):
    """PyTorch's ValueError for ragged nested sequences."""
    if not isinstance(data, (list, tuple)):
        return
    lengths = {len(x) for x in data if isinstance(x, (list, tuple))}
    scalars = [x for x in data if not isinstance(x, (list, tuple))]
    if lengths and scalars:
        raise ValueError(f"expected sequence of length {lengths.pop()} at dim {depth + 1} "
                         f"(got {type(scalars[0]).__name__})")
    if len(lengths) > 1:
        first = len(data[0])
        other = next(len(x) for x in data if len(x) != first)
        raise ValueError(f"expected sequence of length {first} at dim {depth + 1} (got {other})")
    for x in data:
        _check_ragged(x, None, depth + 1)


def _flatten_tensors(data):
    """Nested data with each tensor in it read as the Python number it holds
    (PyTorch reads them as scalars: only one-element tensors qualify)."""
    if isinstance(data, Tensor):
        if data.numel() != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return data.item()
    if isinstance(data, (list, tuple)):
        return [_flatten_tensors(x) for x in data]
    return data


def _ingest(array: np.ndarray, dtype: DType) -> Tensor:
    """A tensor of `dtype` holding the values of a host array (cast by a kernel)."""
    source_dtype = dtypes.from_numpy_dtype(array.dtype)
    storage = Storage.from_array(source_dtype, np.array(array, copy=True, order="C"), CPU)
    t = Tensor._make(storage, View.contiguous(tuple(array.shape)))
    return t if source_dtype is dtype else ew.cast(t, dtype)


_NUMPY_NATURAL = {"f": np.float64, "i": np.int64, "u": np.int64, "b": np.bool_}


@_on_device()
def tensor(data, dtype=None, device=None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """Copy data (nested lists, scalars, numpy arrays, tensors) into a new tensor."""
    to_device(device)
    dtype = None if dtype is None else dtypes.dtype_argument(dtype, "tensor")
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() or sourceTensor.detach().clone()"
                      ".requires_grad_(True), rather than torch.tensor(sourceTensor).",
                      UserWarning, stacklevel=3)
        out = ew.clone(data.detach())
        out = out if dtype is None or dtype is out.dtype else ew.cast(out, dtype)
        return _finish(out, requires_grad)
    if isinstance(data, np.ndarray):
        if data.dtype == np.float64 or data.dtype == np.float32 or data.dtype.kind in "iub" \
                or data.dtype == np.float16:
            target = dtype or dtypes.from_numpy_dtype(data.dtype)
            return _finish(_ingest(data, target), requires_grad)
        raise TypeError(f"can't convert np.ndarray of type numpy.{data.dtype}")
    if isinstance(data, (np.number, np.bool_)):
        data = np.asarray(data)
        if data.dtype.kind in "fiub" and data.dtype != np.float16:
            return _finish(_ingest(data, dtype or dtypes.from_numpy_dtype(data.dtype)),
                           requires_grad)
        data = data.item()
    _check_ragged(data)
    inferred = _infer_dtype(data)
    data = _flatten_tensors(data)
    target = dtype or inferred
    natural = _NUMPY_NATURAL[inferred.kind]
    try:
        array = np.array(data, dtype=natural)
    except OverflowError:
        raise ValueError("Overflow when unpacking long long") from None
    except (TypeError, ValueError) as e:
        raise TypeError(f"could not convert data to a tensor: {e}") from None
    if target.kind in "iu" and array.size:
        _check_fits_integer(array, target)
    return _finish(_ingest(array, target), requires_grad)


def _check_fits_integer(array: np.ndarray, dtype: DType) -> None:
    """torch.tensor(data, dtype=<integer>)'s RuntimeError for Python numbers
    the dtype cannot hold (NaN, inf, out of range; see dtypes.integer_range)."""
    low, high = dtypes.integer_range(dtype)
    if array.dtype.kind == "f" and not np.isfinite(array).all() or \
            array.min() < low or array.max() > high:
        raise RuntimeError(f"value cannot be converted to type {dtype.name} without overflow")


@_on_device()
def as_tensor(data, dtype=None, device=None) -> Tensor:
    dtype = None if dtype is None else dtypes.dtype_argument(dtype, "as_tensor")
    if isinstance(data, Tensor):
        return data if dtype is None or dtype is data.dtype else ew.cast(data, dtype)
    if isinstance(data, np.ndarray) and data.dtype.kind in "fiub" and data.dtype != np.float16:
        t = from_numpy(data) if all(s >= 0 for s in data.strides) else tensor(data)
        return t if dtype is None or dtype is t.dtype else ew.cast(t, dtype)
    return tensor(data, dtype=dtype, device=device)


asarray = as_tensor


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing the array's memory (like PyTorch: writes show through)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    dtype = dtypes.from_numpy_dtype(array.dtype)
    itemsize = array.itemsize
    if any(s < 0 for s in array.strides):
        raise ValueError(
            "At least one stride in the given numpy array is negative, and tensors with negative "
            "strides are not currently supported. (You can probably work around this by making a "
            "copy of your array  with array.copy().) ")
    if any(s % itemsize for s in array.strides):
        raise ValueError("given numpy array strides not a multiple of the element byte size. "
                         "Copy the numpy array to reallocate the memory.")
    strides = tuple(s // itemsize for s in array.strides)
    shape = tuple(array.shape)
    extent = 1 + sum((n - 1) * s for n, s in zip(shape, strides)) if 0 not in shape else 0
    flat = np.lib.stride_tricks.as_strided(array, shape=(extent,), strides=(itemsize,))
    storage = Storage(dtype, flat, CPU)  # flat's .base chain keeps `array` alive
    storage.shared_with_numpy = True
    return Tensor._make(storage, View(shape, strides, 0))


@_on_device()
def zeros(*size, dtype=None, device=None, requires_grad: bool = False, out=None,
          layout=None) -> Tensor:
    to_device(device)
    shape = normalize_shape(size)
    if any(n < 0 for n in shape):
        raise RuntimeError("zeros: Dimension size must be non-negative.")
    return _finish(_fill(shape, 0, _float_or(dtype, "zeros")), requires_grad)


@_on_device()
def ones(*size, dtype=None, device=None, requires_grad: bool = False, out=None,
         layout=None) -> Tensor:
    to_device(device)
    return _finish(_fill(normalize_shape(size), 1, _float_or(dtype, "ones")), requires_grad)


@_on_device()
def full(size, fill_value, *, dtype=None, device=None, requires_grad: bool = False,
         out=None, layout=None) -> Tensor:
    to_device(device)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    dtype = dtypes.dtype_argument(dtype, "full") if dtype is not None else \
        _dtype_of_scalar(fill_value)
    dtypes.check_scalar_fits(fill_value, dtype)
    return _finish(_fill(normalize_shape((size,) if isinstance(size, int) else size),
                         fill_value, dtype), requires_grad)


@_on_device()
def empty(*size, dtype=None, device=None, requires_grad: bool = False, out=None, layout=None,
          memory_format=None, pin_memory=False) -> Tensor:
    to_device(device)
    formats.check_layout(layout)
    shape = normalize_shape(size)
    fmt = formats.check_memory_format(memory_format or formats.contiguous_format, len(shape))
    return _finish(_in_format(_empty(shape, _float_or(dtype, "empty")), fmt), requires_grad)


def _float_or(dtype, function: str) -> DType:
    return dtypes.get_default_dtype() if dtype is None else dtypes.dtype_argument(dtype, function)


def _like_dtype(input: Tensor, dtype, function: str) -> DType:
    return input.dtype if dtype is None else dtypes.dtype_argument(dtype, function)


def _like_layout(input: Tensor, memory_format, layout) -> tuple[Tensor | None, object]:
    """(the tensor whose dense layout to keep or None, the format to convert to after)."""
    formats.check_layout(layout)
    fmt = formats.check_memory_format(memory_format, input.ndim)
    if fmt is formats.preserve_format:
        return input, formats.preserve_format
    return None, fmt


def _in_format(t: Tensor, fmt) -> Tensor:
    if fmt is formats.preserve_format or fmt is formats.contiguous_format:
        return t
    return t.contiguous(memory_format=fmt)


@_on_device(like=True)
def zeros_like(input: Tensor, *, dtype=None, device=None, requires_grad=False,
               memory_format=None, layout=None) -> Tensor:
    like, fmt = _like_layout(input, memory_format, layout)
    return _finish(_in_format(_fill(tuple(input.shape), 0, _like_dtype(input, dtype, "zeros_like"),
                                    like), fmt),
                   requires_grad)


@_on_device(like=True)
def ones_like(input: Tensor, *, dtype=None, device=None, requires_grad=False,
              memory_format=None, layout=None) -> Tensor:
    like, fmt = _like_layout(input, memory_format, layout)
    return _finish(_in_format(_fill(tuple(input.shape), 1, _like_dtype(input, dtype, "ones_like"),
                                    like), fmt),
                   requires_grad)


@_on_device(like=True)
def full_like(input: Tensor, fill_value, *, dtype=None, device=None, requires_grad=False,
              memory_format=None, layout=None) -> Tensor:
    like, fmt = _like_layout(input, memory_format, layout)
    dtype = _like_dtype(input, dtype, "full_like")
    dtypes.check_scalar_fits(fill_value, dtype)
    filled = _fill(tuple(input.shape), fill_value, dtype, like)
    return _finish(_in_format(filled, fmt), requires_grad)


@_on_device(like=True)
def empty_like(input: Tensor, *, dtype=None, device=None, requires_grad=False,
               memory_format=None, layout=None) -> Tensor:
    like, fmt = _like_layout(input, memory_format, layout)
    return _finish(_in_format(_empty(tuple(input.shape), _like_dtype(input, dtype, "empty_like"),
                                     like), fmt),
                   requires_grad)


# ------------------------------------------------------------------- random
def _random(shape: tuple[int, ...], kind: str, dtype: DType, generator, device=None
            ) -> Tensor:
    """Numbers from the counter-based stream, drawn by a kernel on `device`
    (the same values on every device)."""
    check_new_shape(shape, dtype)
    gen = generator or default_generator
    seed_bits, offset = gen.take(prod(shape))
    node = make_node("rand", dtype, shape, (), (kind, seed_bits, offset))
    return Tensor._from_node(node, device)


def _check_float(dtype: DType, name: str) -> None:
    if dtype.kind != "f":
        raise NotImplementedError(f"\"{name}\" not implemented for '{ew.TORCH_NAMES[dtype.name]}'")


@_on_device()
def rand(*size, generator=None, dtype=None, device=None, requires_grad=False, out=None,
         layout=None) -> Tensor:
    to_device(device)
    dtype = _float_or(dtype, "rand")
    _check_float(dtype, "check_uniform_bounds")
    return _finish(_random(normalize_shape(size), "uniform", dtype, generator), requires_grad)


@_on_device()
def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, out=None,
          layout=None) -> Tensor:
    to_device(device)
    dtype = _float_or(dtype, "randn")
    _check_float(dtype, "normal_kernel_cpu")
    return _finish(_random(normalize_shape(size), "normal", dtype, generator), requires_grad)


@_on_device()
def randint(*args, size=None, generator=None, dtype=None, device=None, requires_grad=False,
            low=None, high=None) -> Tensor:
    """randint(high, size) or randint(low, high, size)."""
    to_device(device)
    args = list(args)
    if size is None and args and isinstance(args[-1], (tuple, list)):
        size = args.pop()
    if high is None:
        high = args.pop() if args else None
    if low is None:
        low = args.pop() if args else 0
    if high is None or size is None:
        raise TypeError("randint() missing required arguments: 'high' and 'size'")
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                           f"to={high}")
    dtype = dtypes.int64 if dtype is None else dtypes.dtype_argument(dtype, "randint")
    shape = normalize_shape((size,)) if not isinstance(size, int) else (size,)
    check_new_shape(shape, dtype)
    u = _random(shape, "uniform", dtypes.float64, generator)
    scaled = ew.apply("floor", ew.mul(u, float(high - low)))
    out = ew.cast(ew.add(ew.cast(scaled, dtypes.int64), int(low)), dtype)
    return _finish(out, requires_grad)


@_on_device(like=True)
def rand_like(input: Tensor, *, dtype=None, device=None, requires_grad=False,
              memory_format=None) -> Tensor:
    return rand(*input.shape, dtype=_like_dtype(input, dtype, "rand_like"),
                requires_grad=requires_grad)


@_on_device(like=True)
def randn_like(input: Tensor, *, dtype=None, device=None, requires_grad=False,
               memory_format=None) -> Tensor:
    return randn(*input.shape, dtype=_like_dtype(input, dtype, "randn_like"),
                 requires_grad=requires_grad)


@_on_device(like=True)
def randint_like(input: Tensor, low=0, high=None, *, dtype=None, device=None,
                 requires_grad=False) -> Tensor:
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), dtype=_like_dtype(input, dtype, "randint_like"))


@_on_device()
def randperm(n: int, *, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    keys = _random((n,), "uniform", dtypes.float64, generator)
    perm = linalg.argsort(keys)
    return perm if dtype is None else ew.cast(perm, dtypes.to_dtype(dtype))


def bernoulli(input: Tensor, p=None, *, generator=None) -> Tensor:
    probs = input if p is None else full(tuple(input.shape), p, dtype=input.dtype)
    u = _random(tuple(input.shape), "uniform", probs.dtype, generator, input.device)
    return ew.cast(ew.apply("lt", u, probs), input.dtype)


def uniform_(self: Tensor, a: float = 0.0, b: float = 1.0, *, generator=None) -> Tensor:
    _check_float(self.dtype, "check_uniform_bounds")
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a} > "
                           f"to={b}")
    with grad_mode.no_grad():
        u = _random(tuple(self.shape), "uniform", self.dtype, generator, self.device)
        ew.assign(self, ew.add(ew.mul(u, b - a), a)._load())
    return self


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *, generator=None) -> Tensor:
    _check_std(std)
    _check_float(self.dtype, "normal_kernel_cpu")
    with grad_mode.no_grad():
        n = _random(tuple(self.shape), "normal", self.dtype, generator, self.device)
        ew.assign(self, ew.add(ew.mul(n, std), mean)._load())
    return self


def _check_std(std) -> None:
    if not isinstance(std, Tensor) and std < 0.0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           layout=None, requires_grad=False, pin_memory=False) -> Tensor:
    _check_std(std)
    to_device(device)
    formats.check_layout(layout)
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        # The broadcast shape, in mean's dtype (else std's), as PyTorch's
        tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
        shape = broadcast_shapes(*(tuple(t.shape) for t in tensors))
        dtype = tensors[0].dtype
        n = _random(shape, "normal", dtype if dtype is dtypes.float64 else dtypes.float32,
                    generator)
        return ew.cast_if(ew.add(ew.mul(n, std), mean), dtype)
    out = empty(*normalize_shape((size,) if isinstance(size, int) else size),
                dtype=dtype)
    return _finish(normal_(out, mean, std, generator=generator), requires_grad)


def bernoulli_(self: Tensor, p=0.5, *, generator=None) -> Tensor:
    if not isinstance(p, Tensor) and not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
    with grad_mode.no_grad():
        u = _random(tuple(self.shape), "uniform", dtypes.float32, generator, self.device)
        ew.assign(self, ew.apply("lt", u, p)._load())
    return self


def random_(self: Tensor, low=0, high=None, *, generator=None) -> Tensor:
    """Integers in [low, high); random_() alone spans the dtype's range as PyTorch does
    (floats: [0, 2**mantissa bits])."""
    if high is None and low == 0:
        low, high = 0, _random_upper_bound(self.dtype)
    elif high is None:
        low, high = 0, low
    ew.assign(self, randint(low, high, tuple(self.shape), generator=generator,
                            device=self.device)._load())
    return self


def _random_upper_bound(dtype: DType) -> int:
    if dtype.kind == "f":
        return {2: 2**11, 4: 2**24, 8: 2**53}[dtype.itemsize] + 1 if dtype is not \
            dtypes.bfloat16 else 2**8 + 1
    if dtype.kind == "b":
        return 2
    return int(dtypes.iinfo(dtype).max)  # PyTorch's bound for integer dtypes


def exponential_(self: Tensor, lambd: float = 1.0, *, generator=None) -> Tensor:
    if not lambd > 0.0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    u = _random(tuple(self.shape), "uniform", self.dtype, generator, self.device)
    ew.assign(self, ew.div(ew.neg(ew.apply("log1p", ew.neg(u))), lambd)._load())
    return self


def cauchy_(self: Tensor, median: float = 0.0, sigma: float = 1.0, *, generator=None) -> Tensor:
    """median + sigma tan(pi (u - 1/2)), u uniform in [0, 1)."""
    _check_float(self.dtype, "cauchy_cpu")
    if not sigma > 0.0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    u = _random(tuple(self.shape), "uniform", self.dtype, generator, self.device)
    ew.assign(self, ew.add(ew.mul(ew.apply("tan", ew.mul(ew.sub(u, 0.5), math.pi)), sigma),
                           median)._load())
    return self


def log_normal_(self: Tensor, mean: float = 1.0, std: float = 2.0, *, generator=None) -> Tensor:
    """exp(mean + std n), n standard normal."""
    _check_float(self.dtype, "log_normal_cpu")
    if not std > 0.0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    n = _random(tuple(self.shape), "normal", self.dtype, generator, self.device)
    ew.assign(self, ew.apply("exp", ew.add(ew.mul(n, std), mean))._load())
    return self


def geometric_(self: Tensor, p: float, *, generator=None) -> Tensor:
    """The number of Bernoulli(p) trials up to the first success (1, 2, ...):
    ceil(log(u) / log(1 - p)), u uniform in (0, 1]."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    u = _random(tuple(self.shape), "uniform", dtypes.float64, generator, self.device)
    trials = ew.apply("ceil", ew.div(ew.apply("log1p", ew.neg(u)), math.log1p(-p)))
    ew.assign(self, ew.cast(ew.apply("maximum", trials, 1.0), self.dtype)._load())
    return self


# ------------------------------------------------------------------- ranges
def _iota(n: int) -> Tensor:
    return Tensor._from_node(make_node("iota", dtypes.int64, (n,)))


def range_(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False,
           out=None, layout=None) -> Tensor:
    """torch.range (deprecated): start, start + step, ... up to end included,
    in the default float dtype unless told."""
    warnings.warn("torch.range is deprecated and will be removed in a future release because "
                  "its behavior is inconsistent with Python's range builtin. Instead, use "
                  "torch.arange, which produces values in [start, end).", UserWarning,
                  stacklevel=2)
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    n = int(math.floor((end - start) / step)) + 1
    values = ew.add(ew.mul(ew.cast(_iota(n), dtypes.float64), float(step)), float(start))
    dtype = dtypes.get_default_dtype() if dtype is None else dtypes.to_dtype(dtype)
    return _finish(ew.cast(values, dtype), requires_grad)


def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:  # noqa: N803
    """The Vandermonde matrix of a 1-D x: columns x^(N-1), ..., x^0 (the
    other way round when increasing); bool and integers give int64."""
    if x.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x.shape[0] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    if x.dtype.kind != "f":
        x = ew.cast(x, dtypes.int64)
    powers = _iota(n) if increasing else ew.sub(n - 1, _iota(n))
    if n == 0:
        return empty((x.shape[0], 0), dtype=x.dtype)
    return ew.pow(x.unsqueeze(1), ew.cast_if(powers, x.dtype) if x.dtype.kind == "f" else powers)


@_on_device()
def arange(start=0, end=None, step=1, *, dtype=None, device=None,
           requires_grad=False, out=None, layout=None) -> Tensor:
    to_device(device)
    if end is None:
        start, end = 0, start
    values = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = values
    if not all(math.isfinite(v) for v in values):
        raise RuntimeError(f"unsupported range: {start} -> {end}")
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    any_float = any(isinstance(v, (float, np.floating)) for v in values)
    if dtype is None:
        dtype = dtypes.get_default_dtype() if any_float else dtypes.int64
    dtype = dtypes.dtype_argument(dtype, "arange")
    n = max(0, math.ceil((end - start) / step)) if any_float or dtype.kind == "f" else max(
        0, -(-(end - start) // step))
    if any_float and dtype.kind != "f":
        n, start, step = _integer_arange_bounds(start, end, step, dtype, n)
        any_float = False
    check_new_shape((n,), dtype)
    i = _iota(n)
    if dtype.kind == "f" or any_float:
        values_t = ew.add(ew.mul(ew.cast(i, dtypes.float64), float(step)), float(start))
    else:
        values_t = ew.add(ew.mul(i, int(step)), int(start))
    out = values_t if values_t.dtype is dtype else ew.cast(values_t, dtype)
    return _finish(out, requires_grad)


def _integer_arange_bounds(start, end, step, dtype, size_from_floats: int):
    """PyTorch's arange into an integer dtype from float bounds: start, end and step are
    truncated to integers; int64 also takes its length from the truncated values (the
    other integer dtypes keep the length the float bounds give)."""
    start, step = int(start), int(step)
    if dtype is not dtypes.int64:
        return size_from_floats, start, step
    if step == 0:
        raise RuntimeError("step must be nonzero")
    numerator = int(end) - start + step - (1 if step > 0 else -1)
    length = abs(numerator) // abs(step) * (1 if (numerator >= 0) == (step > 0) else -1)
    return max(0, length), start, step


@_on_device()
def _check_space_arguments(name: str, start, end, steps) -> None:
    """linspace/logspace: PyTorch's errors for a non-int step count and for
    start or end tensors with dims."""
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool):
        kinds = ", ".join(type(v).__name__ for v in (start, end, steps))
        raise TypeError(f"{name}() received an invalid combination of arguments - got ({kinds}), "
                        "but expected (Number start, Number end, int steps)")
    dims = [(what, v.ndim) for what, v in (("start", start), ("end", end))
            if isinstance(v, Tensor) and v.ndim]
    if dims:
        listed = " and ".join(f"{what} with {n} dimension(s)" for what, n in dims)
        raise RuntimeError(f"{name} only supports 0-dimensional start and end tensors, but got "
                           f"{listed}.")


def linspace(start, end, steps: int, *, dtype=None, device=None,
             requires_grad=False) -> Tensor:
    to_device(device)
    _check_space_arguments("linspace", start, end, steps)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dtype = _float_or(dtype, "linspace")
    check_new_shape((steps,), dtype)
    start = start.item() if isinstance(start, Tensor) else start
    end = end.item() if isinstance(end, Tensor) else end
    if dtype.kind != "f":  # integer results: the bounds are truncated first (PyTorch)
        start, end = int(start), int(end)
    compute = dtype if dtype.kind == "f" else dtypes.float64
    if steps == 0:
        return _finish(_empty((0,), dtype), requires_grad)
    if steps == 1:
        return _finish(full((1,), start, dtype=dtype), requires_grad)
    step = (end - start) / (steps - 1)
    i = ew.cast(_iota(steps), compute)
    low = ew.add(ew.mul(i, step), start)
    high = ew.sub(end, ew.mul(ew.sub(steps - 1, i), step))
    values_t = ew.where(ew.apply("lt", i, steps // 2), low, high)
    return _finish(values_t if values_t.dtype is dtype else ew.cast(values_t, dtype),
                   requires_grad)


def logspace(start, end, steps: int, base: float = 10.0, *, dtype=None, device=None,
             layout=None, requires_grad=False) -> Tensor:
    to_device(device)
    formats.check_layout(layout)
    _check_space_arguments("logspace", start, end, steps)
    dtype = _float_or(dtype, "logspace")
    if dtype.kind != "f":  # integer results: the exponents are truncated first (PyTorch)
        start = int(start.item() if isinstance(start, Tensor) else start)
        end = int(end.item() if isinstance(end, Tensor) else end)
    values = ew.pow(base, linspace(start, end, steps, dtype=dtypes.float64))
    return _finish(values.to(dtype), requires_grad)


@_on_device()
def eye(n: int, m: int | None = None, *, dtype=None, device=None,
        requires_grad=False) -> Tensor:
    to_device(device)
    for name, position, size in (("n", 1, n), ("m", 2, m)):
        if size is not None and (not isinstance(size, (int, np.integer)) or
                                 isinstance(size, bool)):
            raise TypeError(f"eye(): argument '{name}' (position {position}) must be int, not "
                            f"{type(size).__name__}")
        if size is not None and size < 0:
            raise RuntimeError(f"{name} must be greater or equal to 0, got {size}")
    m = n if m is None else m
    check_new_shape((n, m), _float_or(dtype, "eye"))
    rows = _iota(n).unsqueeze(1)
    cols = _iota(m).unsqueeze(0)
    return _finish(ew.cast(ew.apply("eq", rows, cols), _float_or(dtype, "eye")), requires_grad)


@_on_device()
def scalar_tensor(value, *, dtype=None, device=None, layout=None, requires_grad=False,
                  pin_memory=False) -> Tensor:
    formats.check_layout(layout)
    return full((), value, dtype=dtype or dtypes.get_default_dtype(), device=device,
                requires_grad=requires_grad)


def legacy_tensor_new(cls, *args, **kwargs):
    """Tensor.__new__ (bound by lazyt/methods.py), PyTorch's legacy
    constructor: Tensor(data) copies data as the default float dtype,
    Tensor(2, 3) is uninitialised; prefer lt.tensor / lt.empty."""
    if cls is not Tensor:
        return object.__new__(cls)
    dtype = kwargs.pop("dtype", None) or dtypes.get_default_dtype()
    if kwargs.pop("device", None) not in (None, "cpu"):
        raise RuntimeError("legacy Tensor constructor only supports device 'cpu'")
    if kwargs:
        raise TypeError(f"Tensor() got an unexpected keyword argument '{next(iter(kwargs))}'")
    if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
        data = args[0]
        if isinstance(data, Tensor):
            return data.to(dtype)
        if isinstance(data, Size):
            return empty(*data, dtype=dtype)
        return tensor(data, dtype=dtype)
    return empty(*args, dtype=dtype)


FUNCTIONS = {
    "tensor": tensor, "as_tensor": as_tensor, "asarray": asarray, "from_numpy": from_numpy,
    "zeros": zeros, "ones": ones, "full": full, "empty": empty, "zeros_like": zeros_like,
    "ones_like": ones_like, "full_like": full_like, "empty_like": empty_like, "rand": rand,
    "randn": randn, "randint": randint, "rand_like": rand_like, "randn_like": randn_like,
    "randint_like": randint_like, "randperm": randperm, "bernoulli": bernoulli,
    "normal": normal, "arange": arange, "linspace": linspace, "logspace": logspace, "eye": eye,
    "scalar_tensor": scalar_tensor, "range": range_, "vander": vander,
}
TENSOR_METHODS = {
    "uniform_": uniform_, "normal_": normal_, "bernoulli_": bernoulli_, "random_": random_,
    "exponential_": exponential_, "bernoulli": bernoulli, "cauchy_": cauchy_,
    "log_normal_": log_normal_, "geometric_": geometric_,
}


# ------------------------------------------------------------------ triangle indices
def _triangle_indices(row: int, col: int, offset: int, upper: bool, dtype, name: str) -> Tensor:
    """The (2, N) coordinates of a row x col matrix's lower (upper) triangle, in
    row-major order: the nonzero kernel run over the triangle's mask."""
    dtype = dtypes.int64 if dtype is None else dtypes.to_dtype(dtype)
    if row < 0 or col < 0:  # (PyTorch's messages, missing space included)
        raise RuntimeError(f"row must be non-negative, got{row}" if row < 0
                           else f"col must be non-negative, got{col}")
    if dtype.kind not in "iu":
        raise NotImplementedError(f"\"{name}\" not implemented for '{ew.TORCH_NAMES[dtype.name]}'")
    # How many elements each row keeps: the output's size, known before any kernel runs.
    if upper:
        count = sum(max(0, col - max(0, r + offset)) for r in range(row))
    else:
        count = sum(max(0, min(col, r + offset + 1)) for r in range(row))
    storage = Storage.allocate(dtypes.int64, (count + 1) * 2, CPU)
    if count:
        distance = ew.sub(arange(col).unsqueeze(0), arange(row).unsqueeze(1))  # col - row
        mask = ew.apply("ge" if upper else "le", distance, offset).realize()
        nonzero_into(mask._load(), storage)
    coords = Tensor._make(storage, View.contiguous((count, 2)))
    return ew.cast(coords.t(), dtype).contiguous() if count else empty(2, 0, dtype=dtype)


@_on_device()
def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None,
                 layout=None) -> Tensor:
    to_device(device)
    return _triangle_indices(row, col, offset, False, dtype, "tril_indices")


@_on_device()
def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None,
                 layout=None) -> Tensor:
    to_device(device)
    return _triangle_indices(row, col, offset, True, dtype, "triu_indices")


FUNCTIONS.update({"tril_indices": tril_indices, "triu_indices": triu_indices})
