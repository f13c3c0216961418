"""benchmarks/pytorch_tutorials.py: an unchanged PyTorch-style script's
`import torch`, `from torch import nn` and `torch.X` submodule imports get
lazyt (eagerly and in deferred mode), the torchvision stand-in serves the
digits, failures are reported with their error line, and a missing
tutorial directory is skipped cleanly."""

import math
import textwrap

from benchmarks import pytorch_tutorials

SCRIPT = textwrap.dedent("""
    import torch
    from torch import nn
    import torch.nn.functional as F
    from torch.utils.data import DataLoader
    from torch.autograd import Variable
    from torchvision import datasets
    from torchvision.transforms import ToTensor, Lambda

    assert torch.__name__ == "lazyt", torch.__name__
    assert nn.Linear is torch.nn.Linear and F.relu is torch.nn.functional.relu
    data = datasets.FashionMNIST(root="data", train=False, download=True, transform=ToTensor(),
                                 target_transform=Lambda(lambda y: torch.tensor(y)))
    image, label = data[0]
    assert tuple(image.shape) == (1, 28, 28) and image.dtype == torch.float32
    assert 0.0 <= image.min().item() and image.max().item() <= 1.0 and label.ndim == 0
    X, y = next(iter(DataLoader(data, batch_size=8)))
    print(nn.Flatten()(X).shape, y.dtype, Variable(X).requires_grad)
""")


def test_a_missing_directory_is_skipped(tmp_path, capsys):
    assert pytorch_tutorials.main([str(tmp_path / "absent")]) == []
    assert "skipped" in capsys.readouterr().out


def test_scripts_import_lazyt_as_torch_in_both_lazyt_modes(tmp_path, capsys):
    (tmp_path / "uses_torch.py").write_text(SCRIPT)
    (tmp_path / "fails.py").write_text("import torch\ntorch.no_such_function()\n")
    rows = pytorch_tutorials.main([str(tmp_path), "--modes", "eager,deferred", "--timeout", "200"])
    by_key = {(r["workload"], r["contender"]): r["ms"] for r in rows}
    for contender in ("lazyt eager", "lazyt deferred"):
        assert by_key[("tutorial uses_torch", contender)] > 0
        assert math.isnan(by_key[("tutorial fails", contender)])
    table = capsys.readouterr().out
    assert "uses_torch" in table and "AttributeError" in table and "no_such_function" in table
