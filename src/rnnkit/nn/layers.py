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
- ``backend="auto"`` (default): fused, unless steps are being recorded or an option only the
  loop computes is on (zoneout, layer normalisation); :meth:`RecurrentLayer.loop_reason`
  says which.

Regularisers (``rnnkit.nn.dropout``): ``regularisation.locked_dropout`` makes the
between-layer dropout one mask per sequence (the stack then runs layer by layer, still on
the fused kernels); ``weight_drop`` hands the kernels a DropConnect-ed copy of every ``W_hh``;
``zoneout`` runs the loop.
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
from rnnkit.nn.dropout import Regularisation, locked_dropout, weight_drop
from rnnkit.nn.layer_norm import LayerNorms, get_layer_norm_step
from rnnkit.nn.masking import check_lengths
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
        regularisation: locked dropout, weight-drop and zoneout (`Regularisation`; all off).
        layer_norm: layer-normalised LSTM or GRU cells (``rnnkit.nn.layer_norm``; loop backend);
            adds ``layer_norm_l0.ih.weight``, ... to the parameters.

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
        regularisation: Regularisation | None = None,
        layer_norm: bool = False,
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
        self.regularisation = regularisation or Regularisation()
        self.layer_norm = bool(layer_norm)
        if self.layer_norm:
            get_layer_norm_step(cell)  # a ConfigError for a cell without one
        check_loop_only(self.backend, self.regularisation.zoneout, self.layer_norm)
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
                if self.layer_norm:
                    norms = LayerNorms(hidden_size, self.spec.num_gates, self.spec.has_cell_state)
                    self.add_module("layer_norm" + suffix, norms)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's default initialisation: every cell parameter ~ U(-1/sqrt(H), 1/sqrt(H));
        layer norms to gain 1, shift 0."""
        reset_uniform_(self.parameters(recurse=False), self.hidden_size)
        for module in self.modules():
            if isinstance(module, nn.LayerNorm):
                module.reset_parameters()

    @property
    def flat_weights(self) -> list[Tensor]:
        """Parameters in the order torch's fused kernels expect (per layer, per direction)."""
        return [getattr(self, name) for name in self._flat_weights_names]

    def forward_weights(self) -> dict[str, Tensor]:
        """The weights one forward pass uses, by parameter name, in `flat_weights` order.

        While training with ``weight_drop > 0``, every ``W_hh`` is a DropConnect-ed copy
        (Merity et al. 2017): one mask for the whole batch and every step of this pass.
        """
        weights = {name: getattr(self, name) for name in self._flat_weights_names}
        if self.training and self.regularisation.weight_drop > 0:
            for name in weights:
                if name.startswith("weight_hh"):
                    weights[name] = weight_drop(
                        weights[name], self.regularisation.weight_drop, training=True
                    )
        return weights

    def direction_weights(
        self, layer: int, direction: int, weights: dict[str, Tensor] | None = None
    ) -> DirectionWeights:
        """``(weight_ih, weight_hh, bias_ih, bias_hh)`` of one layer and direction, from
        ``weights`` (a `forward_weights` result) or else the parameters."""
        suffix = parameter_suffix(layer, direction)
        found = weights if weights is not None else dict(self.named_parameters(recurse=False))
        biases = (
            (found["bias_ih" + suffix], found["bias_hh" + suffix]) if self.bias else (None, None)
        )
        return found["weight_ih" + suffix], found["weight_hh" + suffix], *biases

    def direction_norms(self, layer: int, direction: int) -> LayerNorms:
        """The `LayerNorms` of one layer and direction (``layer_norm=True`` only)."""
        return getattr(self, "layer_norm" + parameter_suffix(layer, direction))

    def drop_between(self, outputs: Tensor) -> Tensor:
        """The dropout on a layer's outputs ``(B, T, D*H)`` before the next layer reads them:
        locked (one mask per sequence) with ``regularisation.locked_dropout``."""
        if self.regularisation.locked_dropout:
            return locked_dropout(outputs, self.dropout, self.training)
        return F.dropout(outputs, self.dropout, self.training)

    @property
    def locks_dropout_masks(self) -> bool:
        """Whether this forward needs locked masks between layers, which torch's stacked
        kernels cannot apply, so the fused backend then runs the stack layer by layer."""
        return (
            self.regularisation.locked_dropout
            and self.training
            and self.dropout > 0
            and self.num_layers > 1
        )

    def loop_reason(self) -> str | None:
        """The setting that makes this layer run the Python loop, as ``name=value``; None
        when it runs on torch's fused kernels."""
        if self.step_record is not None:
            return "record_steps"
        if self.backend == "loop":
            return "backend='loop'"
        if self.regularisation.zoneout > 0:
            return f"zoneout={self.regularisation.zoneout}"
        if self.layer_norm:
            return "layer_norm=True"
        return None

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
        weights = self.forward_weights()
        if self.loop_reason() is not None:
            from rnnkit.nn.loop import run_loop  # the loop builds on this module

            return run_loop(self, x, state, lengths, weights)
        from rnnkit.nn.fused import run_fused  # fused builds on this module

        return run_fused(self, x, state, lengths, weights)

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
            + ("" if self.regularisation == Regularisation() else f", {self.regularisation}")
            + (", layer_norm=True" if self.layer_norm else "")
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


def check_loop_only(backend: str, zoneout: float, layer_norm: bool) -> None:
    """Zoneout and layer normalisation exist on the loop backend only: a `ConfigError`
    naming both settings when ``backend="fused"`` asks for them."""
    if backend != "fused":
        return
    for name, value in (("zoneout", zoneout), ("layer_norm", layer_norm)):
        if value:
            raise ConfigError(
                f"backend='fused' and {name}={value!r}: {name} runs on the loop backend only; "
                "set backend to 'auto' or 'loop', or turn it off"
            )


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
