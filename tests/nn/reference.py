"""torch.nn references for the parity tests: copied weights, per-sequence runs."""

from __future__ import annotations

import torch
from torch import Tensor

from rnnkit.nn import RNNState
from rnnkit.nn.layers import RecurrentLayer

TORCH_LAYERS = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}


def torch_twin(layer: RecurrentLayer, kind: str) -> torch.nn.Module:
    """A ``torch.nn`` layer with the same configuration and a copy of ``layer``'s weights."""
    options = {}
    if kind == "rnn":
        options["nonlinearity"] = layer.cell.removeprefix("rnn_")
    twin = TORCH_LAYERS[kind](
        layer.input_size,
        layer.hidden_size,
        num_layers=layer.num_layers,
        bidirectional=layer.bidirectional,
        bias=layer.bias,
        batch_first=True,
        **options,
    ).to(next(layer.parameters()).dtype)
    twin.load_state_dict(layer.state_dict())
    return twin


def run_reference(
    twin: torch.nn.Module, x: Tensor, state: RNNState | None, lengths: Tensor | None
) -> tuple[Tensor, RNNState]:
    """Runs ``twin`` on each sequence alone, cut to its length; pads outputs with zeros.

    Returns outputs ``(B, T, D*H)`` and the final state in ``(L*D, B, H)`` layout.
    """
    if lengths is None:
        lengths = torch.full((x.size(0),), x.size(1))
    outputs, hs, cs = [], [], []
    for b in range(x.size(0)):
        sequence = x[b : b + 1, : int(lengths[b])]
        initial = None
        if state is not None:
            initial = tuple(t[:, b : b + 1] for t in state if t is not None)
            initial = initial if len(initial) == 2 else initial[0]
        output, final = twin(sequence, initial)
        padding = x.size(1) - output.size(1)
        outputs.append(torch.nn.functional.pad(output, (0, 0, 0, padding)))
        if isinstance(final, tuple):
            hs.append(final[0])
            cs.append(final[1])
        else:
            hs.append(final)
    c = torch.cat(cs, dim=1) if cs else None
    return torch.cat(outputs), RNNState(torch.cat(hs, dim=1), c)
