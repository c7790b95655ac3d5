"""``--max-tokens N``: a longer input is truncated to its first N tokens with one warning giving
the counts (``--over-length truncate``, the default), or refused in one line naming it
(``--over-length error``); on predict, translate, evaluate and serve, and on the predictors."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import rnnkit
from rnnkit.cli.app import app
from rnnkit.errors import ConfigError, InputTooLongError
from rnnkit.serving import create_app
from rnnkit.serving.schemas import ServeLimits
from rnnkit.tasks.token_limit import TokenLimit

runner = CliRunner()
TEXT_TASKS = ("classify", "tag", "joint", "translate")
LONG = "what time is it in paris " * 4  # 24 word tokens
MAX = 3


def one_line(text: str) -> str:
    """stderr with rich's line wrapping undone."""
    return " ".join(text.split())


def token_count(predictor, text: str) -> int:
    tokenizer = getattr(predictor, "source_tokenizer", None) or predictor.tokenizer
    return len(tokenizer.tokenize(text))


def test_token_limit_truncates_with_a_warning_giving_the_counts(caplog):
    limit = TokenLimit(max_tokens=2)
    with caplog.at_level(logging.WARNING, logger="rnnkit"):
        kept = limit.apply([["a", "b", "c"], ["d"], ["e", "f", "g", "h"]])
    assert kept == [["a", "b"], ["d"], ["e", "f"]]
    assert caplog.messages == [
        "2 input(s) longer than max_tokens 2 truncated to their first 2 tokens "
        "(text 1 had 3, text 3 had 4)"
    ]


def test_token_limit_error_names_the_input_and_its_count():
    limit = TokenLimit(max_tokens=2, over_length="error")
    assert limit.apply([["a", "b"]]) == [["a", "b"]]
    with pytest.raises(InputTooLongError, match=r"^dev.tsv:7: 3 tokens, expected at most 2 "):
        limit.apply([["a"], ["a", "b", "c"]], lambda i: f"dev.tsv:{6 + i}")


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ({"max_tokens": 0}, "max_tokens: expected a positive integer, got 0"),
        ({"over_length": "cut"}, "over_length: expected one of ['truncate', 'error'], got 'cut'"),
    ],
)
def test_token_limit_checks_its_settings(settings, says):
    with pytest.raises(ConfigError, match=r"^" + r"\[".join(says.split("[")).replace("]", r"\]")):
        TokenLimit(**settings)


def predict(task: str, directory, *options: str):
    command = "translate" if task == "translate" else "predict"
    return runner.invoke(app, [command, str(directory), LONG, "--json", *options])


@pytest.mark.parametrize("task", TEXT_TASKS)
def test_predict_truncates_a_long_text_and_warns(task, exported_models):
    count = token_count(rnnkit.load(exported_models[task]), LONG)
    assert count > MAX
    result = predict(task, exported_models[task], "--max-tokens", str(MAX))
    assert result.exit_code == 0, result.output
    assert (
        f"1 input(s) longer than max_tokens {MAX} truncated to their first {MAX} tokens "
        f"(text 1 had {count})"
    ) in one_line(result.stderr)
    record = json.loads(result.stdout)
    if task in ("tag", "joint"):
        assert len(record["tokens"]) == MAX
    unlimited = predict(task, exported_models[task])
    assert unlimited.exit_code == 0 and "max_tokens" not in unlimited.stderr


@pytest.mark.parametrize("task", TEXT_TASKS)
def test_predict_refuses_a_long_text_with_over_length_error(task, exported_models):
    count = token_count(rnnkit.load(exported_models[task]), LONG)
    result = predict(
        task, exported_models[task], "--max-tokens", str(MAX), "--over-length", "error"
    )
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith(
        f"error: text 1: {count} tokens, expected at most {MAX} (max_tokens;"
    ), result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("task", TEXT_TASKS)
def test_evaluate_truncates_or_refuses_long_texts(task, exported_models, labelled_data):
    line = [
        "evaluate", str(exported_models[task]), str(labelled_data[task]), "--json",
        "--max-tokens", "1",
    ]  # fmt: skip
    truncated = runner.invoke(app, line)
    assert truncated.exit_code == 0, truncated.output
    assert "longer than max_tokens 1 truncated to their first 1 tokens" in one_line(
        truncated.stderr
    )
    refused = runner.invoke(app, [*line, "--over-length", "error"])
    assert refused.exit_code == 1
    assert "tokens, expected at most 1 (max_tokens;" in refused.stderr
    if task != "translate":  # the others name the example's file and line
        assert f"error: {labelled_data[task]}" in refused.stderr


def test_a_language_model_takes_no_token_limit(exported_models, labelled_data):
    directory, data = str(exported_models["generate"]), str(labelled_data["generate"])
    result = runner.invoke(app, ["evaluate", directory, data, "--max-tokens", "5"])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: max_tokens: a 'generate' model reads no input text to limit (only classify, "
        "tag, joint and translate models do)"
    )


@pytest.mark.parametrize("task", TEXT_TASKS)
def test_the_service_truncates_or_answers_413(task, exported_models):
    predictor = rnnkit.load(exported_models[task])
    count = token_count(predictor, LONG)
    limits = ServeLimits(max_tokens=MAX, over_length="error")
    refused = TestClient(create_app(predictor, limits=limits)).post("/predict", json={"text": LONG})
    assert refused.status_code == 413
    assert refused.json()["detail"].startswith(f"text 1: {count} tokens, expected at most {MAX}")

    predictor = rnnkit.load(exported_models[task])
    client = TestClient(create_app(predictor, limits=ServeLimits(max_tokens=MAX)))
    answered = client.post("/predict", json={"texts": [LONG, "what time is it"]})
    assert answered.status_code == 200, answered.text
    assert client.get("/info").json()["limits"]["max_tokens"] == MAX
