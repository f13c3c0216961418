"""pytest setup for the tensor tests: backend selection, hypothesis profiles, markers.

LAZYT_TEST_BACKEND=torch runs the tensor tests against PyTorch instead of lazyt;
that is how the tests themselves are checked. HYPOTHESIS_PROFILE=long draws many
more examples than the default "ci" profile. The backend module (`lt`), the
oracle (`TORCH`) and the comparison helpers live in tests/_backend.py; `lt`,
`TORCH` and `BACKEND` can also be imported from here. They are loaded lazily, so
a lazyt that fails to import breaks only the tests that use it.
"""

import os
import sys

# Kernel-count tests must see compiles, not hits in a disk cache a previous run
# left behind: the persistent cache is off unless a test turns it on (with its
# own directory, as tests/test_disk_cache.py does in subprocesses).
os.environ.setdefault("LAZYT_CACHE", "0")

from hypothesis import HealthCheck, settings

# Make `import lazyt` and `from tests._backend import ...` work however pytest is started.
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

_HEALTH_CHECKS = [HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile("ci", max_examples=25, deadline=None, database=None,
                          suppress_health_check=_HEALTH_CHECKS, print_blob=True)
settings.register_profile("long", max_examples=500, deadline=None, database=None,
                          suppress_health_check=_HEALTH_CHECKS, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def __getattr__(name):
    if name in ("lt", "TORCH", "BACKEND"):
        from tests import _backend

        return getattr(_backend, name)
    raise AttributeError(name)


def pytest_addoption(parser):
    parser.addoption("--long", action="store_true",
                     help="long runs: 10,000 random graphs in tests/test_deferred.py, every "
                          "OpInfo sample in tests/opinfo")


def pytest_configure(config):
    if config.getoption("--long", default=False):
        os.environ["LAZYT_FUZZ_LONG"] = "1"
        os.environ["LAZYT_OPINFO_FULL"] = "1"
    config.addinivalue_line("markers", "slow: heavier tests; deselect with -m 'not slow'")


def pytest_collection_finish(session):
    # The CUDA checks that run in their own processes start now, beside the
    # tests collected before them (tests/cuda/background.py). Under pytest-xdist
    # every worker collects every test: there they start when their test runs.
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    from tests.cuda import background

    background.start_selected(str(item.path) for item in session.items)


def pytest_report_header(config):
    backend = os.environ.get("LAZYT_TEST_BACKEND", "lazyt")
    return f"tensor tests: LAZYT_TEST_BACKEND={backend}, hypothesis profile={settings._current_profile}"
