"""Rendering of kernel IR to LLVM IR text (lazyt/codegen/llvm.py)."""

from __future__ import annotations

import functools
import operator

import numpy as np

import lazyt as lt


def test_bool_temporaries_do_not_collide_with_buffer_names_in_wide_kernels():
    # Ten bool and ten float inputs fuse into one kernel of 21 buffers (%b0..%b20);
    # the temporaries converting loaded bools must not be named like them.
    rng = np.random.RandomState(0)
    masks = [rng.rand(33) > 0.2 for _ in range(10)]
    values = [rng.randn(33).astype(np.float32) for _ in range(10)]
    with lt.deferred():
        terms = [lt.where(lt.tensor(m), lt.tensor(v), 0.0) for m, v in zip(masks, values)]
        got = functools.reduce(operator.add, terms).numpy()
    expected = sum(np.where(m, v, 0) for m, v in zip(masks, values))
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
