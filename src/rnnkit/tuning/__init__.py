"""Hyper-parameter search for every registered task (``rnnkit tune``), on Optuna.

`tune(TuneSettings(...))` searches around the task's default recipe within a time budget and
leaves ``best/``, ``best.yaml``, ``trials.csv``, the plots and the resumable ``study.db`` in
its directory (docs/tuning.md).
"""

from rnnkit.tuning.search import TuneResult, tune
from rnnkit.tuning.settings import TuneSettings
from rnnkit.tuning.space import Param, default_space, load_space

__all__ = ["Param", "TuneResult", "TuneSettings", "default_space", "load_space", "tune"]
