"""On long sentences a healthy model with a loss at every step reads "healthy": its verdict
is taken over a bounded distance (`PER_STEP_HORIZON` steps), where the ratio over the whole
sentence — the rule for one loss at the end — would read "vanishing" for a model that has
learned to forget what it no longer needs. Small models trained here on synthetic data."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from tests.models.tagging_toys import VOCAB_SIZE, make_batch
from torch import Tensor, nn

from rnnkit.data import TaggedBatch
from rnnkit.data.batching import collate_parallel
from rnnkit.diagnostics import GradientFlow
from rnnkit.diagnostics.gradients import compared_ratio
from rnnkit.diagnostics.model_flow import PER_STEP_HORIZON, seq2seq_flow, tagger_flow
from rnnkit.models import (
    DecoderConfig,
    EncoderConfig,
    Seq2Seq,
    Seq2SeqConfig,
    SequenceTagger,
    TaggerConfig,
)

LONG = 40  # tokens in the longest sentence of a batch


def train(model: nn.Module, batch_at: Callable[[int], Any], steps: int) -> nn.Module:
    """``steps`` Adam steps of the model contract's loss on ``batch_at(step)``; eval mode."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for step in range(steps):
        batch = batch_at(step)
        loss = model.loss(model(*model.inputs(batch)), batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


def whole_sentence_ratios(flow: GradientFlow) -> dict[str, float]:
    return {d.name: compared_ratio(d.h_norms)[0] for d in flow.directions}


def summary(flow: GradientFlow) -> dict[str, tuple[float, int, str]]:
    return {d.name: (d.ratio, d.distance, d.verdict) for d in flow.directions}


def tagged(seed: int) -> TaggedBatch:
    toy = make_batch(32, LONG, seed)
    return TaggedBatch(toy.tokens, toy.lengths, toy.tags, None)


def test_a_healthy_lstm_tagger_on_long_sentences_is_healthy():
    torch.manual_seed(0)
    model = SequenceTagger(TaggerConfig(
        vocab_size=VOCAB_SIZE, embedding_dim=8, hidden_size=16, num_tags=3, cell="lstm",
        bidirectional=True, use_crf=False, output_dropout=0.0,
    ))  # fmt: skip
    train(model, tagged, steps=150)
    held_out = tagged(1000)
    valid = held_out.tags != -100
    with torch.no_grad():
        predicted = model(held_out.words).argmax(-1)
    assert (predicted == held_out.tags)[valid].float().mean() > 0.97  # it learned the task
    flow = tagger_flow(model, held_out)
    assert flow.verdict == "healthy", summary(flow)
    assert {d.distance for d in flow.directions} == {PER_STEP_HORIZON}
    assert min(whole_sentence_ratios(flow).values()) < 1e-3, whole_sentence_ratios(flow)


def shifted_copy(seed: int, size: int = 16) -> Any:
    """Sources of 25 to 30 words 4..39; the target maps each word w to the next one (39 → 4)."""
    generator = torch.Generator().manual_seed(seed)
    pairs = []
    for _ in range(size):
        length = int(torch.randint(25, 31, (1,), generator=generator))
        source = torch.randint(4, 40, (length,), generator=generator).tolist()
        pairs.append((source, [2, *((word - 3) % 36 + 4 for word in source), 3]))
    return collate_parallel(pairs)


def test_a_healthy_lstm_seq2seq_on_long_sentences_is_healthy():
    torch.manual_seed(0)
    model = Seq2Seq(Seq2SeqConfig(
        encoder=EncoderConfig(vocab_size=40, embedding_dim=16, hidden_size=16, cell="lstm",
                              bidirectional=True),
        decoder=DecoderConfig(vocab_size=40, embedding_dim=16, cell="lstm", attention_size=16,
                              output_dropout=0.0),
    ))  # fmt: skip
    train(model, shifted_copy, steps=500)
    held_out = shifted_copy(1000)
    with torch.no_grad():
        logits: Tensor = model(*model.inputs(held_out))
    gold = held_out.target[:, 1:]
    valid = gold != 0
    assert (logits.argmax(-1) == gold)[valid].float().mean() > 0.9  # it learned the task
    flow = seq2seq_flow(model, held_out)
    assert flow.verdict == "healthy", summary(flow)
    decoder = next(d for d in flow.directions if d.module == "decoder.rnn")
    assert decoder.distance == PER_STEP_HORIZON
    assert flow.to_dict()["distance"] == flow.deciding.distance
    # over the whole target the decoder's ratio is two orders of magnitude smaller (8e-4)
    assert whole_sentence_ratios(flow)[decoder.name] < decoder.ratio / 100, summary(flow)
