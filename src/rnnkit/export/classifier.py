"""The classifier (N→1) in ONNX: its graph, its PyTorch reference outputs, its stand-in.

Legend: B batch, T time, C classes, F features (D*H).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnkit.export.graph import GraphBuilder, pooling, recurrent_stack
from rnnkit.export.runtime import OnnxRuntimeModel
from rnnkit.models import SequenceClassifier


def build_classifier(model: nn.Module, builder: GraphBuilder) -> None:
    """tokens → embedding → recurrent stack → pooling → linear: ``logits (B, C)``, encoder
    ``outputs (B, T, F)`` and, for attention pooling, ``attention (B, T)``."""
    encoder = model.encoder
    embedded = builder.embedding("tokens", encoder.embedding, "embedding")
    outputs, layers = recurrent_stack(builder, embedded, "lengths", encoder.rnn, "rnn")
    pooled, weights = pooling(
        builder, model.config.pooling, model.pooling, outputs, "lengths", layers.h[-1]
    )
    builder.output("logits", builder.linear(pooled, model.output, "output"), ["batch", "classes"])
    builder.output("outputs", outputs, ["batch", "time", "features"])
    if weights is not None:
        builder.output("attention", weights, ["batch", "time"])


def classifier_reference(model: nn.Module, inputs: dict[str, Tensor]) -> dict[str, Tensor]:
    logits, outputs, weights = model.forward_with_details(inputs["tokens"], inputs["lengths"])
    found = {"logits": logits, "outputs": outputs}
    return found if weights is None else {**found, "attention": weights}


class OnnxClassifierModel(OnnxRuntimeModel):
    """A `SequenceClassifier`'s inference contract — ``model(tokens, lengths) -> logits``,
    ``forward_with_details``, ``prefix_probabilities`` — computed by ONNX Runtime, and the
    model contract's ``inputs`` and ``loss`` (which read no weights), for evaluation."""

    inputs = staticmethod(SequenceClassifier.inputs)
    loss = SequenceClassifier.loss

    def __call__(self, tokens: Tensor, lengths: Tensor) -> Tensor:
        return self.run(["logits"], tokens=tokens, lengths=lengths)["logits"]

    def forward_with_details(
        self, tokens: Tensor, lengths: Tensor
    ) -> tuple[Tensor, Tensor, Tensor | None]:
        found = self.run(tokens=tokens, lengths=lengths)
        return found["logits"], found["outputs"], found.get("attention")

    def prefix_probabilities(self, tokens: Tensor) -> Tensor:
        """``(T, C)``: row t is the prediction for the prefix ``tokens[: t + 1]``."""
        time = tokens.size(0)
        batch = tokens.unsqueeze(0).expand(time, time)
        return self(batch, torch.arange(1, time + 1)).softmax(dim=-1)
