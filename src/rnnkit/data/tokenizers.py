"""Tokenizers: one protocol, picked by name from one registry, saved as a JSON-able config.

- ``word``: words (inner apostrophes kept: ``don't``; combining marks kept inside their word:
  ``मुझे``, ``مَرْحَبًا``) and each punctuation mark; detokenized with spaces, none before
  ``.,!?;:)``.
- ``whitespace``: runs of non-space characters; detokenized with single spaces.
- ``char``: every character (spaces too, unless ``keep_spaces=False``); concatenated back.
- ``zh-char``: every CJK character a token, runs of Latin letters/digits kept whole;
  detokenized without spaces except between two Latin runs.
- ``zh-bigram``: as ``zh-char``, each character token joined by the one after it (``我爱``);
  detokenized from each token's first character.
- ``jieba``: Chinese words segmented by `jieba` (whitespace dropped); detokenized as ``zh-char``.
- ``bpe``: subwords learned by ``train(texts, vocab_size=...)`` with Hugging Face `tokenizers`;
  detokenized by its decoder.

Every tokenizer but ``bpe`` first brings text to Unicode normal form ``normalize`` (``NFC`` by
default: ``e`` + combining acute and the precomposed ``é`` read alike, as do Korean jamo and
their syllable; ``NFKC`` also folds compatibility forms: full-width ``１２３，`` to ``123,``,
ligatures, superscripts; ``none`` keeps the text as it is), then lower-cases it if asked;
``bpe`` applies NFKC in its own normalizer. `BaseTokenizer.prepare` is that step.

Pre-tokenized data (ATIS, SNIPS, CoNLL) carries its tokens and bypasses tokenization.
"""

from __future__ import annotations

import inspect
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, Protocol, runtime_checkable

import regex

from rnnkit.errors import ConfigError


@runtime_checkable
class Tokenizer(Protocol):
    """What every tokenizer offers; `tokenizer_from_config` inverts ``to_config()``."""

    name: str

    def prepare(self, text: str) -> str: ...

    def tokenize(self, text: str) -> list[str]: ...

    def tokenize_batch(self, texts: Sequence[str]) -> list[list[str]]: ...

    def detokenize(self, tokens: Sequence[str]) -> str: ...

    def to_config(self) -> dict[str, Any]: ...


# The Unicode normal forms a tokenizer's ``normalize`` option takes ("none": left as it is).
NORMAL_FORMS = ("NFC", "NFKC", "none")


def check_normal_form(normalize: str) -> str:
    """``normalize`` if it is one of `NORMAL_FORMS`, else a `ConfigError`."""
    if normalize not in NORMAL_FORMS:
        raise ConfigError(
            f"unknown Unicode normal form {normalize!r}; expected one of {list(NORMAL_FORMS)}"
        )
    return normalize


def prepare_text(text: str, normalize: str, lowercase: bool) -> str:
    """``text`` in normal form ``normalize`` (ASCII text is in every form), lower-cased if
    ``lowercase``."""
    if normalize != "none" and not text.isascii():
        text = unicodedata.normalize(normalize, text)
    return text.lower() if lowercase else text


class BaseTokenizer:
    """Shared plumbing: options stored as attributes, batch = loop, config = name + options."""

    name: ClassVar[str] = ""
    normalize = "none"  # a tokenizer with the options sets them per instance
    lowercase = False

    def prepare(self, text: str) -> str:
        """The text as the tokenizer splits it: normalised and lower-cased as its options say."""
        return prepare_text(text, self.normalize, self.lowercase)

    def tokenize(self, text: str) -> list[str]:
        raise NotImplementedError

    def tokenize_batch(self, texts: Sequence[str]) -> list[list[str]]:
        """Tokenizes many texts; subclasses with a native batch path override this."""
        tokenize = self.tokenize
        return [tokenize(text) for text in texts]

    def detokenize(self, tokens: Sequence[str]) -> str:
        return " ".join(tokens)

    def options(self) -> dict[str, Any]:
        """The constructor arguments, read back from attributes of the same names."""
        names = inspect.signature(type(self).__init__).parameters
        return {name: getattr(self, name) for name in names if name != "self"}

    def to_config(self) -> dict[str, Any]:
        return {"name": self.name, **self.options()}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.options().items() if k != "model")
        return f"{type(self).__name__}({args})"


WORD_PATTERN = r"\w+(?:['’]\w+)*"  # a word, inner apostrophes kept
# ... or one punctuation mark or symbol. \x1c-\x1f (the information separators) are space to
# `re`'s \s, as to str.isspace, but not to the `regex` module's: named, so both skip them.
_WORD_OR_MARK = WORD_PATTERN + r"|[^\w\s\x1c-\x1f]"
# The `regex` module's \w holds the combining marks (Unicode's word characters): a Devanagari
# vowel sign, an Arabic or Hebrew vowel point stays in its word. Python's `re` has no marks in
# \w and splits the word at each; both read ASCII text alike (a property test checks it), and
# `re` is faster at it.
WORD_RE = regex.compile(_WORD_OR_MARK)
ASCII_WORD_RE = re.compile(_WORD_OR_MARK)
_NO_SPACE_BEFORE = re.compile(r" ([.,!?;:%)\]}])")
_NO_SPACE_AFTER = re.compile(r"([(\[{$]) ")


class WordTokenizer(BaseTokenizer):
    """Words and punctuation: ``"Don't stop, ok?"`` → ``["Don't", "stop", ",", "ok", "?"]``.

    A word keeps its combining marks: ``"मुझे यह पसंद है"`` → ``["मुझे", "यह", "पसंद", "है"]``.
    ``keep_marks=False`` splits a word at each mark (``"म", "ु", "झ", "े"``), as rnnkit did
    before the option existed; model directories written then load with it.
    """

    name = "word"

    def __init__(
        self, lowercase: bool = False, keep_marks: bool = True, normalize: str = "NFC"
    ) -> None:
        self.lowercase = lowercase  # lower-case before splitting
        self.keep_marks = keep_marks
        self.normalize = check_normal_form(normalize)

    def tokenize(self, text: str) -> list[str]:
        text = self.prepare(text)
        keeps_marks = self.keep_marks and not text.isascii()
        return (WORD_RE if keeps_marks else ASCII_WORD_RE).findall(text)

    def detokenize(self, tokens: Sequence[str]) -> str:
        text = " ".join(tokens)
        return _NO_SPACE_AFTER.sub(r"\1", _NO_SPACE_BEFORE.sub(r"\1", text))


class WhitespaceTokenizer(BaseTokenizer):
    """Splits on runs of whitespace; for text that is already tokenized (SST-2, ATIS)."""

    name = "whitespace"

    def __init__(self, lowercase: bool = False, normalize: str = "NFC") -> None:
        self.lowercase = lowercase
        self.normalize = check_normal_form(normalize)

    def tokenize(self, text: str) -> list[str]:
        return self.prepare(text).split()


class CharTokenizer(BaseTokenizer):
    """Every character a token (for names and character-level models)."""

    name = "char"

    def __init__(
        self, lowercase: bool = False, keep_spaces: bool = True, normalize: str = "NFC"
    ) -> None:
        self.lowercase = lowercase
        self.keep_spaces = keep_spaces  # False drops whitespace characters
        self.normalize = check_normal_form(normalize)

    def tokenize(self, text: str) -> list[str]:
        text = self.prepare(text)
        return list(text) if self.keep_spaces else [c for c in text if not c.isspace()]

    def detokenize(self, tokens: Sequence[str]) -> str:
        return "".join(tokens)


# Latin letters (with accents) and digits, kept together inside Chinese text.
_LATIN_RUN = r"[0-9A-Za-z\u00c0-\u024f]+(?:[.'’][0-9A-Za-z\u00c0-\u024f]+)*"
_ZH_CHAR = re.compile(_LATIN_RUN + r"|\S")
_LATIN_TOKEN = re.compile(_LATIN_RUN)


def join_chinese(tokens: Sequence[str]) -> str:
    """Joins Chinese tokens without spaces, except one space between two Latin/digit tokens."""
    parts: list[str] = []
    previous_latin = False
    for token in tokens:
        latin = _LATIN_TOKEN.fullmatch(token) is not None
        if latin and previous_latin:
            parts.append(" ")
        parts.append(token)
        previous_latin = latin
    return "".join(parts)


class ChineseCharTokenizer(BaseTokenizer):
    """Each CJK character a token; ``"我爱NLP 2024年"`` → ``["我", "爱", "NLP", "2024", "年"]``."""

    name = "zh-char"

    def __init__(self, lowercase: bool = False, normalize: str = "NFC") -> None:
        self.lowercase = lowercase  # lower-cases the Latin runs
        self.normalize = check_normal_form(normalize)

    def tokenize(self, text: str) -> list[str]:
        return _ZH_CHAR.findall(self.prepare(text))

    def detokenize(self, tokens: Sequence[str]) -> str:
        return join_chinese(tokens)


class ChineseBigramTokenizer(BaseTokenizer):
    """Each CJK character with the one after it: ``"我爱你NLP"`` → ``["我爱", "爱你", "你",
    "NLP"]``.

    One token per position, as ``zh-char`` reads them, each the character bigram that starts
    there (spaces are skipped, as ``zh-char`` skips them); a character before a Latin run or
    at the end stands alone, and Latin/digit runs stay whole. A bigram unseen in training
    reads as ``<unk>``; with character features (which their ``auto`` rule turns on for these
    two-character tokens) each position still reads its two characters: the character +
    bigram input of Chinese models (Zhang & Yang 2018).
    """

    name = "zh-bigram"

    def __init__(self, lowercase: bool = False, normalize: str = "NFC") -> None:
        self.lowercase = lowercase  # lower-cases the Latin runs
        self.normalize = check_normal_form(normalize)

    def tokenize(self, text: str) -> list[str]:
        tokens = _ZH_CHAR.findall(self.prepare(text))
        starts = [_is_character(token) for token in tokens]
        return [
            token + tokens[index + 1] if starts[index] and starts[index + 1] else token
            for index, token in enumerate(tokens[:-1])
        ] + tokens[-1:]

    def detokenize(self, tokens: Sequence[str]) -> str:
        return join_chinese([token if _LATIN_TOKEN.match(token) else token[0] for token in tokens])


def _is_character(token: str) -> bool:
    """One character that is not a Latin letter or digit (CJK, punctuation)."""
    return len(token) == 1 and _LATIN_TOKEN.fullmatch(token) is None


class JiebaTokenizer(BaseTokenizer):
    """Chinese word segmentation by `jieba` (its default dictionary); whitespace tokens dropped."""

    name = "jieba"

    def __init__(self, hmm: bool = True, lowercase: bool = False, normalize: str = "NFC") -> None:
        import jieba

        jieba.setLogLevel(logging.WARNING)  # silence the dictionary-loading banner
        self.hmm = hmm  # jieba's HMM guesses words missing from the dictionary
        self.lowercase = lowercase
        self.normalize = check_normal_form(normalize)
        self._cut = jieba.lcut

    def tokenize(self, text: str) -> list[str]:
        text = self.prepare(text)
        return [token for token in self._cut(text, HMM=self.hmm) if not token.isspace()]

    def detokenize(self, tokens: Sequence[str]) -> str:
        return join_chinese(tokens)


class BPETokenizer(BaseTokenizer):
    """Subword BPE (Sennrich et al., 2016) trained with Hugging Face `tokenizers`.

    Words are marked SentencePiece-style (``▁`` before each word), so Chinese and English both
    work and `detokenize` restores the spacing exactly. The trained model is stored in the
    config as the `tokenizers` JSON string, so the config alone rebuilds the tokenizer.
    """

    name = "bpe"

    def __init__(self, lowercase: bool = False, model: str | None = None) -> None:
        from tokenizers import Tokenizer as HFTokenizer

        self.lowercase = lowercase
        self.model = model  # the trained `tokenizers` JSON; None until `train`
        self._hf = HFTokenizer.from_str(model) if model is not None else None

    def train(
        self, texts: Iterable[str], vocab_size: int = 8000, min_frequency: int = 2
    ) -> BPETokenizer:
        """Learns merges from `texts` until `vocab_size` subwords; returns self."""
        from tokenizers import Tokenizer as HFTokenizer
        from tokenizers import decoders, models, normalizers, pre_tokenizers, trainers

        if vocab_size < 2:
            raise ConfigError(f"vocab_size must be at least 2, got {vocab_size}")
        hf = HFTokenizer(models.BPE(unk_token="<unk>"))
        steps = [normalizers.NFKC()] + ([normalizers.Lowercase()] if self.lowercase else [])
        hf.normalizer = normalizers.Sequence(steps)
        hf.pre_tokenizer = pre_tokenizers.Metaspace()
        hf.decoder = decoders.Metaspace()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size,
            min_frequency=min_frequency,
            special_tokens=["<unk>"],
            show_progress=False,
        )
        hf.train_from_iterator(texts, trainer=trainer)
        self._hf = hf
        self.model = hf.to_str()
        return self

    def _trained(self):
        if self._hf is None:
            raise ConfigError("the bpe tokenizer is not trained; call train(texts, vocab_size=...)")
        return self._hf

    def prepare(self, text: str) -> str:
        return self._trained().normalizer.normalize_str(text)

    def tokenize(self, text: str) -> list[str]:
        return self._trained().encode(text).tokens

    def tokenize_batch(self, texts: Sequence[str]) -> list[list[str]]:
        return [encoding.tokens for encoding in self._trained().encode_batch(list(texts))]

    def detokenize(self, tokens: Sequence[str]) -> str:
        return self._trained().decoder.decode(list(tokens))


TOKENIZERS: dict[str, type[BaseTokenizer]] = {
    cls.name: cls
    for cls in (
        WordTokenizer,
        WhitespaceTokenizer,
        CharTokenizer,
        ChineseCharTokenizer,
        ChineseBigramTokenizer,
        JiebaTokenizer,
        BPETokenizer,
    )
}


def get_tokenizer(name: str, **options: Any) -> Tokenizer:
    """The tokenizer registered as `name`, e.g. ``get_tokenizer("word", lowercase=True)``."""
    if name not in TOKENIZERS:
        raise ConfigError(f"unknown tokenizer {name!r}; expected one of {sorted(TOKENIZERS)}")
    cls = TOKENIZERS[name]
    valid = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise ConfigError(f"unknown option(s) {unknown} for tokenizer {name!r}; valid: {valid}")
    return cls(**options)


# Options added after a tokenizer was first saved, with the value that reads a config written
# before them (which lacks them) as the tokenizer its model was trained with.
OPTIONS_BEFORE_THEY_EXISTED = {
    **{name: {"normalize": "none"} for name in TOKENIZERS if name != "bpe"},
    "word": {"keep_marks": False, "normalize": "none"},
}


def tokenizer_from_config(config: dict[str, Any]) -> Tokenizer:
    """Rebuilds a tokenizer from ``to_config()`` output (e.g. read back from JSON)."""
    if not isinstance(config, dict) or "name" not in config:
        raise ConfigError(f"a tokenizer config must be a dict with a 'name' key, got {config!r}")
    options = {k: v for k, v in config.items() if k != "name"}
    earlier = OPTIONS_BEFORE_THEY_EXISTED.get(config["name"], {})
    return get_tokenizer(config["name"], **{**earlier, **options})
