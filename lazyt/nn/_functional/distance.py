"""F.pdist: the p-norm distance between every pair of rows of a matrix
(the upper triangle of cdist, flattened row by row), with lazyt ops."""

from __future__ import annotations

from lazyt import creation
from lazyt.tensor import Tensor


def pdist(input: Tensor, p: float = 2) -> Tensor:
    """(N, M) -> (N*(N-1)/2,): ||x_i - x_j||_p for i < j, in row-major order."""
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if not input.is_floating_point():
        raise RuntimeError("pdist only supports floating-point dtypes")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    rows = input.shape[0]
    pairs = creation.triu_indices(rows, rows, 1, device=input.device)
    difference = input[pairs[0]] - input[pairs[1]]
    if p == 0:
        # The count of differing coordinates: its gradient is 0, but as in
        # PyTorch the result stays connected to the input (it requires grad).
        return (difference != 0).to(input.dtype).sum(1) + (difference * 0.0).sum(1)
    return difference.norm(p, dim=1)
