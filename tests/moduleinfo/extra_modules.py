"""ModuleInfos for torch.nn modules that torch's module_db does not describe.

torch's module_db covers about a hundred nn classes; users also reach for
Dropout, Flatten, Upsample, PixelShuffle, Fold/Unfold, EmbeddingBag,
TransformerDecoder, the distance modules, ... These entries use torch's own
ModuleInfo / ModuleInput / FunctionInput classes, so check_module.py runs them
exactly like module_db's: torch computes every expected value. Only the
constructor arguments and input shapes are written here.
"""

from __future__ import annotations

import functools

import torch
from torch.testing import make_tensor
from torch.testing._internal.common_modules import FunctionInput, ModuleInfo, ModuleInput


def _maker(device, dtype, requires_grad):
    return functools.partial(make_tensor, device=device, dtype=dtype,
                             requires_grad=requires_grad, low=-3, high=3)


def _samples(*entries):
    """An inputs func from entries (constructor (args, kwargs) or a callable returning
    them, forward input shapes or a callable (make, device, dtype) -> inputs, desc)."""

    def module_inputs(module_info, device, dtype, requires_grad, training, **kwargs):
        make = _maker(device, dtype, requires_grad)
        samples = []
        for constructor, forward, desc in entries:
            # (a callable builds torch modules passed as arguments afresh for each sample)
            args, kwargs_ = constructor() if callable(constructor) else constructor
            if callable(forward):
                inputs = forward(make, device, dtype)
            elif isinstance(forward[0], int):  # one input's shape
                inputs = (make(forward),)
            else:
                inputs = tuple(make(shape) for shape in forward)
            samples.append(ModuleInput(constructor_input=FunctionInput(*args, **kwargs_),
                                       forward_input=FunctionInput(*inputs), desc=desc))
        return samples

    return module_inputs


def _unpool_inputs(dims: int, kernel: int):
    pool = (None, torch.nn.functional.max_pool1d, torch.nn.functional.max_pool2d,
            torch.nn.functional.max_pool3d)[dims]

    def make_inputs(make, device, dtype):
        source = make_tensor((2, 3) + (4,) * dims, device=device, dtype=dtype)
        values, indices = pool(source, kernel, return_indices=True)
        return values.detach().requires_grad_(True), indices

    return make_inputs


def _embedding_input(num: int, shape: tuple):
    def make_inputs(make, device, dtype):
        return (torch.randint(0, num, shape, device=device),)
    return make_inputs


def _embedding_bag_input(make, device, dtype):
    return (torch.randint(0, 10, (8,), device=device), torch.tensor([0, 3, 3], device=device))


def _target_input(shape_in: tuple, shape_target: tuple, classes: int):
    def make_inputs(make, device, dtype):
        return make(shape_in), torch.randint(0, classes, shape_target, device=device)
    return make_inputs


def _decoder_layer(**kwargs):
    return torch.nn.TransformerDecoderLayer(d_model=4, nhead=2, dim_feedforward=8, dropout=0.0,
                                            **kwargs)


_EXTRA = [
    (torch.nn.Fold, [((((4, 5), (2, 2)), {}), (3, 12, 12), "3d"),
                     ((((5, 5), 2), {"padding": 1, "stride": 2}), (2, 12, 9), "pad_stride"),
                     ((((3, 4), (2, 3)), {"dilation": (1, 1)}), (8, 4), "unbatched")], False),
    (torch.nn.Unfold, [((((2, 2),), {}), (2, 3, 4, 5), "4d"),
                       (((3,), {"padding": 1, "stride": 2, "dilation": 1}), (3, 5, 5), "3d")],
     False),
    (torch.nn.Flatten, [(((), {}), (2, 3, 4), ""), (((0, -1), {}), (2, 3, 4), "all")], False),
    (torch.nn.Unflatten, [(((1, (2, 3)), {}), (4, 6, 5), "")], False),
    (torch.nn.Identity, [(((3,), {"unused": 1}), (2, 3), "")], False),
    (torch.nn.Hardsigmoid, [(((), {}), (2, 3, 4), "")], False),
    (torch.nn.PixelShuffle, [(((2,), {}), (1, 8, 3, 3), ""), (((2,), {}), (8, 2, 2), "no_batch")],
     False),
    (torch.nn.PixelUnshuffle, [(((2,), {}), (1, 2, 4, 6), "")], False),
    (torch.nn.ChannelShuffle, [(((2,), {}), (1, 4, 2, 2), "")], False),
    (torch.nn.Upsample, [(((), {"scale_factor": 2}), (1, 2, 3, 3), "nearest"),
                         (((), {"size": (5, 7), "mode": "bilinear", "align_corners": True}),
                          (1, 2, 3, 3), "bilinear_align"),
                         (((), {"scale_factor": 1.5, "mode": "bilinear"}), (2, 1, 4, 4),
                          "bilinear"),
                         (((), {"size": 6, "mode": "linear"}), (1, 2, 4), "linear"),
                         (((), {"scale_factor": 2, "mode": "bicubic"}), (1, 1, 3, 3), "bicubic")],
     False),
    (torch.nn.UpsamplingNearest2d, [(((), {"scale_factor": 2}), (1, 2, 2, 3), "")], False),
    (torch.nn.UpsamplingBilinear2d, [(((), {"size": (4, 5)}), (1, 2, 2, 3), "")], False),
    (torch.nn.CosineSimilarity, [(((), {}), (4, 5, 5), ""), (((0,), {"eps": 1e-6}), (3, 4, 4), "dim0")],
     False),
    (torch.nn.PairwiseDistance, [(((), {}), (4, 5, 5), ""),
                                 (((1.0,), {"keepdim": True}), ((3, 4), (3, 4)), "p1_keepdim")],
     False),
    (torch.nn.TripletMarginLoss, [(((), {}), ((4, 5), (4, 5), (4, 5)), ""),
                                  (((), {"margin": 0.5, "p": 1, "swap": True,
                                         "reduction": "none"}), ((4, 5), (4, 5), (4, 5)), "swap")],
     False),
    (torch.nn.TripletMarginWithDistanceLoss,
     [(((), {}), ((4, 5), (4, 5), (4, 5)), ""),
      (((), {"margin": 2.0, "swap": True, "reduction": "sum"}), ((4, 5), (4, 5), (4, 5)), "swap")],
     False),
    (torch.nn.Embedding, [(((10, 3), {"padding_idx": 0}), _embedding_input(10, (2, 4)), "padding_idx"),
                          (((10, 3), {"max_norm": 1.0}), _embedding_input(10, (5,)), "max_norm")],
     False),
    (torch.nn.EmbeddingBag, [(((10, 3), {}), _embedding_bag_input, "mean"),
                             (((10, 3), {"mode": "sum"}), _embedding_bag_input, "sum"),
                             (((10, 3), {"mode": "max"}), _embedding_bag_input, "max")], False),
    (torch.nn.MaxUnpool1d, [(((2,), {}), _unpool_inputs(1, 2), "")], False),
    (torch.nn.MaxUnpool2d, [(((2,), {}), _unpool_inputs(2, 2), "")], False),
    (torch.nn.MaxUnpool3d, [(((2,), {}), _unpool_inputs(3, 2), "")], False),
    (torch.nn.TransformerDecoder,
     [(lambda: ((_decoder_layer(), 2), {}), ((3, 2, 4), (5, 2, 4)), ""),
      (lambda: ((_decoder_layer(batch_first=True, norm_first=True), 1),
                {"norm": torch.nn.LayerNorm(4)}), ((2, 3, 4), (2, 5, 4)), "norm_first")], False),
    (torch.nn.Dropout, [(((), {}), (20, 30), ""), (((0.0,), {}), (4, 5), "p0")], True),
    (torch.nn.Dropout1d, [(((0.3,), {}), (4, 5, 6), "")], True),
    (torch.nn.Dropout2d, [(((0.3,), {}), (2, 5, 3, 3), "")], True),
    (torch.nn.Dropout3d, [(((0.3,), {}), (2, 5, 2, 3, 3), "")], True),
    (torch.nn.AlphaDropout, [(((0.2,), {}), (4, 5), "")], True),
    (torch.nn.FeatureAlphaDropout, [(((0.2,), {}), (2, 4, 3, 3), "")], True),
    (torch.nn.RReLU, [(((), {}), (4, 5), ""), (((0.1, 0.3), {}), (2, 3, 4), "bounds")], True),
    (torch.nn.NLLLoss2d, [(((), {}), _target_input((2, 3, 4, 4), (2, 4, 4), 3), "")], False),
    (torch.nn.LazyLinear, [(((3,), {}), (2, 5), ""), (((4,), {"bias": False}), (5,), "no_batch")],
     False),
    (torch.nn.LazyBatchNorm1d, [(((), {}), (4, 3), ""), (((), {"affine": False}), (4, 3, 2), "3d")],
     True),
    (torch.nn.LazyBatchNorm2d, [(((), {"momentum": None}), (2, 3, 4, 4), "")], True),
    (torch.nn.LazyBatchNorm3d, [(((), {}), (2, 2, 2, 3, 3), "")], True),
    (torch.nn.LazyInstanceNorm1d, [(((), {}), (2, 3, 5), "")], True),
    (torch.nn.LazyInstanceNorm2d, [(((), {"affine": False, "track_running_stats": False}),
                                    (2, 3, 4, 4), "")], True),
    (torch.nn.LazyInstanceNorm3d, [(((), {}), (2, 2, 3, 3, 3), "")], True),
    (torch.nn.FractionalMaxPool2d, [(((2,), {"output_size": (3, 3)}), (2, 3, 7, 7), "random")],
     False),
    (torch.nn.Sequential, [(lambda: ((torch.nn.Linear(3, 4), torch.nn.ReLU(),
                                      torch.nn.Linear(4, 2)), {}), (5, 3), "mlp")], False),
]


class ExtraModuleInfo(ModuleInfo):
    """A ModuleInfo named "nn.X.extra" when module_db already has an "nn.X"."""

    def __init__(self, module_cls, *, name: str, **kwargs):
        super().__init__(module_cls, **kwargs)
        self._name = name

    @property
    def name(self) -> str:
        return self._name


def extra_module_db(taken: set[str] = frozenset()) -> list[ModuleInfo]:
    """The extra ModuleInfos; names in `taken` (module_db's) get an ".extra" suffix."""
    infos = []
    for cls, entries, differ in _EXTRA:
        name = f"nn.{cls.__name__}"
        infos.append(ExtraModuleInfo(cls, name=name + ".extra" if name in taken else name,
                                     module_inputs_func=_samples(*entries),
                                     train_and_eval_differ=differ))
    return infos
