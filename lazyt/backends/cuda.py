"""lt.backends.cuda: whether lazyt's CUDA backend is built, and PyTorch's
matmul switches (accepted; lazyt's GPU matmul never uses TF32)."""

import importlib.util


def is_built() -> bool:
    """True when the CUDA backend's dependency (numba-cuda) is installed."""
    return importlib.util.find_spec("numba_cuda") is not None


class _MatmulSettings:
    """`torch.backends.cuda.matmul.allow_tf32` and friends: recorded switches."""

    def __init__(self) -> None:
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True


matmul = _MatmulSettings()
