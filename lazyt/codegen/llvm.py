"""Kernel IR -> LLVM IR text (the CPU backend's renderer).

`render_llvm(kernel)` returns a complete LLVM module (text) exporting
`void @<name>(ptr bufs, ptr args)` per the calling convention in
ir/kernel.py. Elementwise ops are rendered from their templates
(codegen/llvm_ops.py: one per op of ir/ops.py and operand kind); dtypes map to
LLVM types through codegen/llvm_types.py; transcendentals call inline helpers
from codegen/llvm_math.py so loops vectorise. lazyt/runtime/compiler.py turns the text into machine code.

Rendering choices that matter:
- Buffers arrive as one pointer array; an always-inline body function takes
  them as separate `noalias` parameters (when the lowering proved they don't
  overlap) so LLVM can vectorise without runtime alias checks.
- Loop counters and accumulators live in allocas; mem2reg turns them into
  phis, which keeps this renderer free of SSA bookkeeping.
- Float sums use `reassoc` so the vectoriser may split them into lanes; the
  lane order is fixed by the compiled code, so a given kernel returns the same
  bits on every run. A float32 sum over a contiguous row is first rewritten
  into explicit float32 lanes (codegen/sum_lanes.py) whose additions are
  `ordered` (no reassoc): their order is the kernel IR's.
- float16/bfloat16 are held as float in registers and rounded after every op,
  so a fused kernel gives the same bits as a chain of eager kernels.
"""

from __future__ import annotations

import re

from lazyt import dtypes
from lazyt.codegen.llvm_math import MathLibrary
from lazyt.codegen.llvm_ops import llvm_template
from lazyt.codegen.llvm_special import SPECIAL_FUNCTIONS, special_helper_definition
from lazyt.codegen.llvm_types import (
    is_16bit_float,
    register_type,
    rounded_float_literal,
    storage_type,
)
from lazyt.codegen.sum_lanes import split_float32_sums
from lazyt.dtypes import DType
from lazyt.ir import kernel as K
from lazyt.runtime.checked import SCRATCH_WORD

_PLACEHOLDER = re.compile(r"\{([a-z_0-9]+)(?::([^{}]+))?\}")


def int_literal(value: int, bits: int) -> str:
    """An integer literal wrapped into the signed range of an iN."""
    if bits == 1:
        return "true" if value else "false"
    value &= (1 << bits) - 1
    if value >= 1 << (bits - 1):
        value -= 1 << bits
    return str(value)


def const_literal(value, dtype: DType) -> str:
    reg = register_type(dtype)
    if dtype.kind == "f":
        return rounded_float_literal(float(value), reg)
    return int_literal(int(value), dtype.bits)


def _int_bits(llvm_type: str) -> int:
    """Bit width of a register type: i32 -> 32, float -> 32, double -> 64."""
    return {"float": 32, "double": 64}.get(llvm_type) or int(llvm_type[1:])


class _Renderer:
    def __init__(self, kern: K.Kernel, symbol: str, check_bounds: bool = False):
        self.kern = kern
        self.symbol = symbol
        self.check_bounds = check_bounds
        self.math = MathLibrary(SPECIAL_FUNCTIONS, special_helper_definition)
        self.lines: list[str] = []
        self.allocas: list[str] = []
        self.counter = 0
        self.scopes: list[dict] = [{}]
        self.loop_vars: dict[str, str] = {}
        self.accs: dict[str, tuple[str, str | None, DType, str]] = {}
        self.lanes: dict[str, int] = {}  # laned accumulators: name -> lanes
        self.metadata: list[str] = []  # module-level metadata nodes (loop hints)
        self.helpers: dict[str, str] = {}
        self.params: dict[int, str] = {}
        self.entry_lines: list[str] = []
        self.block = "entry"  # the basic block being emitted (a phi names its predecessors)

    # --- small utilities -----------------------------------------------------
    def fresh(self, hint: str = "v") -> str:
        self.counter += 1
        return f"%{hint}{self.counter}"

    def emit(self, line: str) -> None:
        self.lines.append("  " + line)

    def label(self, name: str) -> None:
        self.lines.append(f"{name}:")
        self.block = name

    def memo_get(self, expr):
        for scope in reversed(self.scopes):
            if expr in scope:
                return scope[expr]
        return None

    # --- conversions between storage, register and other dtypes ---------------
    def round_half(self, value: str, dtype: DType) -> str:
        """Round a float register to float16/bfloat16 precision and back."""
        if dtype is dtypes.float16:
            to16, back = self.math.function("f32_to_f16", "float"), self.math.function(
                "f16_to_f32", "i16")
        else:
            to16, back = self.math.function("f32_to_bf16", "float"), self.math.function(
                "bf16_to_f32", "i16")
        bits = self.fresh("h")
        self.emit(f"{bits} = call i16 {to16}(float {value})")
        out = self.fresh("h")
        self.emit(f"{out} = call float {back}(i16 {bits})")
        return out

    def convert(self, value: str, src: DType, dst: DType) -> str:
        """Convert a register value of dtype src to dtype dst (torch cast semantics)."""
        if src is dst:
            return value
        s, d = register_type(src), register_type(dst)
        out = self.fresh("c")
        if dst.kind == "b":
            if src.kind == "f":
                self.emit(f"{out} = fcmp une {s} {value}, 0.0")
            else:
                self.emit(f"{out} = icmp ne {s} {value}, 0")
            return out
        if src.kind == "f" and dst.kind == "f":
            if s == d:
                self.emit(f"{out} = fadd {s} {value}, 0.0")
                out = value
                self.lines.pop()
            elif s == "float":
                self.emit(f"{out} = fpext float {value} to double")
            else:
                self.emit(f"{out} = fptrunc double {value} to float")
            return self.round_half(out, dst) if is_16bit_float(dst) else out
        if src.kind == "f":
            # Via i64 then truncate: float -> uint8 of a negative value wraps like torch.
            wide = self.fresh("c")
            self.emit(f"{wide} = fptosi {s} {value} to i64")
            if d == "i64":
                return wide
            self.emit(f"{out} = trunc i64 {wide} to {d}")
            return out
        if dst.kind == "f":
            op = "sitofp" if src.kind == "i" else "uitofp"
            self.emit(f"{out} = {op} {s} {value} to {d}")
            return self.round_half(out, dst) if is_16bit_float(dst) else out
        sb, db = src.bits, dst.bits
        if sb == db:
            return value
        if sb > db:
            self.emit(f"{out} = trunc {s} {value} to {d}")
        else:
            op = "sext" if src.kind == "i" else "zext"
            self.emit(f"{out} = {op} {s} {value} to {d}")
        return out

    def to_register(self, value: str, dtype: DType) -> str:
        if dtype.kind == "b":
            out = self.fresh("bool")
            self.emit(f"{out} = icmp ne i8 {value}, 0")
            return out
        if is_16bit_float(dtype):
            name = "f16_to_f32" if dtype is dtypes.float16 else "bf16_to_f32"
            out = self.fresh("h")
            self.emit(f"{out} = call float {self.math.function(name, 'i16')}(i16 {value})")
            return out
        return value

    def to_storage(self, value: str, dtype: DType) -> str:
        if dtype.kind == "b":
            out = self.fresh("bool")
            self.emit(f"{out} = zext i1 {value} to i8")
            return out
        if is_16bit_float(dtype):
            name = "f32_to_f16" if dtype is dtypes.float16 else "f32_to_bf16"
            out = self.fresh("h")
            self.emit(f"{out} = call i16 {self.math.function(name, 'float')}(float {value})")
            return out
        return value

    def pointer(self, buf: int, index: str, dtype: DType, writes: bool = False) -> str:
        if self.check_bounds:
            return self.checked_pointer(buf, index, dtype, writes)
        ptr = self.fresh("p")
        element = storage_type(dtype)
        self.emit(f"{ptr} = getelementptr inbounds {element}, ptr %b{buf}, i64 {index}")
        return ptr

    def checked_pointer(self, buf: int, index: str, dtype: DType, writes: bool) -> str:
        """LAZYT_CHECK_BOUNDS=1: the element's address if index lies within
        the buffer, else (after recording the access in the check block,
        runtime/checked.py) the block's scratch word."""
        itemsize = dtype.itemsize
        limit = f"%n{buf}.{itemsize}"
        if limit not in self.scopes[0]:
            self.scopes[0][limit] = limit
            self.entry_lines.append(f"{limit} = udiv i64 %nb{buf}, {itemsize}")
        n = self.counter = self.counter + 1
        p = f"%ob{n}."
        self.emit(f"{p}bad = icmp uge i64 {index}, {limit}")
        self.emit(f"br i1 {p}bad, label %ob{n}.err, label %ob{n}.ok")
        self.label(f"ob{n}.err")
        for word, value in enumerate((int(writes), buf, index, limit)):
            self.emit(f"{p}w{word} = getelementptr i64, ptr %chk, i64 {word}")
            self.emit(f"store i64 {value}, ptr {p}w{word}")
        self.emit(f"br label %ob{n}.ok")
        self.label(f"ob{n}.ok")
        self.emit(f"{p}at = getelementptr {storage_type(dtype)}, ptr %b{buf}, i64 {index}")
        self.emit(f"{p}ptr = select i1 {p}bad, ptr %chk.scratch, ptr {p}at")
        return f"{p}ptr"

    # --- expressions ---------------------------------------------------------
    def expr(self, e: K.Expr) -> str:
        if isinstance(e, K.Const):
            return const_literal(e.value, e.dtype)
        if isinstance(e, K.Param):
            return self.params[e.slot]
        if isinstance(e, K.Var):
            return self.loop_vars[e.name]
        if isinstance(e, K.Scalar):
            return self.render_scalar(e)
        cached = self.memo_get(e)
        if cached is not None:
            return cached
        value = self.render_expr(e)
        self.scopes[-1][e] = value
        return value

    def render_expr(self, e: K.Expr) -> str:
        if isinstance(e, K.Load):
            if e.valid is not None:
                return self.render_masked_load(e)
            index = self.expr(e.index)
            ptr = self.pointer(e.buf, index, e.dtype)
            raw = self.fresh("l")
            self.emit(f"{raw} = load {storage_type(e.dtype)}, ptr {ptr}")
            return self.to_register(raw, e.dtype)
        if isinstance(e, K.Cast):
            src_dtype = expr_dtype(e.src)
            return self.convert(self.expr(e.src), src_dtype, e.dtype)
        if isinstance(e, K.Alu):
            return self.render_alu(e)
        if isinstance(e, K.Index):
            return self.render_index(e)
        if isinstance(e, K.AccGet):
            value_slot, index_slot, acc_dtype, _ = self.accs[e.name]
            out = self.fresh("a")
            if e.part == "index":
                self.emit(f"{out} = load i64, ptr {index_slot}")
            else:
                slot = value_slot if e.lane is None else self.lane_slot(e.name, e.lane)
                self.emit(f"{out} = load {register_type(acc_dtype)}, ptr {slot}")
            return out
        if isinstance(e, K.CheckedIndex):
            return self.render_checked_index(e)
        if isinstance(e, K.Rand):
            return self.render_rand(e)
        raise AssertionError(f"unknown kernel expression {e!r}")

    def render_masked_load(self, e: K.Load) -> str:
        """A padded view's load: a branch around it, zero where it is not
        valid. The loop vectoriser turns the branch into a masked vector load
        (the address stays affine: no gather, no read outside the buffer)."""
        valid = self.expr(e.valid)
        index = self.expr(e.index)
        n = self.counter = self.counter + 1
        before = self.block
        self.emit(f"br i1 {valid}, label %ml{n}.load, label %ml{n}.join")
        self.label(f"ml{n}.load")
        self.scopes.append({})  # (nothing computed here dominates the join)
        ptr = self.pointer(e.buf, index, e.dtype)
        raw = self.fresh("l")
        self.emit(f"{raw} = load {storage_type(e.dtype)}, ptr {ptr}")
        value = self.to_register(raw, e.dtype)
        self.scopes.pop()
        loaded = self.block
        self.emit(f"br label %ml{n}.join")
        self.label(f"ml{n}.join")
        out = self.fresh("l")
        zero = {"f": "0.0", "b": "false"}.get(e.dtype.kind, "0")  # (in the register type)
        self.emit(f"{out} = phi {register_type(e.dtype)} [ {value}, %{loaded} ], "
                  f"[ {zero}, %{before} ]")
        return out

    def render_scalar(self, e: K.Scalar) -> str:
        """Scalars live in the entry block (params are loaded there) so every use dominates."""
        key = ("scalar", e.slot, e.dtype.name)
        if key in self.scopes[0]:
            return self.scopes[0][key]
        raw = self.params[e.slot]
        reg = register_type(e.dtype)
        out = f"%s{e.slot}.{e.dtype.name}"
        if e.dtype.kind == "f":
            self.entry_lines.append(f"{out}.d = bitcast i64 {raw} to double")
            if reg == "double":
                self.scopes[0][key] = f"{out}.d"
                return f"{out}.d"
            else:
                self.entry_lines.append(f"{out} = fptrunc double {out}.d to float")
        elif e.dtype.kind == "b":
            self.entry_lines.append(f"{out} = icmp ne i64 {raw}, 0")
        elif reg == "i64":
            self.entry_lines.append(f"{out} = add i64 {raw}, 0")
        else:
            self.entry_lines.append(f"{out} = trunc i64 {raw} to {reg}")
        self.scopes[0][key] = out
        return out

    def render_alu(self, e: K.Alu) -> str:
        src_dtypes = [expr_dtype(s) for s in e.srcs]
        operands = [self.expr(s) for s in e.srcs]
        operand_dtype = src_dtypes[-1]
        template = llvm_template(e.op, operand_dtype.kind)
        if template is None:
            raise AssertionError(f"op {e.op} has no LLVM rendering for {operand_dtype.name}")
        out = self.fresh("x")
        self.counter += 1
        self.emit_template(template, operands, out, register_type(operand_dtype),
                           f"t{self.counter}.")
        if is_16bit_float(e.dtype):
            return self.round_half(out, e.dtype)
        return out

    def emit_template(self, template: str, operands: list[str], out: str, ty: str,
                      prefix: str) -> None:
        fields = {"a": None, "b": None, "c": None}
        for name, value in zip("abc", operands):
            fields[name] = value

        def substitute(match: re.Match) -> str:
            key, arg = match.group(1), match.group(2)
            if key in fields and fields[key] is not None:
                return fields[key]
            if key == "out":
                return out
            if key == "ty":
                return ty
            if key == "t":
                return prefix
            if key == "bits":
                return str(_int_bits(ty))
            if key == "bitsm1":
                return str(_int_bits(ty) - 1)
            if key == "math":
                return self.math.function(arg, ty)
            if key == "intr":
                name, sig = arg[:-1].split("(")
                arg_types = [ty if a == "ty" else a for a in sig.split(",")]
                return self.math.intrinsic(name, ty, arg_types)
            if key == "ipow":
                return self.integer_pow_helper(ty)
            raise AssertionError(f"unknown template placeholder {match.group(0)}")

        for line in template.splitlines():
            self.emit(_PLACEHOLDER.sub(substitute, line))

    def render_index(self, e: K.Index) -> str:
        srcs = [self.expr(s) for s in e.srcs]
        out = self.fresh("i")
        simple = {"add": "add nsw", "sub": "sub nsw", "mul": "mul nsw", "div": "sdiv",
                  "mod": "srem"}
        if e.op in simple:
            self.emit(f"{out} = {simple[e.op]} i64 {srcs[0]}, {srcs[1]}")
        elif e.op in ("lt", "ge"):
            pred = "slt" if e.op == "lt" else "sge"
            self.emit(f"{out} = icmp {pred} i64 {srcs[0]}, {srcs[1]}")
        elif e.op == "and":
            self.emit(f"{out} = and i1 {srcs[0]}, {srcs[1]}")
        elif e.op == "select":
            self.emit(f"{out} = select i1 {srcs[0]}, i64 {srcs[1]}, i64 {srcs[2]}")
        else:
            raise AssertionError(f"unknown index op {e.op}")
        return out

    def render_checked_index(self, e: K.CheckedIndex) -> str:
        raw = self.expr(e.index)
        size = self.expr(e.size)
        n = self.counter = self.counter + 1
        if e.wrap:
            self.emit(f"%ci{n}.neg = icmp slt i64 {raw}, 0")
            self.emit(f"%ci{n}.wrap = add i64 {raw}, {size}")
            self.emit(f"%ci{n}.idx = select i1 %ci{n}.neg, i64 %ci{n}.wrap, i64 {raw}")
        else:
            self.emit(f"%ci{n}.idx = add i64 {raw}, 0")
        self.emit(f"%ci{n}.bad = icmp uge i64 %ci{n}.idx, {size}")
        self.emit(f"br i1 %ci{n}.bad, label %ci{n}.err, label %ci{n}.ok")
        self.label(f"ci{n}.err")
        self.emit(f"store i64 {raw}, ptr %b{e.err_buf}")
        self.emit(f"%ci{n}.slot = getelementptr i64, ptr %b{e.err_buf}, i64 1")
        self.emit(f"store i64 {size}, ptr %ci{n}.slot")
        self.emit(f"%ci{n}.dslot = getelementptr i64, ptr %b{e.err_buf}, i64 2")
        self.emit(f"store i64 {e.dim}, ptr %ci{n}.dslot")
        self.emit(f"%ci{n}.mslot = getelementptr i64, ptr %b{e.err_buf}, i64 3")
        self.emit(f"store i64 {e.message}, ptr %ci{n}.mslot")
        self.emit(f"br label %ci{n}.ok")
        self.label(f"ci{n}.ok")
        out = f"%ci{n}.safe"
        self.emit(f"{out} = select i1 %ci{n}.bad, i64 0, i64 %ci{n}.idx")
        return out

    def render_rand(self, e: K.Rand) -> str:
        """splitmix64 of (seed, counter): a counter-based stream, so any element
        can be drawn independently and a launch can be split across threads."""
        counter = self.expr(e.counter)
        seed = self.expr(e.seed)
        n = self.counter = self.counter + 1
        p = f"%r{n}."
        lines = [
            f"{p}s = mul i64 {seed}, -7046029254386353131",
            f"{p}c = mul i64 {counter}, -3335678366873096957",
            f"{p}x = add i64 {p}s, {p}c",
            f"{p}x1 = lshr i64 {p}x, 30", f"{p}x2 = xor i64 {p}x, {p}x1",
            f"{p}x3 = mul i64 {p}x2, -4658895280553007687",
            f"{p}x4 = lshr i64 {p}x3, 27", f"{p}x5 = xor i64 {p}x3, {p}x4",
            f"{p}x6 = mul i64 {p}x5, -7723592293110705685",
            f"{p}x7 = lshr i64 {p}x6, 31", f"{p}z = xor i64 {p}x6, {p}x7",
        ]
        for line in lines:
            self.emit(line)
        reg = register_type(e.dtype)
        if e.kind == "uniform":
            if reg == "double":
                self.emit(f"{p}m = lshr i64 {p}z, 11")
                self.emit(f"{p}f = uitofp i64 {p}m to double")
                scale = rounded_float_literal(2.0 ** -53, "double")
                self.emit(f"{p}u = fmul double {p}f, {scale}")
            else:
                self.emit(f"{p}m = lshr i64 {p}z, 40")
                self.emit(f"{p}f = uitofp i64 {p}m to float")
                scale = rounded_float_literal(2.0 ** -24, "float")
                self.emit(f"{p}u = fmul float {p}f, {scale}")
            out = f"{p}u"
        elif e.kind == "normal":
            # Box-Muller with 32-bit uniforms u1 in (0, 1], u2 in [0, 1).
            self.emit(f"{p}h = lshr i64 {p}z, 32")
            self.emit(f"{p}h1 = add i64 {p}h, 1")
            self.emit(f"{p}l = and i64 {p}z, 4294967295")
            self.emit(f"{p}fh = uitofp i64 {p}h1 to double")
            self.emit(f"{p}fl = uitofp i64 {p}l to double")
            scale = rounded_float_literal(2.0 ** -32, "double")
            self.emit(f"{p}u1 = fmul double {p}fh, {scale}")
            self.emit(f"{p}u2 = fmul double {p}fl, {scale}")
            log = self.math.function("log", "double" if reg == "double" else "float")
            cos = self.math.function("cos", "double" if reg == "double" else "float")
            sqrt = self.math.intrinsic("llvm.sqrt", reg, [reg])
            if reg == "double":
                u1, u2 = f"{p}u1", f"{p}u2"
            else:
                self.emit(f"{p}u1f = fptrunc double {p}u1 to float")
                self.emit(f"{p}u2f = fptrunc double {p}u2 to float")
                u1, u2 = f"{p}u1f", f"{p}u2f"
            self.emit(f"{p}lg = call {reg} {log}({reg} {u1})")
            self.emit(f"{p}m2 = fmul {reg} {p}lg, {rounded_float_literal(-2.0, reg)}")
            self.emit(f"{p}r = call {reg} {sqrt}({reg} {p}m2)")
            two_pi = rounded_float_literal(6.283185307179586, reg)
            self.emit(f"{p}th = fmul {reg} {u2}, {two_pi}")
            self.emit(f"{p}cs = call {reg} {cos}({reg} {p}th)")
            self.emit(f"{p}n = fmul {reg} {p}r, {p}cs")
            out = f"{p}n"
        else:
            raise AssertionError(f"unknown random kind {e.kind}")
        if is_16bit_float(e.dtype):
            return self.round_half(out, e.dtype)
        return out

    def integer_pow_helper(self, ty: str) -> str:
        """An integer power by squaring (wraps like torch; negative exponents
        give 0 except for bases 1 and -1)."""
        name = f"@lazyt_ipow_{ty}"
        if name in self.helpers:
            return name
        self.helpers[name] = f"""
define internal {ty} {name}({ty} %base, {ty} %exp) alwaysinline nounwind {{
entry:
  %neg = icmp slt {ty} %exp, 0
  br i1 %neg, label %negative, label %loop
negative:
  %is1 = icmp eq {ty} %base, 1
  %ism1 = icmp eq {ty} %base, -1
  %odd = and {ty} %exp, 1
  %oddb = icmp ne {ty} %odd, 0
  %m1 = select i1 %oddb, {ty} -1, {ty} 1
  %r1 = select i1 %ism1, {ty} %m1, {ty} 0
  %r = select i1 %is1, {ty} 1, {ty} %r1
  ret {ty} %r
loop:
  %acc = phi {ty} [1, %entry], [%acc2, %body]
  %b = phi {ty} [%base, %entry], [%b2, %body]
  %e = phi {ty} [%exp, %entry], [%e2, %body]
  %done = icmp eq {ty} %e, 0
  br i1 %done, label %exit, label %body
body:
  %bit = and {ty} %e, 1
  %has = icmp ne {ty} %bit, 0
  %accm = mul {ty} %acc, %b
  %acc2 = select i1 %has, {ty} %accm, {ty} %acc
  %b2 = mul {ty} %b, %b
  %e2 = lshr {ty} %e, 1
  br label %loop
exit:
  ret {ty} %acc
}}"""
        return name

    # --- statements ----------------------------------------------------------
    def stmt(self, s: K.Stmt) -> None:
        if isinstance(s, K.Loop):
            self.render_loop(s)
        elif isinstance(s, K.Store):
            dtype = self.kern.buffers[s.buf].dtype
            value = self.expr(s.value)
            index = self.expr(s.index)
            stored = self.to_storage(value, dtype)
            n = self.counter = self.counter + 1
            if s.mask is not None:
                self.emit(f"br i1 {self.expr(s.mask)}, label %st{n}.do, label %st{n}.skip")
                self.label(f"st{n}.do")
            ptr = self.pointer(s.buf, index, dtype, writes=True)
            self.emit(f"store {storage_type(dtype)} {stored}, ptr {ptr}")
            if s.mask is not None:
                self.emit(f"br label %st{n}.skip")
                self.label(f"st{n}.skip")
        elif isinstance(s, K.AccInit):
            self.render_acc_init(s)
        elif isinstance(s, K.AccUpdate):
            self.render_acc_update(s)
        else:
            raise AssertionError(f"unknown kernel statement {s!r}")

    def render_loop(self, loop: K.Loop) -> None:
        n = self.counter = self.counter + 1
        slot = f"%iv{n}"
        self.allocas.append(f"{slot} = alloca i64")
        start = self.expr(loop.start)
        stop = self.expr(loop.stop)
        self.emit(f"store i64 {start}, ptr {slot}")
        self.emit(f"br label %L{n}.cond")
        self.label(f"L{n}.cond")
        var = f"%L{n}.i"
        self.emit(f"{var} = load i64, ptr {slot}")
        self.emit(f"%L{n}.c = icmp slt i64 {var}, {stop}")
        self.emit(f"br i1 %L{n}.c, label %L{n}.body, label %L{n}.end")
        self.label(f"L{n}.body")
        self.loop_vars[loop.var] = var
        self.scopes.append({})
        for s in loop.body:
            self.stmt(s)
        self.scopes.pop()
        self.emit(f"%L{n}.next = add nsw i64 {var}, 1")
        self.emit(f"store i64 %L{n}.next, ptr {slot}")
        self.emit(f"br label %L{n}.cond" + ("" if loop.unroll else self.no_unroll()))
        self.label(f"L{n}.end")

    def no_unroll(self) -> str:
        """The loop metadata that keeps LLVM from unrolling a loop (appended
        to its back edge); the metadata nodes go at the end of the module."""
        first = len(self.metadata)
        self.metadata += [f"!{first} = distinct !{{!{first}, !{first + 1}}}",
                          f'!{first + 1} = !{{!"llvm.loop.unroll.disable"}}']
        return f", !llvm.loop !{first}"

    def lane_slot(self, name: str, lane: K.Expr) -> str:
        """A pointer to one lane of a laned accumulator."""
        value_slot, _, dtype, _ = self.accs[name]
        lanes = self.lanes[name]
        ptr = self.fresh("lp")
        self.emit(f"{ptr} = getelementptr inbounds [{lanes} x {register_type(dtype)}], "
                  f"ptr {value_slot}, i64 0, i64 {self.expr(lane)}")
        return ptr

    def render_acc_init(self, s: K.AccInit) -> None:
        reg = register_type(s.dtype)
        vector = f"<{s.lanes} x {reg}>"
        if s.name not in self.accs:
            value_slot = f"%acc.{s.name}"
            index_slot = f"%acci.{s.name}" if s.op in ("argmax", "argmin") else None
            self.allocas.append(f"{value_slot} = alloca {reg if s.lanes == 1 else vector}")
            if s.lanes > 1:
                self.lanes[s.name] = s.lanes
            if index_slot:
                self.allocas.append(f"{index_slot} = alloca i64")
            self.accs[s.name] = (value_slot, index_slot, s.dtype, s.op)
        value_slot, index_slot, _, _ = self.accs[s.name]
        init = const_literal(K.reduction_identity(s.op, s.dtype), s.dtype)
        if s.lanes > 1:
            self.emit(f"store {vector} <{', '.join([f'{reg} {init}'] * s.lanes)}>, "
                      f"ptr {value_slot}")
            return
        self.emit(f"store {reg} {init}, ptr {value_slot}")
        if index_slot:
            self.emit(f"store i64 0, ptr {index_slot}")

    def render_acc_update(self, s: K.AccUpdate) -> None:
        value_slot, index_slot, dtype, op = self.accs[s.name]
        if s.lane is not None:
            value_slot = self.lane_slot(s.name, s.lane)
        reg = register_type(dtype)
        kind = dtype.kind
        value = self.expr(s.value)
        acc = self.fresh("a")
        self.emit(f"{acc} = load {reg}, ptr {value_slot}")
        new = self.fresh("a")
        if op in ("sum", "prod"):
            if kind == "f":
                inst = "fadd" if op == "sum" else "fmul"
                flags = "" if s.ordered else " reassoc"
                self.emit(f"{new} = {inst}{flags} {reg} {acc}, {value}")
            elif kind == "b":
                self.emit(f"{new} = or i1 {acc}, {value}")
            else:
                self.emit(f"{new} = {'add' if op == 'sum' else 'mul'} {reg} {acc}, {value}")
        elif op in ("max", "min"):
            template = llvm_template("maximum" if op == "max" else "minimum", kind)
            self.counter += 1
            self.emit_template(template, [acc, value], new, reg,
                               f"t{self.counter}.")
        elif op in ("any", "all"):
            self.emit(f"{new} = {'or' if op == 'any' else 'and'} i1 {acc}, {value}")
        elif op in ("argmax", "argmin"):
            position = self.expr(s.position)
            better = self.fresh("a")
            if kind == "f":
                pred = "ogt" if op == "argmax" else "olt"
                self.emit(f"{better}.cmp = fcmp {pred} {reg} {value}, {acc}")
                self.emit(f"{better}.vnan = fcmp uno {reg} {value}, {value}")
                self.emit(f"{better}.anan = fcmp uno {reg} {acc}, {acc}")
                self.emit(f"{better}.aok = xor i1 {better}.anan, true")
                self.emit(f"{better}.nan = and i1 {better}.vnan, {better}.aok")
                self.emit(f"{better} = or i1 {better}.cmp, {better}.nan")
            else:
                sign = "s" if kind == "i" else "u"
                pred = f"{sign}gt" if op == "argmax" else f"{sign}lt"
                self.emit(f"{better} = icmp {pred} {reg} {value}, {acc}")
            self.emit(f"{new} = select i1 {better}, {reg} {value}, {reg} {acc}")
            old_index = self.fresh("a")
            self.emit(f"{old_index} = load i64, ptr {index_slot}")
            new_index = self.fresh("a")
            self.emit(f"{new_index} = select i1 {better}, i64 {position}, i64 {old_index}")
            self.emit(f"store i64 {new_index}, ptr {index_slot}")
        else:
            raise AssertionError(f"unknown reduction {op}")
        if is_16bit_float(dtype):
            new = self.round_half(new, dtype)
        self.emit(f"store {reg} {new}, ptr {value_slot}")

    # --- the module ----------------------------------------------------------
    def render(self) -> str:
        kern = self.kern
        for slot in range(kern.n_params):
            self.params[slot] = f"%arg{slot}"
        for s in kern.body:
            self.stmt(s)
        nbuf = len(kern.buffers)
        body_params = [f"ptr {'noalias ' if b.noalias else ''}%b{i}"
                       for i, b in enumerate(kern.buffers)]
        if self.check_bounds:
            body_params += [f"i64 %nb{i}" for i in range(nbuf)] + ["ptr %chk"]
        body_params.append("ptr noalias readonly %args")
        header = [f"define internal void @{self.symbol}.body({', '.join(body_params)}) "
                  f"alwaysinline nounwind {{", "entry:"]
        header += ["  " + a for a in self.allocas]
        if self.check_bounds:
            header.append(f"  %chk.scratch = getelementptr i64, ptr %chk, i64 {SCRATCH_WORD}")
        for slot in range(kern.n_params):
            header.append(f"  %argp{slot} = getelementptr i64, ptr %args, i64 {slot}")
            header.append(f"  %arg{slot} = load i64, ptr %argp{slot}")
        header += ["  " + line for line in self.entry_lines]
        body = "\n".join(header + self.lines + ["  ret void", "}"])
        wrapper = [f"define void @{self.symbol}(ptr noalias readonly %bufs, "
                   f"ptr noalias readonly %args) nounwind {{", "entry:"]
        call_args = []
        for i in range(nbuf):
            wrapper.append(f"  %bp{i} = getelementptr ptr, ptr %bufs, i64 {i}")
            wrapper.append(f"  %b{i} = load ptr, ptr %bp{i}")
            call_args.append(f"ptr %b{i}")
        if self.check_bounds:
            # After the buffer pointers: each buffer's size in bytes, then the check block.
            for i in range(nbuf):
                wrapper.append(f"  %nbp{i} = getelementptr ptr, ptr %bufs, i64 {nbuf + i}")
                wrapper.append(f"  %nb{i} = load i64, ptr %nbp{i}")
                call_args.append(f"i64 %nb{i}")
            wrapper.append(f"  %chkp = getelementptr ptr, ptr %bufs, i64 {2 * nbuf}")
            wrapper.append("  %chk = load ptr, ptr %chkp")
            call_args.append("ptr %chk")
        call_args.append("ptr %args")
        wrapper.append(f"  call void @{self.symbol}.body({', '.join(call_args)})")
        wrapper += ["  ret void", "}"]
        parts = [body, "\n".join(wrapper), *self.helpers.values(), self.math.render(),
                 *self.metadata]
        return "\n\n".join(parts) + "\n"


def expr_dtype(e: K.Expr) -> DType:
    """The dtype of a kernel expression's value."""
    if isinstance(e, (K.Const, K.Scalar, K.Load, K.Alu, K.Cast, K.AccGet, K.Rand)):
        if isinstance(e, K.AccGet) and e.part == "index":
            return dtypes.int64
        return e.dtype
    if isinstance(e, K.Index) and e.op in ("lt", "ge", "and"):
        return dtypes.bool_
    return dtypes.int64


def render_llvm(kern: K.Kernel, symbol: str | None = None, check_bounds: bool = False) -> str:
    """The LLVM IR module (text) for one kernel, exporting `void @symbol(bufs, args)`
    (symbol defaults to the kernel's name). `check_bounds` (LAZYT_CHECK_BOUNDS=1,
    runtime/checked.py): every load and store is checked against its buffer's
    size; `bufs` then holds, after the n buffer pointers, the n buffer sizes in
    bytes and the check block."""
    return _Renderer(split_float32_sums(kern), symbol or kern.name, check_bounds).render()
