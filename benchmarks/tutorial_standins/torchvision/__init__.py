"""A tiny `torchvision` stand-in for benchmarks/pytorch_tutorials.py only.

PyTorch's tutorials download FashionMNIST and VGG16 through torchvision; the
runner has no network and must give real PyTorch and lazyt the same data, so
it puts this package first on the path of every tutorial it runs. It is not
part of lazyt and imports whichever `torch` the running tutorial imported
(PyTorch itself, or lazyt aliased as `torch`).
"""

from torchvision import datasets, io, models, transforms

__all__ = ["datasets", "io", "models", "transforms"]
