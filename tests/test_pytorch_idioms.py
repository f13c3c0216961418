"""The idioms at the top of PyTorch's tutorials: Variable, lt.backends, lt.accelerator."""

import warnings

import pytest

import lazyt as lt
from lazyt.autograd import Variable


def test_variable_is_a_detached_alias_with_requires_grad_as_asked():
    data = lt.ones(3)
    v = Variable(data, requires_grad=True)
    assert isinstance(v, lt.Tensor) and v.requires_grad and not data.requires_grad
    assert v.data_ptr() == data.data_ptr()
    (v * 2).sum().backward()
    assert v.grad.tolist() == [2.0, 2.0, 2.0]
    node = lt.ones(2, requires_grad=True) * 2
    w = Variable(node)
    assert w.grad_fn is None and not w.requires_grad


def test_every_tensor_is_a_variable_and_nothing_else_is():
    assert isinstance(lt.zeros(1), Variable)
    assert not isinstance([1.0], Variable)
    assert Variable().shape == (0,)
    with pytest.raises(TypeError, match="Variable data has to be a tensor, but got list"):
        Variable([1, 2])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Variable(lt.ones(1), volatile=True)
    assert any("volatile was removed" in str(w.message) for w in caught)


def test_the_tutorial_device_idiom_picks_the_cpu_without_a_gpu():
    if lt.cuda.is_available():
        pytest.skip("a GPU is present")
    assert lt.accelerator.is_available() is False
    assert lt.accelerator.current_accelerator() is None
    assert lt.accelerator.device_count() == 0
    device = (lt.accelerator.current_accelerator().type
              if lt.accelerator.is_available() else "cpu")
    assert lt.ones(2, device=device).device == lt.device("cpu")
    with pytest.raises(RuntimeError, match="Cannot access accelerator device when none is "
                                           "available"):
        lt.accelerator.current_device_index()
    with pytest.raises(RuntimeError, match="none is available"):
        lt.accelerator.synchronize()


def test_backends_queries_and_switches():
    import lazyt.backends.cudnn as cudnn

    assert lt.backends.mps.is_available() is False and lt.backends.mps.is_built() is False
    assert cudnn.is_available() is False
    cudnn.benchmark = True
    assert lt.backends.cudnn.benchmark is True
    cudnn.benchmark = False
    assert lt.backends.cpu.get_cpu_capability() in ("DEFAULT", "AVX2", "AVX512")
    assert isinstance(lt.backends.cuda.is_built(), bool)
    assert lt.backends.cuda.matmul.allow_tf32 is False


def test_matches_pytorch_names_when_installed():
    torch = pytest.importorskip("torch")
    for name in ("is_available", "current_accelerator", "device_count", "synchronize",
                 "current_device_index"):
        assert hasattr(torch.accelerator, name) and hasattr(lt.accelerator, name)
    for namespace in ("cpu", "cuda", "cudnn", "mps", "mkldnn", "openmp"):
        assert hasattr(torch.backends, namespace) and hasattr(lt.backends, namespace)
