"""Gradient flow of a trained task model on real data (``rnnkit diagnose gradients DIR``)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from rnnkit.data import TextExample
from rnnkit.data.batching import pad_words
from rnnkit.diagnostics.gradients import GradientFlow, gradient_flow


def classifier_gradient_flow(classifier, examples: Sequence[TextExample]) -> GradientFlow:
    """``‖∂L/∂h_t‖`` per step for a loaded `Classifier` on labelled ``examples``.

    The loss is the summed cross-entropy against the gold labels (examples whose label the
    model does not know are left out); the model stays in eval mode, so dropout is off and
    the numbers are those of the model as it predicts.
    """
    known = [example for example in examples if example.label in classifier.labels]
    inputs = pad_words(classifier.encode([ex.text for ex in known]), classifier.vocab.pad_id)
    lengths = inputs[1]
    labels = torch.tensor([classifier.labels.encode(example.label) for example in known])

    def loss_fn(model):
        return F.cross_entropy(model(*inputs), labels, reduction="sum")

    return gradient_flow(classifier.model, loss_fn, lengths)
