"""Layer-normalised LSTM and GRU cells (Ba, Kiros & Hinton 2016), loop backend only.

Legend: B batch, T time, E input features, H hidden size, G gates (4 LSTM, 3 GRU).

Layer normalisation on the input and on the recurrent gate pre-activations, each over all
G*H gates, with the biases added after it; the LSTM also normalises its cell state before
the tanh (section 3.1 and appendix of the paper)::

    LSTM: i, f, g, o = split(LN_ih(W_ih x_t) + b_ih + LN_hh(W_hh h_{t-1}) + b_hh)
          c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(g)
          h_t = sigmoid(o) * tanh(LN_c(c_t))
    GRU:  the equations of `rnnkit.nn.cells.gru_step` with ``W_ih x_t + b_ih`` replaced by
          ``LN_ih(W_ih x_t) + b_ih`` and ``W_hh h_{t-1} + b_hh`` by ``LN_hh(W_hh h_{t-1}) + b_hh``

Each ``LN`` has its own gain and shift (``nn.LayerNorm``). The LSTM's state keeps the
unnormalised ``c_t``. No fused kernel computes these, so a layer with ``layer_norm=True``
runs the loop.
"""

from __future__ import annotations

from collections.abc import Callable

import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.errors import ConfigError
from rnnkit.nn.cells import RecurrentCell, gru_update, lstm_update
from rnnkit.nn.state import RNNState


class LayerNorms(nn.Module):
    """The normalisations of one cell (one layer and direction): ``ih`` and ``hh`` over the
    G*H gate pre-activations and, for the LSTM, ``cell`` over the H cell units."""

    def __init__(self, hidden_size: int, num_gates: int, has_cell_state: bool) -> None:
        super().__init__()
        self.ih = nn.LayerNorm(num_gates * hidden_size)
        self.hh = nn.LayerNorm(num_gates * hidden_size)
        self.cell = nn.LayerNorm(hidden_size) if has_cell_state else None


def layer_norm_projection(
    x: Tensor, weight: Tensor, bias: Tensor | None, norm: nn.LayerNorm
) -> Tensor:
    """``LN(W x) + b``: ``LN_ih(W_ih x_t) + b_ih`` (for every step at once) or
    ``LN_hh(W_hh h_{t-1}) + b_hh``. Shape: ``(..., E or H)`` → ``(..., G*H)``."""
    projection = norm(F.linear(x, weight))
    return projection if bias is None else projection + bias


# The LSTM and GRU steps take the same arguments by design (one step contract for the loop);
# their updates differ.
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


# Same arguments as `layer_norm_lstm_step` by design (one step contract for the loop).
def layer_norm_gru_step(
    input_projection: Tensor,
    state: RNNState,
    weight_hh: Tensor,
    bias_hh: Tensor | None,
    norms: LayerNorms,
) -> RNNState:
    """One step of the layer-normalised GRU (see the module docstring); shapes as the LSTM's
    with 3*H gates."""
    recurrent = layer_norm_projection(state.h, weight_hh, bias_hh, norms.hh)
    return gru_update(input_projection, recurrent, state.h)


LayerNormStep = Callable[[Tensor, RNNState, Tensor, Tensor | None, LayerNorms], RNNState]
# The cells that have a layer-normalised form, by cell name.
LAYER_NORM_STEPS: dict[str, LayerNormStep] = {
    "lstm": layer_norm_lstm_step,
    "gru": layer_norm_gru_step,
}


def get_layer_norm_step(cell: str) -> LayerNormStep:
    """The layer-normalised step of ``cell``; a `ConfigError` listing the cells that have one."""
    try:
        return LAYER_NORM_STEPS[cell]
    except KeyError:
        raise ConfigError(
            f"layer_norm: expected cell in {sorted(LAYER_NORM_STEPS)}, got cell {cell!r}"
        ) from None


class LayerNormCell(RecurrentCell):
    """Base of the layer-normalised cells; the contract of every cell,
    ``forward(x_t, state) -> (h_t, new_state)``.

    Parameters as the plain cell (``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``) plus
    ``norms`` (`LayerNorms`).

    Shape:
        x_t: (B, E); state: ``RNNState`` with ``h (B, H)`` (and ``c (B, H)`` for the LSTM), or
        None for zeros. Returns ``(h_t, new_state)`` with ``h_t: (B, H)``.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__(input_size, hidden_size, bias)
        self.norms = LayerNorms(hidden_size, self.spec.num_gates, self.spec.has_cell_state)
        self.layer_norm_step = get_layer_norm_step(self.cell_name)

    def reset_parameters(self) -> None:
        super().reset_parameters()
        for module in self.modules():  # no norms yet while the base class initialises
            if isinstance(module, nn.LayerNorm):
                module.reset_parameters()

    def step(self, x_t: Tensor, state: RNNState) -> RNNState:
        projection = layer_norm_projection(x_t, self.weight_ih, self.bias_ih, self.norms.ih)
        return self.layer_norm_step(projection, state, self.weight_hh, self.bias_hh, self.norms)


class LayerNormLSTMCell(LayerNormCell):
    """The layer-normalised LSTM cell (see the module docstring)."""

    cell_name = "lstm"


class LayerNormGRUCell(LayerNormCell):
    """The layer-normalised GRU cell (see the module docstring)."""

    cell_name = "gru"
