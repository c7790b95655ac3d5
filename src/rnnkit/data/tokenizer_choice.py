"""``tokenizer="auto"``: pick the tokenizer from the training texts, and say why.

The rules, in order (each measured on up to ``SAMPLE`` training texts):

1. CJK script (Chinese, Japanese kana, Korean hangul) and the other scripts written without
   spaces between words (Thai, Lao, Khmer, Myanmar) make up at least ``CJK_SHARE`` of the
   non-space characters → ``zh-char``. It reads every such character as a token and keeps
   runs of Latin letters and digits whole, so mixed Chinese/English text (the demo's
   intents) reads well too. Whitespace-splitting tokenizers would read a whole Chinese or
   Thai clause as one token, unseen at test time.
2. At least ``SINGLE_WORD_SHARE`` of the texts are one word (surnames, single terms) →
   ``char``: with word tokens, each unseen name would be one ``<unk>``.
3. Otherwise → ``word`` (words and punctuation marks).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import regex

from rnnkit.data.tokenizers import WORD_PATTERN

AUTO_TOKENIZER = "auto"  # the tokenizer setting that asks for this choice
CJK_SHARE = 0.1  # of the non-space characters
SINGLE_WORD_SHARE = 0.8  # of the texts
SAMPLE = 20_000  # texts inspected, spread evenly over the training set

_CJK = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"  # CJK
    r"\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]"  # Thai and Lao, Myanmar, Khmer
)
_WORDS = regex.compile(WORD_PATTERN)  # the word tokenizer's words


@dataclass(frozen=True)
class TokenizerChoice:
    """The tokenizer ``auto`` picked, and the measurement behind it (printed at training start)."""

    name: str
    reason: str

    def describe(self) -> str:
        return f"tokenizer auto → {self.name}: {self.reason}"


def choose_tokenizer(texts: Sequence[str]) -> TokenizerChoice:
    """The tokenizer for these training texts (see the module docstring for the rules)."""
    step = max(1, len(texts) // SAMPLE)
    sample = [text for text in texts[::step] if text.strip()]
    if not sample:
        return TokenizerChoice("word", "no non-empty training text to measure")
    characters = sum(len(text) - sum(c.isspace() for c in text) for text in sample)
    cjk = sum(len(_CJK.findall(text)) for text in sample) / max(1, characters)
    if cjk >= CJK_SHARE:
        return TokenizerChoice(
            "zh-char",
            f"{cjk:.0%} of the characters are in scripts written without spaces between "
            f"words (CJK, Thai, Lao, Khmer, Myanmar; ≥ {CJK_SHARE:.0%})",
        )
    words = [len(_WORDS.findall(text)) for text in sample]
    single = sum(count <= 1 for count in words) / len(sample)
    if single >= SINGLE_WORD_SHARE:
        return TokenizerChoice(
            "char", f"{single:.0%} of the texts are a single word (≥ {SINGLE_WORD_SHARE:.0%})"
        )
    return TokenizerChoice(
        "word",
        f"{sum(words) / len(sample):.1f} words per text, {single:.0%} single-word texts, "
        f"{cjk:.0%} characters of scripts without spaces",
    )
