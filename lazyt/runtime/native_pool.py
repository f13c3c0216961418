"""A native thread pool for split kernel launches (runtime/launch.py).

A big kernel's outermost loop is split into chunks, one per thread. Handing
the chunks to Python threads costs a wake-up through a lock and the GIL
before a worker starts, and another before the caller learns it finished:
60-70 us per launch here, about 5% of a 64 MB row sum. Here the workers are
native threads (pthreads) running a small JIT-compiled loop: the caller
publishes the job in a few globals, bumps a generation word and wakes the
workers with a futex; each worker runs its chunk and counts down a pending
word; the caller runs chunk 0, then waits for the count to reach zero. The
whole job runs in one ctypes call, so the GIL is released throughout and no
Python code runs on the workers.

Waits spin briefly (a split launch often follows another) and then sleep
on the futex, so idle workers cost nothing. Every worker takes part in every
job (one past the last chunk does nothing): the caller returns only when all
have seen it, so a job is never changed under a worker still reading it.
Chunks are the same as with any other pool, so results are bit-identical.

Linux on x86-64 or aarch64 only (the futex system call); elsewhere
`available()` is False and launch.py keeps its Python thread pool (as it
does with LAZYT_NATIVE_POOL=0). A fork leaves the child without the
workers: `_forget_after_fork` starts a new set on the child's first split
launch. At exit the workers are stopped (they leave the JIT-compiled code)
before the engine that holds it goes away.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import sys
import threading

from lazyt.runtime.compiler import _Target, compile_llvm

# The futex system call's number, by machine (Linux).
_FUTEX_SYSCALL = {"x86_64": 202, "amd64": 202, "aarch64": 98, "arm64": 98}
_FUTEX_WAIT_PRIVATE, _FUTEX_WAKE_PRIVATE = 128, 129
_SPINS = 4000  # polls of a word before sleeping on it (tens of microseconds)

_NAME = "lazyt_pool_run"
_RUN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64)
_SPAWN = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_int64)
_NO_ARGS = ctypes.CFUNCTYPE(None)


def _machine() -> str:
    return os.uname().machine.lower() if hasattr(os, "uname") else ""


def available() -> bool:
    """Can this process use the native pool?"""
    return sys.platform.startswith("linux") and _machine() in _FUTEX_SYSCALL


def _source() -> str:
    """The pool's LLVM module: the job globals, the worker loop, run and spawn."""
    futex = _FUTEX_SYSCALL[_machine()]
    pause = "call void @llvm.x86.sse2.pause()" if _machine() in ("x86_64", "amd64") else ""
    pause_decl = "declare void @llvm.x86.sse2.pause()" if pause else ""
    return f"""
@job.fn = internal global ptr null
@job.bufs = internal global ptr null
@job.blocks = internal global ptr null
@job.chunks = internal global i64 0
@generation = internal global i32 0, align 4
@pending = internal global i32 0, align 4
@workers = internal global i32 0, align 4
@live = internal global i32 0, align 4
@quit = internal global i32 0, align 4

declare i64 @syscall(i64, ...)
declare i32 @pthread_create(ptr, ptr, ptr, ptr)
declare i32 @pthread_detach(i64)
{pause_decl}

; Return once *word != old: poll it, then sleep on it with FUTEX_WAIT.
define internal void @wait_change(ptr %word, i32 %old) {{
entry:
  br label %poll
poll:
  %n = phi i32 [0, %entry], [%n.next, %again], [0, %sleep]
  %value = load atomic i32, ptr %word acquire, align 4
  %same = icmp eq i32 %value, %old
  br i1 %same, label %count, label %done
count:
  %n.next = add i32 %n, 1
  %spin = icmp ult i32 %n.next, {_SPINS}
  br i1 %spin, label %again, label %sleep
again:
  {pause}
  br label %poll
sleep:
  %old.wide = zext i32 %old to i64
  %r = call i64 (i64, ...) @syscall(i64 {futex}, ptr %word, i64 {_FUTEX_WAIT_PRIVATE}, i64 %old.wide, ptr null)
  br label %poll
done:
  ret void
}}

; Return once *word == 0.
define internal void @wait_zero(ptr %word) {{
entry:
  br label %check
check:
  %value = load atomic i32, ptr %word acquire, align 4
  %zero = icmp eq i32 %value, 0
  br i1 %zero, label %done, label %wait
wait:
  call void @wait_change(ptr %word, i32 %value)
  br label %check
done:
  ret void
}}

define internal void @wake(ptr %word, i64 %count) {{
  %r = call i64 (i64, ...) @syscall(i64 {futex}, ptr %word, i64 {_FUTEX_WAKE_PRIVATE}, i64 %count)
  ret void
}}

; A worker: its id in the low 32 bits of %arg, the generation it starts from
; in the high ones. Runs chunk `id` of each job (if there is one), then counts
; the job done.
define internal ptr @worker(ptr %arg) {{
entry:
  %packed = ptrtoint ptr %arg to i64
  %id = and i64 %packed, 4294967295
  %start.wide = lshr i64 %packed, 32
  %start = trunc i64 %start.wide to i32
  br label %next
next:
  %seen = phi i32 [%start, %entry], [%current, %counted], [%current, %woke]
  call void @wait_change(ptr @generation, i32 %seen)
  %current = load atomic i32, ptr @generation acquire, align 4
  %quit = load i32, ptr @quit
  %stop = icmp ne i32 %quit, 0
  br i1 %stop, label %leave, label %job
leave:
  %alive = atomicrmw sub ptr @live, i32 1 acq_rel
  %gone = icmp eq i32 %alive, 1
  br i1 %gone, label %last.out, label %out
last.out:
  call void @wake(ptr @live, i64 1)
  br label %out
out:
  ret ptr null
job:
  %chunks = load i64, ptr @job.chunks
  %mine = icmp ult i64 %id, %chunks
  br i1 %mine, label %work, label %count
work:
  %fn = load ptr, ptr @job.fn
  %bufs = load ptr, ptr @job.bufs
  %blocks = load ptr, ptr @job.blocks
  %slot = getelementptr ptr, ptr %blocks, i64 %id
  %args = load ptr, ptr %slot
  call void %fn(ptr %bufs, ptr %args)
  br label %count
count:
  %left = atomicrmw sub ptr @pending, i32 1 acq_rel
  %last = icmp eq i32 %left, 1
  br i1 %last, label %woke, label %counted
woke:
  call void @wake(ptr @pending, i64 1)
  br label %next
counted:
  br label %next
}}

; Run fn(bufs, blocks[k]) for k < chunks: chunk 0 here, the others on the
; workers (chunks <= workers + 1).
define void @{_NAME}(ptr %fn, ptr %bufs, ptr %blocks, i64 %chunks) {{
entry:
  store ptr %fn, ptr @job.fn
  store ptr %bufs, ptr @job.bufs
  store ptr %blocks, ptr @job.blocks
  store i64 %chunks, ptr @job.chunks
  %workers = load i32, ptr @workers
  store atomic i32 %workers, ptr @pending release, align 4
  %g = atomicrmw add ptr @generation, i32 1 acq_rel
  call void @wake(ptr @generation, i64 2147483647)
  %first = load ptr, ptr %blocks
  call void %fn(ptr %bufs, ptr %first)
  call void @wait_zero(ptr @pending)
  ret void
}}

; Start worker `id` (between jobs); 0 when it started.
define i32 @lazyt_pool_spawn(i64 %id) {{
entry:
  %thread = alloca i64
  %g = load atomic i32, ptr @generation acquire, align 4
  %g.wide = zext i32 %g to i64
  %g.high = shl i64 %g.wide, 32
  %packed = or i64 %g.high, %id
  %arg = inttoptr i64 %packed to ptr
  %status = call i32 @pthread_create(ptr %thread, ptr null, ptr @worker, ptr %arg)
  %ok = icmp eq i32 %status, 0
  br i1 %ok, label %started, label %done
started:
  %handle = load i64, ptr %thread
  %d = call i32 @pthread_detach(i64 %handle)
  %n = load i32, ptr @workers
  %n.next = add i32 %n, 1
  store i32 %n.next, ptr @workers
  %l = atomicrmw add ptr @live, i32 1 acq_rel
  br label %done
done:
  ret i32 %status
}}

; After a fork: the child has no workers.
define void @lazyt_pool_reset() {{
  store i32 0, ptr @workers
  store i32 0, ptr @pending
  store i32 0, ptr @live
  ret void
}}

; At exit: every worker leaves its loop (and this module's code) before
; the engine that holds the code goes away.
define void @lazyt_pool_stop() {{
  store i32 1, ptr @quit
  %g = atomicrmw add ptr @generation, i32 1 acq_rel
  call void @wake(ptr @generation, i64 2147483647)
  call void @wait_zero(ptr @live)
  store i32 0, ptr @workers
  ret void
}}
"""


class _Pool:
    """The compiled pool (made on the first split launch) and its worker count."""

    def __init__(self):
        # (the kernel object must live as long as the process: its release
        # would take the pool's code out of the engine)
        self.module = compile_llvm(_source(), _NAME)
        engine = _Target.get()[1]
        self.run = _RUN(engine.get_function_address(_NAME))
        self.spawn = _SPAWN(engine.get_function_address("lazyt_pool_spawn"))
        self.reset = _NO_ARGS(engine.get_function_address("lazyt_pool_reset"))
        self.stop = _NO_ARGS(engine.get_function_address("lazyt_pool_stop"))
        self.workers = 0
        self.stopped = False
        self.lock = threading.Lock()  # one job at a time
        atexit.register(self.stop_workers)

    def stop_workers(self) -> None:
        """At exit: the workers leave the pool's code before the JIT engine
        holding it is torn down (later split launches use Python threads)."""
        if self.lock.acquire(timeout=10):
            self.stopped = True
            if self.workers:
                self.stop()
            self.workers = 0
            self.lock.release()

    def ensure_workers(self, count: int) -> bool:
        """At least `count` workers running (False: the system refused a thread)."""
        while self.workers < count:
            if self.spawn(self.workers + 1) != 0:
                return False
            self.workers += 1
        return True


_POOL: list = []


def _forget_after_fork() -> None:
    if _POOL:
        _POOL[0].reset()
        _POOL[0].workers = 0
        _POOL[0].lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)


def run_chunks(function_address: int, pointers, blocks, chunks: int) -> bool:
    """Run a kernel's chunks (`blocks`: a ctypes array of argument-block
    addresses) across the pool, the calling thread taking chunk 0. False
    when the pool is busy with another thread's job or cannot start its
    workers: the caller then runs the chunks itself."""
    if not _POOL:
        _POOL.append(_Pool())
    pool = _POOL[0]
    if not pool.lock.acquire(blocking=False):
        return False
    try:
        if pool.stopped:
            return False
        if not pool.ensure_workers(chunks - 1):
            return False
        pool.run(function_address, pointers, blocks, chunks)
        return True
    finally:
        pool.lock.release()
