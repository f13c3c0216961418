"""nn.utils.prune: masks, the weight_orig / weight_mask layout, containers,
global pruning and removal, against PyTorch where it is installed."""

import numpy as np
import pytest

import lazyt as lt
from lazyt.nn.utils import prune

# distinct absolute values, so "smallest magnitude" has one answer
W = (np.random.default_rng(0).permutation(24).astype(np.float32) + 1.0).reshape(4, 6) * \
    np.where(np.arange(24).reshape(4, 6) % 3 == 0, -1, 1).astype(np.float32)


def _linear(lib, weight=W):
    layer = lib.nn.Linear(weight.shape[1], weight.shape[0])
    with lib.no_grad():
        layer.weight.copy_(lib.tensor(weight))
        layer.bias.zero_()
    return layer


def test_l1_unstructured_masks_and_removes():
    layer = _linear(lt)
    prune.l1_unstructured(layer, "weight", amount=0.25)
    assert list(layer.state_dict()) == ["bias", "weight_orig", "weight_mask"]
    mask = layer.weight_mask.numpy()
    assert mask.sum() == 18 and np.abs(W[mask == 0]).max() < np.abs(W[mask == 1]).min()
    np.testing.assert_array_equal(layer(lt.eye(6)).detach().numpy().T, W * mask)
    assert prune.is_pruned(layer)
    prune.remove(layer, "weight")
    assert list(layer.state_dict()) == ["bias", "weight"] and not prune.is_pruned(layer)
    np.testing.assert_array_equal(layer.weight.detach().numpy(), W * mask)
    with pytest.raises(ValueError, match="has to be pruned before pruning can be removed"):
        prune.remove(layer, "weight")
    with pytest.raises(ValueError, match="amount=1.5 should either be a float in the range"):
        prune.l1_unstructured(layer, "weight", amount=1.5)


def test_random_pruning_prunes_the_requested_amount():
    layer = lt.nn.Linear(6, 4)
    prune.random_unstructured(layer, "weight", amount=5)
    assert int((layer.weight_mask == 0).sum()) == 5
    prune.random_structured(layer, "weight", amount=2, dim=1)
    assert isinstance(layer._forward_pre_hooks[next(iter(layer._forward_pre_hooks))],
                      prune.PruningContainer)
    assert int((layer.weight_mask.sum(0) == 0).sum()) >= 2


def test_pruning_matches_torch():
    torch = pytest.importorskip("torch")
    import torch.nn.utils.prune as torch_prune

    results = []
    for lib, module in ((torch, torch_prune), (lt, prune)):
        out = {}
        layer = _linear(lib)
        module.l1_unstructured(layer, "weight", amount=0.3)
        out["l1"] = layer.weight_mask.tolist()
        module.ln_structured(layer, "weight", amount=1, n=2, dim=0)
        out["ln"] = layer.weight_mask.tolist()
        out["y"] = np.round(layer(lib.ones(1, 6)).detach().numpy(), 4).tolist()
        out["keys"] = list(layer.state_dict())
        first, second = _linear(lib), _linear(lib, W[:2, :4] * 1.01)
        module.global_unstructured([(first, "weight"), (second, "weight")],
                                   pruning_method=module.L1Unstructured, amount=10)
        out["global"] = [first.weight_mask.tolist(), second.weight_mask.tolist()]
        bias = _linear(lib)
        module.custom_from_mask(bias, "bias", mask=lib.tensor([1.0, 0.0, 1.0, 0.0]))
        out["custom"] = bias.bias_mask.tolist()
        try:
            module.ln_structured(_linear(lib), "bias", amount=1, n=1, dim=0)
        except ValueError as error:
            out["error"] = str(error).replace("torch.Size", "Size").replace("lazyt.Size", "Size")
        results.append(out)
    assert results[0] == results[1]
