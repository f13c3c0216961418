"""Helpers shared by the nn.utils tests: copy a torch module's state into a
lazyt one (numpy arrays in between) and compare tensors."""

import numpy as np

import lazyt as lt


def to_numpy(t):
    """A lazyt or torch tensor as a numpy array."""
    return np.asarray(t.detach().cpu().numpy() if hasattr(t, "cpu") else t.detach().numpy())


def load_from_torch(lt_module, torch_module, strict=True):
    """Copy torch_module.state_dict() into lt_module (keys must match)."""
    state = {k: lt.tensor(v.detach().numpy()) for k, v in torch_module.state_dict().items()}
    return lt_module.load_state_dict(state, strict=strict)


def assert_close(mine, theirs, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(to_numpy(mine), to_numpy(theirs), rtol=rtol, atol=atol)
