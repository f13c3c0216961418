"""F.conv_transpose1d/2d/3d and nn.ConvTranspose*d against PyTorch: values,
float64 gradients of input, weight and bias, state_dict shapes, output_size."""

import numpy as np
import pytest

import lazyt as lt
import lazyt.nn as nn
import lazyt.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional
RNG = np.random.default_rng(3)

CASES = [
    (1, (2, 4, 5), (4, 3, 3), dict()),
    (1, (2, 4, 5), (4, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    (1, (4, 5), (4, 1, 2), dict(stride=3, groups=2, dilation=2)),
    (2, (2, 4, 5, 6), (4, 2, 3, 2), dict(stride=(2, 3), padding=(1, 0), groups=2,
                                         dilation=(1, 2), output_padding=(1, 2))),
    (2, (4, 5, 6), (4, 3, 2, 2), dict(stride=2, padding=2)),
    (3, (1, 2, 3, 4, 3), (2, 2, 2, 3, 2), dict(stride=(1, 2, 2), padding=1)),
]


@pytest.mark.parametrize("dims,input_shape,weight_shape,kwargs", CASES)
def test_conv_transpose_matches_torch(dims, input_shape, weight_shape, kwargs):
    arrays = [RNG.standard_normal(input_shape), RNG.standard_normal(weight_shape),
              RNG.standard_normal(weight_shape[1] * kwargs.get("groups", 1))]
    ours = [lt.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    got = getattr(F, f"conv_transpose{dims}d")(*ours, **kwargs)
    want = getattr(TF, f"conv_transpose{dims}d")(*theirs, **kwargs)
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), atol=1e-12)
    upstream = RNG.standard_normal(tuple(want.shape))
    (got * lt.tensor(upstream)).sum().backward()
    (want * torch.tensor(upstream)).sum().backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-12)


def test_conv_transpose_float32_and_errors():
    x, w = RNG.standard_normal((1, 2, 4, 4)), RNG.standard_normal((2, 3, 3, 3))
    got = F.conv_transpose2d(lt.tensor(x, dtype=lt.float32), lt.tensor(w, dtype=lt.float32),
                             stride=2)
    want = TF.conv_transpose2d(torch.tensor(x, dtype=torch.float32),
                               torch.tensor(w, dtype=torch.float32), stride=2)
    np.testing.assert_allclose(got.numpy(), want.numpy(), atol=1e-5)
    with pytest.raises(RuntimeError, match="output padding must be smaller"):
        F.conv_transpose2d(lt.tensor(x), lt.tensor(w), output_padding=1)
    with pytest.raises(RuntimeError, match="channels"):
        F.conv_transpose2d(lt.tensor(x), lt.tensor(RNG.standard_normal((3, 3, 3, 3))))


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_conv_transpose_modules_match_torch(dims):
    def make(m):
        return getattr(m, f"ConvTranspose{dims}d")(4, 6, 3, stride=2, padding=1,
                                                   output_padding=1, groups=2)

    ours, theirs = make(nn), make(torch.nn)
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    assert repr(ours) == repr(theirs)
    theirs.double().load_state_dict(
        {k: torch.tensor(np.asarray(v.tolist())) for k, v in ours.state_dict().items()})
    x = RNG.standard_normal((2, 4) + (3,) * dims)
    got = ours.double()(lt.tensor(x))
    want = theirs(torch.tensor(x))
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), atol=1e-12)
    bound = 1 / np.sqrt(3 * 3 ** dims)  # kaiming_uniform_(a=sqrt(5)) over fan_in = 3 * k^d
    assert float(ours.weight.abs().max()) <= bound


def test_conv_transpose_module_output_size():
    ours, theirs = nn.ConvTranspose2d(2, 2, 3, stride=2), torch.nn.ConvTranspose2d(2, 2, 3,
                                                                                   stride=2)
    x = lt.randn(1, 2, 4, 4)
    assert tuple(ours(x, output_size=(10, 9)).shape) == \
        tuple(theirs(torch.randn(1, 2, 4, 4), output_size=(10, 9)).shape)
    with pytest.raises(ValueError, match="valid sizes range from"):
        ours(x, output_size=(12, 9))
    with pytest.raises(ValueError, match="zeros"):
        nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect")
