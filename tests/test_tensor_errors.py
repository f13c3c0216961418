"""User errors raise PyTorch's exception classes with messages naming the user's values.

Out-of-range indices are also run in a child process: a JIT-compiled kernel that
reads or writes out of bounds could crash the interpreter instead of raising, and
the child's exit status tells the two apart.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests._backend import BACKEND, lt

REPO_ROOT = str(Path(__file__).resolve().parents[1])


def _shape_pattern(shape) -> str:
    """`3x4`, `(3, 4)` or `[3, 4]`: any of the ways a message may spell a shape."""
    inner = r",\s*".join(str(s) for s in shape)
    return rf"({'x'.join(str(s) for s in shape)}|\({inner}\)|\[{inner}\])"


# ---------------------------------------------------------------- shapes


def test_broadcasting_mismatch_raises_runtime_error_naming_the_sizes():
    with pytest.raises(RuntimeError, match=r"(?s)3.*4"):
        lt.ones(2, 3) + lt.ones(4)
    with pytest.raises(RuntimeError):
        lt.ones(2, 3) * lt.ones(3, 2)
    with pytest.raises(RuntimeError):
        lt.where(lt.ones(2, dtype=lt.bool), lt.ones(3), lt.ones(2))


def test_inplace_op_cannot_broadcast_its_target():
    with pytest.raises(RuntimeError):
        lt.ones(3).add_(lt.ones(2, 3))


def test_mm_of_incompatible_shapes_names_both_shapes():
    with pytest.raises(RuntimeError) as error:
        lt.mm(lt.ones(3, 4), lt.ones(5, 6))
    message = str(error.value)
    assert re.search(_shape_pattern((3, 4)), message), message
    assert re.search(_shape_pattern((5, 6)), message), message
    with pytest.raises(RuntimeError) as error:
        lt.ones(3, 4) @ lt.ones(5, 6)
    assert re.search(_shape_pattern((5, 6)), str(error.value)), str(error.value)


def test_matmul_shape_errors_raise_runtime_error():
    with pytest.raises(RuntimeError):
        lt.ones(3) @ lt.ones(4)
    with pytest.raises(RuntimeError):
        lt.bmm(lt.ones(2, 3, 4), lt.ones(2, 5, 6))
    with pytest.raises(RuntimeError):
        lt.ones(2, 3, 4).matmul(lt.ones(3, 4, 5))


def test_view_with_incompatible_strides_raises_runtime_error():
    transposed = lt.ones(2, 3).t()
    with pytest.raises(RuntimeError, match="view"):
        transposed.view(-1)
    assert transposed.reshape(-1).shape == (6,)


def test_view_and_reshape_to_the_wrong_number_of_elements_raise():
    with pytest.raises(RuntimeError, match=r"\b5\b.*\b6\b|\b6\b.*\b5\b"):
        lt.ones(2, 3).view(5)
    with pytest.raises(RuntimeError):
        lt.ones(2, 3).reshape(4, -1)
    with pytest.raises(RuntimeError):
        lt.ones(2, 3).view(-1, -1)


def test_expand_of_a_non_singleton_dim_raises():
    with pytest.raises(RuntimeError):
        lt.ones(2, 3).expand(4, 3)
    with pytest.raises(RuntimeError):
        lt.ones(3).expand(2)


def test_cat_and_stack_of_mismatched_shapes_raise():
    with pytest.raises(RuntimeError):
        lt.cat([lt.ones(2, 3), lt.ones(2, 4)], dim=0)
    with pytest.raises(RuntimeError):
        lt.stack([lt.ones(2), lt.ones(3)])


# ---------------------------------------------------------------- dims and indices


@pytest.mark.parametrize(
    "call",
    [
        lambda t: t.sum(dim=5),
        lambda t: t.sum(dim=-3),
        lambda t: t.mean(dim=(0, 2)),
        lambda t: t.transpose(0, 3),
        lambda t: t.permute(0, 2),
        lambda t: t.unsqueeze(4),
        lambda t: t.softmax(dim=2),
        lambda t: t.max(dim=2),
        lambda t: t.argmax(dim=-5),
        lambda t: t.cumsum(dim=2),
        lambda t: lt.cat([t, t], dim=2),
        lambda t: t.select(2, 0),
        lambda t: t.narrow(3, 0, 1),
        lambda t: t.flatten(0, 4),
        lambda t: t.squeeze(3),
        lambda t: t.size(2),
        lambda t: t.stride(-3),
        lambda t: t.gather(2, lt.zeros(2, 3, dtype=lt.int64)),
        lambda t: t.index_select(2, lt.tensor([0])),
        lambda t: lt.stack([t, t], dim=4),
        lambda t: t.logsumexp(3),
        lambda t: t.var(dim=2),
        lambda t: t.amax(dim=2),
        lambda t: t.all(dim=2),
        lambda t: t.norm(dim=2),
        lambda t: t.sort(dim=2),
        lambda t: t.topk(1, dim=2),
        lambda t: t.split(1, dim=2),
        lambda t: t.chunk(2, dim=2),
        lambda t: t.unbind(2),
        lambda t: t.prod(dim=2),
    ],
)
def test_dim_out_of_range_raises_index_error(call):
    with pytest.raises(IndexError):
        call(lt.ones(2, 3))


def test_bad_dim_message_names_the_valid_range():
    with pytest.raises(IndexError, match=r"(?s)-2.*1.*5"):
        lt.ones(2, 3).sum(dim=5)


def test_basic_index_out_of_range_raises_index_error():
    t = lt.ones(2, 3)
    with pytest.raises(IndexError):
        t[5]
    with pytest.raises(IndexError):
        t[0, -4]
    with pytest.raises(IndexError):
        t[0, 0, 0]
    with pytest.raises(IndexError):
        t[1, 3] = 2.0
    with pytest.raises(IndexError):
        t.select(0, 2)


def test_negative_slice_step_raises_value_error():
    with pytest.raises(ValueError):
        lt.arange(5)[::-1]


@pytest.mark.parametrize(
    "index",
    [
        lambda: lt.tensor([7]),
        lambda: lt.tensor([0, -6]),
        lambda: [1, 9],
        lambda: (lt.tensor([0]), lt.tensor([4])),
    ],
)
def test_advanced_index_out_of_range_raises_index_error(index):
    t = lt.arange(10).view(5, 2)
    with pytest.raises(IndexError):
        t[index()]
    with pytest.raises(IndexError):
        t[index()] = 0


def test_boolean_mask_of_the_wrong_shape_raises_index_error():
    with pytest.raises(IndexError):
        lt.ones(3, 2)[lt.tensor([True, False])]


def test_gather_and_index_select_with_bad_indices_raise():
    t = lt.arange(5)
    with pytest.raises(RuntimeError):
        t.gather(0, lt.tensor([7]))
    with pytest.raises((IndexError, RuntimeError)):
        t.index_select(0, lt.tensor([7]))
    with pytest.raises(RuntimeError):
        lt.zeros(5).scatter(0, lt.tensor([9]), lt.ones(1))


SUBPROCESS_SCRIPT = r"""
import sys
sys.path.insert(0, {root!r})
import {module} as lt

def expect(exception_types, action, name):
    try:
        action()
    except exception_types:
        print("ok", name, flush=True)
    else:
        print("no error", name, flush=True)
        sys.exit(3)

t = lt.arange(1000.0)
expect(IndexError, lambda: t[lt.tensor([10**6])], "getitem")
expect(IndexError, lambda: t[lt.tensor([-10**6])], "getitem-negative")
expect(IndexError, lambda: t.__setitem__(lt.tensor([10**6]), 1.0), "setitem")
expect(IndexError, lambda: t.view(10, 100)[lt.tensor([2]), lt.tensor([10**5])], "getitem-2d")
expect((IndexError, RuntimeError), lambda: t.index_select(0, lt.tensor([10**6])), "index_select")
expect(RuntimeError, lambda: t.gather(0, lt.tensor([10**6])), "gather")
expect(RuntimeError, lambda: t.scatter(0, lt.tensor([10**6]), lt.ones(1)), "scatter")
print("survived", float(t.sum()), flush=True)
"""


def test_out_of_range_indices_raise_cleanly_in_a_subprocess():
    module = "torch" if BACKEND == "torch" else "lazyt"
    script = SUBPROCESS_SCRIPT.format(root=REPO_ROOT, module=module)
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                               timeout=300, cwd=REPO_ROOT)
    report = f"exit {completed.returncode}\n{completed.stdout}\n{completed.stderr[-3000:]}"
    assert completed.returncode == 0, report  # a negative code is a signal (e.g. SIGSEGV)
    assert completed.stdout.count("ok ") == 7, report
    assert "survived 499500.0" in completed.stdout, report


# ---------------------------------------------------------------- dtypes and grads


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
def test_integer_tensors_cannot_require_grad(dtype):
    with pytest.raises(RuntimeError, match="(?i)floating point"):
        lt.tensor([1, 2], dtype=getattr(lt, dtype), requires_grad=True)
    with pytest.raises(RuntimeError):
        lt.zeros(3, dtype=getattr(lt, dtype)).requires_grad_()
    with pytest.raises(RuntimeError):
        lt.zeros(3, dtype=getattr(lt, dtype), requires_grad=True)


def test_inplace_result_that_cannot_be_cast_back_raises():
    ints = lt.zeros(3, dtype=lt.int64)
    with pytest.raises(RuntimeError, match="(?i)float.*long|cast"):
        ints += 1.5
    with pytest.raises(RuntimeError):
        ints.mul_(lt.ones(3))


def test_integer_only_and_float_only_ops_reject_other_dtypes():
    with pytest.raises(RuntimeError):
        lt.arange(3).mean()
    with pytest.raises(RuntimeError):
        lt.arange(3).var()
    with pytest.raises((RuntimeError, TypeError)):
        lt.ones(3) & lt.ones(3)
    with pytest.raises(RuntimeError):
        -lt.tensor([True, False])
    with pytest.raises(RuntimeError):
        lt.tensor([True]) - lt.tensor([False])


def test_integer_division_by_zero_raises():
    with pytest.raises(RuntimeError, match="(?i)zero"):
        lt.tensor([1, 2]) // lt.tensor([1, 0])
    with pytest.raises(RuntimeError, match="(?i)zero"):
        lt.tensor([1, 2]) % 0


def test_integer_to_negative_integer_power_raises():
    with pytest.raises(RuntimeError):
        lt.tensor([2, 3]) ** -1
    with pytest.raises(RuntimeError):
        lt.tensor([2, 3]).pow(-2)


# ---------------------------------------------------------------- conversions


def test_item_of_a_multi_element_tensor_raises_runtime_error():
    with pytest.raises(RuntimeError, match=r"\b2\b"):
        lt.ones(2).item()
    with pytest.raises(RuntimeError):
        lt.zeros(0).item()


def test_bool_of_a_multi_element_tensor_is_ambiguous():
    with pytest.raises(RuntimeError, match="(?i)ambiguous"):
        bool(lt.ones(2))
    with pytest.raises(RuntimeError):
        if lt.tensor([1.0, 2.0]) > 0:
            pass


def test_float_and_int_of_a_multi_element_tensor_raise_value_error():
    with pytest.raises(ValueError):
        float(lt.ones(3))
    with pytest.raises(ValueError):
        int(lt.ones(2, 2))


def test_ragged_nested_lists_raise_value_error():
    with pytest.raises(ValueError):
        lt.tensor([[1, 2], [3]])


def test_requires_grad_tensor_cannot_become_numpy_without_detach():
    t = lt.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        t.numpy()
    assert t.detach().numpy().tolist() == [1.0, 1.0]
