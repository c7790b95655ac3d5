"""Bytes that are not UTF-8 text are never classified: one line names the source, line and
byte; ``--encoding-errors replace`` reads them anyway; a BOM and CRLF change nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rnnkit.cli.app import app
from rnnkit.data import read_classification, read_parallel, read_tagging
from rnnkit.errors import DataError
from tests.reliability.conftest import TASKS

runner = CliRunner()
TEXT_TASKS = ("classify", "tag", "joint", "translate")  # the tasks `rnnkit predict` reads text for
BAD = {  # bytes on line 2 → what the error says, at byte 4 of that line
    "invalid UTF-8": (b"abc\xff\xfe def", "invalid UTF-8 byte 0xff"),
    "NUL": (b"abc\x00 def", "NUL byte 0x00"),
}


def predict(directory: Path, stdin: bytes, *options: str):
    return runner.invoke(app, ["predict", str(directory), "--json", *options], input=stdin)


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize("task", TEXT_TASKS)
def test_bad_bytes_on_stdin_name_the_line_and_byte(task, bad, exported_models):
    raw, says = BAD[bad]
    result = predict(exported_models[task], b"what time is it\n" + raw + b"\n")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.strip() == f"error: <stdin>:2:4: {says} " + (
        "(expected UTF-8 text)" if bad == "invalid UTF-8" else "(binary data, not text)"
    )


@pytest.mark.parametrize("task", TEXT_TASKS)
def test_encoding_errors_replace_reads_them_as_replacement_characters(task, exported_models):
    for raw, _ in BAD.values():
        result = predict(exported_models[task], raw + b"\n", "--encoding-errors", "replace")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["text"].startswith("abc\ufffd")


def test_bad_bytes_in_a_text_argument_name_it(exported_models):
    argument = b"abc\xffdef".decode("utf-8", "surrogateescape")  # as Python decodes argv
    result = runner.invoke(app, ["predict", str(exported_models["classify"]), "ok", argument])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: TEXT argument 2:1:4: invalid UTF-8 byte 0xff (expected UTF-8 text)"
    )


def test_bad_bytes_on_stdin_to_translate(exported_models):
    result = runner.invoke(
        app, ["translate", str(exported_models["translate"])], input=b"\xc3 the cat\n"
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("error: <stdin>:1:1: invalid UTF-8 byte 0xc3")


@pytest.mark.parametrize("task", TEXT_TASKS)
def test_bom_and_crlf_on_stdin_read_as_clean_lines(task, exported_models):
    clean = predict(exported_models[task], b"what time is it\nplay some jazz\n")
    dressed = predict(exported_models[task], b"\xef\xbb\xbfwhat time is it\r\nplay some jazz\r\n")
    assert clean.exit_code == dressed.exit_code == 0
    assert dressed.stdout == clean.stdout


def data_file(labelled: Path) -> Path:
    """The file of a labelled data set that holds text (a folder's ``seq.in``)."""
    return labelled / "seq.in" if labelled.is_dir() else labelled


def copy_data(labelled: Path, folder: Path) -> Path:
    target = folder / labelled.name
    if labelled.is_dir():
        return shutil.copytree(labelled, target)
    return shutil.copyfile(labelled, target)


def evaluate(directory: Path, data: Path, *options: str):
    return runner.invoke(app, ["evaluate", str(directory), str(data), "--json", *options])


def damage_line_3(labelled: Path, folder: Path, raw: bytes, keep: bool) -> tuple[Path, Path]:
    """A copy of ``labelled`` whose text line 3 keeps its first three bytes, then has the
    bad ones of ``raw`` (instead of the rest of the line; ``keep``: only its first bad byte,
    inserted before the rest); returns the copy and the damaged file."""
    data = copy_data(labelled, folder)
    text = data_file(data)
    lines = text.read_bytes().split(b"\n")
    lines[2] = lines[2][:3] + (raw[3:4] + lines[2][3:] if keep else raw[3:])
    text.write_bytes(b"\n".join(lines))
    return data, text


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize("task", TASKS)
def test_bad_bytes_in_evaluation_data_name_the_file_line_and_byte(
    task, bad, exported_models, labelled_data, tmp_path
):
    raw, says = BAD[bad]
    data, text = damage_line_3(labelled_data[task], tmp_path, raw, keep=False)
    result = evaluate(exported_models[task], data)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith(f"error: {text}:3:4: {says}"), result.stderr


@pytest.mark.parametrize("task", TASKS)
def test_evaluate_with_encoding_errors_replace_reads_bad_bytes(
    task, exported_models, labelled_data, tmp_path
):
    clean = evaluate(exported_models[task], labelled_data[task])
    for bad, (raw, _) in BAD.items():
        (tmp_path / bad).mkdir()
        data, _ = damage_line_3(labelled_data[task], tmp_path / bad, raw, keep=True)
        result = evaluate(exported_models[task], data, "--encoding-errors", "replace")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["n"] == json.loads(clean.stdout)["n"]


def test_diagnose_gradients_reads_bad_bytes_only_when_told(
    exported_models, labelled_data, tmp_path
):
    data, text = damage_line_3(labelled_data["classify"], tmp_path, BAD["invalid UTF-8"][0], True)
    line = ["diagnose", "gradients", str(exported_models["classify"]), "--data", str(data),
            "--out", str(tmp_path / "out")]  # fmt: skip
    strict = runner.invoke(app, line)
    assert strict.exit_code == 1
    assert strict.stderr.startswith(f"error: {text}:3:4: invalid UTF-8 byte 0xff")
    replaced = runner.invoke(app, [*line, "--encoding-errors", "replace"])
    assert replaced.exit_code == 0, replaced.output
    assert (tmp_path / "out" / "gradients.json").is_file()


@pytest.mark.parametrize(
    ("reader", "line"),
    [
        (lambda path, errors: read_classification(path, encoding_errors=errors), "play \xff"),
        (lambda path, errors: read_parallel(path, encoding_errors=errors), "a \xff\tb"),
        (lambda path, errors: read_tagging(path, encoding_errors=errors), "\xff\tO"),
    ],
    ids=["classification", "parallel", "tagging"],
)
def test_readers_take_encoding_errors_replace(reader, line, tmp_path):
    path = tmp_path / "data.txt"
    first = {"play \xff": "label\ttext\nmusic\t", "a \xff\tb": "", "\xff\tO": ""}[line]
    path.write_bytes(first.encode() + line.encode("latin-1") + b"\n")
    with pytest.raises(DataError, match="invalid UTF-8 byte 0xff"):
        reader(path, "strict")
    examples = reader(path, "replace").examples
    assert len(examples) == 1 and "\ufffd" in str(examples[0])


@pytest.mark.parametrize("task", TASKS)
def test_bom_and_crlf_in_evaluation_data_change_nothing(
    task, exported_models, labelled_data, tmp_path
):
    data = copy_data(labelled_data[task], tmp_path)
    for path in [data] if data.is_file() else sorted(data.iterdir()):
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    clean = evaluate(exported_models[task], labelled_data[task])
    dressed = evaluate(exported_models[task], data)
    assert clean.exit_code == dressed.exit_code == 0, dressed.output
    timeless = [json.loads(result.stdout) for result in (clean, dressed)]
    for report in timeless:
        report.pop("seconds", None)  # translation reports how long decoding took
    assert timeless[0] == timeless[1]


def test_bad_bytes_in_training_data_stop_training_with_the_line(labelled_data, tmp_path):
    data = tmp_path / "train.csv"
    data.write_bytes(labelled_data["classify"].read_bytes() + b"play \xff jazz,play_music\n")
    lines = data.read_bytes().count(b"\n")
    dev, out = str(labelled_data["classify"]), str(tmp_path / "m")
    arguments = ["--train", str(data), "--dev", dev, "--out", out, "--epochs", "1"]
    result = runner.invoke(app, ["train", "classify", *arguments, "--no-progress"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: {data}:{lines}:6: invalid UTF-8 byte 0xff (expected UTF-8 text)"
    )
    assert not (tmp_path / "m" / "model.safetensors").exists()

    replaced = runner.invoke(
        app, ["train", "classify", *arguments, "--no-progress", "--encoding-errors", "replace"]
    )
    assert replaced.exit_code == 0, replaced.output
    saved = json.loads((tmp_path / "m" / "config.json").read_text(encoding="utf-8"))
    assert saved["data"]["encoding_errors"] == "replace"
