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

_REALIZED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def remember(node: Node, storage, view) -> None:
    _REALIZED[node] = (storage, view)


def lookup(node: Node) -> Node | None:
    """A load of node's value from an earlier realisation, or None."""
    found = _REALIZED.get(node)
    if found is None or found[0].writer is not None:
        return None
    storage, view = found
    return make_node("load", node.dtype, node.shape, (), (storage.buffer, view))


def any_kept() -> bool:
    return bool(_REALIZED)


def forget_in(storages: set[int]) -> None:
    """Drop the results that live in these storages (ids): they are about
    to be overwritten."""
    if not _REALIZED:
        return
    for node, (storage, _) in list(_REALIZED.items()):
        if id(storage) in storages:
            del _REALIZED[node]


def forget_results_in(storage) -> None:
    forget_in({id(storage)})


class isolated_results:  # noqa: N801 - a context manager, like lt.no_grad
    """Within: realisations neither reuse nor keep results of other
    realisations (regions.py records graphs that must read only their own
    inputs); the kept results come back on exit."""

    def __enter__(self):
        global _REALIZED
        self.saved, _REALIZED = _REALIZED, weakref.WeakKeyDictionary()
        return self

    def __exit__(self, *exc):
        global _REALIZED
        _REALIZED = self.saved
        return False
