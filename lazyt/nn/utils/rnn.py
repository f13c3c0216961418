"""nn.utils.rnn: batches of variable-length sequences for the recurrent
layers, as PyTorch has them: padding (pad_sequence, unpad_sequence) and the
packed form (PackedSequence, pack_padded_sequence, pad_packed_sequence,
pack_sequence, unpack_sequence).

A PackedSequence holds the time steps one after another, each with only the
sequences still running (`batch_sizes[t]` rows, sorted longest first), so
nn.RNN/LSTM/GRU skip the padding. Packing and padding are slices, cat and
stack of lazyt tensors, so gradients flow through them; the lengths and
batch sizes are int64 CPU tensors read as Python ints.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from lazyt import creation, dtypes, shape_ops
from lazyt.tensor import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence",
           "pad_packed_sequence", "pad_sequence", "unpad_sequence", "pack_sequence",
           "unpack_sequence"]


class _PackedSequenceFields(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(_PackedSequenceFields):
    """(data, batch_sizes, sorted_indices, unsorted_indices) of a packed batch;
    make one with pack_padded_sequence or pack_sequence."""

    def __new__(cls, data, batch_sizes: Tensor | None = None,
                sorted_indices: Tensor | None = None,
                unsorted_indices: Tensor | None = None) -> PackedSequence:
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise ValueError("PackedSequence(data) expects data to be a (data, "
                                 "batch_sizes) pair when batch_sizes is not given")
            data, batch_sizes = data
        elif batch_sizes.device.type != "cpu":
            raise ValueError(
                "batch_sizes should always be on CPU. Instances of PackedSequence should "
                "never be created manually. They should be instantiated by functions like "
                "pack_sequence and pack_padded_sequences in nn.utils.rnn. "
                "https://pytorch.org/docs/stable/nn.html#torch.nn.utils.rnn.pack_sequence")
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs) -> PackedSequence:
        """data.to(...); the indices follow data's device, batch_sizes stays on the CPU."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self

        def move(t: Tensor | None) -> Tensor | None:
            return None if t is None else t.to(data.device)

        return type(self)(data, self.batch_sizes, move(self.sorted_indices),
                          move(self.unsorted_indices))

    def cpu(self) -> PackedSequence:
        return self.to("cpu")

    def cuda(self, device=None) -> PackedSequence:
        return self.to("cuda" if device is None else device)

    def double(self) -> PackedSequence:
        return self.to(dtype=dtypes.float64)

    def float(self) -> PackedSequence:
        return self.to(dtype=dtypes.float32)

    def half(self) -> PackedSequence:
        return self.to(dtype=dtypes.float16)

    def long(self) -> PackedSequence:
        return self.to(dtype=dtypes.int64)

    def int(self) -> PackedSequence:
        return self.to(dtype=dtypes.int32)

    def short(self) -> PackedSequence:
        return self.to(dtype=dtypes.int16)

    def char(self) -> PackedSequence:
        return self.to(dtype=dtypes.int8)

    def byte(self) -> PackedSequence:
        return self.to(dtype=dtypes.uint8)

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda

    def is_pinned(self) -> bool:
        return False


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The permutation that undoes `permutation` (None stays None)."""
    if permutation is None:
        return None
    output = creation.empty_like(permutation)
    output.scatter_(0, permutation, creation.arange(0, permutation.numel(),
                                                    device=permutation.device))
    return output


def _lengths_list(lengths) -> list[int]:
    if isinstance(lengths, Tensor):
        if lengths.dim() != 1:
            scalar_type = lengths.to(dtypes.int64).type().rsplit(".", 1)[-1][:-len("Tensor")]
            raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got "
                               f"{lengths.dim()}D {lengths.device} {scalar_type} tensor")
        return [int(v) for v in lengths.tolist()]
    return [int(v) for v in lengths]


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded (T, B, *) batch (B, T, * with batch_first) of sequences
    of the given lengths; with enforce_sorted=False the lengths may come in
    any order (the batch is sorted, and unsorted again on unpacking)."""
    lengths_list = _lengths_list(lengths)
    sorted_indices = None
    if not enforce_sorted:
        lengths_tensor = creation.tensor(lengths_list, dtype=dtypes.int64)
        sorted_lengths, sorted_indices = lengths_tensor.sort(descending=True, stable=True)
        lengths_list = [int(v) for v in sorted_lengths.tolist()]
        sorted_indices = sorted_indices.to(input.device)
        input = input.index_select(0 if batch_first else 1, sorted_indices)
    if batch_first:
        input = input.transpose(0, 1)
    batch = input.size(1)
    if len(lengths_list) != batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{len(lengths_list)} (batch_size={batch})")
    if any(a < b for a, b in zip(lengths_list, lengths_list[1:])):
        raise RuntimeError(
            "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
            "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
            "pack_sequence to sidestep this requirement if you do not need ONNX "
            "exportability.")
    if lengths_list[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    if lengths_list[0] > input.size(0):
        raise RuntimeError(f"pack_padded_sequence: a length of {lengths_list[0]} is longer "
                           f"than the padded sequences (length {input.size(0)})")
    batch_sizes = [sum(1 for length in lengths_list if length > t)
                   for t in range(lengths_list[0])]
    data = shape_ops.cat([input[t, :size] for t, size in enumerate(batch_sizes)], 0)
    return PackedSequence(data, creation.tensor(batch_sizes, dtype=dtypes.int64),
                          sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """(padded (T, B, *) batch, lengths): the inverse of pack_padded_sequence."""
    batch_sizes = [int(v) for v in sequence.batch_sizes.tolist()]
    max_seq_length = len(batch_sizes)
    if total_length is not None:
        if total_length < max_seq_length:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in "
                f"input, but got total_length={total_length} and max sequence length being "
                f"{max_seq_length}")
        max_seq_length = total_length
    data = sequence.data
    batch = batch_sizes[0]
    trailing = tuple(data.shape[1:])
    steps, offset = [], 0
    for size in batch_sizes:
        chunk = data[offset:offset + size]
        offset += size
        if size < batch:
            chunk = shape_ops.cat([chunk, creation.full((batch - size, *trailing), padding_value,
                                                        dtype=data.dtype, device=data.device)])
        steps.append(chunk)
    if max_seq_length > len(batch_sizes):
        steps.extend([creation.full((batch, *trailing), padding_value, dtype=data.dtype,
                                    device=data.device)] * (max_seq_length - len(batch_sizes)))
    padded = shape_ops.stack(steps, 1 if batch_first else 0)
    lengths = [sum(1 for size in batch_sizes if size > b) for b in range(batch)]
    lengths_tensor = creation.tensor(lengths, dtype=dtypes.int64)
    if sequence.unsorted_indices is not None:
        return (padded.index_select(0 if batch_first else 1, sequence.unsorted_indices),
                lengths_tensor[sequence.unsorted_indices.cpu()])
    return padded, lengths_tensor


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack sequences of shape (L_i, *) into (max L, B, *) ((B, max L, *) with
    batch_first), padding each at the end (padding_side="right") or the start."""
    if not isinstance(sequences, Iterable):
        raise RuntimeError("pad_sequence: Expected iterable for input sequences, but got arg "
                           f"of type: {type(sequences)}")
    sequences = tuple(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise RuntimeError("Expected padding_side to be one of left or right, but got "
                           f"{padding_side}.")
    first = sequences[0]
    if first.dim() == 0:
        raise RuntimeError("ArrayRef: invalid slice, N = 1; size = 0")
    trailing = tuple(first.shape[1:])
    max_length = max(seq.size(0) for seq in sequences)
    padded = []
    for seq in sequences:
        if tuple(seq.shape[1:]) != trailing:
            seq = _broadcast_like_copy(seq, (seq.size(0), *trailing))
        seq = seq.to(first.dtype)
        missing = max_length - seq.size(0)
        if missing:
            fill = creation.full((missing, *trailing), padding_value, dtype=first.dtype,
                                 device=first.device)
            seq = shape_ops.cat([seq, fill] if padding_side == "right" else [fill, seq])
        padded.append(seq)
    return shape_ops.stack(padded, 0 if batch_first else 1)


def _broadcast_like_copy(seq: Tensor, shape: tuple[int, ...]) -> Tensor:
    """seq broadcast to `shape` as out[...].copy_(seq) would in PyTorch's
    pad_sequence (same error when it cannot be)."""
    for offset in range(1, min(len(shape), seq.dim()) + 1):
        target, size = shape[-offset], seq.shape[-offset]
        if size != target and size != 1:
            raise RuntimeError(f"The size of tensor a ({target}) must match the size of tensor "
                               f"b ({size}) at non-singleton dimension {len(shape) - offset}")
    if seq.dim() > len(shape):
        broadcast = list(seq.shape[:seq.dim() - len(shape)]) + \
            [max(a, b) for a, b in zip(shape, seq.shape[seq.dim() - len(shape):])]
        raise RuntimeError(f"output with shape {list(shape)} doesn't match the broadcast shape "
                           f"{broadcast}")
    return seq.expand(*shape)


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor,
                   batch_first: bool = False) -> list[Tensor]:
    """The list of sequences of a padded batch: the inverse of pad_sequence.
    As in PyTorch, a time-major batch (batch_first=False) is transposed in
    place to batch-major."""
    if not batch_first:
        padded_sequences.transpose_(0, 1)
    return [seq[:length] for seq, length in zip(padded_sequences, _lengths_list(lengths))]


def pack_sequence(sequences: list[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences of shape (L_i, *) (longest first unless
    enforce_sorted=False)."""
    lengths = [v.size(0) for v in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The list of sequences of a PackedSequence: the inverse of pack_sequence."""
    padded_sequences, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded_sequences, lengths, batch_first=True)
