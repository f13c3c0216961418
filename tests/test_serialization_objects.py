"""lt.save of whole objects (PyTorch's `torch.save(model)` then
`torch.load(path, weights_only=False)` idiom): the pickle holds tensors as
references to the archive's raw storages, so saving a big module costs what
saving its state dict costs; old files with inline pickles still load; a
damaged storage entry is caught by its CRC."""

import base64
import io
import json
import pickle
import zipfile

import numpy as np
import pytest

import lazyt as lt
from lazyt import nn
from lazyt.serialization import load, save


def _entries(buffer: io.BytesIO) -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    return {name: archive.read(name) for name in archive.namelist()}


def test_whole_module_pickle_references_raw_storages(tmp_path):
    model = nn.Sequential(nn.Linear(300, 200), nn.ReLU(), nn.Linear(200, 10))
    path = tmp_path / "model.pth"
    lt.save(model, path)
    entries = _entries(io.BytesIO(path.read_bytes()))
    pickled = entries["lazyt_archive/pickles/0"]
    weight_bytes = sum(p.numel() * 4 for p in model.parameters())
    assert len(pickled) < weight_bytes // 20          # the weights are not inside the pickle
    assert sum(len(v) for k, v in entries.items() if "/storages/" in k) == weight_bytes
    loaded = lt.load(path, weights_only=False)
    assert isinstance(loaded, nn.Sequential) and isinstance(loaded[0].weight, nn.Parameter)
    assert loaded[0].weight.requires_grad
    x = lt.randn(4, 300)
    assert lt.equal(loaded(x), model(x))


def test_tensors_shared_between_tree_and_pickle_share_storage_after_load():
    model = nn.Linear(3, 2)
    buffer = io.BytesIO()
    save({"model": model, "weight": model.weight, "view": model.weight[1]}, buffer)
    buffer.seek(0)
    loaded = load(buffer, weights_only=False)
    assert len([k for k in _entries(buffer) if "/storages/" in k]) == 2   # weight and bias
    with lt.no_grad():
        loaded["model"].weight[1, 0] = 42.0
    assert loaded["weight"][1, 0].item() == 42.0 and loaded["view"][0].item() == 42.0


def test_whole_objects_still_refused_by_default():
    buffer = io.BytesIO()
    save(nn.Linear(2, 2), buffer)
    for kwargs in ({}, {"weights_only": True}):
        buffer.seek(0)
        with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
            load(buffer, **kwargs)


def test_older_inline_pickle_entries_still_load():
    model = nn.Linear(2, 3)
    inline = base64.b64encode(pickle.dumps(model, protocol=2)).decode("ascii")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("lazyt_archive/format", "lazyt-archive 1")
        archive.writestr("lazyt_archive/data.json", json.dumps({"root": {"pickle": inline}}))
    buffer.seek(0)
    loaded = load(buffer, weights_only=False)
    assert lt.equal(loaded.weight, model.weight)


def test_a_pickle_module_without_pickler_still_round_trips():
    class DumpsLoadsOnly:
        dumps, loads = staticmethod(pickle.dumps), staticmethod(pickle.loads)

    buffer = io.BytesIO()
    model = nn.Linear(2, 2)
    save(model, buffer, pickle_module=DumpsLoadsOnly)
    buffer.seek(0)
    loaded = load(buffer, weights_only=False, pickle_module=DumpsLoadsOnly)
    assert lt.equal(loaded.bias, model.bias)


def test_damaged_storage_bytes_fail_the_crc_check(tmp_path):
    path = tmp_path / "weights.pth"
    lt.save({"w": lt.arange(1000, dtype=lt.float32)}, path)
    data = bytearray(path.read_bytes())
    marker = np.arange(1000, dtype="<f4").tobytes()[400:408]
    where = bytes(data).index(marker)
    data[where] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(RuntimeError, match="CRC"):
        lt.load(path)


def test_file_objects_and_paths_load_the_same(tmp_path):
    state = {"a": lt.randn(5, 4), "b": lt.arange(3)}
    path = tmp_path / "state.pth"
    lt.save(state, path)
    with open(path, "rb") as stream:
        from_stream = lt.load(stream)
    from_path = lt.load(path)
    for key in state:
        assert lt.equal(from_stream[key], state[key]) and lt.equal(from_path[key], state[key])
