"""A walk-through of lazyt's tensor model: storage, views, strides, and the
compiler underneath. Runs verbatim with `import lazyt as torch`.

    python examples/tensors.py
"""

import math

import lazyt as torch

# A tensor is a view (shape, strides, offset) over a flat storage.
points = torch.tensor([[1.0, 4.0], [2.0, 1.0], [3.0, 5.0]])
print(points)
print(points.storage())  # the 6 floats, row after row
print("size:", points.size(), "offset:", points.storage_offset(), "strides:", points.stride())

# Indexing returns views: same storage, different offset/strides.
second = points[1]
print("points[1].storage_offset() =", second.storage_offset())  # 2
assert points[1].storage_offset() == 2 and points.stride() == (2, 1)
print("float(points[0][0]) =", float(points[0][0]))

# Transposing changes strides only; writing through a view changes the base.
points_t = points.t()
print("points.t().stride() =", points_t.stride(), "shares storage:",
      points_t.storage().data_ptr() == points.storage().data_ptr())
points_t[0, 2] = 30.0
print("after points.t()[0, 2] = 30:", points.tolist())

# dtypes and devices as in PyTorch.
double_points = torch.tensor([[1.0, 4.0], [2.0, 1.0]], dtype=torch.float32, device="cpu").double()
print(double_points.dtype, (torch.arange(4) * 2.5).dtype, (torch.ones(2, dtype=torch.int32) / 2).dtype)

# Every op builds an IR node and is compiled by LLVM (eagerly, by default).
torch.manual_seed(0)
weights = torch.randn(256, 4) / math.sqrt(256)
bias = torch.zeros(4, requires_grad=True)
print("weights std ~ 1/16:", round(float(weights.std()), 4), "bias:", bias)

torch.debug.reset_stats()
a, b = torch.rand(1000), torch.rand(1000)
c = a * b + 1
stats = torch.debug.stats()
print(f"a * b + 1: {stats['kernel_launches']} kernel launches, "
      f"{stats['kernels_compiled']} kernels compiled, {stats['cache_hits']} cache hits")
for n in (10, 100, 1000):
    (torch.rand(n) * torch.rand(n) + 1).sum()
print("new shapes compile nothing new:", torch.debug.stats()["kernels_compiled"] - stats["kernels_compiled"],
      "extra kernels")
