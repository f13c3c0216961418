"""lt.save / lt.load: round trips of tensors, parameters and state dicts in the
documented zip format; shared storage; safety against foreign, truncated and
malicious files; the pickle/deepcopy hook."""

import copy
import io
import json
import math
import pickle
import zipfile
from collections import Counter, OrderedDict

import numpy as np
import pytest

import lazyt as lt
import lazyt.nn as nn
import lazyt.optim as optim
from lazyt.serialization import load, save

ALL_DTYPES = [lt.float32, lt.float64, lt.float16, lt.bfloat16, lt.int8, lt.uint8, lt.int16,
              lt.int32, lt.int64, lt.bool]


def _round_trip(obj, **load_kwargs):
    buffer = io.BytesIO()
    save(obj, buffer)
    buffer.seek(0)
    return load(buffer, **load_kwargs)


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: d.name)
def test_tensor_round_trip_keeps_dtype_values_and_shape(dtype):
    t = (lt.arange(-6, 6).reshape(3, 4) * 3).to(dtype)
    back = _round_trip(t)
    assert back.dtype == dtype and back.shape == (3, 4)
    assert back.tolist() == t.tolist()


def test_views_keep_sharing_their_storage():
    base = lt.arange(12.0).reshape(3, 4)
    view = base.t()[1:, ::2]
    out = _round_trip({"base": base, "view": view, "again": base})
    assert out["view"].tolist() == view.tolist()
    assert out["view"].stride() == view.stride()
    assert out["again"] is not out["base"]
    out["view"][0, 0] = -1.0
    assert out["base"][0, 1].item() == -1.0


def test_python_values_and_containers_round_trip():
    obj = {"ints": [1, -2, 2 ** 70], "floats": (1.5, math.inf, -0.0), "none": None,
           "text": "héllo", "flag": True, "bytes": b"\x00\x01", 3: "int key",
           (1, 2): "tuple key", "nested": OrderedDict(a=[{"b": lt.ones(1)}]),
           "set": {1, 2}, "counter": Counter({5: 2}), "dtype": lt.float16,
           "device": lt.device("cpu"), "size": lt.Size([2, 3])}
    back = _round_trip(obj)
    assert back["ints"] == [1, -2, 2 ** 70] and back["floats"] == (1.5, math.inf, -0.0)
    assert math.copysign(1, back["floats"][2]) == -1
    assert back["none"] is None and back["text"] == "héllo" and back["flag"] is True
    assert back["bytes"] == b"\x00\x01" and back[3] == "int key" and back[(1, 2)] == "tuple key"
    assert isinstance(back["nested"], OrderedDict) and back["nested"]["a"][0]["b"].tolist() == [1]
    assert back["set"] == {1, 2} and back["counter"] == Counter({5: 2})
    assert back["dtype"] == lt.float16 and back["device"] == lt.device("cpu")
    assert back["size"] == lt.Size([2, 3])
    assert math.isnan(_round_trip(float("nan")))


def test_parameters_and_requires_grad_survive():
    p = nn.Parameter(lt.ones(2))
    q = lt.zeros(3, requires_grad=True)
    back = _round_trip([p, q, nn.Parameter(lt.ones(1), requires_grad=False)])
    assert isinstance(back[0], nn.Parameter) and back[0].requires_grad
    assert back[1].requires_grad and not isinstance(back[1], nn.Parameter)
    assert not back[2].requires_grad


def test_model_and_optimizer_checkpoint(tmp_path):
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 2))
    opt = optim.Adam(model.parameters(), lr=0.01)
    model(lt.randn(3, 1, 4, 4)).sum().backward()
    opt.step()
    path = tmp_path / "checkpoint.lt"
    save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, path)
    checkpoint = load(str(path))
    twin = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 2))
    twin.load_state_dict(checkpoint["model"])
    for (name, a), b in zip(model.state_dict().items(), twin.state_dict().values()):
        assert a.tolist() == b.tolist(), name
    assert checkpoint["optimizer"]["state"][0]["step"].item() == 1.0
    assert checkpoint["epoch"] == 3


def test_the_file_is_the_documented_zip_layout():
    buffer = io.BytesIO()
    save({"w": lt.tensor([1.0, 2.0])}, buffer)
    archive = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    assert sorted(archive.namelist()) == ["lazyt_archive/data.json", "lazyt_archive/format",
                                          "lazyt_archive/storages/0"]
    assert archive.read("lazyt_archive/format") == b"lazyt-archive 1"
    tree = json.loads(archive.read("lazyt_archive/data.json"))
    spec = tree["root"]["dict"][0][1]["tensor"]
    assert spec["dtype"] == "float32" and spec["shape"] == [2] and spec["stride"] == [1]
    assert np.frombuffer(archive.read("lazyt_archive/storages/0"), "<f4").tolist() == [1, 2]


def test_whole_modules_load_only_with_weights_only_false():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    buffer = io.BytesIO()
    save({"model": model, "epoch": 3}, buffer)
    buffer.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        load(buffer)
    buffer.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="weights_only"):
        load(buffer, weights_only=True)
    buffer.seek(0)
    loaded = load(buffer, weights_only=False)
    assert loaded["epoch"] == 3 and isinstance(loaded["model"], nn.Sequential)
    x = lt.randn(4, 2)
    assert lt.equal(loaded["model"](x), model(x))
    assert isinstance(loaded["model"][0].weight, nn.Parameter)


def test_unpicklable_objects_raise_pickles_error_at_save():
    with pytest.raises((pickle.PicklingError, AttributeError)):
        save({"f": lambda: 0}, io.BytesIO())


def _archive(entries: dict) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    buffer.seek(0)
    return buffer


def _valid_entries(spec=None, storage=b"\x00" * 8):
    spec = spec or {"storage": 0, "dtype": "float32", "shape": [2], "stride": [1],
                    "offset": 0, "requires_grad": False, "device": "cpu"}
    return {"lazyt_archive/format": "lazyt-archive 1",
            "lazyt_archive/data.json": json.dumps({"root": {"tensor": spec}}),
            "lazyt_archive/storages/0": storage}


def test_foreign_and_truncated_files_raise_clear_errors(tmp_path):
    good = io.BytesIO()
    save({"w": lt.randn(100)}, good)
    data = good.getvalue()
    for blob, message in [(b"", "not a lazyt archive"), (b"hello world", "not a lazyt archive"),
                          (pickle.dumps({"a": 1}), "pickle"),
                          (data[:len(data) // 2], "truncated or corrupt"),
                          (data[:-30], "truncated or corrupt")]:
        with pytest.raises(RuntimeError, match=message):
            load(io.BytesIO(blob))
    with pytest.raises(RuntimeError, match="not a lazyt archive"):
        load(_archive({"archive/data.pkl": b"\x80\x02}q\x00."}))
    with pytest.raises(RuntimeError, match="version 7"):
        load(_archive({**_valid_entries(), "lazyt_archive/format": "lazyt-archive 7"}))
    path = tmp_path / "missing.lt"
    with pytest.raises(FileNotFoundError):
        load(path)


def test_malicious_geometry_and_json_are_rejected():
    def spec(**changes):
        base = {"storage": 0, "dtype": "float32", "shape": [2], "stride": [1], "offset": 0,
                "requires_grad": False, "device": "cpu"}
        base.update(changes)
        return base

    for bad, message in [(spec(shape=[1000]), "reads past the end"),
                         (spec(offset=5), "reads past the end"),
                         (spec(stride=[-1]), "bad tensor geometry"),
                         (spec(dtype="object"), "malformed tensor entry"),
                         (spec(storage=3), "missing storage"),
                         (spec(shape=["2"]), "malformed tensor entry")]:
        with pytest.raises(RuntimeError, match=message):
            load(_archive(_valid_entries(bad)))
    with pytest.raises(RuntimeError, match="whole number"):
        load(_archive(_valid_entries(storage=b"\x00" * 7)))
    entries = _valid_entries()
    entries["lazyt_archive/data.json"] = json.dumps({"root": {"__reduce__": ["os.system"]}})
    with pytest.raises(RuntimeError, match="unknown tag"):
        load(_archive(entries))
    entries["lazyt_archive/data.json"] = json.dumps({"root": {"dict": [[{"list": []}, 1]]}})
    with pytest.raises(RuntimeError, match="malformed object tree"):
        load(_archive(entries))
    entries["lazyt_archive/data.json"] = "[" * 100000 + "]" * 100000
    with pytest.raises(RuntimeError, match="corrupt data.json"):
        load(_archive(entries))
    entries["lazyt_archive/data.json"] = "{not json"
    with pytest.raises(RuntimeError, match="corrupt data.json"):
        load(_archive(entries))


def test_loaded_tensors_own_their_memory():
    back = load(_archive(_valid_entries(storage=np.array([1.0, 2.0], "<f4").tobytes())))
    back.add_(1.0)
    assert back.tolist() == [2.0, 3.0]


def test_map_location_accepts_cpu():
    assert _round_trip(lt.ones(2), map_location="cpu").device == lt.device("cpu")
    assert _round_trip(lt.ones(2), map_location={"cpu": "cpu"}).tolist() == [1.0, 1.0]


def test_pickle_and_deepcopy_of_tensors():
    t = lt.arange(6.0).reshape(2, 3).t()
    back = pickle.loads(pickle.dumps(t))
    assert back.tolist() == t.tolist() and back.is_contiguous()
    g = lt.ones(2, requires_grad=True)
    copied = copy.deepcopy(g)
    assert copied.requires_grad and copied.is_leaf and copied.data_ptr() != g.data_ptr()
    bf = lt.tensor([1.5, -2.0]).to(lt.bfloat16)
    assert copy.deepcopy(bf).to(lt.float32).tolist() == [1.5, -2.0]
