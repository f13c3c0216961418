"""lt.testing.assert_close: PyTorch's comparison for tests, with its defaults and messages.

Tensors (compared with lazyt ops), Python scalars, and sequences/mappings of
them, recursively. Default tolerances by dtype are PyTorch's; integer and bool
values must be equal. The messages follow torch.testing's wording
("Tensor-likes are not close!", "Mismatched elements: 1 / 3 (33.3%)", ...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from lazyt import creation, dtypes, elementwise
from lazyt.tensor import Tensor

# dtype name -> (rtol, atol), PyTorch's defaults; other dtypes compare exactly.
DEFAULT_TOLERANCES = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5),
                      "float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7)}


def _tolerances(*dtype_names: str, rtol, atol) -> tuple[float, float]:
    if (rtol is None) != (atol is None):
        missing = "atol" if atol is None else "rtol"
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, "
                         f"but got no {missing}.")
    if rtol is not None:
        return rtol, atol
    if not dtype_names:
        return 0.0, 0.0
    pairs = [DEFAULT_TOLERANCES.get(name, (0.0, 0.0)) for name in dtype_names]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


def _scalar_message(actual, expected, rtol: float, atol: float, exact: bool) -> str:
    abs_diff = abs(actual - expected)
    rel_diff = abs_diff / abs(expected) if expected != 0 else float("inf") if abs_diff else 0.0
    if exact:
        return (f"Scalars are not equal!\n\nExpected {expected} but got {actual}.\n"
                f"Absolute difference: {abs_diff}\nRelative difference: {rel_diff}")
    return (f"Scalars are not close!\n\nExpected {expected} but got {actual}.\n"
            f"Absolute difference: {abs_diff} (up to {atol} allowed)\n"
            f"Relative difference: {rel_diff} (up to {rtol} allowed)")


def _scalars_close(actual, expected, rtol, atol, equal_nan) -> bool:
    if actual == expected:
        return True
    if actual != actual or expected != expected:  # NaN
        return bool(equal_nan) and actual != actual and expected != expected
    return abs(actual - expected) <= atol + rtol * abs(expected)


def _unravel(flat_index: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    index = []
    for size in reversed(shape):
        index.append(flat_index % size)
        flat_index //= size
    return tuple(reversed(index))


def _compare_tensors(actual: Tensor, expected: Tensor, *, rtol, atol, equal_nan,
                     check_dtype: bool) -> str | None:
    if tuple(actual.shape) != tuple(expected.shape):
        return (f"The values for attribute 'shape' do not match: "
                f"torch.Size({list(actual.shape)}) != torch.Size({list(expected.shape)}).")
    if check_dtype and actual.dtype is not expected.dtype:
        return (f"The values for attribute 'dtype' do not match: torch.{actual.dtype.name} != "
                f"torch.{expected.dtype.name}.")
    rtol, atol = _tolerances(actual.dtype.name, expected.dtype.name, rtol=rtol, atol=atol)
    if actual.dtype is not expected.dtype:
        common = dtypes.promote_types(actual.dtype, expected.dtype)
        actual, expected = actual.to(common), expected.to(common)
    actual, expected = actual.detach(), expected.detach()
    exact = not actual.dtype.is_floating_point
    if exact:
        actual, expected = actual.to(dtypes.int64), expected.to(dtypes.int64)
    if actual.numel() == 0:
        return None
    if exact:
        matches = actual == expected
    else:
        matches = actual.isclose(expected, rtol=rtol, atol=atol, equal_nan=equal_nan)
    mismatched = int((~matches).sum().item())
    if mismatched == 0:
        return None
    if actual.ndim == 0:
        return _scalar_message(actual.item(), expected.item(), rtol, atol, exact)
    total = actual.numel()
    matches_flat = matches.flatten()
    abs_diff = (actual.flatten() - expected.flatten()).abs().masked_fill(matches_flat, 0)
    rel_diff = (abs_diff / expected.flatten().abs()).masked_fill(matches_flat, 0)
    max_abs, abs_at = abs_diff.max(0)
    max_rel, rel_at = rel_diff.max(0)
    shape = tuple(actual.shape)
    lines = [f"Tensor-likes are not {'equal' if exact else 'close'}!", "",
             f"Mismatched elements: {mismatched} / {total} ({mismatched / total:.1%})"]
    for kind, diff, at, tol in (("absolute", max_abs, abs_at, atol),
                                ("relative", max_rel, rel_at, rtol)):
        line = f"Greatest {kind} difference: {diff.item()} at index {_unravel(int(at.item()), shape)}"
        lines.append(line if exact else f"{line} (up to {tol} allowed)")
    return "\n".join(lines)


def _compare(actual, expected, where: list, options: dict) -> tuple[str, list] | None:
    """(message, location) of the first mismatch, or None."""
    if isinstance(actual, Tensor) and isinstance(expected, Tensor):
        message = _compare_tensors(actual, expected, **options)
        return None if message is None else (message, where)
    scalar_types = (bool, int, float)
    if isinstance(actual, scalar_types) and isinstance(expected, scalar_types):
        if options["check_dtype"] and type(actual) is not type(expected):
            return (f"The values for attribute 'dtype' do not match: {type(actual)} != "
                    f"{type(expected)}.", where)
        float_like = isinstance(actual, float) or isinstance(expected, float)
        rtol, atol = _tolerances("float64" if float_like else "int64", rtol=options["rtol"],
                                 atol=options["atol"])
        if _scalars_close(actual, expected, rtol, atol, options["equal_nan"]):
            return None
        return _scalar_message(actual, expected, rtol, atol, not float_like), where
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        if set(actual) != set(expected):
            return (f"The keys of the mappings do not match:\n"
                    f"Missing keys in the actual mapping: {sorted(set(expected) - set(actual))}\n"
                    f"Extra keys in the actual mapping: {sorted(set(actual) - set(expected))}",
                    where)
        for key in expected:
            found = _compare(actual[key], expected[key], [*where, key], options)
            if found:
                return found
        return None
    sequence = (Sequence,)
    if isinstance(actual, sequence) and isinstance(expected, sequence) and \
            not isinstance(actual, str) and not isinstance(expected, str):
        if len(actual) != len(expected):
            return f"The length of the sequences mismatch: {len(actual)} != {len(expected)}", where
        for i, (a, e) in enumerate(zip(actual, expected)):
            found = _compare(a, e, [*where, i], options)
            if found:
                return found
        return None
    if actual is None and expected is None:
        return None
    raise TypeError(f"No comparison pair was able to handle inputs of type {type(actual)} "
                    f"and {type(expected)}.")


def assert_close(actual, expected, *, allow_subclasses: bool = True, rtol=None, atol=None,
                 equal_nan: bool = False, check_device: bool = True, check_dtype: bool = True,
                 check_layout: bool = True, check_stride: bool = False, msg=None) -> None:
    """Raise AssertionError unless actual and expected are close (PyTorch's rules)."""
    _tolerances(rtol=rtol, atol=atol)  # both or neither
    options = {"rtol": rtol, "atol": atol, "equal_nan": equal_nan, "check_dtype": check_dtype}
    found = _compare(actual, expected, [], options)
    if found is None:
        return
    message, where = found
    if where:
        message += "\n\nThe failure occurred for item " + "".join(f"[{k!r}]" for k in where)
    if callable(msg):
        message = msg(message)
    elif msg is not None:
        message = msg
    raise AssertionError(message)


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan: bool = True, msg="") -> None:
    """The deprecated spelling (dtype-lenient, NaNs equal by default)."""
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=False,
                 msg=msg or None)


def make_tensor(*shape, dtype, device, low=None, high=None, requires_grad: bool = False,
                noncontiguous: bool = False, exclude_zero: bool = False,
                memory_format=None) -> Tensor:
    """torch.testing.make_tensor: random values uniform in [low, high) (the
    dtype's defaults: [-9, 9) for numbers, {False, True} for bool), with
    lazyt's generator."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    dtype = dtypes.to_dtype(dtype)
    if dtype is dtypes.bool_:
        result = creation.randint(0, 2, shape, device=device).bool()
    else:
        lo = -9 if low is None else low
        hi = 9 if high is None else high
        if dtype.kind == "u":
            lo = max(lo, 0)
        if lo > hi:
            raise ValueError(f"`low` must be less than or equal to `high`, but got {lo} > {hi}")
        if dtype.kind in "iu":
            result = creation.randint(int(lo), max(int(hi), int(lo) + 1), shape,
                                      dtype=dtype, device=device)
        else:
            result = creation.rand(*shape, dtype=dtype, device=device) * (hi - lo) + lo
        if exclude_zero:
            tiny = 1 if dtype.kind in "iu" else dtypes.finfo(dtype).tiny
            result = elementwise.where(result == 0, tiny, result).to(dtype)
    if noncontiguous and result.numel() > 1:
        doubled = creation.empty(*shape[:-1], shape[-1] * 2, dtype=dtype, device=device)
        doubled[..., ::2] = result
        result = doubled[..., ::2]
    elif memory_format is not None:
        result = result.contiguous(memory_format=memory_format)
    if requires_grad:
        result.requires_grad_(True)
    return result
