"""rnnkit: recurrent neural networks for NLP, from the cell equations to a served model.

The public façade: ``rnnkit.load`` (`rnnkit.api.load`) and ``rnnkit.__version__``.
"""

from rnnkit.api import load
from rnnkit.version import __version__

__all__ = ["__version__", "load"]
