"""lt.masked: PyTorch's torch.masked operations on strided tensors (re-exports only)."""

from lazyt.masked.reductions import (
                                     amax,
                                     amin,
                                     argmax,
                                     argmin,
                                     cumprod,
                                     cumsum,
                                     log_softmax,
                                     logaddexp,
                                     logsumexp,
                                     mean,
                                     median,
                                     norm,
                                     normalize,
                                     prod,
                                     softmax,
                                     softmin,
                                     std,
                                     sum,
                                     var,
)

__all__ = ["amax", "amin", "argmax", "argmin", "cumprod", "cumsum", "log_softmax", "logaddexp",
           "logsumexp", "mean", "median", "norm", "normalize", "prod", "softmax", "softmin", "std",
           "sum", "var"]
