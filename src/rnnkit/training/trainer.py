"""A model-agnostic training loop with named events (after karpathy/minGPT's ``Trainer``).

The task supplies two functions and the trainer does the rest:

- ``loss_fn(model, batch) -> Tensor``: a scalar loss for one batch, ``batch`` being whatever
  the ``DataLoader`` yields. The default, `rnnkit.training.loss.contract_loss`, is the model
  contract's ``model.loss(model(*model.inputs(batch)), batch)``. A custom one calls
  ``model(...)`` for the forward pass: under ``torchrun`` the model is a
  ``DistributedDataParallel`` wrapper (``unwrap_model(model)`` reaches methods).
- ``evaluate_fn(model) -> dict[str, float]``: dev-set metrics, called once per epoch in
  eval mode under ``torch.no_grad()``; ``TrainerConfig.monitor`` names the one that picks
  the best checkpoint.

Events, in order: ``fit_start``, then per epoch ``epoch_start``, ``step_end`` after every
batch, ``epoch_end`` after evaluation, and ``fit_end`` (also when training fails). A
callback is ``fn(trainer)`` and reads ``trainer.state``, ``trainer.last_step`` (a
``StepInfo``, with the global gradient norm before clipping) and ``trainer.last_record``.

Randomness: at the start of epoch ``e`` python, numpy and torch are seeded from
``(config.seed, e)`` and the sampler's ``set_epoch(e)`` is called, so an epoch's data order
and dropout depend only on the seed and the epoch — which is what lets ``fit(resume=True)``
replay a killed run exactly.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import math
import shutil
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.optim.lr_scheduler import ReduceLROnPlateau

from rnnkit.config import config_to_dict
from rnnkit.errors import ConfigError, TrainingError
from rnnkit.training import checkpoint
from rnnkit.training.averaging import build_average
from rnnkit.training.callbacks import CURVES_FILE, METRICS_FILE, attach_default_callbacks
from rnnkit.training.config import TrainerConfig
from rnnkit.training.device import autocast, check_precision, grad_scaler, move_to, resolve_device
from rnnkit.training.distributed import (
    all_reduce_sum,
    any_rank,
    any_ranks,
    broadcast_metrics,
    init_distributed,
    shutdown_distributed,
    wrap_model,
)
from rnnkit.training.epochs import (
    cap_epochs,
    describe_end,
    epoch_seed,
    is_improvement,
    set_sampler_epoch,
    warn_if_config_changed,
)
from rnnkit.training.interrupt import StopSignals
from rnnkit.training.loss import contract_loss
from rnnkit.training.rng import capture_rng, restore_rng, seed_everything
from rnnkit.training.schedule import build_optimizer, build_scheduler
from rnnkit.training.state import FitResult, StepInfo, TrainState, add_to_totals, describe_bad_step

logger = logging.getLogger("rnnkit.training")

EVENTS = ("fit_start", "epoch_start", "step_end", "epoch_end", "fit_end")

LossFn = Callable[[nn.Module, Any], Tensor]
EvaluateFn = Callable[[nn.Module], Mapping[str, float]]
Callback = Callable[["Trainer"], None]


class Trainer:
    """Trains ``model`` with AdamW, clipping, a schedule, early stopping and checkpoints.

    Args:
        model: the module to train (its weights are initialised by the caller).
        config: the loop's settings.
        loss_fn: ``loss_fn(model, batch) -> scalar Tensor`` (default: the model contract's).
        evaluate_fn: ``evaluate_fn(model) -> {"metric": value}`` on the dev set.
        out_dir: the model directory: ``files`` + ``model.safetensors`` (best weights),
            ``metrics.jsonl``, ``checkpoints/`` (resume states), ``tensorboard/``.
        files: JSON files of the model directory, name -> data (``config.json``,
            ``vocab.json``, ``labels.json``), written atomically when ``fit`` starts.
        tokens_in_batch: ``fn(batch) -> int`` for the tokens/s figures (else batches/s).
        progress: show a rich progress bar (rank 0 only).
    """

    def __init__(
        self,
        model: nn.Module,
        config: TrainerConfig,
        *,
        loss_fn: LossFn = contract_loss,
        evaluate_fn: EvaluateFn,
        out_dir: str | Path,
        files: Mapping[str, Any] | None = None,
        tokens_in_batch: Callable[[Any], int] | None = None,
        progress: bool = True,
    ) -> None:
        self.model, self.config = model, config
        self.loss_fn, self.evaluate_fn = loss_fn, evaluate_fn
        self.out_dir = Path(out_dir)
        self.files = dict(files or {})
        self.tokens_in_batch = tokens_in_batch
        self.show_progress = progress
        self.callbacks: dict[str, list[Callback]] = defaultdict(list)
        self.state = TrainState()
        self.last_step: StepInfo | None = None
        self.last_batch: Any = None
        self.last_record: dict[str, Any] = {}
        self.steps_per_epoch: int | None = None
        self.is_main = True
        attach_default_callbacks(self)

    def add_callback(self, event: str, callback: Callback) -> None:
        """Calls ``callback(trainer)`` on ``event`` (one of ``EVENTS``)."""
        if event not in EVENTS:
            raise ConfigError(f"unknown trainer event {event!r}; valid events: {', '.join(EVENTS)}")
        self.callbacks[event].append(callback)

    def trigger(self, event: str) -> None:
        for callback in self.callbacks[event]:
            callback(self)

    def fit(self, train_loader: Iterable, resume: bool = False) -> FitResult:
        """Trains until ``config.epochs`` or early stopping; returns the best metrics.

        With ``resume=True`` it continues from the latest resume state in
        ``out_dir/checkpoints`` (or starts afresh, with a warning, when there is none) and
        ends exactly as an uninterrupted run would. Raises ``TrainingError`` after
        ``config.max_bad_steps`` non-finite steps in a row.
        """
        self.device = resolve_device(self.config.device)
        check_precision(self.config.precision, self.device)
        self.dist = init_distributed(self.device)
        self.is_main = self.dist.is_main
        try:
            self._setup(train_loader, resume)
            self.trigger("fit_start")
            try:
                with StopSignals() as self._signals:
                    while self.state.stop_reason is None:
                        self._train_epoch(train_loader)
                        self._end_epoch()
            finally:
                self.trigger("fit_end")  # also on error: closes the progress bar and logs
        finally:
            shutdown_distributed(self.dist)
        if self.is_main:
            logger.info(describe_end(self.state, self.config))
        return FitResult(
            best_metrics=dict(self.state.best_metrics),
            best_epoch=self.state.best_epoch,
            epochs_run=self.state.epoch,
            steps=self.state.step,
            stop_reason=self.state.stop_reason,
            out_dir=self.out_dir,
        )

    def _setup(self, train_loader: Iterable, resume: bool) -> None:
        self.model.to(self.device)  # before the optimizer, which holds the parameters
        self.trained_model = wrap_model(self.model, self.dist)
        self.optimizer = build_optimizer(self.model, self.config)
        self.scaler = grad_scaler(self.config.precision, self.device)
        try:
            self.steps_per_epoch = len(train_loader)
        except TypeError:
            self.steps_per_epoch = None
        self.config = cap_epochs(self.config, self.steps_per_epoch, log=self.is_main)
        self.scheduler = build_scheduler(self.optimizer, self.config, self.steps_per_epoch)
        self.average = build_average(
            self.model, self.config, self.steps_per_epoch, log=self.is_main
        )
        self.state, self._resumed_rng = TrainState(), None
        self._fit_started = time.perf_counter()
        if self.is_main:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            checkpoint.remove_temporaries(self.out_dir)
            for name, data in self.files.items():
                checkpoint.write_json(self.out_dir / name, data)
        states = (self.model, self.optimizer, self.scheduler, self.average)
        found = checkpoint.load_newest_resume_state(self.out_dir, *states) if resume else None
        if resume and found is None:
            logger.warning("no resume state in %s; training from the start", self.out_dir)
        if found is not None:
            self._resume(*found)
        elif self.is_main:  # a fresh run: nothing of an earlier run in OUT may be resumed
            (self.out_dir / METRICS_FILE).unlink(missing_ok=True)
            (self.out_dir / CURVES_FILE).unlink(missing_ok=True)
            shutil.rmtree(self.out_dir / checkpoint.CHECKPOINTS_DIR, ignore_errors=True)

    def _resume(self, latest: Path, saved: dict[str, Any]) -> None:
        if self.is_main:  # (re)publish the state resumed, dropping any newer, damaged one
            checkpoint.publish_resume_state(latest)
            checkpoint.prune_resume_states(self.out_dir, self.config.keep_checkpoints)
        self.state = TrainState(**saved["state"])
        warn_if_config_changed(saved["config"], config_to_dict(self.config))
        resumable = ("completed", "time_budget")
        if self.state.stop_reason in resumable and self.state.epoch < self.config.epochs:
            self.state.stop_reason = None  # epochs are left: go on
        self._resumed_rng = capture_rng()
        completed = self.state.epoch
        if self.is_main:  # drop epochs logged after this state was saved: they are replayed
            checkpoint.truncate_jsonl(
                self.out_dir / METRICS_FILE, lambda record: record["epoch"] <= completed
            )
        logger.info("resuming from %s (epoch %d, step %d)", latest, completed, self.state.step)

    def _train_epoch(self, train_loader: Iterable) -> None:
        seed_everything(epoch_seed(self.config.seed, self.state.epoch))
        set_sampler_epoch(train_loader, self.state.epoch)
        batches = iter(train_loader)
        for _ in range(self.state.batch_in_epoch):  # replay the part a resumed run trained on
            next(batches)
        if self._resumed_rng is not None and self.state.batch_in_epoch > 0:
            restore_rng(*self._resumed_rng)  # the generators as they were after that batch
        self._resumed_rng = None
        self._epoch_started = time.perf_counter()
        self.trigger("epoch_start")
        for batch in batches:
            if self.device.type != "cpu":  # DataLoader batches are CPU tensors already
                batch = move_to(batch, self.device)
            self.last_batch = batch  # the gradient monitor measures gradient flow on it
            self.last_step = self._train_step(batch)
            self.state.batch_in_epoch += 1
            self.state.step += 1
            self.trigger("step_end")
            every = self.config.checkpoint_every
            if every and self.state.step % every == 0:
                self._save_resume_state()
            flags = (self._signals.received is not None, self.state.stop_reason is not None)
            signalled, stopped = any_ranks(flags, self.dist)
            if signalled:
                self._stop_for_signal()
            if stopped:  # by a step_end callback (a search's deadline): the epoch ends here
                self.state.stop_reason = self.state.stop_reason or "stopped on another rank"
                return

    def _stop_for_signal(self) -> None:
        """Saves a resume state at this step boundary and stops, saying where it is."""
        where = self._save_resume_state()
        raise TrainingError(
            f"interrupted by {self._signals.received or 'a signal on another rank'} at step "
            f"{self.state.step}: resume state saved to {where}; continue with --resume"
        )

    def _train_step(self, batch: Any) -> StepInfo:
        """One forward/backward; the update is skipped when the loss or gradient is non-finite."""
        self.trained_model.train()
        with autocast(self.config.precision, self.device):
            loss = self.loss_fn(self.trained_model, batch)
        if not isinstance(loss, Tensor) or loss.dim() != 0 or not loss.requires_grad:
            raise TrainingError(
                "loss_fn must return a scalar tensor that requires grad, got "
                f"{type(loss).__name__} {getattr(loss, 'shape', '')}"
            )
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()  # fp16: scaled up; otherwise as is
        self.scaler.unscale_(self.optimizer)  # clipping sees the true gradients
        max_norm = self.config.max_grad_norm or math.inf
        grad_norm = float(torch.nn.utils.clip_grad_norm_(self.model.parameters(), max_norm))
        loss_value = float(loss.detach())
        # With fp16 loss scaling an overflowing gradient is routine: the scaler skips that
        # update and lowers the scale, so only a non-finite loss counts as a bad step.
        finite_grad = math.isfinite(grad_norm) or self.scaler.is_enabled()
        bad = any_rank(not (math.isfinite(loss_value) and finite_grad), self.dist)
        lr = self.optimizer.param_groups[0]["lr"]
        if bad:
            self._skip_step(loss_value, grad_norm)
        else:
            self.scaler.step(self.optimizer)
            if self.scheduler is not None and not isinstance(self.scheduler, ReduceLROnPlateau):
                self.scheduler.step()
            if self.average is not None:
                self.average.update_parameters(self.model)
            self.state.bad_steps = 0
        self.scaler.update()
        tokens = self.tokens_in_batch(batch) if self.tokens_in_batch else 0
        info = StepInfo(
            self.state.step + 1, self.state.epoch + 1, loss_value, grad_norm, lr, tokens, bad
        )
        add_to_totals(self.state.totals, info)
        return info

    def _skip_step(self, loss_value: float, grad_norm: float) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        self.state.bad_steps += 1
        message = describe_bad_step(self.state, loss_value, grad_norm, self.config.max_bad_steps)
        logger.warning(message)
        if self.state.bad_steps >= self.config.max_bad_steps:
            raise TrainingError(
                f"training stopped: {self.state.bad_steps} non-finite steps in a row (last: "
                f"{message}); lower trainer.lr, keep trainer.max_grad_norm set, or check the data"
            )

    def _end_epoch(self) -> None:
        """Evaluates, keeps the best weights, logs the epoch, decides whether to stop."""
        metrics = self._evaluate()
        config, state = self.config, self.state
        value = metrics[config.monitor]
        if is_improvement(value, state.best_value, config.mode, config.min_delta):
            state.best_value, state.best_metrics = value, metrics
            state.best_epoch, state.bad_epochs = state.epoch + 1, 0
            if self.is_main:
                checkpoint.save_model_dir(self.out_dir, self.kept_model)
        else:
            state.bad_epochs += 1
        if isinstance(self.scheduler, ReduceLROnPlateau):
            self.scheduler.step(value)
        self.last_record = self._epoch_record(metrics)
        state.epoch += 1
        state.batch_in_epoch, state.totals = 0, {}
        if config.patience is not None and state.bad_epochs >= config.patience:
            state.stop_reason = "early_stopping"
        elif state.epoch >= config.epochs:
            state.stop_reason = "completed"
        elif self._over_time_budget():
            state.stop_reason = "time_budget"
        self.trigger("epoch_end")
        self._save_resume_state()

    def _over_time_budget(self) -> bool:
        """Whether ``config.max_minutes`` have passed since ``fit`` began (on any rank, so
        every rank stops at the same epoch)."""
        limit = self.config.max_minutes
        over = limit is not None and time.perf_counter() - self._fit_started > 60 * limit
        return any_rank(over, self.dist)

    @property
    def kept_model(self) -> nn.Module:
        """The weights evaluated and saved: the average (``config.ema_epochs``) or the model."""
        return self.average.module if self.average is not None else self.model

    def _evaluate(self) -> dict[str, float]:
        self.model.eval()
        kept = self.kept_model
        kept.eval()
        # The tasks' evaluation builds its tensors on the CPU, so a model trained on a GPU is
        # evaluated as a CPU copy (one copy of the weights per epoch).
        model = copy.deepcopy(kept).cpu() if self.device.type != "cpu" else kept
        with torch.no_grad():
            metrics = {name: float(v) for name, v in self.evaluate_fn(model).items()}
        metrics = broadcast_metrics(metrics, self.dist)
        if self.config.monitor not in metrics:
            raise ConfigError(
                f"trainer.monitor={self.config.monitor!r} is not among the dev metrics; "
                f"evaluate_fn returned: {', '.join(sorted(metrics)) or 'nothing'}"
            )
        return metrics

    def _epoch_record(self, metrics: dict[str, float]) -> dict[str, Any]:
        keys = ("loss", "steps", "tokens", "grad_norm", "grad_norm_max", "skipped")
        totals = dict(
            zip(
                keys,
                all_reduce_sum([self.state.totals.get(k, 0.0) for k in keys], self.dist),
                strict=True,
            )
        )
        good = max(1.0, totals["steps"] - totals["skipped"])
        seconds = time.perf_counter() - self._epoch_started
        record = {
            "epoch": self.state.epoch + 1,
            "step": self.state.step,
            "train_loss": totals["loss"] / good,
            **{f"dev_{name}": value for name, value in metrics.items()},
            "lr": self.optimizer.param_groups[0]["lr"],
            "grad_norm_mean": totals["grad_norm"] / good,
            "grad_norm_max": totals["grad_norm_max"] / self.dist.world_size,
            "skipped_steps": int(totals["skipped"]) // self.dist.world_size,
            "seconds": round(seconds, 3),
        }
        if self.tokens_in_batch is not None:
            record["tokens_per_s"] = round(totals["tokens"] / max(seconds, 1e-9), 1)
        return record

    def _save_resume_state(self) -> Path:
        """Writes a resume state for this step (on the main rank); returns its directory."""
        if self.is_main:
            return checkpoint.save_resume_state(
                self.out_dir,
                self.state.step,
                self.model,
                self.optimizer,
                self.scheduler,
                {"state": dataclasses.asdict(self.state), "config": config_to_dict(self.config)},
                keep=self.config.keep_checkpoints,
                average=self.average,
            )
        return self.out_dir / checkpoint.CHECKPOINTS_DIR / f"step-{self.state.step}"
