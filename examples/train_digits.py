"""Train an MLP and a small CNN on the 8x8 handwritten digits, with lazyt.

    python examples/train_digits.py            # both models, full training
    python examples/train_digits.py --model cnn --epochs 20
    python examples/train_digits.py --quick    # one epoch each (what CI runs)

The data (1,797 images of 8x8 pixels with values 0..16, labels 0..9) ships
in examples/data/digits.npz, made once from scikit-learn's bundled copy, so
nothing is downloaded and scikit-learn is not needed. A fixed random 20% of
the images is held out for validation.

Everything is PyTorch's API: TensorDataset + DataLoader, nn.Sequential,
CrossEntropyLoss, Adam, a cosine learning-rate schedule. Each op builds lazyt
IR that is compiled to machine code once per op structure and then reused.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

import lazyt as lt
import lazyt.nn as nn
import lazyt.optim as optim
from lazyt.utils.data import DataLoader, TensorDataset

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "digits.npz")


def load_digits(path: str = DATA, seed: int = 0, valid_fraction: float = 0.2):
    """(train images, train labels, valid images, valid labels): images as
    float32 (N, 1, 8, 8) scaled to [0, 1], labels int64; a seeded split."""
    with np.load(path) as data:
        images = lt.tensor(data["images"]).float().div(16.0).unsqueeze(1)
        labels = lt.tensor(data["labels"]).long()
    order = lt.randperm(len(labels), generator=lt.Generator().manual_seed(seed))
    n_valid = int(round(valid_fraction * len(labels)))
    valid, train = order[:n_valid], order[n_valid:]
    return images[train], labels[train], images[valid], labels[valid]


def make_mlp() -> nn.Module:
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(64, 128), nn.ReLU(),
        nn.Linear(128, 64), nn.ReLU(),
        nn.Linear(64, 10),
    )


def make_cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(),           # 32 x 8 x 8
        nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),          # 32 x 8 x 8
        nn.MaxPool2d(2),                                     # 32 x 4 x 4
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),          # 64 x 4 x 4
        nn.MaxPool2d(2),                                     # 64 x 2 x 2
        nn.Flatten(),
        nn.Dropout(0.25),
        nn.Linear(256, 10),
    )


class ProgressBar:
    """A one-line progress bar: `epoch 3/10 [#########.......] 30/45 loss 0.123`."""

    def __init__(self, total: int, prefix: str, width: int = 24, stream=sys.stdout):
        self.total, self.prefix, self.width, self.stream = total, prefix, width, stream
        self.interactive = stream.isatty()

    def update(self, done: int, loss: float) -> None:
        if not self.interactive and done != self.total:
            return  # logs get one line per epoch, terminals a live bar
        filled = self.width * done // self.total
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r{self.prefix} [{bar}] {done}/{self.total} loss {loss:.4f}")
        self.stream.flush()

    def close(self, suffix: str = "") -> None:
        self.stream.write(suffix + "\n")
        self.stream.flush()


def accuracy(model: nn.Module, images: lt.Tensor, labels: lt.Tensor) -> float:
    model.eval()
    with lt.no_grad():
        predictions = model(images).argmax(1)
    model.train()
    return (predictions == labels).float().mean().item()


def train(model: nn.Module, data, epochs: int, lr: float, batch_size: int = 32,
          seed: int = 0, name: str = "model", verbose: bool = True) -> tuple[float, float]:
    """Train with Adam + cosine annealing; return (validation accuracy, seconds)."""
    x_train, y_train, x_valid, y_valid = data
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=batch_size, shuffle=True,
                        generator=lt.Generator().manual_seed(seed))
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=lr)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    start = time.perf_counter()
    for epoch in range(epochs):
        bar = ProgressBar(len(loader), f"{name} epoch {epoch + 1:2d}/{epochs}") if verbose \
            else None
        running = 0.0
        for step, (xb, yb) in enumerate(loader, 1):
            loss = loss_fn(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            running += loss.item()
            if bar is not None:
                bar.update(step, running / step)
        scheduler.step()
        if bar is not None:
            bar.close(f"  valid acc {accuracy(model, x_valid, y_valid):.2%}")
    seconds = time.perf_counter() - start
    return accuracy(model, x_valid, y_valid), seconds


def main(argv=None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=["mlp", "cnn", "both"], default="both")
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs per model (default: 20 for the MLP, 15 for the CNN)")
    parser.add_argument("--quick", action="store_true", help="one epoch per model")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    lt.manual_seed(args.seed)
    data = load_digits(seed=args.seed)
    print(f"digits: {len(data[1])} training and {len(data[3])} validation images, "
          f"{lt.get_num_threads() if hasattr(lt, 'get_num_threads') else os.cpu_count()} "
          "CPU threads")
    runs = {"mlp": (make_mlp, 20, 2e-3), "cnn": (make_cnn, 15, 2e-3)}
    results = {}
    for name in (["mlp", "cnn"] if args.model == "both" else [args.model]):
        make, default_epochs, lr = runs[name]
        epochs = 1 if args.quick else (args.epochs or default_epochs)
        lt.manual_seed(args.seed)
        model = make()
        acc, seconds = train(model, data, epochs, lr, seed=args.seed, name=name.upper())
        results[name] = acc
        print(f"{name.upper()}: validation accuracy {acc:.2%} after {epochs} epochs "
              f"in {seconds:.1f} s")
    return results


if __name__ == "__main__":
    main()
