"""rnnkit: recurrent neural networks for NLP, from the cell equations to a served model."""

__version__ = "0.1.0"


def load(directory, runtime: str = "torch", device: str = "cpu"):
    """Loads a model directory written by ``rnnkit train``; see `rnnkit.tasks.load`."""
    from rnnkit.tasks import load as load_task

    return load_task(directory, runtime, device)
