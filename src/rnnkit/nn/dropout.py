"""Regularisers for recurrent networks: locked dropout, weight-drop, embedding dropout, zoneout.

Legend: B batch, T time, F features, V vocabulary, H hidden size, G gates.

Every function is the identity outside training (``training=False``) or at ``p == 0``, so a
model trained with them runs, exports and serves exactly like one trained without, except
zoneout, whose evaluation-time form is its expectation (see :func:`zoneout`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.nn.state import RNNState


def check_probability(name: str, value: float) -> float:
    """Returns ``value`` if it is a number in [0, 1); else a `ConfigError` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value < 1.0:
        raise ConfigError(f"{name}: expected a value in [0, 1), got {value!r}")
    return float(value)


def check_fraction(name: str, value: float) -> float:
    """Returns ``value`` if it is a number in [0, 1] (ends included: a label-smoothing ε or a
    teacher-forcing rate); else a `ConfigError` naming ``name``."""
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f"{name}: expected a number in [0, 1], got {value!r}")
    return float(value)


def check_probabilities(config: object, names: Iterable[str]) -> None:
    """`check_probability` on each field ``names`` of ``config``; errors name the field."""
    for name in names:
        check_probability(name, getattr(config, name))


@dataclass(frozen=True)
class Regularisation:
    """What a recurrent layer does besides torch's between-layer dropout; all off by default."""

    # One between-layer dropout mask per sequence, shared by all its time steps (Gal &
    # Ghahramani 2016) instead of a fresh mask per step.
    locked_dropout: bool = False
    weight_drop: float = 0.0  # DropConnect on every W_hh (Merity et al. 2017); keeps fused kernels
    zoneout: float = 0.0  # each unit keeps its previous value w.p. p (Krueger et al. 2017); loop

    def __post_init__(self) -> None:
        check_probability("weight_drop", self.weight_drop)
        check_probability("zoneout", self.zoneout)


def locked_dropout(x: Tensor, p: float, training: bool) -> Tensor:
    """Variational dropout (Gal & Ghahramani 2016): one mask per sequence for every step.

    Shape: ``x (B, T, F)`` → ``(B, T, F)``; the mask is ``(B, 1, F)``, kept entries scaled by
    ``1 / (1 - p)`` so the expectation is unchanged.
    """
    if x.dim() != 3:
        raise ShapeError(f"locked dropout: expected a (B, T, F) tensor, got shape {tuple(x.shape)}")
    if not training or p == 0:
        return x
    mask = x.new_empty(x.size(0), 1, x.size(2)).bernoulli_(1.0 - p) / (1.0 - p)  # (B, 1, F)
    return x * mask


class LockedDropout(nn.Module):
    """`locked_dropout` as a module: active in ``train()`` mode, the identity in ``eval()``.

    Shape: ``x (B, T, F)`` → ``(B, T, F)``.
    """

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = check_probability("p", p)

    def forward(self, x: Tensor) -> Tensor:
        return locked_dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


def sequence_dropout(p: float, locked: bool) -> nn.Module:
    """Dropout on ``(B, T, F)`` sequences: `LockedDropout` if ``locked``, else ``nn.Dropout``."""
    return LockedDropout(p) if locked else nn.Dropout(p)


def embedding_row_dropout(
    embedded: Tensor, tokens: Tensor, vocab_size: int, p: float, training: bool
) -> Tensor:
    """Embedding dropout of Merity et al. (2017): whole word types dropped for one forward.

    Each row of the ``(V, E)`` embedding matrix is dropped with probability ``p`` — every
    occurrence of that word in the batch reads zeros — and kept rows are scaled by
    ``1 / (1 - p)``. Computed on the looked-up rows, which equals dropping rows of the matrix
    but never copies it. The padding row stays zero (it is zero, and scaling keeps it so).

    Shape: ``embedded (B, T, E)``, ``tokens (B, T)`` → ``(B, T, E)``.
    """
    if not training or p == 0:
        return embedded
    keep = embedded.new_empty(vocab_size).bernoulli_(1.0 - p) / (1.0 - p)  # (V,)
    return embedded * keep[tokens].unsqueeze(-1)


def weight_drop(weight: Tensor, p: float, training: bool) -> Tensor:
    """DropConnect (Wan et al. 2013) on a weight matrix, as AWD-LSTM applies it to ``W_hh``.

    Returns a new tensor (the parameter is never modified): each entry zeroed with
    probability ``p``, kept ones scaled by ``1 / (1 - p)``. One call gives one mask, so a
    forward pass that drops once uses the same mask for the whole batch and every step; the
    result goes to the fused kernels like any weight, and gradients reach the parameter
    through the mask.

    Shape: ``weight (G*H, H)`` → ``(G*H, H)``.
    """
    return F.dropout(weight, p, training) if p > 0 else weight


def zoneout(previous: RNNState, new: RNNState, p: float, training: bool) -> RNNState:
    """Zoneout (Krueger et al. 2017) on ``h`` and, for an LSTM, ``c``.

    Training: each unit keeps its previous value with probability ``p`` (a fresh mask per step
    and unit); ``new = m * previous + (1 - m) * new``, ``m ~ Bernoulli(p)``. Evaluation: the
    expectation, ``p * previous + (1 - p) * new``.

    Shape: every tensor ``(B, H)``.
    """
    if p == 0:
        return new

    def mix(old: Tensor, fresh: Tensor) -> Tensor:
        if not training:
            return torch.lerp(fresh, old, p)
        keep = old.new_empty(old.shape).bernoulli_(p)
        return torch.lerp(fresh, old, keep)

    cell = None if new.c is None else mix(previous.c, new.c)
    return RNNState(mix(previous.h, new.h), cell)
