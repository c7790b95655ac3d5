"""The fused backend: the same layers computed by PyTorch's kernels (``torch._VF``).

Legend: B batch, T time, E input features, H hidden size, D directions, L layers, G gates.

Uniform lengths call the kernel once for the whole stack, exactly as ``torch.nn.LSTM`` does
(oneDNN's ``mkldnn_rnn_layer`` for the LSTM on CPU).

Variable lengths take one of two routes, whichever ``benchmarks/recurrent.py`` measured
faster for the job:

- *inference* (no gradient needed): ``pack_padded_sequence``, as ``torch.nn`` users do; it
  computes valid steps only, which beats padding when no backward pass follows;
- *training*: packing makes the backward pass slow (on CPU it drops the LSTM off oneDNN
  onto a per-step loop that spends most of its time zero-filling gradient slices, see
  BENCHMARKS.md), so each layer and direction runs on the padded tensor instead, and

- the reverse direction reads each sequence reversed *inside its own length*, so it starts
  at the sequence's last token rather than at padding;
- the final ``h`` is read from the outputs at ``lengths - 1`` (outputs are hidden states);
- the LSTM's cell state ``c``, which is no output, is *held* through the padding: one extra
  input feature, 1 on padding steps and 0 elsewhere, carries a weight of ``HOLD`` into the
  gates. On padding it saturates the forget gate to exactly 1 and the input gate to exactly
  0, so ``c`` is frozen; on valid steps it adds 0. The ``c`` at step T is then each
  sequence's ``c`` at its own last step, gradients included. GRU and RNN have no ``c``.

Locked dropout between layers (one mask per sequence) is no option of torch's stacked kernel,
so a layer that needs it in training takes the per-layer route above for uniform lengths
too. Weight-drop needs nothing here: the kernels receive the dropped ``W_hh`` as weights.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from rnnkit.nn.masking import (
    gather_last_steps,
    reverse_index,
    reverse_within_lengths,
    valid_mask,
)
from rnnkit.nn.state import RNNState, stack_states

# ``layer`` is the `rnnkit.nn.layers.RecurrentLayer` being run, typed as a Module: layers.py
# dispatches to this module, which therefore must not import layers.py back.

# Large enough that sigmoid(±HOLD + any sane pre-activation) is exactly 1 or 0 in float32
# (it saturates beyond |x| ≈ 17 for 1, 104 for 0), small enough to stay finite in float16.
HOLD = 1.0e4

KERNELS = {
    "LSTM": torch._VF.lstm,
    "GRU": torch._VF.gru,
    "RNN_TANH": torch._VF.rnn_tanh,
    "RNN_RELU": torch._VF.rnn_relu,
}

# Rows of the gate vector that the padding indicator pushes down (-HOLD) or up (+HOLD),
# as (gate index, sign) in torch's LSTM gate order i, f, g, o.
HOLDING_GATES = {"LSTM": ((0, -1.0), (1, 1.0))}


# The same signature as `run_loop` (nn/loop.py) by design: the two backends of a layer are
# interchangeable, chosen per call.
def run_fused(
    layer: torch.nn.Module,
    x: Tensor,
    state: RNNState,
    lengths: Tensor | None,
    weights: dict[str, Tensor],
) -> tuple[Tensor, RNNState]:
    """Runs ``layer`` on ``x (B, T, E)`` with torch's kernels and ``weights`` (its
    `forward_weights`); see the module docstring."""
    flat_weights = list(weights.values())
    per_layer = layer.locks_dropout_masks
    if lengths is None and not per_layer:
        return run_kernel(layer, x, state, flat_weights, layer.num_layers, layer.bidirectional)
    if lengths is not None and not per_layer and not needs_gradient(x, state, flat_weights):
        return run_packed(layer, x, state, lengths, flat_weights)
    time = x.size(1)
    if lengths is None:
        lengths = torch.full((x.size(0),), time, dtype=torch.long)
    mask = valid_mask(lengths, time, x.device).unsqueeze(-1)  # (B, T, 1)
    reverse = reverse_index(lengths, time, x.device)
    padding = (~mask).to(x.dtype)  # (B, T, 1): the holding indicator
    layer_input = x
    finals: list[RNNState] = []
    for index in range(layer.num_layers):
        layer_input = layer_input.masked_fill(~mask, 0.0)  # padding values never matter
        outputs = []
        for direction in range(layer.num_directions):
            flat = index * layer.num_directions + direction
            sequence = (
                layer_input if direction == 0 else reverse_within_lengths(layer_input, reverse)
            )
            initial = state.map(lambda tensor, flat=flat: tensor[flat : flat + 1])
            output, final = run_direction_holding(
                layer,
                sequence,
                initial,
                layer.direction_weights(index, direction, weights),
                padding,
                lengths,
            )
            if direction == 1:
                output = reverse_within_lengths(output, reverse)
            outputs.append(output)
            finals.append(final)
        layer_input = outputs[0] if len(outputs) == 1 else torch.cat(outputs, dim=-1)
        if index < layer.num_layers - 1 and layer.dropout > 0:
            layer_input = layer.drop_between(layer_input)
    return layer_input * mask.to(layer_input.dtype), stack_states(finals)


def needs_gradient(x: Tensor, state: RNNState, flat_weights: list[Tensor]) -> bool:
    """Whether a backward pass may follow: grad mode on and some input requiring grad."""
    if not torch.is_grad_enabled():
        return False
    tensors = [x, *(tensor for tensor in state if tensor is not None), *flat_weights]
    return any(tensor.requires_grad for tensor in tensors)


def run_packed(
    layer: torch.nn.Module, x: Tensor, state: RNNState, lengths: Tensor, flat_weights: list[Tensor]
) -> tuple[Tensor, RNNState]:
    """Inference on a packed batch: valid steps only; final states at each true length."""
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    sorted_state = state.map(lambda tensor: tensor.index_select(1, packed.sorted_indices))
    hx = tuple(sorted_state) if layer.spec.has_cell_state else sorted_state.h
    dropout = layer.dropout if layer.num_layers > 1 else 0.0
    result = KERNELS[layer.spec.mode](
        packed.data, packed.batch_sizes, hx, flat_weights, layer.bias,
        layer.num_layers, dropout, layer.training, layer.bidirectional,
    )  # fmt: skip
    output = PackedSequence(
        result[0], packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices
    )
    outputs, _ = pad_packed_sequence(output, batch_first=True, total_length=x.size(1))
    final = RNNState(*result[1:]).map(
        lambda tensor: tensor.index_select(1, packed.unsorted_indices)
    )
    return outputs, final


def run_direction_holding(
    layer: torch.nn.Module,
    sequence: Tensor,
    initial: RNNState,
    weights: tuple[Tensor, Tensor, Tensor | None, Tensor | None],
    padding: Tensor,
    lengths: Tensor,
) -> tuple[Tensor, RNNState]:
    """One direction of one layer over a padded batch; returns outputs (B, T, H), state (B, H)."""
    weight_ih, *rest = weights
    holding = HOLDING_GATES.get(layer.spec.mode)
    if holding is not None:
        sequence = torch.cat([sequence, padding], dim=-1)  # (B, T, E + 1)
        weight_ih = torch.cat([weight_ih, holding_column(layer, weight_ih, holding)], dim=1)
    flat_weights = [weight_ih, *(weight for weight in rest if weight is not None)]
    output, final = run_kernel(layer, sequence, initial, flat_weights, 1, False)
    # h is always an output, so it is read at each sequence's last step; the LSTM's c is not,
    # and comes from the kernel's final state, frozen since that step by the holding gates.
    cell = None if final.c is None else final.c.squeeze(0)
    return output, RNNState(gather_last_steps(output, lengths), cell)


def holding_column(
    layer: torch.nn.Module, weight_ih: Tensor, holding: tuple[tuple[int, float], ...]
) -> Tensor:
    """The weight ``(G*H, 1)`` of the padding indicator: ±HOLD on the holding gates' rows."""
    column = weight_ih.new_zeros(weight_ih.size(0), 1)
    size = layer.hidden_size
    for gate, sign in holding:
        column[gate * size : (gate + 1) * size] = sign * HOLD
    return column


def run_kernel(
    layer: torch.nn.Module,
    x: Tensor,
    state: RNNState,
    flat_weights: list[Tensor],
    num_layers: int,
    bidirectional: bool,
) -> tuple[Tensor, RNNState]:
    """Calls torch's fused kernel for ``num_layers`` layers; states are ``(L*D, B, H)``."""
    kernel = KERNELS[layer.spec.mode]
    dropout = layer.dropout if num_layers > 1 else 0.0
    hx = tuple(state) if layer.spec.has_cell_state else state.h
    result = kernel(
        x, hx, flat_weights, layer.bias, num_layers, dropout, layer.training, bidirectional, True
    )
    return result[0], RNNState(*result[1:])
