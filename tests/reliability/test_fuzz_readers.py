"""Property-based fuzzing of every reader and tokenizer: any bytes give examples or a
`DataError` naming the file and line; no other exception escapes.

The bytes are drawn from the pieces the formats are made of (delimiters, quotes, JSON
punctuation, BIO tags, line ends, a BOM, NUL and bytes that are not UTF-8) as well as from
raw random bytes, so that the generator reaches the readers' branches, not only the
UTF-8 check at their door.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnkit.data import get_tokenizer, read_classification, read_parallel, read_tagging
from rnnkit.data.tokenizers import TOKENIZERS
from rnnkit.errors import DataError

PIECES = [
    b",", b"\t", b" ", b"\n", b"\r\n", b"\r", b'"', b'""', b"{", b"}", b"[", b"]", b":",
    b'"text"', b'"label"', b"text", b"label", b"sentence", b"O", b"B-LOC", b"I-LOC", b"I-",
    b"-DOCSTART-", b"word", b"\xc3\xa9t\xc3\xa9", b"\xe4\xbd\xa0\xe5\xa5\xbd", b"\xef\xbb\xbf",
    b"\x00", b"\xff", b"\xc3", b"\xed\xa0\x80", b"1", b"null",
]  # fmt: skip
FILE_BYTES = st.one_of(
    st.lists(st.sampled_from(PIECES), max_size=40).map(b"".join),
    st.binary(max_size=200),
)
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def check(read: Callable[[Path], object], files: dict[str, bytes], where: str) -> None:
    """Writes ``files`` into a fresh folder and reads ``folder/where``: a result, or a
    `DataError` that names one of the files (and its line, for one read line by line)."""
    with tempfile.TemporaryDirectory() as folder:
        for name, data in files.items():
            (Path(folder) / name).write_bytes(data)
        try:
            result = read(Path(folder) / where)
        except DataError as error:
            assert error.path is not None and error.path.startswith(folder), str(error)
            assert error.line is not None or error.reason.startswith("empty"), str(error)
            return
        for example in result.examples:  # every example read came from a line of a file
            assert example.path.startswith(folder) and example.line >= 1, example


CLASSIFICATION_FORMATS = ("csv", "tsv", "jsonl", "label-text", "text-label", None)  # None: guessed


@pytest.mark.parametrize("format", CLASSIFICATION_FORMATS)
@FUZZ
@given(data=FILE_BYTES)
def test_classification_files(format, data):
    check(lambda path: read_classification(path, format=format), {"data.txt": data}, "data.txt")


@FUZZ
@given(seq_in=FILE_BYTES, labels=FILE_BYTES, seq_out=FILE_BYTES)
def test_intent_folders(seq_in, labels, seq_out):
    files = {"seq.in": seq_in, "label": labels, "seq.out": seq_out}
    check(lambda path: read_classification(path.parent), files, "seq.in")
    check(lambda path: read_tagging(path.parent), files, "seq.in")


@FUZZ
@given(first=FILE_BYTES, second=FILE_BYTES)
def test_names_folders(first, second):
    files = {"Ana.txt": first, "Bor.txt": second}
    check(lambda path: read_classification(path.parent), files, "Ana.txt")


@FUZZ
@given(data=FILE_BYTES)
def test_conll_files(data):
    check(read_tagging, {"train.conll": data}, "train.conll")


@FUZZ
@given(source=FILE_BYTES, target=FILE_BYTES)
def test_parallel_text(source, target):
    files = {"pairs.tsv": source, "a.en": source, "a.fr": target}
    check(read_parallel, files, "pairs.tsv")
    check(lambda path: read_parallel((path.parent / "a.en", path.parent / "a.fr")), files, "a.en")


@pytest.fixture(scope="module")
def tokenizers() -> dict[str, object]:
    """Every registered tokenizer (BPE trained on a few lines first)."""
    made = {name: get_tokenizer(name) for name in TOKENIZERS}
    made["bpe"].train(["the cat sat on the mat", "你好 世界", "été"] * 20, vocab_size=60)
    return made


@FUZZ
@given(text=st.text(max_size=80))
def test_every_tokenizer_takes_any_text(tokenizers, text):
    for name, tokenizer in tokenizers.items():
        tokens = tokenizer.tokenize(text)
        assert isinstance(tokens, list) and all(isinstance(t, str) for t in tokens), name
        assert tokenizer.tokenize_batch([text, text]) == [tokens, tokens], name
