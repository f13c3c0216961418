"""The op table (lazyt/ir/ops.py) is complete: every row has what each layer needs.

Adding an elementwise op is one row, one LLVM template per operand kind
(lazyt/codegen/llvm_ops.py) and one gradient rule (lazyt/autograd/rules.py),
and the frontend binds the row's names. `op_table_problems` lists every row
that misses one of them; the test runs it on the table as imported, and on
deliberately broken rows to show that each kind of omission is caught.
"""

from __future__ import annotations

import dataclasses

import pytest

import lazyt as lt
from lazyt.autograd.rules import RULES
from lazyt.codegen import llvm_ops
from lazyt.ir.ops import NOT_DIFFERENTIABLE, OPS, OpDef

_KINDS = "fiub"
_DTYPE_RULES = ("same", "float", "bool", "integral")


def op_table_problems(ops: dict[str, OpDef], templates: dict[str, dict[str, str]],
                      rules: dict, tensor_type, namespace) -> list[str]:
    """One sentence per thing a row misses; empty when the table is complete."""
    problems = []
    for name, row in ops.items():
        if row.dtype_rule not in _DTYPE_RULES:
            problems.append(f"{name}: unknown dtype rule {row.dtype_rule!r}")
        if not row.kinds or set(row.kinds) - set(_KINDS):
            problems.append(f"{name}: operand kinds {row.kinds!r} are not a subset of 'fiub'")
        if row.dtype_rule == "float" and row.kinds != "f":
            problems.append(f"{name}: a 'float' op computes in floats only, not {row.kinds!r}")
        if row.dtype_rule == "integral" and "f" in row.kinds:
            problems.append(f"{name}: an 'integral' op cannot admit floats")
        if name not in templates:
            problems.append(f"{name}: no LLVM templates in codegen/llvm_ops.py")
        else:
            for kind in row.kinds:
                if _template(templates[name], kind) is None:
                    problems.append(f"{name}: no LLVM template for operand kind {kind!r}")
        if row.grad != NOT_DIFFERENTIABLE and row.grad not in rules:
            problems.append(f"{name}: gradient rule {row.grad!r} is not in autograd RULES "
                            f"(name one, or mark the row NOT_DIFFERENTIABLE)")
        for method in row.names:
            if not hasattr(tensor_type, method):
                problems.append(f"{name}: Tensor.{method} is not bound")
            if not hasattr(namespace, method):
                problems.append(f"{name}: lazyt.{method} is not bound")
        for method in row.inplace:
            if not hasattr(tensor_type, method):
                problems.append(f"{name}: Tensor.{method} (in place) is not bound")
    for name in templates:
        if name not in ops:
            problems.append(f"{name}: LLVM templates for an op the table does not have")
    return problems


def _template(templates: dict[str, str], kind: str) -> str | None:
    """The lookup codegen/llvm_ops.llvm_template does, on a given template dict."""
    for key in (kind, "iu" if kind in ("i", "u") else "", "*"):
        if key and key in templates:
            return templates[key]
    return None


def _problems_with(row: OpDef, templates=None) -> list[str]:
    ops = {**OPS, row.name: row}
    return op_table_problems(ops, templates or llvm_ops.LLVM_TEMPLATES, RULES, lt.Tensor, lt)


def test_every_op_row_has_templates_a_gradient_rule_and_bound_names():
    assert op_table_problems(OPS, llvm_ops.LLVM_TEMPLATES, RULES, lt.Tensor, lt) == []


def test_codegen_lookup_agrees_with_the_checked_one():
    for name in OPS:
        for kind in _KINDS:
            assert llvm_ops.llvm_template(name, kind) == _template(
                llvm_ops.LLVM_TEMPLATES[name], kind)


@pytest.mark.parametrize("breakage, expected", [
    ({"kinds": "fiub"}, "no LLVM template for operand kind 'b'"),       # sub on bools
    ({"grad": "no_such_rule"}, "gradient rule 'no_such_rule' is not in autograd RULES"),
    ({"aliases": ("subtract", "take_away")}, "Tensor.take_away is not bound"),
    ({"inplace": ("sub_", "take_away_")}, "Tensor.take_away_ (in place) is not bound"),
    ({"dtype_rule": "float"}, "a 'float' op computes in floats only"),
])
def test_a_row_missing_something_is_reported(breakage, expected):
    broken = dataclasses.replace(OPS["sub"], **breakage)
    problems = _problems_with(broken)
    assert any(expected in p for p in problems), problems


def test_a_row_without_templates_is_reported():
    new_row = OpDef("lambertw", 1, "float", "f", grad="lambertw", inplace=("lambertw_",))
    problems = _problems_with(new_row)
    assert "lambertw: no LLVM templates in codegen/llvm_ops.py" in problems
    assert any("gradient rule 'lambertw'" in p for p in problems)
    assert "lambertw: lazyt.lambertw is not bound" in problems


def test_templates_for_an_unknown_op_are_reported():
    templates = {**llvm_ops.LLVM_TEMPLATES, "lambertw": {"f": "{out} = fadd {ty} {a}, {b}"}}
    problems = op_table_problems(OPS, templates, RULES, lt.Tensor, lt)
    assert problems == ["lambertw: LLVM templates for an op the table does not have"]


def test_non_differentiable_rows_have_no_rule_and_differentiable_ones_do():
    for name, row in OPS.items():
        if row.grad == NOT_DIFFERENTIABLE:
            assert name not in RULES, f"{name} has a rule but its row says not differentiable"
        else:
            assert row.grad == name, "autograd looks rules up by the recorded op's name"


def test_an_op_outside_its_kinds_is_not_implemented_like_pytorch():
    with pytest.raises(NotImplementedError, match="not implemented for 'Bool'"):
        lt.tensor([True]).relu()
    with pytest.raises(NotImplementedError, match="not implemented for 'Float'"):
        lt.tensor([1.0]).bitwise_and(lt.tensor([2.0]))
