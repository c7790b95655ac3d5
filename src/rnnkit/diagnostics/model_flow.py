"""Gradient-flow adapters: for each model kind, which loss to differentiate, and with respect to
which recurrent states (``rnnkit diagnose gradients DIR`` and the trainer's gradient monitor).

Legend: B batch, T time, S source length, K tags, C classes, V vocabulary.

Where one loss sits at the end (N→1, the classifier), ``‖∂L/∂h_t‖`` against the distance from
it is the propagation through time itself. Where every step has its own loss (N→N, 1→N, N→M),
the gradient of the *summed* loss at step t adds one term per loss downstream of t, so the
earliest/latest ratio counts losses rather than measuring propagation: an early decoder step of a
healthy translator collects many terms, and the ratio says "exploding". These adapters therefore
differentiate the loss at *one* step of each sequence, ``‖∂L_p/∂h_t‖`` (Pascanu et al. 2013,
§2): the last step for the forward directions and the first step for the reverse ones, so that
the loss sits at the latest step each direction processes and every earlier step reaches it
through the recurrence alone. Their verdict compares the norms over a bounded distance,
`PER_STEP_HORIZON` steps: each step has losses near it, so what matters is whether the
gradient crosses the context a per-step loss uses, not the whole sentence (a healthy tagger
that has learned to forget decays about 0.6 per step, 3e-8 over 35 tokens).

Each adapter is ``adapter(model, batch) -> GradientFlow`` on the batch type the model trains on
(the forward pass through the model contract's ``model.inputs(batch)``);
`get_flow_adapter` picks one by model class (`FLOW_ADAPTERS`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.diagnostics.gradients import GradientFlow, gradient_flow
from rnnkit.models import (
    JointIntentSlot,
    LanguageModel,
    Seq2Seq,
    SequenceClassifier,
    SequenceTagger,
)

FlowAdapter = Callable[[nn.Module, Any], GradientFlow]

# Steps over which the verdict of a model with a loss at every step is taken. With the default
# thresholds (1e-3, 1e3) the gradient must keep on average more than a quarter of its norm per
# step (0.25^5 ≈ 1e-3) and must not quadruple per step, over the context of a per-step loss
# (the few words around a token that decide its tag) rather than the whole sentence. Trained,
# healthy taggers forget fast: 0.44 to 0.6 per step on a local synthetic task and on ATIS.
PER_STEP_HORIZON = 5
StepLoss = Callable[[nn.Module, Tensor], Tensor]  # (model, positions (B,)) -> scalar loss


def classifier_flow(model: SequenceClassifier, batch: Any) -> GradientFlow:
    """N→1: the summed cross-entropy of a `TextBatch` (``ids``, ``lengths``, ``labels``, and the
    characters of each word when the model has character features); the
    loss sits after the last step, so every step's norm is its propagated gradient."""

    def loss_fn(module: nn.Module) -> Tensor:
        return F.cross_entropy(module(*module.inputs(batch)), batch.labels, reduction="sum")

    return gradient_flow(model, loss_fn, {"encoder.rnn": batch.lengths})


def tagger_flow(model: SequenceTagger, batch: Any) -> GradientFlow:
    """N→N: the cross-entropy of the emissions at one token of each sentence of a `TaggedBatch`
    against its gold tag (with a CRF too: the per-token emission scores are what the encoder's
    states feed), at the last token for forward directions and the first for reverse ones."""

    def step_loss(module: nn.Module, positions: Tensor) -> Tensor:
        emissions = module(*module.inputs(batch))
        return token_loss(emissions, batch.tags, positions)

    return one_step_flow(model, step_loss, batch.lengths)


def joint_flow(model: JointIntentSlot, batch: Any) -> GradientFlow:
    """N→1 + N→N: the summed intent cross-entropy plus the slot loss at one token of each
    sentence (as `tagger_flow`); the intent loss reads the latest step of each direction."""

    def step_loss(module: nn.Module, positions: Tensor) -> Tensor:
        intent_logits, emissions = module(*module.inputs(batch))
        intent = F.cross_entropy(intent_logits, batch.intents, reduction="sum")
        return intent + token_loss(emissions, batch.tags, positions)

    return one_step_flow(model, step_loss, batch.lengths)


def language_model_flow(model: LanguageModel, batch: Any) -> GradientFlow:
    """1→N: the next-token cross-entropy at the last predicted step of each sequence of an
    ``LMBatch`` (``inputs``, ``targets`` padded with the pad id, ``conditions``)."""
    pad_id = model.config.pad_id
    lengths = (batch.targets != pad_id).sum(dim=1).clamp(min=1)  # (B,)

    def loss_fn(module: nn.Module) -> Tensor:
        logits, _ = module(batch.inputs, batch.conditions, lengths=lengths)
        return token_loss(logits, batch.targets, lengths - 1)

    return gradient_flow(model, loss_fn, {"rnn": lengths}, horizon=PER_STEP_HORIZON)


def seq2seq_flow(model: Seq2Seq, batch: Any) -> GradientFlow:
    """N→M: the cross-entropy at the last target token of each pair of a `ParallelBatch`,
    differentiated with respect to the decoder's states (propagation through the decoder) and
    the encoder's (reached through attention and the bridge)."""
    target_out = batch.target[:, 1:]  # what the decoder predicts from target[:, :-1]
    target_lengths = (batch.target_lengths - 1).clamp(min=1)  # (B,) steps of target_out

    def loss_fn(module: nn.Module) -> Tensor:
        logits = module(*module.inputs(batch))  # (B, T, V)
        return token_loss(logits, target_out, target_lengths - 1)

    lengths = {"encoder.rnn": batch.source_lengths, "decoder.rnn": target_lengths}
    return gradient_flow(model, loss_fn, lengths, horizon=PER_STEP_HORIZON)


def one_step_flow(model: nn.Module, step_loss: StepLoss, lengths: Tensor) -> GradientFlow:
    """Forward directions measured for the loss at each sentence's last token, reverse ones for
    the loss at its first token (two backward passes when the encoder is bidirectional).

    The loss and the parameter norms reported are those of the last-token loss.
    """
    measured = {"encoder.rnn": lengths}

    def flow_at(positions: Tensor) -> GradientFlow:
        return gradient_flow(
            model, lambda module: step_loss(module, positions), measured, horizon=PER_STEP_HORIZON
        )

    last = flow_at(lengths - 1)
    if all(direction.direction == 0 for direction in last.directions):
        return last
    first = flow_at(torch.zeros_like(lengths))
    directions = [
        forward if forward.direction == 0 else reverse
        for forward, reverse in zip(last.directions, first.directions, strict=True)
    ]
    return dataclasses.replace(last, directions=directions)


def token_loss(scores: Tensor, gold: Tensor, positions: Tensor) -> Tensor:
    """Summed cross-entropy of ``scores (B, T, K)`` at ``positions (B,)`` against the gold ids
    ``gold (B, T)``."""
    rows = torch.arange(scores.size(0), device=scores.device)
    positions = positions.to(scores.device)
    return F.cross_entropy(scores[rows, positions], gold[rows, positions], reduction="sum")


# One adapter per model class (the Task registry points to these as well).
FLOW_ADAPTERS: dict[type, FlowAdapter] = {
    SequenceClassifier: classifier_flow,
    SequenceTagger: tagger_flow,
    JointIntentSlot: joint_flow,
    LanguageModel: language_model_flow,
    Seq2Seq: seq2seq_flow,
}


def get_flow_adapter(model: nn.Module) -> FlowAdapter | None:
    """The adapter of ``model``'s class (or of its nearest base class); None for other models."""
    for cls in type(model).__mro__:
        if cls in FLOW_ADAPTERS:
            return FLOW_ADAPTERS[cls]
    return None
