"""models.vgg16 stand-in: torchvision's VGG-16 layout and initialisation,
built from the running tutorial's `torch.nn`. Pretrained weights cannot be
downloaded here, so `weights=` is accepted and the model stays randomly
initialised (the same for PyTorch and lazyt runs)."""

from __future__ import annotations

VGG16_LAYERS = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M",
                512, 512, 512, "M", 512, 512, 512, "M"]


def _vgg_class():
    import torch
    from torch import nn

    class VGG(nn.Module):
        def __init__(self, features, num_classes: int = 1000, dropout: float = 0.5):
            super().__init__()
            self.features = features
            self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
            self.classifier = nn.Sequential(
                nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
                nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
                nn.Linear(4096, num_classes))
            for module in self.modules():
                if isinstance(module, nn.Conv2d):
                    nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                    if module.bias is not None:
                        nn.init.constant_(module.bias, 0)
                elif isinstance(module, nn.Linear):
                    nn.init.normal_(module.weight, 0, 0.01)
                    nn.init.constant_(module.bias, 0)

        def forward(self, x):
            x = self.features(x)
            x = self.avgpool(x)
            x = torch.flatten(x, 1)
            return self.classifier(x)

    VGG.__module__ = __name__
    VGG.__qualname__ = "VGG"
    return VGG


def _features(layers):
    from torch import nn

    modules, channels = [], 3
    for layer in layers:
        if layer == "M":
            modules.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            modules += [nn.Conv2d(channels, layer, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
            channels = layer
    return nn.Sequential(*modules)


def __getattr__(name):
    if name == "VGG":                      # pickle finds the class here when loading a whole model
        global VGG
        VGG = _vgg_class()
        return VGG
    raise AttributeError(name)


def vgg16(*, weights=None, progress: bool = True, pretrained: bool = False, **kwargs):
    vgg_class = globals().get("VGG") or __getattr__("VGG")
    return vgg_class(_features(VGG16_LAYERS), **kwargs)
