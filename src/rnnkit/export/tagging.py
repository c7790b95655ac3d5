"""The tagger (N→N) and the joint intent + slot model in ONNX.

The graph computes the per-token tag scores (emissions) and, for the joint model, the intent
logits; a CRF's Viterbi decoding runs in NumPy on the emissions (a dynamic-programming loop
with backtracking, a poor fit for a static graph and cheap next to the encoder). The CRF's
scores, constraints applied, travel in the graph as constant outputs.

Legend: B batch, T time (tokens), W characters per word, K tags, I intents.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from rnnkit.data.batching import WordBatch
from rnnkit.export.graph import GraphBuilder, char_features, pooling, recurrent_stack
from rnnkit.export.runtime import OnnxRuntimeModel
from rnnkit.models.joint import JointDecoding, joint_decoding
from rnnkit.models.tagger import argmax_tags

CRF_OUTPUTS = ("crf_transitions", "crf_start", "crf_end")


def encode_words(model: nn.Module, builder: GraphBuilder) -> tuple[str, str]:
    """Word embeddings (+ character features) → encoder: ``outputs (B, T, F)``, the top
    layer's final ``h (D, B, H)``."""
    encoder = model.encoder
    embedded = builder.embedding("tokens", encoder.embedding, "embedding")  # (B, T, E)
    if model.chars is not None:
        embedded = builder.op1("Concat", embedded, char_features(builder, model.chars), axis=-1)
    outputs, layers = recurrent_stack(builder, embedded, "lengths", encoder.rnn, "rnn")
    return outputs, layers.h[-1]


def build_tagging_head(model: nn.Module, builder: GraphBuilder, outputs: str) -> None:
    """``emissions (B, T, K)`` and, with a CRF, its scores as constant outputs."""
    emissions = builder.linear(outputs, model.head.output, "head.output")
    builder.output("emissions", emissions, ["batch", "time", "tags"])
    crf = model.head.crf
    if crf is not None:
        transitions, start = crf.scores()
        for name, value in zip(CRF_OUTPUTS, (transitions, start, crf.end_transitions), strict=True):
            builder.output(name, builder.constant(f"{name}.value", value), list(value.shape))


def build_tagger(model: nn.Module, builder: GraphBuilder) -> None:
    outputs, _ = encode_words(model, builder)
    build_tagging_head(model, builder, outputs)


def build_joint(model: nn.Module, builder: GraphBuilder) -> None:
    """The tagger's graph plus ``intent_logits (B, I)`` from the pooled encoder outputs."""
    outputs, final_h = encode_words(model, builder)
    pooled, _ = pooling(builder, model.config.pooling, model.pooling, outputs, "lengths", final_h)
    intent = builder.linear(pooled, model.intent_output, "intent_output")
    builder.output("intent_logits", intent, ["batch", "intents"])
    build_tagging_head(model, builder, outputs)


def tagging_reference(model: nn.Module, inputs: dict[str, Tensor]) -> dict[str, Tensor]:
    """The PyTorch values of every graph output."""
    found = model(word_batch(inputs))
    found = {"emissions": found} if isinstance(found, Tensor) else dict(
        zip(("intent_logits", "emissions"), found, strict=True))  # fmt: skip
    crf = model.head.crf
    if crf is not None:
        scores = (*crf.scores(), crf.end_transitions)
        found.update(zip(CRF_OUTPUTS, (score.detach() for score in scores), strict=True))
    return found


def viterbi(
    emissions: np.ndarray,
    lengths: np.ndarray,
    transitions: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
) -> list[list[int]]:
    """`rnnkit.nn.crf.CRF.decode` in NumPy: the best tag ids of each sentence.

    Shape:
        emissions: (B, T, K); lengths: (B,); transitions: (K, K) (``[i, j]``: i → j);
        start, end: (K,).
    """
    batch, time, tags = emissions.shape
    identity = np.broadcast_to(np.arange(tags), (batch, tags))
    score = start + emissions[:, 0]  # (B, K)
    pointers = []  # pointers[t - 1][b, j]: best previous tag for tag j at step t
    for t in range(1, time):
        candidates = score[:, :, None] + transitions  # (B, K previous, K next)
        previous = candidates.argmax(axis=1)  # (B, K)
        best = np.take_along_axis(candidates, previous[:, None, :], axis=1)[:, 0]
        keep = (t < lengths)[:, None]
        score = np.where(keep, best + emissions[:, t], score)
        pointers.append(np.where(keep, previous, identity))  # identity walks through padding
    last = (score + end).argmax(axis=1)  # (B,)
    path = [last]
    for previous in reversed(pointers):
        last = np.take_along_axis(previous, last[:, None], axis=1)[:, 0]
        path.append(last)
    best_paths = np.stack(path[::-1], axis=1)  # (B, T)
    return [row[:n].tolist() for row, n in zip(best_paths, lengths.tolist(), strict=True)]


def graph_inputs(words: WordBatch) -> dict[str, Tensor | None]:
    """A `WordBatch` as the graph's named inputs (None for absent characters)."""
    return {
        "tokens": words.ids,
        "lengths": words.lengths,
        "char_ids": words.char_ids,
        "char_lengths": words.char_lengths,
    }


def word_batch(inputs: dict[str, Tensor]) -> WordBatch:
    """The graph's named inputs as a `WordBatch` (the inverse of `graph_inputs`)."""
    return WordBatch(
        inputs["tokens"], inputs["lengths"], inputs.get("char_ids"), inputs.get("char_lengths")
    )


class OnnxTaggingModel(OnnxRuntimeModel):
    """A `SequenceTagger`'s or `JointIntentSlot`'s inference contract (``model(...)`` and
    ``decode(...)``) on ONNX Runtime, with Viterbi in NumPy."""

    def __init__(self, session: Any, config: Any) -> None:
        super().__init__(session, config)
        names = {output.name for output in session.get_outputs()}
        self.joint = "intent_logits" in names
        self.crf = None
        if config.use_crf:  # constant outputs: one run on a one-token sentence reads them
            one = torch.ones(1, 1, dtype=torch.long)
            chars = (one.unsqueeze(2), one) if config.char_features else (None, None)
            found = self.run(list(CRF_OUTPUTS), **graph_inputs(WordBatch(one, one[0], *chars)))
            self.crf = [found[name].numpy() for name in CRF_OUTPUTS]

    def __call__(self, words: WordBatch) -> Tensor | tuple[Tensor, Tensor]:
        names = ["intent_logits", "emissions"] if self.joint else ["emissions"]
        found = self.run(names, **graph_inputs(words))
        return (found["intent_logits"], found["emissions"]) if self.joint else found["emissions"]

    @torch.no_grad()
    def decode(self, words: WordBatch) -> list[list[int]] | JointDecoding:
        found = self(words)
        intent_logits, emissions = found if self.joint else (None, found)
        if self.crf is not None:
            tags = viterbi(emissions.numpy(), words.lengths.numpy(), *self.crf)
        else:
            tags = argmax_tags(emissions, words.lengths)
        return tags if intent_logits is None else joint_decoding(intent_logits, tags)
