"""Vocabularies: token ↔ id maps for inputs (`Vocab`, with specials) and for classes or tags
(`LabelVocab`, no specials: an unseen label is an error, never `<unk>`). Both save as JSON."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import repeat
from pathlib import Path
from typing import Any

from rnnkit.errors import ConfigError, DataError

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIALS = (PAD, UNK, BOS, EOS)  # ids 0, 1, 2, 3 in every `Vocab`


def _read_json(path: str | Path, kind: str) -> dict[str, Any]:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{kind} file not found", path) from None
    except json.JSONDecodeError as exc:
        raise DataError(f"invalid JSON: {exc.msg}", path, exc.lineno, exc.colno) from None
    if not isinstance(data, dict) or data.get("type") != kind:
        raise DataError(f"expected a JSON object with type {kind!r}", path)
    return data


def _write_json(path: str | Path, data: dict[str, Any]) -> None:
    Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def _check_unique(tokens: Sequence[str], kind: str) -> None:
    if len(set(tokens)) != len(tokens):
        duplicates = sorted({t for t, n in Counter(tokens).items() if n > 1})
        raise ConfigError(f"{kind} entries must be unique; duplicated: {duplicates[:10]}")


class Vocab:
    """Token ↔ id map with ``<pad>``=0, ``<unk>``=1, ``<bos>``=2, ``<eos>``=3.

    Build it with `Vocab.build`; the order after the specials is by frequency (highest
    first), ties by token, so the same data always gives the same ids.
    """

    def __init__(self, tokens: Sequence[str]) -> None:
        tokens = list(tokens)
        if tuple(tokens[: len(SPECIALS)]) != SPECIALS:
            raise ConfigError(f"a Vocab must start with {list(SPECIALS)}, got {tokens[:4]}")
        _check_unique(tokens, "vocabulary")
        self.tokens = tokens
        self.index = {token: i for i, token in enumerate(tokens)}
        self.pad_id, self.unk_id, self.bos_id, self.eos_id = range(len(SPECIALS))

    @classmethod
    def build(
        cls, token_streams: Iterable[Sequence[str]], min_freq: int = 1, max_size: int | None = None
    ) -> Vocab:
        """Counts tokens over `token_streams` (one token list per example).

        Args:
            min_freq: tokens seen fewer times map to ``<unk>``.
            max_size: the total size including the four specials; the rarest are cut.
        """
        if min_freq < 1:
            raise ConfigError(f"min_freq must be at least 1, got {min_freq}")
        if max_size is not None and max_size < len(SPECIALS):
            raise ConfigError(f"max_size must be at least {len(SPECIALS)}, got {max_size}")
        counts: Counter[str] = Counter()
        for tokens in token_streams:
            counts.update(tokens)
        for special in SPECIALS:
            counts.pop(special, None)
        kept = sorted(
            (t for t, n in counts.items() if n >= min_freq), key=lambda t: (-counts[t], t)
        )
        if max_size is not None:
            kept = kept[: max_size - len(SPECIALS)]
        return cls([*SPECIALS, *kept])

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: str) -> bool:
        return token in self.index

    def encode(
        self, tokens: Sequence[str], add_bos: bool = False, add_eos: bool = False
    ) -> list[int]:
        """Token list → ids; unknown tokens become `unk_id`."""
        ids = list(map(self.index.get, tokens, repeat(self.unk_id)))  # C loop, no bytecode
        if add_bos:
            ids.insert(0, self.bos_id)
        if add_eos:
            ids.append(self.eos_id)
        return ids

    def decode(self, ids: Iterable[int], strip_specials: bool = False) -> list[str]:
        """Ids → tokens; with `strip_specials`, stops at ``<eos>`` and drops pad/bos."""
        tokens = []
        for i in ids:
            i = int(i)
            if not 0 <= i < len(self.tokens):
                raise ConfigError(f"id {i} is outside the vocabulary (size {len(self.tokens)})")
            if strip_specials:
                if i == self.eos_id:
                    break
                if i in (self.pad_id, self.bos_id):
                    continue
            tokens.append(self.tokens[i])
        return tokens

    # The JSON round trip is alike `LabelVocab`'s by design: each checks its own type tag and
    # field, and the two classes share no other behaviour (special tokens, unknown words).
    def to_dict(self) -> dict[str, Any]:
        return {"type": "vocab", "tokens": list(self.tokens)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Vocab:
        if not isinstance(data, dict) or data.get("type") != "vocab" or "tokens" not in data:
            raise ConfigError("a Vocab dict needs type 'vocab' and a 'tokens' list")
        return cls(data["tokens"])

    def save(self, path: str | Path) -> None:
        _write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> Vocab:
        return cls.from_dict(_read_json(path, "vocab"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and self.tokens == other.tokens

    def __repr__(self) -> str:
        return f"Vocab(size={len(self)})"


class LabelVocab:
    """Class or tag names ↔ ids, sorted by name, no specials.

    `encode` of a label never seen at build time raises a `DataError` naming the label (and
    the file and line when given), because mapping it to anything would corrupt evaluation.
    """

    def __init__(self, labels: Sequence[str]) -> None:
        labels = list(labels)
        if not labels:
            raise ConfigError("a LabelVocab needs at least one label")
        _check_unique(labels, "label")
        self.labels = labels
        self.index = {label: i for i, label in enumerate(labels)}

    @classmethod
    def build(cls, labels: Iterable[str]) -> LabelVocab:
        """All distinct labels (a flat iterable; for tags, chain the tag lists), sorted."""
        return cls(sorted(set(labels)))

    def __len__(self) -> int:
        return len(self.labels)

    def __contains__(self, label: str) -> bool:
        return label in self.index

    def encode(self, label: str, path: str | Path | None = None, line: int | None = None) -> int:
        try:
            return self.index[label]
        except KeyError:
            known = self.labels if len(self.labels) <= 20 else [*self.labels[:20], "..."]
            raise DataError(
                f"unknown label {label!r}; expected one of the {len(self.labels)} labels seen "
                f"in training: {known}",
                path,
                line,
            ) from None

    def encode_many(
        self, labels: Iterable[str], path: str | Path | None = None, line: int | None = None
    ) -> list[int]:
        """A tag sequence → ids (the error names the first unknown tag)."""
        return [self.encode(label, path, line) for label in labels]

    def decode(self, ids: Iterable[int] | int) -> list[str] | str:
        """One id → its label; a sequence of ids → a list of labels."""
        if isinstance(ids, int):
            return self.labels[ids]
        return [self.labels[int(i)] for i in ids]

    # The JSON round trip is alike `Vocab`'s by design (see there).
    def to_dict(self) -> dict[str, Any]:
        return {"type": "labels", "labels": list(self.labels)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LabelVocab:
        if not isinstance(data, dict) or data.get("type") != "labels" or "labels" not in data:
            raise ConfigError("a LabelVocab dict needs type 'labels' and a 'labels' list")
        return cls(data["labels"])

    def save(self, path: str | Path) -> None:
        _write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> LabelVocab:
        return cls.from_dict(_read_json(path, "labels"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LabelVocab) and self.labels == other.labels

    def __repr__(self) -> str:
        return (
            f"LabelVocab({self.labels!r})" if len(self) <= 10 else f"LabelVocab(size={len(self)})"
        )
