"""Recurrent layers: nn.RNN, nn.LSTM, nn.GRU and the single-step nn.RNNCell,
nn.LSTMCell, nn.GRUCell, PyTorch's modules over lazyt/nn/_functional/rnn.py.

Constructor arguments, parameter names and shapes (`weight_ih_l0`,
`bias_hh_l1_reverse`, `weight_hr_l0` with proj_size), `all_weights`,
`_flat_weights_names`, the initialisation (every parameter uniform in
+-1/sqrt(hidden_size)), input checks and their messages are PyTorch's, so a
PyTorch state_dict loads as is and the same weights give the same outputs.
"""

from __future__ import annotations

import math
import numbers
import warnings

from lazyt import creation
from lazyt.nn import init
from lazyt.nn._functional import rnn as rnn_ops
from lazyt.nn.modules.module import Module
from lazyt.nn.parameter import Parameter
from lazyt.nn.utils.rnn import PackedSequence
from lazyt.tensor import Tensor

_SEQUENCE_OPS = {"RNN_TANH": rnn_ops.rnn_tanh, "RNN_RELU": rnn_ops.rnn_relu,
                 "LSTM": rnn_ops.lstm, "GRU": rnn_ops.gru}


def _check_type(name: str, value, kind: type) -> None:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TypeError(f"{name} should be of type {kind.__name__}, got: "
                        f"{type(value).__name__}")


class RNNBase(Module):
    """What RNN, LSTM and GRU share: the parameters of every (layer,
    direction), the checks of input and hidden state, and the forward pass
    (unbatched input, zero initial states, packed sequences)."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None,
                 dtype=None) -> None:
        super().__init__()
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=2)
        _check_type("bias", bias, bool)
        _check_type("batch_first", batch_first, bool)
        _check_type("input_size", input_size, int)
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        _check_type("hidden_size", hidden_size, int)
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in rnn_ops.GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        factory = {"device": device, "dtype": dtype}
        gate_size = rnn_ops.GATES[mode] * hidden_size
        directions = 2 if bidirectional else 1
        real_hidden_size = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            layer_input_size = input_size if layer == 0 else real_hidden_size * directions
            for direction in range(directions):
                suffix = "_reverse" if direction == 1 else ""
                shapes = {"weight_ih": (gate_size, layer_input_size),
                          "weight_hh": (gate_size, real_hidden_size)}
                if bias:
                    shapes.update(bias_ih=(gate_size,), bias_hh=(gate_size,))
                if proj_size > 0:
                    shapes["weight_hr"] = (proj_size, hidden_size)
                names = []
                for kind, shape in shapes.items():
                    name = f"{kind}_l{layer}{suffix}"
                    setattr(self, name, Parameter(creation.empty(shape, **factory)))
                    names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, name, None) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[Parameter]]:
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self) -> None:
        """A no-op, as PyTorch's on the CPU (it packs weights for cuDNN)."""

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    # ---------------------------------------------------------------- checks
    def check_input(self, input: Tensor, batch_sizes: list | None) -> None:
        weight_dtype = self._flat_weights[0].dtype
        if input.dtype != weight_dtype:
            raise ValueError(f"RNN input dtype ({input.dtype}) does not match weight dtype "
                             f"({weight_dtype}). Convert input: input.to({weight_dtype}), or "
                             f"convert model: model.to({input.dtype})")
        expected_input_dim = 2 if batch_sizes is not None else 3
        if input.dim() != expected_input_dim:
            raise RuntimeError(f"input must have {expected_input_dim} dimensions, got "
                               f"{input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError("input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.size(-1)}")

    def _mini_batch(self, input: Tensor, batch_sizes: list | None) -> int:
        if batch_sizes is not None:
            return batch_sizes[0]
        return input.size(0) if self.batch_first else input.size(1)

    def get_expected_hidden_size(self, input: Tensor,
                                 batch_sizes: list | None) -> tuple[int, int, int]:
        directions = 2 if self.bidirectional else 1
        size = self.proj_size if self.proj_size > 0 else self.hidden_size
        return (self.num_layers * directions, self._mini_batch(input, batch_sizes), size)

    def check_hidden_size(self, hx: Tensor, expected_hidden_size: tuple[int, int, int],
                          msg: str = "Expected hidden size {}, got {}") -> None:
        if tuple(hx.size()) != expected_hidden_size:
            raise RuntimeError(msg.format(expected_hidden_size, list(hx.size())))

    def check_forward_args(self, input: Tensor, hidden: Tensor,
                           batch_sizes: list | None) -> None:
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes))

    def permute_hidden(self, hx: Tensor, permutation: Tensor | None) -> Tensor:
        if permutation is None:
            return hx
        return hx.index_select(1, permutation)

    # ---------------------------------------------------------------- forward
    def _zeros(self, input: Tensor, batch: int, size: int) -> Tensor:
        directions = 2 if self.bidirectional else 1
        return creation.zeros(self.num_layers * directions, batch, size, dtype=input.dtype,
                              device=input.device)

    def _initial_state(self, input: Tensor, batch: int) -> Tensor:
        return self._zeros(input, batch, self.hidden_size)

    def _check_hidden_dims(self, hx, is_batched: bool) -> None:
        if hx is not None and hx.dim() != (3 if is_batched else 2):
            if is_batched:
                raise RuntimeError("For batched 3-D input, hx should also be 3-D but got "
                                   f"{hx.dim()}-D tensor")
            raise RuntimeError("For unbatched 2-D input, hx should also be 2-D but got "
                               f"{hx.dim()}-D tensor")

    def _unsqueeze_hidden(self, hx):
        return hx.unsqueeze(1)

    def _squeeze_hidden(self, hidden):
        return hidden.squeeze(1)

    def _run(self, input: Tensor, batch_sizes: list | None, hx) -> tuple:
        hidden = tuple(hx) if isinstance(hx, (tuple, list)) else hx
        sequence_op = _SEQUENCE_OPS[self.mode]
        if batch_sizes is None:
            result = sequence_op(input, hidden, self._flat_weights, self.bias,
                                 self.num_layers, self.dropout, self.training,
                                 self.bidirectional, self.batch_first)
        else:
            result = sequence_op(input, batch_sizes, hidden, self._flat_weights, self.bias,
                                 self.num_layers, self.dropout, self.training,
                                 self.bidirectional)
        output, *states = result
        return output, (tuple(states) if self.mode == "LSTM" else states[0])

    def forward(self, input, hx=None):
        if isinstance(input, PackedSequence):
            data, batch_sizes_tensor, sorted_indices, unsorted_indices = input
            batch_sizes = [int(v) for v in batch_sizes_tensor.tolist()]
            if hx is None:
                hx = self._initial_state(data, batch_sizes[0])
            else:
                hx = self.permute_hidden(hx, sorted_indices)
            self.check_forward_args(data, hx, batch_sizes)
            output, hidden = self._run(data, batch_sizes, hx)
            packed = PackedSequence(output, batch_sizes_tensor, sorted_indices,
                                    unsorted_indices)
            return packed, self.permute_hidden(hidden, unsorted_indices)
        if input.dim() not in (2, 3):
            name = "RNN" if self.mode.startswith("RNN") else self.mode
            tensor = " tensor" if name == "RNN" else ""
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D"
                             f"{tensor} instead")
        is_batched = input.dim() == 3
        batch_dim = 0 if self.batch_first else 1
        if not is_batched:
            input = input.unsqueeze(batch_dim)
        self._check_hidden_dims(hx, is_batched)
        if hx is None:
            hx = self._initial_state(input, input.size(batch_dim))
        elif not is_batched:
            hx = self._unsqueeze_hidden(hx)
        self.check_forward_args(input, hx, None)
        output, hidden = self._run(input, None, hx)
        if not is_batched:
            output = output.squeeze(batch_dim)
            hidden = self._squeeze_hidden(hidden)
        return output, hidden

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)


class RNN(RNNBase):
    """Elman RNN: h_t = tanh (or relu)(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh).

    RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
    batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None)"""

    def __init__(self, *args, **kwargs) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' "
                             "or 'relu'.")
        super().__init__(mode, *args, **kwargs)


class LSTM(RNNBase):
    """Long short-term memory; gates (i, f, g, o) stacked in that order in the
    weights. With proj_size > 0 the hidden state is projected by weight_hr.

    LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None)"""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__("LSTM", *args, **kwargs)

    def get_expected_cell_size(self, input: Tensor,
                               batch_sizes: list | None) -> tuple[int, int, int]:
        directions = 2 if self.bidirectional else 1
        return (self.num_layers * directions, self._mini_batch(input, batch_sizes),
                self.hidden_size)

    def check_forward_args(self, input: Tensor, hidden, batch_sizes: list | None) -> None:
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden[0], self.get_expected_hidden_size(input, batch_sizes),
                               "Expected hidden[0] size {}, got {}")
        self.check_hidden_size(hidden[1], self.get_expected_cell_size(input, batch_sizes),
                               "Expected hidden[1] size {}, got {}")

    def permute_hidden(self, hx, permutation: Tensor | None):
        if permutation is None:
            return hx
        return hx[0].index_select(1, permutation), hx[1].index_select(1, permutation)

    def _initial_state(self, input: Tensor, batch: int):
        size = self.proj_size if self.proj_size > 0 else self.hidden_size
        return self._zeros(input, batch, size), self._zeros(input, batch, self.hidden_size)

    def _check_hidden_dims(self, hx, is_batched: bool) -> None:
        if hx is None:
            return
        want = 3 if is_batched else 2
        if hx[0].dim() != want or hx[1].dim() != want:
            kind = "batched 3-D" if is_batched else "unbatched 2-D"
            raise RuntimeError(f"For {kind} input, hx and cx should also be {want}-D but got "
                               f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")

    def _unsqueeze_hidden(self, hx):
        return hx[0].unsqueeze(1), hx[1].unsqueeze(1)

    def _squeeze_hidden(self, hidden):
        return hidden[0].squeeze(1), hidden[1].squeeze(1)


class GRU(RNNBase):
    """Gated recurrent unit; gates (r, z, n) stacked in that order in the weights.

    GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0, bidirectional=False, device=None, dtype=None)"""

    def __init__(self, *args, **kwargs) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


# ------------------------------------------------------------------ cells
class RNNCellBase(Module):
    """weight_ih (chunks * hidden, input), weight_hh (chunks * hidden, hidden)
    and the optional biases of one recurrent cell."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device=None, dtype=None) -> None:
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(creation.empty((num_chunks * hidden_size, input_size),
                                                  **factory))
        self.weight_hh = Parameter(creation.empty((num_chunks * hidden_size, hidden_size),
                                                  **factory))
        if bias:
            self.bias_ih = Parameter(creation.empty(num_chunks * hidden_size, **factory))
            self.bias_hh = Parameter(creation.empty(num_chunks * hidden_size, **factory))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _batched(self, input: Tensor, hx, states: int):
        """(input, hx, was batched): 1-D input and states get a batch of one;
        a missing state is zeros."""
        is_batched = input.dim() == 2
        if not is_batched:
            input = input.unsqueeze(0)
        if hx is None:
            zeros = creation.zeros(input.size(0), self.hidden_size, dtype=input.dtype,
                                   device=input.device)
            hx = (zeros,) * states if states > 1 else zeros
        elif not is_batched:
            hx = tuple(h.unsqueeze(0) for h in hx) if states > 1 else hx.unsqueeze(0)
        return input, hx, is_batched

    def _check_dims(self, input: Tensor, hx) -> None:
        name = type(self).__name__
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D "
                             "instead")
        if hx is not None and hx.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected hidden to be 1D or 2D, got {hx.dim()}D "
                             "instead")


class RNNCell(RNNCellBase):
    """One Elman RNN step: h' = tanh (or relu)(x W_ih^T + b_ih + h W_hh^T + b_hh)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device,
                         dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        self._check_dims(input, hx)
        input, hx, is_batched = self._batched(input, hx, 1)
        if self.nonlinearity == "tanh":
            cell = rnn_ops.rnn_tanh_cell
        elif self.nonlinearity == "relu":
            cell = rnn_ops.rnn_relu_cell
        else:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        ret = cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return ret if is_batched else ret.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step: (h', c') from input and (h, c)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device,
                         dtype=dtype)

    def forward(self, input: Tensor, hx=None) -> tuple[Tensor, Tensor]:
        if input.dim() not in (1, 2):
            raise ValueError(f"LSTMCell: Expected input to be 1D or 2D, got {input.dim()}D "
                             "instead")
        if hx is not None:
            for index, value in enumerate(hx):
                if value.dim() not in (1, 2):
                    raise ValueError(f"LSTMCell: Expected hx[{index}] to be 1D or 2D, got "
                                     f"{value.dim()}D instead")
        input, hx, is_batched = self._batched(input, hx, 2)
        ret = rnn_ops.lstm_cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih,
                                self.bias_hh)
        return ret if is_batched else (ret[0].squeeze(0), ret[1].squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step: h' from input and h."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device,
                         dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        self._check_dims(input, hx)
        input, hx, is_batched = self._batched(input, hx, 1)
        ret = rnn_ops.gru_cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih,
                               self.bias_hh)
        return ret if is_batched else ret.squeeze(0)
