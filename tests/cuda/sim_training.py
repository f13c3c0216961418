"""Autograd and training on CUDA tensors under Numba's simulator, against the CPU.

Run only with NUMBA_ENABLE_CUDASIM=1 (tests/cuda/test_simulator.py spawns it).
"""

from __future__ import annotations

import copy
import os

import numpy as np
import pytest

import lazyt as lt
import lazyt.nn as nn
import lazyt.nn.functional as F

pytestmark = pytest.mark.skipif(os.environ.get("NUMBA_ENABLE_CUDASIM") != "1",
                                reason="needs NUMBA_ENABLE_CUDASIM=1 (tests/cuda/test_simulator.py)")


def close(cuda_tensor, cpu_tensor, rtol=1e-4, atol=1e-5):
    assert cuda_tensor.device.type == "cuda"
    np.testing.assert_allclose(cuda_tensor.detach().cpu().numpy(),
                               cpu_tensor.detach().numpy(), rtol=rtol, atol=atol)


def test_autograd_on_cuda_tensors():
    x = lt.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], requires_grad=True)
    cx = x.detach().cuda().requires_grad_()
    for tensor in (x, cx):
        (tensor.sigmoid() * tensor).sum(1).pow(2).mean().backward()
    close(cx.grad, x.grad)


def test_gradient_flows_back_through_a_device_copy():
    x = lt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x.cuda() * 3).sum().backward()
    assert x.grad.device.type == "cpu"
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0, 3.0])


@pytest.mark.parametrize("mode", ["eager", "deferred"])
def test_two_step_mlp_training_matches_cpu(mode):
    lt.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
    gpu_model = copy.deepcopy(model).to("cuda")
    assert all(p.device.type == "cuda" for p in gpu_model.parameters())
    x, y = lt.randn(5, 6), lt.tensor([0, 2, 1, 1, 0])
    gx, gy = x.to("cuda"), y.to("cuda")
    losses = {}
    for name, net, inputs, targets in (("cpu", model, x, y), ("cuda", gpu_model, gx, gy)):
        optimizer = lt.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        losses[name] = []
        with lt.deferred() if mode == "deferred" else _nothing():
            for _ in range(2):
                optimizer.zero_grad()
                loss = F.cross_entropy(net(inputs), targets)
                loss.backward()
                optimizer.step()
                losses[name].append(loss.item())
    np.testing.assert_allclose(losses["cuda"], losses["cpu"], rtol=1e-5)
    for p_gpu, p_cpu in zip(gpu_model.parameters(), model.parameters()):
        close(p_gpu, p_cpu)


class _nothing:  # noqa: N801 - a null context manager
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_two_step_small_cnn_training_matches_cpu():
    lt.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(2 * 3 * 3, 3))
    gpu_model = copy.deepcopy(model).to("cuda")
    x, y = lt.randn(2, 1, 6, 6), lt.tensor([0, 2])
    losses = {}
    for name, net, inputs, targets in (("cpu", model, x, y),
                                       ("cuda", gpu_model, x.cuda(), y.cuda())):
        optimizer = lt.optim.SGD(net.parameters(), lr=0.1)
        losses[name] = []
        for _ in range(2):
            optimizer.zero_grad()
            loss = F.cross_entropy(net(inputs), targets)
            loss.backward()
            optimizer.step()
            losses[name].append(loss.item())
    np.testing.assert_allclose(losses["cuda"], losses["cpu"], rtol=1e-5)
    for p_gpu, p_cpu in zip(gpu_model.parameters(), model.parameters()):
        close(p_gpu, p_cpu)


def test_compiled_training_step_on_cuda_matches_cpu_and_saves_to_cpu(tmp_path):
    lt.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3))
    gpu_model = copy.deepcopy(model).cuda()
    x, y = lt.randn(3, 4), lt.tensor([0, 1, 2])

    def step(net, optimizer, inputs, targets):
        optimizer.zero_grad()
        loss = F.cross_entropy(net(inputs), targets)
        loss.backward()
        optimizer.step()
        return loss

    cpu_opt = lt.optim.SGD(model.parameters(), lr=0.1)
    gpu_opt = lt.optim.SGD(gpu_model.parameters(), lr=0.1)
    cpu_step = lt.compile(lambda a, b: step(model, cpu_opt, a, b))
    gpu_step = lt.compile(lambda a, b: step(gpu_model, gpu_opt, a, b))
    for _ in range(4):  # run, record, replay twice
        np.testing.assert_allclose(gpu_step(x.cuda(), y.cuda()).item(), cpu_step(x, y).item(),
                                   rtol=1e-6)
    lt.save(gpu_model.state_dict(), tmp_path / "model.pt")
    on_cpu = lt.load(tmp_path / "model.pt", map_location="cpu")
    assert all(t.device.type == "cpu" for t in on_cpu.values())
    assert all(t.device.type == "cuda" for t in lt.load(tmp_path / "model.pt").values())
    for name, value in model.state_dict().items():
        np.testing.assert_allclose(on_cpu[name].numpy(), value.numpy(), rtol=1e-5, atol=1e-6)


def test_creation_on_cuda_computes_there_in_deferred_mode():
    with lt.deferred():
        assert lt.zeros(3, device="cuda").device.type == "cuda"
        assert lt.arange(4, device="cuda").device.type == "cuda"
        assert lt.full((2,), 7, device="cuda").cpu().tolist() == [7, 7]
