"""lt.autocast and lt.amp.GradScaler, and lt.utils.checkpoint, as PyTorch's."""

import warnings

import numpy as np
import pytest

import lazyt as lt
from lazyt.utils.checkpoint import checkpoint, checkpoint_sequential


def test_autocast_runs_matmuls_in_the_lower_precision_dtype():
    with lt.autocast("cpu"):
        assert lt.is_autocast_enabled("cpu") and lt.get_autocast_dtype("cpu") is lt.bfloat16
        product = lt.ones(2, 2) @ lt.ones(2, 2)
        assert product.dtype is lt.bfloat16
        assert (lt.ones(2, 2) + 1).dtype is lt.float32  # (not in the list)
        assert lt.addmm(lt.ones(2), lt.ones(2, 2), lt.ones(2, 2)).dtype is lt.bfloat16
        w = lt.ones(2, 2, requires_grad=True)
        (lt.ones(2, 2) @ w).float().sum().backward()
    assert not lt.is_autocast_enabled("cpu")
    assert w.grad.dtype is lt.float32 and w.grad.tolist() == [[2.0, 2.0], [2.0, 2.0]]
    with lt.autocast("cpu", dtype=lt.float16):
        assert (lt.ones(2, 2) @ lt.ones(2, 2)).dtype is lt.float16
    with pytest.warns(UserWarning, match="the target dtype is not supported"):
        with lt.autocast("cpu", dtype=lt.float64):
            assert (lt.ones(2, 2) @ lt.ones(2, 2)).dtype is lt.float32

    @lt.autocast("cpu")
    def decorated(a):
        return a @ a

    assert decorated(lt.ones(2, 2)).dtype is lt.bfloat16


def _scaler_run(lib, scaler):
    """Scales seen over steps where step 2's gradient overflows."""
    param = lib.nn.Parameter(lib.ones(2))
    opt = lib.optim.SGD([param], lr=0.1)
    scales = []
    for step in range(5):
        opt.zero_grad()
        loss = (param * (float("inf") if step == 2 else 1.0)).sum()
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        scales.append(scaler.get_scale())
    return scales, param.tolist()


def test_grad_scaler_backs_off_and_grows_like_pytorchs():
    scales, values = _scaler_run(lt, lt.amp.GradScaler("cpu", init_scale=8.0, growth_interval=2))
    assert scales == [8.0, 16.0, 8.0, 8.0, 16.0]
    np.testing.assert_allclose(values, [0.6, 0.6], rtol=1e-6)  # (the overflowing step: skipped)
    torch = pytest.importorskip("torch")
    expected = _scaler_run(torch, torch.amp.GradScaler("cpu", init_scale=8.0, growth_interval=2))
    assert scales == expected[0]
    np.testing.assert_allclose(values, expected[1], rtol=1e-6)


def test_a_cuda_grad_scaler_disables_itself_without_cuda():
    with pytest.warns(UserWarning, match="CUDA is not available.  Disabling"):
        scaler = lt.amp.GradScaler()
    assert not scaler.is_enabled() and scaler.get_scale() == 1.0
    loss = lt.tensor(2.0)
    assert scaler.scale(loss) is loss


def test_checkpoint_matches_the_plain_call_with_dropout_and_parameters():
    lt.manual_seed(0)
    linear, dropout = lt.nn.Linear(3, 3), lt.nn.Dropout(0.5)

    def block(x):
        return dropout(linear(x).relu())

    x = lt.randn(4, 3, requires_grad=True)
    lt.manual_seed(1)
    block(x).sum().backward()
    plain = x.grad.clone(), linear.weight.grad.clone()
    x.grad = linear.weight.grad = None
    lt.manual_seed(1)
    out = checkpoint(block, x, use_reentrant=False)
    assert type(out.grad_fn).__name__ == "CheckpointFunctionBackward"
    out.sum().backward()
    assert x.grad.tolist() == plain[0].tolist()
    assert linear.weight.grad.tolist() == plain[1].tolist()
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed explicitly"):
        checkpoint(block, x)
    seq = lt.nn.Sequential(lt.nn.Linear(3, 3), lt.nn.ReLU(), lt.nn.Linear(3, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        chunked = checkpoint_sequential(seq, 2, x, use_reentrant=True)
    assert chunked.tolist() == seq(x).tolist()


def test_autocast_covers_linear_and_convolutions():
    linear, conv = lt.nn.Linear(3, 2), lt.nn.Conv2d(1, 2, 3)
    with lt.autocast("cpu"):
        out = linear(lt.ones(2, 3))
        assert out.dtype is lt.bfloat16
        assert conv(lt.ones(1, 1, 5, 5)).dtype is lt.bfloat16
        assert lt.nn.functional.conv_transpose2d(lt.ones(1, 1, 3, 3),
                                                 lt.ones(1, 1, 2, 2)).dtype is lt.bfloat16
        out.float().sum().backward()
    assert linear.weight.grad.dtype is lt.float32
    assert linear(lt.ones(2, 3)).dtype is lt.float32
