"""SIGTERM and Ctrl-C (SIGINT) during training: finish the step, save a resume state, stop.

A signal arriving mid-step would leave the model, optimizer and counters out of step with
each other, so the handler only records it; the trainer checks `StopSignals.received` at
the next step boundary, writes a resume state there and raises `TrainingError` saying where
it is. A second signal stops at once (``KeyboardInterrupt``), for a user who will not wait.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopSignals:
    """While entered (in the main thread), SIGTERM and SIGINT are recorded, not fatal.

    Example::

        with StopSignals() as signals:
            for batch in batches:
                step(batch)
                if signals.received:
                    save_and_stop(signals.received)
    """

    def __init__(self) -> None:
        self.received: str | None = None  # the name of the first signal received
        self._previous: dict[int, object] = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():  # only it may set handlers
            for number in STOP_SIGNALS:
                self._previous[number] = signal.signal(number, self._record)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous.clear()

    def _record(self, number: int, frame: FrameType | None) -> None:
        if self.received is not None:
            raise KeyboardInterrupt(f"{signal.Signals(number).name} received twice")
        self.received = signal.Signals(number).name
