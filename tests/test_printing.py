"""Tests for lazyt/printing.py: every repr is compared with PyTorch's own, with `torch.` read as `lazyt.`."""

from __future__ import annotations

import contextlib
import importlib.util
import math
import sys
import warnings
from pathlib import Path

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st


def _load_printing():
    """Import lazyt.printing, or load the file directly while lazyt has no importable package."""
    try:
        from lazyt import printing

        return printing
    except ImportError:
        path = Path(__file__).resolve().parents[1] / "lazyt" / "printing.py"
        spec = importlib.util.spec_from_file_location("lazyt_printing_standalone", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        return module


printing = _load_printing()

ALL_DTYPES = [
    "float32",
    "float64",
    "float16",
    "bfloat16",
    "int8",
    "uint8",
    "int16",
    "int32",
    "int64",
    "bool",
]
FLOAT_DTYPES = ["float32", "float64", "float16", "bfloat16"]
INT_DTYPES = ["int8", "uint8", "int16", "int32", "int64"]


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


@contextlib.contextmanager
def print_options(torch=None, default_dtype=None, **options):
    """Apply the same print options (and default dtype) to torch and lazyt, restoring both afterwards."""
    previous_default = torch.get_default_dtype() if torch is not None else None
    try:
        printing.set_printoptions(**options)
        if torch is not None:
            torch.set_printoptions(**options)
            if default_dtype is not None:
                torch.set_default_dtype(getattr(torch, default_dtype))
        yield
    finally:
        printing.set_printoptions(profile="default")
        if torch is not None:
            torch.set_printoptions(profile="default")
            torch.set_default_dtype(previous_default)


def dtype_name(torch_dtype) -> str:
    return str(torch_dtype).removeprefix("torch.")


def values_of(t):
    """What lazyt's Tensor would hand to the formatter: its values as numpy (bfloat16 widened to float32)."""
    t = t.detach()
    return t.float().numpy() if str(t.dtype) == "torch.bfloat16" else t.numpy()


def lazyt_repr(torch, t, device="cpu") -> str:
    grad_fn = type(t.grad_fn).__name__ if t.grad_fn is not None else None
    return printing.format_tensor(
        values_of(t),
        dtype=dtype_name(t.dtype),
        default_dtype=dtype_name(torch.get_default_dtype()),
        device=device,
        requires_grad=t.requires_grad,
        grad_fn=grad_fn,
    )


def torch_repr(t) -> str:
    return repr(t).replace("torch.", "lazyt.")


def assert_same_repr(torch, t, **options):
    with print_options(torch, **options):
        assert lazyt_repr(torch, t) == torch_repr(t)


def make_tensor(torch, values, dtype: str):
    """A torch tensor of `dtype` from a list or array, cast the way torch casts."""
    source = torch.tensor(np.asarray(values, dtype=np.float64))
    if dtype in INT_DTYPES:
        source = source.to(torch.int64)
    return source.to(getattr(torch, dtype))


def random_tensor(torch, shape, dtype: str, seed: int, scale: float = 1.0):
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return torch.from_numpy(np.asarray(rng.random(shape) < 0.5))
    if dtype in INT_DTYPES:
        low, high = (0, 200) if dtype == "uint8" else (-100, 100)
        return torch.from_numpy(np.asarray(rng.integers(low, high, size=shape))).to(
            getattr(torch, dtype)
        )
    return torch.from_numpy(np.asarray(rng.standard_normal(shape) * scale)).to(
        getattr(torch, dtype)
    )


# Value sets chosen to hit each of torch's element styles and their edge cases.
FLOAT_VALUE_SETS = {
    "fractions": [0.1, 0.25, -0.5, 3.75],
    "integer_valued": [1.0, -2.0, 30.0, 0.0],
    "large": [1e9, 2.5e9, -3e9],
    "just_below_sci": [1.0, 999.0, 5.5],
    "tiny": [1e-5, 3e-6, -2e-5],
    "mixed_magnitudes": [1e-3, 5.0, 1e4],
    "nonfinite": [math.nan, math.inf, -math.inf, 1.5],
    "nonfinite_with_integers": [math.nan, math.inf, -2.0, 7.0],
    "zeros_only": [0.0, -0.0, 0.0],
    "nonfinite_only": [math.nan, -math.inf, math.inf],
    "negative_zero": [-0.0, 1.25, -3.5],
    "rounds_up_a_digit": [9.99996, 0.99999, 99.99999],
    "float32_extremes": [3e38, -1e-38, 1.0],
    "subnormal": [1e-45, 1.0],
    "big_integers": [123456789.0, 1e8, 2.0],
    "half_precision_noise": [0.1, 0.2, 0.3, 1 / 3],
}

INT_VALUE_SETS = {
    "small": [0, 1, -5, 100],
    "extremes": [127, -128, 0],
    "int64_extremes": [2**63 - 1, -(2**63), 0],
    "single": [42],
}

SHAPES = [
    (),
    (0,),
    (0, 3),
    (2, 0, 4),
    (3, 0),
    (1,),
    (7,),
    (3, 4),
    (2, 3, 4),
    (2, 1, 3, 2),
    (1, 1, 1, 1, 1),
    (4, 1),
]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize(
    "values", FLOAT_VALUE_SETS.values(), ids=FLOAT_VALUE_SETS.keys()
)
def test_float_value_styles_match_torch(torch, values, dtype):
    assert_same_repr(torch, make_tensor(torch, values, dtype))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize(
    "value", [3.5, 0.0, -0.0, 1e-7, 1e10, 2.0, math.nan, -math.inf, 1 / 3]
)
def test_zero_dim_float_matches_torch(torch, value, dtype):
    assert_same_repr(torch, make_tensor(torch, value, dtype))


@pytest.mark.parametrize("dtype", INT_DTYPES)
@pytest.mark.parametrize("values", INT_VALUE_SETS.values(), ids=INT_VALUE_SETS.keys())
def test_integer_values_match_torch(torch, values, dtype):
    if dtype != "int64" and max(abs(v) for v in values) > 2**31:
        pytest.skip("values wrap differently when cast to a narrow integer")
    tensor = torch.tensor(values, dtype=torch.int64).to(getattr(torch, dtype))
    assert_same_repr(torch, tensor)
    assert_same_repr(torch, tensor[0])


@pytest.mark.parametrize("values", [[True, False, True], [True], [False, False]])
def test_bool_values_match_torch(torch, values):
    tensor = torch.tensor(values)
    assert_same_repr(torch, tensor)
    assert_same_repr(torch, tensor[0])
    assert_same_repr(torch, tensor.reshape(len(values), 1))


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_shapes_and_dtypes_match_torch(torch, shape, dtype):
    assert_same_repr(
        torch, random_tensor(torch, shape, dtype, seed=len(shape) * 7 + sum(shape))
    )


@pytest.mark.parametrize("scale", [1e-6, 1e-2, 1.0, 1e3, 1e9])
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 2, 3)], ids=str)
def test_magnitudes_match_torch(torch, scale, shape):
    for dtype in FLOAT_DTYPES:
        assert_same_repr(
            torch, random_tensor(torch, shape, dtype, seed=11, scale=scale)
        )


@pytest.mark.parametrize(
    "shape",
    [(2000,), (1001,), (100, 100), (3, 500), (10, 10, 20), (2, 3, 200), (7, 3, 3, 20)],
    ids=str,
)
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool", "float16"])
def test_large_tensors_are_summarised_like_torch(torch, shape, dtype):
    assert_same_repr(torch, random_tensor(torch, shape, dtype, seed=3))


@pytest.mark.parametrize("edgeitems", [0, 1, 2, 5])
@pytest.mark.parametrize("threshold", [5, 10, 1000])
@pytest.mark.parametrize("shape", [(), (4,), (20,), (4, 5), (7, 9), (3, 4, 5)], ids=str)
def test_summarisation_options_match_torch(torch, shape, edgeitems, threshold):
    for dtype in ["float32", "int32"]:
        tensor = random_tensor(torch, shape, dtype, seed=5, scale=10.0)
        assert_same_repr(torch, tensor, edgeitems=edgeitems, threshold=threshold)


def test_summarised_format_depends_only_on_shown_values(torch):
    # The hidden middle element is fractional and huge; torch still prints the edges as "1." integers.
    tensor = torch.arange(2000.0)
    tensor[1000] = 1e12 + 0.5
    assert_same_repr(torch, tensor)
    assert_same_repr(torch, tensor.reshape(40, 50))


def test_huge_tensor_prints_quickly(torch):
    assert_same_repr(torch, random_tensor(torch, (1000, 1000), "float32", seed=0))


@pytest.mark.parametrize("linewidth", [1, 20, 40, 80, 121])
@pytest.mark.parametrize("shape", [(100,), (3, 30), (2, 2, 25)], ids=str)
def test_long_rows_wrap_like_torch(torch, shape, linewidth):
    for dtype in ["float32", "float64", "int64", "bool"]:
        assert_same_repr(
            torch,
            random_tensor(torch, shape, dtype, seed=9, scale=100.0),
            linewidth=linewidth,
        )


@pytest.mark.parametrize("length", range(1, 30))
def test_suffixes_wrap_like_torch(torch, length):
    # Covers both sides of the "suffix fits on the last line" boundary for one- and multi-line bodies.
    tensor = torch.arange(length, dtype=torch.float64).mul(1.5).requires_grad_()
    assert_same_repr(torch, tensor)
    assert_same_repr(torch, tensor * 2)
    assert_same_repr(torch, tensor.detach().to(torch.int16))


def test_autograd_suffixes_match_torch(torch):
    leaf = torch.tensor([1.0, 2.0], requires_grad=True)
    assert_same_repr(torch, leaf)
    assert_same_repr(torch, leaf + 1)
    assert_same_repr(torch, (leaf * 3).sum())
    assert_same_repr(torch, torch.tensor([], requires_grad=True))
    assert_same_repr(torch, torch.zeros(0, 2, dtype=torch.float64, requires_grad=True))


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("shape", [(0,), (0, 3), (2, 0)], ids=str)
def test_empty_tensor_suffixes_match_torch(torch, shape, dtype):
    assert_same_repr(torch, torch.zeros(shape, dtype=getattr(torch, dtype)))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "float16"])
def test_default_dtype_float64_moves_the_suffix(torch, dtype):
    tensor = random_tensor(torch, (3,), dtype, seed=1)
    with print_options(torch, default_dtype="float64"):
        assert lazyt_repr(torch, tensor) == torch_repr(tensor)
        empty = tensor[:0]
        assert lazyt_repr(torch, empty) == torch_repr(empty)


def test_device_suffix_matches_known_cuda_reprs():
    assert printing.format_tensor(
        np.array([1.0, 2.0], np.float32), dtype="float32", device="cuda:0"
    ) == ("tensor([1., 2.], device='cuda:0')")
    assert (
        printing.format_tensor(
            np.array([1, 2], np.int32),
            dtype="int32",
            device="cuda",
            requires_grad=False,
        )
        == "tensor([1, 2], device='cuda:0', dtype=lazyt.int32)"
    )
    assert (
        printing.format_tensor(
            np.array(0.5, np.float32),
            dtype="float32",
            device="cuda:1",
            grad_fn="MulBackward0",
        )
        == "tensor(0.5000, device='cuda:1', grad_fn=<MulBackward0>)"
    )
    assert printing.format_tensor(
        np.zeros((0, 2), np.float32), dtype="float32", device="cuda:0"
    ) == ("tensor([], device='cuda:0', size=(0, 2))")


@pytest.mark.parametrize("length", range(1, 25, 2))
def test_device_suffix_wraps_like_torch(torch, length):
    # Without a CUDA build, torch's own suffix layout routine is the oracle for where the device suffix lands.
    from torch._tensor_str import _add_suffixes, _tensor_str

    tensor = torch.arange(length, dtype=torch.float64).mul(1.25)
    suffixes = ["device='cuda:0'", "dtype=lazyt.float64", "requires_grad=True"]
    expected = _add_suffixes(
        "tensor(" + _tensor_str(tensor, 7), suffixes, 7, force_newline=False
    )
    actual = printing.format_tensor(
        tensor.numpy(), dtype="float64", device="cuda:0", requires_grad=True
    )
    assert actual == expected


@pytest.mark.parametrize(
    "options",
    [
        {"precision": 0},
        {"precision": 1},
        {"precision": 2},
        {"precision": 8},
        {"sci_mode": True},
        {"sci_mode": False},
        {"sci_mode": True, "precision": 2},
        {"profile": "short"},
        {"profile": "full"},
        {"profile": "full", "linewidth": 50},
        {"profile": "short", "edgeitems": 4, "threshold": 30},
        {"linewidth": 30},
        {"threshold": 0},
        {"edgeitems": 0, "threshold": 3},
    ],
    ids=str,
)
def test_print_options_match_torch(torch, options):
    tensors = [
        make_tensor(torch, FLOAT_VALUE_SETS["mixed_magnitudes"], "float32"),
        make_tensor(torch, FLOAT_VALUE_SETS["nonfinite_with_integers"], "float64"),
        make_tensor(torch, FLOAT_VALUE_SETS["zeros_only"], "float32"),
        make_tensor(torch, FLOAT_VALUE_SETS["fractions"], "bfloat16"),
        make_tensor(torch, 1234.5678, "float32"),
        random_tensor(torch, (6, 7), "float32", seed=2),
        random_tensor(torch, (1200,), "float32", seed=2, scale=1e5),
        random_tensor(torch, (5, 6), "int64", seed=2),
    ]
    for tensor in tensors:
        assert_same_repr(torch, tensor, **options)


def test_set_printoptions_follows_torch_state(torch):
    calls = [
        {"precision": 2, "sci_mode": True},
        {"linewidth": 100},  # also resets sci_mode, as torch does
        {"profile": "full"},
        {"profile": "short", "precision": 6},
        {"profile": "unknown", "edgeitems": 1},
        {"profile": "default"},
    ]
    from torch._tensor_str import PRINT_OPTS

    try:
        for call in calls:
            printing.set_printoptions(**call)
            torch.set_printoptions(**call)
            assert printing.get_printoptions() == {
                "precision": PRINT_OPTS.precision,
                "threshold": PRINT_OPTS.threshold,
                "edgeitems": PRINT_OPTS.edgeitems,
                "linewidth": PRINT_OPTS.linewidth,
                "sci_mode": PRINT_OPTS.sci_mode,
            }
    finally:
        printing.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")


def test_print_options_object_is_shared_and_mutated_in_place():
    options = printing.PRINT_OPTIONS
    with print_options(precision=7, profile="full"):
        assert printing.PRINT_OPTIONS is options
        assert options.precision == 7 and options.threshold == math.inf
    assert options == printing.PrintOptions()


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_half_precision_values_are_rounded_like_torch(torch, dtype):
    # The caller may hand over float32 values for a half dtype; they print as torch's cast would store them.
    rng = np.random.default_rng(4)
    values = np.concatenate(
        [
            rng.standard_normal(12).astype(np.float32),
            np.array(
                [1 + 2**-8, 1 + 3 * 2**-8, 65520.0, 3.4e38, -1e-40, math.nan],
                np.float32,
            ),
        ]
    )
    expected = torch_repr(torch.from_numpy(values).to(getattr(torch, dtype)))
    assert printing.format_tensor(values, dtype=dtype) == expected


def test_unknown_dtype_is_rejected():
    with pytest.raises(TypeError, match="complex64"):
        printing.format_tensor(np.zeros(2), dtype="complex64")


def storage_repr(t) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return repr(t.storage()).replace("torch.", "lazyt.")


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("shape", [(0,), (1,), (6,), (2, 3)], ids=str)
def test_storage_repr_matches_torch(torch, shape, dtype):
    tensor = random_tensor(torch, shape, dtype, seed=8, scale=3.0)
    assert printing.format_storage(values_of(tensor), dtype=dtype) == storage_repr(
        tensor
    )


def test_storage_repr_of_special_floats_matches_torch(torch):
    for values in [
        FLOAT_VALUE_SETS["nonfinite"],
        FLOAT_VALUE_SETS["negative_zero"],
        [1e10, 2.5e-3, 1.1, 1e20],
    ]:
        for dtype in FLOAT_DTYPES:
            tensor = make_tensor(torch, values, dtype)
            assert printing.format_storage(
                values_of(tensor), dtype=dtype
            ) == storage_repr(tensor)


def test_storage_repr_names_device_and_module():
    text = printing.format_storage(
        np.array([1, 2]), dtype="int64", device="cuda:0", module_name="lt"
    )
    assert (
        text
        == " 1\n 2\n[lt.storage.TypedStorage(dtype=lt.int64, device=cuda:0) of size 2]"
    )


def test_module_name_replaces_torch_in_dtype_suffix():
    values = np.array([1, 2], np.int32)
    assert (
        printing.format_tensor(values, dtype="int32", module_name="lt")
        == "tensor([1, 2], dtype=lt.int32)"
    )


# Hypothesis: random arrays under random print options.

float32_elements = st.one_of(
    st.floats(width=32),
    st.floats(-1e3, 1e3, width=32),
    st.integers(-1000, 1000).map(float),
    st.sampled_from([0.0, -0.0, 1e-5, 1e9, 0.5]),
)
random_shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=6)
random_options = st.fixed_dictionaries(
    {},
    optional={
        "precision": st.integers(0, 8),
        "threshold": st.sampled_from([0, 5, 20, 1000]),
        "edgeitems": st.integers(0, 4),
        "linewidth": st.integers(10, 150),
        "sci_mode": st.sampled_from([None, True, False]),
    },
)


@settings(max_examples=200, deadline=None)
@given(
    values=hnp.arrays(np.float32, random_shapes, elements=float32_elements),
    options=random_options,
)
def test_random_float32_arrays_match_torch(torch, values, options):
    assert_same_repr(torch, torch.from_numpy(values.copy()), **options)


@settings(max_examples=150, deadline=None)
@given(
    values=hnp.arrays(
        np.int64,
        random_shapes,
        elements=st.one_of(st.integers(-(2**63), 2**63 - 1), st.integers(-20, 20)),
    ),
    options=random_options,
)
def test_random_int64_arrays_match_torch(torch, values, options):
    assert_same_repr(torch, torch.from_numpy(values.copy()), **options)
