"""What every tutorial shares: the short mode CI uses, where pictures go, and
the optional plotting and progress-bar libraries (the `tutorials` extra).

    LAZYT_TUTORIAL_SHORT=1   fewer steps (CI); the lessons and checks are the same
    LAZYT_TUTORIAL_OUT=DIR   where pictures are written (default tutorials/pictures)
"""

from __future__ import annotations

import os

SHORT = os.environ.get("LAZYT_TUTORIAL_SHORT") == "1"
OUT = os.environ.get("LAZYT_TUTORIAL_OUT",
                     os.path.join(os.path.dirname(os.path.abspath(__file__)), "pictures"))
HINT = 'pip install -e ".[tutorials]" (matplotlib, tqdm) to get the pictures'


def picture_path(name: str) -> str:
    os.makedirs(OUT, exist_ok=True)
    return os.path.join(OUT, name)


def pyplot():
    """matplotlib.pyplot (non-interactive), or None with a hint when absent."""
    try:
        import matplotlib
    except ImportError:
        print(f"(no matplotlib: {HINT})")
        return None
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    return plt


def save(figure, name: str) -> str:
    path = picture_path(name)
    figure.savefig(path, dpi=90, bbox_inches="tight")
    figure.clf()
    print(f"picture: {path}")
    return path


def progress(iterable, **options):
    """tqdm's progress bar when installed, the bare iterable otherwise."""
    try:
        from tqdm import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, mininterval=0.5, **options)
