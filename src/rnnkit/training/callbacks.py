"""The trainer's standard callbacks: the metrics log, the progress bar, TensorBoard and the
training curves.

Each attaches itself to a trainer's named events and acts on rank 0 only. Write your own as a
function ``fn(trainer)`` and register it with ``trainer.add_callback(event, fn)``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from rnnkit.training.checkpoint import append_jsonl, atomic_write, read_jsonl
from rnnkit.training.state import TrainerView

logger = logging.getLogger("rnnkit.training")


METRICS_FILE = "metrics.jsonl"
CURVES_FILE = "curves.png"

# Callbacks that every trainer built inside `scoped_callbacks` attaches: event -> callbacks.
_SCOPED: ContextVar[tuple[tuple[str, Callable[[Any], None]], ...]] = ContextVar(
    "rnnkit_scoped_callbacks", default=()
)


@contextmanager
def scoped_callbacks(callbacks: Mapping[str, Callable[[Any], None]]) -> Iterator[None]:
    """Every `Trainer` created inside the ``with`` block attaches ``callbacks`` (event ->
    ``fn(trainer)``) besides its own: how code that calls a task's ``train`` function (the
    hyper-parameter search, say) hears each epoch without that function passing them on.

    Example::

        with scoped_callbacks({"epoch_end": lambda t: print(t.last_record)}):
            task.train(config, out_dir)
    """
    token = _SCOPED.set(_SCOPED.get() + tuple(callbacks.items()))
    try:
        yield
    finally:
        _SCOPED.reset(token)


def attach_default_callbacks(trainer: TrainerView) -> None:
    """Attaches the gradient monitor, the metrics log, the progress bar, TensorBoard, the
    training curves and any `scoped_callbacks`.

    The monitor comes first: it adds its counts to the epoch's record before it is logged.
    """
    from rnnkit.training.monitor import GradientMonitor

    GradientMonitor().attach(trainer)
    MetricsLog().attach(trainer)
    if trainer.show_progress:
        ProgressBar().attach(trainer)
    if trainer.config.tensorboard:
        TensorBoardLog().attach(trainer)
    trainer.add_callback("fit_end", write_curves)
    for event, callback in _SCOPED.get():
        trainer.add_callback(event, callback)


class MetricsLog:
    """Appends ``trainer.last_record`` to ``OUT/metrics.jsonl`` after every epoch."""

    def attach(self, trainer: TrainerView) -> None:
        trainer.add_callback("epoch_end", self.on_epoch_end)

    def on_epoch_end(self, trainer: TrainerView) -> None:
        if trainer.is_main:
            append_jsonl(trainer.out_dir / METRICS_FILE, trainer.last_record)


class ProgressBar:
    """A rich progress bar per epoch (on stderr) with the running loss and tokens/s."""

    def __init__(self) -> None:
        self.progress: Any = None

    def attach(self, trainer: TrainerView) -> None:
        for event in ("fit_start", "epoch_start", "step_end", "epoch_end", "fit_end"):
            trainer.add_callback(event, getattr(self, f"on_{event}"))

    def on_fit_start(self, trainer: TrainerView) -> None:
        if not trainer.is_main:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[info]}"),
            console=Console(stderr=True),
        )
        self.progress.start()

    def on_epoch_start(self, trainer: TrainerView) -> None:
        if self.progress is None:
            return
        epoch = trainer.state.epoch + 1
        self.task = self.progress.add_task(
            f"epoch {epoch}/{trainer.config.epochs}",
            total=trainer.steps_per_epoch,
            completed=trainer.state.batch_in_epoch,
            info="",
        )
        self.started, self.loss_sum, self.loss_steps, self.tokens = time.perf_counter(), 0.0, 0, 0

    def on_step_end(self, trainer: TrainerView) -> None:
        if self.progress is None:
            return
        info = trainer.last_step
        self.tokens += info.tokens
        if not info.skipped:
            self.loss_sum, self.loss_steps = self.loss_sum + info.loss, self.loss_steps + 1
        self.progress.advance(self.task)
        if trainer.state.step % trainer.config.log_every == 0:
            self.progress.update(self.task, info=self._speed_text(trainer))

    def _speed_text(self, trainer: TrainerView) -> str:
        seconds = max(time.perf_counter() - self.started, 1e-9)
        loss = self.loss_sum / max(1, self.loss_steps)
        norm = f"  |grad| {trainer.last_step.grad_norm:.3g}"
        if trainer.tokens_in_batch is not None:
            return f"loss {loss:.4f}{norm}  {self.tokens / seconds:,.0f} tok/s"
        rate = self.progress.tasks[self.task].completed / seconds
        return f"loss {loss:.4f}{norm}  {rate:.1f} batch/s"

    def on_epoch_end(self, trainer: TrainerView) -> None:
        if self.progress is None:
            return
        record, monitor = trainer.last_record, trainer.config.monitor
        text = (
            f"train loss {record['train_loss']:.4f}  dev {monitor} {record[f'dev_{monitor}']:.4f}"
        )
        self.progress.update(self.task, info=text)

    def on_fit_end(self, trainer: TrainerView) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


class TensorBoardLog:
    """Writes step and epoch scalars to ``OUT/tensorboard`` (skipped if not installed)."""

    def __init__(self) -> None:
        self.writer: Any = None

    def attach(self, trainer: TrainerView) -> None:
        for event in ("fit_start", "step_end", "epoch_end", "fit_end"):
            trainer.add_callback(event, getattr(self, f"on_{event}"))

    def on_fit_start(self, trainer: TrainerView) -> None:
        if not trainer.is_main:
            return
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            logger.warning("trainer.tensorboard is on but tensorboard is not installed; skipped")
            return
        self.writer = SummaryWriter(log_dir=str(trainer.out_dir / "tensorboard"))

    def on_step_end(self, trainer: TrainerView) -> None:
        info = trainer.last_step
        if self.writer is None or info.skipped:
            return
        # The global gradient norm before clipping, every step (the gradient monitor reads it).
        self.writer.add_scalar("train/grad_norm", info.grad_norm, info.step)
        if info.step % trainer.config.log_every == 0:
            self.writer.add_scalar("train/loss", info.loss, info.step)
            self.writer.add_scalar("train/lr", info.lr, info.step)

    def on_epoch_end(self, trainer: TrainerView) -> None:
        if self.writer is None:
            return
        record = trainer.last_record
        for name, value in record.items():
            if name not in ("epoch", "step") and isinstance(value, (int, float)):
                self.writer.add_scalar(f"epoch/{name}", value, record["epoch"])

    def on_fit_end(self, trainer: TrainerView) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def write_curves(trainer: TrainerView) -> None:
    """Draws ``OUT/metrics.jsonl`` (train loss and the monitored dev metric per epoch, the kept
    epoch marked) into ``OUT/curves.png``, atomically; only when the run finished (not when
    ``fit`` failed) and logged at least one epoch."""

    if not trainer.is_main or trainer.state.stop_reason is None:
        return
    records = read_jsonl(trainer.out_dir / METRICS_FILE)
    if not records:
        return
    from rnnkit.metrics.curves import draw_training_curves
    from rnnkit.metrics.plotting import headless_pyplot

    figure = draw_training_curves(records, trainer.config.monitor, trainer.state.best_epoch)
    path = trainer.out_dir / CURVES_FILE
    try:
        atomic_write(path, lambda tmp: figure.savefig(tmp, format="png"))
    finally:
        headless_pyplot().close(figure)
    logger.info("training curves: %s", path)
