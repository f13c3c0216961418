"""transforms.ToTensor / Lambda / Compose stand-ins, written with the running
tutorial's `torch` as torchvision writes them."""

from __future__ import annotations

import numpy as np


class ToTensor:
    """HxW or HxWxC uint8 array -> CxHxW float tensor in [0, 1]."""

    def __call__(self, picture):
        import torch

        array = np.asarray(picture)
        if array.ndim == 2:
            array = array[:, :, None]
        image = torch.from_numpy(np.ascontiguousarray(array)).permute((2, 0, 1)).contiguous()
        if image.dtype == torch.uint8:
            return image.to(dtype=torch.get_default_dtype()).div(255)
        return image

    def __repr__(self) -> str:
        return "ToTensor()"


class Lambda:
    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__!r}")
        self.lambd = lambd

    def __call__(self, picture):
        return self.lambd(picture)


class Compose:
    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, picture):
        for transform in self.transforms:
            picture = transform(picture)
        return picture
