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
as {"pickled": N}: Python's pickle of it in the entry lazyt_archive/pickles/N,
in which every tensor is a persistent reference (its tensor/parameter entry
above), so a whole module's weights are raw storages like a state dict's, not
pickled bytes. (Version-1 files of older lazyt wrote {"pickle": "<base64>"} of
a plain pickle; they still load.) As in PyTorch since 2.6,
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
import struct
import zipfile
import zlib
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
        self.pickles: list[bytes] = []
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
        return {"pickled": self.pickle_object(obj)}

    def pickle_object(self, obj: Any) -> int:
        """Pickle obj into a new pickles/N entry, its tensors as references to storages."""
        protocol = max(2, self.pickle_protocol)
        pickler_class = getattr(self.pickle_module, "Pickler", None)
        if pickler_class is None:      # a pickle_module without Pickler: tensors by value
            self.pickles.append(self.pickle_module.dumps(obj, protocol=protocol))
            return len(self.pickles) - 1
        writer = self

        class TensorsAsReferences(pickler_class):
            def persistent_id(self, value):
                return writer.encode_tensor(value) if isinstance(value, Tensor) else None

        buffer = io.BytesIO()
        TensorsAsReferences(buffer, protocol=protocol).dump(obj)
        self.pickles.append(buffer.getvalue())
        return len(self.pickles) - 1

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
            for i, pickled in enumerate(writer.pickles):
                archive.writestr(f"{_PREFIX}pickles/{i}", pickled)
            for i, array in enumerate(writer.storages):
                data = np.ascontiguousarray(array)
                if data.dtype.byteorder == ">":
                    data = data.byteswap().view(data.dtype.newbyteorder("<"))
                _write_entry(archive, f"{_PREFIX}storages/{i}", data)
    finally:
        if owned:
            stream.close()


def _write_entry(archive: zipfile.ZipFile, name: str, data: np.ndarray) -> None:
    """Write an array's bytes as a stored entry without copying them first."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    info.file_size = data.nbytes           # lets zipfile choose zip64 for huge entries
    with archive.open(info, "w") as entry:
        if data.nbytes:
            entry.write(memoryview(data.reshape(-1)).cast("B"))


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
                info = self.archive.getinfo(name)
            except KeyError:
                raise self.fail(f"missing storage entry '{name}'") from None
            if info.file_size % dtype.itemsize:
                raise self.fail(f"storage {index} has {info.file_size} bytes, not a whole "
                                f"number of {dtype.name} elements")
            little_endian = np.empty(info.file_size // dtype.itemsize,
                                     dtype=dtype.numpy_storage.newbyteorder("<"))
            self.read_stored_entry(info, memoryview(little_endian).cast("B"))
            array = little_endian.astype(dtype.numpy_storage, copy=False)
            self.storages[key] = Storage(dtype, array, CPU)
        return self.storages[key]

    def read_stored_entry(self, info: zipfile.ZipInfo, into: memoryview) -> None:
        """Read an uncompressed entry straight into `into` (one copy, not three), checking
        its CRC as zipfile would."""
        if info.compress_type != zipfile.ZIP_STORED or not hasattr(self.archive.fp, "readinto"):
            with self.archive.open(info) as entry:
                filled = entry.readinto(into)
        else:
            stream = self.archive.fp
            stream.seek(info.header_offset)
            header = stream.read(zipfile.sizeFileHeader)
            if len(header) != zipfile.sizeFileHeader or header[:4] != zipfile.stringFileHeader:
                raise self.fail(f"bad local header for '{info.filename}'")
            fields = struct.unpack(zipfile.structFileHeader, header)
            stream.seek(info.header_offset + zipfile.sizeFileHeader
                        + fields[zipfile._FH_FILENAME_LENGTH]
                        + fields[zipfile._FH_EXTRA_FIELD_LENGTH])
            filled = stream.readinto(into) if info.file_size else 0
            if filled == info.file_size and zlib.crc32(into) != info.CRC:
                raise self.fail(f"entry '{info.filename}' fails its CRC check (corrupt file)")
        if filled != info.file_size:
            raise self.fail(f"entry '{info.filename}' is truncated")

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
        if tag == "pickled":
            return self.unpickle_entry(value)
        if tag == "pickle":
            return self.unpickle(value)
        raise self.fail(f"unknown tag {tag!r}")

    def unpickle(self, value: Any) -> Any:
        """A version-1 {"pickle": base64} value of older lazyt (tensors pickled by value)."""
        if self.weights_only:
            raise pickle.UnpicklingError(WEIGHTS_ONLY_REFUSAL.format(source=self.source))
        if not isinstance(value, str):
            raise self.fail("a pickle entry is not a string")
        return self.pickle_module.loads(base64.b64decode(value))

    def unpickle_entry(self, index: Any) -> Any:
        """A pickles/N entry; its persistent references are this archive's tensors."""
        if self.weights_only:
            raise pickle.UnpicklingError(WEIGHTS_ONLY_REFUSAL.format(source=self.source))
        name = f"{_PREFIX}pickles/{_as_int(index)}"
        try:
            data = self.archive.read(name)
        except KeyError:
            raise self.fail(f"missing pickle entry '{name}'") from None
        unpickler_class = getattr(self.pickle_module, "Unpickler", None)
        if unpickler_class is None:
            return self.pickle_module.loads(data)
        reader = self

        class TensorsFromArchive(unpickler_class):
            def persistent_load(self, reference):
                if not isinstance(reference, dict) or len(reference) != 1 or \
                        next(iter(reference)) not in ("tensor", "parameter"):
                    raise reader.fail(f"unknown persistent reference {str(reference)[:60]!r}")
                return reader.decode(reference)

        return TensorsFromArchive(io.BytesIO(data)).load()


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
        with open(f, "rb") as stream:      # read entry by entry, not the whole file first
            return _load_stream(stream, source, map_location, pickle_module, weights_only)
    if not hasattr(f, "read"):
        raise AttributeError(f"lazyt.load expects a path or a readable file object, got "
                             f"{type(f).__name__}")
    return _load_stream(io.BytesIO(f.read()), source, map_location, pickle_module, weights_only)


def _load_stream(stream, source: str, map_location, pickle_module, weights_only) -> Any:
    head = stream.read(2)
    stream.seek(0)
    if head != b"PK":
        hint = " (it looks like a pickle, e.g. a torch.save file: lazyt does not unpickle)" \
            if head[:1] == b"\x80" else ""
        raise RuntimeError(f"lazyt.load: {source} is not a lazyt archive (no zip header)"
                           f"{hint}")
    try:
        archive = zipfile.ZipFile(stream)
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
