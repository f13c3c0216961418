"""The persistent cache: kernels' object code and recorded Programs, on disk.

Entries live under LAZYT_CACHE_DIR (default ~/.cache/lazyt); LAZYT_CACHE=0
turns the cache off. Two kinds share the directory:

- ".o": a kernel's machine code, keyed by a hash of its LLVM IR source, the
  host CPU name and features, and the lazyt and llvmlite versions
  (runtime/compiler.py).
- ".prog": a recorded Program (engine/program_store.py), keyed by a graph's
  signature, the same host and versions, and a fingerprint of lazyt's own
  source files (a scheduler that changed must not replay old decisions).

Entries are written atomically (a temporary file, then rename), so
processes can share a directory; each entry carries a SHA-256 of its payload,
and a truncated or corrupt entry is ignored (and rewritten), never loaded.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import queue
import tempfile
import threading

_MAGIC = b"LAZYTOBJ1\n"
LAZYT_VERSION = "0.1.0"
_HOST: list[bytes] = []  # the host CPU and versions, encoded once per process


def enabled() -> bool:
    return os.environ.get("LAZYT_CACHE", "1") != "0"


def directory() -> str:
    return os.environ.get("LAZYT_CACHE_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "lazyt")


def host_fingerprint() -> bytes:
    """What a cached entry is only valid for: this CPU (name and features)
    and these lazyt and llvmlite versions."""
    if not _HOST:
        import llvmlite  # (loads with the first kernel compiled, not with lazyt)
        import llvmlite.binding as llvm

        parts = (llvm.get_host_cpu_name(), llvm.get_host_cpu_features().flatten(),
                 LAZYT_VERSION, llvmlite.__version__)
        _HOST.append(b"".join(part.encode() + b"\0" for part in parts))
    return _HOST[0]


def key_for(source: str) -> str:
    h = hashlib.sha256(source.encode())
    h.update(b"\0")
    h.update(host_fingerprint())
    return h.hexdigest()


def _path(key: str, suffix: str) -> str:
    return os.path.join(directory(), key[:2], key + suffix)


def load(key: str, suffix: str = ".o", on_broken=None) -> bytes | None:
    """The payload stored under key, or None if absent or not intact (then
    `on_broken(reason)` is called, when given)."""
    try:
        with open(_path(key, suffix), "rb") as f:
            blob = f.read()
    except OSError:
        return None
    header = len(_MAGIC) + 32
    if len(blob) < header or not blob.startswith(_MAGIC):
        if on_broken is not None:
            on_broken("truncated or not a lazyt cache entry")
        return None
    digest, payload = blob[len(_MAGIC):header], blob[header:]
    if hashlib.sha256(payload).digest() != digest or not payload:
        if on_broken is not None:
            on_broken("checksum mismatch")
        return None
    return payload


def store(key: str, payload: bytes, suffix: str = ".o") -> None:
    """Write atomically; a failure to write only loses the cache entry."""
    path = _path(key, suffix)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            f.write(_MAGIC + hashlib.sha256(payload).digest() + payload)
        os.replace(tmp, path)
    except OSError:
        pass


_PENDING: queue.Queue = queue.Queue()
_WRITER: list[threading.Thread] = []
_PENDING_KEYS: set[str] = set()


def store_later(key: str, payload: bytes, suffix: str) -> None:
    """store() on a background thread: writing a file costs the caller about
    a millisecond (a traced CNN step writes a dozen programs). Entries still
    pending when the process exits are written first (atexit)."""
    _PENDING_KEYS.add(key)
    _PENDING.put((key, payload, suffix))
    if not _WRITER:
        writer = threading.Thread(target=_write_pending, name="lazyt-cache-writer",
                                  daemon=True)
        _WRITER.append(writer)
        writer.start()
        atexit.register(flush)


def _write_pending() -> None:
    while True:
        key, payload, suffix = _PENDING.get()
        try:
            store(key, payload, suffix)
        finally:
            _PENDING_KEYS.discard(key)
            _PENDING.task_done()


def _forget_writer_after_fork() -> None:
    """A forked child has no writer thread (and its parent's queue is not its
    own): it starts afresh, so its exit does not wait on a queue nobody reads."""
    global _PENDING
    _PENDING = queue.Queue()
    _WRITER.clear()
    _PENDING_KEYS.clear()


os.register_at_fork(after_in_child=_forget_writer_after_fork)


def flush(key: str | None = None) -> None:
    """Wait until every store_later entry (or only: until `key`'s) is on disk."""
    if _WRITER and (key is None or key in _PENDING_KEYS):
        _PENDING.join()
