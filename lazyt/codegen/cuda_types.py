"""Types of CUDA kernel values: the register type each dtype is computed in
and the element type of its storage array (codegen/cuda.py and the files
beside it render with these; runtime/cuda_memory.py allocates with them).
"""

from __future__ import annotations

from lazyt.dtypes import DType


class CudaUnsupported(RuntimeError):
    """A kernel uses something the CUDA backend cannot render yet."""


# Register types (how a value is held while computing) and storage element types.
_REGISTER = {"float32": "float32", "float64": "float64", "float16": "float32",
             "bfloat16": "float32",
             "int8": "int8", "uint8": "uint8", "int16": "int16", "int32": "int32",
             "int64": "int64", "bool": "bool"}
_STORAGE = {"float32": "float32", "float64": "float64", "float16": "float16",
            "int8": "int8", "uint8": "uint8", "int16": "int16", "int32": "int32",
            "int64": "int64", "bool": "uint8", "bfloat16": "uint16"}


def storage_element(dtype: DType) -> str:
    """The element type of a CUDA storage array of dtype (bool is held as uint8)."""
    return _STORAGE[dtype.name]


def register(dtype: DType) -> str:
    return _REGISTER[dtype.name]
