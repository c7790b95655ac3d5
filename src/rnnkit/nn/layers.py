"""Recurrent layers: ``RNN``, ``LSTM`` and ``GRU`` — stacked, optionally bidirectional, batch-first.

Legend: B batch, T time, E input features, H hidden size per direction, D directions
(2 if bidirectional else 1), L layers, G gates per cell.

One set of parameters, named exactly as in ``torch.nn.RNN/LSTM/GRU`` (``weight_ih_l0``,
``weight_hh_l1_reverse``, ...), so ``load_state_dict`` works both ways, and two ways to run it:

- ``backend="loop"``: the cells of ``rnnkit.nn.cells`` stepped in Python, one time step at a
  time, after projecting the whole input with one matrix product. Readable, and every
  per-step state can be recorded for diagnostics (see :func:`record_steps`).
- ``backend="fused"``: PyTorch's fused kernels (oneDNN for the LSTM on this CPU); variable
  lengths are handled without ``pack_padded_sequence`` (see ``rnnkit.nn.fused``).
- ``backend="auto"`` (default): fused, unless steps are being recorded.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.nn.cells import (
    CellSpec,
    as_state,
    check_positive,
    get_cell_spec,
    reset_uniform_,
    rnn_cell_name,
    zero_state,
)
from rnnkit.nn.masking import (
    check_lengths,
    reverse_index,
    reverse_within_lengths,
    valid_mask,
)
from rnnkit.nn.state import RNNState

BACKENDS = ("auto", "loop", "fused")

DirectionWeights = tuple[Tensor, Tensor, Tensor | None, Tensor | None]


class StepRecord:
    """Per-step states recorded by the loop backend while :func:`record_steps` is active.

    ``states[(layer, direction)]`` is the list of ``RNNState`` after each step, in the order
    the direction reads the sequence: for ``direction == 1`` step ``t`` holds the state after
    reading ``t + 1`` tokens from each sequence's own end. Steps past a sequence's length
    repeat its last valid state. The tensors are part of the autograd graph, so
    ``torch.autograd.grad(loss, states)`` gives ``∂L/∂h_t`` for every step.
    """

    def __init__(self) -> None:
        self.states: dict[tuple[int, int], list[RNNState]] = {}


class RecurrentLayer(nn.Module):
    """A stack of recurrent layers of one cell type; the base of `RNN`, `LSTM` and `GRU`.

    Args:
        cell: ``"lstm"``, ``"gru"``, ``"rnn_tanh"`` or ``"rnn_relu"``.
        input_size: E, features of each input step.
        hidden_size: H, features of the hidden state of each direction.
        num_layers: L, stacked layers; layer ``l > 0`` reads layer ``l - 1``'s outputs.
        bidirectional: adds a second direction reading each sequence from its own end.
        dropout: dropout on the outputs of every layer but the last (as in torch).
        bias: whether the cells have ``bias_ih`` and ``bias_hh``.
        backend: ``"auto"``, ``"loop"`` or ``"fused"`` (see the module docstring).

    Shape:
        x: (B, T, E). state: ``RNNState`` (or ``(h, c)`` / ``h``) with ``h: (L*D, B, H)``,
        or None for zeros. lengths: (B,) integers in ``[1, T]``, or None when every
        sequence has T steps.
        Returns ``outputs: (B, T, D*H)`` — zero past each sequence's length — and the final
        ``RNNState`` with ``h: (L*D, B, H)`` taken at each sequence's own last step.

    Note:
        For a bidirectional layer, ``h_n`` of the reverse direction is its state after reading
        the *first* token, so it is not ``outputs[:, -1]``; with padding it is not even
        ``outputs[b, lengths[b] - 1]`` for the forward half. Use the returned state.
    """

    def __init__(
        self,
        cell: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        bias: bool = True,
        backend: str = "auto",
    ) -> None:
        super().__init__()
        self.spec: CellSpec = get_cell_spec(cell)
        check_positive(input_size=input_size, hidden_size=hidden_size, num_layers=num_layers)
        if isinstance(dropout, bool) or not isinstance(dropout, int | float):
            raise ConfigError(f"dropout: expected a number in [0, 1], got {dropout!r}")
        if not 0.0 <= dropout <= 1.0:
            raise ConfigError(f"dropout: expected a number in [0, 1], got {dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout acts between stacked layers only; with num_layers=1 it has no effect",
                stacklevel=2,
            )
        self.cell = cell
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bool(bidirectional)
        self.num_directions = 2 if bidirectional else 1
        self.dropout = float(dropout)
        self.bias = bias
        self.backend = check_backend(backend)
        self.step_record: StepRecord | None = None
        gate_size = self.spec.num_gates * hidden_size
        self._flat_weights_names: list[str] = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * self.num_directions
            for direction in range(self.num_directions):
                suffix = parameter_suffix(layer, direction)
                shapes = {
                    "weight_ih": (gate_size, layer_input),
                    "weight_hh": (gate_size, hidden_size),
                }
                if bias:
                    shapes |= {"bias_ih": (gate_size,), "bias_hh": (gate_size,)}
                for name, shape in shapes.items():
                    self.register_parameter(name + suffix, nn.Parameter(torch.empty(shape)))
                    self._flat_weights_names.append(name + suffix)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's default initialisation: every parameter ~ U(-1/sqrt(H), 1/sqrt(H))."""
        reset_uniform_(self.parameters(), self.hidden_size)

    @property
    def flat_weights(self) -> list[Tensor]:
        """Parameters in the order torch's fused kernels expect (per layer, per direction)."""
        return [getattr(self, name) for name in self._flat_weights_names]

    def direction_weights(self, layer: int, direction: int) -> DirectionWeights:
        """``(weight_ih, weight_hh, bias_ih, bias_hh)`` of one layer and direction."""
        suffix = parameter_suffix(layer, direction)
        biases = (
            (getattr(self, "bias_ih" + suffix), getattr(self, "bias_hh" + suffix))
            if self.bias
            else (None, None)
        )
        return getattr(self, "weight_ih" + suffix), getattr(self, "weight_hh" + suffix), *biases

    def forward(
        self,
        x: Tensor,
        state: RNNState | tuple | Tensor | None = None,
        lengths: Tensor | list[int] | None = None,
    ) -> tuple[Tensor, RNNState]:
        batch, time = self._check_input(x)
        state = self._initial_state(x, state)
        if lengths is not None:
            lengths = check_lengths(lengths, batch, time)
            if bool((lengths == time).all()):
                lengths = None  # uniform lengths take the faster unmasked paths
        if self._resolved_backend() == "loop":
            return run_loop(self, x, state, lengths)
        from rnnkit.nn.fused import run_fused  # fused builds on this module

        return run_fused(self, x, state, lengths)

    def _resolved_backend(self) -> str:
        if self.step_record is not None:
            return "loop"
        return "fused" if self.backend == "auto" else self.backend

    def _check_input(self, x: Tensor) -> tuple[int, int]:
        if not isinstance(x, Tensor):
            raise ShapeError(f"input: expected a tensor, got {type(x).__name__}")
        if x.dim() != 3:
            raise ShapeError(
                f"input: expected 3 dimensions (batch, time, {self.input_size}), "
                f"got shape {tuple(x.shape)}"
            )
        if x.size(2) != self.input_size:
            raise ShapeError(
                f"input: expected input_size {self.input_size} features, got {x.size(2)} "
                f"(shape {tuple(x.shape)})"
            )
        if x.size(1) < 1:
            raise ShapeError(f"input: expected at least one time step, got shape {tuple(x.shape)}")
        return x.size(0), x.size(1)

    def _initial_state(self, x: Tensor, state: RNNState | tuple | Tensor | None) -> RNNState:
        expected = (self.num_layers * self.num_directions, x.size(0), self.hidden_size)
        if state is None:
            return zero_state(self.spec, expected, x)
        state = as_state(state, self.spec)
        for name, tensor in zip(("h", "c"), state, strict=False):
            if tensor is not None and tuple(tensor.shape) != expected:
                raise ShapeError(
                    f"state.{name}: expected shape {expected} (layers*directions, batch, "
                    f"hidden_size), got {tuple(tensor.shape)}"
                )
        return state

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
            f"bidirectional={self.bidirectional}, dropout={self.dropout}, bias={self.bias}, "
            f"backend={self.backend!r}"
        )


class RNN(RecurrentLayer):
    """Traditional (Elman) RNN layers, ``h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``.

    Takes ``nonlinearity="tanh" | "relu"``; otherwise as `RecurrentLayer`.
    """

    def __init__(
        self, input_size: int, hidden_size: int, *args, nonlinearity: str = "tanh", **kwargs
    ):
        super().__init__(rnn_cell_name(nonlinearity), input_size, hidden_size, *args, **kwargs)
        self.nonlinearity = nonlinearity


class LSTM(RecurrentLayer):
    """LSTM layers; see `RecurrentLayer` for arguments and shapes, `lstm_step` for equations."""

    def __init__(self, input_size: int, hidden_size: int, *args, **kwargs):
        super().__init__("lstm", input_size, hidden_size, *args, **kwargs)


class GRU(RecurrentLayer):
    """GRU layers; see `RecurrentLayer` for arguments and shapes, `gru_step` for equations."""

    def __init__(self, input_size: int, hidden_size: int, *args, **kwargs):
        super().__init__("gru", input_size, hidden_size, *args, **kwargs)


LAYERS: dict[str, type[RecurrentLayer]] = {"rnn": RNN, "lstm": LSTM, "gru": GRU}


def get_layer_class(name: str) -> type[RecurrentLayer]:
    """Looks up a layer class by name: ``"rnn"``, ``"lstm"`` or ``"gru"``."""
    try:
        return LAYERS[name]
    except KeyError:
        raise ConfigError(f"unknown cell {name!r}; expected one of {sorted(LAYERS)}") from None


def check_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise ConfigError(f"backend: expected one of {list(BACKENDS)}, got {backend!r}")
    return backend


def parameter_suffix(layer: int, direction: int) -> str:
    """torch's parameter suffix: ``_l0``, ``_l0_reverse``, ``_l1``, ..."""
    return f"_l{layer}" + ("_reverse" if direction == 1 else "")


@contextmanager
def record_steps(module: nn.Module) -> Iterator[dict[str, StepRecord]]:
    """Records every per-step state of every recurrent layer inside ``module``.

    While active, those layers run on the loop backend. Yields a dict from each layer's
    qualified name (``""`` for ``module`` itself) to its `StepRecord`, filled by the
    forward passes made inside the ``with`` block::

        with record_steps(model) as records:
            loss = criterion(model(tokens, lengths), labels)
        states = records["encoder.rnn"].states[(0, 0)]  # layer 0, forward direction
        grads = torch.autograd.grad(loss, [s.h for s in states])
    """
    layers = {
        name: layer for name, layer in module.named_modules() if isinstance(layer, RecurrentLayer)
    }
    records = {name: StepRecord() for name in layers}
    for name, layer in layers.items():
        layer.step_record = records[name]
    try:
        yield records
    finally:
        for layer in layers.values():
            layer.step_record = None


def run_loop(
    layer: RecurrentLayer, x: Tensor, state: RNNState, lengths: Tensor | None
) -> tuple[Tensor, RNNState]:
    """The loop backend: every layer and direction stepped through time by the cell equations."""
    time = x.size(1)
    mask = None if lengths is None else valid_mask(lengths, time, x.device)  # (B, T)
    reverse = None if lengths is None else reverse_index(lengths, time, x.device)
    step_masks = None if mask is None else mask.unsqueeze(-1).unbind(1)  # T x (B, 1)
    layer_input = x
    finals: list[RNNState] = []
    for index in range(layer.num_layers):
        outputs = []
        for direction in range(layer.num_directions):
            flat = index * layer.num_directions + direction
            sequence = layer_input
            if direction == 1:
                sequence = (
                    layer_input.flip(1)
                    if reverse is None
                    else reverse_within_lengths(layer_input, reverse)
                )
            record = None
            if layer.step_record is not None:
                record = layer.step_record.states.setdefault((index, direction), [])
            initial = state.map(lambda tensor, flat=flat: tensor[flat])
            output, final = run_direction(
                layer.spec,
                sequence,
                initial,
                layer.direction_weights(index, direction),
                step_masks,
                record,
            )
            if direction == 1:
                output = (
                    output.flip(1) if reverse is None else reverse_within_lengths(output, reverse)
                )
            outputs.append(output)
            finals.append(final)
        layer_input = outputs[0] if len(outputs) == 1 else torch.cat(outputs, dim=-1)
        if index < layer.num_layers - 1 and layer.dropout > 0:
            layer_input = F.dropout(layer_input, layer.dropout, layer.training)
    if mask is not None:
        layer_input = layer_input * mask.unsqueeze(-1).to(layer_input.dtype)
    return layer_input, stack_states(finals)


def run_direction(
    spec: CellSpec,
    sequence: Tensor,
    state: RNNState,
    weights: DirectionWeights,
    step_masks: tuple[Tensor, ...] | None,
    record: list[RNNState] | None,
) -> tuple[Tensor, RNNState]:
    """Steps one direction of one layer through ``sequence (B, T, E)``.

    The input projection ``W_ih x_t + b_ih`` of all T steps is one matrix product; each step
    then adds only ``W_hh h_{t-1}``. Where ``step_masks[t]`` is False the state is held, so
    the final state is each sequence's state at its own last step.
    Returns ``outputs (B, T, H)`` and the final state (h and c: ``(B, H)``).
    """
    weight_ih, weight_hh, bias_ih, bias_hh = weights
    projections = F.linear(sequence, weight_ih, bias_ih).unbind(1)  # T x (B, G*H)
    outputs = []
    for step, projection in enumerate(projections):
        new_state = spec.step(projection, state, weight_hh, bias_hh)
        if step_masks is not None:
            valid = step_masks[step]
            new_state = RNNState(
                torch.where(valid, new_state.h, state.h),
                None if state.c is None else torch.where(valid, new_state.c, state.c),
            )
        state = new_state
        outputs.append(state.h)
        if record is not None:
            record.append(state)
    return torch.stack(outputs, dim=1), state


def stack_states(states: list[RNNState]) -> RNNState:
    """Stacks per-(layer, direction) states ``(B, H)`` into torch's ``(L*D, B, H)`` layout."""
    h = torch.stack([state.h for state in states])
    c = None if states[0].c is None else torch.stack([state.c for state in states])
    return RNNState(h, c)
