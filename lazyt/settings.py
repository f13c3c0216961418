"""Process-wide settings PyTorch scripts call: the default device, thread
counts, and the determinism, matmul-precision and warning flags.

lazyt runs on the CPU (lt.cuda.is_available() is False), so the default device
can only be the CPU; asking for CUDA gets the same clear error as placing a
tensor there. set_num_threads sets how many threads a large kernel launch is
split across (the LAZYT_NUM_THREADS default), from the next launch on.
"""

from __future__ import annotations

import warnings

from lazyt import eager_cache
from lazyt.runtime import launch
from lazyt.runtime.device import CPU, device, to_device

_interop_threads = [1]


def set_default_device(device_) -> None:
    """lt.set_default_device('cpu'); None resets. CUDA raises until that backend exists."""
    to_device(device_)


def get_default_device() -> device:
    return CPU


def set_num_threads(count: int) -> None:
    if not isinstance(count, int) or isinstance(count, bool) or count <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    launch.set_thread_count(count)
    eager_cache.forget_all()  # its direct calls were decided for the old count


def get_num_threads() -> int:
    return launch.thread_count()


def set_num_interop_threads(count: int) -> None:
    if not isinstance(count, int) or isinstance(count, bool) or count <= 0:
        raise RuntimeError("set_num_interop_threads expects a positive integer")
    _interop_threads[0] = count


def get_num_interop_threads() -> int:
    return _interop_threads[0]


# Determinism: lazyt's kernels are deterministic whatever the setting (their
# sums have a fixed order at every thread count), so these only keep the flags
# PyTorch scripts set and read back.
_DETERMINISTIC = {"mode": False, "warn_only": False}
_DEBUG_MODES = ("default", "warn", "error")


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    if not isinstance(mode, bool):
        raise TypeError(f"_set_deterministic_algorithms(): argument 'mode' (position 1) must be "
                        f"bool, not {type(mode).__name__}")
    _DETERMINISTIC.update(mode=mode, warn_only=bool(warn_only))


def are_deterministic_algorithms_enabled() -> bool:
    return _DETERMINISTIC["mode"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _DETERMINISTIC["warn_only"]


def set_deterministic_debug_mode(debug_mode) -> None:
    """0 / 'default': off; 1 / 'warn': on, warn only; 2 / 'error': on."""
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError("invalid value of debug_mode, expected one of `default`, `warn`, "
                               f"`error`, but got {debug_mode}")
        debug_mode = _DEBUG_MODES.index(debug_mode)
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got "
                           f"{debug_mode}")
    use_deterministic_algorithms(debug_mode > 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode() -> int:
    if not _DETERMINISTIC["mode"]:
        return 0
    return 1 if _DETERMINISTIC["warn_only"] else 2


# float32 matmuls always run in float32 here (no TF32 or bfloat16 passes);
# the setting is kept and checked as PyTorch does.
_MATMUL_PRECISION = ["highest"]


def set_float32_matmul_precision(precision: str) -> None:
    if precision not in ("highest", "high", "medium"):
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      "setFloat32MatmulPrecision call has no effect.", UserWarning, stacklevel=2)
        return
    _MATMUL_PRECISION[0] = precision


def get_float32_matmul_precision() -> str:
    return _MATMUL_PRECISION[0]


_WARN_ALWAYS = [False]


def set_warn_always(b: bool) -> None:
    _WARN_ALWAYS[0] = bool(b)


def is_warn_always_enabled() -> bool:
    return _WARN_ALWAYS[0]


def set_flush_denormal(mode: bool) -> bool:
    """False: lazyt's kernels do not change the CPU's denormal handling (as
    PyTorch answers on a CPU without the support)."""
    return False
