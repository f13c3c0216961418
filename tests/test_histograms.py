"""lazyt/histograms.py against PyTorch: histogram and histogramdd with bin counts, ranges,
edge tensors, weights and densities; points on edges, outside the range and NaN; out=;
PyTorch's errors."""

from __future__ import annotations

import numpy as np
import pytest

import lazyt as lt

torch = pytest.importorskip("torch")

NAN = float("nan")


def _pair(values, dtype="float32"):
    t = torch.tensor(values, dtype=getattr(torch, dtype))
    return lt.tensor(t.numpy().copy(), dtype=getattr(lt, dtype)), t


def _close(got, expected):
    if isinstance(expected, (tuple, list)):
        for g, e in zip(got, expected, strict=True):
            _close(g, e)
        return
    assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    assert tuple(got.shape) == tuple(expected.shape)
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6, atol=1e-7)


DATA = [[0.0, 1.0, 1.5, 2.0], [3.0, -1.0, NAN, 2.5], [1.0, 1.0, 0.25, 4.0]]


def test_histogram_matches_torch():
    x, tx = _pair(DATA)
    w, tw = _pair(np.linspace(0.5, 2.0, 12).reshape(3, 4).tolist())
    edges, tedges = _pair([-1.0, 0.0, 1.0, 2.5, 3.0])
    for density in (False, True):
        for weight, tweight in ((None, None), (w, tw)):
            _close(lt.histogram(x, 4, range=(0.0, 3.0), weight=weight, density=density),
                   torch.histogram(tx, 4, range=(0.0, 3.0), weight=tweight, density=density))
            _close(x.histogram(edges, weight=weight, density=density),
                   tx.histogram(tedges, weight=tweight, density=density))
    finite, tfinite = _pair([[2.0, 1.0], [1.0, 0.5]])
    _close(lt.histogram(finite, 3), torch.histogram(tfinite, 3))
    same, tsame = _pair([1.0, 1.0, 1.0])
    _close(lt.histogram(same, 2), torch.histogram(tsame, 2))
    empty, tempty = _pair([])
    _close(lt.histogram(empty, 2), torch.histogram(tempty, 2))
    out = (lt.empty(0), lt.empty(0))
    lt.histogram(finite, 3, out=out)
    _close(out, torch.histogram(tfinite, 3))


def test_histogramdd_matches_torch():
    points, tpoints = _pair([[0.0, 1.0, 2.0], [0.5, 0.5, 0.5], [1.0, 0.0, 3.0], [0.25, 2.0, 1.0],
                             [NAN, 1.0, 1.0]])
    w, tw = _pair([1.0, 2.0, 0.5, 1.5, 3.0])
    for density in (False, True):
        _close(lt.histogramdd(points[:4], [2, 3, 1], weight=w[:4], density=density),
               torch.histogramdd(tpoints[:4], [2, 3, 1], weight=tw[:4], density=density))
        _close(lt.histogramdd(points, 2, range=[0.0, 1.0, 0.0, 2.0, 0.0, 4.0], density=density),
               torch.histogramdd(tpoints, 2, range=[0.0, 1.0, 0.0, 2.0, 0.0, 4.0],
                                 density=density))
    edges = [[0.0, 0.5, 1.0], [0.0, 1.0, 2.0], [0.0, 3.0]]
    _close(lt.histogramdd(points, [lt.tensor(e) for e in edges]),
           torch.histogramdd(tpoints, [torch.tensor(e) for e in edges]))


def test_histogram_errors_match_torch():
    x = lt.tensor([1.0, 2.0, 3.0])
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        lt.histogram(lt.tensor([1, 2]), 3)
    with pytest.raises(RuntimeError, match="bins must be > 0, but got -1"):
        lt.histogram(x, -1)
    with pytest.raises(RuntimeError, match="min should not exceed max"):
        lt.histogram(x, 2, range=(1.0, 0.0))
    with pytest.raises(RuntimeError, match="is not finite"):
        lt.histogram(lt.tensor([float("inf")]), 2)
    with pytest.raises(RuntimeError, match="range \\[nan, nan\\] is not finite"):
        lt.histogram(lt.tensor([NAN, 1.0]), 2)
    with pytest.raises(RuntimeError, match="same shape as the input"):
        lt.histogram(x, 2, weight=lt.ones(2))
    with pytest.raises(RuntimeError, match="size of bins must be equal to the innermost"):
        lt.histogramdd(lt.ones(4, 2), [2, 3, 4])


def test_histogram_needs_two_edges_like_torch():
    with pytest.raises(RuntimeError, match="bins must be > 0, but got 0"):
        lt.histogram(lt.tensor([1.0, 2.0]), lt.tensor([1.0]))
