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
    # Deferred mode schedules and compiles its first steps (the slow part), so
    # it runs fewer of them; eager and compiled run ten.
    results = example.run(10, ("eager", "compiled"), verbose=False)
    deferred = example.run(4, ("deferred",), with_torch=False, verbose=False)["deferred"]
    torch_losses = results["torch"][0]
    for mode in ("eager", "compiled"):
        losses = results[mode][0]
        assert losses[-1] < losses[0] - 0.05, (mode, losses)
        np.testing.assert_allclose(losses, torch_losses, atol=example.LOSS_TOLERANCE)
    np.testing.assert_allclose(deferred[0], torch_losses[:4], atol=example.LOSS_TOLERANCE)
    assert deferred[0][-1] < deferred[0][0]
