"""A `pandas` placeholder for benchmarks/pytorch_tutorials.py, on the path only
when pandas is not installed: data_tutorial.py imports pandas for a custom
Dataset it defines but never instantiates."""


def read_csv(*args, **kwargs):
    raise RuntimeError("pandas is not installed: the tutorial runner's placeholder reads no CSV")
