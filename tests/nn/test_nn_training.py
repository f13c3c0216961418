"""Training on real data: examples/train_digits.py and examples/nn_tutorial.py.

CI runs short versions (a few epochs, accuracy far above the 10% of chance);
the full runs that check the README's numbers are marked slow."""

import importlib.util
import os

import pytest

import lazyt as lt

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "examples")


def _example(name: str):
    spec = importlib.util.spec_from_file_location(name, os.path.join(EXAMPLES, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def digits():
    module = _example("train_digits")
    return module, module.load_digits()


def test_digits_split_is_a_seeded_80_20_partition(digits):
    module, (x_train, y_train, x_valid, y_valid) = digits
    assert x_train.shape == (1438, 1, 8, 8) and x_valid.shape == (359, 1, 8, 8)
    assert y_train.dtype == lt.int64 and 0.0 <= x_train.min().item() <= x_train.max().item() <= 1
    again = module.load_digits()
    assert again[3].tolist() == y_valid.tolist()


def test_mlp_learns_the_digits_in_a_few_epochs(digits):
    module, data = digits
    lt.manual_seed(0)
    acc, _ = module.train(module.make_mlp(), data, epochs=3, lr=2e-3, verbose=False)
    assert acc >= 0.88


def test_cnn_learns_the_digits_in_one_epoch(digits):
    module, data = digits
    lt.manual_seed(0)
    acc, _ = module.train(module.make_cnn(), data, epochs=1, lr=2e-3, verbose=False)
    assert acc >= 0.7


def test_nn_tutorial_runs_every_step():
    results = _example("nn_tutorial").main(quick=True)
    assert set(results) == {"from scratch", "logistic", "cnn", "sequential", "adaptive pool"}
    assert results["logistic"] >= 0.85 and results["from scratch"] >= 0.6


@pytest.mark.slow
def test_train_digits_reaches_the_advertised_accuracy():
    results = _example("train_digits").main([])
    assert results["mlp"] >= 0.95
    assert results["cnn"] >= 0.97


@pytest.mark.slow
def test_nn_tutorial_full_run():
    results = _example("nn_tutorial").main(quick=False)
    assert results["logistic"] >= 0.93
