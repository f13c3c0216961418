"""Kernel IR -> Numba-CUDA Python source (the GPU backend's renderer).

`render_cuda(kernel)` returns a CudaSource: the text of a Python module that
defines `def <name>(b0, b1, ..., args, fargs)` (everything inline: device
functions need a GPU to compile, so the offline PTX check could not see them)
and the explicit Numba signature to compile it with. The kernel IR is the
one the LLVM renderer (codegen/llvm.py) gets, with the same calling
convention (ir/kernel.py): buffers, then the int64 argument block `args`;
`fargs` is the same block seen as float64 (float scalars travel as float64
bits). runtime/cuda.py execs the text and compiles it with cuda.jit.

How the loop nest maps to the GPU: a parallel kernel's outermost loop (the
one over [args[0], args[1]) that the CPU splits across threads) becomes a
grid-stride loop, one GPU thread per outer iteration; everything inside it
(inner loops, reductions over a row) runs in that thread as written. A
kernel that reduces rows also has a block-per-row form (`row_block`,
codegen/cuda_rows.py): a block per outer iteration, its threads sharing the
row's loops, each reduction combined by a tree in shared memory whose last
32 partials one warp combines with shuffles (`warp_shuffles`); the backend
picks this form when the rows are long. A
kernel that is not parallel (it carries state across outer iterations) runs
in thread 0 of a one-thread launch. Ops are Python expressions from
codegen/cuda_ops.py; every value is wrapped in its dtype's constructor
(float32(...), int8(...)), so integer results wrap and float32 stays float32
(register and storage types: codegen/cuda_types.py).
float16 and bfloat16 are held as float32 and rounded after every op, as on the
CPU (bfloat16 is stored as its 16 bits, rounded with integer ops).
This module imports nothing from numba: it only writes text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from lazyt import dtypes
from lazyt.codegen.cuda_ops import MATH_FUNCTIONS, cuda_template
from lazyt.codegen.cuda_rows import BlockRowRendering, reduces_rows
from lazyt.codegen.cuda_special import INLINE_SPECIAL_FUNCTIONS
from lazyt.codegen.cuda_types import CudaUnsupported, register, storage_element
from lazyt.dtypes import DType
from lazyt.ir import kernel as K

_PLACEHOLDER = re.compile(r"\{([A-Za-z_]+)(?::([a-z0-9_]+))?\}")
_MASK64 = (1 << 64) - 1


@dataclass(frozen=True)
class CudaSource:
    name: str  # the kernel function's name in the text
    text: str  # the Python module
    signature: str  # Numba's explicit signature, e.g. "void(float32[::1], int64[::1], ...)"
    grid_stride: bool  # one thread per outer iteration (else a one-thread launch)
    math: tuple[str, ...]  # math function names (f_exp32, ...) the text calls
    block: tuple[int, ...] = ()  # a fixed block shape (the matmul's tile), if any
    # One block per outer iteration (row), its threads sharing the row's loops and
    # combining reductions in shared memory; the block's size (0: one thread per row).
    row_block: int = 0
    reduces_rows: bool = False  # the kernel has a block-per-row form (render with row_block)


def float_literal(value: float, dtype: DType) -> str:
    """A float constant of dtype, rounded as the CPU rounds it."""
    value = float(value)
    if dtype is dtypes.float16:
        value = float(np.float16(value))
    elif dtype is dtypes.float32:
        value = float(np.float32(value))
    if value != value:
        return "NAN"
    if value in (float("inf"), float("-inf")):
        return "INF" if value > 0 else "(-INF)"
    return repr(value)


def int_literal(value: int, dtype: DType) -> int:
    """An integer constant wrapped into dtype's range."""
    bits = dtype.itemsize * 8
    value = int(value) & ((1 << bits) - 1)
    if dtype.kind == "i" and value >= 1 << (bits - 1):
        value -= 1 << bits
    return value


def expr_dtype(e) -> DType:
    """The dtype of a kernel expression's value."""
    if isinstance(e, (K.Const, K.Scalar, K.Load, K.Alu, K.Cast, K.AccGet, K.Rand)):
        if isinstance(e, K.AccGet) and e.part == "index":
            return dtypes.int64
        return e.dtype
    if isinstance(e, K.Index) and e.op in ("lt", "ge", "and"):
        return dtypes.bool_
    return dtypes.int64


class _Renderer(BlockRowRendering):
    def __init__(self, kern: K.Kernel, name: str, row_block: int = 0,
                 warp_shuffles: bool = False):
        self.kern = kern
        self.name = name
        self.row_block = row_block
        self.warp_shuffles = warp_shuffles
        self.lines: list[str] = []
        self.indent = 1
        self.counter = 0
        self.scopes: list[dict] = [{}]
        self.loop_vars: dict[str, str] = {}
        self.accs: dict[str, tuple[str, DType, str]] = {}
        self.math: set[str] = set()

    # --- small utilities -----------------------------------------------------
    def emit(self, line: str) -> None:
        self.lines.append("    " * self.indent + line)

    def fresh(self, hint: str = "v") -> str:
        self.counter += 1
        return f"{hint}{self.counter}"

    def assign(self, code: str, hint: str = "v") -> str:
        name = self.fresh(hint)
        self.emit(f"{name} = {code}")
        return name

    def math_function(self, name: str, dtype: DType) -> str:
        if name not in MATH_FUNCTIONS:
            raise CudaUnsupported(f"math function {name} has no CUDA rendering")
        symbol = f"f_{name}{64 if dtype is dtypes.float64 else 32}"
        self.math.add(symbol)
        return symbol

    def rounded(self, code: str, dtype: DType) -> str:
        """code (a value of dtype's register type) as a value of dtype."""
        if dtype is dtypes.float16:
            return f"float32(float16({code}))"
        if dtype is dtypes.bfloat16:
            return self.bfloat16_value(self.bfloat16_bits(code))
        return f"{register(dtype)}({code})"

    # bfloat16 is stored as its 16 bits (uint16) and computed as float32,
    # rounded after every op as on the CPU (codegen/llvm_math.py's
    # f32_to_bf16: to nearest even with integer adds; a NaN only gets its
    # quiet bit). A float32's bits come from float_as_int / int_as_float
    # (libdevice on a GPU, numpy views under the simulator); the integer work
    # is in int64, so nothing overflows. Inline code, no device functions
    # (those need a GPU to compile, so the offline PTX check could not see them).
    def bfloat16_bits(self, value: str) -> str:
        """The bfloat16 bits (uint16) of a float value, rounded to nearest even."""
        u = self.assign(f"int64(float_as_int(float32({value}))) & 4294967295", "u")
        return (f"uint16((({u} >> 16) | 64) if ({u} & 2147483647) > 2139095040 else "
                f"(({u} + 32767 + (({u} >> 16) & 1)) >> 16))")

    def bfloat16_value(self, bits: str) -> str:
        """The float32 whose top half is the bfloat16 bits."""
        wide = self.assign(f"int64({bits}) << 16", "u")
        return f"int_as_float(int32({wide} - (({wide} >> 31) << 32)))"

    def stored(self, value: str, dtype: DType) -> str:
        """A register value of dtype as its storage element."""
        if dtype.kind == "b":
            return f"uint8({value})"
        if dtype is dtypes.bfloat16:
            return self.bfloat16_bits(value)
        return f"{storage_element(dtype)}({value})"

    # --- expressions ---------------------------------------------------------
    def expr(self, e) -> str:
        if isinstance(e, K.Const):
            return self.const(e.value, e.dtype)
        if isinstance(e, K.Param):
            return f"p{e.slot}"
        if isinstance(e, K.Var):
            return self.loop_vars[e.name]
        for scope in reversed(self.scopes):
            if e in scope:
                return scope[e]
        value = self.render_expr(e)
        self.scopes[-1][e] = value
        return value

    def const(self, value, dtype: DType) -> str:
        if dtype.kind == "b":
            return "True" if value else "False"
        if dtype.kind == "f":  # (16-bit floats: at float32 precision, as on the CPU)
            held = dtypes.float64 if dtype is dtypes.float64 else dtypes.float32
            return f"{register(dtype)}({float_literal(value, held)})"
        literal = int_literal(value, dtype)
        return str(literal) if dtype is dtypes.int64 else f"{register(dtype)}({literal})"

    def render_expr(self, e) -> str:
        if isinstance(e, K.Scalar):
            return self.scalar(e)
        if isinstance(e, K.Load):
            index = self.expr(e.index)
            valid = None if e.valid is None else self.expr(e.valid)
            if valid is not None:  # (a padded view: element 0 stands in over the padding)
                index = self.assign(f"{index} if {valid} else 0")
            raw = f"b{e.buf}[{index}]"
            if e.dtype.kind == "b":
                value = self.assign(f"({raw} != 0)")
            elif e.dtype is dtypes.bfloat16:
                value = self.assign(self.bfloat16_value(raw))
            else:
                value = self.assign(f"{register(e.dtype)}({raw})")
            if valid is None:
                return value
            return self.assign(f"{value} if {valid} else {self.expr(K.Const(0, e.dtype))}")
        if isinstance(e, K.Cast):
            return self.assign(self.convert(self.expr(e.src), expr_dtype(e.src), e.dtype))
        if isinstance(e, K.Alu):
            return self.alu(e)
        if isinstance(e, K.Index):
            return self.index(e)
        if isinstance(e, K.AccGet):
            value, dtype, _ = self.accs[e.name]
            return value + "_i" if e.part == "index" else value
        if isinstance(e, K.CheckedIndex):
            return self.checked_index(e)
        if isinstance(e, K.Rand):
            return self.rand(e)
        raise AssertionError(f"unknown kernel expression {e!r}")

    def scalar(self, e: K.Scalar) -> str:
        """Scalars are read once, at the kernel's start (every use then sees them)."""
        key = ("scalar", e.slot, e.dtype.name)
        if key not in self.scopes[0]:
            name = f"s{e.slot}_{e.dtype.name}"
            if e.dtype.kind == "f":  # (16-bit floats: at float32 precision, as on the CPU)
                code = f"{register(e.dtype)}(fargs[{e.slot}])"
            elif e.dtype.kind == "b":
                code = f"(args[{e.slot}] != 0)"
            else:
                code = f"{register(e.dtype)}(args[{e.slot}])"
            self.lines.insert(self.param_lines, f"    {name} = {code}")
            self.param_lines += 1
            self.scopes[0][key] = name
        return self.scopes[0][key]

    def convert(self, value: str, src: DType, dst: DType) -> str:
        """torch's cast semantics, as codegen/llvm.py's convert."""
        if src is dst:
            return value
        if dst.kind == "b":
            return f"({value} != 0)"
        if src.kind == "f" and dst.kind != "f":
            # Via int64 then truncated: float -> uint8 of a negative value wraps like torch.
            return f"{register(dst)}(int64({value}))"
        if dst.kind == "f":
            return self.rounded(value, dst)
        return f"{register(dst)}({value})"

    def alu(self, e: K.Alu) -> str:
        src_dtype = expr_dtype(e.srcs[-1])
        special = INLINE_SPECIAL_FUNCTIONS.get(e.op)
        if special is not None and src_dtype.kind == "f":  # (codegen/cuda_special.py)
            result = special(self, *(self.assign(f"float64({self.expr(src)})", "sp")
                                     for src in e.srcs))
            if e.dtype is not dtypes.float64:  # (double -> float -> 16 bits, as the CPU)
                result = f"float32({result})"
            return self.assign(self.rounded(result, e.dtype))
        template = cuda_template(e.op, src_dtype.kind)
        if template is None:
            raise CudaUnsupported(f'"{e.op}" is not implemented for CUDA tensors of dtype '
                                  f"{src_dtype.name} in lazyt yet")
        operands = {name: self.expr(s) for name, s in zip("abc", e.srcs)}
        if e.op == "pow" and src_dtype.kind in "iu":
            return self.assign(self.rounded(self.integer_pow(operands["a"], operands["b"],
                                                             src_dtype), e.dtype))
        constructor = register(src_dtype)

        def substitute(match: re.Match) -> str:
            key, arg = match.group(1), match.group(2)
            if key in operands:
                return operands[key]
            if key == "T":
                return constructor
            if key == "f":
                return self.math_function(arg, src_dtype)
            raise AssertionError(f"unknown template placeholder {match.group(0)}")

        code = _PLACEHOLDER.sub(substitute, template)
        if e.dtype.kind == "b":
            return self.assign(f"bool({code})")
        return self.assign(self.rounded(code, e.dtype))

    def integer_pow(self, base: str, exponent: str, dtype: DType) -> str:
        """base ** exponent by squaring, wrapping like torch; a negative
        exponent gives 0 except for bases 1 and -1 (the CPU's lazyt_ipow,
        which reads an unsigned exponent's top bit as a sign, as here)."""
        reg, bits = register(dtype), dtype.itemsize * 8
        signed = dtype.kind == "i"
        negative = f"{exponent} < 0" if signed else f"{exponent} >= {1 << (bits - 1)}"
        minus_one = "-1" if signed else str((1 << bits) - 1)
        result, square, rest = self.fresh("pw"), self.fresh("pb"), self.fresh("pe")
        self.emit(f"if {negative}:")
        self.emit(f"    {result} = {reg}(1) if {base} == 1 else ({reg}({minus_one}) if {base} == "
                  f"{minus_one} and ({exponent} & 1) != 0 else ({reg}(1) if {base} == {minus_one} "
                  f"else {reg}(0)))")
        self.emit("else:")
        self.emit(f"    {result} = {reg}(1)")
        self.emit(f"    {square} = {base}")
        self.emit(f"    {rest} = int64({exponent})")
        self.emit(f"    while {rest} > 0:")
        self.emit(f"        if ({rest} & 1) != 0:")
        self.emit(f"            {result} = {reg}({result} * {square})")
        self.emit(f"        {square} = {reg}({square} * {square})")
        self.emit(f"        {rest} = {rest} >> 1")
        return result

    def index(self, e: K.Index) -> str:
        srcs = [self.expr(s) for s in e.srcs]
        symbols = {"add": "+", "sub": "-", "mul": "*", "div": "//", "mod": "%", "lt": "<",
                   "ge": ">=", "and": "and"}
        if e.op in symbols:
            return self.assign(f"({srcs[0]} {symbols[e.op]} {srcs[1]})", "i")
        if e.op == "select":
            return self.assign(f"({srcs[1]} if {srcs[0]} else {srcs[2]})", "i")
        raise AssertionError(f"unknown index op {e.op}")

    def checked_index(self, e: K.CheckedIndex) -> str:
        raw = self.expr(e.index)
        size = self.expr(e.size)
        out = self.fresh("ci")
        if e.wrap:
            self.emit(f"{out} = {raw} + {size} if {raw} < 0 else int64({raw})")
        else:
            self.emit(f"{out} = int64({raw})")
        self.emit(f"if {out} < 0 or {out} >= {size}:")
        err = f"b{e.err_buf}"
        self.emit(f"    {err}[0] = {raw}")
        self.emit(f"    {err}[1] = {size}")
        self.emit(f"    {err}[2] = {e.dim}")
        self.emit(f"    {err}[3] = {e.message}")
        self.emit(f"    {out} = 0")
        return out

    def rand(self, e: K.Rand) -> str:
        """splitmix64 of (seed, counter), bit for bit the CPU's stream
        (codegen/llvm.py render_rand): the same seed gives the same numbers
        on both devices."""
        counter, seed = self.expr(e.counter), self.expr(e.seed)

        def u64(value: int) -> str:
            return f"uint64({value & _MASK64})"

        n = self.fresh("r")
        self.emit(f"{n}x = uint64({seed}) * {u64(-7046029254386353131)} + "
                  f"uint64({counter}) * {u64(-3335678366873096957)}")
        self.emit(f"{n}x = ({n}x ^ ({n}x >> uint64(30))) * {u64(-4658895280553007687)}")
        self.emit(f"{n}x = ({n}x ^ ({n}x >> uint64(27))) * {u64(-7723592293110705685)}")
        self.emit(f"{n}x = {n}x ^ ({n}x >> uint64(31))")
        z = f"{n}x"
        reg = register(e.dtype)
        if e.kind == "uniform":
            if reg == "float64":
                out = f"float64({z} >> uint64(11)) * {2.0 ** -53!r}"
            else:
                out = f"float32(float32({z} >> uint64(40)) * float32({2.0 ** -24!r}))"
        elif e.kind == "normal":
            # Box-Muller with 32-bit uniforms u1 in (0, 1], u2 in [0, 1).
            self.emit(f"{n}u1 = float64(({z} >> uint64(32)) + uint64(1)) * {2.0 ** -32!r}")
            self.emit(f"{n}u2 = float64({z} & uint64(4294967295)) * {2.0 ** -32!r}")
            log, sqrt, cos = (self.math_function(f, e.dtype) for f in ("log", "sqrt", "cos"))
            self.emit(f"{n}r = {sqrt}({reg}(-2.0) * {log}({reg}({n}u1)))")
            out = f"{reg}({n}r * {cos}({reg}({n}u2) * {reg}(6.283185307179586)))"
        else:
            raise AssertionError(f"unknown random kind {e.kind}")
        return self.assign(self.rounded(out, e.dtype))

    # --- statements ----------------------------------------------------------
    def stmt(self, s) -> None:
        if isinstance(s, K.Loop):
            self.loop(s)
        elif isinstance(s, K.Store):
            self.store(s)
        elif isinstance(s, K.AccInit):
            self.acc_init(s)
        elif isinstance(s, K.AccUpdate):
            self.acc_update(s)
        else:
            raise AssertionError(f"unknown kernel statement {s!r}")

    def store(self, s: K.Store, only_thread_zero: bool = False) -> None:
        dtype = self.kern.buffers[s.buf].dtype
        value = self.expr(s.value)
        index = self.expr(s.index)
        stored = self.stored(value, dtype)
        conditions = ([self.expr(s.mask)] if s.mask is not None else []) + \
            (["tid == 0"] if only_thread_zero else [])
        if conditions:
            self.emit(f"if {' and '.join(conditions)}:")
            self.emit(f"    b{s.buf}[{index}] = {stored}")
        else:
            self.emit(f"b{s.buf}[{index}] = {stored}")

    def loop(self, loop: K.Loop, grid_stride: bool = False) -> None:
        var = self.fresh("L")
        start, stop = self.expr(loop.start), self.expr(loop.stop)
        if grid_stride:
            self.emit(f"{var} = {start} + int64(cuda.grid(1))")
            self.emit(f"while {var} < {stop}:")
        else:
            self.emit(f"for {var} in range({start}, {stop}):")
        self.loop_vars[loop.var] = var
        self.indent += 1
        self.scopes.append({})
        for s in loop.body:
            self.stmt(s)
        if grid_stride:
            self.emit(f"{var} += int64(cuda.gridsize(1))")
        elif not loop.body:
            self.emit("pass")
        self.scopes.pop()
        self.indent -= 1

    def acc_init(self, s: K.AccInit) -> None:
        name = "acc_" + re.sub(r"\W", "_", s.name)
        self.accs[s.name] = (name, s.dtype, s.op)
        self.emit(f"{name} = {self.const(K.reduction_identity(s.op, s.dtype), s.dtype)}")
        if s.op in ("argmax", "argmin"):
            # Block-per-row: a thread that saw no element must lose every tie.
            self.emit(f"{name}_i = {1 << 62 if self.row_block else 0}")

    def acc_update(self, s: K.AccUpdate) -> None:
        acc, dtype, op = self.accs[s.name]
        value = self.expr(s.value)
        kind = dtype.kind
        if op in ("sum", "prod"):
            symbol = "+" if op == "sum" else "*"
            if kind == "b":
                code = f"({acc} or {value})" if op == "sum" else f"({acc} and {value})"
            else:
                code = f"({acc} {symbol} {value})"
        elif op in ("max", "min"):
            template = cuda_template("maximum" if op == "max" else "minimum", kind)
            code = template.format(a=acc, b=value)
        elif op in ("any", "all"):
            code = f"({acc} {'or' if op == 'any' else 'and'} {value})"
        elif op in ("argmax", "argmin"):
            position = self.expr(s.position)
            compare = ">" if op == "argmax" else "<"
            better = f"{value} {compare} {acc}"
            if kind == "f":
                better = f"({better}) or ({value} != {value} and {acc} == {acc})"
            self.emit(f"if {better}:")
            self.emit(f"    {acc} = {value}")
            self.emit(f"    {acc}_i = int64({position})")
            return
        else:
            raise AssertionError(f"unknown reduction {op}")
        self.emit(f"{acc} = {'bool(' + code + ')' if kind == 'b' else self.rounded(code, dtype)}")

    # --- the module ----------------------------------------------------------
    def render(self) -> CudaSource:
        kern = self.kern
        buffers = [f"b{i}" for i in range(len(kern.buffers))]
        header = f"def {self.name}({', '.join(buffers + ['args', 'fargs'])}):"
        self.lines = [f"    p{slot} = args[{slot}]" for slot in range(kern.n_params)]
        self.param_lines = len(self.lines)
        body = kern.body
        grid_stride = (kern.parallel and len(body) == 1 and isinstance(body[0], K.Loop)
                       and body[0].start == K.Param(0) and body[0].stop == K.Param(1))
        if self.row_block:
            assert reduces_rows(kern), "block-per-row form of a kernel that reduces no rows"
            self.block_rows(body[0])
        elif grid_stride:
            self.loop(body[0], grid_stride=True)
        else:
            self.emit("if cuda.grid(1) != 0:")
            self.emit("    return")
            for s in body:
                self.stmt(s)
        text = "\n" + header + "\n" + "\n".join(self.lines + ["    return"]) + "\n"
        arrays = [f"{storage_element(spec.dtype)}[::1]" for spec in kern.buffers]
        signature = f"void({', '.join(arrays + ['int64[::1]', 'float64[::1]'])})"
        return CudaSource(self.name, text, signature, grid_stride, tuple(sorted(self.math)),
                          (), self.row_block, reduces_rows(kern))


def render_cuda(kern: K.Kernel, name: str | None = None, row_block: int = 0,
                warp_shuffles: bool = False) -> CudaSource:
    """The Numba-CUDA source of one kernel (see the module docstring). With
    `row_block` (a power of two; only for kernels where `reduces_rows`), the
    block-per-row form: `row_block` threads share each row; `warp_shuffles`:
    its reductions end with register shuffles within a warp (a real GPU; the
    simulator has no shuffles, so its blocks combine in shared memory). Raises
    CudaUnsupported for what the CUDA backend cannot run yet (a few special
    functions)."""
    return _Renderer(kern, name or re.sub(r"\W", "_", kern.name), row_block,
                     warp_shuffles).render()


@dataclass(frozen=True)
class RenderedExpression:
    """One kernel IR expression rendered inside another kernel's text."""

    setup: tuple[str, ...]  # kernel-level lines (params and scalars read from args/fargs)
    body: tuple[str, ...]  # lines computing it, at the indent asked for
    stored: str  # its value as the storage element of `store_as`
    math: tuple[str, ...]  # math function names it calls


def render_expression(expr, buffers: tuple[DType, ...], variables: dict[str, str],
                      accumulators: dict[str, tuple[str, DType]], n_params: int,
                      indent: int, store_as: DType) -> RenderedExpression:
    """Render expr for a kernel whose text names its buffers b0, b1, ...
    (dtypes `buffers`), its argument blocks `args`/`fargs` (n_params slots),
    its loop variables as `variables` (Var name -> Python name) and the
    values AccGet reads as `accumulators` (name -> (Python name, dtype)):
    how the matmul kernel applies an epilogue (codegen/cuda_epilogue.py)."""
    kern = K.Kernel("expression", tuple(K.BufferSpec(d, False, True) for d in buffers),
                    n_params, ())
    renderer = _Renderer(kern, "expression")
    renderer.lines, renderer.param_lines, renderer.indent = [], 0, indent
    renderer.loop_vars = dict(variables)
    for name, (code, dtype) in accumulators.items():
        renderer.accs[name] = (code, dtype, "sum")
    stored = renderer.stored(renderer.expr(expr), store_as)
    setup = [f"    p{slot} = args[{slot}]" for slot in range(n_params)]
    setup += renderer.lines[:renderer.param_lines]
    return RenderedExpression(tuple(setup), tuple(renderer.lines[renderer.param_lines:]), stored,
                              tuple(sorted(renderer.math)))
