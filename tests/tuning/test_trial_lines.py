"""The line printed per trial and its row in trials.csv: parameters, dev metric, time and
how it ended."""

from __future__ import annotations

import csv
import datetime

import optuna
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState

from rnnkit.tuning.progress import describe_trial
from rnnkit.tuning.results import write_trials_csv

START = datetime.datetime(2026, 1, 1)


def trial(state: TrialState, value: float | None, **attrs) -> optuna.trial.FrozenTrial:
    frozen = optuna.trial.create_trial(
        state=state, value=value, params={"trainer.lr": 0.002},
        distributions={"trainer.lr": FloatDistribution(1e-4, 1e-2, log=True)},
        intermediate_values={1: 0.5, 2: 0.61}, user_attrs=attrs,
    )  # fmt: skip
    frozen.datetime_start, frozen.datetime_complete = START, START + datetime.timedelta(seconds=41)
    frozen.number = 0
    return frozen


def test_a_finished_a_cut_and_a_pruned_trial_say_how_they_ended():
    done = trial(TrialState.COMPLETE, 0.83, epochs=12, stop_reason="early_stopping")
    assert describe_trial(done, "accuracy") == (
        "trial 0  lr 0.002  dev accuracy 0.8300  41 s  12 epochs"
    )
    cut = trial(TrialState.COMPLETE, 0.77, epochs=2, stop_reason="search_budget")
    assert describe_trial(cut, "accuracy").endswith(
        "dev accuracy 0.7700  41 s  2 epochs, the last cut short by the budget"
    )
    pruned = trial(TrialState.PRUNED, None, epochs=2, stop_reason="pruned")
    assert describe_trial(pruned, "accuracy").endswith(
        "dev accuracy 0.6100  41 s  pruned at epoch 2"
    )


def test_trials_csv_says_how_each_trial_stopped(tmp_path):
    study = optuna.create_study(direction="maximize")
    study.add_trial(trial(TrialState.COMPLETE, 0.83, epochs=12, stop_reason="early_stopping"))
    study.add_trial(trial(TrialState.COMPLETE, 0.77, epochs=2, stop_reason="search_budget"))
    study.add_trial(trial(TrialState.FAIL, None, error="boom"))
    write_trials_csv(study, tmp_path / "trials.csv")
    rows = list(csv.DictReader((tmp_path / "trials.csv").open()))
    assert [row["stop_reason"] for row in rows] == ["early_stopping", "search_budget", ""]
    assert [row["epochs"] for row in rows] == ["12", "2", ""]
