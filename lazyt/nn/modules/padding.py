"""Padding modules (ZeroPad2d, ConstantPad*d, ReflectionPad*d, ReplicationPad*d,
CircularPad*d): F.pad with a fixed padding and mode."""

from __future__ import annotations

from lazyt.nn import functional as F
from lazyt.nn._functional._utils import _ntuple
from lazyt.nn.modules.module import Module
from lazyt.tensor import Tensor


class _PadNd(Module):
    _dims = 0
    _mode = "constant"

    def __init__(self, padding) -> None:
        super().__init__()
        self.padding = _ntuple(2 * self._dims, "padding")(padding)

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


def _padding_class(name: str, base: type, dims: int, mode: str) -> type:
    return type(name, (base,), {"_dims": dims, "_mode": mode, "__module__": __name__,
                                "__doc__": f"F.pad(input, padding, mode='{mode}') on the last "
                                           f"{dims} dim(s)."})


ConstantPad1d = _padding_class("ConstantPad1d", _ConstantPadNd, 1, "constant")
ConstantPad2d = _padding_class("ConstantPad2d", _ConstantPadNd, 2, "constant")
ConstantPad3d = _padding_class("ConstantPad3d", _ConstantPadNd, 3, "constant")
ReflectionPad1d = _padding_class("ReflectionPad1d", _PadNd, 1, "reflect")
ReflectionPad2d = _padding_class("ReflectionPad2d", _PadNd, 2, "reflect")
ReflectionPad3d = _padding_class("ReflectionPad3d", _PadNd, 3, "reflect")
ReplicationPad1d = _padding_class("ReplicationPad1d", _PadNd, 1, "replicate")
ReplicationPad2d = _padding_class("ReplicationPad2d", _PadNd, 2, "replicate")
ReplicationPad3d = _padding_class("ReplicationPad3d", _PadNd, 3, "replicate")
CircularPad1d = _padding_class("CircularPad1d", _PadNd, 1, "circular")
CircularPad2d = _padding_class("CircularPad2d", _PadNd, 2, "circular")
CircularPad3d = _padding_class("CircularPad3d", _PadNd, 3, "circular")


class ZeroPad1d(ConstantPad1d):
    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad3d(ConstantPad3d):
    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"
