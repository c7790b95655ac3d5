import pytest

from rnnkit.data.vocab import LabelVocab, Vocab
from rnnkit.errors import ConfigError, DataError

STREAMS = [["b", "a", "c"], ["a", "b"], ["a", "d"]]


def test_specials_come_first_then_frequency_then_token():
    vocab = Vocab.build(STREAMS)
    assert vocab.tokens == ["<pad>", "<unk>", "<bos>", "<eos>", "a", "b", "c", "d"]
    assert (vocab.pad_id, vocab.unk_id, vocab.bos_id, vocab.eos_id) == (0, 1, 2, 3)
    assert len(vocab) == 8


def test_min_freq_and_max_size():
    assert Vocab.build(STREAMS, min_freq=2).tokens[4:] == ["a", "b"]
    assert Vocab.build(STREAMS, max_size=5).tokens[4:] == ["a"]  # max_size counts the specials
    with pytest.raises(ConfigError, match="max_size must be at least 4, got 2"):
        Vocab.build(STREAMS, max_size=2)
    with pytest.raises(ConfigError, match="min_freq must be at least 1, got 0"):
        Vocab.build(STREAMS, min_freq=0)


def test_encode_decode_with_unknown_and_specials():
    vocab = Vocab.build(STREAMS)
    ids = vocab.encode(["a", "zzz", "d"], add_bos=True, add_eos=True)
    assert ids == [2, 4, 1, 7, 3]
    assert vocab.decode(ids) == ["<bos>", "a", "<unk>", "d", "<eos>"]
    assert vocab.decode([2, 4, 3, 5, 0], strip_specials=True) == ["a"]
    with pytest.raises(ConfigError, match="id 99 is outside the vocabulary"):
        vocab.decode([99])


def test_vocab_json_round_trip(tmp_path):
    vocab = Vocab.build([*STREAMS, ["中文", "ü"]])
    vocab.save(tmp_path / "vocab.json")
    loaded = Vocab.load(tmp_path / "vocab.json")
    assert loaded == vocab and loaded.encode(["中文"]) == vocab.encode(["中文"])
    assert Vocab.from_dict(vocab.to_dict()) == vocab


def test_vocab_load_errors(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"type": "vocab",\n "tokens": [}', encoding="utf-8")
    with pytest.raises(DataError, match=r"bad.json:2:\d+: invalid JSON"):
        Vocab.load(bad)
    labels = tmp_path / "labels.json"
    LabelVocab(["x"]).save(labels)
    with pytest.raises(DataError, match="expected a JSON object with type 'vocab'"):
        Vocab.load(labels)
    with pytest.raises(ConfigError, match="must start with"):
        Vocab(["a", "b"])


def test_label_vocab_sorted_no_specials_and_unknown_label_is_an_error(tmp_path):
    labels = LabelVocab.build(["pos", "neg", "pos"])
    assert labels.labels == ["neg", "pos"] and len(labels) == 2
    assert labels.encode("pos") == 1 and labels.decode(0) == "neg"
    assert labels.decode([1, 0]) == ["pos", "neg"]
    with pytest.raises(DataError, match=r"dev.tsv:7: unknown label 'neutral'; expected one of"):
        labels.encode("neutral", "dev.tsv", 7)
    labels.save(tmp_path / "labels.json")
    assert LabelVocab.load(tmp_path / "labels.json") == labels
    with pytest.raises(ConfigError, match=r"label entries must be unique; duplicated: \['a'\]"):
        LabelVocab(["a", "a"])
