"""The translation task: train → save → load → same translations, both data layouts, errors."""

from __future__ import annotations

import json

import pytest

import rnnkit
from rnnkit.errors import DataError, ModelDirectoryError
from rnnkit.metrics.translation import corpus_scores, save_attention_png
from rnnkit.tasks.common import EvaluateOptions
from rnnkit.tasks.translation import Translator, read_pairs
from tests.tasks.conftest import load_saved_in_memory
from tests.tasks.translation_toys import (
    tiny_translate_config,
    toy_pairs,
    write_pair_files,
    write_tsv,
)

SENTENCES = ["i see the big cat .", "a red house .", "the dog ."]


def test_train_save_load_gives_the_same_translations(translator_dir, translation_files):
    in_memory = load_saved_in_memory(translator_dir)
    assert isinstance(in_memory, Translator)
    loaded = Translator.load(translator_dir)
    for beam in (1, 3):
        expected = [t.to_dict() for t in in_memory.translate(SENTENCES, beam=beam, n_best=beam)]
        assert [
            t.to_dict() for t in loaded.translate(SENTENCES, beam=beam, n_best=beam)
        ] == expected
        assert all(len(item["hypotheses"]) == beam for item in expected)
    names = sorted(path.name for path in translator_dir.iterdir())
    assert {"config.json", "source_vocab.json", "target_vocab.json", "model.safetensors"} <= set(
        names
    )
    config = json.loads((translator_dir / "config.json").read_text())
    assert config["task"] == "translate"
    assert config["tokenizer"]["target"]["name"] == "word"


def test_evaluate_file_reports_bleu_chrf_and_n(translator_dir, translation_files):
    report = rnnkit.load(translator_dir).evaluate_file(
        str(translation_files[1]), EvaluateOptions(beam=2)
    )
    assert report["n"] == 30
    assert report["beam"] == 2
    assert 0 <= report["bleu"] <= 100 and 0 <= report["chrf"] <= 100
    assert report["chrf"] > 20  # three epochs on the toy lexicon learn most words


def test_attention_map_covers_source_and_translation(translator_dir, tmp_path):
    translator = rnnkit.load(translator_dir)
    walk = translator.attention("the big dog .", "le grand chien .")
    assert walk.source_tokens == ["the", "big", "dog", "."]
    assert walk.target_tokens == ["le", "grand", "chien", ".", "<eos>"]
    assert all(abs(sum(row) - 1) < 1e-5 for row in walk.weights)
    png = save_attention_png(
        walk.weights, walk.source_tokens, walk.target_tokens, tmp_path / "a.png"
    )
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_line_aligned_files_and_reverse(tmp_path):
    prefix = write_pair_files(tmp_path / "train", 5, 0)
    data = tiny_translate_config(prefix, prefix, source_lang="en", target_lang="fr").data
    pairs = read_pairs(str(prefix), data)
    assert [(p.source, p.target) for p in pairs] == toy_pairs(5, 0)
    tsv = write_tsv(tmp_path / "pairs.tsv", 5, 0)
    reverse = tiny_translate_config(tsv, tsv, reverse=True).data
    assert [(p.target, p.source) for p in read_pairs(str(tsv), reverse)] == toy_pairs(5, 0)


def test_a_bad_line_is_an_error_naming_file_and_line(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("a cat .\tun chat .\nno tab here\n", encoding="utf-8")
    data = tiny_translate_config(bad, bad).data
    with pytest.raises(DataError, match=r"bad.tsv:2: expected source<TAB>target, found no tab"):
        read_pairs(str(bad), data)


def test_unequal_line_counts_are_an_error(tmp_path):
    prefix = write_pair_files(tmp_path / "train", 5, 0)
    (tmp_path / "train.fr").write_text("un .\n", encoding="utf-8")
    data = tiny_translate_config(prefix, prefix, source_lang="en", target_lang="fr").data
    with pytest.raises(DataError):
        read_pairs(str(prefix), data)


def test_a_text_without_tokens_is_an_error(translator_dir):
    with pytest.raises(DataError, match=r"text 2 \('  '\) has no tokens to translate"):
        rnnkit.load(translator_dir).translate(["a cat .", "  "])


def test_missing_vocabulary_is_named(translator_dir, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    for path in translator_dir.iterdir():
        if path.is_file() and path.name != "target_vocab.json":
            (broken / path.name).write_bytes(path.read_bytes())
    with pytest.raises(ModelDirectoryError, match=r"missing target_vocab.json"):
        rnnkit.load(broken)


def test_corpus_scores_use_the_chinese_tokenizer():
    assert corpus_scores(["le chat noir dort ici."], ["le chat noir dort ici."])[
        "bleu"
    ] == pytest.approx(100)
    # Without the zh tokenizer an unsegmented Chinese sentence is one "word".
    hypothesis, reference = ["我爱北京天安门"], ["我爱北京天安"]
    assert corpus_scores(hypothesis, reference, tokenize="zh")["bleu"] > 50
    assert corpus_scores(hypothesis, reference)["bleu"] < 1
