"""The equal-time median pruner (``--pruner time``): a slow trial is judged against what the
finished trials had reached after as many seconds, not after as many epochs."""

from __future__ import annotations

import math

import optuna
import pytest
from optuna.trial import TrialState

from rnnkit.errors import ConfigError
from rnnkit.tuning import TuneSettings
from rnnkit.tuning.pruners import EPOCH_SECONDS, EqualTimeMedianPruner, anytime_best, build_pruner
from rnnkit.tuning.settings import prepare

# Two finished trials of a fast recipe: 10 s an epoch, 0.70 after one epoch, 0.80 after four.
FAST = {1: 0.70, 2: 0.75, 3: 0.78, 4: 0.80}
FAST_SECONDS = {"1": 10.0, "2": 20.0, "3": 30.0, "4": 40.0}


def study_with(finished: int, direction: str = "maximize") -> optuna.Study:
    study = optuna.create_study(direction=direction, pruner=EqualTimeMedianPruner(2))
    sign = 1 if direction == "maximize" else -1
    for _ in range(finished):
        study.add_trial(
            optuna.trial.create_trial(
                state=TrialState.COMPLETE, value=sign * 0.80,
                intermediate_values={epoch: sign * value for epoch, value in FAST.items()},
                user_attrs={EPOCH_SECONDS: FAST_SECONDS},
            )
        )  # fmt: skip
    return study


def report(trial: optuna.Trial, epochs: dict[int, tuple[float, float]]) -> None:
    """Reports ``{epoch: (seconds, value)}`` as the search's epoch reporter does."""
    seconds = {}
    for epoch, (at, value) in epochs.items():
        seconds[str(epoch)] = at
        trial.set_user_attr(EPOCH_SECONDS, dict(seconds))
        trial.report(value, epoch)


def test_a_slow_trial_ahead_at_equal_epochs_is_pruned_at_equal_time():
    """50 s an epoch: after 2 epochs (100 s) it has 0.76, above the finished trials' 0.75 at
    epoch 2 (the median pruner keeps it) but below their 0.80 after 100 s."""
    study = study_with(2)
    trial = study.ask()
    report(trial, {1: (50.0, 0.72), 2: (100.0, 0.76)})
    assert trial.should_prune()
    median = optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=2)
    assert not median.prune(study, study._storage.get_trial(trial._trial_id))


def test_a_trial_as_good_at_equal_time_is_kept():
    study = study_with(2)
    trial = study.ask()
    report(trial, {1: (10.0, 0.70), 2: (20.0, 0.76)})  # 0.76 ≥ their 0.75 after 20 s
    assert not trial.should_prune()


def test_a_fast_trial_is_judged_at_its_own_time_not_at_their_end():
    """After 20 s it has 0.74: below their 0.75 then (pruned), though far below their final
    0.80 too. After 15 s, 0.71 is above their 0.70 (their one epoch by then): kept."""
    study = study_with(2)
    slow_start = study.ask()
    report(slow_start, {1: (10.0, 0.69), 2: (20.0, 0.74)})
    assert slow_start.should_prune()
    quick = study.ask()
    report(quick, {1: (7.5, 0.60), 2: (15.0, 0.71)})
    assert not quick.should_prune()


def test_no_pruning_before_the_warmup_epoch_or_two_finished_trials():
    study = study_with(2)
    first_epoch = study.ask()
    report(first_epoch, {1: (100.0, 0.10)})
    assert not first_epoch.should_prune()  # epoch 1 < warmup 2
    lonely = study_with(1).ask()
    report(lonely, {1: (100.0, 0.10), 2: (200.0, 0.10)})
    assert not lonely.should_prune()  # one finished trial only


def test_no_pruning_when_no_finished_trial_had_ended_an_epoch_by_then():
    study = study_with(2)
    trial = study.ask()
    report(trial, {1: (4.0, 0.10), 2: (8.0, 0.10)})  # they ended their first epoch at 10 s
    assert not trial.should_prune()


def test_when_lower_is_better_a_higher_value_at_equal_time_is_pruned():
    study = study_with(2, direction="minimize")  # their values: -0.70 ... -0.80
    worse = study.ask()
    report(worse, {1: (50.0, -0.72), 2: (100.0, -0.76)})  # -0.76 > -0.80 at 100 s
    assert worse.should_prune()
    better = study.ask()
    report(better, {1: (50.0, -0.79), 2: (100.0, -0.81)})
    assert not better.should_prune()


def test_anytime_best_counts_only_the_epochs_ended_by_then():
    assert anytime_best(FAST, FAST_SECONDS, 25.0, maximize=True) == 0.75
    assert anytime_best(FAST, FAST_SECONDS, 25.0, maximize=False) == 0.70
    assert anytime_best(FAST, FAST_SECONDS, 1e9, maximize=True) == 0.80
    assert math.isnan(anytime_best(FAST, {}, 1e9, maximize=True))  # no epoch times: none


def test_the_pruner_option_builds_each_pruner(tmp_path):
    built = {
        name: build_pruner(TuneSettings("classify", tmp_path, 1, pruner=name))
        for name in ("median", "halving", "time")
    }
    assert isinstance(built["median"], optuna.pruners.MedianPruner)
    assert isinstance(built["halving"], optuna.pruners.SuccessiveHalvingPruner)
    assert isinstance(built["time"], EqualTimeMedianPruner)
    with pytest.raises(ConfigError, match="pruner must be one of median, halving, time, got 'x'"):
        prepare(TuneSettings("classify", tmp_path, 1, train="a", dev="b", pruner="x"))
