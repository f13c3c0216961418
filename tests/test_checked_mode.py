"""The checked mode (LAZYT_CHECK_BOUNDS=1, lazyt/runtime/checked.py).

The flag is read at import, so every checked run is a subprocess: a wrong
view built through the engine directly (no Tensor) is caught on read and on
write with a message naming the kernel, buffer and index; freed storage is
poisoned and not reused; and a part of the suite (views, indexing) passes
in checked mode, so CI runs every kernel those tests generate bounds-checked.
In normal mode the generated code carries no checks.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from lazyt import dtypes
from lazyt.codegen.llvm import render_llvm
from lazyt.ir.node import Buffer, make_node
from lazyt.ir.plan import lower_kernel
from lazyt.ir.view import View

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run_checked(code: str, timeout: float = 120, **env) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": REPO_ROOT, "LAZYT_CHECK_BOUNDS": "1",
                   "LAZYT_CACHE": "0", **env}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=environment,
                          capture_output=True, text=True, timeout=timeout, cwd=REPO_ROOT)


_ENGINE_SETUP = """
    import numpy as np
    import lazyt as lt
    from lazyt import dtypes
    from lazyt.engine.realize import realize_into, realize_new
    from lazyt.ir.node import make_node
    from lazyt.ir.view import View
    from lazyt.runtime.storage import Storage

    def storage(n):
        return Storage.from_array(dtypes.float32, np.arange(n, dtype=np.float32),
                                  lt.device("cpu"))

    def load(st, view):
        return make_node("load", dtypes.float32, view.shape, (), (st.buffer, view))
"""


def test_checked_mode_catches_a_read_past_the_storage():
    result = _run_checked(_ENGINE_SETUP + """
    src = storage(6)
    bad = View((4,), (2,), 0)  # elements 0, 2, 4, 6: the last is past the end
    node = make_node("neg", dtypes.float32, (4,), (load(src, bad),))
    try:
        realize_new(node, lt.device("cpu"))
    except RuntimeError as e:
        print("CAUGHT", e)
    """)
    assert result.returncode == 0, result.stderr
    assert "CAUGHT lazyt internal error: kernel " in result.stdout
    assert "read out of bounds" in result.stdout
    assert "has 6 elements, index 6" in result.stdout


def test_checked_mode_catches_a_write_past_the_storage_and_a_negative_index():
    result = _run_checked(_ENGINE_SETUP + """
    src, out = storage(8), storage(5)
    node = make_node("neg", dtypes.float32, (4,), (load(src, View.contiguous((4,))),))
    try:
        realize_into(node, out, View((4,), (1,), 2))  # writes 2..5 of 5 elements
    except RuntimeError as e:
        print("WRITE", e)
    assert out.array[:2].tolist() == [0, 1], "nothing before the view may change"
    try:
        realize_new(make_node("neg", dtypes.float32, (3,), (load(src, View((3,), (-1,), 1)),)),
                    lt.device("cpu"))
    except RuntimeError as e:
        print("NEGATIVE", e)
    """)
    assert result.returncode == 0, result.stderr
    assert "WRITE lazyt internal error" in result.stdout
    assert "wrote out of bounds" in result.stdout and "has 5 elements, index 5" in result.stdout
    assert "NEGATIVE lazyt internal error" in result.stdout and "index -1" in result.stdout


def test_checked_mode_computes_the_same_values():
    result = _run_checked("""
    import lazyt as lt
    x = lt.arange(24.).reshape(4, 6)
    y = (x.t()[::2] * 2 + x.t()[1::2]).sum(0) - x[1:, ::3].exp().mean()
    print(y.tolist())
    i = lt.tensor([3, 0, 2])
    print(x[i, 1:].tolist(), lt.zeros(5).index_add_(0, lt.tensor([4, 0]), lt.ones(2)).tolist())
    """)
    assert result.returncode == 0, result.stderr
    import lazyt as lt
    x = lt.arange(24.).reshape(4, 6)
    y = (x.t()[::2] * 2 + x.t()[1::2]).sum(0) - x[1:, ::3].exp().mean()
    i = lt.tensor([3, 0, 2])
    expected = [str(y.tolist()), f"{x[i, 1:].tolist()} "
                f"{lt.zeros(5).index_add_(0, lt.tensor([4, 0]), lt.ones(2)).tolist()}"]
    assert result.stdout.splitlines() == expected


def test_checked_mode_keeps_user_errors_from_bounds_checked_kernels():
    # The kernels' own index checks (IndexError) still work next to the memory checks.
    result = _run_checked("""
    import lazyt as lt
    try:
        lt.arange(5.)[lt.tensor([1, 7])]
    except IndexError as e:
        print("INDEX", e)
    """)
    assert result.returncode == 0, result.stderr
    assert "INDEX index 7 is out of bounds for dimension 0 with size 5" in result.stdout


def test_checked_mode_poisons_freed_storage_and_does_not_reuse_it():
    result = _run_checked("""
    import numpy as np
    import lazyt as lt
    from lazyt import dtypes
    from lazyt.runtime.checked import QUARANTINE
    from lazyt.runtime.storage import Storage

    st = Storage.allocate(dtypes.float64, 1000, lt.device("cpu"))
    st.array[:] = 1.5
    first = st.address
    del st
    freed = QUARANTINE.held[-1]
    print("POISONED", freed.nbytes, bool((freed == 0xFF).all()))
    again = Storage.allocate(dtypes.float64, 1000, lt.device("cpu"))
    print("REUSED", again.address == first)
    # Memory a numpy view still uses is neither poisoned nor quarantined.
    t = lt.ones(100, dtype=lt.float64) * 2
    view = t.numpy()
    held = len(QUARANTINE.held)
    del t
    print("KEPT", len(QUARANTINE.held) == held, view[:3].tolist())
    # A use after free reads the poison: NaN in every float dtype.
    print("NAN", np.isnan(freed.view(np.float64)).all(), np.isnan(freed.view(np.float32)).all())
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["POISONED", "8000", "True", "REUSED", "False", "KEPT", "True",
                                     "[2.0,", "2.0,", "2.0]", "NAN", "True", "True"]


def _elementwise_kernel():
    src = Buffer(None)
    load = make_node("load", dtypes.float32, (4,), (), (src, View.contiguous((4,))))
    node = make_node("exp", dtypes.float32, (4,), (load,))
    return lower_kernel(node, Buffer(None), View.contiguous((4,))).kernel


def test_normal_mode_generates_no_checks_and_checked_kernels_are_cached_apart():
    kernel = _elementwise_kernel()
    normal, checked = render_llvm(kernel, "k"), render_llvm(kernel, "k", check_bounds=True)
    assert "%chk" not in normal and "%nb0" not in normal
    assert "%chk" in checked
    # The disk cache and the compiled-kernel symbols key on the source text.
    assert normal != checked


def test_views_and_indexing_suites_pass_in_checked_mode():
    """CI's checked run: every kernel these tests generate is bounds-checked
    and every freed buffer poisoned (budget: well under a minute)."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-n", "0",
         "tests/test_tensor_views.py", "tests/test_indexing.py", "-k", "not slow"],
        env={**os.environ, "PYTHONPATH": REPO_ROOT, "LAZYT_CHECK_BOUNDS": "1",
             "LAZYT_CACHE": "0", "HYPOTHESIS_PROFILE": "ci"},
        capture_output=True, text=True, timeout=300, cwd=REPO_ROOT)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
