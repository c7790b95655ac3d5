"""The plots of a search: importances only once two trials have finished."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from rnnkit.tuning.results import HISTORY_PNG, IMPORTANCES_PNG, draw_plots, param_importances


def study_of(n_trials: int) -> optuna.Study:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(0))
    study.optimize(
        lambda trial: trial.suggest_float("lr", 1e-4, 1e-2) + trial.suggest_int("layers", 1, 3),
        n_trials=n_trials,
    )
    return study


def test_one_finished_trial_has_no_importances_and_no_plot_of_them(tmp_path: Path):
    study = study_of(1)
    assert param_importances(study) == {}  # Optuna itself would answer 0.5 each
    assert draw_plots(study, tmp_path, "accuracy") == [tmp_path / HISTORY_PNG]
    assert not (tmp_path / IMPORTANCES_PNG).exists()


def test_two_finished_trials_have_importances_and_both_plots(tmp_path: Path):
    study = study_of(2)
    importances = param_importances(study)
    assert set(importances) == {"lr", "layers"}
    assert sum(importances.values()) == pytest.approx(1.0)
    written = draw_plots(study, tmp_path, "accuracy")
    assert written == [tmp_path / HISTORY_PNG, tmp_path / IMPORTANCES_PNG]
    assert all(path.read_bytes().startswith(b"\x89PNG") for path in written)
