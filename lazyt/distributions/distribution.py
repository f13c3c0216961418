"""Distribution: the base class of lt.distributions (torch.distributions.Distribution's API).

A distribution holds parameter tensors broadcast to its batch shape; its methods
(log_prob, entropy, sample, ...) are compositions of lazyt ops, so they fuse and
differentiate like any other frontend code. Validation (on by default, as in
PyTorch) checks parameters at construction and log_prob's argument against the
support, raising PyTorch's ValueError messages.
"""

from __future__ import annotations

from lazyt import modes
from lazyt.autograd import grad_mode
from lazyt.distributions import constraints
from lazyt.distributions.utils import extended_shape
from lazyt.tensor import Size, Tensor, broadcast_shapes


def _param_repr(value) -> str:
    if not isinstance(value, Tensor):
        return repr(value)
    if value.dim() == 0:
        return repr(value.item())
    if value.numel() == 1:
        return repr(value)
    return repr(value.shape)


class Distribution:
    has_rsample = False
    has_enumerate_support = False
    _validate_args = __debug__
    arg_constraints: dict = {}
    support = None

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        if value not in (True, False):
            raise ValueError
        Distribution._validate_args = value

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self._batch_shape = Size(tuple(batch_shape))
        self._event_shape = Size(tuple(event_shape))
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args and not modes.TRACING:  # lt.compile cannot read values
            self._check_parameters()

    def _check_parameters(self) -> None:
        for name, constraint in self.arg_constraints.items():
            if constraints.is_dependent(constraint) or name not in self.__dict__:
                continue  # a derived parameter (logits given probs) is not checked
            value = self.__dict__[name]
            if not isinstance(value, Tensor):
                continue
            if not bool(constraint.check(value).all()):
                raise ValueError(
                    f"Expected parameter {name} ({type(value).__name__} of shape "
                    f"{tuple(value.shape)}) of distribution {self!r} to satisfy the "
                    f"constraint {constraint!r}, but found invalid values:\n{value}")

    # shapes
    @property
    def batch_shape(self) -> Size:
        return self._batch_shape

    @property
    def event_shape(self) -> Size:
        return self._event_shape

    def _extended_shape(self, sample_shape=()) -> Size:
        return extended_shape(sample_shape, self._batch_shape, self._event_shape)

    def expand(self, batch_shape, _instance=None):
        """The same distribution with parameters expanded (not copied) to batch_shape."""
        batch_shape = Size(tuple(batch_shape))
        new = _instance if _instance is not None else type(self).__new__(type(self))
        old_batch = len(self._batch_shape)
        for name, value in self.__dict__.items():
            # parameters (given or derived) are stored broadcast to batch_shape + their own dims
            if isinstance(value, Tensor) and value.dim() >= old_batch:
                value = value.expand(tuple(batch_shape) + tuple(value.shape[old_batch:]))
            new.__dict__[name] = value
        Distribution.__init__(new, batch_shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    # sampling
    def sample(self, sample_shape=()) -> Tensor:
        with grad_mode.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=()) -> Tensor:
        raise NotImplementedError

    def sample_n(self, n: int) -> Tensor:
        return self.sample((n,))

    # densities and moments
    def log_prob(self, value):
        raise NotImplementedError

    def cdf(self, value):
        raise NotImplementedError

    def icdf(self, value):
        raise NotImplementedError

    def entropy(self):
        raise NotImplementedError

    def perplexity(self):
        return self.entropy().exp()

    def enumerate_support(self, expand: bool = True):
        raise NotImplementedError

    @property
    def mean(self):
        raise NotImplementedError(f"{type(self)} does not implement mean")

    @property
    def mode(self):
        raise NotImplementedError(f"{type(self)} does not implement mode")

    @property
    def variance(self):
        raise NotImplementedError(f"{type(self)} does not implement variance")

    @property
    def stddev(self):
        return self.variance.sqrt()

    def _validate_sample(self, value) -> None:
        """Raise PyTorch's ValueError when `value` is not a tensor of a compatible
        shape inside the support."""
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        event_dims = len(self._event_shape)
        if tuple(value.shape[value.dim() - event_dims:]) != tuple(self._event_shape) \
                or value.dim() < event_dims:
            raise ValueError(f"The right-most size of value must match event_shape: "
                             f"{value.shape} vs {self._event_shape}.")
        expected = tuple(self._batch_shape) + tuple(self._event_shape)
        try:
            broadcast_shapes(tuple(value.shape), expected)
        except RuntimeError:
            raise ValueError(f"Value is not broadcastable with batch_shape+event_shape: "
                             f"{value.shape} vs {Size(expected)}.") from None
        if modes.TRACING:
            return
        support = self.support
        if not bool(support.check(value).all()):
            raise ValueError(
                f"Expected value argument ({type(value).__name__} of shape "
                f"{tuple(value.shape)}) to be within the support ({support!r}) of the "
                f"distribution {self!r}, but found invalid values:\n{value}")

    def __repr__(self) -> str:
        names = [name for name in self.arg_constraints if name in self.__dict__]
        fields = ", ".join(f"{name}: {_param_repr(self.__dict__[name])}" for name in names)
        return f"{type(self).__name__}({fields})"
