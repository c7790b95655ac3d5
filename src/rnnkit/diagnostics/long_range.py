"""Long-range tasks: the signal comes early, the loss comes late.

Legend: N samples, T time, K copy length, V vocabulary.

- The **adding problem** (Hochreiter & Schmidhuber 1997, in the form of Le et al. 2015 and
  Arjovsky et al. 2016): two channels of T steps, random values in [0, 1) and a marker that is
  1 at exactly two steps, one in each half of the sequence; the target is the sum of the two
  marked values. Predicting the mean, 1, gives MSE = Var(U + U) = 1/6 ≈ 0.167.
- The **copy-memory task** (Arjovsky et al. 2016): K symbols, T - 1 blanks, a delimiter, K
  blanks; the model must output blanks and then, after the delimiter, the K symbols. Guessing
  gives an accuracy of 1/num_symbols on the K recall steps.
- **Signal at the start**: real labelled sentences followed by label-free distractor tokens,
  so the information a classifier needs is far from the final state it reads.

Every generator takes a seed or a ``torch.Generator`` and is deterministic.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from rnnkit.errors import ConfigError

BLANK = 0  # copy-memory tokens: 0 blank, 1..num_symbols symbols, num_symbols + 1 delimiter

# Frequent English function words and punctuation: no sentiment, no topic.
DEFAULT_DISTRACTORS = (
    "the", "a", "of", "and", "to", "in", "is", "that", "it", "with", "as", "for", "on", "this",
    ",", ".",
)  # fmt: skip


def as_generator(seed: int | torch.Generator) -> torch.Generator:
    """A ``torch.Generator`` from a seed (a generator is used as it is, advancing its state)."""
    if isinstance(seed, torch.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigError(f"seed: expected an integer or a torch.Generator, got {seed!r}")
    return torch.Generator().manual_seed(seed)


def check_at_least(minimum: int, **values: int) -> None:
    """Raises a `ConfigError` naming the first value that is not an integer >= ``minimum``."""
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ConfigError(f"{name}: expected an integer >= {minimum}, got {value!r}")


def adding_problem(
    num_samples: int, length: int, seed: int | torch.Generator
) -> tuple[Tensor, Tensor]:
    """The adding problem with sequences of ``length`` steps.

    Returns ``inputs (N, T, 2)`` float — channel 0 the values, channel 1 the two markers (one
    in ``[0, T//2)``, one in ``[T//2, T)``) — and ``targets (N,)``, the sum of the marked values.
    """
    check_at_least(1, num_samples=num_samples)
    check_at_least(2, length=length)
    generator = as_generator(seed)
    values = torch.rand(num_samples, length, generator=generator)
    half = length // 2
    first = torch.randint(0, half, (num_samples,), generator=generator)
    second = torch.randint(half, length, (num_samples,), generator=generator)
    markers = torch.zeros(num_samples, length)
    rows = torch.arange(num_samples)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    targets = values[rows, first] + values[rows, second]
    return torch.stack([values, markers], dim=-1), targets


def copy_memory(
    num_samples: int,
    length: int,
    seed: int | torch.Generator,
    num_symbols: int = 8,
    copy_length: int = 10,
) -> tuple[Tensor, Tensor]:
    """The copy-memory task with a delay of ``length`` steps (Arjovsky et al. use K = 10).

    Returns ``inputs (N, T + 2K)`` and ``targets (N, T + 2K)``, both long, over a vocabulary of
    ``num_symbols + 2`` tokens: 0 blank, 1..num_symbols the symbols, num_symbols + 1 the
    delimiter, placed at step ``K + T - 1``. The targets are blank except the last K steps,
    which hold the first K inputs.
    """
    check_at_least(1, num_samples=num_samples, length=length, copy_length=copy_length)
    check_at_least(2, num_symbols=num_symbols)
    generator = as_generator(seed)
    total = length + 2 * copy_length
    symbols = torch.randint(1, num_symbols + 1, (num_samples, copy_length), generator=generator)
    inputs = torch.full((num_samples, total), BLANK, dtype=torch.long)
    inputs[:, :copy_length] = symbols
    inputs[:, copy_length + length - 1] = num_symbols + 1
    targets = torch.full((num_samples, total), BLANK, dtype=torch.long)
    targets[:, -copy_length:] = symbols
    return inputs, targets


@dataclass(frozen=True)
class SignalExample:
    """One sentence followed by distractors: ``tokens[:signal_length]`` carry the label."""

    tokens: list[str]
    label: int
    signal_length: int


def start_signal_examples(
    examples: Iterable[tuple[str, int]],
    num_distractors: int,
    seed: int | torch.Generator,
    distractors: Sequence[str] = DEFAULT_DISTRACTORS,
) -> list[SignalExample]:
    """Puts each labelled sentence first and ``num_distractors`` random distractors after it.

    Args:
        examples: ``(text, label)`` pairs; the text is split on whitespace (SST-2 and similar
            sets are already tokenised).
        num_distractors: tokens after each sentence, so the label's evidence is at least this
            many steps from the end of the sequence.
        seed: seed or generator for drawing the distractors.
        distractors: the tokens to draw from, uniformly with replacement.

    Raises a `ConfigError` naming the example for an empty text.
    """
    check_at_least(0, num_distractors=num_distractors)
    if not distractors:
        raise ConfigError("distractors: expected at least one token, got an empty sequence")
    generator = as_generator(seed)
    built = []
    for index, (text, label) in enumerate(examples):
        words = text.split()
        if not words:
            raise ConfigError(f"examples[{index}]: expected a non-empty text, got {text!r}")
        drawn = torch.randint(0, len(distractors), (num_distractors,), generator=generator)
        tokens = words + [distractors[int(i)] for i in drawn]
        built.append(SignalExample(tokens, label, len(words)))
    return built
