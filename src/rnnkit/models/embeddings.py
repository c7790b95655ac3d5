"""Initialising an embedding from pretrained word vectors (word2vec / GloVe / fastText text).

The text format: one word per line followed by its numbers, separated by spaces; an
optional first line ``<count> <dimension>`` (word2vec, fastText). UTF-8, so Chinese
vectors load the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from rnnkit.errors import DataError


@dataclass(frozen=True)
class VectorReport:
    found: int  # vocabulary entries that received a pretrained vector
    out_of_vocabulary: int  # vocabulary entries left with their random initialisation
    dimension: int

    def __str__(self) -> str:
        total = self.found + self.out_of_vocabulary
        return f"{self.found}/{total} entries have a vector; {self.out_of_vocabulary} OOV"


def load_word_vectors(path: str | Path, embedding: nn.Embedding, tokens: list[str]) -> VectorReport:
    """Copies the vector of every token of ``tokens`` (index = embedding row) found in ``path``.

    Rows of tokens absent from the file keep their initialisation (they are counted as OOV).
    Raises a `DataError` naming the file and line for a malformed line or a dimension that
    differs from ``embedding.embedding_dim``.
    """
    path = Path(path)
    wanted = {token: index for index, token in enumerate(tokens)}
    dimension = embedding.embedding_dim
    found = 0
    with path.open(encoding="utf-8-sig") as lines, torch.no_grad():
        for number, line in enumerate(lines, start=1):
            parts = line.rstrip("\n").rstrip(" ").split(" ")
            if number == 1 and len(parts) == 2 and all(part.isdigit() for part in parts):
                continue  # the optional "<count> <dimension>" header
            if len(parts) != dimension + 1:
                raise DataError(
                    f"expected a word and {dimension} numbers, found {len(parts) - 1} numbers",
                    path,
                    number,
                )
            index = wanted.pop(parts[0], None)
            if index is None:
                continue
            try:
                embedding.weight[index] = torch.tensor([float(value) for value in parts[1:]])
            except ValueError:
                raise DataError(f"expected numbers after {parts[0]!r}", path, number) from None
            found += 1
    return VectorReport(found=found, out_of_vocabulary=len(tokens) - found, dimension=dimension)
