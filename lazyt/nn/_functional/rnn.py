"""Recurrent layers as functions: PyTorch's cell ops (`torch.rnn_tanh_cell`,
`rnn_relu_cell`, `lstm_cell`, `gru_cell`) and its multi-layer sequence ops
(`torch.rnn_tanh`, `rnn_relu`, `lstm`, `gru`, what nn.RNN/LSTM/GRU call),
written with lazyt ops.

A layer projects the whole input sequence through `weight_ih` with one
matmul, then runs the recurrence as a Python loop over time steps, so the
graph unrolls: gradients come from the ops' own rules, deferred mode fuses
each step's elementwise gate math into a kernel, and `@lt.compile` records
the unrolled loop for a fixed sequence length. In eager mode one step's
gate math (hidden matmul included) is a region (regions.py): one replay per
step after the first two.

Packed sequences (nn.utils.rnn.PackedSequence) run through the same loop:
time step t works on the first batch_sizes[t] rows only.
"""

from __future__ import annotations

from lazyt import shape_ops
from lazyt.nn._functional.dropout import dropout as _dropout
from lazyt.nn._functional.linear import linear
from lazyt.regions import run_region
from lazyt.tensor import Tensor

# Gate blocks stacked in weight_ih / weight_hh, per mode.
GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# ------------------------------------------------------------ one time step
# Each takes the step's input gates (input @ weight_ih.T + bias_ih, computed
# for all steps at once) and the previous state; PyTorch's formulas, in its
# order of operations.

def _tanh_step(input_gates: Tensor, hidden: Tensor, weight_hh: Tensor,
               bias_hh: Tensor | None) -> Tensor:
    return (linear(hidden, weight_hh, bias_hh) + input_gates).tanh()


def _relu_step(input_gates: Tensor, hidden: Tensor, weight_hh: Tensor,
               bias_hh: Tensor | None) -> Tensor:
    return (linear(hidden, weight_hh, bias_hh) + input_gates).relu()


def _lstm_step(input_gates: Tensor, hidden: Tensor, cell: Tensor, weight_hh: Tensor,
               bias_hh: Tensor | None, weight_hr: Tensor | None) -> tuple[Tensor, Tensor]:
    gates = linear(hidden, weight_hh, bias_hh) + input_gates
    in_gate, forget_gate, cell_gate, out_gate = gates.chunk(4, 1)
    new_cell = forget_gate.sigmoid() * cell + in_gate.sigmoid() * cell_gate.tanh()
    new_hidden = out_gate.sigmoid() * new_cell.tanh()
    if weight_hr is not None:
        new_hidden = linear(new_hidden, weight_hr)
    return new_hidden, new_cell


def _gru_step(input_gates: Tensor, hidden: Tensor, weight_hh: Tensor,
              bias_hh: Tensor | None) -> Tensor:
    hidden_gates = linear(hidden, weight_hh, bias_hh)
    in_reset, in_update, in_new = input_gates.chunk(3, 1)
    hidden_reset, hidden_update, hidden_new = hidden_gates.chunk(3, 1)
    reset_gate = (in_reset + hidden_reset).sigmoid()
    update_gate = (in_update + hidden_update).sigmoid()
    new_gate = (in_new + hidden_new * reset_gate).tanh()
    return (hidden - new_gate) * update_gate + new_gate


_STEPS = {"RNN_TANH": _tanh_step, "RNN_RELU": _relu_step, "LSTM": _lstm_step,
          "GRU": _gru_step}
_STEP_GRAD_NAMES = {"RNN_TANH": "TanhBackward0", "RNN_RELU": "ReluBackward0",
                    "LSTM": "MulBackward0", "GRU": "AddBackward0"}


def _step(mode: str, input_gates: Tensor, state: tuple, weight_hh: Tensor,
          bias_hh: Tensor | None, weight_hr: Tensor | None) -> tuple:
    """The next state (a tuple: (h,) or (h, c) for LSTM), as one eager region."""
    tensors = (input_gates, *state, weight_hh, bias_hh)
    if mode == "LSTM":
        tensors = tensors + (weight_hr,)
    result = run_region(("rnn_step", mode), _STEPS[mode], tensors, (),
                        _STEP_GRAD_NAMES[mode])
    return tuple(result) if mode == "LSTM" else (result,)


# --------------------------------------------------------------- the cells
def _check_cell_input(input: Tensor, hidden: Tensor, weight_ih: Tensor, weight_hh: Tensor,
                      hidden_index: int = 0) -> None:
    """PyTorch's checks of a cell's input and hidden state (check_rnn_cell_forward_*)."""
    if input.size(1) != weight_ih.size(1):
        raise RuntimeError(f"input has inconsistent input_size: got {input.size(1)} "
                           f"expected {weight_ih.size(1)}")
    if input.size(0) != hidden.size(0):
        raise RuntimeError(f"Input batch size {input.size(0)} doesn't match "
                           f"hidden{hidden_index} batch size {hidden.size(0)}")
    if hidden.size(1) != weight_hh.size(1):
        raise RuntimeError(f"hidden{hidden_index} has inconsistent hidden_size: got "
                           f"{hidden.size(1)}, expected {weight_hh.size(1)}")


def _cell(mode: str, input: Tensor, state: tuple, weight_ih: Tensor, weight_hh: Tensor,
          bias_ih: Tensor | None, bias_hh: Tensor | None) -> tuple:
    if input.dim() > 2:
        # PyTorch's cell ops take a batch (the modules unsqueeze unbatched
        # input); a 1-D input fails its size(1) as in PyTorch.
        raise RuntimeError(f"{mode.lower()}_cell: Expected input to be 2D, got "
                           f"{input.dim()}D instead")
    for index, tensor in enumerate(state):
        _check_cell_input(input, tensor, weight_ih, weight_hh, index)
    return _step(mode, linear(input, weight_ih, bias_ih), state, weight_hh, bias_hh, None)


def rnn_tanh_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor,
                  b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> Tensor:
    """h' = tanh(input @ w_ih.T + b_ih + hx @ w_hh.T + b_hh)."""
    return _cell("RNN_TANH", input, (hx,), w_ih, w_hh, b_ih, b_hh)[0]


def rnn_relu_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor,
                  b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> Tensor:
    """h' = relu(input @ w_ih.T + b_ih + hx @ w_hh.T + b_hh)."""
    return _cell("RNN_RELU", input, (hx,), w_ih, w_hh, b_ih, b_hh)[0]


def lstm_cell(input: Tensor, hx, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
              b_hh: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """(h', c') of one LSTM step; hx is (h, c); gates i, f, g, o."""
    if len(hx) != 2:
        raise RuntimeError(f"lstm_cell: Expected hx to have 2 tensors (h, c), got {len(hx)}")
    return _cell("LSTM", input, tuple(hx), w_ih, w_hh, b_ih, b_hh)


def gru_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor,
             b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> Tensor:
    """h' of one GRU step; gates r, z, n."""
    return _cell("GRU", input, (hx,), w_ih, w_hh, b_ih, b_hh)[0]


# ------------------------------------------------------- layers and stacks
def _run_direction(mode: str, step_gates: list, batch_sizes: list, state: tuple,
                   weights: dict, reverse: bool) -> tuple[list, tuple]:
    """Run one direction of one layer over the time steps.

    step_gates[t] holds the input gates of the batch_sizes[t] rows active at
    step t (batch sizes never grow with t, as in a PackedSequence; all equal
    for padded input). Returns (per-step outputs, final state of every row)."""
    weight_hh, bias_hh, weight_hr = weights["w_hh"], weights["b_hh"], weights["w_hr"]
    steps = len(step_gates)
    outputs: list = [None] * steps
    if not reverse:
        # A row's sequence ends when the batch shrinks past it: keep its state.
        # (batch_sizes[0] is the whole batch, in a PackedSequence as padded.)
        finished: list = []
        active = state[0].size(0)
        current = state
        for t in range(steps):
            size = batch_sizes[t]
            if size < active:
                finished.append(tuple(s[size:active] for s in current))
                current = tuple(s[:size] for s in current)
                active = size
            current = _step(mode, step_gates[t], current, weight_hh, bias_hh, weight_hr)
            outputs[t] = current[0]
        pieces = [current] + finished[::-1]
        final = (current if len(pieces) == 1 else
                 tuple(shape_ops.cat([p[i] for p in pieces]) for i in range(len(state))))
        return outputs, final
    # Backwards in time: a row joins (from its initial state) at its last step.
    active = batch_sizes[-1] if steps else state[0].size(0)
    current = tuple(s[:active] for s in state) if active < state[0].size(0) else state
    for t in range(steps - 1, -1, -1):
        size = batch_sizes[t]
        if size > active:
            current = tuple(shape_ops.cat([c, s[active:size]]) for c, s in zip(current, state))
            active = size
        current = _step(mode, step_gates[t], current, weight_hh, bias_hh, weight_hr)
        outputs[t] = current[0]
    return outputs, current


def _layer_weights(params: list, has_biases: bool, count: int) -> list[dict]:
    """Split the flat parameter list into one dict per (layer, direction)."""
    per = len(params) // count
    has_projections = per == (5 if has_biases else 3)
    layers = []
    for index in range(count):
        group = list(params[index * per:(index + 1) * per])
        weights = {"w_ih": group[0], "w_hh": group[1], "b_ih": None, "b_hh": None,
                   "w_hr": None}
        if has_biases:
            weights["b_ih"], weights["b_hh"] = group[2], group[3]
        if has_projections:
            weights["w_hr"] = group[-1]
        layers.append(weights)
    return layers


def _stacked(mode: str, input: Tensor, batch_sizes: list | None, hidden: tuple,
             params, has_biases: bool, num_layers: int, dropout: float, train: bool,
             bidirectional: bool, batch_first: bool) -> tuple:
    """(output, *final states) of a stack of recurrent layers.

    input: (T, B, F) (or (B, T, F) with batch_first), or with batch_sizes the
    (N, F) data of a packed sequence; hidden: a tuple of (L * D, B, H)
    initial states ((h0,) or (h0, c0))."""
    directions = 2 if bidirectional else 1
    params = list(params)
    if not params or len(params) % (num_layers * directions) != 0:
        raise RuntimeError(f"{mode.lower()}: got {len(params)} parameters for {num_layers} "
                           f"layer(s) and {directions} direction(s)")
    layers = _layer_weights(params, has_biases, num_layers * directions)
    packed = batch_sizes is not None
    layer_input = input.transpose(0, 1) if batch_first and not packed else input
    if not packed and layer_input.size(0) == 0:
        raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
    if packed:
        sizes = batch_sizes
    else:
        sizes = [layer_input.size(1)] * layer_input.size(0)
    finals: list[list] = [[] for _ in hidden]
    for layer in range(num_layers):
        direction_outputs = []
        for direction in range(directions):
            index = layer * directions + direction
            weights = layers[index]
            gates = linear(layer_input, weights["w_ih"], weights["b_ih"])
            if packed:
                step_gates = list(gates.split(sizes, 0))
            else:
                step_gates = list(gates.unbind(0))
            state = tuple(h[index] for h in hidden)
            outputs, final = _run_direction(mode, step_gates, sizes, state, weights,
                                            reverse=direction == 1)
            for collected, value in zip(finals, final):
                collected.append(value)
            direction_outputs.append(outputs)
        if directions == 1:
            per_step = direction_outputs[0]
        else:
            per_step = [shape_ops.cat(pair, -1) for pair in zip(*direction_outputs)]
        if packed:
            layer_input = shape_ops.cat(per_step, 0)
        else:
            layer_input = shape_ops.stack(per_step, 0)
        if dropout > 0 and train and layer < num_layers - 1:
            layer_input = _dropout(layer_input, dropout, training=True)
    output = layer_input.transpose(0, 1) if batch_first and not packed else layer_input
    return (output, *(shape_ops.stack(collected, 0) for collected in finals))


def _sequence_op(mode: str, args: tuple, kwargs: dict) -> tuple:
    """Dispatch PyTorch's two overloads of torch.lstm & co.:
    (input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
    batch_first) and, for packed data, (data, batch_sizes, hx, params,
    has_biases, num_layers, dropout, train, bidirectional)."""
    names_padded = ("input", "hx", "params", "has_biases", "num_layers", "dropout", "train",
                    "bidirectional", "batch_first")
    names_packed = ("data", "batch_sizes", "hx", "params", "has_biases", "num_layers",
                    "dropout", "train", "bidirectional")
    packed = "batch_sizes" in kwargs or (len(args) > 3 and not isinstance(args[3], bool))
    names = names_packed if packed else names_padded
    if len(args) > len(names):
        raise TypeError(f"{mode.lower()}() takes {len(names)} arguments but "
                        f"{len(args)} were given")
    bound = dict(zip(names, args))
    for key, value in kwargs.items():
        if key not in names or key in bound:
            raise TypeError(f"{mode.lower()}() got an unexpected or repeated keyword "
                            f"argument '{key}'")
        bound[key] = value
    missing = [name for name in names if name not in bound]
    if missing:
        raise TypeError(f"{mode.lower()}() missing required argument '{missing[0]}'")
    hx = bound["hx"]
    hidden = tuple(hx) if mode == "LSTM" else (hx,)
    if packed:
        sizes = bound["batch_sizes"]
        sizes = [int(s) for s in (sizes.tolist() if isinstance(sizes, Tensor) else sizes)]
        return _stacked(mode, bound["data"], sizes, hidden, bound["params"],
                        bound["has_biases"], bound["num_layers"], bound["dropout"],
                        bound["train"], bound["bidirectional"], False)
    return _stacked(mode, bound["input"], None, hidden, bound["params"], bound["has_biases"],
                    bound["num_layers"], bound["dropout"], bound["train"],
                    bound["bidirectional"], bound["batch_first"])


def rnn_tanh(*args, **kwargs) -> tuple[Tensor, Tensor]:
    """(output, h_n) of a stack of tanh RNN layers (torch.rnn_tanh)."""
    return _sequence_op("RNN_TANH", args, kwargs)


def rnn_relu(*args, **kwargs) -> tuple[Tensor, Tensor]:
    """(output, h_n) of a stack of ReLU RNN layers (torch.rnn_relu)."""
    return _sequence_op("RNN_RELU", args, kwargs)


def lstm(*args, **kwargs) -> tuple[Tensor, Tensor, Tensor]:
    """(output, h_n, c_n) of a stack of LSTM layers (torch.lstm)."""
    return _sequence_op("LSTM", args, kwargs)


def gru(*args, **kwargs) -> tuple[Tensor, Tensor]:
    """(output, h_n) of a stack of GRU layers (torch.gru)."""
    return _sequence_op("GRU", args, kwargs)
