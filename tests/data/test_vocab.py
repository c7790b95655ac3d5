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


def test_saved_json_is_readable_utf8_one_space_indent(tmp_path):
    Vocab.build([["中文"]]).save(tmp_path / "vocab.json")
    raw = (tmp_path / "vocab.json").read_bytes()
    assert raw == ('{\n "type": "vocab",\n "tokens": [\n  "<pad>",\n  "<unk>",\n  "<bos>",\n'
                   '  "<eos>",\n  "中文"\n ]\n}\n').encode()  # fmt: skip


def test_file_errors_name_the_file(tmp_path):
    missing = tmp_path / "missing.json"
    with pytest.raises(DataError, match=r"missing.json: vocab file not found$"):
        Vocab.load(missing)
    other = tmp_path / "other.json"
    other.write_text('{"type": "labels", "labels": ["x"]}', encoding="utf-8")
    with pytest.raises(DataError, match=r"other.json: expected a JSON object with type 'vocab'$"):
        Vocab.load(other)
    utf8 = tmp_path / "utf8.json"
    utf8.write_bytes('{"type": "labels", "labels": ["é"]}'.encode())
    assert LabelVocab.load(utf8).labels == ["é"]


@pytest.mark.parametrize(
    "data", [{"tokens": ["<pad>"]}, {"type": "vocab"}, {"type": "labels", "tokens": []}, []]
)
def test_vocab_from_dict_needs_type_and_tokens(data):
    with pytest.raises(ConfigError, match=r"^a Vocab dict needs type 'vocab' and a 'tokens' list$"):
        Vocab.from_dict(data)


@pytest.mark.parametrize(
    "data", [{"labels": ["x"]}, {"type": "labels"}, {"type": "vocab", "labels": ["x"]}, []]
)
def test_label_vocab_from_dict_needs_type_and_labels(data):
    with pytest.raises(
        ConfigError, match=r"^a LabelVocab dict needs type 'labels' and a 'labels' list$"
    ):
        LabelVocab.from_dict(data)


def test_construction_errors_say_what_was_wrong():
    with pytest.raises(ConfigError, match=r"^a LabelVocab needs at least one label$"):
        LabelVocab([])
    with pytest.raises(ConfigError, match=r"got \['a', 'b', 'c', 'd'\]$"):
        Vocab(["a", "b", "c", "d", "e"])
    specials = ["<pad>", "<unk>", "<bos>", "<eos>"]
    with pytest.raises(
        ConfigError, match=r"^vocabulary entries must be unique; duplicated: \['x'\]"
    ):
        Vocab([*specials, "x", "y", "x"])
    many = [f"t{i:02d}" for i in range(12)]
    with pytest.raises(ConfigError, match=r"duplicated: \['t00', .*, 't09'\]$") as error:
        LabelVocab(many + many)
    assert "t10" not in str(error.value)  # at most ten duplicates are listed


def test_specials_in_the_data_are_not_counted_twice():
    vocab = Vocab.build([["<unk>", "a", "<pad>", "<eos>"]])
    assert vocab.tokens == ["<pad>", "<unk>", "<bos>", "<eos>", "a"]
    assert Vocab.build(STREAMS, max_size=4).tokens == ["<pad>", "<unk>", "<bos>", "<eos>"]
    tied = Vocab.build([["b", "a", "c", "a"]])
    assert tied.tokens[4:] == ["a", "b", "c"]  # by count, ties by token
    assert Vocab.build([["z", "z", "a"]]).tokens[4:] == ["z", "a"]  # count before token


def test_decode_rejects_ids_outside_the_vocabulary():
    vocab = Vocab.build(STREAMS)
    assert vocab.decode([0, 7]) == ["<pad>", "d"]
    for bad in (-1, 8):
        with pytest.raises(ConfigError, match=rf"^id {bad} is outside the vocabulary \(size 8\)$"):
            vocab.decode([bad])


def test_equality_needs_the_same_kind_and_entries():
    assert Vocab.build(STREAMS) != Vocab.build([["a"]])
    assert Vocab.build(STREAMS) != Vocab.build(STREAMS).tokens
    assert LabelVocab(["a", "b"]) != LabelVocab(["a"])
    assert LabelVocab(["a"]) != ["a"]


def test_unknown_label_lists_at_most_twenty_labels():
    twenty = LabelVocab([f"l{i:02d}" for i in range(20)])
    with pytest.raises(DataError, match=r"the 20 labels seen in training: \['l00', .*'l19'\]$"):
        twenty.encode("x")
    many = LabelVocab([f"l{i:02d}" for i in range(21)])
    with pytest.raises(DataError, match=r"the 21 labels seen in training: \[.*'l19', '\.\.\.'\]$"):
        many.encode("x")


def test_membership_and_repr():
    vocab, labels = Vocab.build(STREAMS), LabelVocab(["neg", "pos"])
    assert "a" in vocab and "zzz" not in vocab and "pos" in labels and "x" not in labels
    assert repr(vocab) == "Vocab(size=8)"
    assert repr(labels) == "LabelVocab(['neg', 'pos'])"
    assert repr(LabelVocab([f"l{i}" for i in range(10)])).startswith("LabelVocab(['l0',")
    assert repr(LabelVocab([f"l{i}" for i in range(11)])) == "LabelVocab(size=11)"
