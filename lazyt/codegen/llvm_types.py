"""How lazyt's values are spelled in LLVM IR: the type of each dtype and float literals.

The CPU backend's vocabulary, kept out of `DType` (which knows only numpy and
item sizes) so a second backend brings its own table. Read by codegen/llvm.py.
"""

from __future__ import annotations

import struct

from lazyt.dtypes import DType

# dtype name -> (LLVM type in memory, LLVM type while computing). float16 and
# bfloat16 are stored as their 16 bits and computed as float; bool is a byte in
# memory and an i1 in registers.
_LLVM_TYPES: dict[str, tuple[str, str]] = {
    "float32": ("float", "float"),
    "float64": ("double", "double"),
    "float16": ("i16", "float"),
    "bfloat16": ("i16", "float"),
    "int8": ("i8", "i8"),
    "uint8": ("i8", "i8"),
    "int16": ("i16", "i16"),
    "int32": ("i32", "i32"),
    "int64": ("i64", "i64"),
    "bool": ("i8", "i1"),
}


def storage_type(dtype: DType) -> str:
    """The LLVM type of one element in memory ("i16" for float16/bfloat16, "i8" for bool)."""
    return _LLVM_TYPES[dtype.name][0]


def register_type(dtype: DType) -> str:
    """The LLVM type of a value while computing ("float" for float16/bfloat16, "i1" for bool)."""
    return _LLVM_TYPES[dtype.name][1]


def is_16bit_float(dtype: DType) -> bool:
    """float16/bfloat16: stored in 16 bits, computed as float and rounded after every op."""
    return dtype.kind == "f" and storage_type(dtype) == "i16"


def rounded_float_literal(value: float, llvm_type: str) -> str:
    """An LLVM float literal for any Python float (user constants): the hex of the
    double, rounded to float32 first when llvm_type is `float`. (The math helpers'
    own constants use llvm_math.exact_float_literal, which refuses to round.)"""
    if llvm_type == "float":
        value = struct.unpack("<f", struct.pack("<f", value))[0]
    return "0x%016X" % struct.unpack("<Q", struct.pack("<d", value))[0]
