"""The HTTP service of ``rnnkit serve`` (`create_app`) and its per-task answers."""

from rnnkit.serving.access import ServeAccess
from rnnkit.serving.app import create_app
from rnnkit.serving.schemas import ServeLimits

__all__ = ["ServeAccess", "ServeLimits", "create_app"]
