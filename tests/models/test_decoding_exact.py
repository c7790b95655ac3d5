"""Decoding pinned on hand-made bigram tables: exact answers, exact step counts, defaults and
argument messages."""

from __future__ import annotations

import math
from typing import NamedTuple

import pytest
import torch

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.models.decoding import (
    Hypothesis,
    beam_search,
    filter_logits,
    greedy_decode,
    sample_decode,
)

EOS, A, B, START = 0, 1, 2, 3


class LastToken(NamedTuple):
    """A `DecoderState` holding each row's previous token: ``(N,)``."""

    token: torch.Tensor

    def select(self, index: torch.Tensor) -> LastToken:
        return LastToken(self.token[index])


class Bigram:
    """``log p(next | previous)`` from a table ``{previous: [p(EOS), p(A), p(B)]}``; counts
    its steps and fails past ``max_steps`` (so a search that never stops fails, not hangs)."""

    def __init__(self, table: dict[int, list[float]], max_steps: int = 20):
        self.log_probs = torch.zeros(4, 3, dtype=torch.float64)
        for previous, probs in table.items():
            self.log_probs[previous] = torch.tensor(probs, dtype=torch.float64).log()
        self.steps, self.rows, self.max_steps = 0, [], max_steps

    def step(self, tokens: torch.Tensor, state: LastToken):
        self.steps += 1
        self.rows.append(len(tokens))
        assert self.steps <= self.max_steps, "decoding did not stop"
        return self.log_probs[tokens], LastToken(tokens)

    def start(self, batch: int = 1) -> tuple[LastToken, torch.Tensor]:
        tokens = torch.full((batch,), START)
        return LastToken(tokens), tokens


# <eos> is the likeliest first token, but "A A" (near-certain after A) scores better per token.
LONG_WINS = {START: [0.607, 0.383, 0.01], A: [0.01, 0.98, 0.01], B: [1 / 3, 1 / 3, 1 / 3]}


@pytest.mark.parametrize("length_penalty", [1.0, 2.0])
def test_beam_search_keeps_searching_while_a_live_beam_can_still_win(length_penalty):
    model = Bigram(LONG_WINS)
    state, start = model.start()
    [[best]] = beam_search(
        model.step, state, start, EOS, 2, beam_size=2, length_penalty=length_penalty
    )
    log_prob = math.log(0.383) + math.log(0.98)  # "A A" ends at the limit, without <eos>
    assert best.tokens == [A, A]
    assert best.log_prob == pytest.approx(log_prob, abs=1e-6)
    assert best.score == pytest.approx(log_prob / 2**length_penalty, abs=1e-6)


def test_beam_search_stops_as_soon_as_no_live_beam_can_win():
    model = Bigram(LONG_WINS)
    state, start = model.start()
    [[best]] = beam_search(model.step, state, start, EOS, 10, beam_size=2, length_penalty=0.0)
    assert best == Hypothesis([], pytest.approx(math.log(0.607)), pytest.approx(math.log(0.607)))
    assert model.steps == 1  # "A" (log 0.383) can never beat <eos> (log 0.607) unnormalised


def test_an_eos_outside_the_beam_finishes_nothing():
    # Beam of one: <eos> ranks second at the first step, so it must not finish a hypothesis
    # even though its probability (0.39) beats the greedy path's (0.6 * 0.5 * 0.9 = 0.27).
    model = Bigram({START: [0.39, 0.6, 0.01], A: [0.3, 0.2, 0.5], B: [0.9, 0.05, 0.05]})
    state, start = model.start()
    [[best]] = beam_search(model.step, state, start, EOS, 3, beam_size=1, length_penalty=0.0)
    greedy = greedy_decode(model.step, *model.start(), EOS, 3)
    assert best.tokens == greedy[0].tokens == [A, B]
    assert best.log_prob == pytest.approx(math.log(0.6 * 0.5 * 0.9))


def test_an_eos_ranked_past_the_beam_finishes_nothing():
    # Beam of two, second step: the candidates rank A<eos> (0), AA (1), B<eos> (2), BA (3).
    # B<eos> ranks past the beam, so it finishes nothing, although its log-probability
    # (-1.75) would beat the second best hypothesis that is kept, A A <eos> (-1.81).
    table = {START: [0.01, 0.7, 0.29], A: [0.6, 0.39, 0.01], B: [0.6, 0.39, 0.01]}
    model = Bigram(table)
    state, start = model.start()
    [results] = beam_search(
        model.step, state, start, EOS, 3, beam_size=2, n_best=2, length_penalty=0.0
    )
    assert [h.tokens for h in results] == [[A], [A, A]]
    assert results[1].log_prob == pytest.approx(math.log(0.7 * 0.39 * 0.6))


def test_a_row_whose_only_token_is_eos_stops():
    model = Bigram({START: [1.0, 0.0, 0.0]})
    state, start = model.start(2)
    results = beam_search(model.step, state, start, EOS, 5, beam_size=2, n_best=2)
    assert results == [[Hypothesis([], 0.0, 0.0)]] * 2
    assert model.steps == 1


def test_beams_stop_at_the_length_limit():
    model = Bigram({START: [0.1, 0.8, 0.1], A: [0.1, 0.8, 0.1], B: [0.1, 0.8, 0.1]})
    state, start = model.start()
    results = beam_search(model.step, state, start, EOS, 3, beam_size=2, length_penalty=0.0)
    assert results[0][0].tokens == [A, A, A]
    assert model.steps == 3


def test_rows_of_length_zero_are_never_searched():
    model = Bigram(LONG_WINS)
    state, start = model.start(2)
    results = beam_search(
        model.step, state, start, EOS, torch.tensor([0, 2]), beam_size=2, n_best=2
    )
    assert results[0] == [Hypothesis([], 0.0, 0.0)]
    assert model.rows == [2, 2]  # only the second row's two beams reach the model
    assert results[1][0].tokens == [A, A]


def test_beam_search_defaults_are_five_beams_and_mean_log_probability():
    model = Bigram(LONG_WINS)
    state, start = model.start(3)
    results = beam_search(model.step, state, start, EOS, 2)
    assert model.rows[0] == 3 * 5
    best = results[0][0]
    assert best.score == pytest.approx(best.log_prob / len(best.tokens))


def test_sampling_temperature_defaults_to_one():
    table = {START: [0.2, 0.5, 0.3], A: [0.3, 0.4, 0.3], B: [0.5, 0.25, 0.25]}

    def draw(**options) -> list[list[int]]:
        model, generator = Bigram(table), torch.Generator().manual_seed(3)
        hypotheses = sample_decode(
            model.step, *model.start(64), EOS, 6, generator=generator, **options
        )
        return [h.tokens for h in hypotheses]

    assert draw() == draw(temperature=1.0)
    assert draw() != draw(temperature=2.0)


def test_log_probabilities_accumulate_in_float64():
    model = Bigram({START: [0.1, 0.8, 0.1], A: [0.1, 0.8, 0.1]})
    [hypothesis] = greedy_decode(model.step, *model.start(), EOS, 7)
    assert hypothesis.tokens == [A] * 7
    expected = 0.0
    for _ in range(7):
        expected += float(model.log_probs[A, A])
    assert hypothesis.log_prob == expected  # exactly, as float64 sums


def test_an_empty_batch_decodes_to_nothing_without_calling_the_model():
    model = Bigram(LONG_WINS)
    empty = torch.zeros(0, dtype=torch.long)
    assert greedy_decode(model.step, LastToken(empty), empty, EOS, 3) == []
    assert beam_search(model.step, LastToken(empty), empty, EOS, 3) == []
    assert model.steps == 0


def test_top_p_one_keeps_even_negligible_tokens():
    log_probs = torch.tensor([[0.0, -30.0, -40.0]])  # softmax rounds the first to exactly 1
    assert torch.equal(filter_logits(log_probs, top_p=1.0), log_probs)


def test_top_p_stops_at_the_token_that_reaches_it_exactly():
    log_probs = torch.tensor([[0.0, 0.0, -math.inf]])  # probabilities exactly 1/2, 1/2, 0
    kept = torch.isfinite(filter_logits(log_probs, top_p=0.5))
    assert kept.sum().item() == 1


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda s, t: beam_search(s, *t, EOS, 3, beam_size=0), ConfigError,
         "beam_size must be an integer >= 1, got 0"),
        (lambda s, t: beam_search(s, *t, EOS, 3, n_best=0), ConfigError,
         "n_best must be an integer >= 1, got 0"),
        (lambda s, t: beam_search(s, *t, EOS, 3, length_penalty=-0.5), ConfigError,
         "length_penalty must be >= 0, got -0.5"),
        (lambda s, t: filter_logits(torch.zeros(1, 3), top_k=True), ConfigError,
         "top_k must be an integer >= 1, got True"),
        (lambda s, t: filter_logits(torch.zeros(1, 3), top_p=1.5), ConfigError,
         "top_p must be in (0, 1], got 1.5"),
        (lambda s, t: filter_logits(torch.zeros(1, 3), top_p=0.0), ConfigError,
         "top_p must be in (0, 1], got 0.0"),
        (lambda s, t: sample_decode(s, *t, EOS, 0, top_k=0), ConfigError,
         "top_k must be an integer >= 1, got 0"),
        (lambda s, t: sample_decode(s, *t, EOS, 0, top_p=2.0), ConfigError,
         "top_p must be in (0, 1], got 2.0"),
        (lambda s, t: greedy_decode(s, *t, EOS, 2.5), ConfigError,
         "max_lengths must be non-negative integers, got 2.5"),
        (lambda s, t: greedy_decode(s, *t, EOS, True), ConfigError,
         "max_lengths must be non-negative integers, got True"),
        (lambda s, t: greedy_decode(s, t[0], torch.zeros(1, 2, dtype=torch.long), EOS, 3),
         ShapeError, "start must have shape (B,), got (1, 2)"),
    ],
)  # fmt: skip
def test_bad_arguments_are_named_in_full(call, error, message):
    model = Bigram(LONG_WINS)
    with pytest.raises(error) as raised:
        call(model.step, model.start())
    assert str(raised.value) == message
    assert model.steps == 0
