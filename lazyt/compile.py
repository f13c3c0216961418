"""@lt.compile: trace a function once per input signature, replay its kernels.

The first call with a new signature runs the function (deferred) to create
whatever state it makes on its first run (optimizer buffers, .grad); the
second runs it again in deferred mode while the engine records every launch
(engine/program.py: kernels with their buffers and run-time arguments, and
extern calls). That recording is the program: later calls
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

import functools
import sys
import warnings
from dataclasses import dataclass

from lazyt import modes
from lazyt.autograd.grad_mode import no_grad
from lazyt.engine import program_store
from lazyt.engine.program import ExternLaunch, Program, recording
from lazyt.engine.realize import backend_for, recording_backend
from lazyt.engine.trace import RECORD, REPLAY, TraceCache
from lazyt.ir.view import View
from lazyt.modes import CompileError, check_value_read  # noqa: F401 - lt.compile's names
from lazyt.random import default_generator
from lazyt.realization import realize_tensors
from lazyt.runtime.compiler import debug_level
from lazyt.runtime.storage import Storage
from lazyt.tensor import Tensor


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
class TracedCall:
    """A traced call: its Program (every buffer static: the staged inputs,
    intermediates, parameters and optimizer state it ran on), where the
    inputs are staged, and its outputs."""

    program: Program
    staged_inputs: list  # the program's own copies of the tensor inputs it was traced with
    output_structure: object  # the function's return value, tensors replaced by slots
    output_tensors: list  # traced output tensors (their buffers hold the results)
    random_draws: int  # how far the trace advanced the default random stream
    trace_offset: int  # the stream offset when tracing began

    def replay(self, inputs: list):
        for staged, new in zip(self.staged_inputs, inputs):
            if not _copy_bytes(staged, new):
                with no_grad():
                    staged.copy_(new)
        self.program.run([], default_generator._offset - self.trace_offset)
        default_generator._offset += self.random_draws
        return _fresh_outputs(self.output_structure, self.output_tensors)


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
    common case of staging a batch); False when an elementwise copy is needed.
    (Every call of a compiled step stages its inputs: read each field once.)"""
    src_st, dst_st = src._st, dst._st
    if src._node is not None or src_st.writer is not None or src_st.dtype is not dst_st.dtype \
            or src_st.device is not dst_st.device:
        return False
    src_vw, dst_vw = src._vw, dst._vw
    if src_vw.shape != dst_vw.shape or not src_vw.is_contiguous() or \
            not dst_vw.is_contiguous():
        return False
    size = src_st.dtype.itemsize
    backend_for(dst_st.device).copy_bytes(dst_st, dst_vw.offset * size, src_st,
                                          src_vw.offset * size, src_vw.numel * size)
    dst_st.version += 1
    return True


def _fresh_output(t: Tensor) -> Tensor:
    st, shape = t._st, t._vw.shape
    out = Tensor._make(Storage.allocate(st.dtype, t._vw.numel, st.device),
                       View.contiguous(shape))
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

    `traces` is its TraceCache (engine/trace.py): per input signature, the
    first call runs, the second records a TracedCall, later calls replay it;
    lt.debug.kernels(compiled) lists the replayed kernels."""

    def __init__(self, fn, *, verbose: bool = False, recompile_limit: int = 8):
        self.fn = fn
        self.verbose = verbose
        self.recompile_limit = recompile_limit
        self.traces = TraceCache(recompile_limit, explain=self._retrace_reason,
                                 on_full=self._too_many_traces)
        functools.update_wrapper(self, fn)

    @property
    def reasons(self) -> list[str]:
        """Why each signature after the first was traced."""
        return self.traces.reasons

    @property
    def programs(self) -> dict:
        """Each input signature seen -> its TracedCall (None before it is
        recorded)."""
        return {signature: variants.get(None) if isinstance(variants.get(None), TracedCall)
                else None for signature, variants in self.traces.entries.items()}

    def __call__(self, *args, **kwargs):
        signature = tuple(_describe(a) for a in args) + tuple(
            ("kw", k, _describe(v)) for k, v in sorted(kwargs.items()))
        inputs = _flat_tensors(list(args) + list(kwargs.values()), [])
        action, traced = self.traces.lookup(signature)
        if action == REPLAY:
            return traced.replay(inputs)
        if action == RECORD:
            traced, result = self._trace(args, kwargs, inputs)
            self.traces.store(signature, None, traced)
            return result
        # First call: run it (deferred) without recording. It creates the
        # state a training step makes on its first run (optimizer buffers,
        # .grad), so the recorded call is a steady-state one.
        modes.TRACING.append(self.fn)
        try:
            with modes.deferred(), program_store.persistent():
                result = self.fn(*args, **kwargs)
                outputs: list = []
                structure = _structure(result, outputs)
                realize_tensors([*outputs, *modes.pending_tensors()])
        finally:
            modes.TRACING.pop()
        return _fresh_outputs(structure, outputs)

    def kernels(self) -> list[tuple[str, str]]:
        """(name, LLVM IR) of every launch in the traced programs, in order.
        Before the first trace there are none, and a warning says why."""
        traced_programs = list(self.traces.programs())
        if not traced_programs:
            calls = "has not been called" if not self.traces.entries else \
                "has been called once per signature"
            warnings.warn(
                f"lt.debug.kernels: {self.fn.__name__} is not traced yet ({calls}): lt.compile "
                "traces on the second call with a signature (the first call runs it to create "
                "its state); call it again, then ask for its kernels.", stacklevel=3)
        out = []
        for traced in traced_programs:
            for launch in traced.program.launches:
                if isinstance(launch, ExternLaunch):
                    out.append((f"extern {launch.op}", "(BLAS call, no generated code)"))
                else:
                    out.append((launch.kernel.name, launch.kernel.source))
        return out

    def _retrace_reason(self, previous, signature) -> str:
        reason = _explain(previous, signature)
        if self.verbose or debug_level() >= 1:
            print(f"[lazyt] lt.compile: retracing {self.fn.__name__}: {reason}",
                  file=sys.stderr)
        return reason

    def _too_many_traces(self, traces: TraceCache) -> None:
        raise CompileError(
            f"lt.compile: {self.fn.__name__} was traced {len(traces)} times "
            f"(recompile_limit={self.recompile_limit}); reasons: "
            f"{'; '.join(traces.reasons)}. Pad inputs to fixed shapes, or raise the "
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
        modes.TRACING.append(self.fn)
        previous_mode = modes.get_mode()
        modes.set_mode("deferred")
        try:
            with recording() as entries, program_store.persistent():
                result = self.fn(*args, **kwargs)
                outputs: list = []
                structure = _structure(result, outputs)
                # Everything the call left pending (outputs, gradients) is
                # computed now, so the recording holds the whole program.
                realize_tensors([*outputs, *modes.pending_tensors()])
        finally:
            modes.set_mode(previous_mode)
            modes.TRACING.pop()
        backend = recording_backend(entries)
        if backend is None:
            raise RuntimeError("lt.compile: the traced function computes on two devices; "
                               "a compiled step must run on one device")
        program = Program.from_recording(backend, entries, [], keep=True)
        traced = TracedCall(program, [staged[id(t)] for t in inputs], structure, outputs,
                            default_generator._offset - start_offset, start_offset)
        return traced, _fresh_outputs(structure, outputs)


def compile(fn=None, *, verbose: bool = False, recompile_limit: int = 8, **_ignored):
    """@lt.compile / lt.compile(fn) / lt.compile(module): trace once per input
    signature and replay the recorded kernels (see this module's docstring)."""
    if fn is None:
        return lambda f: compile(f, verbose=verbose, recompile_limit=recompile_limit)
    if hasattr(fn, "forward") and hasattr(fn, "parameters"):
        return CompiledFunction(fn.__call__, verbose=verbose, recompile_limit=recompile_limit)
    return CompiledFunction(fn, verbose=verbose, recompile_limit=recompile_limit)


jit = compile
