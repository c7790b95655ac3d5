"""The layer-normalised LSTM (Ba, Kiros & Hinton 2016, section 3.1 / appendix), loop backend only.

Legend: B batch, T time, E input features, H hidden size.

Layer normalisation on the input and recurrent gate pre-activations (each over all 4*H gates)
and on the cell state before its tanh; biases are added after the normalisation::

    i, f, g, o = split(LN_ih(W_ih x_t) + b_ih + LN_hh(W_hh h_{t-1}) + b_hh)
    c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(g)
    h_t = sigmoid(o) * tanh(LN_c(c_t))

Each ``LN`` has its own gain and shift (``nn.LayerNorm``). The state keeps the unnormalised
``c_t``. No fused kernel computes this, so a layer with ``layer_norm=True`` runs the loop.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.errors import ConfigError
from rnnkit.nn.cells import RecurrentCell, lstm_update
from rnnkit.nn.state import RNNState

# Cells that have a layer-normalised form.
LAYER_NORM_CELLS = ("lstm",)


def check_layer_norm_cell(cell: str) -> None:
    """Raises a `ConfigError` unless ``cell`` has a layer-normalised form."""
    if cell not in LAYER_NORM_CELLS:
        raise ConfigError(
            f"layer_norm: expected cell in {list(LAYER_NORM_CELLS)}, got cell {cell!r}"
        )


class LayerNorms(nn.Module):
    """The three normalisations of one layer-normalised LSTM direction: ``ih`` and ``hh`` over
    the 4*H gate pre-activations, ``cell`` over the H cell units."""

    def __init__(self, hidden_size: int) -> None:
        super().__init__()
        self.ih = nn.LayerNorm(4 * hidden_size)
        self.hh = nn.LayerNorm(4 * hidden_size)
        self.cell = nn.LayerNorm(hidden_size)


def layer_norm_projection(
    x: Tensor, weight: Tensor, bias: Tensor | None, norm: nn.LayerNorm
) -> Tensor:
    """``LN(W x) + b``: ``LN_ih(W_ih x_t) + b_ih`` (for every step at once) or
    ``LN_hh(W_hh h_{t-1}) + b_hh``. Shape: ``(..., E or H)`` → ``(..., 4*H)``."""
    projection = norm(F.linear(x, weight))
    return projection if bias is None else projection + bias


def layer_norm_lstm_step(
    input_projection: Tensor,
    state: RNNState,
    weight_hh: Tensor,
    bias_hh: Tensor | None,
    norms: LayerNorms,
) -> RNNState:
    """One step of the layer-normalised LSTM (see the module docstring).

    ``input_projection`` is `layer_norm_projection` of ``x_t``: ``(B, 4*H)``; state ``(B, H)``.
    """
    recurrent = layer_norm_projection(state.h, weight_hh, bias_hh, norms.hh)
    return lstm_update(input_projection + recurrent, state.c, norms.cell)


class LayerNormLSTMCell(RecurrentCell):
    """One step of the layer-normalised LSTM; the contract of every cell,
    ``forward(x_t, state) -> (h_t, new_state)``.

    Parameters as `LSTMCell` (``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``) plus
    ``norms`` (`LayerNorms`).

    Shape:
        x_t: (B, E); state: ``RNNState`` with ``h, c: (B, H)``, or None for zeros.
        Returns ``(h_t, new_state)`` with ``h_t: (B, H)``.
    """

    cell_name = "lstm"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__(input_size, hidden_size, bias)
        self.norms = LayerNorms(hidden_size)

    def reset_parameters(self) -> None:
        super().reset_parameters()
        for norms in self.children():  # none yet while the base class initialises
            for norm in norms.children():
                norm.reset_parameters()

    def step(self, x_t: Tensor, state: RNNState) -> RNNState:
        projection = layer_norm_projection(x_t, self.weight_ih, self.bias_ih, self.norms.ih)
        return layer_norm_lstm_step(projection, state, self.weight_hh, self.bias_hh, self.norms)
