"""The RNN tutorial's walk-through (docs/rnn-tutorial.md): a sentence read one token at a
time (O1 … On).

For each token: the hidden state's norm after reading it (per direction), and the label and
probability the classifier would give if the sentence ended there. For a unidirectional
model the last step *is* the prediction, so the reader sees O1 … On converge on it; for a
bidirectional one the per-step states also depend on what follows, and attention weights
(when the pooling has them) show which tokens the decision leans on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch

from rnnkit.data.batching import pad_words


@dataclass(frozen=True)
class TraceStep:
    token: str
    hidden_norms: list[float]  # ‖h_t‖ of the top layer, one per direction
    label: str  # the prediction if the sentence ended after this token
    probability: float
    attention: float | None  # the pooling's weight on this token, if it has one


@dataclass(frozen=True)
class Trace:
    text: str
    label: str  # the model's prediction for the whole sentence
    probability: float
    bidirectional: bool
    steps: list[TraceStep]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@torch.no_grad()
def trace_text(classifier, text: str) -> Trace:
    """Walks ``classifier`` (an `rnnkit.tasks.classification.Classifier`) through ``text``."""
    model = classifier.model
    tokens = classifier.tokenizer.tokenize(text)
    words = pad_words(classifier.encode([text]), classifier.vocab.pad_id)  # a batch of one
    ids = words.ids[0]
    logits, outputs, weights = model.forward_with_details(words)
    chars = () if words.char_ids is None else (words.char_ids[0], words.char_lengths[0])
    probabilities = model.prefix_probabilities(ids, *chars)  # (T, C)
    hidden = model.config.hidden_size
    directions = 2 if model.config.bidirectional else 1
    norms = outputs[0].view(len(ids), directions, hidden).norm(dim=-1)  # (T, D)
    steps = []
    for t, token in enumerate(tokens):
        probability, index = probabilities[t].max(dim=-1)
        steps.append(
            TraceStep(
                token=token,
                hidden_norms=[round(float(value), 4) for value in norms[t]],
                label=classifier.labels.decode(int(index)),
                probability=float(probability),
                attention=None if weights is None else float(weights[0, t]),
            )
        )
    final = logits[0].softmax(dim=-1)
    return Trace(
        text=text,
        label=classifier.labels.decode(int(final.argmax())),
        probability=float(final.max()),
        bidirectional=directions == 2,
        steps=steps,
    )
