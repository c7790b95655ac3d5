"""A linear-chain conditional random field over per-token emission scores.

Legend: B batch, T time, K tags.

For a sentence of length ``n`` with emission scores ``e_t`` (one row of K scores per token,
from the tagger's output layer) and a tag sequence ``y``, the score is (Lafferty et al.
2001; Lample et al. 2016, eq. 1)::

    s(x, y) = start[y_1] + Σ_{t=1..n} e_t[y_t] + Σ_{t=2..n} A[y_{t-1}, y_t] + end[y_n]

and ``p(y | x) = exp s(x, y) / Z(x)``, ``Z(x) = Σ_{y'} exp s(x, y')`` over all ``K^n``
sequences. ``log Z`` is computed by the forward algorithm in log space::

    α_1[j] = start[j] + e_1[j]
    α_t[j] = logsumexp_i(α_{t-1}[i] + A[i, j]) + e_t[j]
    log Z  = logsumexp_j(α_n[j] + end[j])

and the best sequence by Viterbi: the same recursion with ``max`` for ``logsumexp`` and
back-pointers. Batches are masked by ``lengths``: steps past a sentence's length leave its
``α`` (and its Viterbi scores) unchanged, so padding never affects a valid position.

Hard constraints (`bio_constraints`) replace forbidden transition and start scores by
`FORBIDDEN`: such sequences get probability ``exp(-10000) = 0`` in float32 and are never
decoded, while the loss stays finite if a gold sequence breaks a rule.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.nn.masking import check_lengths, valid_mask

# The score given to a forbidden transition or start: exp of it underflows to 0 in float32,
# yet it is finite, so a forbidden gold path gives a large loss instead of inf/NaN gradients.
FORBIDDEN = -1.0e4


class CRF(nn.Module):
    """Linear-chain CRF: transition scores, the forward algorithm and Viterbi decoding.

    Args:
        num_tags: K.

    Parameters: ``transitions (K, K)`` (``[i, j]`` scores moving from tag i to tag j),
    ``start_transitions (K,)``, ``end_transitions (K,)``, all initialised to zero (so an
    untrained CRF decodes like a per-token argmax). Buffers ``allowed (K, K)`` and
    ``allowed_start (K,)`` (bool, all True until `set_constraints`) are saved with the weights.

    Shape:
        emissions: (B, T, K) float; tags: (B, T) long, anything (e.g. -100) past each length;
        lengths: (B,) integers in ``[1, T]``.
    """

    def __init__(self, num_tags: int) -> None:
        super().__init__()
        if isinstance(num_tags, bool) or not isinstance(num_tags, int) or num_tags < 1:
            raise ConfigError(f"num_tags: expected a positive integer, got {num_tags!r}")
        self.num_tags = num_tags
        self.transitions = nn.Parameter(torch.zeros(num_tags, num_tags))
        self.start_transitions = nn.Parameter(torch.zeros(num_tags))
        self.end_transitions = nn.Parameter(torch.zeros(num_tags))
        self.register_buffer("allowed", torch.ones(num_tags, num_tags, dtype=torch.bool))
        self.register_buffer("allowed_start", torch.ones(num_tags, dtype=torch.bool))

    def set_constraints(self, allowed: Tensor, allowed_start: Tensor) -> None:
        """Forbids the transitions where ``allowed (K, K)`` is False and the first tags where
        ``allowed_start (K,)`` is False (see `bio_constraints`)."""
        for name, value, shape in (
            ("allowed", allowed, (self.num_tags, self.num_tags)),
            ("allowed_start", allowed_start, (self.num_tags,)),
        ):
            if not isinstance(value, Tensor) or value.dtype != torch.bool:
                raise ShapeError(f"{name}: expected a bool tensor, got {value!r}")
            if tuple(value.shape) != shape:
                raise ShapeError(f"{name}: expected shape {shape}, got {tuple(value.shape)}")
        if not bool(allowed_start.any()):
            raise ConfigError("allowed_start: expected at least one allowed first tag, got none")
        self.allowed.copy_(allowed)
        self.allowed_start.copy_(allowed_start)

    def scores(self) -> tuple[Tensor, Tensor]:
        """``(transitions (K, K), start (K,))`` with the constraints applied."""
        transitions = self.transitions.masked_fill(~self.allowed, FORBIDDEN)
        return transitions, self.start_transitions.masked_fill(~self.allowed_start, FORBIDDEN)

    def log_likelihood(self, emissions: Tensor, tags: Tensor, lengths: Tensor) -> Tensor:
        """``log p(tags | x) = s(x, tags) - log Z(x)`` for every sentence: (B,)."""
        emissions, lengths = self._check(emissions, lengths)
        tags = self._check_tags(tags, emissions, lengths)
        return self._gold_score(emissions, tags, lengths) - self._forward_algorithm(
            emissions, lengths
        )

    def log_partition(self, emissions: Tensor, lengths: Tensor) -> Tensor:
        """``log Z(x)`` by the forward algorithm: (B,)."""
        return self._forward_algorithm(*self._check(emissions, lengths))

    def _forward_algorithm(self, emissions: Tensor, lengths: Tensor) -> Tensor:
        """``log Z`` (B,). The sum over the previous tag runs as a matrix product in shifted
        exp space, ``logsumexp_i(α[i] + A[i, j]) = m + c_j + log Σ_i exp(α[i] - m)
        exp(A[i, j] - c_j)`` with ``m = max_i α[i]`` and ``c_j = max_i A[i, j]``, so nothing
        overflows; 11x faster than a ``(B, K, K)`` logsumexp at K = 127 on a CPU.

        Note: ``m + c_j`` only bounds the best path into tag j; when every path is more than
        ~87 nats below that bound (float32) the product underflows, and the entries where it
        does are computed again by the exact ``(B, K, K)`` logsumexp (a clamp to the smallest
        float instead would overstate them, by 30 nats with one transition score of 120).
        """
        transitions, start = self.scores()
        shift = transitions.max(dim=0).values.detach()  # (K,) c_j; any shift is exact
        exp_transitions = (transitions - shift).exp()  # (K, K), forbidden moves are 0
        tiny = torch.finfo(emissions.dtype).tiny
        mask = valid_mask(lengths, emissions.size(1), emissions.device)  # (B, T)
        steps, valid = emissions.unbind(1), mask.unbind(1)
        alpha = start + steps[0]  # (B, K)
        for emission, keep in zip(steps[1:], valid[1:], strict=True):
            top = alpha.max(dim=1, keepdim=True).values.detach()  # (B, 1) m
            total = (alpha - top).exp() @ exp_transitions  # (B, K)
            moved = total.clamp_min(tiny).log() + top + shift  # finite, exact where >= tiny
            underflow = total < tiny
            if bool(underflow.any()):
                exact = torch.logsumexp(alpha.unsqueeze(2) + transitions, dim=1)  # (B, K)
                moved = torch.where(underflow, exact, moved)
            moved = moved + emission
            alpha = torch.where(keep.unsqueeze(1), moved, alpha)
        return torch.logsumexp(alpha + self.end_transitions, dim=1)

    @torch.no_grad()
    def decode(self, emissions: Tensor, lengths: Tensor) -> list[list[int]]:
        """The highest-scoring tag sequence of each sentence (batched Viterbi).

        Returns one list of ``lengths[b]`` tag ids per sentence.
        """
        emissions, lengths = self._check(emissions, lengths)
        transitions, start = self.scores()
        batch, time, _ = emissions.shape
        mask = valid_mask(lengths, time, emissions.device)
        identity = torch.arange(self.num_tags, device=emissions.device).expand(batch, -1)
        score = start + emissions[:, 0]  # (B, K)
        pointers = []  # pointers[t - 1][b, j]: best previous tag for tag j at step t
        for t in range(1, time):
            best, previous = (score.unsqueeze(2) + transitions).max(dim=1)  # (B, K) each
            keep = mask[:, t].unsqueeze(1)
            score = torch.where(keep, best + emissions[:, t], score)
            # Past a length the pointer is the identity, so backtracking walks through padding.
            pointers.append(torch.where(keep, previous, identity))
        last = (score + self.end_transitions).argmax(dim=1)  # (B,)
        path = [last]
        for previous in reversed(pointers):
            last = previous.gather(1, last.unsqueeze(1)).squeeze(1)
            path.append(last)
        best_paths = torch.stack(path[::-1], dim=1).tolist()  # (B, T)
        return [row[:n] for row, n in zip(best_paths, lengths.tolist(), strict=True)]

    def _gold_score(self, emissions: Tensor, tags: Tensor, lengths: Tensor) -> Tensor:
        """``s(x, tags)`` with padding positions masked out: (B,)."""
        transitions, start = self.scores()
        mask = valid_mask(lengths, emissions.size(1), emissions.device)  # (B, T)
        tags = tags.masked_fill(~mask, 0)  # any valid index; masked out below
        emitted = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)  # (B, T)
        moved = transitions[tags[:, :-1], tags[:, 1:]]  # (B, T-1)
        last = tags.gather(1, (lengths.to(tags.device) - 1).unsqueeze(1)).squeeze(1)  # (B,)
        return (
            start[tags[:, 0]]
            + (emitted * mask).sum(1)
            + (moved * mask[:, 1:]).sum(1)
            + self.end_transitions[last]
        )

    def _check(self, emissions: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        if not isinstance(emissions, Tensor) or emissions.dim() != 3:
            shape = tuple(emissions.shape) if isinstance(emissions, Tensor) else emissions
            raise ShapeError(f"emissions: expected shape (B, T, {self.num_tags}), got {shape}")
        if emissions.size(2) != self.num_tags or emissions.size(1) < 1:
            raise ShapeError(
                f"emissions: expected shape (B, T >= 1, {self.num_tags}), "
                f"got {tuple(emissions.shape)}"
            )
        lengths = check_lengths(lengths, emissions.size(0), emissions.size(1))
        mask = valid_mask(lengths, emissions.size(1), emissions.device).unsqueeze(2)
        # Zero the padding so that even NaN/inf garbage there cannot reach a valid score.
        return emissions.masked_fill(~mask, 0.0), lengths.to(emissions.device)

    def _check_tags(self, tags: Tensor, emissions: Tensor, lengths: Tensor) -> Tensor:
        if not isinstance(tags, Tensor) or tuple(tags.shape) != tuple(emissions.shape[:2]):
            shape = tuple(tags.shape) if isinstance(tags, Tensor) else tags
            raise ShapeError(
                f"tags: expected shape {tuple(emissions.shape[:2])} (B, T), got {shape}"
            )
        tags = tags.to(emissions.device, torch.long)
        valid = tags[valid_mask(lengths, tags.size(1), tags.device)]
        if valid.numel() and (int(valid.min()) < 0 or int(valid.max()) >= self.num_tags):
            bad = valid[(valid < 0) | (valid >= self.num_tags)][0]
            raise ShapeError(
                f"tags: expected ids in [0, {self.num_tags}) within each length, got {int(bad)}"
            )
        return tags

    def extra_repr(self) -> str:
        return f"num_tags={self.num_tags}"


def bio_constraints(tag_names: Sequence[str]) -> tuple[Tensor, Tensor]:
    """The moves a BIO tagging allows: ``(allowed (K, K), allowed_start (K,))``, bool.

    ``I-X`` may only follow ``B-X`` or ``I-X``: so ``O → I-X``, ``B-X → I-Y`` and
    ``I-X → I-Y`` (X ≠ Y) and a sentence starting with ``I-X`` are forbidden; every other move
    is allowed. Tag names must be ``O``, ``B-<type>`` or ``I-<type>``.
    """
    parsed = []
    for name in tag_names:
        prefix, _, kind = name.partition("-")
        if not (name == "O" or (prefix in ("B", "I") and kind)):
            raise ConfigError(
                f"tag_names: expected 'O', 'B-<type>' or 'I-<type>' (BIO), got {name!r}"
            )
        parsed.append((prefix, kind))
    size = len(parsed)
    allowed = torch.ones(size, size, dtype=torch.bool)
    allowed_start = torch.ones(size, dtype=torch.bool)
    for j, (prefix, kind) in enumerate(parsed):
        if prefix != "I":
            continue
        allowed_start[j] = False
        for i, (previous_prefix, previous_kind) in enumerate(parsed):
            allowed[i, j] = previous_prefix in ("B", "I") and previous_kind == kind
    return allowed, allowed_start
