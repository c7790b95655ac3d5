"""matplotlib for the PNG files rnnkit writes (confusion matrices, attention, gradient flow)."""

from __future__ import annotations

from typing import Any


def headless_pyplot() -> Any:
    """``matplotlib.pyplot`` on the non-interactive Agg backend: no display is needed. Imported
    on first use, so commands that draw nothing never load matplotlib."""
    import matplotlib

    matplotlib.use("Agg")  # must precede the pyplot import
    import matplotlib.pyplot as plt

    return plt
