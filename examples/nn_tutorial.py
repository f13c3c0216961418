"""PyTorch's tutorial "What is torch.nn really?" run with `import lazyt as torch`.

    python examples/nn_tutorial.py           # every step, a few epochs each
    python examples/nn_tutorial.py --quick   # one epoch per step (what CI runs)

The tutorial's steps, in its order, on the 8x8 digits shipped in
examples/data/digits.npz instead of MNIST (so 64 pixels, not 784): a model
from raw tensors with a hand-written log_softmax and nll; then
F.cross_entropy; an nn.Module with nn.Parameter; nn.Linear; optim.SGD;
TensorDataset; DataLoader; validation with fit()/get_data(); a CNN;
nn.Sequential with a Lambda layer; a wrapped DataLoader with
nn.AdaptiveAvgPool2d; and the device step. Only the data loading differs
from the tutorial; every other line is PyTorch code.
"""

import argparse
import math
import os

import numpy as np

import lazyt as torch
import lazyt.nn.functional as F
from lazyt import nn, optim
from lazyt.utils.data import DataLoader, TensorDataset

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "digits.npz")
PIXELS, SIDE = 64, 8  # the tutorial's 784 and 28


def load_data():
    """The only lazyt-specific part: digits instead of MNIST, as numpy arrays."""
    with np.load(DATA) as data:
        images = data["images"].reshape(-1, PIXELS).astype(np.float32) / 16.0
        labels = data["labels"].astype(np.int64)
    order = np.random.default_rng(0).permutation(len(labels))
    n_valid = len(labels) // 5
    valid, train = order[:n_valid], order[n_valid:]
    return images[train], labels[train], images[valid], labels[valid]


def main(quick: bool = False) -> dict:
    epochs = 1 if quick else 10
    results = {}
    torch.manual_seed(0)

    # --- MNIST data setup (here: digits) ----------------------------------
    x_train, y_train, x_valid, y_valid = map(torch.tensor, load_data())
    n, c = x_train.shape
    print(x_train.shape, y_train.min(), y_train.max())

    # --- Neural net from scratch (without torch.nn) -----------------------
    weights = torch.randn(PIXELS, 10) / math.sqrt(PIXELS)
    weights.requires_grad_()
    bias = torch.zeros(10, requires_grad=True)

    def log_softmax(x):
        return x - x.exp().sum(-1).log().unsqueeze(-1)

    def model(xb):
        return log_softmax(xb @ weights + bias)

    bs = 64
    xb = x_train[0:bs]
    preds = model(xb)
    print(preds[0], preds.shape)

    def nll(input, target):
        return -input[range(target.shape[0]), target].mean()

    loss_func = nll
    yb = y_train[0:bs]
    print(loss_func(preds, yb))

    def accuracy(out, yb):
        preds = torch.argmax(out, dim=1)
        return (preds == yb).float().mean()

    print(accuracy(preds, yb))

    lr = 0.5
    for epoch in range(epochs):  # noqa: B007 - the tutorial's loop
        for i in range((n - 1) // bs + 1):
            start_i = i * bs
            end_i = start_i + bs
            xb = x_train[start_i:end_i]
            yb = y_train[start_i:end_i]
            pred = model(xb)
            loss = loss_func(pred, yb)

            loss.backward()
            with torch.no_grad():
                weights -= weights.grad * lr
                bias -= bias.grad * lr
                weights.grad.zero_()
                bias.grad.zero_()
    print(loss_func(model(xb), yb), accuracy(model(xb), yb))
    results["from scratch"] = accuracy(model(x_valid), y_valid).item()

    # --- Using torch.nn.functional -----------------------------------------
    loss_func = F.cross_entropy

    def model(xb):  # noqa: F811 - the tutorial redefines model step by step
        return xb @ weights + bias

    print(loss_func(model(xb), yb), accuracy(model(xb), yb))

    # --- Refactor using nn.Module --------------------------------------------
    class Mnist_Logistic(nn.Module):  # noqa: N801 - the tutorial's name
        def __init__(self):
            super().__init__()
            self.weights = nn.Parameter(torch.randn(PIXELS, 10) / math.sqrt(PIXELS))
            self.bias = nn.Parameter(torch.zeros(10))

        def forward(self, xb):
            return xb @ self.weights + self.bias

    model = Mnist_Logistic()
    print(loss_func(model(xb), yb))

    def fit():
        for epoch in range(epochs):  # noqa: B007
            for i in range((n - 1) // bs + 1):
                start_i = i * bs
                end_i = start_i + bs
                xb = x_train[start_i:end_i]
                yb = y_train[start_i:end_i]
                pred = model(xb)
                loss = loss_func(pred, yb)

                loss.backward()
                with torch.no_grad():
                    for p in model.parameters():
                        p -= p.grad * lr
                    model.zero_grad()

    fit()
    print(loss_func(model(xb), yb))

    # --- Refactor using nn.Linear ---------------------------------------------
    class Mnist_Logistic(nn.Module):  # noqa: N801, F811
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(PIXELS, 10)

        def forward(self, xb):
            return self.lin(xb)

    model = Mnist_Logistic()
    print(loss_func(model(xb), yb))
    fit()
    print(loss_func(model(xb), yb))

    # --- Refactor using torch.optim ---------------------------------------------
    def get_model():
        model = Mnist_Logistic()
        return model, optim.SGD(model.parameters(), lr=lr)

    model, opt = get_model()
    print(loss_func(model(xb), yb))
    for epoch in range(epochs):  # noqa: B007 - the tutorial's loop
        for i in range((n - 1) // bs + 1):
            start_i = i * bs
            end_i = start_i + bs
            xb = x_train[start_i:end_i]
            yb = y_train[start_i:end_i]
            pred = model(xb)
            loss = loss_func(pred, yb)

            loss.backward()
            opt.step()
            opt.zero_grad()
    print(loss_func(model(xb), yb))

    # --- Refactor using Dataset and DataLoader -----------------------------------
    train_ds = TensorDataset(x_train, y_train)
    train_dl = DataLoader(train_ds, batch_size=bs)
    model, opt = get_model()
    for epoch in range(epochs):  # noqa: B007
        for xb, yb in train_dl:
            pred = model(xb)
            loss = loss_func(pred, yb)
            loss.backward()
            opt.step()
            opt.zero_grad()
    print(loss_func(model(xb), yb))

    # --- Add validation ------------------------------------------------------------
    train_dl = DataLoader(train_ds, batch_size=bs, shuffle=True)
    valid_ds = TensorDataset(x_valid, y_valid)
    valid_dl = DataLoader(valid_ds, batch_size=bs * 2)

    def loss_batch(model, loss_func, xb, yb, opt=None):
        loss = loss_func(model(xb), yb)
        if opt is not None:
            loss.backward()
            opt.step()
            opt.zero_grad()
        return loss.item(), len(xb)

    def fit(epochs, model, loss_func, opt, train_dl, valid_dl):  # noqa: F811
        for epoch in range(epochs):
            model.train()
            for xb, yb in train_dl:
                loss_batch(model, loss_func, xb, yb, opt)
            model.eval()
            with torch.no_grad():
                losses, nums = zip(*[loss_batch(model, loss_func, xb, yb)
                                     for xb, yb in valid_dl])
            val_loss = np.sum(np.multiply(losses, nums)) / np.sum(nums)
            print(epoch, val_loss)
        return val_loss

    def get_data(train_ds, valid_ds, bs):
        return (DataLoader(train_ds, batch_size=bs, shuffle=True),
                DataLoader(valid_ds, batch_size=bs * 2))

    def valid_accuracy(model, dl):
        model.eval()
        with torch.no_grad():
            right = sum((model(xb).argmax(1) == yb).sum().item() for xb, yb in dl)
        return right / len(valid_ds)

    train_dl, valid_dl = get_data(train_ds, valid_ds, bs)
    model, opt = get_model()
    fit(epochs, model, loss_func, opt, train_dl, valid_dl)
    results["logistic"] = valid_accuracy(model, valid_dl)

    # --- Switch to CNN -------------------------------------------------------------
    class Mnist_CNN(nn.Module):  # noqa: N801
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 16, kernel_size=3, stride=2, padding=1)
            self.conv2 = nn.Conv2d(16, 16, kernel_size=3, stride=2, padding=1)
            self.conv3 = nn.Conv2d(16, 10, kernel_size=3, stride=2, padding=1)

        def forward(self, xb):
            xb = xb.view(-1, 1, SIDE, SIDE)
            xb = F.relu(self.conv1(xb))
            xb = F.relu(self.conv2(xb))
            xb = F.relu(self.conv3(xb))
            xb = F.avg_pool2d(xb, 1)  # 8x8 digits end at 1x1 (MNIST: pool 4)
            return xb.view(-1, xb.size(1))

    lr = 0.1
    model = Mnist_CNN()
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    fit(epochs, model, loss_func, opt, train_dl, valid_dl)
    results["cnn"] = valid_accuracy(model, valid_dl)

    # --- Using nn.Sequential ---------------------------------------------------------
    class Lambda(nn.Module):
        def __init__(self, func):
            super().__init__()
            self.func = func

        def forward(self, x):
            return self.func(x)

    def preprocess(x):
        return x.view(-1, 1, SIDE, SIDE)

    model = nn.Sequential(
        Lambda(preprocess),
        nn.Conv2d(1, 16, kernel_size=3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 16, kernel_size=3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 10, kernel_size=3, stride=2, padding=1),
        nn.ReLU(),
        nn.AvgPool2d(1),
        Lambda(lambda x: x.view(x.size(0), -1)),
    )
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    fit(epochs, model, loss_func, opt, train_dl, valid_dl)
    results["sequential"] = valid_accuracy(model, valid_dl)

    # --- Wrapping DataLoader ------------------------------------------------------------
    def preprocess(x, y):  # noqa: F811
        return x.view(-1, 1, SIDE, SIDE), y

    class WrappedDataLoader:
        def __init__(self, dl, func):
            self.dl = dl
            self.func = func

        def __len__(self):
            return len(self.dl)

        def __iter__(self):
            for b in self.dl:
                yield self.func(*b)

    train_dl, valid_dl = get_data(train_ds, valid_ds, bs)
    train_dl = WrappedDataLoader(train_dl, preprocess)
    valid_dl = WrappedDataLoader(valid_dl, preprocess)
    model = nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 16, kernel_size=3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 10, kernel_size=3, stride=2, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        Lambda(lambda x: x.view(x.size(0), -1)),
    )
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    fit(epochs, model, loss_func, opt, train_dl, valid_dl)

    # --- Using your GPU ----------------------------------------------------------------
    print(torch.cuda.is_available())
    dev = torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")

    def preprocess(x, y):  # noqa: F811
        return x.view(-1, 1, SIDE, SIDE).to(dev), y.to(dev)

    train_dl, valid_dl = get_data(train_ds, valid_ds, bs)
    train_dl = WrappedDataLoader(train_dl, preprocess)
    valid_dl = WrappedDataLoader(valid_dl, preprocess)
    model.to(dev)
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    fit(epochs, model, loss_func, opt, train_dl, valid_dl)
    results["adaptive pool"] = valid_accuracy(model, valid_dl)

    for name, acc in results.items():
        print(f"{name:>14}: validation accuracy {acc:.1%}")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one epoch per step")
    main(parser.parse_args().quick)
