"""io.read_image stand-in: the tutorials only import it (their custom Dataset
reads files nobody here has)."""


def read_image(path, mode=None):
    raise RuntimeError(f"read_image({path!r}): the tutorial runner's torchvision stand-in "
                       "reads no image files")
