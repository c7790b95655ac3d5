"""Resume after kill -9 at any point ends exactly like an uninterrupted run (CPU, same seed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_trainer import read_metrics, same_weights, weights
from toy import main as toy_main
from toy import run_in_child

ARGS = ["--epochs", "3", "--checkpoint-every", "5"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """An uninterrupted run of the toy script, in this process."""
    out = tmp_path_factory.mktemp("reference")
    toy_main([str(out), *ARGS])
    return out


def assert_same_run(out: Path, reference: Path) -> None:
    assert read_metrics(out) == read_metrics(reference)
    assert same_weights(
        weights(out / "model.safetensors"), weights(reference / "model.safetensors")
    )
    final, expected = out / "checkpoints/step-24", reference / "checkpoints/step-24"
    assert same_weights(
        weights(final / "model.safetensors"), weights(expected / "model.safetensors")
    )
    assert same_weights(
        weights(final / "optimizer.safetensors"), weights(expected / "optimizer.safetensors")
    )


# os.replace calls of the toy run, in order: config.json, labels.json (fit start), the
# `latest` pointer of the step-5 state, model.safetensors (epoch 1's best), `latest` (step 8).
KILL_POINTS = {
    "mid-epoch after a step-5 state": ["--kill-at-step", "7"],
    "while replacing the best model.safetensors": ["--kill-at-call", "replace:4:before"],
    "after renaming step-8/ but before publishing it": ["--kill-at-call", "replace:5:before"],
    "just after publishing step-8": ["--kill-at-call", "replace:5:after"],
}


@pytest.mark.slow
@pytest.mark.parametrize("kill", KILL_POINTS.values(), ids=KILL_POINTS.keys())
def test_resume_after_kill_equals_uninterrupted_run(tmp_path, reference, kill):
    run, log = tmp_path / "run", tmp_path / "killed.txt"
    exit_code = run_in_child([str(run), *ARGS, *kill], log)
    assert exit_code == -9, log.read_text()  # SIGKILL, not a clean exit
    assert not (run / "checkpoints/step-24").exists()
    toy_main([str(run), *ARGS, "--resume"])
    assert_same_run(run, reference)
    assert not list((run / "checkpoints").glob(".tmp-*"))
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == [
        "latest",
        "step-20",
        "step-24",
    ]


def test_resume_before_any_state_starts_afresh(tmp_path, reference, caplog):
    # What a run killed after logging epoch 1 but before publishing any state leaves.
    (tmp_path / "metrics.jsonl").write_text('{"epoch": 1, "step": 8}\n')
    (tmp_path / "checkpoints/.tmp-step-8").mkdir(parents=True)
    toy_main([str(tmp_path), *ARGS, "--resume"])
    assert_same_run(tmp_path, reference)
    assert any("no resume state" in r.getMessage() for r in caplog.records)


def test_resume_of_a_finished_run_returns_its_result(tmp_path, reference, capsys):
    toy_main([str(tmp_path), *ARGS])
    first = capsys.readouterr().out
    toy_main([str(tmp_path), *ARGS, "--resume"])
    assert capsys.readouterr().out == first
    assert_same_run(tmp_path, reference)


def test_resume_with_more_epochs_continues_and_reports_the_change(tmp_path, caplog):
    from toy import make_trainer, train_loader

    from rnnkit.training import TrainerConfig

    make_trainer(tmp_path, TrainerConfig(epochs=1, lr=0.01, patience=None)).fit(train_loader())
    trainer = make_trainer(tmp_path, TrainerConfig(epochs=2, lr=0.01, patience=None))
    result = trainer.fit(train_loader(), resume=True)
    assert result.epochs_run == 2 and result.steps == 16
    assert [r["epoch"] for r in read_metrics(tmp_path)] == [1, 2]
    assert any(
        "changed trainer settings (epochs: 1 -> 2)" in r.getMessage() for r in caplog.records
    )
