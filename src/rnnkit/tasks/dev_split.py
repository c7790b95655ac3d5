"""A run's dev examples: read from ``data.dev``, or, when no dev data is given, a fraction of
the training examples held out (as Flair holds out 10 %, and Keras's ``validation_split``).

The held-out examples are a fixed random choice (seeded by `HOLDOUT_SEED`, not by the
trainer's seed), so every run on the same file selects on the same dev examples: the seeds of
a recipe, the trials of a search and a resumed run compare alike.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TypeVar

from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks.common import log

Example = TypeVar("Example")
HOLDOUT_SEED = 0


def train_and_dev(
    train: list[Example],
    dev_path: str,
    read_dev: Callable[[str], list[Example]],
    holdout: float,
    train_path: str,
) -> tuple[list[Example], list[Example]]:
    """The training and dev examples: ``train`` and ``read_dev(dev_path)``, or without a
    ``dev_path``, ``train`` less a ``holdout`` fraction of it and that fraction (logged).

    Raises a `ConfigError` for a fraction outside (0, 1) and a `DataError` naming
    ``train_path`` when the training examples are too few to leave some on each side.
    """
    if dev_path:
        return train, read_dev(dev_path)
    if not 0 < holdout < 1:
        raise ConfigError(
            f"data.dev_holdout: expected a fraction in (0, 1) of the training data to hold out "
            f"as dev data when no --dev is given, got {holdout!r}"
        )
    count = round(len(train) * holdout)
    if not 0 < count < len(train):
        raise DataError(
            f"{len(train)} training examples are too few to hold out {holdout:g} of them as dev "
            "data; give --dev",
            train_path,
        )
    held = set(random.Random(HOLDOUT_SEED).sample(range(len(train)), count))
    log(
        f"no dev data given: {count} of the {len(train)} training examples held out as dev "
        f"(data.dev_holdout {holdout:g}; the same ones in every run on this file)"
    )
    kept = [example for index, example in enumerate(train) if index not in held]
    return kept, [example for index, example in enumerate(train) if index in held]
