"""lt.save / lt.load: tensors, state dicts and plain containers in a documented,
code-free file format. (Tensor's pickle/deepcopy hook is in conversions.py.)

The format (version 1) is a zip archive (entries stored uncompressed):

    lazyt_archive/format        the text "lazyt-archive 1"
    lazyt_archive/data.json     the object tree (below), UTF-8 JSON
    lazyt_archive/storages/N    the raw bytes of storage N: the flat buffer of
                                one Storage, little-endian, dtype as recorded

The JSON tree encodes None, bools, ints and strings as themselves; every
other value is an object with one tag key:
    {"float": "1.5"} (repr, so nan/inf survive), {"list": [...]},
    {"tuple": [...]}, {"dict": [[key, value], ...]} (keys are encoded values),
    {"odict": [...]}, {"counter": [...]}, {"set": [...]}, {"bytes": "<base64>"},
    {"dtype": "float32"}, {"device": "cuda:0"}, {"size": [2, 3]},
    {"tensor": T} or {"parameter": T} with
    T = {"storage": N, "dtype": name, "shape": [...], "stride": [...],
         "offset": k, "requires_grad": bool, "device": "cpu"}.
Tensors that share a Storage (views) share it again after loading. CUDA
tensors are saved from a host copy and restored onto their device (or onto
map_location).

Any other object (a whole nn.Module, an optimizer, a user's class) is stored
as {"pickle": "<base64>"}: Python's pickle of it. As in PyTorch since 2.6,
loading such an entry needs `weights_only=False` (it runs code named by the
file: do it only for files you trust); by default lt.load raises PyTorch's
"Weights only load failed" UnpicklingError. Everything else loads without
running code from the file: the JSON is decoded into the types listed above
only, dtypes come from a fixed table, every view is checked to lie inside its
storage, and a truncated or foreign file raises RuntimeError naming the problem.
"""

from __future__ import annotations

import base64
import io
import json
import os
import pickle
import zipfile
from collections import Counter, OrderedDict
from typing import Any

import numpy as np

from lazyt import dtypes
from lazyt.conversions import rebuild_tensor
from lazyt.ir.view import View
from lazyt.nn.parameter import Parameter
from lazyt.runtime.device import CPU, device
from lazyt.runtime.storage import Storage
from lazyt.tensor import Size, Tensor

FORMAT_NAME = "lazyt-archive"
FORMAT_VERSION = 1
_PREFIX = "lazyt_archive/"
_DTYPES = {d.name: d for d in dtypes.ALL_DTYPES}


class _Writer:
    """Encodes an object tree to JSON-able data, collecting storages."""

    def __init__(self, pickle_module=None, pickle_protocol: int = 2) -> None:
        self.pickle_module = pickle if pickle_module is None else pickle_module
        self.pickle_protocol = pickle_protocol
        self.storages: list[np.ndarray] = []
        self.storage_ids: dict[int, int] = {}
        self.keepalive: list = []  # storages stay alive so ids are not reused

    def storage_index(self, t: Tensor) -> tuple[int, View]:
        if t.device.type != "cpu":
            host = t.detach().cpu().contiguous()
            self.storages.append(host._storage.array)
            return len(self.storages) - 1, host._view
        storage = t._storage
        key = id(storage)
        if key not in self.storage_ids:
            self.storage_ids[key] = len(self.storages)
            self.storages.append(storage.array)
            self.keepalive.append(storage)
        return self.storage_ids[key], t._view

    def encode(self, obj: Any) -> Any:
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int) and not isinstance(obj, bool):
            return int(obj)
        if isinstance(obj, float):
            return {"float": repr(float(obj))}
        if isinstance(obj, Tensor):
            return self.encode_tensor(obj)
        if isinstance(obj, dtypes.DType):
            return {"dtype": obj.name}
        if isinstance(obj, device):
            return {"device": str(obj)}
        if isinstance(obj, Size):
            return {"size": [int(s) for s in obj]}
        if isinstance(obj, (bytes, bytearray)):
            return {"bytes": base64.b64encode(bytes(obj)).decode("ascii")}
        if isinstance(obj, np.integer):
            return int(obj)
        if isinstance(obj, np.floating):
            return {"float": repr(float(obj))}
        if isinstance(obj, Counter):
            return {"counter": [[self.encode(k), self.encode(v)] for k, v in obj.items()]}
        if isinstance(obj, OrderedDict):
            return {"odict": [[self.encode(k), self.encode(v)] for k, v in obj.items()]}
        if isinstance(obj, dict):
            return {"dict": [[self.encode(k), self.encode(v)] for k, v in obj.items()]}
        if isinstance(obj, tuple) and not hasattr(obj, "_fields"):
            return {"tuple": [self.encode(v) for v in obj]}
        if isinstance(obj, list):
            return {"list": [self.encode(v) for v in obj]}
        if isinstance(obj, (set, frozenset)):
            return {"set": [self.encode(v) for v in obj]}
        # A whole module, optimizer or user object: pickled (loads only with
        # weights_only=False, as in PyTorch).
        data = self.pickle_module.dumps(obj, protocol=max(2, self.pickle_protocol))
        return {"pickle": base64.b64encode(data).decode("ascii")}

    def encode_tensor(self, t: Tensor) -> dict:
        index, view = self.storage_index(t)
        tag = "parameter" if type(t).__name__ == "Parameter" else "tensor"
        return {tag: {"storage": index, "dtype": t.dtype.name, "shape": list(view.shape),
                      "stride": list(view.strides), "offset": view.offset,
                      "requires_grad": bool(t.requires_grad), "device": str(t.device)}}


def _open_for_write(f):
    if isinstance(f, (str, os.PathLike)):
        return open(f, "wb"), True
    if not hasattr(f, "write"):
        raise AttributeError(f"lazyt.save expects a path or a writable file object, got "
                             f"{type(f).__name__}")
    return f, False


def save(obj: Any, f, pickle_module=None, pickle_protocol: int = 2,
         _use_new_zipfile_serialization: bool = True) -> None:
    """Save obj (tensors, state dicts, containers of them; other objects pickled) to a
    path or file."""
    writer = _Writer(pickle_module, pickle_protocol)
    tree = writer.encode(obj)
    stream, owned = _open_for_write(f)
    try:
        with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_STORED) as archive:
            archive.writestr(_PREFIX + "format", f"{FORMAT_NAME} {FORMAT_VERSION}")
            archive.writestr(_PREFIX + "data.json", json.dumps({"root": tree}))
            for i, array in enumerate(writer.storages):
                data = np.ascontiguousarray(array)
                if data.dtype.byteorder == ">":
                    data = data.byteswap().view(data.dtype.newbyteorder("<"))
                archive.writestr(f"{_PREFIX}storages/{i}", data.tobytes())
    finally:
        if owned:
            stream.close()


# ------------------------------------------------------------------- loading
class _Reader:
    """Decodes the JSON tree, building tensors over the archive's storages."""

    def __init__(self, archive: zipfile.ZipFile, source: str, map_location,
                 weights_only: bool, pickle_module=None) -> None:
        self.weights_only = weights_only
        self.pickle_module = pickle if pickle_module is None else pickle_module
        self.archive = archive
        self.source = source
        self.map_location = map_location
        self.storages: dict[tuple[int, str], Storage] = {}

    def fail(self, what: str) -> RuntimeError:
        return RuntimeError(f"lazyt.load: {self.source} is not a valid lazyt archive: {what}")

    def storage(self, index: int, dtype: dtypes.DType) -> Storage:
        key = (index, dtype.name)
        if key not in self.storages:
            name = f"{_PREFIX}storages/{index}"
            try:
                raw = self.archive.read(name)
            except KeyError:
                raise self.fail(f"missing storage entry '{name}'") from None
            if len(raw) % dtype.itemsize:
                raise self.fail(f"storage {index} has {len(raw)} bytes, not a whole number of "
                                f"{dtype.name} elements")
            array = np.frombuffer(raw, dtype=dtype.numpy_storage.newbyteorder("<")).astype(
                dtype.numpy_storage, copy=True)
            self.storages[key] = Storage(dtype, array, CPU)
        return self.storages[key]

    def target_device(self, saved: str):
        location = self.map_location
        if location is None:
            return saved
        if isinstance(location, dict):
            return location.get(saved, saved)
        if isinstance(location, (str, device)):
            return str(location)
        raise TypeError("lazyt.load: map_location must be None, a device, a string or a dict "
                        f"of strings, got {type(location).__name__}")

    def tensor(self, spec: Any, parameter: bool) -> Tensor:
        if not isinstance(spec, dict):
            raise self.fail("a tensor entry is not an object")
        try:
            dtype = _DTYPES[spec["dtype"]]
            shape = tuple(_as_int(s) for s in spec["shape"])
            strides = tuple(_as_int(s) for s in spec["stride"])
            offset = _as_int(spec["offset"])
            index = _as_int(spec["storage"])
            requires_grad = bool(spec.get("requires_grad", False))
            saved_device = str(spec.get("device", "cpu"))
        except (KeyError, TypeError, ValueError) as e:
            raise self.fail(f"malformed tensor entry ({e!r})") from None
        if len(shape) != len(strides) or any(s < 0 for s in shape + strides) or offset < 0:
            raise self.fail(f"bad tensor geometry shape={shape} stride={strides} "
                            f"offset={offset}")
        storage = self.storage(index, dtype)
        if 0 not in shape:
            last = offset + sum((n - 1) * s for n, s in zip(shape, strides))
            if last >= len(storage):
                raise self.fail(f"a tensor of shape {list(shape)} reads past the end of "
                                f"storage {index} ({len(storage)} elements)")
        t = Tensor._make(storage, View(shape, strides, offset))
        target = self.target_device(saved_device)
        if str(target) != "cpu":
            t = t.to(target)
        if parameter:
            return Parameter(t, requires_grad=requires_grad)
        if requires_grad:
            t.requires_grad_(True)
        return t

    def decode(self, node: Any) -> Any:
        if node is None or isinstance(node, (bool, str)):
            return node
        if isinstance(node, int):
            return node
        if not isinstance(node, dict) or len(node) != 1:
            raise self.fail(f"unexpected JSON value {str(node)[:60]!r}")
        (tag, value), = node.items()
        if tag == "float":
            return float(value)
        if tag == "list":
            return [self.decode(v) for v in _as_list(value, self)]
        if tag == "tuple":
            return tuple(self.decode(v) for v in _as_list(value, self))
        if tag == "set":
            return {self.decode(v) for v in _as_list(value, self)}
        if tag in ("dict", "odict", "counter"):
            pairs = [(self.decode(k), self.decode(v)) for k, v in _pairs(value, self)]
            if tag == "counter":
                return Counter(dict(pairs))
            return OrderedDict(pairs) if tag == "odict" else dict(pairs)
        if tag == "bytes":
            return base64.b64decode(value)
        if tag == "dtype":
            if value not in _DTYPES:
                raise self.fail(f"unknown dtype {value!r}")
            return _DTYPES[value]
        if tag == "device":
            return device(str(value))
        if tag == "size":
            return Size(tuple(_as_int(s) for s in _as_list(value, self)))
        if tag in ("tensor", "parameter"):
            return self.tensor(value, tag == "parameter")
        if tag == "pickle":
            return self.unpickle(value)
        raise self.fail(f"unknown tag {tag!r}")

    def unpickle(self, value: Any) -> Any:
        if self.weights_only:
            raise pickle.UnpicklingError(WEIGHTS_ONLY_REFUSAL.format(source=self.source))
        if not isinstance(value, str):
            raise self.fail("a pickle entry is not a string")
        return self.pickle_module.loads(base64.b64decode(value))


WEIGHTS_ONLY_REFUSAL = (
    "Weights only load failed. This file can still be loaded, to do so you have two options, "
    "do those steps only if you trust the source of the checkpoint.\n"
    "\t(1) In PyTorch 2.6 (and lazyt), the default value of the `weights_only` argument in "
    "`load` is True. Re-running `lt.load` with `weights_only` set to `False` will likely "
    "succeed, but it can result in arbitrary code execution. Do it only if you got the file "
    "from a trusted source.\n"
    "\t(2) Alternatively, save the object's state_dict() and load that with "
    "weights_only=True.\n"
    "{source} holds a pickled Python object (a whole module, optimizer or other object "
    "saved with lt.save), which weights_only=True never unpickles.")


def _as_int(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an int, got {value!r}")
    return value


def _as_list(value, reader: _Reader) -> list:
    if not isinstance(value, list):
        raise reader.fail("a container entry is not a list")
    return value


def _pairs(value, reader: _Reader) -> list:
    pairs = _as_list(value, reader)
    if any(not isinstance(p, list) or len(p) != 2 for p in pairs):
        raise reader.fail("a mapping entry is not a list of [key, value] pairs")
    return pairs


def load(f, map_location=None, pickle_module=None, *, weights_only: bool | None = None,
         mmap: bool | None = None, **pickle_load_args) -> Any:
    """Load what lt.save wrote. Executes no code from the file unless weights_only=False
    and the file holds pickled objects (whole modules saved with lt.save)."""
    source = repr(os.fspath(f)) if isinstance(f, (str, os.PathLike)) else "the given file"
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as stream:
            data = stream.read()
    elif hasattr(f, "read"):
        data = f.read()
    else:
        raise AttributeError(f"lazyt.load expects a path or a readable file object, got "
                             f"{type(f).__name__}")
    if not data.startswith(b"PK"):
        hint = " (it looks like a pickle, e.g. a torch.save file: lazyt does not unpickle)" \
            if data[:1] == b"\x80" else ""
        raise RuntimeError(f"lazyt.load: {source} is not a lazyt archive (no zip header)"
                           f"{hint}")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
        if _PREFIX + "format" not in names:
            raise RuntimeError(f"lazyt.load: {source} is a zip file but not a lazyt archive "
                               f"(no {_PREFIX}format entry; a torch.save file is not "
                               "readable by lazyt)")
        header = archive.read(_PREFIX + "format").decode("utf-8", "replace").split()
        if len(header) != 2 or header[0] != FORMAT_NAME or not header[1].isdigit():
            raise RuntimeError(f"lazyt.load: {source} has an unrecognised format header "
                               f"{' '.join(header)!r}")
        if int(header[1]) > FORMAT_VERSION:
            raise RuntimeError(f"lazyt.load: {source} is format version {header[1]}; this "
                               f"lazyt reads up to version {FORMAT_VERSION}")
        try:
            tree = json.loads(archive.read(_PREFIX + "data.json").decode("utf-8"))
        except (KeyError, ValueError, RecursionError) as e:
            raise RuntimeError(f"lazyt.load: {source} has a missing or corrupt data.json "
                               f"({e})") from None
        if not isinstance(tree, dict) or "root" not in tree:
            raise RuntimeError(f"lazyt.load: {source} has no root object")
        try:
            reader = _Reader(archive, source, map_location,
                             weights_only=weights_only is None or bool(weights_only),
                             pickle_module=pickle_module)
            return reader.decode(tree["root"])
        except (TypeError, ValueError, RecursionError) as e:  # e.g. an unhashable dict key
            raise RuntimeError(f"lazyt.load: {source} is not a valid lazyt archive: malformed "
                               f"object tree ({e!r})") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as e:
        raise RuntimeError(f"lazyt.load: {source} is truncated or corrupt ({e})") from None


# Tensor pickling lives in conversions.py; pickles made before it moved name this.
_rebuild_tensor = rebuild_tensor
