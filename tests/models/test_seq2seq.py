"""Seq2Seq: one decoder step = the teacher-forced pass, beam search = exhaustive search,
teacher forcing, label smoothing, padding independence."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from rnnkit.data import ParallelBatch
from rnnkit.errors import ConfigError
from rnnkit.models.encoder import EncoderConfig
from rnnkit.models.seq2seq import DecoderConfig, Seq2Seq, Seq2SeqConfig

EOS = 3


def tiny_model(attention="additive", input_feeding=True, vocab=5, **config) -> Seq2Seq:
    torch.manual_seed(1)
    return Seq2Seq(
        Seq2SeqConfig(
            encoder=EncoderConfig(vocab_size=9, embedding_dim=4, hidden_size=4, cell="gru"),
            decoder=DecoderConfig(
                vocab_size=vocab, embedding_dim=4, cell="lstm", attention=attention,
                attention_size=4, input_feeding=input_feeding, output_dropout=0.0,
            ),
            **config,
        )
    ).eval()  # fmt: skip


@pytest.mark.parametrize("input_feeding", [True, False])
@pytest.mark.parametrize("attention", ["additive", "dot", "general"])
def test_decode_steps_equal_the_teacher_forced_pass(attention, input_feeding):
    model = tiny_model(attention, input_feeding, vocab=7)
    source, lengths = torch.randint(4, 9, (3, 5)), torch.tensor([5, 2, 4])
    target = torch.randint(4, 7, (3, 4))
    expected = torch.log_softmax(model(source, lengths, target), dim=-1)
    state = model.encode(source, lengths)
    for t in range(4):
        log_probs, state = model.decode_step(target[:, t], state)
        torch.testing.assert_close(log_probs, expected[:, t])


def test_source_padding_changes_nothing():
    model = tiny_model()
    source, target = torch.randint(4, 9, (1, 3)), torch.randint(4, 5, (1, 4))
    padded = torch.cat([source, torch.zeros(1, 5, dtype=torch.long)], 1)
    short = model(source, torch.tensor([3]), target)
    torch.testing.assert_close(model(padded, torch.tensor([3]), target), short)


@torch.no_grad()
def exhaustive(model: Seq2Seq, source, lengths, max_length: int, alpha: float):
    """Every hypothesis up to ``max_length`` tokens scored by teacher-forced passes."""
    words = [token for token in range(model.config.decoder.vocab_size) if token != EOS]
    results = []
    for length in range(max_length + 1):
        for tokens in itertools.product(words, repeat=length):
            target_in = torch.tensor([[model.config.bos_id, *tokens]])
            log_probs = torch.log_softmax(model(source, lengths, target_in), -1)[0]
            prefix = sum(float(log_probs[t, token]) for t, token in enumerate(tokens))
            if length < max_length:  # finished with <eos>
                log_prob = prefix + float(log_probs[length, EOS])
                results.append((list(tokens), log_prob, log_prob / (length + 1) ** alpha))
            else:  # cut at the length limit, no <eos> term
                score = prefix / length**alpha if length else prefix
                results.append((list(tokens), prefix, score))
    return sorted(results, key=lambda item: -item[2])


@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_beam_search_finds_the_exhaustive_best(alpha):
    """With a beam wider than every candidate set, beam search is exhaustive search."""
    model = tiny_model(max_length_ratio=0.0, max_length_offset=3)
    source, lengths = torch.tensor([[5, 6, 7]]), torch.tensor([3])
    expected = exhaustive(model, source, lengths, 3, alpha)[:5]
    found = model.generate(source, lengths, beam_size=100, n_best=5, length_penalty=alpha)[0]
    assert [h.tokens for h in found] == [tokens for tokens, _, _ in expected]
    for hypothesis, (_, log_prob, score) in zip(found, expected, strict=True):
        assert math.isclose(hypothesis.log_prob, log_prob, abs_tol=1e-4)
        assert math.isclose(hypothesis.score, score, abs_tol=1e-4)


def test_greedy_is_beam_one_and_respects_the_relative_length_limit():
    model = tiny_model(vocab=7, max_length_ratio=1.0, max_length_offset=1)
    source, lengths = torch.randint(4, 9, (3, 4)), torch.tensor([4, 1, 2])
    greedy = model.generate(source, lengths)
    beam_one = model.generate(source, lengths, beam_size=1, n_best=1, length_penalty=0.0)
    beam = model.generate(source, lengths, beam_size=2, n_best=1, length_penalty=0.0)
    assert [g[0].tokens for g in greedy] == [b[0].tokens for b in beam_one]
    for hypotheses, length in zip(greedy, lengths.tolist(), strict=True):
        assert len(hypotheses[0].tokens) <= length + 1
    assert len(beam) == 3


def test_select_reorders_every_part_of_the_state():
    model = tiny_model()
    state = model.encode(torch.randint(4, 9, (3, 4)), torch.tensor([4, 1, 2]))
    index = torch.tensor([2, 2, 0])
    chosen = state.select(index)
    torch.testing.assert_close(chosen.rnn.h, state.rnn.h[:, index])
    torch.testing.assert_close(chosen.rnn.c, state.rnn.c[:, index])
    for name in ("feed", "memory", "keys", "mask"):
        assert torch.equal(getattr(chosen, name), getattr(state, name)[index])


def test_teacher_forcing_below_one_feeds_own_predictions_while_training():
    model = tiny_model(vocab=7, teacher_forcing=0.0)
    source, lengths = torch.randint(4, 9, (2, 4)), torch.tensor([4, 3])
    target = torch.randint(4, 7, (2, 5))
    model.train()
    own = model(source, lengths, target)
    changed = target.clone()
    changed[:, 1:] = 4 + (target[:, 1:] - 3) % 3  # other gold tokens after <bos>
    torch.testing.assert_close(model(source, lengths, changed), own)  # gold is never read
    model.eval()  # evaluation always feeds gold
    assert not torch.allclose(model(source, lengths, changed), model(source, lengths, target))


def test_label_smoothing_and_padding_in_the_loss():
    logits = torch.randn(2, 3, 5)
    target = torch.tensor([[4, 3, 0], [2, 0, 0]])
    batch = ParallelBatch(
        torch.ones(2, 1), torch.ones(2), torch.cat([target[:, :1], target], 1), None
    )
    plain = tiny_model().loss(logits, batch)  # against the batch's target[:, 1:]
    smoothed = tiny_model(label_smoothing=0.1).loss(logits, batch)
    real = torch.nn.functional.cross_entropy(logits[target != 0], target[target != 0])
    torch.testing.assert_close(plain, real)
    assert not torch.isclose(smoothed, plain)


def test_config_errors_name_the_argument():
    with pytest.raises(
        ConfigError, match=r"teacher_forcing: expected a number in \[0, 1\], got 1.5"
    ):
        Seq2SeqConfig(teacher_forcing=1.5)
    with pytest.raises(ConfigError, match=r"attention: expected one of .*got 'luong'"):
        DecoderConfig(attention="luong")
    with pytest.raises(ConfigError, match=r"decoder.vocab_size: expected a positive integer"):
        Seq2Seq(Seq2SeqConfig(encoder=EncoderConfig(vocab_size=5)))
