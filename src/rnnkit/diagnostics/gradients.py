"""Gradient flow through time: ``‖∂L/∂h_t‖`` for every step of every recurrent layer.

Legend: B batch, T time, H hidden size per direction, D directions, L layers.

Back-propagation through time multiplies the gradient by one Jacobian per step,
``∂h_t/∂h_{t-1}`` (``diag(tanh'(a_t)) W_hh`` for the tanh RNN), so ``‖∂L/∂h_t‖`` shrinks or
grows geometrically with the distance from the loss when those Jacobians' norms stay below
or above 1. This module measures it on any model: every recurrent layer runs on the loop
backend under :func:`rnnkit.nn.record_steps` (the fused backend's weights are the same
parameters), and one ``torch.autograd.grad`` call returns the total derivative of the loss
with respect to every recorded ``h_t`` (and the LSTM's ``c_t``). It works in eval mode too.

Steps are in *processing order* for each direction: step ``k`` of the reverse direction is its
state after reading ``k + 1`` tokens from the sequence's end. With ``align="end"`` (the
default) the per-sample norms of a variable-length batch are right-aligned, so index
``T - 1`` is each sequence's last processed step and index ``T - 1 - d`` lies ``d`` steps
before it (the distance from a loss on the final state); ``align="start"`` keeps index ``k``
as step ``k``. Norms are averaged over the samples valid at each index (``counts``); an index
no sample reaches is NaN.

The verdict compares the norm at the latest step with the one ``distance`` steps before it:
the farthest step by default (one loss at the end, N→1, must reach the whole sequence), or at
most ``horizon`` steps back. The bounded distance is for models with a loss at every step
(N→N, 1→N, N→M): there a step is trained by the losses near it, and a trained model that has
learned to forget what lies far back decays over a long sentence however well its gradient
propagates over the context it uses.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor, nn

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.nn.layers import RecurrentLayer, record_steps
from rnnkit.nn.masking import check_lengths
from rnnkit.nn.state import RNNState

ALIGNMENTS = ("end", "start")
VERDICTS = ("healthy", "vanishing", "exploding")  # in increasing order of severity


@dataclass(frozen=True)
class Thresholds:
    """Bounds on ``ratio = norm(earliest compared step) / norm(latest step)`` for the verdict."""

    vanishing_below: float = 1e-3  # the earliest step gets < 0.1 % of the latest's gradient
    exploding_above: float = 1e3  # ... or > 1000 times it

    def __post_init__(self) -> None:
        if not 0 < self.vanishing_below < self.exploding_above:
            raise ConfigError(
                "thresholds: expected 0 < vanishing_below < exploding_above, got "
                f"{self.vanishing_below!r} and {self.exploding_above!r}"
            )

    def verdict(self, ratio: float) -> str:
        if not math.isfinite(ratio) or ratio > self.exploding_above:
            return "exploding"
        return "vanishing" if ratio < self.vanishing_below else "healthy"


@dataclass(frozen=True)
class DirectionFlow:
    """Gradient norms of one direction of one layer of one recurrent module.

    Arrays have shape ``(T,)``, indexed as described in the module docstring.
    """

    module: str  # qualified name of the recurrent module inside the model ("" for itself)
    layer: int
    direction: int  # 0 forward, 1 reverse
    h_norms: np.ndarray  # mean over valid samples of ‖∂L/∂h_t‖
    c_norms: np.ndarray | None  # the same for the LSTM's c_t, else None
    counts: np.ndarray  # samples valid at each index
    ratio: float  # h_norms at the earliest compared index / at the latest one
    distance: int  # steps between the two compared indices (at most the horizon, if any)
    verdict: str  # "healthy", "vanishing" or "exploding"
    nonfinite_grad_step: int | None  # latest step (first reached by backprop) with a NaN/inf ∂L/∂h
    nonfinite_state_step: int | None  # earliest step whose forward state is NaN/inf

    @property
    def name(self) -> str:
        """``module/l0`` or ``module/l0_reverse``, e.g. ``encoder.rnn/l1_reverse``."""
        return f"{self.module or 'model'}/l{self.layer}" + ("_reverse" if self.direction else "")

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "module": self.module,
            "layer": self.layer,
            "direction": self.direction,
            "ratio": finite_or_none(self.ratio),
            "distance": self.distance,
            "verdict": self.verdict,
            "nonfinite_grad_step": self.nonfinite_grad_step,
            "nonfinite_state_step": self.nonfinite_state_step,
            "h_norms": [finite_or_none(value) for value in self.h_norms.tolist()],
            "c_norms": None
            if self.c_norms is None
            else [finite_or_none(value) for value in self.c_norms.tolist()],
            "counts": self.counts.tolist(),
        }


@dataclass(frozen=True)
class GradientFlow:
    """Everything :func:`gradient_flow` measured on one batch."""

    loss: float
    align: str
    thresholds: Thresholds
    directions: list[DirectionFlow]
    parameter_norms: dict[str, float] = field(default_factory=dict)  # ‖∂L/∂p‖ per parameter
    horizon: int | None = None  # the most steps a ratio spans (None: the whole sequence)

    @property
    def deciding(self) -> DirectionFlow:
        """The layer and direction that gives the verdict: the most severe verdict, and among
        equally severe ones the ratio farthest from 1 (in log scale)."""
        return max(self.directions, key=lambda flow: (VERDICTS.index(flow.verdict), distance(flow)))

    @property
    def verdict(self) -> str:
        """The most severe verdict of any layer and direction."""
        return self.deciding.verdict

    @property
    def global_norm(self) -> float:
        """The norm of all parameter gradients together (what clipping looks at)."""
        return math.sqrt(sum(norm * norm for norm in self.parameter_norms.values()))

    def to_dict(self) -> dict:
        return {
            "loss": finite_or_none(self.loss),
            "verdict": self.verdict,
            "deciding": self.deciding.name,
            "ratio": finite_or_none(self.deciding.ratio),
            "distance": self.deciding.distance,
            "horizon": self.horizon,
            "align": self.align,
            "thresholds": {
                "vanishing_below": self.thresholds.vanishing_below,
                "exploding_above": self.thresholds.exploding_above,
            },
            "global_norm": finite_or_none(self.global_norm),
            "parameter_norms": {k: finite_or_none(v) for k, v in self.parameter_norms.items()},
            "directions": [flow.to_dict() for flow in self.directions],
        }

    def to_json(self) -> str:
        """Strict JSON (non-finite numbers become ``null``)."""
        return json.dumps(self.to_dict(), indent=2, allow_nan=False)


def gradient_flow(
    model: nn.Module,
    loss_fn: Callable[[nn.Module], Tensor],
    lengths: Tensor | list[int] | Mapping[str, Tensor] | None = None,
    align: str = "end",
    thresholds: Thresholds | None = None,
    horizon: int | None = None,
) -> GradientFlow:
    """Measures ``‖∂L/∂h_t‖`` for every step of every recurrent layer inside ``model``.

    Args:
        model: any module containing ``rnnkit.nn`` layers, in train or eval mode. It is not
            changed and no ``.grad`` is written.
        loss_fn: runs the model on one batch and returns the scalar loss, e.g.
            ``lambda m: F.cross_entropy(m(tokens, lengths), labels, reduction="sum")``.
            A sum over the batch keeps per-sample gradients independent of B.
        lengths: ``(B,)`` true lengths of the batch the layers saw, or None if all are T.
            Layers that ran on another batch (a tagger's character encoder reads every word
            as one sequence) are left out: their lengths are not these. Or a mapping from
            recurrent modules' qualified names to their own ``(B,)`` lengths (a seq2seq
            model's encoder and decoder): only those modules are measured.
        align: ``"end"`` or ``"start"`` (see the module docstring).
        thresholds: bounds for the verdicts (default `Thresholds()`).
        horizon: compare the latest step with the one at most this many steps before it
            (a model with a loss at every step, see the module docstring); None: with the
            farthest step. Needs ``align="end"``.
    """
    if align not in ALIGNMENTS:
        raise ConfigError(f"align: expected one of {list(ALIGNMENTS)}, got {align!r}")
    if horizon is not None and (horizon < 1 or align != "end"):
        raise ConfigError(
            f"horizon: expected a positive number of steps with align='end', got {horizon!r} "
            f"with align={align!r}"
        )
    thresholds = thresholds or Thresholds()
    trainable = {name: p for name, p in model.named_parameters() if p.requires_grad}
    with torch.enable_grad(), record_steps(model) as records:
        loss = loss_fn(model)
    if not isinstance(loss, Tensor) or loss.numel() != 1:
        raise ShapeError(f"loss_fn: expected a scalar tensor, got {describe(loss)}")
    if not loss.requires_grad:
        raise ConfigError("loss_fn: the loss does not depend on anything that requires grad")
    recorded = [
        (name, key, states)
        for name, record in records.items()
        for key, states in sorted(record.states.items())
        if measured(name, states, lengths)
    ]
    if not recorded:
        raise ConfigError("gradient_flow: loss_fn ran no rnnkit.nn recurrent layer of the model")
    targets = [tensor for _, _, states in recorded for tensor in state_tensors(states)]
    grads = torch.autograd.grad(loss, targets + list(trainable.values()), allow_unused=True)
    state_grads = iter(
        torch.zeros_like(tensor) if grad is None else grad
        for tensor, grad in zip(targets, grads, strict=False)
    )
    directions = []
    for name, key, states in recorded:
        grads_h = [next(state_grads) for _ in states]
        grads_c = [next(state_grads) for _ in states] if states[0].c is not None else None
        own = lengths.get(name) if isinstance(lengths, Mapping) else lengths
        directions.append(
            direction_flow(name, key, states, grads_h, grads_c, own, align, thresholds, horizon)
        )
    parameter_grads = grads[len(targets) :]
    parameter_norms = {
        name: 0.0 if grad is None else float(torch.linalg.vector_norm(grad))
        for name, grad in zip(trainable, parameter_grads, strict=True)
    }
    return GradientFlow(
        float(loss.detach()), align, thresholds, directions, parameter_norms, horizon
    )


def measured(
    name: str, states: list[RNNState], lengths: Tensor | list[int] | Mapping[str, Tensor] | None
) -> bool:
    """Whether the recorded module ``name`` is measured with these ``lengths``."""
    if isinstance(lengths, Mapping):
        return name in lengths
    return lengths is None or states[0].h.size(0) == len(lengths)


def layer_gradient_flow(
    layer: RecurrentLayer,
    x: Tensor,
    lengths: Tensor | list[int] | None = None,
    align: str = "end",
    thresholds: Thresholds | None = None,
    horizon: int | None = None,
) -> GradientFlow:
    """Gradient flow of a bare layer for ``L = sum of the last layer's final h``.

    Shape: x: (B, T, E); lengths: (B,) or None. The loss sums over the batch, the directions
    and H, so ``∂L/∂h_n`` is all ones for every sample: what reaches step t is the product
    of Jacobians alone.
    """
    directions = layer.num_directions

    def loss_fn(module: nn.Module) -> Tensor:
        _, state = module(x, lengths=lengths)
        return state.h[-directions:].sum()

    return gradient_flow(layer, loss_fn, lengths, align, thresholds, horizon)


def state_tensors(states: list[RNNState]) -> list[Tensor]:
    """All ``h_t`` of one direction, then all its ``c_t`` (LSTM only)."""
    tensors = [state.h for state in states]
    if states[0].c is not None:
        tensors += [state.c for state in states]
    return tensors


def direction_flow(
    module: str,
    key: tuple[int, int],
    states: list[RNNState],
    grads_h: list[Tensor],
    grads_c: list[Tensor] | None,
    lengths: Tensor | list[int] | None,
    align: str,
    thresholds: Thresholds,
    horizon: int | None,
) -> DirectionFlow:
    """Per-sample norms of one direction's gradients, averaged; the verdict."""
    h_grads = torch.stack(grads_h, dim=1)  # (B, T, H)
    batch, time = h_grads.shape[:2]
    lengths = torch.full((batch,), time) if lengths is None else check_lengths(lengths, batch, time)
    valid = torch.arange(time).unsqueeze(0) < lengths.unsqueeze(1)  # (B, T), processing order
    index, aligned_valid = aligned_index(lengths, time, align)
    h_norms, counts = mean_norms(h_grads, index, aligned_valid)
    c_norms = None
    if grads_c is not None:
        c_norms, _ = mean_norms(torch.stack(grads_c, dim=1), index, aligned_valid)
    nonfinite_grad = last_step(nonfinite_steps(h_grads, valid))
    nonfinite_state = first_step(nonfinite_steps(torch.stack([s.h for s in states], 1), valid))
    ratio, span = compared_ratio(h_norms, horizon)
    exploding = nonfinite_grad is not None or nonfinite_state is not None
    return DirectionFlow(
        module=module,
        layer=key[0],
        direction=key[1],
        h_norms=h_norms,
        c_norms=c_norms,
        counts=counts,
        ratio=ratio,
        distance=span,
        verdict="exploding" if exploding else thresholds.verdict(ratio),
        nonfinite_grad_step=nonfinite_grad,
        nonfinite_state_step=nonfinite_state,
    )


def aligned_index(lengths: Tensor, time: int, align: str) -> tuple[Tensor, Tensor]:
    """``index (B, T)`` into processing steps for each aligned position, and its validity."""
    positions = torch.arange(time).unsqueeze(0)  # (1, T)
    shift = (time - lengths).unsqueeze(1) if align == "end" else torch.zeros_like(lengths)[:, None]
    index = positions - shift  # (B, T); negative where no step of sample b lands
    return index.clamp(min=0), (index >= 0) & (index < lengths.unsqueeze(1))


def mean_norms(grads: Tensor, index: Tensor, valid: Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Mean over valid samples of ``‖grads[b, index[b, j]]‖`` for each j; and the counts.

    Shape: grads (B, T, H), index and valid (B, T); returns two arrays (T,).
    """
    norms = torch.linalg.vector_norm(grads.detach().double(), dim=-1).gather(1, index)  # (B, T)
    counts = valid.sum(0)
    sums = torch.where(valid, norms, torch.zeros_like(norms)).sum(0)
    means = torch.where(counts > 0, sums / counts.clamp(min=1), torch.full_like(sums, math.nan))
    return means.numpy(), counts.numpy()


def nonfinite_steps(tensors: Tensor, valid: Tensor) -> Tensor:
    """``(T,)`` bool: some valid sample holds a NaN or infinity at that step of (B, T, H)."""
    return ((~torch.isfinite(tensors.detach())).any(-1) & valid).any(0)


def first_step(flags: Tensor) -> int | None:
    found = flags.nonzero()
    return int(found[0]) if len(found) else None


def last_step(flags: Tensor) -> int | None:
    found = flags.nonzero()
    return int(found[-1]) if len(found) else None


def compared_ratio(norms: np.ndarray, horizon: int | None = None) -> tuple[float, int]:
    """``norms[earliest] / norms[latest]`` over the reached indices (NaN marks unreached ones),
    with ``earliest`` the first reached index, or at most ``horizon`` before ``latest``; and
    the distance between the two.

    A latest norm of 0 gives 0 when the earliest is 0 too (no gradient at all), else infinity.
    """
    reached = np.flatnonzero(~np.isnan(norms))
    last = int(reached[-1])
    first = int(reached[0]) if horizon is None else max(int(reached[0]), last - horizon)
    earliest, latest = float(norms[first]), float(norms[last])
    if latest == 0.0:
        return (0.0 if earliest == 0.0 else math.inf), last - first
    return earliest / latest, last - first


def distance(flow: DirectionFlow) -> float:
    """``|log ratio|``: how far a direction's ratio is from 1 (infinite when not finite)."""
    if not math.isfinite(flow.ratio) or flow.ratio <= 0:
        return math.inf
    return abs(math.log(flow.ratio))


def finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def describe(value: object) -> str:
    if isinstance(value, Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    return f"{type(value).__name__} {value!r}"
