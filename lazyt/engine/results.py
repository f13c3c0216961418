"""Results of earlier realisations, so a graph built before a realisation reuses them.

Deferred code often realises a value (a loss it prints) and then builds more
graph on nodes that realisation already computed (the backward pass). The
engine keeps, per computed node, the storage and view holding its value,
while the node lives; the scheduler then reads that buffer instead of
computing the node again. An entry is dropped when its storage is about to
be overwritten (an in-place write) and ignored while a deferred write into
its storage is pending.
"""

from __future__ import annotations

import weakref

from lazyt.ir.node import Node, make_node

# id(node) -> (weak reference to the node, Storage, View). Keyed by id, not
# a WeakKeyDictionary: the signature of every deferred graph asks for each of
# its nodes, and hashing a weak reference per question costs more than the
# dict lookup. An entry goes when its node dies (the reference's callback),
# so a kept storage is freed with the last graph that could read it.
_REALIZED: dict[int, tuple] = {}


def remember(node: Node, storage, view) -> None:
    table = _REALIZED
    key = id(node)

    def forget(ref, key=key, table=table):
        entry = table.get(key)
        if entry is not None and entry[0] is ref:
            del table[key]

    table[key] = (weakref.ref(node, forget), storage, view)


def value_of(node: Node) -> tuple | None:
    """(Buffer, View) holding node's value from an earlier realisation, or None."""
    entry = _REALIZED.get(id(node))
    if entry is None or entry[0]() is not node or entry[1].writer is not None:
        return None
    return entry[1].buffer, entry[2]


def lookup(node: Node) -> Node | None:
    """A load of node's value from an earlier realisation, or None."""
    found = value_of(node)
    if found is None:
        return None
    return make_node("load", node.dtype, node.shape, (), found)


def any_kept() -> bool:
    return bool(_REALIZED)


def forget_in(storages: set[int]) -> None:
    """Drop the results that live in these storages (ids): they are about
    to be overwritten."""
    if not _REALIZED:
        return
    for key in [key for key, entry in _REALIZED.items() if id(entry[1]) in storages]:
        del _REALIZED[key]


def forget_results_in(storage) -> None:
    forget_in({id(storage)})


class isolated_results:  # noqa: N801 - a context manager, like lt.no_grad
    """Within: realisations neither reuse nor keep results of other
    realisations (regions.py records graphs that must read only their own
    inputs); the kept results come back on exit."""

    def __enter__(self):
        global _REALIZED
        self.saved, _REALIZED = _REALIZED, {}
        return self

    def __exit__(self, *exc):
        global _REALIZED
        _REALIZED = self.saved
        return False
