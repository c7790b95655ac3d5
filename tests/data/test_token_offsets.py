"""Token offsets point into the text as the user wrote it, even when the tokenizer normalised
or lower-cased it before splitting."""

import itertools
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from rnnkit.data.token_offsets import token_offsets
from rnnkit.data.tokenizers import get_tokenizer


def spans_of(text: str, tokenizer) -> list[str]:
    tokens = tokenizer.tokenize(text)
    return [text[start:end] for start, end in token_offsets(text, tokens, tokenizer.prepare)]


def test_unchanged_text_finds_each_token_in_order():
    text = "Flights  from Boston,to New York"
    tokens = ["Flights", "from", "Boston", ",", "to", "New", "York"]
    assert token_offsets(text, tokens) == [
        (0, 7), (9, 13), (14, 20), (20, 21), (21, 23), (24, 27), (28, 32),
    ]  # fmt: skip


def test_decomposed_text_maps_each_composed_token_back_to_its_characters():
    text = unicodedata.normalize("NFD", "Tôi sống ở Hà Nội.")
    tokenizer = get_tokenizer("word")
    tokens = tokenizer.tokenize(text)
    assert tokens == [
        unicodedata.normalize("NFC", t) for t in ["Tôi", "sống", "ở", "Hà", "Nội", "."]
    ]
    # each span is the decomposed original, one more character per accent
    assert spans_of(text, tokenizer) == [*text.rstrip(".").split(), "."]
    assert [len(t) for t in spans_of(text, tokenizer)] == [4, 6, 3, 3, 5, 1]


def test_korean_jamo_map_back_to_their_syllables():
    text = unicodedata.normalize("NFD", "서울에 간다")
    assert spans_of(text, get_tokenizer("word")) == text.split()
    syllables = get_tokenizer("char", keep_spaces=False)
    assert syllables.tokenize(text) == list("서울에간다")
    assert [len(span) for span in spans_of(text, syllables)] == [2, 3, 2, 3, 2]  # jamo each


def test_lower_cased_and_folded_text_maps_back():
    text = "Ｐａｒｉｓ and BERLIN"
    tokenizer = get_tokenizer("word", lowercase=True, normalize="NFKC")
    assert tokenizer.tokenize(text) == ["paris", "and", "berlin"]
    assert spans_of(text, tokenizer) == ["Ｐａｒｉｓ", "and", "BERLIN"]


def test_a_token_not_in_the_text_takes_the_cursor():
    assert token_offsets("abc def", ["abc", "xyz", "def"]) == [(0, 3), (3, 6), (6, 7)]
    assert token_offsets("ab", ["ab", "zz"]) == [(0, 2), (2, 2)]


PIECES = ["e\u0301", "é", "a", "Ä", "A\u0308", "한", "ᄒ\u1161\u11ab", " ", "."]


@given(st.lists(st.sampled_from(PIECES), max_size=12))
def test_every_word_span_prepares_to_its_token(pieces):
    text = "".join(pieces)
    tokenizer = get_tokenizer("word")
    tokens = tokenizer.tokenize(text)
    offsets = token_offsets(text, tokens, tokenizer.prepare)
    assert [tokenizer.prepare(text[start:end]) for start, end in offsets] == tokens
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(offsets))  # in order
