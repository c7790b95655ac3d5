"""docs/python-api.md runs as written: each ```python block, on small files in the layouts
the README shows, in a temporary folder."""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import pytest

from tests.tasks.conftest import write_intents
from tests.tasks.tagging_data import write_conll, write_slot_folder
from tests.tasks.translation_toys import write_tsv

DOC = Path(__file__).resolve().parents[1] / "docs" / "python-api.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
NAMES = {"Russian": ["Ivanov", "Karpov", "Kasparov", "Popov"],
         "Italian": ["Rossi", "Russo", "Bianchi", "Romano"]}  # fmt: skip


def write_names(path: Path, copies: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter="\t")
        writer.writerow(["name", "language"])
        writer.writerows(
            [(name, language) for language, names in NAMES.items() for name in names] * copies
        )


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """The files the page reads, under ``data/``."""
    root = tmp_path_factory.mktemp("python-api")
    data = root / "data"
    for folder in ("ner", "atis", "names", "eng-fra"):
        (data / folder).mkdir(parents=True)
    write_intents(data / "train.csv", 2, 0)
    write_intents(data / "dev.csv", 1, 1)
    write_conll(data / "ner" / "train.tsv", 2, 0)
    write_conll(data / "ner" / "dev.tsv", 1, 1)
    write_slot_folder(data / "atis" / "train", 1, 0)
    write_slot_folder(data / "atis" / "valid", 1, 1)
    write_names(data / "names" / "train.tsv", 3)
    write_names(data / "names" / "dev.tsv", 1)
    write_tsv(data / "eng-fra" / "train.txt", 60, 0)
    write_tsv(data / "eng-fra" / "dev.txt", 10, 1)
    return root


def test_the_page_has_an_example_per_task():
    text = DOC.read_text(encoding="utf-8")
    for call in ("train_classifier", "TagConfig", "JointTaskConfig", "train_generator",
                 "train_translator"):  # fmt: skip
        assert call in text, call
    assert len(BLOCKS) == 6


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_block_runs(index, workdir, monkeypatch):
    code = BLOCKS[index]
    monkeypatch.chdir(workdir)
    namespace: dict = {}
    exec(compile(code, f"{DOC}:block {index + 1}", "exec"), namespace)
    for out in re.findall(r'"(runs/[\w-]+)"', code):  # each model directory it trained
        assert (workdir / out / "config.json").is_file(), out
        assert (workdir / out / "model.safetensors").is_file(), out
    report = namespace.get("report")
    if report is not None:  # evaluate_file's metrics: real numbers on the dev file
        assert report["n" if "n" in report else "n_tokens"] > 0
        assert all(math.isfinite(v) for v in report.values() if isinstance(v, float))
