"""The graph walks every deferred realisation makes: graph_signature's key
and node order (engine/signature.py), and the reads-a-written-buffer
predicate (realization._reads_any), checked against plain walks of random
DAGs (shared sources, a source used twice, several roots)."""

from __future__ import annotations

import random

import numpy as np

import lazyt as lt
from lazyt import dtypes
from lazyt.engine.signature import graph_signature
from lazyt.ir.node import make_node, walk
from lazyt.ir.view import View
from lazyt.realization import _reads_any
from lazyt.runtime.storage import Storage


def _random_dag(rng: random.Random, n_buffers: int = 4, n_nodes: int = 30):
    """(loads, interior nodes, storages): binary and unary ops over earlier
    nodes, so sources are shared and sometimes repeated (x * x)."""
    view = View.contiguous((3,))
    storages = [Storage.from_array(dtypes.float32, np.zeros(3, np.float32), lt.device("cpu"))
                for _ in range(n_buffers)]
    nodes = [make_node("load", dtypes.float32, (3,), (), (st.buffer, view)) for st in storages]
    nodes.append(make_node("const", dtypes.float32, (3,), (), 1.5))
    loads = list(nodes)
    for _ in range(n_nodes):
        if rng.random() < 0.3:
            nodes.append(make_node("exp", dtypes.float32, (3,), (rng.choice(nodes),)))
        else:
            nodes.append(make_node("add", dtypes.float32, (3,),
                                   (rng.choice(nodes), rng.choice(nodes))))
    return loads, nodes[len(loads):], storages


def test_signature_lists_nodes_sources_first_in_the_keys_order():
    rng = random.Random(0)
    for _ in range(20):
        _, interior, _ = _random_dag(rng)
        roots = rng.sample(interior, 3)
        nodes: list = []
        (parts, root_positions, _), buffers = graph_signature(roots, (), None, nodes)
        assert len(nodes) == len(parts) == len({id(n) for n in nodes})
        order = []  # depth first from each root in turn, sources in order
        for root in roots:
            order += [n for n in walk(root) if all(n is not m for m in order)]
        assert [id(n) for n in nodes] == [id(n) for n in order]
        for node, part in zip(nodes, parts):
            if node.op == "load":
                assert buffers[part[2]] is node.arg[0]
            else:
                assert [nodes[p] for p in part[4]] == list(node.srcs)
        assert [nodes[p] for p in root_positions] == roots


def test_signature_keys_equal_graphs_alike_and_aliasing_apart():
    rng = random.Random(1)
    loads, interior, storages = _random_dag(rng)
    root = interior[-1]
    key, buffers = graph_signature([root])
    # The same graph over other buffers: the same key, the buffers in slot order.
    others = [Storage.from_array(dtypes.float32, np.ones(3, np.float32), lt.device("cpu"))
              for _ in storages]
    swap = {id(st.buffer): other.buffer for st, other in zip(storages, others)}
    rebuilt = {}
    for node in walk(root):
        if node.op == "load":
            rebuilt[id(node)] = make_node("load", node.dtype, node.shape, (),
                                          (swap[id(node.arg[0])], node.arg[1]))
        else:
            rebuilt[id(node)] = make_node(node.op, node.dtype, node.shape,
                                          tuple(rebuilt[id(s)] for s in node.srcs), node.arg)
    key2, buffers2 = graph_signature([rebuilt[id(root)]])
    assert key2 == key
    assert [swap[id(b)] for b in buffers] == buffers2
    # Two loads of one buffer are another computation than loads of two.
    a, b = loads[0], loads[1]
    both_a = make_node("add", dtypes.float32, (3,), (a, a))
    a_and_b = make_node("add", dtypes.float32, (3,), (a, b))
    assert graph_signature([both_a])[0] != graph_signature([a_and_b])[0]


def test_reads_any_answers_like_a_full_walk_with_its_memo_shared():
    rng = random.Random(2)
    for _ in range(30):
        _, interior, storages = _random_dag(rng)
        written = {id(st.buffer) for st in rng.sample(storages, rng.randint(1, 2))}
        reads = _reads_any(written)  # one predicate asked about many graphs
        for node in rng.sample(interior, len(interior)):
            expected = any(n.op == "load" and id(n.arg[0]) in written for n in walk(node))
            assert reads(node) is expected
