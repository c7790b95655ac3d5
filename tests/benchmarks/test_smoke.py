"""Each benchmark script still runs end to end: its main path, on a tiny copy of the shared data
(``RNNKIT_DATA``), one epoch, writing its JSON record to a temporary ``--results-dir``.

The scripts run as their own processes, as a user runs them, so a change of a model contract or
a task API that breaks a benchmark fails here instead of in the next hour-long run. The numbers
are meaningless at this size; the tests check that every row, key and value a record promises
is there and in range.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.benchmarks.tiny_data import DEV, write_tiny_data
from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = ROOT / "benchmarks"


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data sets not found at {SHARED_DATA}")
    return write_tiny_data(SHARED_DATA, tmp_path_factory.mktemp("data"))


def run_script(
    script: str, *options: str, data: Path, results: Path, expected_rc: int | None = 0
) -> subprocess.CompletedProcess:
    """Runs ``benchmarks/<script>.py`` with ``options`` on ``data``, recording into
    ``results``; fails with its output unless it exits with ``expected_rc`` (None: any)."""
    python_path = os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / f"{script}.py"), *options,
         "--results-dir", str(results)],
        env={**os.environ, "RNNKIT_DATA": str(data), "PYTHONPATH": python_path},
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    if expected_rc is not None:
        assert done.returncode == expected_rc, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def record(results: Path, name: str) -> dict:
    return json.loads((results / f"{name}.json").read_text(encoding="utf-8"))


def is_fraction(value: object) -> bool:
    return isinstance(value, float | int) and 0.0 <= value <= 1.0


def test_quantize_trains_both_models_and_compares_int8_with_fp32(tiny_data, tmp_path):
    done = run_script("quantize", "--atis-epochs", "1", "--conll-epochs", "1", "--rounds", "5",
                      data=tiny_data, results=tmp_path)  # fmt: skip
    rows = record(tmp_path, "quantize")["rows"]
    assert [(row["model"], row["task"]) for row in rows] == [
        ("atis-intent", "classify"), ("conll-ner", "tag")
    ]  # fmt: skip
    for row in rows:
        assert row["fp32_p50_ms"] > 0 and row["int8_p50_ms"] > 0 and row["ratio"] > 0
        assert set(row["drop_points"]) == set(row["metric_keys"])
        for key in row["metric_keys"]:
            assert is_fraction(row["metric_fp32"][key]) and is_fraction(row["metric_int8"][key])
    assert "int8 vs fp32 ONNX" in done.stdout
    assert (tmp_path / "quantize-runs" / "conll-ner" / "model.safetensors").is_file()


def test_classify_records_one_row_per_data_set_and_cell(tiny_data, tmp_path):
    run_script("classify", "--datasets", "names", "--cells", "lstm", "--epochs", "1",
               data=tiny_data, results=tmp_path)  # fmt: skip
    (row,) = record(tmp_path, "classify-names")["rows"]
    assert (row["dataset"], row["cell"], row["epochs_run"], row["best_epoch"]) == (
        "names", "lstm", 1, 1
    )  # fmt: skip
    assert is_fraction(row["accuracy"]) and is_fraction(row["macro_f1"])
    assert row["tokens_per_second"] > 0
    assert row["config"]["trainer"]["epochs"] == 1


def test_tag_trains_the_joint_model_and_the_tagger_on_a_training_subset(tiny_data, tmp_path):
    run_script("tag", "--datasets", "atis,conll", "--variants", "crf+chars", "--epochs", "1",
               "--max-train", "100", data=tiny_data, results=tmp_path)  # fmt: skip
    rows = record(tmp_path, "tag-atis_conll-crf+chars-first100")["rows"]
    assert [(row["dataset"], row["variant"], row["max_train"]) for row in rows] == [
        ("atis", "crf+chars", 100), ("conll", "crf+chars", 100)
    ]  # fmt: skip
    atis, conll = rows
    assert is_fraction(atis["f1"]) and is_fraction(atis["intent_accuracy"])
    assert is_fraction(conll["f1"]) and conll["intent_accuracy"] is None
    assert atis["config"]["model"]["use_crf"] and atis["config"]["model"]["char_features"]
    # the ATIS folder's subset is a folder of the same layout
    subset = tmp_path / "tag-runs" / "atis-train-100"
    assert [len((subset / name).read_text().splitlines()) for name in ("seq.in", "label")] == [
        100, 100
    ]  # fmt: skip


def test_tune_searches_a_joint_task_on_the_dev_metric_it_is_given(tiny_data, tmp_path):
    run_script("tune", "--task", "joint", "--dataset", "atis", "--budget-minutes", "5",
               "--trials", "1", "--set", "trainer.epochs=1", "--set", "trainer.monitor=f1",
               data=tiny_data, results=tmp_path)  # fmt: skip
    (row,) = record(tmp_path, "tune")["rows"]
    assert (row["task"], row["dataset"], row["finished"], row["best_trial"]) == (
        "joint", "atis", 1, 0
    )  # fmt: skip
    assert row["overrides"] == ["trainer.epochs=1", "trainer.monitor=f1"]
    assert "--set trainer.monitor=f1" in row["command"]
    assert is_fraction(row["best_dev"]) and row["best_dev"] == row["defaults_dev"]
    trials = (tmp_path / "tune-joint-atis-5min-jobs1.csv").read_text().splitlines()
    assert len(trials) == 2 and trials[1].startswith("0,COMPLETE,")  # the header, trial 0
    best = tmp_path / "tune-joint-atis-5min-jobs1-best.yaml"
    assert row["best_yaml"].endswith(best.name)
    assert best.read_text().startswith("# The best trial of `rnnkit tune joint`: trial 0,")
    history = tmp_path / "tune-joint-atis-5min-jobs1-history.png"
    assert history.read_bytes().startswith(b"\x89PNG")
    # importances need two finished trials: with one there is no plot to keep
    assert not (tmp_path / "tune-joint-atis-5min-jobs1-importances.png").exists()


def test_tune_rejects_a_data_set_the_task_does_not_have(tmp_path):
    done = run_script("tune", "--task", "joint", "--dataset", "names", data=tmp_path,
                      results=tmp_path, expected_rc=2)  # fmt: skip
    assert "--dataset 'names' is not a joint data set (atis, snips)" in done.stderr


# The tiny runs whose models decode_runtimes.py reuses: script -> options.
DECODER_RUNS = {
    "translate": ["--dataset", "multi30k", "--epochs", "1", "--embedding-dim", "16",
                  "--hidden-size", "16"],
    "generate": ["--parts", "names", "--cells", "lstm", "--epochs", "1",
                 "--classifier-epochs", "1"],
}  # fmt: skip


@pytest.fixture(scope="module")
def decoder_runs(tiny_data, tmp_path_factory) -> dict[str, Path]:
    """The results folder of each of ``DECODER_RUNS``, run once."""
    folders = {}
    for script, options in DECODER_RUNS.items():
        folders[script] = tmp_path_factory.mktemp(script)
        run_script(script, *options, data=tiny_data, results=folders[script])
    return folders


def test_translate_scores_greedy_and_beam_decoding(decoder_runs):
    (row,) = record(decoder_runs["translate"], "translate")["rows"]
    assert (row["name"], row["n_dev"], row["epochs_run"]) == ("multi30k-bigru-dot", DEV, 1)
    for decoding in ("greedy", "beam5"):
        assert 0 <= row[decoding]["bleu"] <= 100 and 0 <= row[decoding]["chrf"] <= 100
    assert row["target_tokens_per_second"] > 0


def test_generate_measures_perplexity_fidelity_novelty_and_beam_search(decoder_runs):
    recorded = record(decoder_runs["generate"], "generate")
    (row,) = recorded["rows"]
    assert (row["dataset"], row["cell"], row["epochs_run"]) == ("names", "lstm", 1)
    assert row["perplexity"] > 1
    checks = recorded["checks"]
    assert is_fraction(checks["names beam vs greedy (lstm)"]["beam_at_least_greedy"])
    fidelity = checks["names fidelity/novelty (lstm)"]
    for key in ("fidelity_weighted", "fidelity_macro", "novelty", "distinct"):
        assert is_fraction(fidelity[key]), key
    assert is_fraction(fidelity["classifier"]["accuracy"])
    assert "results_dir" not in recorded["args"]


def decode_runtimes_options(decoder_runs: dict[str, Path], tiny_data: Path) -> list[str]:
    """decode_runtimes.py's options for the tiny translator and generator of ``decoder_runs``."""
    translator = decoder_runs["translate"] / "translate-runs/multi30k-bigru-dot"
    generator = decoder_runs["generate"] / "generate-runs/names-lstm"
    return ["--translator", str(translator), "--dev", str(tiny_data / "multi30k/val"),
            "--sentences", "4", "--generator", str(generator), "--condition", "Arabic",
            "--texts", "3", "--rounds", "1"]  # fmt: skip


def check_decode_rows(rows: dict[str, dict]) -> None:
    """A decode_runtimes record: a row per decoding, both runtimes timed, the same outputs."""
    assert sorted(rows) == [
        "generate (beam)", "generate (greedy)",
        "translate 4 sentences, beam 1", "translate 4 sentences, beam 5",
    ]  # fmt: skip
    for name, row in rows.items():
        assert row["torch_s"] > 0 and row["onnx_s"] > 0
        assert row["same_outputs"] is True, f"{name}: ONNX decoded other outputs than torch"


def test_decode_runtimes_compares_onnx_with_torch(decoder_runs, tiny_data, tmp_path):
    options = decode_runtimes_options(decoder_runs, tiny_data)
    run_script("decode_runtimes", *options, data=tiny_data, results=tmp_path)
    check_decode_rows(record(tmp_path, "decode_runtimes")["rows"])


def test_decode_runtimes_check_fails_when_the_runtimes_disagree(
    decoder_runs, tiny_data, tmp_path, monkeypatch
):
    """The script, run in this process, with each ONNX call's output changed: every row says
    so, and `check_decode_rows` fails."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # the script's own imports (record, timing)
    script = importlib.import_module("decode_runtimes")

    def disagreeing(make_calls: Callable[..., dict[str, dict]]) -> Callable[..., dict[str, dict]]:
        def make(*args: object) -> dict[str, dict]:
            calls = make_calls(*args)
            for pair in calls.values():
                pair["onnx"] = lambda onnx=pair["onnx"]: [*onnx(), "an output torch never gave"]
            return calls

        return make

    for name in ("translator_calls", "generator_calls"):
        monkeypatch.setattr(script, name, disagreeing(getattr(script, name)))
    options = decode_runtimes_options(decoder_runs, tiny_data)
    monkeypatch.setattr(
        sys, "argv", ["decode_runtimes.py", *options, "--results-dir", str(tmp_path)]
    )
    monkeypatch.setenv("RNNKIT_DATA", str(tiny_data))
    script.main()
    rows = record(tmp_path, "decode_runtimes")["rows"]
    assert [row["same_outputs"] for row in rows.values()] == [False] * 4
    with pytest.raises(AssertionError, match="ONNX decoded other outputs than torch"):
        check_decode_rows(rows)


def test_soak_answers_every_valid_request_and_rejects_every_malformed_one(tiny_data, tmp_path):
    done = run_script("soak", "--epochs", "1", "--requests", "100", "--concurrency", "2",
                      data=tiny_data, results=tmp_path, expected_rc=None)  # fmt: skip
    report = record(tmp_path, "soak")
    assert done.returncode == (0 if report["passed"] else 1), done.stderr[-3000:]
    assert (report["valid"], report["malformed"]) == (90, 10)
    assert report["valid_errors"] == 0 and report["malformed_not_4xx"] == 0
    assert sum(report["statuses"].values()) == 100
    assert report["rss_first_mb"] > 0


def test_epoch_times_rnnkit_and_the_plain_loop_on_the_same_texts(tmp_path):
    sst2 = SHARED_DATA / "sst2" / "train.tsv"
    if not sst2.is_file():
        pytest.skip(f"SST-2 not found at {sst2}")
    done = run_script("epoch", "--max-examples", "200", data=SHARED_DATA, results=tmp_path)
    report = record(tmp_path, "epoch")
    assert report["texts"] == report["max_examples"] == 200
    assert set(report["rows"]) == {"rnnkit", "plain"}
    for row in report["rows"].values():
        assert row["tokens"] == report["rows"]["rnnkit"]["tokens"] > 0
        assert row["batches"] == 4  # 200 texts, batch size 64
        assert 0 < row["model_seconds"] <= row["seconds"]
        assert is_fraction(row["outside_share"])
    assert report["speedup"] == pytest.approx(
        report["rows"]["rnnkit"]["tokens_per_s"] / report["rows"]["plain"]["tokens_per_s"]
    )
    assert "rnnkit / plain tokens/s" in done.stdout


def test_serve_load_tests_the_int8_model_it_quantized(tiny_data, tmp_path):
    done = run_script("serve", "--epochs", "1", "--runtimes", "onnx-int8", "--requests", "40",
                      "--concurrency", "4", "--latency-rounds", "5", "--max-drop", "100",
                      "--output", "serve-int8", data=tiny_data, results=tmp_path)  # fmt: skip
    report = record(tmp_path, "serve-int8")
    assert report["quantization"]["files"] == ["model.int8.onnx"]
    assert report["quantization"]["accepted"] and report["quantization"]["data"]
    (row,) = report["load"]["onnx-int8"]["load"]
    assert (row["concurrency"], row["requests"], row["errors"]) == (4, 40, 0)
    assert row["server_cpu_ms_per_request"] > 0
    shares = row["process_cpu_seconds"]  # the server process and its descendants
    assert shares and shares == sorted(shares, reverse=True) and min(shares) >= 0
    rejections = report["load"]["onnx-int8"]["rejections"]
    assert rejections["wrongly_answered"] == {} and rejections["alive_after"]
    assert "onnx-int8 rejections" in done.stdout


def test_serve_refuses_a_runtime_rnnkit_serve_does_not_have(tiny_data, tmp_path):
    done = run_script("serve", "--runtimes", "onnx,int4", data=tiny_data, results=tmp_path,
                      expected_rc=2)  # fmt: skip
    assert "--runtimes: expected some of ['onnx', 'onnx-int8', 'torch'], got ['int4']" in (
        done.stderr
    )
