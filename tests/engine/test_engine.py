"""The engine (lazyt/engine/): Program, TraceCache, graph_signature and the
realisation entry points, used directly (nodes, storages and views in,
(Storage, View) out: no Tensor)."""

from __future__ import annotations

import numpy as np
import pytest

import lazyt as lt
from lazyt import dtypes
from lazyt.engine.program import Program, recording
from lazyt.engine.realize import CPU_BACKEND, realize_graph, realize_into
from lazyt.engine.signature import graph_signature
from lazyt.engine.trace import RECORD, REPLAY, RUN, SEEN, TraceCache
from lazyt.ir.node import make_node
from lazyt.ir.view import View
from lazyt.runtime.storage import Storage


def _storage(values) -> tuple[Storage, View]:
    array = np.asarray(values, dtype=np.float32)
    return Storage.from_array(dtypes.float32, array, lt.device("cpu")), View.contiguous(
        array.shape)


def _load(storage: Storage, view: View):
    return make_node("load", storage.dtype, view.shape, (), (storage.buffer, view))


def _values(storage: Storage, view: View) -> list:
    return storage.array[view.offset:view.offset + view.numel].tolist()


def test_trace_cache_runs_then_records_then_replays():
    cache = TraceCache(4)
    assert cache.lookup("sig") == (RUN, None)
    assert cache.lookup("sig") == (RECORD, None)
    cache.store("sig", None, "program")
    assert cache.lookup("sig") == (REPLAY, "program")
    assert cache.programs() == ["program"]


def test_trace_cache_records_first_when_asked_and_refused_recordings_run():
    cache = TraceCache(4, record_first=True)
    assert cache.lookup("a") == (RECORD, None)
    cache.store("a", None, None)  # the recording could not be replayed
    assert cache.lookup("a") == (RUN, None)
    assert cache.lookup("a") == (RUN, None)


def test_trace_cache_bounds_signatures_and_variants():
    cache = TraceCache(2, variants_limit=2)
    for sig in ("a", "b", "c"):
        cache.lookup(sig)
    assert list(cache.entries) == ["b", "c"]  # the oldest went first
    cache.lookup("c", 1)
    assert cache.lookup("c", 2) == (RUN, None)  # over the variants limit: not tracked
    assert set(cache.entries["c"]) == {None, 1} and cache.entries["c"][1] is SEEN


def test_trace_cache_explains_retraces_and_can_refuse_to_grow():
    def refuse(cache):
        raise RuntimeError(f"too many: {cache.reasons}")

    cache = TraceCache(2, explain=lambda old, new: f"{old} -> {new}", on_full=refuse)
    cache.lookup("a")
    cache.lookup("b")
    with pytest.raises(RuntimeError, match="too many"):
        cache.lookup("c")
    assert cache.reasons[:2] == ["a -> b", "b -> c"]


def test_graph_signature_numbers_buffers_and_keeps_aliasing():
    a, view = _storage([1.0, 2.0])
    b, _ = _storage([3.0, 4.0])
    c, _ = _storage([5.0, 6.0])
    key_ab, buffers_ab = graph_signature([make_node("add", dtypes.float32, (2,),
                                                    (_load(a, view), _load(b, view)))])
    key_cb, buffers_cb = graph_signature([make_node("add", dtypes.float32, (2,),
                                                    (_load(c, view), _load(b, view)))])
    key_aa, _ = graph_signature([make_node("add", dtypes.float32, (2,),
                                           (_load(a, view), _load(a, view)))])
    assert key_ab == key_cb and buffers_ab == [a.buffer, b.buffer]
    assert buffers_cb == [c.buffer, b.buffer]
    assert key_aa != key_ab  # one buffer read twice is another computation


def test_realize_graph_returns_storages_and_replays_a_known_graph():
    results = []
    for values in ([1.0, 2.0, 3.0], [4.0, 5.0, 6.0]):
        st, view = _storage(values)
        root = make_node("mul", dtypes.float32, (3,), (_load(st, view), _load(st, view)))
        lt.debug.reset_stats()
        ((out, out_view),) = realize_graph([root], [], cacheable=True)
        results.append((_values(out, out_view), lt.debug.stats()["kernels_compiled"]))
    assert results[0][0] == [1.0, 4.0, 9.0] and results[1][0] == [16.0, 25.0, 36.0]
    assert results[1][1] == 0


def test_a_recording_replays_on_new_storages():
    a, view = _storage([1.0, 2.0])
    out = CPU_BACKEND.allocate(dtypes.float32, 2)
    with recording() as entries:
        realize_into(make_node("exp", dtypes.float32, (2,), (_load(a, view),)), out, view)
    program = Program.from_recording(CPU_BACKEND, entries, [a, out])
    new_in, _ = _storage([0.0, 1.0])
    new_out = CPU_BACKEND.allocate(dtypes.float32, 2)
    program.run([new_in, new_out])
    np.testing.assert_allclose(_values(new_out, view), np.exp([0.0, 1.0]), rtol=1e-6)
    assert program.inputs_written == frozenset({1}) and program.inputs_used == {0, 1}


def test_a_recording_reading_a_storage_it_was_not_given_is_refused():
    a, view = _storage([1.0, 2.0])
    hidden, _ = _storage([5.0, 5.0])
    out = CPU_BACKEND.allocate(dtypes.float32, 2)
    node = make_node("add", dtypes.float32, (2,), (_load(a, view), _load(hidden, view)))
    with recording() as entries:
        realize_into(node, out, view)
    assert Program.from_recording(CPU_BACKEND, entries, [a, out]) is None
    # Kept (lt.compile's way), the storage becomes part of the Program.
    kept = Program.from_recording(CPU_BACKEND, entries, [a, out], keep=True)
    assert kept is not None and kept.static == [hidden]


def test_debug_level_2_prints_each_launch_and_extern(capsys):
    a, b = lt.randn(8, 8), lt.randn(8, 8)
    lt.debug.set_level(2)
    try:
        (a @ b).relu()
    finally:
        lt.debug.set_level(0)
    out = capsys.readouterr().out
    assert "[lazyt] extern matmul" in out
    assert "GB/s" in out
