"""nn.utils.memory_format: store the weights of the conv layers of a model in
a given memory format (e.g. lt.channels_last)."""

from __future__ import annotations

from typing import TypeVar

from lazyt.nn.modules.module import Module

__all__ = ["convert_conv2d_weight_memory_format", "convert_conv3d_weight_memory_format"]

M = TypeVar("M", bound=Module)


def _convert(module: M, memory_format, conv_types: tuple) -> M:
    if isinstance(module, conv_types):
        module.weight.data = module.weight.detach().clone(memory_format=memory_format)
    for child in module.children():
        _convert(child, memory_format, conv_types)
    return module


def _conv_layers(dims: int) -> tuple:
    # reason: nn.modules imports nn.utils.rnn, so nn.utils cannot import the layers at load time
    from lazyt.nn.modules import conv  # noqa: PLC0415

    return (getattr(conv, f"Conv{dims}d"), getattr(conv, f"ConvTranspose{dims}d"))


def convert_conv2d_weight_memory_format(module: M, memory_format) -> M:
    """Every Conv2d / ConvTranspose2d weight in module stored in memory_format."""
    return _convert(module, memory_format, _conv_layers(2))


def convert_conv3d_weight_memory_format(module: M, memory_format) -> M:
    """Every Conv3d / ConvTranspose3d weight in module stored in memory_format."""
    return _convert(module, memory_format, _conv_layers(3))
