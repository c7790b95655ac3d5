"""Streaming readers of labelled text: CSV/TSV with a header, JSONL, ``label<TAB>text`` or
``text<TAB>label`` lines, and a folder of ``Language.txt`` files (one name per line, the file
name is the label)."""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from rnnkit.data.examples import TextExample
from rnnkit.data.report import ReadReport, check_file, iter_lines
from rnnkit.errors import DataError

# Column names guessed when none is given, tried in this order (case-insensitive).
TEXT_COLUMNS = (
    "text", "sentence", "review", "content", "utterance", "name", "source", "tweet", "question",
    "query", "comment", "document", "body",
)  # fmt: skip
LABEL_COLUMNS = (
    "label", "labels", "intent", "language", "category", "class", "sentiment", "polarity",
    "emotion", "topic", "target",
)  # fmt: skip


def pick_column(
    names: Sequence[str], wanted: str | None, guesses: Sequence[str], role: str, path: Path | str
) -> str:
    """The column called `wanted`, else the first of `guesses` present; errors name the header."""
    found = pick_guess(names, wanted, guesses)
    if found is not None:
        return found
    if wanted is not None:
        raise DataError(f"missing {role} column {wanted!r}; the header has {list(names)}", path, 1)
    raise DataError(
        f"no {role} column: expected one of {list(guesses)} in the header, found {list(names)} "
        f"(--{role}-column on the command line, {role}_column=... in Python)",
        path,
        1,
    )


def pick_text_and_label(
    names: Sequence[str],
    text_column: str | None,
    label_column: str | None,
    path: Path | str,
) -> tuple[str, str]:
    """The text and label columns of a header (or a JSON object's keys), as `pick_column`
    finds them; of two columns, when one is named or guessed and the other role is not
    given, the other column is it (``question<TAB>label``: the text is ``question``)."""
    text = pick_guess(names, text_column, TEXT_COLUMNS)
    label = pick_guess(names, label_column, LABEL_COLUMNS)
    if len(names) == 2:
        if text is None and text_column is None and label is not None:
            text = names[1 - list(names).index(label)]
        elif label is None and label_column is None and text is not None:
            label = names[1 - list(names).index(text)]
    if text is None:
        text = pick_column(names, text_column, TEXT_COLUMNS, "text", path)
    if label is None:
        label = pick_column(names, label_column, LABEL_COLUMNS, "label", path)
    return text, label


def pick_guess(names: Sequence[str], wanted: str | None, guesses: Sequence[str]) -> str | None:
    """`pick_column`'s choice, or None where it would raise."""
    if wanted is not None:
        return wanted if wanted in names else None
    lowered = {name.lower(): name for name in names}
    return next((lowered[guess] for guess in guesses if guess in lowered), None)


def make_example(
    text: object, label: object, path: str, line: int, report: ReadReport
) -> TextExample | None:
    """A `TextExample`, or None after recording an empty or missing text/label with `report`.

    Numbers (JSON labels such as ``1``) become strings; the fast path is two string checks,
    since this runs once per row.
    """
    if isinstance(label, (int, float)):
        label = str(label)
    if isinstance(text, str) and isinstance(label, str):
        label = label.strip()
        if label and text.strip():
            report.examples += 1
            return TextExample(text, label, None, path, line)
    if not isinstance(text, str) or not text.strip():
        message = f"empty text (expected a non-empty string, found {text!r})"
    else:
        message = f"empty or invalid label {label!r} (expected a class name)"
    report.record(DataError(message, path, line))
    return None


def iter_table(
    path: str | Path,
    report: ReadReport,
    text_column: str | None = None,
    label_column: str | None = None,
    delimiter: str = ",",
) -> Iterator[TextExample]:
    """Rows of a CSV (RFC 4180 quoting) or TSV (``delimiter="\\t"``, no quoting) file with a header.

    Errors: missing column (line 1), ragged row (field count differs from the header), empty text
    or label. A row spanning several lines (quoted newline) is reported at its first line.
    """
    path = check_file(path)
    name = str(path)
    position = {"line": 0}

    def texts() -> Iterator[str]:
        for number, text in iter_lines(path, report, keep_ends=True):
            position["line"] = number
            yield text

    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    rows = csv.reader(texts(), delimiter=delimiter, quoting=quoting, strict=True)
    try:
        header = next(rows)
    except StopIteration:
        raise DataError("empty file (expected a header line)", path, 1) from None
    except csv.Error as exc:  # e.g. a quote left open to the end of the file
        message = f"malformed header (read up to line {position['line']}): {exc}"
        raise DataError(message, path, 1) from None
    text_name, label_name = pick_text_and_label(header, text_column, label_column, path)
    text_index, label_index = header.index(text_name), header.index(label_name)
    end = position["line"]
    try:
        for row in rows:
            line, end = end + 1, position["line"]
            if not row:
                report.blank_lines += 1
            elif len(row) != len(header):
                message = f"expected {len(header)} fields as in the header, found {len(row)}"
                report.record(DataError(message, path, line))
            else:
                example = make_example(row[text_index], row[label_index], name, line, report)
                if example is not None:
                    yield example
    except csv.Error as exc:
        # Reported at the row's first line: an unclosed quote fails only at the file's end.
        message = f"malformed CSV row (read up to line {position['line']}): {exc}"
        raise DataError(message, path, end + 1) from None


def iter_jsonl(
    path: str | Path,
    report: ReadReport,
    text_column: str | None = None,
    label_column: str | None = None,
) -> Iterator[TextExample]:
    """One JSON object per line; fields chosen by name or guessed from the first object's keys."""
    path = check_file(path)
    name = str(path)
    text_key, label_key = text_column, label_column
    for number, line in iter_lines(path, report):
        if not line.strip():
            report.blank_lines += 1
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            report.record(DataError(f"invalid JSON: {exc.msg}", path, number, exc.colno))
            continue
        if not isinstance(record, dict):
            report.record(
                DataError(f"expected a JSON object, found {type(record).__name__}", path, number)
            )
            continue
        if text_key is None or label_key is None:
            # a field asked for by name is checked in each object below, not guessed around
            asked = [key for key in (text_key, label_key) if key is not None and key not in record]
            text_key, label_key = pick_text_and_label([*record, *asked], text_key, label_key, path)
        missing = [key for key in (text_key, label_key) if key not in record]
        if missing:
            report.record(
                DataError(
                    f"missing field {missing[0]!r}; the object has {list(record)}", path, number
                )
            )
            continue
        example = make_example(record[text_key], record[label_key], name, number, report)
        if example is not None:
            yield example


def iter_label_text(
    path: str | Path, report: ReadReport, label_first: bool = True
) -> Iterator[TextExample]:
    """``label<TAB>text`` lines without a header (fastText style): the label is the first
    field, the text the rest; ``label_first=False`` reads ``text<TAB>label`` lines, the label
    the last field."""
    path = check_file(path)
    name = str(path)
    layout = "label<TAB>text" if label_first else "text<TAB>label"
    for number, line in iter_lines(path, report):
        if not line.strip():
            report.blank_lines += 1
            continue
        label, tab, text = line.partition("\t") if label_first else line.rpartition("\t")[::-1]
        if not tab:
            report.record(DataError(f"expected {layout}, found no tab", path, number))
            continue
        example = make_example(text, label, name, number, report)
        if example is not None:
            yield example


# Lines a headerless file's orientation is guessed from.
ORIENTATION_SAMPLE = 2000


def label_comes_first(lines: Iterable[str]) -> bool:
    """Whether headerless two-field lines read ``label<TAB>text`` (True) or ``text<TAB>label``.

    Labels repeat and texts rarely do: the field with at most half the other's distinct
    values is the label. When neither is (a few lines, or names beside their languages, each
    unique), the shorter field on average is; a tie is ``label<TAB>text``.
    """
    firsts, lasts = [], []
    for line in itertools.islice((line for line in lines if "\t" in line), ORIENTATION_SAMPLE):
        firsts.append(line.partition("\t")[0].strip())
        lasts.append(line.rpartition("\t")[2].strip())
    first_distinct, last_distinct = len(set(firsts)), len(set(lasts))
    if 2 * last_distinct <= first_distinct or 2 * first_distinct <= last_distinct:
        return first_distinct < last_distinct
    return sum(map(len, firsts)) <= sum(map(len, lasts))


def iter_names_folder(folder: str | Path, report: ReadReport) -> Iterator[TextExample]:
    """A folder of ``<Label>.txt`` files with one text per line (the PyTorch names tutorial)."""
    folder = Path(folder)
    files = sorted(folder.glob("*.txt"))
    if not files:
        raise DataError("expected <Label>.txt files (one name per line), found none", folder)
    for path in files:
        name, label = str(path), path.stem
        for number, line in iter_lines(path, report):
            if not line.strip():
                report.blank_lines += 1
                continue
            report.examples += 1
            yield TextExample(line.strip(), label, None, name, number)
