"""lt.backends: the availability queries and switches PyTorch scripts read
(`torch.backends.mps.is_available()`, `torch.backends.cudnn.benchmark = True`).

lazyt compiles its own kernels, so the vendor libraries these name (cuDNN,
MKL-DNN, MPS) are never used: their switches are accepted and recorded, and
their availability is False. `cuda` reports whether lazyt's CUDA backend can run.
"""

from lazyt.backends import cpu, cuda, cudnn, mkldnn, mps, openmp

__all__ = ["cpu", "cuda", "cudnn", "mkldnn", "mps", "openmp"]
