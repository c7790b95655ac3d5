"""rnnkit: recurrent neural networks for NLP, from the cell equations to a served model."""

__version__ = "0.1.0"
