"""lazyt/tensor.pyi, the generated list of Tensor methods, is up to date.

Most Tensor methods are bound from the op modules' tables at import; the stub
is how `grep "def exp" lazyt/` finds where `Tensor.exp` comes from. Regenerate
it with `python -m lazyt._stubgen` when a method is added or renamed.
"""

import ast
import importlib
import inspect

import lazyt as lt
from lazyt import _stubgen


def test_checked_in_stub_matches_the_methods_bound_at_import():
    expected = _stubgen.render_tensor_stub()
    actual = _stubgen.STUB_PATH.read_text()
    assert actual == expected, (
        f"lazyt/tensor.pyi is out of date: run `{_stubgen.REGENERATE}` and commit it")


def test_every_tensor_method_has_a_def_naming_its_file():
    stub = ast.parse(_stubgen.STUB_PATH.read_text())
    (tensor_class,) = [s for s in stub.body if isinstance(s, ast.ClassDef) and s.name == "Tensor"]
    defined = {s.name for s in tensor_class.body if isinstance(s, ast.FunctionDef)}
    methods = {name for name, value in vars(lt.Tensor).items()
               if inspect.isfunction(value) or isinstance(value, property)}
    assert methods - defined == set()
    text = _stubgen.STUB_PATH.read_text()
    assert "def sum(self, dim=None, keepdim=False, *, dtype=None): ...  " \
           "# defined in lazyt/reductions.py" in text
    assert "def exp(self): ...  # defined in lazyt/elementwise.py" in text


def test_the_stub_is_for_type_checkers_only():
    module = importlib.import_module("lazyt.tensor")
    assert module.__file__.endswith("tensor.py")
    assert lt.Tensor.sum is importlib.import_module("lazyt.reductions").sum
