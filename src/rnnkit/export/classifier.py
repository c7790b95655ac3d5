"""The classifier (N→1) in ONNX: its graph, its PyTorch reference outputs, its stand-in.

Legend: B batch, T time, W characters per word, C classes, F features (D*H).
"""

from __future__ import annotations

from torch import Tensor, nn

from rnnkit.data.batching import WordBatch
from rnnkit.export.graph import GraphBuilder, pooling
from rnnkit.export.runtime import OnnxRuntimeModel
from rnnkit.export.tagging import encode_words, graph_inputs, word_batch
from rnnkit.models.classifier import SequenceClassifier, prefix_probabilities


def build_classifier(model: nn.Module, builder: GraphBuilder) -> None:
    """tokens (+ characters) → embedding → recurrent stack → pooling → linear: ``logits
    (B, C)``, encoder ``outputs (B, T, F)`` and, for attention pooling, ``attention (B, T)``."""
    outputs, final_h = encode_words(model, builder)
    pooled, weights = pooling(
        builder, model.config.pooling, model.pooling, outputs, "lengths", final_h
    )
    builder.output("logits", builder.linear(pooled, model.output, "output"), ["batch", "classes"])
    builder.output("outputs", outputs, ["batch", "time", "features"])
    if weights is not None:
        builder.output("attention", weights, ["batch", "time"])


def classifier_reference(model: nn.Module, inputs: dict[str, Tensor]) -> dict[str, Tensor]:
    logits, outputs, weights = model.forward_with_details(word_batch(inputs))
    found = {"logits": logits, "outputs": outputs}
    return found if weights is None else {**found, "attention": weights}


class OnnxClassifierModel(OnnxRuntimeModel):
    """A `SequenceClassifier`'s inference contract — ``model(words) -> logits``,
    ``forward_with_details``, ``prefix_probabilities`` — computed
    by ONNX Runtime, and the model contract's ``inputs`` and ``loss`` (which read no weights),
    for evaluation."""

    inputs = staticmethod(SequenceClassifier.inputs)
    loss = SequenceClassifier.loss

    def __call__(self, words: WordBatch) -> Tensor:
        return self.run(["logits"], **graph_inputs(words))["logits"]

    def forward_with_details(self, words: WordBatch) -> tuple[Tensor, Tensor, Tensor | None]:
        found = self.run(**graph_inputs(words))
        return found["logits"], found["outputs"], found.get("attention")

    def prefix_probabilities(
        self, tokens: Tensor, char_ids: Tensor | None = None, char_lengths: Tensor | None = None
    ) -> Tensor:
        """``(T, C)``: row t is the prediction for the prefix ``tokens[: t + 1]``."""
        return prefix_probabilities(self, tokens, char_ids, char_lengths)
