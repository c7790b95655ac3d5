"""The encoder–decoder (N→M) in ONNX: an encoder graph and a decoder step graph, decoded in
Python.

``model.onnx`` runs the encoder and the bridge once per batch: ``memory``, the attention
``keys`` and the decoder's initial state. ``model.step.onnx`` is one decoder step with
attention: the previous tokens and the state in, log-probabilities, the new state and the
attention weights out. `OnnxSeq2Seq` offers what `Seq2Seq.generate` and the `Translator` call,
so greedy and beam decoding (`rnnkit.models.decoding`) run unchanged over the two sessions.

Legend: B batch, N rows of a step (B, or B*K in beam search), S source length, V target
vocabulary, E embedding, M encoder output size (D*H), K attention keys' size, H' decoder
hidden size, L' decoder layers, A additive attention size.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from onnx import TensorProto
from torch import Tensor, nn

from rnnkit.export.graph import GraphBuilder, final_features, recurrent_layers, recurrent_stack
from rnnkit.export.runtime import OnnxRuntimeModel, run_session
from rnnkit.export.spec import OnnxGraph, token_inputs
from rnnkit.models.seq2seq import Seq2SeqConfig, Seq2SeqDecoding, Seq2SeqState
from rnnkit.nn import RNNState
from rnnkit.nn.masking import valid_mask

FLOAT = TensorProto.FLOAT


# The encoder graph ----------------------------------------------------------------------------


def build_encoder(model: nn.Module, builder: GraphBuilder) -> None:
    """``tokens (B, S)``, ``lengths`` → ``memory (B, S, M)``, ``keys (B, S, K)`` and the
    bridge's ``h (L', B, H')`` (and ``c`` for an LSTM decoder)."""
    encoder = model.encoder
    embedded = builder.embedding("tokens", encoder.embedding, "embedding")  # (B, S, E)
    memory, layers = recurrent_stack(builder, embedded, "lengths", encoder.rnn, "rnn")
    builder.output("memory", memory, ["batch", "source", model.encoder.output_size])
    attention = model.decoder.attention
    keys = memory
    if hasattr(attention, "memory_projection"):  # additive and general project the memory
        keys = builder.linear(memory, attention.memory_projection, "attention.memory")
    builder.output("keys", keys, ["batch", "source", "keys"])
    bridge(builder, model.bridge, *layers.final_state(builder))


def bridge(builder: GraphBuilder, module: nn.Module, h: str, c: str | None) -> None:
    """`rnnkit.models.bridge.Bridge` on the encoder's final ``h (L*D, B, H)`` and ``c``."""
    shape = [module.decoder_layers, "batch", module.decoder_hidden]
    layers_hidden = builder.constant(
        "bridge_shape", np.array([0, module.decoder_layers, module.decoder_hidden], np.int64)
    )

    def unflatten(flat: str) -> str:  # (B, L'*H') → (L', B, H')
        return builder.op1("Transpose", builder.op1("Reshape", flat, layers_hidden), perm=[1, 0, 2])

    if module.kind == "zero":
        batch = builder.op1("Slice", builder.op1("Shape", h), builder.axis(1),
                            builder.constant("two_vector", np.array([2], np.int64)))  # fmt: skip
        size = builder.constant("bridge_rows", np.array([module.decoder_layers], np.int64))
        hidden = builder.constant("bridge_hidden", np.array([module.decoder_hidden], np.int64))
        zeros = builder.op1("ConstantOfShape", builder.op1("Concat", size, batch, hidden, axis=0))
        initial_h = initial_c = zeros
    else:
        flat_h = builder.linear(final_features(builder, h), module.hidden, "bridge.h")
        initial_h = unflatten(builder.op1("Tanh", flat_h))  # h = tanh(W [h_1 … h_LD] + b)
        initial_c = None
        if module.cell is not None:  # c = W' [c_1 … c_LD] + b' (the h's for a GRU/RNN encoder)
            source = final_features(builder, h if c is None else c)
            initial_c = unflatten(builder.linear(source, module.cell, "bridge.c"))
    builder.output("h", initial_h, shape)
    if module.has_cell_state:
        builder.output("c", initial_c, shape)


def encoder_reference(model: nn.Module, inputs: dict[str, Tensor]) -> dict[str, Tensor]:
    state = model.encode(inputs["tokens"], inputs["lengths"])
    found = {"memory": state.memory, "keys": state.keys, "h": state.rnn.h}
    return found if state.rnn.c is None else {**found, "c": state.rnn.c}


def encoder_inputs(model: nn.Module, lengths: Tensor, seed: int = 0) -> dict[str, Tensor]:
    """Random source sentences of ``lengths`` over the source vocabulary."""
    return token_inputs(model.encoder, lengths, seed)


# The decoder step graph -----------------------------------------------------------------------


def build_step(model: nn.Module, builder: GraphBuilder) -> None:
    """One `AttentionDecoder` step: ``tokens (N,)``, ``h``, ``c``, ``feed (N, H')`` (input
    feeding only), ``memory``, ``keys``, ``mask (N, S)`` → ``log_probs (N, V)``, ``h_out``,
    ``c_out``, ``feed_out`` (h̃) and the attention ``weights (N, S)``."""
    decoder = model.decoder
    config, hidden = decoder.config, decoder.hidden_size
    tokens = builder.add_input("tokens", ["rows"])
    state_shape = [config.num_layers, "rows", hidden]
    h = builder.add_input("h", state_shape, FLOAT)
    c = builder.add_input("c", state_shape, FLOAT) if decoder.rnn.spec.has_cell_state else None
    embedded = builder.embedding(tokens, decoder.embedding, "decoder.embedding")  # (N, E)
    if config.input_feeding:
        feed = builder.add_input("feed", ["rows", hidden], FLOAT)
        embedded = builder.op1("Concat", embedded, feed, axis=-1)  # (N, E + H')
    memory = builder.add_input("memory", ["rows", "source", model.encoder.output_size], FLOAT)
    keys = builder.add_input("keys", ["rows", "source", "keys"], FLOAT)
    mask = builder.add_input("mask", ["rows", "source"], TensorProto.BOOL)
    step = builder.op1("Unsqueeze", embedded, builder.axis(1))  # (N, 1, E')
    layers = recurrent_layers(builder, step, None, decoder.rnn, "decoder.rnn", (h, c))
    query = builder.op1("Squeeze", layers.sequence, builder.axis(0))  # (N, H')
    scores = attention_scores(builder, config.attention, decoder.attention, query, keys)
    minus_inf = builder.constant("minus_inf", np.array(-np.inf, np.float32))
    weights = builder.op1("Softmax", builder.op1("Where", mask, scores, minus_inf), axis=-1)
    context = builder.op1("MatMul", builder.op1("Unsqueeze", weights, builder.axis(1)), memory)
    context = builder.op1("Squeeze", context, builder.axis(1))  # (N, M)
    combined = builder.op1("Concat", context, query, axis=-1)  # (N, M + H')
    attentional = builder.op1("Tanh", builder.linear(combined, decoder.combine, "combine"))
    logits = builder.linear(attentional, decoder.output, "decoder.output")  # (N, V)
    builder.output("log_probs", builder.op1("LogSoftmax", logits, axis=-1),
                   ["rows", config.vocab_size])  # fmt: skip
    final_h, final_c = layers.final_state(builder)
    builder.output("h_out", final_h, state_shape)
    if final_c is not None:
        builder.output("c_out", final_c, state_shape)
    builder.output("feed_out", attentional, ["rows", hidden])
    builder.output("weights", weights, ["rows", "source"])


def attention_scores(
    builder: GraphBuilder, kind: str, attention: nn.Module, query: str, keys: str
) -> str:
    """`rnnkit.models.attention` scores of one query per row: ``(N, Q)``, ``(N, S, K)`` →
    ``(N, S)``; additive ``vᵀ tanh(W_q q + k)``, dot and general ``k · q``."""
    if kind == "additive":
        projected = builder.linear(query, attention.query_projection, "attention.query")
        projected = builder.op1("Unsqueeze", projected, builder.axis(1))  # (N, 1, A)
        hidden = builder.op1("Tanh", builder.op1("Add", projected, keys))  # (N, S, A)
        scores = builder.linear(hidden, attention.v, "attention.v")  # (N, S, 1)
    else:
        scores = builder.op1("MatMul", keys, builder.op1("Unsqueeze", query, builder.axis(2)))
    return builder.op1("Squeeze", scores, builder.axis(2))


def step_reference(model: nn.Module, inputs: dict[str, Tensor]) -> dict[str, Tensor]:
    state = step_state(inputs)
    logits, weights, state = model.decoder(inputs["tokens"].unsqueeze(1), state)
    found = {
        "log_probs": torch.log_softmax(logits[:, 0], dim=-1),
        "h_out": state.rnn.h,
        "feed_out": state.feed,
        "weights": weights[:, 0],
    }
    return found if state.rnn.c is None else {**found, "c_out": state.rnn.c}


def step_state(inputs: dict[str, Tensor]) -> Seq2SeqState:
    """The `Seq2SeqState` of a step graph's inputs (``feed`` zero when absent)."""
    h = inputs["h"]
    feed = inputs.get("feed", h.new_zeros(h.size(1), h.size(2)))
    return Seq2SeqState(RNNState(h, inputs.get("c")), feed, inputs["memory"], inputs["keys"],
                        inputs["mask"])  # fmt: skip


def step_inputs(model: nn.Module, lengths: Tensor, seed: int = 0) -> dict[str, Tensor]:
    """The encoded state of random sources of ``lengths``, a random ``feed`` and random
    previous tokens: the inputs of a decoding step."""
    source = encoder_inputs(model, lengths, seed)
    with torch.no_grad():
        state = model.encode(source["tokens"], source["lengths"])
    generator = torch.Generator().manual_seed(seed)
    vocab_size = model.config.decoder.vocab_size
    tokens = torch.randint(min(4, vocab_size - 1), vocab_size, lengths.shape, generator=generator)
    feed = torch.rand(state.feed.shape, generator=generator) * 2 - 1
    inputs = {"tokens": tokens, "h": state.rnn.h, "memory": state.memory, "keys": state.keys,
              "mask": state.mask}  # fmt: skip
    if state.rnn.c is not None:
        inputs["c"] = state.rnn.c
    return {**inputs, "feed": feed} if model.config.decoder.input_feeding else inputs


def seq2seq_graphs(model: nn.Module) -> dict[str, OnnxGraph]:
    return {
        "model": OnnxGraph(build_encoder, encoder_reference, encoder_inputs),
        "model.step": OnnxGraph(build_step, step_reference, step_inputs, token_inputs=False),
    }


class OnnxSeq2Seq(Seq2SeqDecoding, OnnxRuntimeModel):
    """A `Seq2Seq`'s inference contract (``encode``, ``decode_step``, ``generate``,
    ``forward_with_attention``) over the sessions of `seq2seq_graphs`."""

    def __init__(self, sessions: dict[str, Any], config: Seq2SeqConfig) -> None:
        super().__init__(sessions["model"], config)
        self.step_session = sessions["model.step"]
        self.input_feeding = config.decoder.input_feeding

    def encode(self, source: Tensor, source_lengths: Tensor) -> Seq2SeqState:
        found = self.run(tokens=source, lengths=source_lengths)
        h = found["h"]
        mask = valid_mask(source_lengths, source.size(1), source.device)
        feed = h.new_zeros(h.size(1), h.size(2))
        return Seq2SeqState(RNNState(h, found.get("c")), feed, found["memory"], found["keys"], mask)

    def step_with_attention(
        self, tokens: Tensor, state: Seq2SeqState
    ) -> tuple[Tensor, Tensor, Seq2SeqState]:
        """``tokens (N,)`` → ``log_probs (N, V)``, attention ``weights (N, S)``, next state."""
        inputs = {"tokens": tokens, "h": state.rnn.h, "c": state.rnn.c, "memory": state.memory,
                  "keys": state.keys, "mask": state.mask}  # fmt: skip
        if self.input_feeding:
            inputs["feed"] = state.feed
        found = run_session(self.step_session, {k: v for k, v in inputs.items() if v is not None})
        state = state._replace(rnn=RNNState(found["h_out"], found.get("c_out")),
                               feed=found["feed_out"])  # fmt: skip
        return found["log_probs"], found["weights"], state

    def decode_step(self, tokens: Tensor, state: Seq2SeqState) -> tuple[Tensor, Seq2SeqState]:
        log_probs, _, state = self.step_with_attention(tokens, state)
        return log_probs, state

    def forward_with_attention(
        self, source: Tensor, source_lengths: Tensor, target_in: Tensor
    ) -> tuple[Tensor, Tensor]:
        """Teacher-forced: log-probabilities ``(B, T, V)`` (the model's logits up to a
        per-step constant) and attention weights ``(B, T, S)``."""
        state = self.encode(source, source_lengths)
        log_probs, weights = [], []
        for tokens in target_in.unbind(1):
            step_log_probs, step_weights, state = self.step_with_attention(tokens, state)
            log_probs.append(step_log_probs)
            weights.append(step_weights)
        return torch.stack(log_probs, 1), torch.stack(weights, 1)
