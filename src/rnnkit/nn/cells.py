"""Recurrent cells: one time step of a traditional RNN, an LSTM or a GRU.

Every cell has the same contract, ``forward(x_t, state) -> (h_t, new_state)``, and its
parameters are named, shaped, ordered and initialised as in ``torch.nn.RNNCell``,
``torch.nn.LSTMCell`` and ``torch.nn.GRUCell``, so a ``state_dict`` loads either way.

The equations live in plain functions (``*_step``) that take the input projection
``W_ih x_t + b_ih`` already computed. The layers in ``rnnkit.nn.layers`` call the same
functions after projecting the whole sequence with one matrix product, so a cell and a
layer can never disagree.

Legend: B batch, E input features, H hidden size, G gates (1 RNN, 4 LSTM, 3 GRU).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.nn.state import RNNState

StepFunction = Callable[[Tensor, RNNState, Tensor, Tensor | None], RNNState]


def rnn_tanh_step(
    input_projection: Tensor, state: RNNState, weight_hh: Tensor, bias_hh: Tensor | None
) -> RNNState:
    """``h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``.

    ``input_projection`` is ``W_ih x_t + b_ih``, computed by the caller.
    """
    return RNNState(torch.tanh(input_projection + F.linear(state.h, weight_hh, bias_hh)))


def rnn_relu_step(
    input_projection: Tensor, state: RNNState, weight_hh: Tensor, bias_hh: Tensor | None
) -> RNNState:
    """``h_t = relu(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)`` (the IRNN of Le et al., 2015)."""
    return RNNState(torch.relu(input_projection + F.linear(state.h, weight_hh, bias_hh)))


def lstm_step(
    input_projection: Tensor, state: RNNState, weight_hh: Tensor, bias_hh: Tensor | None
) -> RNNState:
    """One LSTM step (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000).

    Gates in torch's order i, f, g, o::

        i, f, g, o = split(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
        c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(g)
        h_t = sigmoid(o) * tanh(c_t)
    """
    return lstm_update(input_projection + F.linear(state.h, weight_hh, bias_hh), state.c)


def lstm_update(
    gates: Tensor, cell: Tensor, cell_norm: Callable[[Tensor], Tensor] | None = None
) -> RNNState:
    """The LSTM's state update from its gate pre-activations ``gates (B, 4*H)`` (i, f, g, o).

    ``cell_norm`` normalises ``c_t`` before its tanh (the layer-normalised LSTM); the state
    keeps the unnormalised ``c_t``.
    """
    input_gate, forget_gate, candidate, output_gate = gates.chunk(4, dim=-1)
    cell = torch.sigmoid(forget_gate) * cell + torch.sigmoid(input_gate) * torch.tanh(candidate)
    shown = cell if cell_norm is None else cell_norm(cell)
    hidden = torch.sigmoid(output_gate) * torch.tanh(shown)
    return RNNState(hidden, cell)


def gru_step(
    input_projection: Tensor, state: RNNState, weight_hh: Tensor, bias_hh: Tensor | None
) -> RNNState:
    """One GRU step (Cho et al. 2014), gates in torch's order r, z, n::

        r = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
        z = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
        n = tanh(W_in x_t + b_in + r * (W_hn h_{t-1} + b_hn))
        h_t = (1 - z) * n + z * h_{t-1}

    Note: the reset gate multiplies ``W_hn h + b_hn`` (torch and cuDNN), not ``h`` itself as
    in the paper; the two are different functions, and only this one loads torch's weights.
    """
    return gru_update(input_projection, F.linear(state.h, weight_hh, bias_hh), state.h)


def gru_update(input_projection: Tensor, recurrent: Tensor, hidden: Tensor) -> RNNState:
    """The GRU's new state from ``W_ih x_t + b_ih`` and ``W_hh h_{t-1} + b_hh`` (both
    ``(B, 3*H)``, gates r, z, n) and ``h_{t-1} (B, H)``; see :func:`gru_step`."""
    input_reset, input_update, input_new = input_projection.chunk(3, dim=-1)
    hidden_reset, hidden_update, hidden_new = recurrent.chunk(3, dim=-1)
    reset = torch.sigmoid(input_reset + hidden_reset)
    update = torch.sigmoid(input_update + hidden_update)
    new = torch.tanh(input_new + reset * hidden_new)
    return RNNState(torch.lerp(new, hidden, update))


class CellSpec:
    """What distinguishes one recurrent cell type: its gates, its step and its state."""

    def __init__(self, mode: str, num_gates: int, step: StepFunction, has_cell_state: bool):
        self.mode = mode  # torch's name for the kernel: "RNN_TANH", "RNN_RELU", "LSTM", "GRU"
        self.num_gates = num_gates
        self.step = step
        self.has_cell_state = has_cell_state


CELL_SPECS: dict[str, CellSpec] = {
    "rnn_tanh": CellSpec("RNN_TANH", 1, rnn_tanh_step, has_cell_state=False),
    "rnn_relu": CellSpec("RNN_RELU", 1, rnn_relu_step, has_cell_state=False),
    "lstm": CellSpec("LSTM", 4, lstm_step, has_cell_state=True),
    "gru": CellSpec("GRU", 3, gru_step, has_cell_state=False),
}


def get_cell_spec(name: str) -> CellSpec:
    """Looks up a cell type by name (``rnn_tanh``, ``rnn_relu``, ``lstm``, ``gru``)."""
    try:
        return CELL_SPECS[name]
    except KeyError:
        raise ConfigError(f"unknown cell {name!r}; expected one of {sorted(CELL_SPECS)}") from None


def zero_state(spec: CellSpec, leading: tuple[int, ...], like: Tensor) -> RNNState:
    """An all-zero state of shape ``(*leading, H)`` with ``like``'s dtype and device."""
    h = like.new_zeros(leading)
    return RNNState(h, torch.zeros_like(h) if spec.has_cell_state else None)


def reset_uniform_(parameters, hidden_size: int) -> None:
    """torch's default initialisation: every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H))."""
    bound = 1.0 / math.sqrt(hidden_size)
    with torch.no_grad():
        for parameter in parameters:
            parameter.uniform_(-bound, bound)


class RecurrentCell(nn.Module):
    """Base class of the cells: owns ``weight_ih (G*H, E)``, ``weight_hh (G*H, H)`` and biases.

    Shape:
        x_t: (B, E); state: ``RNNState`` with ``h (B, H)`` (and ``c (B, H)``), or None for zeros.
        Returns ``(h_t, new_state)`` with ``h_t: (B, H)``.
    """

    cell_name: str

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__()
        check_positive(input_size=input_size, hidden_size=hidden_size)
        self.spec = get_cell_spec(self.cell_name)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        gate_size = self.spec.num_gates * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(gate_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(gate_size, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(gate_size)) if bias else None
        self.bias_hh = nn.Parameter(torch.empty(gate_size)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_uniform_(self.parameters(recurse=False), self.hidden_size)

    def forward(
        self, x_t: Tensor, state: RNNState | tuple | Tensor | None = None
    ) -> tuple[Tensor, RNNState]:
        if x_t.dim() != 2 or x_t.size(1) != self.input_size:
            raise ShapeError(
                f"input: expected shape (batch, {self.input_size}), got {tuple(x_t.shape)}"
            )
        if state is None:
            state = zero_state(self.spec, (x_t.size(0), self.hidden_size), x_t)
        else:
            state = as_state(state, self.spec)
        new_state = self.step(x_t, state)
        return new_state.h, new_state

    def step(self, x_t: Tensor, state: RNNState) -> RNNState:
        """The cell's equations on a checked input and state."""
        return self.spec.step(
            F.linear(x_t, self.weight_ih, self.bias_ih), state, self.weight_hh, self.bias_hh
        )

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, bias={self.bias}"


class RNNCell(RecurrentCell):
    """The traditional (Elman) RNN cell of the RNN tutorial (docs/rnn-tutorial.md).

    It writes one step as a single linear layer over the concatenation of the
    current input and the previous hidden state::

        h_t = tanh(W · [x_t, h_{t-1}] + b)

    Splitting ``W = [W_ih | W_hh]`` by columns (``W_ih``: the first E columns, ``W_hh``: the
    last H) and ``b = b_ih + b_hh`` gives ``W · [x_t, h_{t-1}] = W_ih x_t + W_hh h_{t-1}``, so
    this equals torch's two-matrix form ``tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``,
    which is what is stored here (two matrices allow projecting all inputs at once).

    Args:
        nonlinearity: ``"tanh"`` (default) or ``"relu"``.
    """

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh"
    ) -> None:
        self.cell_name = rnn_cell_name(nonlinearity)
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias)


class LSTMCell(RecurrentCell):
    """Long short-term memory cell; see :func:`lstm_step` for the equations."""

    cell_name = "lstm"


class GRUCell(RecurrentCell):
    """Gated recurrent unit cell; see :func:`gru_step` for the equations."""

    cell_name = "gru"


def rnn_cell_name(nonlinearity: str) -> str:
    """Maps an RNN nonlinearity to its cell name, rejecting anything but tanh and relu."""
    if nonlinearity not in ("tanh", "relu"):
        raise ConfigError(f"nonlinearity: expected 'tanh' or 'relu', got {nonlinearity!r}")
    return f"rnn_{nonlinearity}"


def check_positive(**values: int) -> None:
    """Raises a `ConfigError` naming the first argument that is not a positive integer."""
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name}: expected a positive integer, got {value!r}")


def as_state(state: RNNState | tuple | Tensor, spec: CellSpec) -> RNNState:
    """Accepts an ``RNNState``, an ``(h, c)`` tuple or a bare ``h`` tensor; checks ``c``."""
    if isinstance(state, Tensor):
        state = RNNState(state)
    elif not isinstance(state, RNNState):
        state = RNNState(*state)
    if spec.has_cell_state and state.c is None:
        raise ShapeError("state: an LSTM needs (h, c); got h alone")
    if not spec.has_cell_state and state.c is not None:
        raise ShapeError(f"state: a {spec.mode} cell has no cell state c; pass h alone")
    return state
