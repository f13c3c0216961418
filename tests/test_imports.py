"""The package's import structure (issue 12, "cut the cheap import ties").

The import graph is read from the source with `ast`, not by importing: a
module's imports, whether each sits at module level or inside a function, and
the line it is on. The tests say which ties must stay cut.
"""

from __future__ import annotations

import ast
import io
import subprocess
import sys
import textwrap
import tokenize
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "lazyt"

# The layers below Tensor (DESIGN.md): data flows down, imports point down.
LOWER_LAYERS = ("lazyt.engine", "lazyt.ir", "lazyt.codegen", "lazyt.runtime")
# What they must never import: Tensor, the op modules and everything above them.
FRONTEND = ("lazyt.tensor", "lazyt.elementwise", "lazyt.reductions", "lazyt.shape_ops",
            "lazyt.indexing", "lazyt.linalg", "lazyt.creation", "lazyt.conversions",
            "lazyt.methods", "lazyt.regions", "lazyt.eager_cache", "lazyt.realization",
            "lazyt.compile", "lazyt.nn", "lazyt.optim", "lazyt.autograd", "lazyt.utils")
# A development tool, not part of the library: it loads the whole package on purpose.
TOOLS = {"lazyt._stubgen"}


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name
    path: Path
    target: str  # the lazyt module it loads ("lazyt" for the package's namespace)
    local: bool  # inside a function body
    first_line: int
    last_line: int


def module_names() -> dict[str, Path]:
    """Dotted name -> file, for every module of the package."""
    names = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def _resolve(name: str, modules: dict[str, Path]) -> str:
    """The longest prefix of a dotted name that is a module of the package."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name


def _targets(node: ast.Import | ast.ImportFrom, package: str,
             modules: dict[str, Path]) -> list[str]:
    if isinstance(node, ast.Import):
        return [_resolve(alias.name, modules) for alias in node.names]
    base = node.module or ""
    if node.level:  # relative: from .x import y
        anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
        base = ".".join(anchor + ([base] if base else []))
    # `from lazyt import creation` loads the submodule; `from lazyt import Tensor`
    # reads the package's namespace (lazyt/__init__.py).
    return [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules
            else _resolve(base, modules) for alias in node.names]


def package_imports() -> list[Import]:
    modules = module_names()
    found = []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        in_functions = {id(inner) for node in ast.walk(tree)
                        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                        for inner in ast.walk(node)}
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for target in _targets(node, package, modules):
                if target and target != name:
                    found.append(Import(name, path, target, id(node) in in_functions,
                                        node.lineno, node.end_lineno or node.lineno))
    return found


def commented_lines(path: Path) -> set[int]:
    source = path.read_text()
    return {token.start[0] for token in tokenize.generate_tokens(io.StringIO(source).readline)
            if token.type == tokenize.COMMENT}


def import_cycles(imports: list[Import]) -> list[set[str]]:
    """The strongly connected components with more than one module (iterative Tarjan)."""
    edges: dict[str, set[str]] = {}
    for imp in imports:
        edges.setdefault(imp.importer, set()).add(imp.target)
        edges.setdefault(imp.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []
    for root in sorted(edges):
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(sorted(edges[root])))]
        while work:
            node, successors = work[-1]
            for nxt in successors:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(edges[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        cycles.append(component)
    return cycles


def test_grad_mode_loads_without_the_autograd_engine():
    # A bare stand-in for the `lazyt` package: lazyt/__init__.py loads the whole
    # public namespace (engine included) by design; what is checked here is what
    # `lazyt.autograd.grad_mode`, which every op module imports, pulls in itself.
    script = textwrap.dedent(f"""
        import sys, types
        package = types.ModuleType("lazyt")
        package.__path__ = [{str(PACKAGE_DIR)!r}]
        sys.modules["lazyt"] = package
        import lazyt.autograd.grad_mode
        print(" ".join(sorted(name for name in sys.modules if name.startswith("lazyt"))))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True)
    loaded = set(result.stdout.split())
    assert "lazyt.autograd.engine" not in loaded
    assert loaded <= {"lazyt", "lazyt.autograd", "lazyt.autograd.grad_mode",
                      "lazyt.autograd.gradcheck", "lazyt.autograd.anomaly_mode"}, loaded


def test_autograd_names_load_on_first_use():
    import lazyt as lt
    from lazyt.autograd import engine, function

    assert lt.autograd.grad is engine.grad and lt.autograd.backward is engine.backward
    assert lt.autograd.Function is function.Function
    assert lt.autograd.gradcheck is sys.modules["lazyt.autograd.gradcheck"].gradcheck
    assert {"Function", "grad", "backward"} <= set(dir(lt.autograd))


def test_regions_installs_the_rule_runner():
    import lazyt  # noqa: F401 - package import installs it
    from lazyt import regions
    from lazyt.autograd import grad_mode

    assert grad_mode.RULE_RUNNER is regions.run_region
    assert grad_mode.RULE_REGIONS_APPLY is regions.can_record_or_replay


def test_library_modules_do_not_import_the_package_namespace():
    # `import lazyt as lt` inside the package is a loop through lazyt/__init__.py.
    offenders = [f"{imp.path.relative_to(PACKAGE_DIR.parent)}:{imp.first_line}"
                 for imp in package_imports() if imp.target == "lazyt"
                 and imp.importer != "lazyt" and imp.importer not in TOOLS]
    assert offenders == []


def test_nn_optim_utils_and_serialization_are_outside_the_import_circle():
    outside = ("lazyt.nn", "lazyt.optim", "lazyt.utils", "lazyt.serialization")
    for cycle in import_cycles(package_imports()):
        caught = sorted(name for name in cycle if name.startswith(outside))
        assert caught == [], f"in an import loop with {sorted(cycle - set(caught))}"


def test_function_local_imports_say_why():
    comments = {}
    missing = []
    for imp in package_imports():
        if not imp.local:
            continue
        if imp.path not in comments:
            comments[imp.path] = commented_lines(imp.path)
        if not comments[imp.path] & set(range(imp.first_line, imp.last_line + 1)):
            missing.append(f"{imp.path.relative_to(PACKAGE_DIR.parent)}:{imp.first_line}")
    assert missing == [], "function-local imports without a '# reason' comment on their line"


def test_engine_ir_codegen_and_runtime_never_import_the_frontend():
    offenders = [f"{imp.path.relative_to(PACKAGE_DIR.parent)}:{imp.first_line} imports "
                 f"{imp.target}" for imp in package_imports()
                 if imp.importer.startswith(LOWER_LAYERS) and imp.target.startswith(FRONTEND)]
    assert offenders == []


def test_the_import_circle_is_at_most_the_frontend_peer_group():
    cycles = import_cycles(package_imports())
    assert all(len(cycle) <= 14 for cycle in cycles), [sorted(c) for c in cycles]
    for cycle in cycles:
        assert not any(name.startswith(LOWER_LAYERS) for name in cycle), sorted(cycle)


def test_one_program_class_and_one_ctypes_launch_loop():
    sources = {path: path.read_text() for path in PACKAGE_DIR.rglob("*.py")}
    programs = [path.name for path, text in sources.items() if "class Program" in text]
    assert programs == ["program.py"]
    # A kernel call passes a ctypes array of buffer pointers: built only by
    # the launch loop (runtime/launch.py).
    builders = sorted(str(path.relative_to(PACKAGE_DIR)) for path, text in sources.items()
                      if "c_void_p *" in text)
    assert builders == ["runtime/launch.py"]


def test_submodules_import_in_any_order_without_the_package_namespace():
    # With a bare stand-in for `lazyt` (its __init__.py not run), every module
    # imports on its own and in a shuffled order: none relies on the order of
    # lazyt/__init__.py's lines.
    names = sorted(n for n in module_names() if n != "lazyt" and n not in TOOLS)
    script = textwrap.dedent(f"""
        import importlib, random, sys, types
        names = {names!r}
        random.Random(int(sys.argv[1])).shuffle(names)
        package = types.ModuleType("lazyt")
        package.__path__ = [{str(PACKAGE_DIR)!r}]
        sys.modules["lazyt"] = package
        for name in names:
            importlib.import_module(name)
    """)
    for seed in range(3):
        result = subprocess.run([sys.executable, "-c", script, str(seed)], capture_output=True,
                                text=True)
        assert result.returncode == 0, result.stderr[-2000:]


# --- What `import lazyt` loads (issue 16: import time). Heavy or rarely used
# namespaces load on first use (PEP 562), code generation with the first kernel.
LAZY_SUBMODULES = ("nn", "optim", "utils", "distributed", "debug", "special", "fft", "masked",
                   "signal", "testing", "backends", "accelerator")
NOT_LOADED_BY_IMPORT = ("lazyt.nn", "lazyt.optim", "lazyt.distributed", "lazyt.serialization",
                        "lazyt.codegen.llvm", "lazyt.codegen.cuda", "lazyt.autograd.rules",
                        "lazyt.printing", "llvmlite.binding", "numba", "concurrent.futures")


def _modules_after(code: str) -> set[str]:
    script = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True, cwd=PACKAGE_DIR.parent)
    return set(result.stdout.split())


def test_import_lazyt_leaves_heavy_modules_unloaded():
    loaded = _modules_after("import lazyt")
    assert sorted(loaded & set(NOT_LOADED_BY_IMPORT)) == []


def test_first_kernel_and_first_use_load_what_they_need():
    loaded = _modules_after("import lazyt as lt\n(lt.ones(3) + 1).tolist()\nlt.nn.Linear(2, 2)")
    assert {"llvmlite.binding", "lazyt.codegen.llvm", "lazyt.nn"} <= loaded
    assert "numba" not in loaded


def test_lazy_submodules_are_importable_and_listed_in_dir():
    import importlib

    import lazyt as lt

    names = dir(lt)
    for name in LAZY_SUBMODULES:
        assert name in names, name
        assert getattr(lt, name) is importlib.import_module(f"lazyt.{name}")
    from lazyt import nn, optim  # noqa: F401 - `from lazyt import X` works for lazy names
    assert lt.nn.Linear is nn.Linear


def test_lazy_names_resolve_to_their_definitions():
    import lazyt as lt
    from lazyt import lstm, save, set_printoptions
    from lazyt.nn._functional.native import native_batch_norm
    from lazyt.nn._functional.rnn import lstm as lstm_defined
    from lazyt.printing import set_printoptions as defined
    from lazyt.serialization import save as save_defined

    assert (lstm, save, set_printoptions) == (lstm_defined, save_defined, defined)
    assert lt.native_batch_norm is native_batch_norm
    assert {"save", "load", "lstm", "pdist", "set_printoptions"} <= set(dir(lt))


def test_an_unknown_name_is_an_attribute_error():
    import lazyt as lt

    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        lt.no_such_name  # noqa: B018
    assert not hasattr(lt, "no_such_name")
