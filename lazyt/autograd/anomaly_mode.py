"""Anomaly detection (torch.autograd.detect_anomaly): while it is on, the
backward pass checks every gradient a node returns and raises, naming the
node, at the first NaN, instead of letting it spread into every .grad."""

from __future__ import annotations

import warnings

# [enabled, check_nan]: global, as in PyTorch (read by autograd/engine.py).
STATE = [False, True]


def is_anomaly_enabled() -> bool:
    return STATE[0]


def is_anomaly_check_nan_enabled() -> bool:
    return STATE[1]


def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    STATE[0], STATE[1] = bool(enabled), bool(check_nan)


class detect_anomaly:  # noqa: N801 - PyTorch's name
    """Context manager: anomaly detection on inside its block."""

    def __init__(self, check_nan: bool = True):
        self.previous = tuple(STATE)
        self.check_nan = check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", UserWarning, stacklevel=2)

    def __enter__(self):
        set_anomaly_enabled(True, self.check_nan)

    def __exit__(self, *exc) -> bool:
        set_anomaly_enabled(*self.previous)
        return False


class set_detect_anomaly:  # noqa: N801 - PyTorch's name
    """Turns anomaly detection on or off at once; as a context manager,
    restores the previous setting on exit."""

    def __init__(self, mode: bool, check_nan: bool = True):
        self.previous = tuple(STATE)
        set_anomaly_enabled(mode, check_nan)

    def __enter__(self):
        pass

    def __exit__(self, *exc) -> bool:
        set_anomaly_enabled(*self.previous)
        return False
