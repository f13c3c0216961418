"""
2. Autograd by hand: one layer, a manual update
===============================================

The seed's network: 256 inputs -> 4 classes, weights made by hand, the loss
written out with tensor ops, gradients from `loss.backward()`, and the update
`p -= p.grad * lr` under `no_grad`. It plots the loss curve.

    python tutorials/02_autograd_by_hand.py
"""

# %%
# Data: a 4-class problem a single linear layer can learn
# -------------------------------------------------------
import math

from _tutorial import SHORT, pyplot, save

import lazyt as lt

lt.manual_seed(0)
inputs = lt.randn(1024, 256)
labels = (inputs @ lt.randn(256, 4)).argmax(dim=1)

# %%
# Parameters, made by hand
# ------------------------
weights = lt.randn(256, 4) / math.sqrt(256)
weights.requires_grad_()
bias = lt.zeros(4, requires_grad=True)


def model(xb):
    return xb @ weights + bias


def loss_fn(logits, targets):
    return -logits.log_softmax(dim=1).gather(1, targets.unsqueeze(1)).mean()


# %%
# What backward() gives
# ---------------------
loss = loss_fn(model(inputs[:8]), labels[:8])
loss.backward()
print("loss", loss.item(), "| grad shapes", tuple(weights.grad.shape), tuple(bias.grad.shape))
print("loss.grad_fn:", loss.grad_fn.name())
assert weights.grad.shape == weights.shape
weights.grad = None
bias.grad = None

# %%
# The training loop: p -= p.grad * lr
# -----------------------------------
lr, batch = 0.5, 64
losses = []
for epoch in range(2 if SHORT else 8):
    for i in range(0, 1024, batch):
        loss = loss_fn(model(inputs[i:i + batch]), labels[i:i + batch])
        loss.backward()
        with lt.no_grad():
            for p in (weights, bias):
                p -= p.grad * lr
                p.grad.zero_()
        losses.append(loss.item())
    print(f"epoch {epoch}: loss {losses[-1]:.4f}")
with lt.no_grad():
    accuracy = (model(inputs).argmax(1) == labels).float().mean().item()
print(f"accuracy {accuracy:.3f}")
assert losses[-1] < losses[0] / 2 and accuracy > 0.8

# %%
# The loss curve
# --------------
plt = pyplot()
if plt is not None:
    figure = plt.figure(figsize=(6, 3))
    plt.plot(losses)
    plt.xlabel("step")
    plt.ylabel("cross-entropy")
    plt.title("256 -> 4, trained with p -= p.grad * lr")
    save(figure, "02_loss.png")
