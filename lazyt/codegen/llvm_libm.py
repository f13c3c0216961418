"""Calls of the C library's double functions from special-function helper bodies.

Codegen layer, shared by codegen/llvm_special.py and codegen/llvm_bessel.py: a helper
body (an `_HelperBodyBuilder` of codegen/llvm_math.py) declares the libm function it
calls; MCJIT resolves it from the process at JIT time, like llvm_math's float64 helpers.
"""

from __future__ import annotations

from lazyt.codegen.llvm_math import Value, _HelperBodyBuilder

# The attributes of helpers that call libm: it may write errno, so not `readnone`.
CALLS_LIBM = "alwaysinline nounwind"


def libm_call(b: _HelperBodyBuilder, name: str, *args: Value) -> Value:
    """Call the C library's double function `name` on double arguments."""
    b.declarations[f"@{name}"] = f"declare double @{name}({', '.join(['double'] * len(args))})"
    arg_text = ", ".join(f"double {a.ref}" for a in args)
    return b.instruction("double", f"call double @{name}({arg_text})")
