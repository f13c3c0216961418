"""Tensor conversions: to Python (item, tolist, float/int/bool), to numpy
(numpy(), __array__, sharing memory like PyTorch), printing, pickling, and
between dtypes/devices (to, float, long, ...). Bound onto Tensor by
tensor._bind_methods.

Reading values is not computing them: these only view realised storage
(bfloat16, which numpy lacks, is first cast to float32 by a kernel).
"""

# ruff: noqa: N807  (dunder methods defined here are bound onto Tensor)
from __future__ import annotations

import numpy as np

from lazyt import creation, dtypes, elementwise, formats, modes
from lazyt.autograd import grad_mode
from lazyt.autograd.function import Function
from lazyt.dtypes import DType
from lazyt.ir.view import View
from lazyt.runtime.device import CPU, device, to_device
from lazyt.runtime.storage import Storage
from lazyt.tensor import _LEGACY_NAMES, Size, Tensor
from lazyt.tensor_types import dtype_of_type_name


def _host_array(self) -> np.ndarray:
    """The elements as a numpy array viewing this tensor's memory (no compute)."""
    if modes.TRACING:
        modes.check_value_read("reading values into Python")
    modes.VALUE_READS[0] += 1
    st = self._storage
    if st.device is not CPU:  # a copy on the host (item, tolist, printing)
        return self.cpu()._host_array()
    itemsize = self.dtype.itemsize
    if self.numel() == 0:
        return np.empty(self.shape, dtype=st.array.dtype)
    base = st.array[self._view.offset:]
    return np.lib.stride_tricks.as_strided(
        base, shape=self._view.shape,
        strides=tuple(s * itemsize for s in self._view.strides))

def _readable_array(self) -> np.ndarray:
    """Values as numpy, with bfloat16 cast to float32 through a kernel."""
    if self.dtype is dtypes.bfloat16:
        return self.to(dtypes.float32)._host_array()
    return self._host_array()

def numpy(self, *, force: bool = False) -> np.ndarray:
    if self.requires_grad and not force:
        raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                           "Use tensor.detach().numpy() instead.")
    if self.dtype is dtypes.bfloat16:
        if force:
            return self.to(dtypes.float32)._host_array()
        raise TypeError("Got unsupported ScalarType BFloat16")
    if self.device.type != "cpu":
        raise TypeError(f"can't convert {self.device} device type tensor to numpy. Use "
                        "Tensor.cpu() to copy the tensor to host memory first.")
    array = self._host_array()
    self._st.shared_with_numpy = True  # (realised by _host_array)
    return array

def __array__(self, dtype=None, copy=None):
    arr = self.detach().numpy(force=True)
    return arr if dtype is None else arr.astype(dtype)

def __array_wrap__(self, array, context=None, return_scalar=False):
    """What a numpy function of a Tensor gives back (np.sin(t), t + ndarray):
    numpy's result as a Tensor sharing its memory, bool results as uint8,
    as PyTorch's Tensor does."""
    if array.dtype == np.bool_:
        array = array.astype(np.uint8)
    return creation.from_numpy(array)

def __dlpack__(self, *args, **kwargs):
    """DLPack export (np.from_dlpack(t), other libraries' from_dlpack): the
    memory numpy's view of this tensor exposes, shared, as PyTorch's."""
    return self.numpy().__dlpack__(*args, **kwargs)

def __dlpack_device__(self) -> tuple:
    return self.numpy().__dlpack_device__()

def from_dlpack(ext_tensor) -> Tensor:
    """A Tensor sharing the memory of an object with __dlpack__ (a numpy
    array, another library's CPU tensor)."""
    return creation.from_numpy(np.from_dlpack(ext_tensor))

def tolist(self):
    arr = self._readable_array()
    return arr.tolist() if arr.ndim else arr.item()

def item(self):
    if self.numel() != 1:
        raise RuntimeError(
            f"a Tensor with {self.numel()} elements cannot be converted to Scalar")
    return self._readable_array().reshape(()).item()

def __float__(self) -> float:
    self._check_one_element()
    return float(self.item())

def __int__(self) -> int:
    self._check_one_element()
    return int(self.item())

def _check_one_element(self) -> None:
    if self.numel() != 1:
        raise ValueError("only one element tensors can be converted to Python scalars")

def __index__(self) -> int:
    if self.dtype.kind not in "iub" or self.numel() != 1:
        raise TypeError("only integer tensors of a single element can be converted to an index")
    return int(self.item())

def __bool__(self) -> bool:
    if self.numel() == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if self.numel() != 1:
        raise RuntimeError(
            "Boolean value of Tensor with more than one value is ambiguous")
    return bool(self.item())

def __complex__(self) -> complex:
    return complex(self.item())

def __repr__(self) -> str:
    grad_fn = None if self.grad_fn is None else self.grad_fn.name()
    from lazyt.printing import format_tensor  # (loaded with the first repr, not at import)

    return format_tensor(
        self._readable_array(), dtype=self.dtype.name,
        default_dtype=dtypes.get_default_dtype().name, device=str(self.device),
        requires_grad=self.requires_grad and self.grad_fn is None, grad_fn=grad_fn)


def __format__(self, spec: str) -> str:
    if self.ndim == 0:
        return format(self.item(), spec)
    if spec:  # (PyTorch formats only one-element tensors with a spec)
        raise TypeError("unsupported format string passed to Tensor.__format__")
    return repr(self)

def __reduce_ex__(self, protocol):
    """pickle / copy.deepcopy: rebuild from a copy of the elements. The graph
    history is not kept; requires_grad is."""
    host = self.detach()
    saved_device = str(host.device)
    if saved_device != "cpu":
        host = host.cpu()
    array = np.array(host.contiguous()._host_array(), copy=True)
    return rebuild_tensor, (array, self.dtype.name, bool(self.requires_grad), saved_device)

_DTYPE_OF_NAME = {d.name: d for d in dtypes.ALL_DTYPES}

def rebuild_tensor(array: np.ndarray, dtype_name: str, requires_grad: bool,
                   saved_device: str = "cpu") -> Tensor:
    """The tensor a pickled one (see __reduce_ex__) is loaded as."""
    dtype = _DTYPE_OF_NAME[dtype_name]
    shape = tuple(array.shape)  # (np.ascontiguousarray makes a 0-d array 1-d)
    storage = Storage.from_array(dtype, np.ascontiguousarray(array), CPU)
    t = Tensor._make(storage, View.contiguous(shape))
    if saved_device != "cpu":
        t = t.to(saved_device)
    if requires_grad:
        t.requires_grad_(True)
    return t

def __iter__(self):
    if self.ndim == 0:
        raise TypeError("iteration over a 0-d tensor")
    return iter(self.unbind(0))

def to(self, *args, **kwargs) -> Tensor:
    """to(dtype), to(device), to(device, dtype), to(other), to(device=..., dtype=...),
    each with copy= and memory_format=."""
    dtype = kwargs.pop("dtype", None)
    dev = kwargs.pop("device", None)
    copy = kwargs.pop("copy", False)
    memory_format = kwargs.pop("memory_format", formats.preserve_format)
    kwargs.pop("non_blocking", None)
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
    positional_bools = []
    for a in args:
        if isinstance(a, DType):
            dtype = a
        elif isinstance(a, Tensor):
            dtype, dev = a.dtype, a.device
        elif isinstance(a, (str, device)):
            dev = a
        elif isinstance(a, bool):
            positional_bools.append(a)  # to(dtype, non_blocking, copy)
        elif a is None:
            continue
        else:
            dtype = dtypes.to_dtype(a)
    if len(positional_bools) == 2:
        copy = copy or positional_bools[1]
    target = None if dev is None else to_device(dev)
    fmt = formats.check_memory_format(memory_format, self.ndim)
    if target is not None and target != self.device:
        source = self if dtype is None or dtype is self.dtype else elementwise.cast(self, dtype)
        return _in_memory_format(to_other_device(source, target), fmt, copied=True)
    if dtype is None or dtype is self.dtype:
        out = self.clone() if copy else self
    else:
        out = elementwise.cast(self, dtype)
    return _in_memory_format(out, fmt, copied=out is not self)


def copy_to_device(t: Tensor, target: device) -> Tensor:
    """A contiguous copy of t's elements on `target` (no autograd): the
    elements are gathered on t's device first, then one transfer."""
    from lazyt.runtime.cuda_memory import device_to_host, host_to_device  # (CUDA only)

    source = t.detach().contiguous()
    st, view = source._storage, source._view
    if st.device.type == "cpu":
        host = source._host_array()
    else:
        host = device_to_host(st, view.offset, source.numel()).reshape(view.shape)
    if target.type == "cpu":
        storage = Storage.from_array(t.dtype, np.array(host, copy=True), CPU)
    else:
        storage = host_to_device(host, t.dtype, target)
    return Tensor._make(storage, View.contiguous(tuple(view.shape)))


def to_other_device(t: Tensor, target: device) -> Tensor:
    """t on another device; differentiable (the gradient goes back to t's
    device), as PyTorch's ToCopyBackward0."""
    if not t.requires_grad or not grad_mode.is_grad_enabled():
        return copy_to_device(t, target)
    return _DeviceCopy.apply(t, target)


class _DeviceCopy(Function):
    grad_fn_name = "ToCopyBackward0"

    @staticmethod
    def forward(ctx, t: Tensor, target: device) -> Tensor:
        ctx.source_device = t.device
        return copy_to_device(t, target)

    @staticmethod
    def backward(ctx, grad: Tensor):
        return copy_to_device(grad, ctx.source_device), None


def _in_memory_format(t: Tensor, fmt, copied: bool) -> Tensor:
    """t in the requested memory format (preserve_format keeps what the copy made)."""
    if fmt is formats.preserve_format:
        return t
    return t.contiguous(memory_format=fmt)


def tensor_type(self, dtype=None, non_blocking=False):
    if dtype is None:
        return f"lazyt.{_LEGACY_NAMES[self.dtype.name]}"
    named = dtype_of_type_name(dtype)
    return self.to(named if named is not None else dtypes.to_dtype(dtype))

def cpu(self) -> Tensor:
    return self if self.device.type == "cpu" else self.to(CPU)

def cuda(self, device=None) -> Tensor:
    return self.to(to_device("cuda" if device is None else device))

def as_float(self, memory_format=formats.preserve_format) -> Tensor:
    return self.to(dtypes.float32, memory_format=memory_format)

def as_double(self, memory_format=formats.preserve_format) -> Tensor:
    return self.to(dtypes.float64, memory_format=memory_format)

def as_half(self, memory_format=formats.preserve_format) -> Tensor:
    return self.to(dtypes.float16, memory_format=memory_format)

def as_bfloat16(self, memory_format=formats.preserve_format) -> Tensor:
    return self.to(dtypes.bfloat16, memory_format=memory_format)

def as_int(self, memory_format=formats.preserve_format) -> Tensor:
    return self.to(dtypes.int32, memory_format=memory_format)

def as_long(self, memory_format=formats.preserve_format) -> Tensor:
    return self.to(dtypes.int64, memory_format=memory_format)

def as_short(self, memory_format=formats.preserve_format) -> Tensor:
    return self.to(dtypes.int16, memory_format=memory_format)

def as_char(self, memory_format=formats.preserve_format) -> Tensor:
    return self.to(dtypes.int8, memory_format=memory_format)

def as_byte(self, memory_format=formats.preserve_format) -> Tensor:
    return self.to(dtypes.uint8, memory_format=memory_format)

def as_bool(self, memory_format=formats.preserve_format) -> Tensor:
    return self.to(dtypes.bool_, memory_format=memory_format)

def type_as(self, other: Tensor) -> Tensor:
    return self.to(other.dtype)

def new_tensor(self, data, dtype=None, device=None, requires_grad=False) -> Tensor:
    return creation.tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)

def new_zeros(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return creation.zeros(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

def new_ones(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return creation.ones(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    return creation.full(size, fill_value, dtype=dtype or self.dtype,
                         requires_grad=requires_grad)

def new_empty(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return creation.empty(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

def new(self, *args, device=None) -> Tensor:
    """The legacy constructor: x.new() is empty, x.new(2, 3) or x.new(size)
    uninitialised, x.new(data) a copy of a sequence, all in x's dtype."""
    if not args:
        return creation.empty(0, dtype=self.dtype)
    data = args[0]
    if len(args) == 1 and isinstance(data, Tensor):
        if data.dtype is not self.dtype:
            raise TypeError(f"expected {self.type()} (got {data.type()})")
        return data.detach()
    if len(args) == 1 and isinstance(data, (list, tuple)) and not isinstance(data, Size) or \
            len(args) == 1 and isinstance(data, np.ndarray):
        return creation.tensor(data, dtype=self.dtype)
    return creation.empty(*args, dtype=self.dtype)


TENSOR_METHODS = {
    "_host_array": _host_array,
    "_readable_array": _readable_array,
    "numpy": numpy,
    "__array__": __array__, "__array_wrap__": __array_wrap__, "new": new,
    "__dlpack__": __dlpack__, "__dlpack_device__": __dlpack_device__,
    "tolist": tolist,
    "item": item,
    "__float__": __float__,
    "__int__": __int__,
    "_check_one_element": _check_one_element,
    "__index__": __index__,
    "__bool__": __bool__,
    "__complex__": __complex__,
    "__repr__": __repr__,
    "__str__": lambda self: self.__repr__(),  # subclasses' __repr__ (Parameter) applies
    "__format__": __format__,
    "__reduce_ex__": __reduce_ex__,
    "__iter__": __iter__,
    "to": to,
    "type": tensor_type,
    "cpu": cpu,
    "cuda": cuda,
    "float": as_float,
    "double": as_double,
    "half": as_half,
    "bfloat16": as_bfloat16,
    "int": as_int,
    "long": as_long,
    "short": as_short,
    "char": as_char,
    "byte": as_byte,
    "bool": as_bool,
    "type_as": type_as,
    "new_tensor": new_tensor,
    "new_zeros": new_zeros,
    "new_ones": new_ones,
    "new_full": new_full,
    "new_empty": new_empty,
}
