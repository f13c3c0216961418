"""The implementations behind lazyt.nn.functional, one concern per file.

Import them through `lazyt.nn.functional`; this package only groups them.
"""
