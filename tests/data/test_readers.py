"""Readers on small fixture files written here: every layout, every error kind, skip mode."""

from pathlib import Path

import pytest

from rnnkit.data.readers import (
    detect_classification_format,
    iob1_to_bio,
    read_classification,
    read_parallel,
    read_tagging,
)
from rnnkit.errors import ConfigError, DataError


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_csv_with_quotes_commas_and_a_bom(tmp_path):
    path = write(
        tmp_path / "r.csv", '\ufefflabel,review\n1,"good, very ""good"""\n0,"two\nlines"\n1,ok\n'
    )
    examples, report = read_classification(path)
    assert [(e.text, e.label, e.line) for e in examples] == [
        ('good, very "good"', "1", 2),
        ("two\nlines", "0", 3),
        ("ok", "1", 5),
    ]
    assert report.examples == 3 and report.skipped == 0


def test_tsv_header_columns_by_name_and_guess(tmp_path):
    path = write(tmp_path / "d.tsv", 'id\tsentence\tlabel\n1\ta "quoted" film\t0\n')
    (example,), _ = read_classification(path)
    assert (example.text, example.label) == ('a "quoted" film', "0")  # TSV: no quoting
    (example,), _ = read_classification(path, text_column="id", label_column="label")
    assert example.text == "1"


def test_jsonl_and_label_text(tmp_path):
    jsonl = write(
        tmp_path / "d.jsonl", '{"text": "hi", "label": 1}\n\n{"text": "yo", "label": 0}\n'
    )
    examples, report = read_classification(jsonl)
    assert [(e.text, e.label) for e in examples] == [("hi", "1"), ("yo", "0")]
    assert report.blank_lines == 1
    lines = write(tmp_path / "d.txt", "pos\tgreat film\nneg\tdull\tslow\n")
    examples, _ = read_classification(lines)
    assert [(e.label, e.text) for e in examples] == [("pos", "great film"), ("neg", "dull\tslow")]


def test_names_tsv_and_names_folder(tmp_path):
    tsv = write(tmp_path / "names.tsv", "name\tlanguage\nAbadi\tArabic\nŚlusarski\tPolish\n")
    assert [(e.text, e.label) for e in read_classification(tsv).examples] == [
        ("Abadi", "Arabic"),
        ("Ślusarski", "Polish"),
    ]
    write(tmp_path / "names" / "Polish.txt", "Ślusarski\nNowak\n")
    write(tmp_path / "names" / "Arabic.txt", "Abadi\n")
    examples, _ = read_classification(tmp_path / "names")
    assert [(e.text, e.label) for e in examples] == [
        ("Abadi", "Arabic"),
        ("Ślusarski", "Polish"),
        ("Nowak", "Polish"),
    ]


def make_intent_folder(folder: Path, tags: str = "O B-city\nO O O\n") -> Path:
    write(folder / "seq.in", "fly boston \nshow me flights\n")
    write(folder / "seq.out", tags)
    write(folder / "label", "atis_flight\natis_flight#atis_airfare\n")
    return folder


def test_intent_folder_for_classification_and_tagging(tmp_path):
    folder = make_intent_folder(tmp_path / "atis")
    examples, _ = read_classification(folder)
    assert examples[0].text == "fly boston" and examples[0].tokens == ["fly", "boston"]
    assert examples[1].label == "atis_flight#atis_airfare"
    (folder / "seq.out").unlink()  # intent classification does not need the tags
    assert len(read_classification(folder).examples) == 2
    make_intent_folder(folder)
    tagged, _ = read_tagging(folder)
    assert tagged[0].tokens == ["fly", "boston"] and tagged[0].tags == ["O", "B-city"]
    assert tagged[1].intent == "atis_flight#atis_airfare"


def test_conll_docstart_blank_lines_columns_and_iob1(tmp_path):
    path = write(
        tmp_path / "eng.txt",
        "-DOCSTART- -X- O O\n\nEU NNP I-NP I-ORG\nrejects VBZ I-VP O\n"
        "German JJ I-NP I-MISC\nBritish JJ I-NP B-MISC\n\n\nPeter NNP I-NP I-PER\n",
    )
    examples, report = read_tagging(path)
    assert [e.tokens for e in examples] == [["EU", "rejects", "German", "British"], ["Peter"]]
    assert examples[0].tags == ["I-ORG", "O", "I-MISC", "B-MISC"] and examples[0].line == 3
    assert examples[1].line == 9 and report.examples == 2
    converted, _ = read_tagging(path, convert_iob1=True)
    assert converted[0].tags == ["B-ORG", "O", "B-MISC", "B-MISC"]
    assert converted[1].tags == ["B-PER"]
    assert read_tagging(path, tag_column=1).examples[0].tags[0] == "NNP"


def test_iob1_to_bio_continues_same_type_only():
    assert iob1_to_bio(["I-PER", "I-PER", "I-LOC", "O", "I-LOC", "B-LOC"]) == [
        "B-PER", "I-PER", "B-LOC", "O", "B-LOC", "B-LOC",
    ]  # fmt: skip


def test_chinese_char_per_line_ner(tmp_path):
    path = write(tmp_path / "msra.txt", "我\tO\n在\tO\n北\tB-LOC\n京\tI-LOC\n\n你\tO\n")
    examples, _ = read_tagging(path)
    assert examples[0].tokens == ["我", "在", "北", "京"] and examples[1].tags == ["O"]


def test_parallel_tsv_ignores_extra_columns_and_file_pairs(tmp_path):
    tsv = write(tmp_path / "fra.txt", "Go.\tVa !\tCC-BY 2.0 (France) Attribution\nHi.\tSalut.\n")
    examples, _ = read_parallel(tsv)
    assert [(e.source, e.target) for e in examples] == [("Go.", "Va !"), ("Hi.", "Salut.")]
    en = write(tmp_path / "train.en", "A dog.\nTwo men.\n")
    de = write(tmp_path / "train.de", "Ein Hund.\nZwei Männer.\n")
    examples, _ = read_parallel((en, de))
    assert examples[1].target == "Zwei Männer." and examples[1].line == 2


@pytest.mark.parametrize(
    ("name", "content", "reader", "message"),
    [
        ("missing.tsv", "sentence\tscore\tid\nhi\t1\t7\n", read_classification,
         r":1: no label column"),
        ("empty.csv", "text,label\n  ,1\n", read_classification, r":2: empty text"),
        ("ragged.csv", "text,label\na,1\nb,1,extra\n", read_classification,
         r":3: expected 2 fields as in the header, found 3"),
        ("notab.txt", "pos\tgood\nno tab here\n", read_classification,
         r":2: expected label<TAB>text, found no tab"),
        ("bad.jsonl", '{"text": "a", "label": 1}\n{"text": "b" "label": 1}\n', read_classification,
         r":2:14: invalid JSON: Expecting ','"),
        ("nofield.jsonl", '{"text": "a", "label": 1}\n{"text": "b"}\n', read_classification,
         r":2: missing field 'label'"),
        ("short.conll", "EU B-ORG\nrejects\n", read_tagging,
         r":2: expected at least 2 non-empty columns"),
        ("pairs.txt", "Go.\tVa !\nHi.\t \n", read_parallel, r":2: empty target sentence"),
    ],
)  # fmt: skip
def test_each_error_names_file_line_and_what_was_wrong(tmp_path, name, content, reader, message):
    path = write(tmp_path / name, content)
    with pytest.raises(DataError, match=name.replace(".", r"\.") + message) as info:
        reader(path)
    assert info.value.path == str(path) and info.value.line is not None


def test_unclosed_quote_is_reported_at_its_row_and_crlf_is_accepted(tmp_path):
    path = write(tmp_path / "q.csv", 'text,label\r\n"a,b",1\r\n"unclosed,1\r\nc,0\r\n')
    with pytest.raises(DataError, match=r"q.csv:3: malformed CSV row \(read up to line 4\)"):
        read_classification(path, on_error="skip")
    path = write(tmp_path / "ok.csv", 'text,label\r\n"a,b",1\r\nc,0\r\n')
    assert [e.text for e in read_classification(path).examples] == ["a,b", "c"]


def test_missing_named_column_lists_the_header(tmp_path):
    path = write(tmp_path / "d.csv", "text,label\na,1\n")
    with pytest.raises(DataError, match=r"d.csv:1: missing text column 'review'; the header has"):
        read_classification(path, text_column="review")


def test_invalid_utf8_names_line_and_byte_column(tmp_path):
    path = write(tmp_path / "latin1.tsv", "sentence\tlabel\ncaf\xe9\t1\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"latin1.tsv:2:4: invalid UTF-8 byte 0xe9") as info:
        read_classification(path)
    assert (info.value.line, info.value.column) == (2, 4)


def test_tag_count_mismatch_names_seq_out_line(tmp_path):
    folder = make_intent_folder(tmp_path / "atis", tags="O B-city\nO O\n")
    with pytest.raises(DataError, match=r"seq.out:2: 2 tags for 3 tokens"):
        read_tagging(folder)


def test_unequal_line_counts_always_raise(tmp_path):
    en = write(tmp_path / "train.en", "a\nb\nc\n")
    de = write(tmp_path / "train.de", "x\ny\n")
    message = r"train.en:3: train.de ends at line 2 but train.en continues"
    with pytest.raises(DataError, match=message):
        read_parallel((en, de))
    with pytest.raises(DataError, match=message):
        read_parallel((en, de), on_error="skip")


def test_skip_counts_and_keeps_first_locations(tmp_path):
    rows = "text,label\n" + "ok,1\n" + ",1\n" * 7 + "a,1,x\n" + "fine,0\n"
    path = write(tmp_path / "d.csv", rows)
    examples, report = read_classification(path, on_error="skip")
    assert [e.text for e in examples] == ["ok", "fine"]
    assert report.skipped == 8 and report.examples == 2
    assert [e.line for e in report.errors] == [3, 4, 5, 6, 7]
    assert "d.csv: 2 examples, 8 skipped (" in report.summary() and report.summary().endswith(
        ", ...)"
    )


def test_skip_mode_skips_invalid_utf8_and_broken_sentences(tmp_path):
    path = write(tmp_path / "c.conll", b"a O\nb\n\nc O\n\n\xff O\nd O\n\ne O\n")
    examples, report = read_tagging(path, on_error="skip")
    assert [e.tokens for e in examples] == [["c"], ["e"]]
    assert report.skipped == 2 and [e.line for e in report.errors] == [2, 6]


def test_bad_arguments_and_paths(tmp_path):
    with pytest.raises(
        ConfigError, match=r"on_error must be one of \['raise', 'skip'\], got 'drop'"
    ):
        read_classification(tmp_path / "x.csv", on_error="drop")
    with pytest.raises(DataError, match="expected a data file, found missing"):
        read_classification(tmp_path / "x.csv")
    with pytest.raises(ConfigError, match="unknown format 'xml'"):
        read_classification(write(tmp_path / "d.csv", "text,label\n"), format="xml")
    with pytest.raises(DataError, match="empty file"):
        read_classification(write(tmp_path / "e.csv", ""))
    with pytest.raises(DataError, match=r"ATIS/SNIPS folder needs seq\.in, seq\.out and label"):
        read_tagging(write(tmp_path / "f" / "seq.in", "a\n").parent)


def test_format_detection(tmp_path):
    assert detect_classification_format(write(tmp_path / "a.tsv", "sentence\tlabel\n")) == "tsv"
    assert detect_classification_format(write(tmp_path / "b.txt", "pos\tgood\n")) == "label-text"
    assert detect_classification_format(write(tmp_path / "c.csv", "x\n")) == "csv"
    assert detect_classification_format(make_intent_folder(tmp_path / "i")) == "intent-folder"


def test_headerless_lines_are_read_the_way_their_columns_say(tmp_path):
    # text<TAB>label (a review, then 0/1): the last field repeats, so it is the label
    reviews = "".join(f"review number {i} was fine\t{i % 2}\n" for i in range(8))
    path = write(tmp_path / "text_label.tsv", reviews)
    assert detect_classification_format(path) == "text-label"
    examples, _ = read_classification(path)
    assert (examples[0].text, examples[0].label) == ("review number 0 was fine", "0")
    # the same lines the other way round
    flipped = write(
        tmp_path / "label_text.tsv", "".join(f"{i % 2}\treview {i}\n" for i in range(8))
    )
    assert detect_classification_format(flipped) == "label-text"
    # names beside their languages: the language repeats
    lines = "Nguyen\tVietnamese\nTran\tVietnamese\nAbe\tJapanese\nSato\tJapanese\n"
    names = write(tmp_path / "names.txt", lines)
    assert detect_classification_format(names) == "text-label"
    # every value distinct, as in a small test file: the shorter field is the label
    few = write(tmp_path / "few.txt", "a long sentence here\tpos\nanother long one\tneg\n")
    assert detect_classification_format(few) == "text-label"
    # a text with a tab in it: text<TAB>label reads the label from the last field
    (example,), _ = read_classification(write(tmp_path / "tab.txt", "dull\tslow\tneg\n"),
                                        headerless="text-label")  # fmt: skip
    assert (example.text, example.label) == ("dull\tslow", "neg")


def test_a_given_headerless_layout_wins_over_the_guess(tmp_path):
    path = write(tmp_path / "d.txt", "".join(f"review {i}\t{i % 2}\n" for i in range(6)))
    assert detect_classification_format(path, headerless="label-text") == "label-text"
    examples, _ = read_classification(path, headerless="label-text")
    assert examples[0].label == "review 0"
    with pytest.raises(ConfigError, match="unknown headerless layout 'tsv'; expected one of"):
        read_classification(path, headerless="tsv")
    # a header is still a header
    header = write(tmp_path / "h.txt", "sentence\tlabel\nfine\t1\n")
    assert detect_classification_format(header, headerless="label-text") == "tsv"


def test_a_header_naming_one_of_two_columns_names_both(tmp_path):
    # only the label column has a known name: the other column is the text
    tsv = write(tmp_path / "q.tsv", "question\tlabel\nwho wrote it ?\tHUM\n")
    assert detect_classification_format(tsv) == "tsv"
    (example,), _ = read_classification(tsv)
    assert (example.text, example.label) == ("who wrote it ?", "HUM")
    (example,), _ = read_classification(write(tmp_path / "t.csv", "tweet,label\nso good,pos\n"))
    assert (example.text, example.label) == ("so good", "pos")
    (example,), _ = read_classification(write(tmp_path / "s.csv", "text,polarity\nbad,neg\n"))
    assert (example.text, example.label) == ("bad", "neg")
    jsonl = write(tmp_path / "d.jsonl", '{"tweet": "so good", "label": 1}\n')
    assert [(e.text, e.label) for e in read_classification(jsonl).examples] == [("so good", "1")]
    # a column asked for by name is never replaced by the other one
    with pytest.raises(DataError, match=r"missing text column 'body'; the header has \['tweet'"):
        read_classification(tmp_path / "t.csv", text_column="body")
    # three columns, one named: the text is not guessed
    with pytest.raises(DataError, match="no text column: expected one of"):
        read_classification(write(tmp_path / "three.csv", "id,post,label\n1,ok,pos\n"))


@pytest.mark.parametrize(
    ("header", "row", "expected"),
    [
        ("id,tweet,airline,polarity", "1,so late again,X,neg", ("so late again", "neg")),
        ("question,topic,source_id", "who wrote it ?,HUM,7", ("who wrote it ?", "HUM")),
        ("comment,emotion,user", "I love it,joy,u1", ("I love it", "joy")),
    ],
)
def test_common_column_names_are_guessed_among_others(tmp_path, header, row, expected):
    (example,), _ = read_classification(write(tmp_path / "d.csv", f"{header}\n{row}\n"))
    assert (example.text, example.label) == expected
