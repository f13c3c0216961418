"""The layer classes of lazyt.nn (re-exports only)."""

from lazyt.nn.modules.activation import (
                                        CELU,
                                        ELU,
                                        GELU,
                                        GLU,
                                        SELU,
                                        Hardshrink,
                                        Hardsigmoid,
                                        Hardswish,
                                        Hardtanh,
                                        LeakyReLU,
                                        LogSigmoid,
                                        LogSoftmax,
                                        Mish,
                                        PReLU,
                                        ReLU,
                                        ReLU6,
                                        RReLU,
                                        Sigmoid,
                                        SiLU,
                                        Softmax,
                                        Softmax2d,
                                        Softmin,
                                        Softplus,
                                        Softshrink,
                                        Softsign,
                                        Tanh,
                                        Tanhshrink,
                                        Threshold,
)
from lazyt.nn.modules.attention import MultiheadAttention
from lazyt.nn.modules.batchnorm import (
                                        BatchNorm1d,
                                        BatchNorm2d,
                                        BatchNorm3d,
                                        InstanceNorm1d,
                                        InstanceNorm2d,
                                        InstanceNorm3d,
)
from lazyt.nn.modules.container import (
                                        ModuleDict,
                                        ModuleList,
                                        ParameterDict,
                                        ParameterList,
                                        Sequential,
)
from lazyt.nn.modules.conv import (
                                        Conv1d,
                                        Conv2d,
                                        Conv3d,
                                        ConvTranspose1d,
                                        ConvTranspose2d,
                                        ConvTranspose3d,
)
from lazyt.nn.modules.distance import CosineSimilarity, PairwiseDistance
from lazyt.nn.modules.dropout import (
                                        AlphaDropout,
                                        Dropout,
                                        Dropout1d,
                                        Dropout2d,
                                        Dropout3d,
                                        FeatureAlphaDropout,
)
from lazyt.nn.modules.flatten import Flatten, Unflatten
from lazyt.nn.modules.fold import Fold, Unfold
from lazyt.nn.modules.lazy import (
                                        LazyBatchNorm1d,
                                        LazyBatchNorm2d,
                                        LazyBatchNorm3d,
                                        LazyConv1d,
                                        LazyConv2d,
                                        LazyConv3d,
                                        LazyConvTranspose1d,
                                        LazyConvTranspose2d,
                                        LazyConvTranspose3d,
                                        LazyInstanceNorm1d,
                                        LazyInstanceNorm2d,
                                        LazyInstanceNorm3d,
                                        LazyLinear,
)
from lazyt.nn.modules.linear import Bilinear, Identity, Linear
from lazyt.nn.modules.loss import (
                                        BCELoss,
                                        BCEWithLogitsLoss,
                                        CosineEmbeddingLoss,
                                        CrossEntropyLoss,
                                        CTCLoss,
                                        GaussianNLLLoss,
                                        HingeEmbeddingLoss,
                                        HuberLoss,
                                        KLDivLoss,
                                        L1Loss,
                                        LinearCrossEntropyLoss,
                                        LinearCrossEntropyOptions,
                                        MarginRankingLoss,
                                        MSELoss,
                                        MultiLabelMarginLoss,
                                        MultiLabelSoftMarginLoss,
                                        MultiMarginLoss,
                                        NLLLoss,
                                        NLLLoss2d,
                                        PoissonNLLLoss,
                                        SmoothL1Loss,
                                        SoftMarginLoss,
                                        TripletMarginLoss,
                                        TripletMarginWithDistanceLoss,
)
from lazyt.nn.modules.module import Module, RemovableHandle
from lazyt.nn.modules.normalization import GroupNorm, LayerNorm, LocalResponseNorm, RMSNorm
from lazyt.nn.modules.padding import (
                                        CircularPad1d,
                                        CircularPad2d,
                                        CircularPad3d,
                                        ConstantPad1d,
                                        ConstantPad2d,
                                        ConstantPad3d,
                                        ReflectionPad1d,
                                        ReflectionPad2d,
                                        ReflectionPad3d,
                                        ReplicationPad1d,
                                        ReplicationPad2d,
                                        ReplicationPad3d,
                                        ZeroPad1d,
                                        ZeroPad2d,
                                        ZeroPad3d,
)
from lazyt.nn.modules.pixelshuffle import ChannelShuffle, PixelShuffle, PixelUnshuffle
from lazyt.nn.modules.pooling import (
                                        AdaptiveAvgPool1d,
                                        AdaptiveAvgPool2d,
                                        AdaptiveAvgPool3d,
                                        AdaptiveMaxPool1d,
                                        AdaptiveMaxPool2d,
                                        AdaptiveMaxPool3d,
                                        AvgPool1d,
                                        AvgPool2d,
                                        AvgPool3d,
                                        FractionalMaxPool2d,
                                        FractionalMaxPool3d,
                                        LPPool1d,
                                        LPPool2d,
                                        LPPool3d,
                                        MaxPool1d,
                                        MaxPool2d,
                                        MaxPool3d,
                                        MaxUnpool1d,
                                        MaxUnpool2d,
                                        MaxUnpool3d,
)
from lazyt.nn.modules.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from lazyt.nn.modules.sparse import Embedding, EmbeddingBag
from lazyt.nn.modules.transformer import (
                                        Transformer,
                                        TransformerDecoder,
                                        TransformerDecoderLayer,
                                        TransformerEncoder,
                                        TransformerEncoderLayer,
)
from lazyt.nn.modules.upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d
