"""RemovableHandle: what register_*_hook returns (torch.utils.hooks)."""

from __future__ import annotations

import itertools


class RemovableHandle:
    """Returned by register_*_hook; handle.remove() unregisters the hook."""

    _next_id = itertools.count()

    def __init__(self, hooks: dict):
        self.hooks = hooks
        self.id = next(RemovableHandle._next_id)

    def remove(self) -> None:
        self.hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *args) -> None:
        self.remove()
