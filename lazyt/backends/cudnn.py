"""lt.backends.cudnn: cuDNN is never used by lazyt; its switches are accepted."""

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    return False


def version() -> None:
    return None
