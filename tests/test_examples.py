"""examples/rnn-tutorial.ipynb: stored with its outputs in both languages, and it runs top to
bottom (in a fresh kernel) showing what it teaches: the cells agree with torch, the demo model
reads "What time is it?" as ask_time, the four shapes train, and after training the gated
cells keep the gradient that the RNN loses."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "rnn-tutorial.ipynb"
CHINESE = re.compile(r"[\u4e00-\u9fff]")
ENGLISH = re.compile(r"\b(the|a|of)\b")
DIFFERENCE = re.compile(r"max \|difference\| (.+): (\S+)")
RATIO = re.compile(r"(rnn|lstm|gru) +earliest/latest gradient ratio (\S+) +→ (\w+)")


def cell_text(cell: nbformat.NotebookNode) -> str:
    """Everything a code cell printed or returned, as text."""
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif "data" in output:
            parts.append(output.data.get("text/plain", ""))
    return "".join(parts)


def all_text(notebook: nbformat.NotebookNode) -> str:
    return "\n".join(cell_text(cell) for cell in notebook.cells if cell.cell_type == "code")


def images(notebook: nbformat.NotebookNode) -> int:
    return sum(
        "image/png" in output.get("data", {})
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> nbformat.NotebookNode:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    folder = tmp_path_factory.mktemp("notebook")
    client = NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    )
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    return notebook


def test_every_markdown_cell_speaks_english_and_chinese():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    markdown = [cell.source for cell in notebook.cells if cell.cell_type == "markdown"]
    assert len(markdown) >= 8
    for source in markdown:
        assert CHINESE.search(source) and ENGLISH.search(source), source[:80]


def test_the_stored_notebook_carries_its_outputs_for_the_docs_site():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code)
    assert all(cell.outputs for cell in code)
    assert not [o for cell in code for o in cell.outputs if o.output_type == "error"]
    assert "What time is it? → ask_time" in all_text(notebook)
    assert images(notebook) == 3


@pytest.mark.slow
def test_the_cells_agree_with_torch(executed):
    differences = dict(DIFFERENCE.findall(all_text(executed)))
    assert set(differences) == {
        "RNN, concatenated form",
        "RNN vs torch.nn.RNNCell",
        "LSTM vs torch.nn.LSTMCell",
        "GRU vs torch.nn.GRUCell",
    }
    assert all(float(value) < 1e-5 for value in differences.values()), differences


@pytest.mark.slow
def test_what_time_is_it_is_read_token_by_token_as_ask_time(executed):
    text = all_text(executed)
    assert "What time is it? → ask_time" in text
    assert "现在几点了? → ask_time" in text
    assert all(f"O{step} " in text for step in range(1, 6))


@pytest.mark.slow
def test_the_four_shapes_train_and_answer(executed):
    text = all_text(executed)
    assert re.search(r"will it rain tomorrow → \[\('weather'", text)  # N → 1
    assert "'text': 'Chloe'" in text and "'text': 'New Oslo'" in text  # N → N
    assert re.search(r"Russian → \[.+\]\nItalian → \[.+\]", text)  # 1 → N
    assert "a small dog . → " in text  # N → M


@pytest.mark.slow
def test_after_training_the_gated_cells_keep_the_gradient_the_rnn_loses(executed):
    lines = RATIO.findall(all_text(executed))
    untrained, trained = lines[:3], lines[3:]
    assert [verdict for _, _, verdict in untrained] == ["vanishing"] * 3
    ratios = {cell: float(ratio) for cell, ratio, _ in trained}
    assert set(ratios) == {"rnn", "lstm", "gru"}
    assert min(ratios["lstm"], ratios["gru"]) > 1e6 * ratios["rnn"]
    assert images(executed) == 3
