"""Every tutorial runs in its short mode and checks what it teaches (each
asserts its own lessons); here: it exits cleanly and writes its pictures."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = sorted((ROOT / "tutorials").glob("[0-9][0-9]_*.py"))
PICTURES = {
    "01_tensors.py": ["01_transpose_view.png"],
    "02_autograd_by_hand.py": ["02_loss.png"],
    "03_nn_optim_data.py": ["03_training.png"],
    "04_eager_vs_deferred.py": ["04_gelu_graph.svg", "04_gelu_graph.png", "04_modes.png"],
    "05_compile.py": ["05_compile.png"],
    "06_looking_inside.py": ["06_softmax_graph.svg", "06_softmax_graph.png"],
}


def test_every_tutorial_is_listed():
    assert [t.name for t in TUTORIALS] == sorted(PICTURES)


@pytest.mark.parametrize("script", TUTORIALS, ids=lambda p: p.stem)
def test_tutorial_runs_and_draws(script, tmp_path):
    pytest.importorskip("matplotlib")
    env = dict(os.environ, LAZYT_TUTORIAL_SHORT="1", LAZYT_TUTORIAL_OUT=str(tmp_path),
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            env=env, cwd=ROOT, timeout=240)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    for name in PICTURES[script.name]:
        picture = tmp_path / name
        assert picture.exists(), f"{script.name} did not write {name}"
        data = picture.read_bytes()
        if name.endswith(".png"):
            assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2000
        else:
            assert data.startswith(b"<svg") and b"<rect" in data and len(data) > 500


def test_tutorials_run_without_matplotlib(tmp_path):
    """No plotting library: the lessons still run, and say how to get pictures."""
    blocker = tmp_path / "block" / "matplotlib"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('matplotlib blocked for this test')")
    env = dict(os.environ, LAZYT_TUTORIAL_SHORT="1", LAZYT_TUTORIAL_OUT=str(tmp_path / "out"),
               PYTHONPATH=os.pathsep.join([str(tmp_path / "block"), str(ROOT),
                                           os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run([sys.executable, str(ROOT / "tutorials" / "02_autograd_by_hand.py")],
                            capture_output=True, text=True, env=env, cwd=ROOT, timeout=240)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "no matplotlib" in result.stdout
