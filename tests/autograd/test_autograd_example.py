"""examples/autograd.py runs and its loss falls."""

import os
import re
import runpy

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "autograd.py")


def test_autograd_example_trains(capsys):
    runpy.run_path(EXAMPLE, run_name="__main__")
    losses = [float(x) for x in re.findall(r"loss (\d+\.\d+)", capsys.readouterr().out)]
    assert len(losses) >= 3
    assert losses[-1] < 0.5 * losses[0]
