"""Text rendering of tensors and storages, matching PyTorch's repr character for character.

This sits beside the tensor API: `Tensor.__repr__` reads its values out of their
buffers into a numpy array and hands them here with its dtype, device and autograd
state. Nothing in this file touches buffers, IR or devices; it only turns values into
text, so it imports nothing from lazyt.

The layout rules follow torch/_tensor_str.py (PyTorch 2.13): one element formatter is
chosen for the whole tensor (fixed point, integer-valued "1." or scientific, with one
common width), nested brackets are indented under "tensor(", rows wrap at `linewidth`,
and tensors above `threshold` elements show only `edgeitems` at each end of every dim.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

FLOAT_DTYPES = ("float32", "float64", "float16", "bfloat16")
INT_DTYPES = ("int8", "uint8", "int16", "int32", "int64")
DTYPES = FLOAT_DTYPES + INT_DTYPES + ("bool",)

# The numpy dtype that holds each dtype's values exactly; bfloat16 values live in float32.
_NUMPY_DTYPE = {
    "float32": np.float32,
    "float64": np.float64,
    "float16": np.float16,
    "bfloat16": np.float32,
    "int8": np.int8,
    "uint8": np.uint8,
    "int16": np.int16,
    "int32": np.int32,
    "int64": np.int64,
    "bool": np.bool_,
}

# Printed without a dtype suffix (besides the default float dtype), when the tensor is non-empty.
_DTYPES_WITHOUT_SUFFIX = ("int64", "bool")

_TENSOR_PREFIX = "tensor("


@dataclass
class PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTIONS = PrintOptions()

_PROFILES = {
    "default": PrintOptions(precision=4, threshold=1000, edgeitems=3, linewidth=80),
    "short": PrintOptions(precision=2, threshold=1000, edgeitems=2, linewidth=80),
    "full": PrintOptions(precision=4, threshold=math.inf, edgeitems=3, linewidth=80),
}


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Change the global print options, with torch.set_printoptions' semantics.

    A profile ("default", "short", "full") is applied first and the other arguments
    override it. As in torch, `sci_mode` is always assigned, so leaving it out resets
    it to automatic.
    """
    if profile is not None and profile in _PROFILES:
        preset = _PROFILES[profile]
        PRINT_OPTIONS.precision = preset.precision
        PRINT_OPTIONS.threshold = preset.threshold
        PRINT_OPTIONS.edgeitems = preset.edgeitems
        PRINT_OPTIONS.linewidth = preset.linewidth
    if precision is not None:
        PRINT_OPTIONS.precision = precision
    if threshold is not None:
        PRINT_OPTIONS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTIONS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTIONS.linewidth = linewidth
    PRINT_OPTIONS.sci_mode = sci_mode


def get_printoptions() -> dict:
    """The current print options as keyword arguments for set_printoptions."""
    return {
        "precision": PRINT_OPTIONS.precision,
        "threshold": PRINT_OPTIONS.threshold,
        "edgeitems": PRINT_OPTIONS.edgeitems,
        "linewidth": PRINT_OPTIONS.linewidth,
        "sci_mode": PRINT_OPTIONS.sci_mode,
    }


def format_tensor(
    values: np.ndarray,
    *,
    dtype: str,
    default_dtype: str = "float32",
    device: str = "cpu",
    requires_grad: bool = False,
    grad_fn: str | None = None,
    module_name: str = "lazyt",
) -> str:
    """repr() of a tensor holding `values` (already shaped like the tensor), as torch prints it."""
    options = PRINT_OPTIONS
    values = _exact_values(values, dtype)
    indent = len(_TENSOR_PREFIX)
    dtype_suffix = f"dtype={module_name}.{dtype}"
    suffixes = []
    if _device_type(device) != "cpu":
        suffixes.append(f"device='{_device_str(device)}'")

    if values.size == 0:
        # NumPy's convention: the shape is implied only for (0,). With no elements
        # there is nothing to infer int64 or bool from, so only the default float skips it.
        if values.ndim != 1:
            suffixes.append(f"size={_shape_str(values.shape)}")
        if dtype != default_dtype:
            suffixes.append(dtype_suffix)
        body = "[]"
    else:
        if not options.edgeitems:
            suffixes.append(f"size={_shape_str(values.shape)}")
        if dtype != default_dtype and dtype not in _DTYPES_WITHOUT_SUFFIX:
            suffixes.append(dtype_suffix)
        body = _format_values(values, dtype, indent, options)

    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{grad_fn}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")

    return _append_suffixes(_TENSOR_PREFIX + body, suffixes, indent, options.linewidth)


def format_storage(
    values: np.ndarray, *, dtype: str, device: str = "cpu", module_name: str = "lazyt"
) -> str:
    """repr() of a typed storage holding `values`: one element per line, then a summary line."""
    values = _exact_values(values, dtype).reshape(-1)
    elements = " " + "\n ".join(str(value) for value in values.tolist())
    summary = (
        f"[{module_name}.storage.TypedStorage(dtype={module_name}.{dtype}, "
        f"device={_device_str(device)}) of size {values.size}]"
    )
    return elements + "\n" + summary


def _exact_values(values: np.ndarray, dtype: str) -> np.ndarray:
    """Cast `values` to `dtype`, rounding as a store into that dtype would (caller may pass float32 for halves)."""
    if dtype not in _NUMPY_DTYPE:
        raise TypeError(
            f"cannot print a tensor of dtype {dtype!r}; expected one of {', '.join(DTYPES)}"
        )
    with np.errstate(over="ignore"):  # too large for a half: inf, as torch's cast gives
        values = np.asarray(values).astype(_NUMPY_DTYPE[dtype], copy=False)
    if dtype == "bfloat16":
        values = _round_to_bfloat16(values)
    return values


def _round_to_bfloat16(values: np.ndarray) -> np.ndarray:
    """Round float32 values to the nearest bfloat16 (ties to even), kept in float32."""
    bits = (
        np.ascontiguousarray(values, dtype=np.float32).view(np.uint32).astype(np.uint64)
    )
    rounding_bias = 0x7FFF + ((bits >> 16) & 1)
    rounded = (((bits + rounding_bias) >> 16) << 16).astype(np.uint32).view(np.float32)
    # Rounding NaN's payload could carry into the exponent and make it inf.
    return np.where(np.isnan(values), values, rounded).reshape(np.shape(values))


def _device_type(device: str) -> str:
    return device.split(":", 1)[0]


def _device_str(device: str) -> str:
    # torch always names a CUDA tensor's device with its index.
    return "cuda:0" if device == "cuda" else device


def _shape_str(shape: tuple[int, ...]) -> str:
    return str(tuple(int(size) for size in shape))


@dataclass(frozen=True, slots=True)
class _ElementFormatter:
    """How every element of one tensor is written: one style and one width for all of them."""

    is_float: bool
    int_mode: bool  # float tensor whose finite values are all integers: printed as "3."
    sci_mode: bool
    width: int
    precision: int

    def format(self, value: float) -> str:  # int and bool too
        if not self.is_float:
            text = str(value)
        elif self.sci_mode:
            text = f"{value:.{self.precision}e}"
        elif self.int_mode:
            text = f"{value:.0f}"
            if math.isfinite(value):
                text += "."
        else:
            text = f"{value:.{self.precision}f}"
        return text.rjust(self.width)


def _choose_formatter(
    sample: np.ndarray, is_float: bool, options: PrintOptions
) -> _ElementFormatter:
    """Pick the element style and width from the values that will be shown."""
    precision = options.precision
    if not is_float:
        width = 1
        if sample.size:
            width = max(
                width, len(str(sample.min().item())), len(str(sample.max().item()))
            )
        return _ElementFormatter(False, True, False, width, precision)

    finite_nonzero = sample[np.isfinite(sample) & (sample != 0)]
    if finite_nonzero.size == 0:
        # Only zeros, nans and infs: "0." style regardless of options.sci_mode.
        return _ElementFormatter(True, True, False, 1, precision)

    int_mode = bool(np.all(finite_nonzero == np.ceil(finite_nonzero)))
    if options.sci_mode is None:
        magnitudes = np.abs(finite_nonzero.astype(np.float64))
        smallest, largest = magnitudes.min(), magnitudes.max()
        with np.errstate(over="ignore"):
            sci_mode = bool(
                largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4
            )
    else:
        sci_mode = bool(options.sci_mode)

    distinct = np.unique(finite_nonzero).tolist()
    if sci_mode:
        width = max(len(f"{value:.{precision}e}") for value in distinct)
    elif int_mode:
        width = max(
            len(f"{value:.0f}") + 1 for value in distinct
        )  # +1 for the trailing "."
    else:
        width = max(len(f"{value:.{precision}f}") for value in distinct)
    return _ElementFormatter(True, int_mode, sci_mode, max(1, width), precision)


def _edge_indices(size: int, edgeitems: int) -> list[int] | slice:
    """Indices of the first and last `edgeitems` positions along a dim that is summarised."""
    if size > 2 * edgeitems:
        return list(range(edgeitems)) + list(range(size - edgeitems, size))
    return slice(None)


def _summarized_sample(values: np.ndarray, edgeitems: int) -> np.ndarray:
    """The values a summarised print shows, which alone decide the element format."""
    for axis, size in enumerate(values.shape):
        index = [slice(None)] * values.ndim
        index[axis] = _edge_indices(size, edgeitems)
        values = values[tuple(index)]
    return values


def _format_values(
    values: np.ndarray, dtype: str, indent: int, options: PrintOptions
) -> str:
    """The bracketed body of a non-empty tensor's repr."""
    summarize = values.size > options.threshold
    sample = _summarized_sample(values, options.edgeitems) if summarize else values
    formatter = _choose_formatter(sample, dtype in FLOAT_DTYPES, options)
    return _format_block(values, indent, summarize, formatter, options)


def _format_block(
    values: np.ndarray,
    indent: int,
    summarize: bool,
    formatter: _ElementFormatter,
    options: PrintOptions,
) -> str:
    """Render `values` as nested brackets whose first "[" sits in column `indent`."""
    if values.ndim == 0:
        return formatter.format(values.item())
    if values.ndim == 1:
        return _format_row(values, indent, summarize, formatter, options)

    edgeitems = options.edgeitems
    count = values.shape[0]
    if summarize and count > 2 * edgeitems:
        shown = list(range(edgeitems)) + [None] + list(range(count - edgeitems, count))
    else:
        shown = list(range(count))
    blocks = [
        "..."
        if i is None
        else _format_block(values[i], indent + 1, summarize, formatter, options)
        for i in shown
    ]
    # A blank line between blocks for each dim below the outermost of this block.
    separator = "," + "\n" * (values.ndim - 1) + " " * (indent + 1)
    return "[" + separator.join(blocks) + "]"


def _format_row(
    values: np.ndarray,
    indent: int,
    summarize: bool,
    formatter: _ElementFormatter,
    options: PrintOptions,
) -> str:
    """Render a vector, wrapping after as many elements as fit in the line width."""
    edgeitems = options.edgeitems
    count = values.shape[0]
    if summarize and not edgeitems:
        texts = ["..."]
    elif summarize and count > 2 * edgeitems:
        texts = (
            [formatter.format(value) for value in values[:edgeitems].tolist()]
            + [" ..."]
            + [
                formatter.format(value)
                for value in values[count - edgeitems :].tolist()
            ]
        )
    else:
        texts = [formatter.format(value) for value in values.tolist()]

    element_width = formatter.width + 2  # the ", " after each element
    per_line = max(1, math.floor((options.linewidth - indent) / element_width))
    lines = [", ".join(texts[i : i + per_line]) for i in range(0, len(texts), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _append_suffixes(
    text: str, suffixes: list[str], indent: int, linewidth: int
) -> str:
    """Close the repr with its ", key=value" suffixes, moving one to a new line when it would overflow."""
    parts = [text]
    # torch's measure of the last line, which counts two characters more than are there
    # when `text` is a single line; kept so suffixes wrap exactly where torch wraps them.
    line_length = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if line_length + len(suffix) + 2 > linewidth:
            parts.append(",\n" + " " * indent + suffix)
            line_length = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            line_length += len(suffix) + 2
    parts.append(")")
    return "".join(parts)
