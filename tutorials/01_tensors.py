"""
1. Tensors: storage, offset, stride, views, dtypes, devices
===========================================================

A lazyt tensor is a *view* (shape, strides, offset) over a flat *storage*,
exactly as in PyTorch. This tutorial walks through what that means and draws
the storage behind a transposed view.

    python tutorials/01_tensors.py
"""

# %%
# A tensor and its storage
# ------------------------
from _tutorial import pyplot, save

import lazyt as lt

x = lt.arange(12, dtype=lt.float32).reshape(3, 4)
print(x)
print("shape", tuple(x.shape), "stride", x.stride(), "offset", x.storage_offset())
print("storage:", x.untyped_storage().nbytes(), "bytes,", x.numel(), "elements")
assert x.stride() == (4, 1) and x.is_contiguous()

# %%
# Views share the storage
# -----------------------
# Transposing, slicing and reshaping a contiguous tensor make *views*: new
# shape/stride/offset, same memory. Writing through a view changes the base.
t = x.t()
row = x[1]
col = x[:, 2]
print("x.t():   stride", t.stride(), "contiguous:", t.is_contiguous())
print("x[1]:    offset", row.storage_offset(), "stride", row.stride())
print("x[:, 2]: offset", col.storage_offset(), "stride", col.stride())
assert t.data_ptr() == x.data_ptr() and not t.is_contiguous()
assert row.storage_offset() == 4 and col.stride() == (4,)
col[0] = 100.0
print("after col[0] = 100:", x[0].tolist())
assert x[0, 2].item() == 100.0

# %%
# contiguous() copies when it must
# --------------------------------
c = t.contiguous()
print("t.contiguous(): stride", c.stride(), "shares memory with x:", c.data_ptr() == x.data_ptr())
assert c.stride() == (3, 1) and c.data_ptr() != x.data_ptr()

# %%
# dtypes and promotion
# --------------------
i = lt.tensor([1, 2, 3])
f = lt.tensor([0.5, 0.25, 0.125])
print(i.dtype, f.dtype, (i + f).dtype, (i * 2).dtype, (i / 2).dtype, i.to(lt.float64).dtype)
assert (i + f).dtype == lt.float32 and (i / 2).dtype == lt.float32

# %%
# Devices
# -------
# Every tensor lives on a device; without a GPU that is the CPU, and the
# tutorials' device idiom picks it.
device = lt.accelerator.current_accelerator().type if lt.accelerator.is_available() else "cpu"
y = lt.ones(2, 2, device=device)
print("device:", y.device)

# %%
# A picture of x.t(): which storage cell each element reads
# ---------------------------------------------------------
plt = pyplot()
if plt is not None:
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(7, 4))
    values = x.flatten().tolist()
    for k, v in enumerate(values):
        top.add_patch(plt.Rectangle((k, 0), 1, 1, fill=False))
        top.text(k + 0.5, 0.5, f"{v:g}", ha="center", va="center")
    top.set_xlim(0, 12)
    top.set_ylim(0, 1)
    top.axis("off")
    top.set_title("storage (12 floats)")
    bottom.imshow(t.numpy(), cmap="Blues")
    for r in range(4):
        for k in range(3):
            offset = t.storage_offset() + r * t.stride(0) + k * t.stride(1)
            bottom.text(k, r, f"{t[r, k].item():g}\n@{offset}", ha="center", va="center",
                        fontsize=8)
    bottom.set_title("x.t(): element [r, k] reads storage[r*1 + k*4]")
    bottom.axis("off")
    save(figure, "01_transpose_view.png")
