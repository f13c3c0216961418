"""In-place methods (`x.atan2_(y)`, `x.logical_and_(y)`, `x <<= 1`) for ops whose
out-of-place method exists: compute the result, check PyTorch's cast rule, and
copy it into x (copy_ keeps autograd's in-place bookkeeping).

lazyt/methods.py binds these after the op modules' own tables, and only where
a module did not define the in-place method itself.
"""

from __future__ import annotations

from lazyt import elementwise
from lazyt.tensor import Tensor

# Out-of-place methods whose in-place `name_` PyTorch has (elementwise results).
INPLACE_OF = ("atan2", "arctan2", "logical_and", "logical_or", "logical_xor", "logical_not",
              "clamp_min", "clamp_max", "copysign", "bitwise_and", "bitwise_or", "bitwise_xor",
              "bitwise_not", "bitwise_left_shift", "bitwise_right_shift", "cumprod", "cumsum",
              "nan_to_num", "true_divide", "float_power", "fmod", "remainder", "hypot",
              "logit", "xlogy", "ldexp", "lerp", "sgn", "fix", "negative", "square",
              "frac", "trunc", "deg2rad", "rad2deg", "digamma", "lgamma", "erfinv", "i0",
              "polygamma", "heaviside", "nextafter", "gcd", "lcm", "addcmul", "addcdiv")
# The in-place Python operators that map to one of them.
INPLACE_OPERATORS = {"__ilshift__": "bitwise_left_shift", "__irshift__": "bitwise_right_shift"}


def _inplace(name: str):
    out_of_place = getattr(Tensor, name)

    def method(self: Tensor, *args, **kwargs) -> Tensor:
        result = out_of_place(self, *args, **kwargs)
        if not elementwise._can_cast(result.dtype, self.dtype):
            names = elementwise.TORCH_NAMES
            raise RuntimeError(f"result type {names.get(result.dtype.name, result.dtype.name)} "
                               f"can't be cast to the desired output type "
                               f"{names.get(self.dtype.name, self.dtype.name)}")
        if tuple(result.shape) != tuple(self.shape):
            raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the "
                               f"broadcast shape {list(result.shape)}")
        return self.copy_(result)

    method.__name__ = f"{name}_"
    method.__doc__ = f"x.{name}_(...): x.{name}(...) written into x."
    return method


def missing_inplace_methods() -> dict:
    """{name_: method} for the listed ops lazyt has out of place but not in place."""
    found = {}
    for name in INPLACE_OF:
        if hasattr(Tensor, name) and not hasattr(Tensor, f"{name}_"):
            found[f"{name}_"] = _inplace(name)
    for dunder, name in INPLACE_OPERATORS.items():
        if hasattr(Tensor, name) and dunder not in vars(Tensor):
            found[dunder] = _inplace(name)
    return found
