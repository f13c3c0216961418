"""
3. nn, optim and DataLoader on the digits
=========================================

The same training written with PyTorch's building blocks: `nn.Sequential`,
`CrossEntropyLoss`, `optim.Adam`, `TensorDataset` + `DataLoader`, on the 8x8
digits bundled with the examples. A progress bar (tqdm) shows each epoch and
a plot shows loss and validation accuracy.

    python tutorials/03_nn_optim_data.py
"""

# %%
# Data and model
# --------------
import os
import sys

from _tutorial import SHORT, progress, pyplot, save

import lazyt as lt
import lazyt.nn as nn
from lazyt.utils.data import DataLoader, TensorDataset

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
from train_digits import accuracy, load_digits  # noqa: E402

lt.manual_seed(0)
x_train, y_train, x_valid, y_valid = load_digits()
loader = DataLoader(TensorDataset(x_train, y_train), batch_size=32, shuffle=True)
model = nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
print(model)
loss_fn = nn.CrossEntropyLoss()
optimizer = lt.optim.Adam(model.parameters(), lr=3e-3)

# %%
# The training loop
# -----------------
epochs = 2 if SHORT else 10
history = {"loss": [], "accuracy": []}
for epoch in range(epochs):
    total = 0.0
    for xb, yb in progress(loader, desc=f"epoch {epoch + 1}/{epochs}", leave=False):
        loss = loss_fn(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
    history["loss"].append(total / len(loader))
    history["accuracy"].append(accuracy(model, x_valid, y_valid))
    print(f"epoch {epoch + 1}: loss {history['loss'][-1]:.4f}  "
          f"valid accuracy {history['accuracy'][-1]:.2%}")
assert history["accuracy"][-1] > 0.85

# %%
# Loss and accuracy
# -----------------
plt = pyplot()
if plt is not None:
    figure, (left, right) = plt.subplots(1, 2, figsize=(8, 3))
    left.plot(range(1, epochs + 1), history["loss"], marker="o")
    left.set_title("training loss")
    left.set_xlabel("epoch")
    right.plot(range(1, epochs + 1), history["accuracy"], marker="o", color="tab:green")
    right.set_title("validation accuracy")
    right.set_xlabel("epoch")
    save(figure, "03_training.png")
