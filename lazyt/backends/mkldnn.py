"""lt.backends.mkldnn: lazyt does not use oneDNN; the switch is accepted."""

enabled = True


def is_available() -> bool:
    return False
