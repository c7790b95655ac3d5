"""The language model (1→N) in ONNX: a start graph and a step graph, decoded in Python.

``model.onnx`` runs tokens from a given state — one token per call while decoding, a whole
prompt at once, or a padded batch for perplexity — and returns every step's logits and the
new state. ``model.start.onnx`` (conditioned models only) turns the condition into its
features and, when the condition sets it, the initial hidden state. `OnnxLanguageModel` offers
the `LanguageModel` methods a `TextGenerator` calls, so greedy, sampled and beam decoding
(`rnnkit.models.decoding`) run unchanged over the two sessions.

Legend: N rows, T steps, V vocabulary, E embedding, H hidden, L layers, K condition features.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from onnx import TensorProto
from torch import Tensor, nn

from rnnkit.export.graph import GraphBuilder, recurrent_layers
from rnnkit.export.runtime import OnnxRuntimeModel, run_session
from rnnkit.export.spec import OnnxGraph
from rnnkit.models.language_model import (
    LanguageModel,
    LanguageModelConfig,
    LanguageModelState,
    check_condition,
    step_log_probs,
)
from rnnkit.nn import RNNState

FLOAT = TensorProto.FLOAT


def state_inputs(builder: GraphBuilder, config: LanguageModelConfig) -> tuple[str, str | None]:
    """Declares ``h (L, N, H)`` and, for an LSTM, ``c`` as float graph inputs."""
    shape = [config.num_layers, "rows", config.hidden_size]
    h = builder.add_input("h", shape, FLOAT)
    return h, builder.add_input("c", shape, FLOAT) if config.cell == "lstm" else None


def build_feed(model: nn.Module, builder: GraphBuilder) -> None:
    """``tokens (N, T)``, ``h``, ``c``, ``condition (N, K)`` → ``logits (N, T, V)``, h, c."""
    config = model.config
    tokens = builder.add_input("tokens", ["rows", "time"])
    initial = state_inputs(builder, config)
    embedded = builder.embedding(tokens, model.embedding, "embedding")  # (N, T, E)
    if model.input_features:
        condition = builder.add_input("condition", ["rows", model.input_features], FLOAT)
        shape = builder.op1("Concat", builder.op1("Shape", tokens), builder.constant(
            "features", np.array([model.input_features], np.int64)), axis=0)  # fmt: skip
        steps = builder.op1("Expand", builder.op1("Unsqueeze", condition, builder.axis(1)), shape)
        embedded = builder.op1("Concat", embedded, steps, axis=-1)  # (N, T, E + K)
    layers = recurrent_layers(builder, embedded, None, model.rnn, "rnn", initial)
    outputs = builder.op1("Transpose", layers.sequence, perm=[1, 0, 2])  # (N, T, H)
    builder.output("logits", builder.linear(outputs, model.output, "output"),
                   ["rows", "time", config.vocab_size])  # fmt: skip
    add_state_outputs(builder, config, *layers.final_state(builder))


def add_state_outputs(
    builder: GraphBuilder, config: LanguageModelConfig, h: str, c: str | None
) -> None:
    shape = [config.num_layers, "rows", config.hidden_size]
    builder.output("h_out", h, shape)
    if c is not None:
        builder.output("c_out", c, shape)


def feed_reference(model: nn.Module, inputs: dict[str, Tensor]) -> dict[str, Tensor]:
    state = LanguageModelState(RNNState(inputs["h"], inputs.get("c")), inputs.get("condition"))
    logits, state = model.feed(inputs["tokens"], state)
    found = {"logits": logits, "h_out": state.rnn.h}
    return found if state.rnn.c is None else {**found, "c_out": state.rnn.c}


def feed_inputs(model: nn.Module, lengths: Tensor, seed: int = 0) -> dict[str, Tensor]:
    """Random prompt tokens ``(N, max(lengths))``, states and condition features."""
    config = model.config
    generator = torch.Generator().manual_seed(seed)
    rows, time = len(lengths), int(lengths.max())
    low = min(4, config.vocab_size - 1)
    inputs = {"tokens": torch.randint(low, config.vocab_size, (rows, time), generator=generator)}
    shape = (config.num_layers, rows, config.hidden_size)
    inputs["h"] = torch.rand(shape, generator=generator) * 2 - 1
    if config.cell == "lstm":
        inputs["c"] = torch.randn(shape, generator=generator)
    if model.input_features:
        inputs["condition"] = torch.randn(rows, model.input_features, generator=generator)
    return inputs


def build_start(model: nn.Module, builder: GraphBuilder) -> None:
    """``condition`` (``(N,)`` ids or ``(N, K)`` vectors) → ``features (N, K)`` and, when the
    condition sets the initial state, ``h (L, N, H) = tanh(W features + b)``."""
    config = model.config
    if model.condition_embedding is not None:
        condition = builder.add_input("condition", ["rows"])
        features = builder.embedding(condition, model.condition_embedding, "condition_embedding")
    else:
        features = builder.add_input("condition", ["rows", config.condition_size], FLOAT)
    builder.output("features", builder.op1("Identity", features),
                   ["rows", config.condition_features])  # fmt: skip
    if model.initial is not None:
        flat = builder.op1("Tanh", builder.linear(features, model.initial, "initial"))
        per_layer = builder.op1("Reshape", flat, builder.constant("layers_hidden", np.array(
            [0, config.num_layers, config.hidden_size], np.int64)))  # fmt: skip
        h = builder.op1("Transpose", per_layer, perm=[1, 0, 2])  # (L, N, H)
        builder.output("h", h, [config.num_layers, "rows", config.hidden_size])


def start_reference(model: nn.Module, inputs: dict[str, Tensor]) -> dict[str, Tensor]:
    condition = inputs["condition"]
    features = model.condition_features(condition, condition.size(0))
    found = {"features": features}
    if model.initial is not None:
        found["h"] = model.initial_rnn_state(features, condition.size(0), features.device).h
    return found


def start_inputs(model: nn.Module, lengths: Tensor, seed: int = 0) -> dict[str, Tensor]:
    """Random conditions for ``len(lengths)`` rows: category ids or vectors."""
    config, rows = model.config, len(lengths)
    generator = torch.Generator().manual_seed(seed)
    if config.num_conditions:
        return {"condition": torch.randint(0, config.num_conditions, (rows,), generator=generator)}
    return {"condition": torch.randn(rows, config.condition_size, generator=generator)}


def language_model_graphs(model: nn.Module) -> dict[str, OnnxGraph]:
    graphs = {"model": OnnxGraph(build_feed, feed_reference, feed_inputs, token_inputs=False)}
    if model.config.condition_features:
        graphs["model.start"] = OnnxGraph(build_start, start_reference, start_inputs, False)
    return graphs


class OnnxLanguageModel(OnnxRuntimeModel):
    """A `LanguageModel`'s inference contract (``model(...)``, ``start_state``, ``feed``,
    ``step``) over the sessions of `language_model_graphs`, and the model
    contract's ``inputs`` and ``loss`` (which read no weights), for perplexity."""

    inputs = staticmethod(LanguageModel.inputs)
    loss = LanguageModel.loss

    def __init__(self, sessions: dict[str, Any], config: LanguageModelConfig) -> None:
        super().__init__(sessions["model"], config)
        self.start_session = sessions.get("model.start")

    def __call__(
        self, tokens: Tensor, condition: Tensor | None = None, state: RNNState | None = None
    ) -> tuple[Tensor, RNNState]:
        """Logits ``(N, T, V)`` of ``tokens (N, T)`` and the final state, as the model's
        forward (from the condition's start state unless ``state`` is given)."""
        start = self.start_state(condition, tokens.size(0))
        logits, found = self.feed(tokens, start if state is None else start._replace(rnn=state))
        return logits, found.rnn

    def start_state(self, condition: Tensor | None, batch: int) -> LanguageModelState:
        config = self.config
        h = torch.zeros(config.num_layers, batch, config.hidden_size)
        features = None
        if check_condition(config, condition, batch):
            found = run_session(self.start_session, {"condition": condition})
            features, h = found["features"], found.get("h", h)
        rnn = RNNState(h, torch.zeros_like(h) if config.cell == "lstm" else None)
        return LanguageModelState(rnn, features if config.condition_in_input else None)

    def feed(self, tokens: Tensor, state: LanguageModelState) -> tuple[Tensor, LanguageModelState]:
        found = self.run(tokens=tokens, h=state.rnn.h, c=state.rnn.c, condition=state.condition)
        rnn = RNNState(found["h_out"], found.get("c_out"))
        return found["logits"], LanguageModelState(rnn, state.condition)

    def step(self, tokens: Tensor, state: LanguageModelState) -> tuple[Tensor, LanguageModelState]:
        return step_log_probs(self.feed, tokens, state)
