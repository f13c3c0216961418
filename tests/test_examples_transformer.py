"""examples/transformer.py (issue 15): a short run of the digit-reversing
transformer in lazyt's three modes, against PyTorch from the same weights
and batches: the loss falls and the curves agree."""

import importlib.util
import os

import numpy as np
import pytest

EXAMPLE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples",
                       "transformer.py")


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("transformer_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_batches_are_digits_and_their_reversal(example):
    (digits, targets), = example.make_batches(1)
    assert digits.shape == (example.BATCH, example.SEQ_LEN)
    assert digits.min() >= 0 and digits.max() < example.VOCAB
    np.testing.assert_array_equal(targets, digits[:, ::-1])


def test_short_training_falls_in_every_mode_and_matches_torch(example):
    pytest.importorskip("torch")
    # Compiled and deferred mode schedule and compile their first steps (the
    # slow part), so they run fewer of them (compiled: trace, record, replay).
    results = example.run(8, ("eager",), verbose=False)
    torch_losses = results["torch"][0]
    assert results["eager"][0][-1] < torch_losses[0] - 0.05, results["eager"][0]
    np.testing.assert_allclose(results["eager"][0], torch_losses, atol=example.LOSS_TOLERANCE)
    for mode, steps in (("compiled", 4), ("deferred", 2)):
        losses = example.run(steps, (mode,), with_torch=False, verbose=False)[mode][0]
        assert losses[-1] < losses[0], (mode, losses)
        np.testing.assert_allclose(losses, torch_losses[:steps], atol=example.LOSS_TOLERANCE)
