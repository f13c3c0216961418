"""lazyt.utils.data: PyTorch's data loading. Re-exports only: datasets and
random_split (dataset.py), samplers (sampler.py), collation (_utils/collate.py),
workers (_utils/worker.py), DataLoader (dataloader.py) and DistributedSampler
(distributed.py)."""

from lazyt.utils.data import _utils, dataloader, dataset, distributed, sampler
from lazyt.utils.data._utils.collate import default_collate, default_convert
from lazyt.utils.data._utils.worker import get_worker_info
from lazyt.utils.data.dataloader import DataLoader, _DatasetKind
from lazyt.utils.data.dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)
from lazyt.utils.data.distributed import DistributedSampler
from lazyt.utils.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = ["BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset",
           "DistributedSampler", "IterableDataset", "RandomSampler", "Sampler",
           "SequentialSampler", "StackDataset", "Subset", "SubsetRandomSampler",
           "TensorDataset", "WeightedRandomSampler", "_DatasetKind", "_utils", "dataloader",
           "dataset", "default_collate", "default_convert", "distributed", "get_worker_info",
           "random_split", "sampler"]
