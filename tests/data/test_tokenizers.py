import json
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rnnkit.data.tokenizers import (
    ASCII_WORD_RE,
    OPTIONS_BEFORE_THEY_EXISTED,
    TOKENIZERS,
    WORD_RE,
    Tokenizer,
    get_tokenizer,
    tokenizer_from_config,
)
from rnnkit.errors import ConfigError

CORPUS = ["the cat sat on the mat .", "the dog ate the cat", "我爱自然语言处理 NLP"] * 30


def build(name: str) -> Tokenizer:
    tokenizer = get_tokenizer(name)
    if name == "bpe":
        tokenizer.train(CORPUS, vocab_size=80, min_frequency=1)
    return tokenizer


def test_word_splits_punctuation_and_keeps_inner_apostrophes():
    tokenizer = get_tokenizer("word")
    assert tokenizer.tokenize("Don't stop, ok? (yes)") == [
        "Don't", "stop", ",", "ok", "?", "(", "yes", ")",
    ]  # fmt: skip
    assert get_tokenizer("word", lowercase=True).tokenize("Hello World!") == ["hello", "world", "!"]


# Scripts whose words carry combining marks (category M): Devanagari and Tamil vowel signs and
# viramas, Arabic and Hebrew vowel points. Python's `re` splits a word at each of them.
MARKED_WORDS = {
    "मुझे यह फिल्म पसंद आई!": ["मुझे", "यह", "फिल्म", "पसंद", "आई", "!"],
    "நான் தமிழ் பேசுகிறேன்": ["நான்", "தமிழ்", "பேசுகிறேன்"],
    "مَرْحَبًا بِكُمْ؟": ["مَرْحَبًا", "بِكُمْ", "؟"],
    "שָׁלוֹם, עוֹלָם": ["שָׁלוֹם", ",", "עוֹלָם"],
}


@pytest.mark.parametrize("text", MARKED_WORDS)
def test_word_keeps_combining_marks_inside_their_word(text):
    assert get_tokenizer("word").tokenize(text) == MARKED_WORDS[text]


def test_word_without_keep_marks_splits_at_them_as_models_saved_before_the_option_did():
    assert get_tokenizer("word", keep_marks=False).tokenize("मुझे यह") == ["म", "ु", "झ", "े", "यह"]
    # a config saved before keep_marks existed reads as the tokenizer its model was trained with
    old = tokenizer_from_config({"name": "word", "lowercase": True})
    assert old.to_config() == {
        "name": "word", "lowercase": True, "keep_marks": False, "normalize": "none",
    }  # fmt: skip
    assert old.tokenize("मुझे") == ["म", "ु", "झ", "े"]
    assert tokenizer_from_config(get_tokenizer("word").to_config()).tokenize("मुझे") == ["मुझे"]


# The same words, precomposed (NFC) and decomposed (NFD): Vietnamese, a French accent, Korean
# syllables and their jamo.
DECOMPOSED = ["Tiếng Việt rất hay", "café crème", "한국어 문장", "Ελληνικά"]
UNICODE_TOKENIZERS = sorted(set(TOKENIZERS) - {"bpe"})


@pytest.mark.parametrize("name", UNICODE_TOKENIZERS)
@pytest.mark.parametrize("text", DECOMPOSED)
def test_composed_and_decomposed_text_read_alike(name, text):
    composed, decomposed = unicodedata.normalize("NFC", text), unicodedata.normalize("NFD", text)
    assert composed != decomposed
    tokenizer = get_tokenizer(name)
    assert tokenizer.tokenize(decomposed) == tokenizer.tokenize(composed)
    assert all(unicodedata.is_normalized("NFC", token) for token in tokenizer.tokenize(decomposed))
    as_given = get_tokenizer(name, normalize="none")
    assert as_given.tokenize(decomposed) != as_given.tokenize(composed)


def test_word_keeps_a_decomposed_accent_in_its_word_without_normalisation():
    text = "cafe\u0301 au lait"  # é as e + a combining acute
    assert get_tokenizer("word").tokenize(text) == ["caf\u00e9", "au", "lait"]
    assert get_tokenizer("word", normalize="none").tokenize(text) == ["cafe\u0301", "au", "lait"]


def test_nfkc_folds_full_width_forms_and_nfc_keeps_them():
    text = "用ＧＰＵ跑１２３次，ﬁne"
    assert get_tokenizer("zh-char", normalize="NFKC").tokenize(text) == [
        "用", "GPU", "跑", "123", "次", ",", "fine",
    ]  # fmt: skip
    assert get_tokenizer("zh-char").tokenize(text)[:3] == ["用", "Ｇ", "Ｐ"]
    assert get_tokenizer("word", normalize="NFKC", lowercase=True).prepare("ＡＢＣ²") == "abc2"


def test_an_unknown_normal_form_is_a_config_error():
    with pytest.raises(ConfigError, match=r"unknown Unicode normal form 'NFD'; expected one of"):
        get_tokenizer("char", normalize="NFD")


@pytest.mark.parametrize("name", UNICODE_TOKENIZERS)
def test_configs_saved_before_normalisation_read_text_as_given(name):
    decomposed = unicodedata.normalize("NFD", "café")
    old = tokenizer_from_config({"name": name})
    assert old.to_config()["normalize"] == "none"
    before = get_tokenizer(name, **OPTIONS_BEFORE_THEY_EXISTED[name])
    assert (
        old.tokenize(decomposed)
        == before.tokenize(decomposed)
        != get_tokenizer(name).tokenize(decomposed)
    )
    assert tokenizer_from_config(get_tokenizer(name).to_config()).to_config()["normalize"] == "NFC"


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_the_ascii_fast_path_reads_ascii_as_the_unicode_pattern_does(text):
    # ASCII text skips the `regex` pattern for `re`'s faster one: they must split it alike
    assert ASCII_WORD_RE.findall(text) == WORD_RE.findall(text)


def test_word_reads_ascii_alike_with_and_without_marks():
    text = "Don't stop_it, ok? 3.5 $10 (yes) e-mail"
    assert get_tokenizer("word").tokenize(text) == get_tokenizer("word", keep_marks=False).tokenize(
        text
    ) == ["Don't", "stop_it", ",", "ok", "?", "3", ".", "5", "$", "10", "(", "yes", ")", "e", "-",
          "mail"]  # fmt: skip


def test_word_detokenize_attaches_punctuation():
    tokenizer = get_tokenizer("word")
    assert (
        tokenizer.detokenize(["Hello", ",", "world", "(", "yes", ")", "!"]) == "Hello, world (yes)!"
    )


def test_whitespace_and_char():
    assert get_tokenizer("whitespace").tokenize(" a  b\tc ") == ["a", "b", "c"]
    assert get_tokenizer("char").tokenize("Li Na") == ["L", "i", " ", "N", "a"]
    assert get_tokenizer("char", keep_spaces=False).tokenize("Li Na") == ["L", "i", "N", "a"]
    assert get_tokenizer("char").detokenize(["L", "i", " ", "N", "a"]) == "Li Na"


def test_zh_char_keeps_latin_and_digit_runs_whole():
    tokens = get_tokenizer("zh-char").tokenize("我爱NLP 2024年，很好")
    assert tokens == ["我", "爱", "NLP", "2024", "年", "，", "很", "好"]
    assert get_tokenizer("zh-char").detokenize(tokens) == "我爱NLP 2024年，很好"
    assert get_tokenizer("zh-char", lowercase=True).tokenize("用GPU") == ["用", "gpu"]


def test_zh_bigram_reads_each_character_with_the_next_one_per_position():
    tokenizer = get_tokenizer("zh-bigram")
    text = "我爱NLP 2024年，很好"
    tokens = tokenizer.tokenize(text)
    assert tokens == ["我爱", "爱", "NLP", "2024", "年，", "，很", "很好", "好"]
    assert len(tokens) == len(get_tokenizer("zh-char").tokenize(text))  # the same positions
    assert tokenizer.detokenize(tokens) == text
    assert tokenizer.tokenize("好") == ["好"]
    assert tokenizer.tokenize("") == []
    assert get_tokenizer("zh-bigram", lowercase=True).tokenize("用GPU跑") == ["用", "gpu", "跑"]


def test_jieba_segments_words():
    tokens = get_tokenizer("jieba").tokenize("北京欢迎你 Hello")
    assert tokens == ["北京", "欢迎", "你", "Hello"]
    assert get_tokenizer("jieba").detokenize(tokens) == "北京欢迎你Hello"


def test_bpe_learns_subwords_and_detokenizes_exactly():
    tokenizer = build("bpe")
    tokens = tokenizer.tokenize("the cat sat")
    assert len(tokens) < len("the cat sat")  # merges happened
    assert tokenizer.detokenize(tokens) == "the cat sat"
    assert tokenizer.tokenize_batch(["the cat", "the dog"]) == [
        tokenizer.tokenize("the cat"),
        tokenizer.tokenize("the dog"),
    ]


def test_untrained_bpe_raises():
    with pytest.raises(ConfigError, match="not trained"):
        get_tokenizer("bpe").tokenize("text")


@pytest.mark.parametrize("name", sorted(TOKENIZERS))
def test_every_tokenizer_round_trips_through_json(name):
    tokenizer = build(name)
    assert isinstance(tokenizer, Tokenizer)
    config = json.loads(json.dumps(tokenizer.to_config()))
    assert config["name"] == name
    rebuilt = tokenizer_from_config(config)
    text = "The cat sat, 我爱NLP 2024年"
    assert rebuilt.tokenize(text) == tokenizer.tokenize(text)
    assert rebuilt.to_config() == tokenizer.to_config()


def test_registry_errors_name_the_valid_choices():
    with pytest.raises(ConfigError, match=r"unknown tokenizer 'spacy'; expected one of \['bpe'"):
        get_tokenizer("spacy")
    with pytest.raises(ConfigError, match=r"unknown option\(s\) \['lower'\] for tokenizer 'word'"):
        get_tokenizer("word", lower=True)
    with pytest.raises(ConfigError, match="'name' key"):
        tokenizer_from_config({"lowercase": True})
