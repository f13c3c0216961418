"""How many threads numpy's OpenBLAS may use for one matmul extern call.

On small products OpenBLAS's threads cost more than they save: waking them
takes tens of microseconds. Measured here (2 cores, products run back to
back as in a training step): 128x256x10 takes 10 us on one thread or two,
128x64x256 36 us on one and 25 on two. Like threadpoolctl, this finds the
OpenBLAS that numpy loaded and calls its set_num_threads; where none is
found it does nothing.
"""

from __future__ import annotations

import ctypes
import os

SMALL_PRODUCT = 1 << 20  # multiply-adds below which one thread is used


class _OpenBLAS:
    setter = None
    getter = None
    default = 1
    current = None
    looked = False

    @classmethod
    def find(cls) -> None:
        cls.looked = True
        try:
            with open("/proc/self/maps") as f:
                paths = {line.split()[-1] for line in f if "openblas" in line.lower()}
        except OSError:
            return
        for path in sorted(paths):
            if not os.path.exists(path):
                continue
            lib = ctypes.CDLL(path)
            for prefix in ("scipy_openblas", "openblas"):
                for suffix in ("64_", ""):
                    setter = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                    getter = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                    if setter is not None and getter is not None:
                        cls.setter, cls.getter = setter, getter
                        getter.restype = ctypes.c_int
                        cls.default = cls.current = int(getter())
                        return


def use_threads_for(multiply_adds: int) -> None:
    """Before a matmul: one BLAS thread for small products, the default otherwise."""
    if not _OpenBLAS.looked:
        _OpenBLAS.find()
    if _OpenBLAS.setter is None:
        return
    wanted = 1 if multiply_adds < SMALL_PRODUCT else _OpenBLAS.default
    if wanted != _OpenBLAS.current:
        _OpenBLAS.setter(ctypes.c_int(wanted))
        _OpenBLAS.current = wanted
