"""Diagnostics: see gradients vanish or explode through time, and the tasks that provoke it."""

from rnnkit.diagnostics.gradients import (
    DirectionFlow,
    GradientFlow,
    Thresholds,
    gradient_flow,
    layer_gradient_flow,
)

__all__ = [
    "DirectionFlow",
    "GradientFlow",
    "Thresholds",
    "gradient_flow",
    "layer_gradient_flow",
]
