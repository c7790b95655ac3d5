"""``tokenizer="auto"``: the choice from the training texts, its reason, and what is saved."""

from __future__ import annotations

import json
import logging

from rnnkit.data import read_classification
from rnnkit.data.tokenizer_choice import choose_tokenizer
from rnnkit.tasks.common import DataSettings, build_tokenizer
from rnnkit.tasks.demo import demo_data


def test_chinese_text_gets_chinese_characters():
    choice = choose_tokenizer(["房间很大，床有2M宽", "服务态度不好", "早餐一般"])
    assert choice.name == "zh-char"
    assert "% of the characters are in scripts written without spaces between words" in (
        choice.reason
    )


def test_thai_khmer_lao_and_myanmar_get_characters_as_chinese_does():
    # written without spaces between words: a word tokenizer reads a whole clause as one token
    for texts in (["อาหารอร่อยมาก", "บริการดีมากครับ"], ["ខ្ញុំស្រឡាញ់ភាសាខ្មែរ"],
                  ["ຂ້ອຍຮັກພາສາລາວ"], ["ကျွန်တော် မြန်မာစကား ပြောတတ်တယ်"]):  # fmt: skip
        choice = choose_tokenizer(texts)
        assert choice.name == "zh-char", texts
        assert "(CJK, Thai, Lao, Khmer, Myanmar; ≥ 10%)" in choice.reason


def test_words_with_combining_marks_count_as_one_word():
    # Hindi surnames are single words: each would be 2-4 words split at its vowel signs
    assert choose_tokenizer(["शर्मा", "वर्मा", "गुप्ता", "सिंह", "कुमार"]).name == "char"
    choice = choose_tokenizer(["मुझे यह फिल्म पसंद आई", "बहुत अच्छी फिल्म"])
    assert choice.name == "word"
    assert choice.reason.startswith("4.0 words per text, 0% single-word texts")


def test_single_word_texts_get_characters():
    choice = choose_tokenizer(["Abadi", "Nakamura", "O'Neill", "Smith", "van Dijk"])
    assert choice.name == "char"  # 4 of 5 texts are one word
    assert choice.reason.startswith("80% of the texts are a single word")


def test_sentences_get_words():
    choice = choose_tokenizer(["what time is it ?", "play some jazz", "great", "not bad at all"])
    assert choice.name == "word"
    assert choice.reason.startswith("3.0 words per text, 25% single-word texts")


def test_empty_training_texts_fall_back_to_words():
    assert choose_tokenizer(["", "   "]).name == "word"


def test_mixed_english_and_chinese_demo_set_gets_chinese_characters():
    train, _ = demo_data()
    texts = [example.text for example in read_classification(str(train)).examples]
    assert choose_tokenizer(texts).name == "zh-char"
    tokenizer = build_tokenizer(DataSettings(), texts)
    assert tokenizer.tokenize("What time is it? 现在几点") == [
        "what", "time", "is", "it", "?", "现", "在", "几", "点",
    ]  # fmt: skip


def test_auto_is_the_default_and_is_logged(caplog):
    assert DataSettings().tokenizer == "auto"
    with caplog.at_level(logging.INFO, logger="rnnkit"):
        tokenizer = build_tokenizer(DataSettings(lowercase=False), ["Abadi", "Smith"])
    assert tokenizer.name == "char" and tokenizer.tokenize("Ab") == ["A", "b"]
    assert "tokenizer auto → char: 100% of the texts are a single word" in caplog.text


def test_training_saves_the_tokenizer_auto_chose(tmp_path):
    from rnnkit.config import apply_overrides
    from rnnkit.tasks.classification import ClassifyConfig, train_classifier

    train = tmp_path / "train.tsv"
    rows = ["text\tlabel"] + [f"{name}\t{lang}" for name, lang in [
        ("Abadi", "ar"), ("Haddad", "ar"), ("Smith", "en"), ("Jones", "en")] * 4]  # fmt: skip
    train.write_text("\n".join(rows) + "\n", encoding="utf-8")
    config = apply_overrides(ClassifyConfig(), [
        f"data.train={train}", f"data.dev={train}", "trainer.epochs=1",
        "model.hidden_size=8", "model.embedding_dim=8",
    ])  # fmt: skip
    train_classifier(config, tmp_path / "model", progress=False)
    saved = json.loads((tmp_path / "model" / "config.json").read_text(encoding="utf-8"))
    assert saved["data"]["tokenizer"] == "auto"
    assert saved["tokenizer"]["name"] == "char"
