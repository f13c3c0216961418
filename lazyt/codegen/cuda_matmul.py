"""The CUDA matmul kernel: a tiled shared-memory product, as Numba-CUDA source.

The CPU runs matmul as an extern op (BLAS); on the GPU lazyt has no cuBLAS,
so the extern is this generated kernel. Each block computes a TILE x TILE
tile of one batch element's output: it walks K in TILE steps, staging a tile
of each operand in shared memory, and accumulates in the register type
(float32 for float32/float16, float64, int64 for integers). Operands are read
through their strides, so transposed and expanded views need no copy.

Calling convention: matmul(a, b, out, offsets, params) with offsets[batch] =
(a, b, out) element offsets of each batch element (computed on the host
from the views) and params = (M, N, K, a_row, a_col, b_row, b_col, out_row,
out_col) strides. Launch: grid (ceil(N/TILE), ceil(M/TILE), batch), block
(TILE, TILE). With an epilogue (the elementwise kernel that consumed the
product, fused by codegen/cuda_epilogue.py) the epilogue's buffers and its
argument blocks follow: matmul(a, b, out, offsets, params, b0, ..., args,
fargs), and each element stores the epilogue's value, not the product.
"""

from __future__ import annotations

from lazyt import dtypes
from lazyt.codegen.cuda import (
    CudaSource,
    CudaUnsupported,
    register,
    render_expression,
    storage_element,
)
from lazyt.codegen.cuda_epilogue import COL, PRODUCT, ROW
from lazyt.dtypes import DType

TILE = 16

_ACCUMULATOR = {"float32": "float32", "float16": "float32", "float64": "float64",
                "int8": "int64", "uint8": "int64", "int16": "int64", "int32": "int64",
                "int64": "int64"}

_TEMPLATE = '''
def {name}(a, b, out, offsets, params{extra_args}):
{setup}    tile_a = cuda.shared.array(({tile}, {tile}), SHARED_{acc_upper})
    tile_b = cuda.shared.array(({tile}, {tile}), SHARED_{acc_upper})
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    row = int64(cuda.blockIdx.y) * {tile} + ty
    col = int64(cuda.blockIdx.x) * {tile} + tx
    batch = cuda.blockIdx.z
    m = params[0]
    n = params[1]
    k = params[2]
    a_base = offsets[batch, 0]
    b_base = offsets[batch, 1]
    out_base = offsets[batch, 2]
    acc = {acc}(0)
    for step in range((k + {tile} - 1) // {tile}):
        ka = step * {tile} + tx
        if row < m and ka < k:
            tile_a[ty, tx] = {acc}(a[a_base + row * params[3] + ka * params[4]])
        else:
            tile_a[ty, tx] = {acc}(0)
        kb = step * {tile} + ty
        if kb < k and col < n:
            tile_b[ty, tx] = {acc}(b[b_base + kb * params[5] + col * params[6]])
        else:
            tile_b[ty, tx] = {acc}(0)
        cuda.syncthreads()
        for kk in range({tile}):
            acc = {acc}(acc + tile_a[ty, kk] * tile_b[kk, tx])
        cuda.syncthreads()
    if row < m and col < n:
{store}
'''


def render_matmul(dtype: DType, epilogue=None) -> CudaSource:
    """The tiled matmul kernel for operands (and product) of dtype; with an
    epilogue (codegen/cuda_epilogue.MatmulEpilogue) it stores the epilogue's
    value at each element instead of the product, and takes the epilogue's
    buffers (b0, b1, ...) and argument blocks (args, fargs) after params."""
    acc = _ACCUMULATOR.get(dtype.name)
    if acc is None:
        raise CudaUnsupported(f'"matmul" is not implemented for CUDA tensors of dtype '
                              f"{dtype.name} in lazyt yet")
    element = storage_element(dtype)
    array = f"{element}[::1]"
    target = "out[out_base + row * params[7] + col * params[8]]"
    if epilogue is None:
        name = f"matmul_{dtype.name}"
        text = _TEMPLATE.format(name=name, tile=TILE, acc=acc, acc_upper=acc.upper(),
                                extra_args="", setup="", store=f"        {target} = {element}(acc)")
        signature = f"void({array}, {array}, {array}, int64[:, ::1], int64[::1])"
        return CudaSource(name, text, signature, False, (), (TILE, TILE))
    name = f"matmul_{dtype.name}_epilogue"
    product = f"product = {register(dtype)}(acc)" if dtype is not dtypes.float16 else \
        "product = float32(float16(acc))"
    rendered = render_expression(
        epilogue.expr, epilogue.buffers, {ROW: "row", COL: "col"},
        {PRODUCT: ("product", dtype)}, len(epilogue.params), indent=2, store_as=epilogue.dtype)
    out_dtype = epilogue.dtype
    store = "\n".join(["        " + product, *rendered.body, f"        {target} = {rendered.stored}"])
    buffers = [f"b{i}" for i in range(len(epilogue.buffers))]
    text = _TEMPLATE.format(name=name, tile=TILE, acc=acc, acc_upper=acc.upper(),
                            extra_args="".join(f", {b}" for b in buffers + ["args", "fargs"]),
                            setup="".join(line + "\n" for line in rendered.setup), store=store)
    arrays = [f"{storage_element(d)}[::1]" for d in epilogue.buffers]
    signature = (f"void({array}, {array}, {storage_element(out_dtype)}[::1], int64[:, ::1], "
                 f"int64[::1], {''.join(a + ', ' for a in arrays)}int64[::1], float64[::1])")
    return CudaSource(name, text, signature, False, rendered.math, (TILE, TILE))
