"""The bridge: an encoder's final state → a decoder's initial state.

Legend: B batch, L encoder layers, D encoder directions, H encoder hidden size per direction,
L' decoder layers, H' decoder hidden size.

Encoder and decoder may differ in cell, directions, layers and size, so the bridge maps the
whole final state at once: the ``L*D`` final hidden vectors of a sentence are concatenated
(``(B, L*D*H)``) and one linear map produces all ``L'`` decoder layers (``(B, L'*H')``),
through ``tanh`` as in Bahdanau et al. (2015, appendix A.2.2, ``s_0 = tanh(W_s h_1)``). An LSTM
decoder's cell state ``c`` comes from the encoder's ``c`` (or, for a GRU/RNN encoder, from its
``h``) through a second linear map, without ``tanh``: a cell state is not bounded.

Kinds: ``"linear"`` (learned, above) and ``"zero"`` (the decoder starts from zeros and sees
the source only through attention).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.nn import RNNState, get_cell_spec

BRIDGES = ("linear", "zero")


def cell_spec_name(cell: str) -> str:
    """rnnkit's layer names ("rnn", "lstm", "gru") → cell spec names."""
    return "rnn_tanh" if cell == "rnn" else cell


class Bridge(nn.Module):
    """Maps ``RNNState(h (L*D, B, H), c)`` to ``RNNState(h (L', B, H'), c or None)``.

    Args:
        kind: ``"linear"`` or ``"zero"``.
        source_size: L*D*H, the concatenated final hidden vectors of the encoder.
        decoder_cell: the decoder's cell (``"lstm"`` gets a ``c``).
        decoder_layers: L'.
        decoder_hidden: H'.
    """

    def __init__(
        self,
        kind: str,
        source_size: int,
        decoder_cell: str,
        decoder_layers: int,
        decoder_hidden: int,
    ) -> None:
        super().__init__()
        if kind not in BRIDGES:
            raise ConfigError(f"bridge: expected one of {list(BRIDGES)}, got {kind!r}")
        self.kind = kind
        self.source_size = source_size
        self.decoder_layers, self.decoder_hidden = decoder_layers, decoder_hidden
        self.has_cell_state = get_cell_spec(cell_spec_name(decoder_cell)).has_cell_state
        if kind == "linear":
            size = decoder_layers * decoder_hidden
            self.hidden = nn.Linear(source_size, size)
            self.cell = nn.Linear(source_size, size) if self.has_cell_state else None

    def forward(self, final: RNNState) -> RNNState:
        batch = final.h.size(1)
        if self.kind == "zero":
            zeros = final.h.new_zeros(self.decoder_layers, batch, self.decoder_hidden)
            return RNNState(zeros, zeros.clone() if self.has_cell_state else None)
        h = torch.tanh(self.hidden(self._flatten(final.h)))  # (B, L'*H')
        c = None
        if self.cell is not None:
            c = self.cell(self._flatten(final.h if final.c is None else final.c))
        return RNNState(self._unflatten(h), None if c is None else self._unflatten(c))

    def _flatten(self, states: Tensor) -> Tensor:
        flat = states.transpose(0, 1).reshape(states.size(1), -1)  # (B, L*D*H)
        if flat.size(1) != self.source_size:
            raise ShapeError(
                f"encoder state: expected L*D*H = {self.source_size} features per sentence, "
                f"got {flat.size(1)} (state shape {tuple(states.shape)})"
            )
        return flat

    def _unflatten(self, flat: Tensor) -> Tensor:
        per_layer = flat.view(flat.size(0), self.decoder_layers, self.decoder_hidden)
        return per_layer.transpose(0, 1).contiguous()  # (L', B, H')
