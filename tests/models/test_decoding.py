"""Decoding strategies on a toy recurrent step function with a history-dependent state."""

from __future__ import annotations

import itertools
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

EOS = 0


class ToyState(NamedTuple):
    """The toy's `DecoderState`: ``h (N, H)``."""

    h: torch.Tensor

    def select(self, index: torch.Tensor) -> ToyState:
        return ToyState(self.h[index])


class ToyModel:
    """``h' = tanh(W[token] + U h)``, ``log_probs = log_softmax(O h')``; state ``h: (N, H)``."""

    def __init__(self, vocab: int, hidden: int = 8, seed: int = 0, sharpness: float = 2.0):
        g = torch.Generator().manual_seed(seed)
        self.embed = torch.randn(vocab + 1, hidden, generator=g)  # one extra id: the start token
        self.recur = torch.randn(hidden, hidden, generator=g) * 0.5
        self.out = torch.randn(hidden, vocab, generator=g) * sharpness
        self.start = vocab
        self.calls: list[tuple[torch.Tensor, torch.Tensor]] = []  # (tokens fed, log_probs returned)

    def initial(self, batch: int) -> ToyState:
        rows = torch.arange(batch, dtype=torch.float).unsqueeze(-1)
        return ToyState(rows.expand(batch, self.recur.shape[0]) * 0.1)

    def step(self, tokens: torch.Tensor, state: ToyState):
        h = torch.tanh(self.embed[tokens] + state.h @ self.recur)
        log_probs = torch.log_softmax(h @ self.out, dim=-1)
        self.calls.append((tokens, log_probs))
        return log_probs, ToyState(h)

    def starts(self, batch: int) -> torch.Tensor:
        return torch.full((batch,), self.start, dtype=torch.long)

    def log_prob(self, row: int, tokens: list[int], with_eos: bool) -> float:
        """Log-probability of ``tokens`` (+ ``<eos>``) for batch row ``row``, one step at a time."""
        state, fed, total = self.initial(row + 1).select(torch.tensor([row])), self.start, 0.0
        for token in tokens + ([EOS] if with_eos else []):
            log_probs, state = self.step(torch.tensor([fed]), state)
            total += float(log_probs[0, token])
            fed = token
        return total


def exhaustive(
    model: ToyModel, row: int, vocab: int, max_length: int, alpha: float
) -> list[Hypothesis]:
    """Every complete hypothesis up to ``max_length`` tokens, best first."""
    found = []
    for length in range(max_length + 1):
        for tokens in itertools.product(range(1, vocab), repeat=length):
            with_eos = length < max_length  # at the limit a hypothesis ends without <eos>
            log_prob = model.log_prob(row, list(tokens), with_eos)
            found.append(
                Hypothesis(list(tokens), log_prob, log_prob / (length + with_eos) ** alpha)
            )
    return sorted(found, key=lambda h: -h.score)


@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_beam_search_with_a_beam_wider_than_the_space_is_exhaustive(alpha):
    vocab, max_length = 3, 3
    model = ToyModel(vocab, sharpness=0.5)
    results = beam_search(
        model.step,
        model.initial(2),
        model.starts(2),
        EOS,
        max_length,
        beam_size=vocab**max_length,
        n_best=5,
        length_penalty=alpha,
    )
    for row in range(2):
        expected = exhaustive(model, row, vocab, max_length, alpha)[:5]
        assert [h.tokens for h in results[row]] == [h.tokens for h in expected]
        for got, want in zip(results[row], expected, strict=True):
            assert got.log_prob == pytest.approx(want.log_prob, abs=1e-4)
            assert got.score == pytest.approx(want.score, abs=1e-4)


@pytest.mark.parametrize("seed", range(5))
def test_beam_of_vocabulary_size_finds_the_exhaustive_best_for_two_tokens(seed):
    vocab, max_length = 4, 2
    model = ToyModel(vocab, seed=seed, sharpness=1.0)
    best = beam_search(
        model.step,
        model.initial(3),
        model.starts(3),
        EOS,
        max_length,
        beam_size=vocab,
        length_penalty=0.0,
    )
    for row in range(3):
        assert best[row][0].score >= exhaustive(model, row, vocab, max_length, 0.0)[0].score - 1e-5


@pytest.mark.parametrize("seed", range(4))
def test_greedy_equals_beam_of_one(seed):
    model = ToyModel(6, seed=seed)
    limits = torch.tensor([0, 1, 4, 7, 7, 12])
    greedy = greedy_decode(model.step, model.initial(6), model.starts(6), EOS, limits)
    beam = beam_search(
        model.step,
        model.initial(6),
        model.starts(6),
        EOS,
        limits,
        beam_size=1,
        length_penalty=0.0,
    )
    assert [h.tokens for h in greedy] == [b[0].tokens for b in beam]
    for g, b in zip(greedy, beam, strict=True):
        assert g.log_prob == pytest.approx(b[0].log_prob, abs=1e-4)


def test_log_prob_is_the_model_log_probability_and_limits_are_kept():
    model = ToyModel(5, seed=3, sharpness=0.3)  # flat: rarely emits <eos>, so limits bind
    limits = torch.tensor([0, 2, 5, 9])
    for hypotheses in (
        greedy_decode(model.step, model.initial(4), model.starts(4), EOS, limits),
        sample_decode(
            model.step,
            model.initial(4),
            model.starts(4),
            EOS,
            limits,
            generator=torch.Generator().manual_seed(1),
        ),
    ):
        assert hypotheses[0] == Hypothesis([], 0.0, 0.0)
        for row, hyp in enumerate(hypotheses):
            assert len(hyp.tokens) <= limits[row]
            assert EOS not in hyp.tokens
            with_eos = len(hyp.tokens) < limits[row]
            assert hyp.log_prob == pytest.approx(
                model.log_prob(row, hyp.tokens, with_eos), abs=1e-4
            )


def test_batched_beam_search_equals_one_row_at_a_time():
    model = ToyModel(7, seed=5)
    limits = torch.tensor([3, 8, 1, 6])
    batched = beam_search(
        model.step,
        model.initial(4),
        model.starts(4),
        EOS,
        limits,
        beam_size=3,
        n_best=2,
    )
    for row in range(4):
        state = model.initial(4).select(torch.tensor([row]))
        alone = beam_search(
            model.step,
            state,
            model.starts(1),
            EOS,
            int(limits[row]),
            beam_size=3,
            n_best=2,
        )
        assert [h.tokens for h in alone[0]] == [h.tokens for h in batched[row]]
        assert [h.score for h in alone[0]] == pytest.approx(
            [h.score for h in batched[row]], abs=1e-5
        )
        assert batched[row][0].score >= batched[row][-1].score


def test_sampling_is_reproducible_by_seed():
    model = ToyModel(10, seed=1, sharpness=0.5)

    def draw(seed: int) -> list[list[int]]:
        g = torch.Generator().manual_seed(seed)
        return [
            h.tokens
            for h in sample_decode(
                model.step, model.initial(16), model.starts(16), EOS, 8, generator=g
            )
        ]

    assert draw(7) == draw(7)
    assert draw(7) != draw(8)


def _allowed(log_probs: torch.Tensor, top_k: int | None, top_p: float | None) -> torch.Tensor:
    """Reference allowed sets, written independently of `filter_logits`: (N, V) booleans."""
    allowed = torch.zeros_like(log_probs, dtype=torch.bool)
    for row, scores in enumerate(log_probs):
        order = scores.argsort(descending=True).tolist()
        if top_k is not None:
            order = order[:top_k]
        probs = torch.softmax(scores[order], dim=-1).tolist()
        mass = 0.0
        for token, prob in zip(order, probs, strict=True):
            allowed[row, token] = True
            mass += prob
            if top_p is not None and mass >= top_p:
                break
    return allowed


@pytest.mark.parametrize(
    ("top_k", "top_p"), [(1, None), (3, None), (None, 0.5), (None, 0.9), (4, 0.7)]
)
def test_top_k_and_top_p_never_emit_tokens_outside_the_allowed_set(top_k, top_p):
    model = ToyModel(12, seed=2, sharpness=1.0)
    g = torch.Generator().manual_seed(0)
    for temperature in (0.7, 1.3):
        model.calls.clear()
        sample_decode(
            model.step, model.initial(32), model.starts(32), EOS, 10,
            temperature=temperature, top_k=top_k, top_p=top_p, generator=g,
        )  # fmt: skip
        assert len(model.calls) > 1
        for (_, log_probs), (fed, _) in zip(model.calls, model.calls[1:], strict=False):
            allowed = _allowed(log_probs / temperature, top_k, top_p)
            assert allowed.gather(-1, fed.unsqueeze(-1)).all()


def test_filter_logits_on_known_values():
    log_probs = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    assert torch.isinf(filter_logits(log_probs, top_k=2)).tolist() == [[False, False, True, True]]
    assert torch.isinf(filter_logits(log_probs, top_p=0.8)).tolist() == [[False, False, True, True]]
    assert torch.isinf(filter_logits(log_probs, top_p=0.81)).tolist() == [
        [False, False, False, True]
    ]
    assert torch.isinf(filter_logits(log_probs, top_p=0.1)).tolist() == [[False, True, True, True]]
    assert torch.equal(filter_logits(log_probs, top_k=10, top_p=1.0), log_probs)
    assert filter_logits(log_probs, top_k=3)[0, :3].tolist() == pytest.approx(
        log_probs[0, :3].tolist()
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda m: sample_decode(m.step, m.initial(1), m.starts(1), EOS, 3, temperature=0.0),
            "temperature must be > 0",
        ),
        (
            lambda m: sample_decode(m.step, m.initial(1), m.starts(1), EOS, 3, top_p=1.5),
            "top_p must be in (0, 1]",
        ),
        (
            lambda m: filter_logits(torch.zeros(1, 3), top_k=0),
            "top_k must be an integer >= 1, got 0",
        ),
        (
            lambda m: greedy_decode(m.step, m.initial(1), m.starts(1), EOS, -1),
            "max_lengths must be non-negative",
        ),
        (
            lambda m: beam_search(m.step, m.initial(1), m.starts(1), EOS, 3, beam_size=2, n_best=3),
            "n_best must be <= beam_size=2, got 3",
        ),
    ],
)
def test_bad_arguments_raise_config_errors(call, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call(ToyModel(4))


def test_max_lengths_tensor_must_match_the_batch():
    model = ToyModel(4)
    with pytest.raises(
        ShapeError, match=r"max_lengths must be an int or have shape \(2,\), got \(3,\)"
    ):
        greedy_decode(model.step, model.initial(2), model.starts(2), EOS, torch.tensor([1, 2, 3]))
    assert math.isfinite(
        greedy_decode(model.step, model.initial(2), model.starts(2), EOS, 4)[1].log_prob
    )
