"""Every data set in ../shared/data loads in its own layout with its README's counts."""

from collections import Counter

import pytest

from rnnkit.data.readers import read_classification, read_parallel, read_tagging

CLASSIFICATION = [
    # path, rows, {label: count} from the README
    ("sst2/train.tsv", 67_348, {"0": 29_780, "1": 37_568}),
    ("sst2/train_sentences.tsv", 6_917, {"0": 3_309, "1": 3_608}),
    ("sst2/dev.tsv", 872, {"0": 428, "1": 444}),
    ("chnsenticorp_htl/train.csv", 6_213, {"0": 1_955, "1": 4_258}),
    ("chnsenticorp_htl/dev.csv", 776, {"0": 244, "1": 532}),
    ("names/train.tsv", 14_399, {"Russian": 7_472, "Arabic": 86, "Vietnamese": 55}),
    ("names/dev.tsv", 1_820, {"Russian": 938, "Portuguese": 9, "English": 367}),
    ("atis/train", 4_478, {}),
    ("atis/valid", 500, {}),
    ("snips/train", 13_084, {}),
    ("snips/valid", 700, {"PlayMusic": 100}),
]


@pytest.mark.parametrize(("name", "rows", "labels"), CLASSIFICATION)
def test_classification_sets(shared_data, name, rows, labels):
    examples, report = read_classification(shared_data / name)
    assert len(examples) == rows == report.examples and report.skipped == 0
    counts = Counter(e.label for e in examples)
    assert {label: counts[label] for label in labels} == labels
    assert all(e.text.strip() for e in examples)


def test_intent_label_sets(shared_data):
    atis = {e.label for e in read_classification(shared_data / "atis/train").examples}
    snips = {e.label for e in read_classification(shared_data / "snips/train").examples}
    assert len(atis) == 21 and "atis_airfare#atis_flight_time" not in atis
    assert len(snips) == 7 and "SearchScreeningEvent" in snips


TAGGING = [
    # path, sentences, tokens, number of B-PER entities (None: not stated)
    ("conll2003/train.txt", 14_041, 203_621, 6_600),
    ("conll2003/dev.txt", 3_250, 51_362, 1_842),
    ("conll2003/train.bio.tsv", 14_041, 203_621, 6_600),
    ("conll2003/dev.bio.tsv", 3_250, 51_362, 1_842),
    ("msra_ner_zh/train.txt", 48_124, 2_061_551, 16_751),
    ("msra_ner_zh/dev.txt", 2_533, 108_318, 864),
    ("atis/train", 4_478, None, None),
    ("atis/valid", 500, None, None),
    ("snips/train", 13_084, None, None),
    ("snips/valid", 700, None, None),
]


@pytest.mark.parametrize(("name", "sentences", "tokens", "persons"), TAGGING)
def test_tagging_sets(shared_data, name, sentences, tokens, persons):
    examples, report = read_tagging(shared_data / name, convert_iob1=name.endswith("3/train.txt"))
    assert len(examples) == sentences and report.skipped == 0
    assert all(len(e.tokens) == len(e.tags) > 0 for e in examples)
    if tokens is not None:
        assert sum(len(e.tokens) for e in examples) == tokens
    if persons is not None and not name.endswith("3/dev.txt"):
        assert sum(e.tags.count("B-PER") for e in examples) == persons


def test_conll_iob1_converts_to_the_distributed_bio(shared_data):
    original = read_tagging(shared_data / "conll2003/dev.txt", convert_iob1=True).examples
    bio = read_tagging(shared_data / "conll2003/dev.bio.tsv").examples
    assert [(e.tokens, e.tags) for e in original] == [(e.tokens, e.tags) for e in bio]


@pytest.mark.parametrize(
    ("source", "pairs"),
    [
        ("eng-fra/train.txt", 128_477),
        ("eng-fra/dev.txt", 7_161),
        ("cmn-eng/train.txt", 27_885),
        ("cmn-eng/dev.txt", 1_552),
        (("multi30k/train.en", "multi30k/train.de"), 29_000),
        (("multi30k/val.en", "multi30k/val.fr"), 1_014),
    ],
)
def test_parallel_sets(shared_data, source, pairs):
    path = (
        tuple(shared_data / p for p in source)
        if isinstance(source, tuple)
        else shared_data / source
    )
    examples, report = read_parallel(path)
    assert len(examples) == pairs == report.examples
    assert all(e.source and e.target for e in examples)
