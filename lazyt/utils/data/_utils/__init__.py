"""Helpers of the DataLoader, as torch.utils.data._utils: collation
(collate.py) and the in-process workers (worker.py). Re-exports only."""

from lazyt.utils.data._utils import collate, worker

__all__ = ["collate", "worker"]
