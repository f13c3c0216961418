"""@lt.compile: trace a function once per input signature, replay its kernels.

The first call with a new signature runs the function (deferred) to create
whatever state it makes on its first run (optimizer buffers, .grad); the
second runs it again in deferred mode while the executor records every launch (kernels with their buffers and run-time
arguments, and extern calls). That recording is the program: later calls
with the same signature bind the new inputs' buffers in place of the traced
ones and replay it, with no Python graph building, no scheduling and no
compiling. Buffers the trace allocated (intermediates, gradients, optimizer
state) are reused on every replay: the buffer plan is static.

What a replay does and does not do (the documented contract):
- Tensor arguments are guarded by shape, dtype and requires_grad; Python
  scalars and other arguments by value. The program reads tensor arguments
  from buffers of its own: each call copies them in (any layout works), so
  in-place writes a compiled function makes to its arguments, and gradients
  for arguments that require grad, stay inside the program. A new
  signature retraces; `verbose=True` or LAZYT_DEBUG>=1 says why, and more
  than `recompile_limit` traces raise an error naming the reasons.
- Python side effects in the function (prints, appends, `p.grad = None`)
  happen only in the first two calls (the warm-up and the traced one). Tensors the function updates in place (module
  parameters, optimizer state, `.grad`) are updated by every replay.
- Reading a tensor's value while tracing (`.item()`, `bool(t)`, `if t > 0:`,
  `.numpy()`, `.tolist()`, printing) raises an error pointing at your line:
  a replay cannot take a different Python path. Return the tensor instead.
- Random ops draw fresh numbers on every replay: the random stream's offset
  is an input of the program, advanced like an eager call would.
- Outputs are fresh tensors each call, never the program's own buffers.
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys
import traceback
from dataclasses import dataclass

import numpy as np

from lazyt import executor, linalg, modes
from lazyt.creation import default_generator
from lazyt.ir.view import View
from lazyt.runtime import stats
from lazyt.runtime.blas_threads import use_threads_for
from lazyt.runtime.launch import ERROR_SENTINEL, PARALLEL_MIN_WORK, launch, raise_bounds_error
from lazyt.runtime.storage import Storage
from lazyt.tensor import Tensor


class CompileError(RuntimeError):
    """Raised for what lt.compile cannot trace (value reads) or too many retraces."""


def _user_frame() -> str:
    """'file:line' of the innermost frame outside the lazyt package."""
    package = os.path.dirname(os.path.abspath(__file__))
    for frame in reversed(traceback.extract_stack()[:-1]):
        if not os.path.abspath(frame.filename).startswith(package):
            return f"{frame.filename}:{frame.lineno} ({frame.line})"
    return "<unknown>"


def check_value_read(what: str) -> None:
    """Called by every operation that reads tensor values into Python."""
    if modes.TRACING:
        raise CompileError(
            f"lt.compile: cannot read a tensor's value ({what}) while tracing, at "
            f"{_user_frame()}. A compiled function replays the same kernels on every call, "
            "so it cannot branch on data. Return the tensor and read it outside, or call "
            "the function without lt.compile.")


def _describe(value) -> tuple:
    if isinstance(value, Tensor):
        return ("tensor", tuple(value.shape), value.dtype.name, value.requires_grad)
    if isinstance(value, (int, float, bool, str, type(None))):
        return ("value", type(value).__name__, value)
    if isinstance(value, (tuple, list)):
        return ("seq", type(value).__name__, tuple(_describe(v) for v in value))
    return ("object", type(value).__name__, id(value))


def _flat_tensors(value, out: list) -> list:
    if isinstance(value, Tensor):
        out.append(value)
    elif isinstance(value, (tuple, list)):
        for v in value:
            _flat_tensors(v, out)
    elif isinstance(value, dict):
        for v in value.values():
            _flat_tensors(v, out)
    return out


def _explain(old: tuple, new: tuple) -> str:
    """A readable reason why `new` does not match the signature `old`."""
    for i, (a, b) in enumerate(zip(old, new)):
        if a != b:
            if a[0] == b[0] == "tensor":
                names = ("shape", "dtype", "requires_grad")
                for name, x, y in zip(names, a[1:], b[1:]):
                    if x != y:
                        return f"input {i} {name} {x} -> {y}"
            return f"input {i} {a[1:]} -> {b[1:]}"
    return f"number of inputs {len(old)} -> {len(new)}"


@dataclass
class Program:
    """A traced call: its launches, where the inputs sit, and its outputs."""

    steps: list
    staged_inputs: list  # the program's own copies of the tensor inputs it was traced with
    output_structure: object  # the function's return value, tensors replaced by slots
    output_tensors: list  # traced output tensors (their buffers hold the results)
    random_draws: int  # how far the trace advanced the default random stream
    trace_offset: int  # the stream offset when tracing began
    _fast: list | None = None
    _fast_launches: int = 0  # kernels the prepared steps launch (counted per replay)
    _fast_matmuls: int = 0

    def replay(self, inputs: list):
        for staged, new in zip(self.staged_inputs, inputs):
            if not _copy_bytes(staged, new):
                from lazyt.autograd import no_grad

                with no_grad():
                    staged.copy_(new)
        shift = default_generator._offset - self.trace_offset
        prepared = self._prepared()
        for step, fast in zip(self.steps, prepared):
            if fast is not None and fast[0] == "matmul":
                use_threads_for(fast[4])
                np.matmul(fast[2], fast[3], out=fast[1])
            elif fast is not None:
                function, bufs, args, rng_slots, params, errors = fast
                for slot in rng_slots:
                    args[slot] = params[slot] + shift
                if errors is not None:
                    errors[0] = ERROR_SENTINEL
                function(bufs, args)
                if errors is not None and errors[0] != ERROR_SENTINEL:
                    raise_bounds_error(errors)
            elif step[0] == "kernel":
                _, compiled, buffers, params, outer, parallel, work, rng_slots, _ = step
                if rng_slots and shift:
                    params = list(params)
                    for slot in rng_slots:
                        params[slot] += shift
                launch(compiled.function, buffers, params, outer, parallel, work)
            else:
                _, out_buf, out_view, sources = step
                arrays = [linalg._array_view(b.storage, v) for b, v in sources]
                linalg.run_extern_matmul(out_buf.storage, out_view, *arrays)
        stats.bump("kernel_launches", self._fast_launches)
        stats.bump("extern_calls", self._fast_matmuls)
        default_generator._offset += self.random_draws
        return _fresh_outputs(self.output_structure, self.output_tensors)

    def _prepared(self) -> list:
        """Per step, the ctypes argument blocks built once (None where a step
        needs the general path: a bounds-checked kernel, a threaded one, an
        extern). Replays then only patch input addresses and random offsets."""
        if self._fast is None:
            self._fast = []
            for step in self.steps:
                if step[0] == "matmul":
                    _, out_buf, out_view, sources = step
                    arrays = [linalg._array_view(b.storage, v) for b, v in sources]
                    out = linalg._array_view(out_buf.storage, out_view)
                    multiply_adds = out.size * (arrays[0].shape[-1] if arrays[0].ndim else 1)
                    self._fast.append(("matmul", out, *arrays, multiply_adds))
                    continue
                if step[5] and step[6] >= PARALLEL_MIN_WORK:
                    self._fast.append(None)  # threaded: the general launch splits it
                    continue
                _, compiled, buffers, params, outer, parallel, work, rng_slots, _ = step
                # A bounds-checked kernel gets an error block of its own, kept.
                errors = np.zeros(4, dtype=np.int64) if None in buffers else None
                bufs = (ctypes.c_void_p * max(len(buffers), 1))(
                    *[errors.ctypes.data if b is None else b.storage.address for b in buffers])
                args = (ctypes.c_int64 * len(params))(*params)
                self._fast.append((compiled.function, bufs, args, rng_slots, list(params),
                                   errors))
            self._fast_matmuls = sum(1 for f in self._fast if f is not None and f[0] == "matmul")
            self._fast_launches = sum(1 for f in self._fast if f is not None) - self._fast_matmuls
        return self._fast


def _substitute(value, staged: dict):
    """value with each tensor replaced by its staged copy."""
    if isinstance(value, Tensor):
        return staged.get(id(value), value)
    if isinstance(value, (tuple, list)):
        return type(value)(_substitute(v, staged) for v in value)
    if isinstance(value, dict):
        return {k: _substitute(v, staged) for k, v in value.items()}
    return value


def _structure(value, tensors: list):
    """The return value with each tensor replaced by its index in `tensors`."""
    if isinstance(value, Tensor):
        tensors.append(value)
        return ("tensor", len(tensors) - 1)
    if isinstance(value, (tuple, list)):
        items = [_structure(v, tensors) for v in value]
        return (type(value), items)
    if isinstance(value, dict):
        return (dict, {k: _structure(v, tensors) for k, v in value.items()})
    return ("value", value)


def _copy_bytes(dst: Tensor, src: Tensor) -> bool:
    """dst[...] = src as a byte copy, when both are dense and alike (the
    common case of staging a batch); False when an elementwise copy is needed."""
    if src._node is not None or src._st.writer is not None or src.dtype is not dst.dtype \
            or src._st.device is not dst._st.device or not src._vw.is_contiguous() \
            or not dst._vw.is_contiguous() or src.shape != dst.shape:
        return False
    size = src.dtype.itemsize
    ctypes.memmove(dst._st.address + dst._vw.offset * size,
                   src._st.address + src._vw.offset * size, src.numel() * size)
    dst._st.version += 1
    return True


def _fresh_output(t: Tensor) -> Tensor:
    out = Tensor._make(Storage.allocate(t.dtype, t.numel(), t._st.device),
                       View.contiguous(tuple(t.shape)))
    if not _copy_bytes(out, t):
        return t.detach().clone()
    return out


def _fresh_outputs(structure, tensors: list):
    kind, payload = structure
    if kind == "tensor":
        return _fresh_output(tensors[payload])
    if kind == "value":
        return payload
    if kind is dict:
        return {k: _fresh_outputs(v, tensors) for k, v in payload.items()}
    return kind(_fresh_outputs(v, tensors) for v in payload)


class CompiledFunction:
    """What lt.compile returns: call it like the function it wraps.

    `programs` maps each input signature to its Program (None after the
    warm-up call); lt.debug.kernels(compiled) lists the replayed kernels."""

    def __init__(self, fn, *, verbose: bool = False, recompile_limit: int = 8):
        self.fn = fn
        self.verbose = verbose
        self.recompile_limit = recompile_limit
        self.programs: dict = {}
        self.reasons: list[str] = []
        functools.update_wrapper(self, fn)

    def __call__(self, *args, **kwargs):
        signature = tuple(_describe(a) for a in args) + tuple(
            ("kw", k, _describe(v)) for k, v in sorted(kwargs.items()))
        inputs = _flat_tensors(list(args) + list(kwargs.values()), [])
        if signature not in self.programs:
            # First call: run it (deferred) without recording. It creates the
            # state a training step makes on its first run (optimizer
            # buffers, .grad), so the recorded call is a steady-state one.
            self._note_retrace(signature)
            modes.TRACING.append(self.fn)
            try:
                with modes.deferred():
                    result = self.fn(*args, **kwargs)
                    outputs: list = []
                    structure = _structure(result, outputs)
                    modes.realize(*outputs, *modes.pending_tensors())
            finally:
                modes.TRACING.pop()
            self.programs[signature] = None
            return _fresh_outputs(structure, outputs)
        program = self.programs[signature]
        if program is None:
            program, result = self._trace(args, kwargs, inputs)
            self.programs[signature] = program
            return result
        return program.replay(inputs)

    def kernels(self) -> list[tuple[str, str]]:
        """(name, LLVM IR) of every launch in the traced programs, in order."""
        out = []
        for program in self.programs.values():
            for step in program.steps if program is not None else ():
                if step[0] == "kernel":
                    out.append((step[1].name, step[1].source))
                else:
                    out.append(("extern matmul", "(BLAS call, no generated code)"))
        return out

    def _note_retrace(self, signature) -> None:
        if self.programs:
            previous = next(reversed(self.programs))
            reason = _explain(previous, signature)
            self.reasons.append(reason)
            if self.verbose or executor.debug_level() >= 1:
                print(f"[lazyt] lt.compile: retracing {self.fn.__name__}: {reason}",
                      file=sys.stderr)
            if len(self.programs) >= self.recompile_limit:
                raise CompileError(
                    f"lt.compile: {self.fn.__name__} was traced {len(self.programs)} times "
                    f"(recompile_limit={self.recompile_limit}); reasons: "
                    f"{'; '.join(self.reasons)}. Pad inputs to fixed shapes, or raise the "
                    "limit with lt.compile(fn, recompile_limit=...).")

    def _trace(self, args, kwargs, inputs):
        # The program reads its inputs from buffers of its own (any layout the
        # caller passes later is copied in), so a replay needs no rebinding.
        staged = {}
        for t in inputs:
            copy = t.detach().clone().realize()
            staged[id(t)] = copy.requires_grad_(t.requires_grad) if t.is_floating_point() \
                else copy
        args = _substitute(args, staged)
        kwargs = {k: _substitute(v, staged) for k, v in kwargs.items()}
        start_offset = default_generator._offset
        executor.RECORDING.append([])
        modes.TRACING.append(self.fn)
        previous_mode = modes.get_mode()
        modes.set_mode("deferred")
        try:
            result = self.fn(*args, **kwargs)
            outputs: list = []
            structure = _structure(result, outputs)
            # Everything the call left pending (outputs, gradients) is computed now,
            # so the recording holds the whole program.
            modes.realize(*outputs, *modes.pending_tensors())
        finally:
            modes.set_mode(previous_mode)
            modes.TRACING.pop()
            steps = executor.RECORDING.pop()
        program = Program(steps, [staged[id(t)] for t in inputs], structure, outputs,
                          default_generator._offset - start_offset, start_offset)
        return program, _fresh_outputs(structure, outputs)


def compile(fn=None, *, verbose: bool = False, recompile_limit: int = 8, **_ignored):
    """@lt.compile / lt.compile(fn) / lt.compile(module): trace once per input
    signature and replay the recorded kernels (see this module's docstring)."""
    if fn is None:
        return lambda f: compile(f, verbose=verbose, recompile_limit=recompile_limit)
    if hasattr(fn, "forward") and hasattr(fn, "parameters"):
        return CompiledFunction(fn.__call__, verbose=verbose, recompile_limit=recompile_limit)
    return CompiledFunction(fn, verbose=verbose, recompile_limit=recompile_limit)


jit = compile
