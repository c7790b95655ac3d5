"""Decoding from a step function: greedy, sampling (temperature, top-k, top-p), beam search.

Every strategy drives a model only through a step function and its state, so language models
and seq2seq decoders share this module:

- ``step(tokens, state) -> (log_probs, new_state)``: ``tokens`` ``(N,)`` are the previous
  output ids, ``log_probs`` ``(N, V)`` the model's log-probabilities of the next token;
- the state is a `DecoderState`: ``state.select(index)`` keeps (and reorders, repeats) rows
  ``index`` ``(N',)`` of its batch (beam search only). `Seq2SeqState` and `LanguageModelState`
  are the two in rnnkit.

Legend: B batch, K beam size, V vocabulary, N rows handed to ``step`` (B, or B*K in beam search).

Lengths: ``max_lengths`` (an int or a ``(B,)`` tensor) is the largest number of generated tokens,
not counting ``<eos>``. A hypothesis that reaches it without ``<eos>`` ends there, and its
``log_prob`` has no ``<eos>`` term.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import torch
from torch import Tensor

from rnnkit.errors import ConfigError, ShapeError


class DecoderState(Protocol):
    """What a decoder carries from one step to the next, whatever it holds."""

    def select(self, index: Tensor) -> DecoderState:
        """Keeps (and reorders, repeats) the batch rows ``index (N',)``: beam search's reorder."""
        ...


Step = Callable[[Tensor, Any], tuple[Tensor, Any]]


@dataclass(frozen=True)
class Hypothesis:
    """One decoded sequence."""

    tokens: list[int]  # generated ids, without the start token and without <eos>
    log_prob: (
        float  # sum of the model's log-probabilities of the tokens (and of <eos> when emitted)
    )
    score: float  # the ranking score: log_prob, length-normalised in beam search


def greedy_decode(
    step: Step, state: Any, start: Tensor, eos_id: int, max_lengths: int | Tensor
) -> list[Hypothesis]:
    """Takes the most probable token at each step; one hypothesis per row (``score = log_prob``).

    Shape: ``start: (B,)`` start token ids; returns B hypotheses in batch order.
    """
    return _decode_loop(
        step, state, start, eos_id, max_lengths, lambda log_probs: log_probs.argmax(-1)
    )


def sample_decode(
    step: Step,
    state: Any,
    start: Tensor,
    eos_id: int,
    max_lengths: int | Tensor,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
) -> list[Hypothesis]:
    """Samples each token from ``softmax(log_probs / temperature)``, restricted by `filter_logits`.

    The same ``generator`` seed and inputs give the same samples. ``log_prob`` is the model's own
    log-probability of the sampled tokens (before temperature and filtering); ``score = log_prob``.

    Shape: ``start: (B,)``; returns B hypotheses in batch order.
    """
    if not temperature > 0:
        raise ConfigError(
            f"temperature must be > 0 (use greedy decoding for 0), got {temperature!r}"
        )
    _check_filters(top_k, top_p)

    def choose(log_probs: Tensor) -> Tensor:
        logits = filter_logits(log_probs / temperature, top_k=top_k, top_p=top_p)
        probs = torch.softmax(logits.float(), dim=-1)
        return torch.multinomial(probs, 1, generator=generator).squeeze(-1)

    return _decode_loop(step, state, start, eos_id, max_lengths, choose)


def filter_logits(
    log_probs: Tensor, top_k: int | None = None, top_p: float | None = None
) -> Tensor:
    """Sets every token outside the allowed set to ``-inf``.

    ``top_k`` keeps the k highest scores per row (exactly k, ties broken by `torch.topk`). ``top_p``
    (nucleus, Holtzman et al. 2020) then keeps the smallest set of highest-probability tokens whose
    probability under ``softmax`` of the (already top-k filtered) row reaches ``top_p``; the most
    probable token is always kept.

    Shape: ``log_probs: (N, V)`` (any scale: log-probabilities or logits) → ``(N, V)``.
    """
    _check_filters(top_k, top_p)
    filtered = log_probs
    if top_k is not None and top_k < log_probs.shape[-1]:
        kth = log_probs.topk(top_k, dim=-1)
        filtered = torch.full_like(log_probs, -math.inf).scatter(-1, kth.indices, kth.values)
    if top_p is not None and top_p < 1.0:
        sorted_scores, order = filtered.sort(dim=-1, descending=True)
        probs = torch.softmax(sorted_scores, dim=-1)
        mass_before = probs.cumsum(-1) - probs  # probability of the strictly better tokens
        drop_sorted = mass_before >= top_p
        drop_sorted[..., 0] = False
        drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
        filtered = filtered.masked_fill(drop, -math.inf)
    return filtered


def beam_search(
    step: Step,
    state: DecoderState,
    start: Tensor,
    eos_id: int,
    max_lengths: int | Tensor,
    *,
    beam_size: int = 5,
    n_best: int = 1,
    length_penalty: float = 1.0,
) -> list[list[Hypothesis]]:
    """Beam search with length normalisation; the ``n_best`` best hypotheses of each batch row.

    Beams are ranked by their summed log-probability. A finished hypothesis is scored
    ``score = log_prob / L ** length_penalty`` with ``L`` = number of generated tokens plus one when
    ``<eos>`` was emitted (``length_penalty = 0`` ranks by raw log-probability; 1 by the mean per
    token). An ``<eos>`` candidate only finishes a hypothesis if it ranks among the best
    ``beam_size`` candidates of its row, so ``beam_size=1, length_penalty=0`` is greedy decoding.
    A row stops when it has ``n_best`` finished hypotheses and no live beam can still beat the
    ``n_best``-th of them (an exact bound, since log-probabilities only decrease), or at its maximum
    length; finished rows are dropped from the batch with ``select``.

    Shape: ``start: (B,)``; ``step`` sees ``N = B' * K`` rows (B' ≤ B unfinished batch rows).
    Returns, per batch row, up to ``n_best`` hypotheses, best first.
    """
    _check_int("beam_size", beam_size, 1)
    _check_int("n_best", n_best, 1)
    if n_best > beam_size:
        raise ConfigError(f"n_best must be <= beam_size={beam_size}, got {n_best}")
    if not length_penalty >= 0:
        raise ConfigError(f"length_penalty must be >= 0, got {length_penalty!r}")
    limits = _max_lengths(max_lengths, start)
    search = _BeamSearch(beam_size, n_best, length_penalty, eos_id, limits)
    rows = [row for row, limit in enumerate(limits) if limit > 0]
    if rows:
        k = beam_size
        state = state.select(torch.tensor(rows).repeat_interleave(k))
        tokens = start[rows].repeat_interleave(k)
        scores = torch.full((len(rows), k), -math.inf)
        scores[:, 0] = 0.0  # one live beam per row at the start, so no beam is duplicated
        beams: list[list[list[int] | None]] = [[[]] + [None] * (k - 1) for _ in rows]
        while rows:
            log_probs, state = step(tokens, state)
            candidates = scores.unsqueeze(-1) + log_probs.detach().float().view(len(rows), k, -1)
            rows, beams, sources, tokens, scores = search.advance(rows, beams, candidates)
            if rows:
                state = state.select(sources)
    return search.results()


class _BeamSearch:
    """Book-keeping of `beam_search`: expands beams, collects finished hypotheses, stops rows."""

    def __init__(
        self, beam_size: int, n_best: int, length_penalty: float, eos_id: int, limits: list[int]
    ):
        self.beam_size, self.n_best, self.alpha, self.eos_id = (
            beam_size,
            n_best,
            length_penalty,
            eos_id,
        )
        self.limits = limits
        self.finished: list[list[Hypothesis]] = [[] for _ in limits]
        for row, limit in enumerate(limits):
            if limit == 0:
                self.finished[row].append(Hypothesis([], 0.0, 0.0))

    def score(self, log_prob: float, length: int) -> float:
        return log_prob / length**self.alpha if length > 0 else log_prob

    def advance(self, rows: list[int], beams: list, candidates: Tensor):
        """One step. ``candidates: (B', K, V)`` summed log-probabilities of every extension."""
        k, vocab = self.beam_size, candidates.shape[-1]
        flat = candidates.view(len(rows), k * vocab)
        top_scores, top_index = flat.topk(min(2 * k, k * vocab), dim=-1)
        kept_rows, kept_beams, sources, tokens, scores = [], [], [], [], []
        for i, row in enumerate(rows):
            new_beams = self._expand(
                row, beams[i], top_scores[i].tolist(), top_index[i].tolist(), vocab
            )
            if self._done(row, new_beams):
                continue
            kept_rows.append(row)
            kept_beams.append([None if beam is None else beam[0] for beam in new_beams])
            for beam in new_beams:
                source, token, score = (0, self.eos_id, -math.inf) if beam is None else beam[1:]
                sources.append(i * k + source)
                tokens.append(token)
                scores.append(score)
        return (
            kept_rows,
            kept_beams,
            torch.tensor(sources, dtype=torch.long),
            torch.tensor(tokens, dtype=torch.long),
            torch.tensor(scores).view(len(kept_rows), k),
        )

    def _expand(
        self, row: int, beams: list, top_scores: list[float], top_index: list[int], vocab: int
    ):
        """New beams of a row: ``(tokens, source beam, token, log_prob)``, ``None`` if empty."""
        new_beams: list = []
        for rank, (log_prob, index) in enumerate(zip(top_scores, top_index, strict=True)):
            if log_prob == -math.inf or len(new_beams) == self.beam_size:
                break
            source, token = divmod(index, vocab)
            prefix = beams[source]
            if token == self.eos_id:
                if rank < self.beam_size:
                    self.finished[row].append(
                        Hypothesis(prefix, log_prob, self.score(log_prob, len(prefix) + 1))
                    )
                continue
            new_beams.append(([*prefix, token], source, token, log_prob))
        return new_beams + [None] * (self.beam_size - len(new_beams))

    def _done(self, row: int, beams: list) -> bool:
        """Whether ``row`` stops; at its length limit the live beams become finished hypotheses."""
        live = [beam for beam in beams if beam is not None]
        if live and len(live[0][0]) >= self.limits[row]:
            self.finished[row].extend(
                Hypothesis(b[0], b[3], self.score(b[3], len(b[0]))) for b in live
            )
            return True
        if not live:
            return True
        if len(self.finished[row]) < self.n_best:
            return False
        nth_best = sorted(h.score for h in self.finished[row])[-self.n_best]
        # the best score any extension of a live beam could reach: its log-probability can only go
        # down, and for length_penalty > 0 the longest length (limit + <eos>) divides it the most
        best_live = max(b[3] for b in live) / (self.limits[row] + 1) ** self.alpha
        return nth_best >= best_live

    def results(self) -> list[list[Hypothesis]]:
        return [sorted(done, key=lambda h: -h.score)[: self.n_best] for done in self.finished]


def _decode_loop(
    step: Step,
    state: Any,
    start: Tensor,
    eos_id: int,
    max_lengths: int | Tensor,
    choose: Callable[[Tensor], Tensor],
) -> list[Hypothesis]:
    """Feeds each chosen token back until every row has emitted ``<eos>`` or reached its limit."""
    limits = _max_lengths(max_lengths, start)
    batch = len(limits)
    tokens_out: list[list[int]] = [[] for _ in range(batch)]
    log_prob = torch.zeros(batch, dtype=torch.float64)
    active = torch.tensor([limit > 0 for limit in limits], dtype=torch.bool)
    limit_tensor = torch.tensor(limits)
    tokens = start
    for position in range(max(limits, default=0)):
        log_probs, state = step(tokens, state)
        log_probs = log_probs.detach()
        tokens = choose(log_probs)
        chosen = log_probs.gather(-1, tokens.unsqueeze(-1)).squeeze(-1).double()
        log_prob += torch.where(active, chosen, 0.0)
        token_list = tokens.tolist()
        for row in active.nonzero().flatten().tolist():
            if token_list[row] != eos_id:
                tokens_out[row].append(token_list[row])
        active &= (tokens != eos_id) & (limit_tensor > position + 1)
        if not active.any():
            break
    return [
        Hypothesis(out, float(lp), float(lp))
        for out, lp in zip(tokens_out, log_prob.tolist(), strict=True)
    ]


def _max_lengths(max_lengths: int | Tensor, start: Tensor) -> list[int]:
    """``max_lengths`` as one non-negative int per batch row of ``start``."""
    if start.dim() != 1:
        raise ShapeError(f"start must have shape (B,), got {tuple(start.shape)}")
    batch = start.shape[0]
    if isinstance(max_lengths, Tensor):
        if max_lengths.shape != (batch,):
            raise ShapeError(
                f"max_lengths must be an int or have shape ({batch},), "
                f"got {tuple(max_lengths.shape)}"
            )
        limits = [int(value) for value in max_lengths.tolist()]
    else:
        limits = [max_lengths] * batch
    if any(not isinstance(limit, int) or isinstance(limit, bool) or limit < 0 for limit in limits):
        raise ConfigError(f"max_lengths must be non-negative integers, got {max_lengths!r}")
    return limits


def _check_filters(top_k: int | None, top_p: float | None) -> None:
    if top_k is not None:
        _check_int("top_k", top_k, 1)
    if top_p is not None and not 0 < top_p <= 1:
        raise ConfigError(f"top_p must be in (0, 1], got {top_p!r}")


def _check_int(name: str, value: int, minimum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")
