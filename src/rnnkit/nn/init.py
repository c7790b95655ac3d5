"""Initialisation options for recurrent weights, applied in place to any ``rnnkit.nn`` module.

Legend: H hidden size, G gates per cell (1 RNN, 4 LSTM, 3 GRU).

torch's default (every parameter ~ U(-1/sqrt(H), 1/sqrt(H))) stays the default; these are
opt-in, each changing how gradients flow through time (see ``docs/gradients.md``):

- ``orthogonal``: every ``(H, H)`` gate block of ``W_hh`` orthogonal (Saxe et al. 2014), so
  ``W_hh`` alone neither shrinks nor stretches ``h``: spectral radius exactly 1.
- ``irnn``: ``W_hh = I`` and all biases 0, for the ReLU RNN (Le, Jaitly & Hinton 2015).
- ``forget-bias-1``: the LSTM forget gate's total bias ``b_if + b_hf`` is 1 (Gers et al.
  2000; Jozefowicz et al. 2015), so an untrained cell keeps ``sigmoid(1) ≈ 0.73`` of ``c``.
  The whole 1 is put in ``bias_ih`` and the forget block of ``bias_hh`` is set to 0.
- ``default``: torch's initialisation again.

Names join with ``+`` (``"orthogonal+forget-bias-1"``), applied left to right. Each applies
to every cell and layer inside the module (the module itself included) and raises a
`ConfigError` if one of them is a cell type it does not fit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from rnnkit.errors import ConfigError
from rnnkit.nn.cells import CellSpec, RecurrentCell
from rnnkit.nn.layers import RecurrentLayer, parameter_suffix

Initializer = Callable[[nn.Module], nn.Module]

FORGET_GATE = 1  # index of the forget gate in torch's LSTM gate order i, f, g, o


@dataclass(frozen=True)
class RecurrentWeights:
    """The recurrent parameters of one cell, or of one layer and direction of a layer."""

    name: str  # qualified name of the owning module, plus the parameter suffix (``rnn_l0``)
    spec: CellSpec
    hidden_size: int
    weight_ih: Tensor  # (G*H, E)
    weight_hh: Tensor  # (G*H, H)
    bias_ih: Tensor | None  # (G*H,)
    bias_hh: Tensor | None  # (G*H,)


def recurrent_modules(module: nn.Module) -> list[tuple[str, RecurrentLayer | RecurrentCell]]:
    """``(qualified name, module)`` of every cell and layer inside ``module``, itself included.

    Raises a `ConfigError` when there is none.
    """
    found = [
        (name, child)
        for name, child in module.named_modules()
        if isinstance(child, RecurrentLayer | RecurrentCell)
    ]
    if not found:
        raise ConfigError(
            f"initialisation: {type(module).__name__} contains no rnnkit.nn cell or layer"
        )
    return found


def recurrent_weights(module: nn.Module) -> Iterator[RecurrentWeights]:
    """Every cell, and every layer and direction of every layer, inside ``module``."""
    for name, child in recurrent_modules(module):
        if isinstance(child, RecurrentCell):
            yield RecurrentWeights(
                name or "cell",
                child.spec,
                child.hidden_size,
                child.weight_ih,
                child.weight_hh,
                child.bias_ih,
                child.bias_hh,
            )
            continue
        for layer in range(child.num_layers):
            for direction in range(child.num_directions):
                weights = child.direction_weights(layer, direction)
                suffix = parameter_suffix(layer, direction)
                yield RecurrentWeights(name + suffix, child.spec, child.hidden_size, *weights)


def init_default_(module: nn.Module) -> nn.Module:
    """torch's default initialisation of every recurrent cell and layer inside ``module``."""
    for _, child in recurrent_modules(module):
        child.reset_parameters()
    return module


@torch.no_grad()
def init_orthogonal_(module: nn.Module) -> nn.Module:
    """Makes each ``(H, H)`` gate block of every ``W_hh`` an orthogonal matrix."""
    for weights in recurrent_weights(module):
        for block in weights.weight_hh.split(weights.hidden_size, dim=0):  # G x (H, H)
            nn.init.orthogonal_(block)
    return module


@torch.no_grad()
def init_identity_(module: nn.Module) -> nn.Module:
    """IRNN (Le et al. 2015): ``W_hh = I`` and zero biases; ``W_ih`` keeps its values.

    For traditional RNN cells only (the ReLU one is the IRNN; tanh is allowed as well);
    an LSTM or GRU raises a `ConfigError`.
    """
    for weights in recurrent_weights(module):
        if weights.spec.num_gates != 1:
            raise ConfigError(
                f"init 'irnn': expected an RNN cell (rnn_relu or rnn_tanh), "
                f"got {weights.spec.mode} in {weights.name!r}"
            )
        nn.init.eye_(weights.weight_hh)
        for bias in (weights.bias_ih, weights.bias_hh):
            if bias is not None:
                bias.zero_()
    return module


@torch.no_grad()
def init_forget_bias_(module: nn.Module, value: float = 1.0) -> nn.Module:
    """Sets every LSTM forget gate's total bias to ``value``: all of it in ``bias_ih``.

    ``bias_ih[H:2H] = value`` and ``bias_hh[H:2H] = 0`` (rows of the gate f in the order
    i, f, g, o). Raises a `ConfigError` for a non-LSTM cell or a cell without biases.
    """
    for weights in recurrent_weights(module):
        if weights.spec.mode != "LSTM" or weights.bias_ih is None:
            kind = weights.spec.mode if weights.bias_ih is not None else "bias-free LSTM"
            raise ConfigError(
                f"init 'forget-bias-1': expected an LSTM with biases, got {kind} "
                f"in {weights.name!r}"
            )
        rows = slice(FORGET_GATE * weights.hidden_size, (FORGET_GATE + 1) * weights.hidden_size)
        weights.bias_ih[rows] = value
        weights.bias_hh[rows] = 0.0
    return module


INITIALIZERS: dict[str, Initializer] = {
    "default": init_default_,
    "orthogonal": init_orthogonal_,
    "irnn": init_identity_,
    "forget-bias-1": init_forget_bias_,
}


def get_initializer(name: str) -> Initializer:
    """The initialiser called ``name``; ``"a+b"`` applies ``a`` then ``b``.

    Returns a function that initialises a module in place and returns it.
    """
    if not isinstance(name, str) or not name:
        raise ConfigError(f"init: expected one of {sorted(INITIALIZERS)}, got {name!r}")
    parts = name.split("+")
    unknown = [part for part in parts if part not in INITIALIZERS]
    if unknown:
        raise ConfigError(
            f"init: unknown initialiser {unknown[0]!r} in {name!r}; "
            f"expected one of {sorted(INITIALIZERS)} (joined with '+')"
        )
    if len(parts) == 1:
        return INITIALIZERS[name]

    def apply_all(module: nn.Module) -> nn.Module:
        for part in parts:
            INITIALIZERS[part](module)
        return module

    return apply_all
