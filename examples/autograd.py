"""Autograd by hand: the seed's one-layer network (256 -> 4) trained with the
manual update rule, on a small synthetic problem.

Every op below (forward, backward, update) builds lazyt IR and runs as
generated kernels (matmul via the BLAS extern); run with LAZYT_DEBUG=2 to see
each launch. Replace `import lazyt as torch` with `import torch` and the
script runs unchanged on PyTorch.

    python examples/autograd.py
"""

import math
import time

import lazyt as torch

torch.manual_seed(0)

# A synthetic 4-class problem: the label of a 256-d point is the argmax of a
# hidden linear map of it, so a one-layer network can learn it exactly.
n_samples, n_features, n_classes = 1024, 256, 4
inputs = torch.randn(n_samples, n_features)
teacher = torch.randn(n_features, n_classes)
labels = (inputs @ teacher).argmax(dim=1)

# The seed's parameters, created exactly as in the issue.
weights = torch.randn(256, 4) / math.sqrt(256)
weights.requires_grad_()
bias = torch.zeros(4, requires_grad=True)


def model(xb):
    return xb @ weights + bias


def cross_entropy(logits, targets):
    """-log softmax(logits)[target], averaged: written out with autograd'd ops."""
    log_probs = logits.log_softmax(dim=1)
    return -log_probs.gather(1, targets.unsqueeze(1)).mean()


def accuracy(logits, targets):
    return (logits.argmax(dim=1) == targets).float().mean().item()


def report(epoch):
    with torch.no_grad():
        logits = model(inputs)
        print(f"epoch {epoch}: loss {cross_entropy(logits, labels).item():.4f}  "
              f"accuracy {accuracy(logits, labels):.3f}")


lr, batch_size, epochs = 0.5, 64, 8
start = time.perf_counter()
report(0)
for epoch in range(epochs):
    for i in range(0, n_samples, batch_size):
        xb, yb = inputs[i:i + batch_size], labels[i:i + batch_size]
        loss = cross_entropy(model(xb), yb)
        loss.backward()
        with torch.no_grad():
            for p in (weights, bias):
                p -= p.grad * lr
                p.grad.zero_()
    report(epoch + 1)
print(f"trained in {time.perf_counter() - start:.2f} s")
