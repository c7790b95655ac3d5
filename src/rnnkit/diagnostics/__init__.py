"""Diagnostics: see gradients vanish or explode through time, and the tasks that provoke it."""

from rnnkit.diagnostics.gradients import (
    DirectionFlow,
    GradientFlow,
    Thresholds,
    gradient_flow,
    layer_gradient_flow,
)
from rnnkit.diagnostics.long_range import (
    SignalExample,
    adding_problem,
    copy_memory,
    start_signal_examples,
)
from rnnkit.diagnostics.long_range_training import (
    LongRangeConfig,
    LongRangeModel,
    LongRangeResult,
    get_task,
    train_long_range,
)

__all__ = [
    "DirectionFlow",
    "GradientFlow",
    "LongRangeConfig",
    "LongRangeModel",
    "LongRangeResult",
    "SignalExample",
    "Thresholds",
    "adding_problem",
    "copy_memory",
    "get_task",
    "gradient_flow",
    "layer_gradient_flow",
    "start_signal_examples",
    "train_long_range",
]
