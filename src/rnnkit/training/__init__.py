"""Model-agnostic training: the loop, its configuration, callbacks and checkpoints."""

from rnnkit.training.checkpoint import (
    latest_resume_state,
    library_versions,
    load_model_weights,
    save_model_dir,
    unwrap_model,
)
from rnnkit.training.config import TrainerConfig
from rnnkit.training.distributed import rank, world_size
from rnnkit.training.rng import seed_everything
from rnnkit.training.state import FitResult, StepInfo, TrainState
from rnnkit.training.trainer import EVENTS, Trainer

__all__ = [
    "EVENTS",
    "FitResult",
    "StepInfo",
    "TrainState",
    "Trainer",
    "TrainerConfig",
    "latest_resume_state",
    "library_versions",
    "load_model_weights",
    "rank",
    "save_model_dir",
    "seed_everything",
    "unwrap_model",
    "world_size",
]
