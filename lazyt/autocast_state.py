"""lt.autocast's state: per thread and device type, whether autocast is on
and the lower-precision dtype its op list runs in. It sits at the bottom of
the package (it imports only dtypes) so that the ops autocast changes
(matmul, linear, conv: lazyt/linalg.py's autocast_operands) read it without
importing lazyt/amp.py, which sets it."""

from __future__ import annotations

import threading

from lazyt import dtypes

DEFAULT_DTYPES = {"cpu": dtypes.bfloat16, "cuda": dtypes.float16}


class _AutocastState(threading.local):
    def __init__(self):
        self.enabled = {"cpu": False, "cuda": False}
        self.dtype = dict(DEFAULT_DTYPES)


STATE = _AutocastState()


def lower_precision(device_type: str = "cpu"):
    """The dtype autocast's lower-precision ops run in now, or None when off."""
    return STATE.dtype[device_type] if STATE.enabled.get(device_type) else None
