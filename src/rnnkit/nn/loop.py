"""The loop backend: every layer and direction stepped through time in Python.

Legend: B batch, T time, E input features, H hidden size, G gates.

Each direction first projects all T inputs with one matrix product, then steps the cell
equations of ``rnnkit.nn.cells`` (or ``rnnkit.nn.layer_norm``), with zoneout
(``rnnkit.nn.dropout``) on each new state when the layer asks for it.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnkit.nn.dropout import zoneout
from rnnkit.nn.layer_norm import get_layer_norm_step, layer_norm_projection
from rnnkit.nn.masking import reverse_index, reverse_within_lengths, valid_mask
from rnnkit.nn.state import RNNState, stack_states

# ``layer`` is the `rnnkit.nn.layers.RecurrentLayer` being run, typed as a Module: layers.py
# dispatches to this module, which therefore must not import layers.py back.

Project = Callable[[Tensor], Tensor]  # (B, T, E) -> (B, T, G*H)
Step = Callable[[Tensor, RNNState], RNNState]  # projection (B, G*H), state (B, H) -> state


# The same signature as `run_fused` (nn/fused.py) by design: the two backends of a layer are
# interchangeable, chosen per call.
def run_loop(
    layer: torch.nn.Module,
    x: Tensor,
    state: RNNState,
    lengths: Tensor | None,
    weights: dict[str, Tensor],
) -> tuple[Tensor, RNNState]:
    """Runs ``layer`` on ``x (B, T, E)`` with ``weights`` (its `forward_weights`)."""
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
            project, step = direction_functions(layer, index, direction, weights)
            output, final = run_direction(project, step, sequence, initial, step_masks, record)
            if direction == 1:
                output = (
                    output.flip(1) if reverse is None else reverse_within_lengths(output, reverse)
                )
            outputs.append(output)
            finals.append(final)
        layer_input = outputs[0] if len(outputs) == 1 else torch.cat(outputs, dim=-1)
        if index < layer.num_layers - 1 and layer.dropout > 0:
            layer_input = layer.drop_between(layer_input)
    if mask is not None:
        layer_input = layer_input * mask.unsqueeze(-1).to(layer_input.dtype)
    return layer_input, stack_states(finals)


def direction_functions(
    layer: torch.nn.Module, index: int, direction: int, weights: dict[str, Tensor]
) -> tuple[Project, Step]:
    """The input projection and the step of one layer and direction: the cell's equations,
    layer-normalised if ``layer.layer_norm``, then zoneout if ``regularisation.zoneout``."""
    weight_ih, weight_hh, bias_ih, bias_hh = layer.direction_weights(index, direction, weights)
    if layer.layer_norm:
        norms = layer.direction_norms(index, direction)
        layer_norm_step = get_layer_norm_step(layer.cell)

        def project(sequence: Tensor) -> Tensor:
            return layer_norm_projection(sequence, weight_ih, bias_ih, norms.ih)

        def cell_step(projection: Tensor, state: RNNState) -> RNNState:
            return layer_norm_step(projection, state, weight_hh, bias_hh, norms)

    else:

        def project(sequence: Tensor) -> Tensor:
            return F.linear(sequence, weight_ih, bias_ih)

        def cell_step(projection: Tensor, state: RNNState) -> RNNState:
            return layer.spec.step(projection, state, weight_hh, bias_hh)

    probability = layer.regularisation.zoneout
    if probability == 0:
        return project, cell_step

    def zoned_step(projection: Tensor, state: RNNState) -> RNNState:
        return zoneout(state, cell_step(projection, state), probability, layer.training)

    return project, zoned_step


def run_direction(
    project: Project,
    step: Step,
    sequence: Tensor,
    state: RNNState,
    step_masks: tuple[Tensor, ...] | None,
    record: list[RNNState] | None,
) -> tuple[Tensor, RNNState]:
    """Steps one direction of one layer through ``sequence (B, T, E)``.

    The input projection of all T steps is one call of ``project`` (one matrix product);
    each ``step`` then adds only the recurrent part. Where ``step_masks[t]`` is False the
    state is held, so the final state is each sequence's state at its own last step.
    Returns ``outputs (B, T, H)`` and the final state (h and c: ``(B, H)``).
    """
    projections = project(sequence).unbind(1)  # T x (B, G*H)
    outputs = []
    for index, projection in enumerate(projections):
        new_state = step(projection, state)
        if step_masks is not None:
            valid = step_masks[index]
            new_state = RNNState(
                torch.where(valid, new_state.h, state.h),
                None if state.c is None else torch.where(valid, new_state.c, state.c),
            )
        state = new_state
        outputs.append(state.h)
        if record is not None:
            record.append(state)
    return torch.stack(outputs, dim=1), state
