"""The persistent compiled-kernel cache: object code on disk.

A kernel's machine code is stored under LAZYT_CACHE_DIR (default
~/.cache/lazyt), keyed by a hash of its LLVM IR source, the host CPU name
and features, and the lazyt and llvmlite versions; LAZYT_CACHE=0 turns it
off. Entries are written atomically (a temporary file, then rename), so
processes can share a directory; each entry carries a SHA-256 of its payload,
and a truncated or corrupt entry is ignored (and rewritten), never loaded.
"""

from __future__ import annotations

import hashlib
import os
import tempfile

import llvmlite
import llvmlite.binding as llvm

_MAGIC = b"LAZYTOBJ1\n"
LAZYT_VERSION = "0.1.0"


def enabled() -> bool:
    return os.environ.get("LAZYT_CACHE", "1") != "0"


def directory() -> str:
    return os.environ.get("LAZYT_CACHE_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "lazyt")


def key_for(source: str) -> str:
    h = hashlib.sha256()
    for part in (source, llvm.get_host_cpu_name(), llvm.get_host_cpu_features().flatten(),
                 LAZYT_VERSION, llvmlite.__version__):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


def _path(key: str) -> str:
    return os.path.join(directory(), key[:2], key + ".o")


def load(key: str) -> bytes | None:
    """The object code stored under key, or None if absent or not intact."""
    try:
        with open(_path(key), "rb") as f:
            blob = f.read()
    except OSError:
        return None
    header = len(_MAGIC) + 32
    if len(blob) < header or not blob.startswith(_MAGIC):
        return None
    digest, payload = blob[len(_MAGIC):header], blob[header:]
    if hashlib.sha256(payload).digest() != digest or not payload:
        return None
    return payload


def store(key: str, payload: bytes) -> None:
    """Write atomically; a failure to write only loses the cache entry."""
    path = _path(key)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            f.write(_MAGIC + hashlib.sha256(payload).digest() + payload)
        os.replace(tmp, path)
    except OSError:
        pass
