"""datasets.FashionMNIST / MNIST stand-ins: the bundled 8x8 digits
(examples/data/digits.npz), scaled to 28x28 uint8 images, split train/test.

Samples come back as torchvision's do: (transform(image), target_transform(label))
with the image a 28x28 uint8 array (what ToTensor accepts) and the label an int.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

DIGITS = Path(__file__).resolve().parents[3] / "examples" / "data" / "digits.npz"
TRAIN_SIZE = 1500          # of the 1797 digits; the remaining 297 are the test split


def _load_split(train: bool) -> tuple[np.ndarray, np.ndarray]:
    with np.load(DIGITS) as archive:
        images, labels = archive["images"], archive["labels"]
    chosen = slice(0, TRAIN_SIZE) if train else slice(TRAIN_SIZE, None)
    images, labels = images[chosen], labels[chosen].astype(np.int64)
    # 8x8 pixels of 0..16 -> 24x24 by pixel repetition, a 2-pixel border -> 28x28 of 0..255
    upscaled = np.kron(images, np.ones((1, 3, 3), dtype=images.dtype))
    padded = np.pad(upscaled, ((0, 0), (2, 2), (2, 2)))
    return (padded.astype(np.uint16) * 255 // 16).astype(np.uint8), labels


class FashionMNIST:
    """Same constructor and item protocol as torchvision.datasets.FashionMNIST."""

    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
               "Shirt", "Sneaker", "Bag", "Ankle boot"]

    def __init__(self, root=None, train: bool = True, transform=None, target_transform=None,
                 download: bool = False):
        self.root, self.train = root, train
        self.transform, self.target_transform = transform, target_transform
        self.data, self.targets = _load_split(train)

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index):
        image, target = self.data[index], int(self.targets[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target


class MNIST(FashionMNIST):
    classes = [f"{digit} - {name}" for digit, name in enumerate(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])]
