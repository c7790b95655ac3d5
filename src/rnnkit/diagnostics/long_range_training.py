"""A small model and a minimal training loop for the long-range tasks.

Legend: B batch, T time, E input features, H hidden size, O outputs, V vocabulary.

Deliberately tiny (AdamW, optional gradient clipping, a fresh batch every step, a fixed
held-out set) so the experiment isolates the cell: the same loop trains a tanh RNN, an LSTM
and a GRU, and records the loss and the global gradient norm before clipping at every step.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.diagnostics.long_range import adding_problem, as_generator, copy_memory
from rnnkit.errors import ConfigError
from rnnkit.nn.init import get_initializer
from rnnkit.nn.layers import RecurrentLayer

CELL_ALIASES = {"rnn": "rnn_tanh"}  # the "RNN" of docs/rnn-tutorial.md is the tanh one
CELL_NAMES = ("rnn", "rnn_tanh", "rnn_relu", "lstm", "gru")
EVAL_SEED_OFFSET = 1_000_003  # the held-out set never shares a seed with training batches


def resolve_cell(name: str) -> str:
    """``"rnn"`` → ``"rnn_tanh"``; checks the name against `CELL_NAMES`."""
    if name not in CELL_NAMES:
        raise ConfigError(f"cell: expected one of {list(CELL_NAMES)}, got {name!r}")
    return CELL_ALIASES.get(name, name)


class LongRangeModel(nn.Module):
    """Input → one ``rnnkit.nn`` recurrent layer → linear head.

    Args:
        cell: a name from `CELL_NAMES`.
        hidden_size: H.
        output_size: O.
        input_size: E, for float inputs (B, T, E) fed to the layer as they are; or
        vocab_size: V, for token ids (B, T) looked up in an embedding of size H.
        per_step: predict at every step (B, T, O) instead of from the final state (B, O).
    """

    def __init__(
        self,
        cell: str,
        hidden_size: int,
        output_size: int,
        input_size: int | None = None,
        vocab_size: int | None = None,
        per_step: bool = False,
    ) -> None:
        super().__init__()
        if (input_size is None) == (vocab_size is None):
            raise ConfigError(
                f"LongRangeModel: expected exactly one of input_size and vocab_size, got "
                f"input_size={input_size!r}, vocab_size={vocab_size!r}"
            )
        self.embedding = None if vocab_size is None else nn.Embedding(vocab_size, hidden_size)
        features = hidden_size if input_size is None else input_size
        self.rnn = RecurrentLayer(resolve_cell(cell), features, hidden_size)
        self.head = nn.Linear(hidden_size, output_size)
        self.per_step = per_step

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        """Shape: x (B, T, E) float or (B, T) long → (B, O), or (B, T, O) if ``per_step``."""
        if self.embedding is not None:
            x = self.embedding(x)  # (B, T, H)
        outputs, state = self.rnn(x, lengths=lengths)
        return self.head(outputs if self.per_step else state.h[-1])


@dataclass(frozen=True)
class LongRangeTask:
    """How one task is generated, modelled, trained and scored."""

    name: str
    metric: str  # name of the held-out metric
    higher_is_better: bool
    generate: Callable[[int, int, torch.Generator], tuple[Tensor, Tensor]]
    build_model: Callable[[str, int], LongRangeModel]  # (cell, hidden_size) -> model
    loss: Callable[[Tensor, Tensor], Tensor]  # (predictions, targets) -> mean loss
    score: Callable[[Tensor, Tensor], float]  # (predictions, targets) -> metric
    baseline: float  # the metric of the best input-blind guess

    def better(self, metric: float, reference: float) -> bool:
        return metric > reference if self.higher_is_better else metric < reference


COPY_SYMBOLS, COPY_LENGTH = 8, 10


def copy_accuracy(logits: Tensor, targets: Tensor) -> float:
    """Accuracy on the K recall steps. Shape: logits (B, T, V), targets (B, T)."""
    recalled = logits[:, -COPY_LENGTH:].argmax(-1) == targets[:, -COPY_LENGTH:]
    return float(recalled.float().mean())


TASKS: dict[str, LongRangeTask] = {
    "adding": LongRangeTask(
        name="adding",
        metric="mse",
        higher_is_better=False,
        generate=adding_problem,
        build_model=lambda cell, hidden: LongRangeModel(cell, hidden, 1, input_size=2),
        loss=lambda predictions, targets: F.mse_loss(predictions.squeeze(-1), targets),
        score=lambda predictions, targets: float(F.mse_loss(predictions.squeeze(-1), targets)),
        baseline=1 / 6,  # Var(U + U) for U ~ U(0, 1): the MSE of always predicting 1
    ),
    "copy": LongRangeTask(
        name="copy",
        metric="accuracy",
        higher_is_better=True,
        generate=lambda n, length, generator: copy_memory(
            n, length, generator, COPY_SYMBOLS, COPY_LENGTH
        ),
        build_model=lambda cell, hidden: LongRangeModel(
            cell, hidden, COPY_SYMBOLS + 2, vocab_size=COPY_SYMBOLS + 2, per_step=True
        ),
        loss=lambda logits, targets: F.cross_entropy(logits.transpose(1, 2), targets),
        score=copy_accuracy,
        baseline=1 / COPY_SYMBOLS,
    ),
}


def get_task(name: str) -> LongRangeTask:
    try:
        return TASKS[name]
    except KeyError:
        raise ConfigError(f"task: expected one of {sorted(TASKS)}, got {name!r}") from None


@dataclass(frozen=True)
class LongRangeConfig:
    """Everything about a long-range run except the cell, the length, the steps and the seed."""

    task: str = "adding"  # a name in TASKS
    # The defaults learn the adding problem at T=100 with LSTM and GRU in under 2,000 steps
    # (BENCHMARKS.md, long-range section); with lr 3e-3 and H=64 the LSTM was still on the
    # 0.167 plateau after 2,000 steps.
    hidden_size: int = 32  # H
    batch_size: int = 32  # fresh samples per step
    learning_rate: float = 1e-2  # AdamW
    weight_decay: float = 0.0  # AdamW; decay pulls W_hh towards 0, i.e. towards vanishing
    clip_norm: float | None = 1.0  # global gradient-norm clipping; None: no clipping
    init: str = "default"  # a name for rnnkit.nn.init.get_initializer
    eval_every: int = 100  # steps between held-out evaluations (and after the last step)
    eval_samples: int = 1000  # size of the fixed held-out set
    stop_at: float | None = None  # stop once the held-out metric is better than this


@dataclass(frozen=True)
class LongRangeResult:
    """The curves of one run: ``eval_metric[i]`` was measured after step ``eval_steps[i]``."""

    cell: str
    length: int
    seed: int
    config: LongRangeConfig
    metric: str
    baseline: float
    eval_steps: list[int] = field(default_factory=list)
    eval_metric: list[float] = field(default_factory=list)
    eval_cpu_seconds: list[float] = field(default_factory=list)  # CPU time at each evaluation
    train_loss: list[float] = field(default_factory=list)  # every step
    grad_norm: list[float] = field(default_factory=list)  # every step, before clipping
    seconds: float = 0.0  # wall-clock time of the training loop
    cpu_seconds: float = 0.0  # CPU time of this process (all threads) during the loop

    @property
    def final(self) -> float:
        return self.eval_metric[-1]

    def to_dict(self) -> dict:
        data = asdict(self)
        data["final"] = self.final if math.isfinite(self.final) else None  # NaN is no JSON
        for key in ("train_loss", "grad_norm", "eval_metric"):
            data[key] = [value if math.isfinite(value) else None for value in data[key]]
        return data


def train_long_range(
    cell: str,
    length: int,
    steps: int,
    seed: int,
    config: LongRangeConfig | None = None,
    model: LongRangeModel | None = None,
    on_eval: Callable[[int, float], None] | None = None,
) -> LongRangeResult:
    """Trains ``cell`` for ``steps`` AdamW steps on a long-range task of delay ``length``.

    A fresh batch is drawn every step from a generator seeded with ``seed``; the held-out set
    is fixed per (seed, length). ``model`` (default: the task's model, seeded with ``seed``
    and initialised by ``config.init``) is trained in place, so a caller can inspect it after.
    ``on_eval(step, metric)`` is called after each held-out evaluation (progress reports).
    With ``config.stop_at`` set, training ends at the first evaluation that beats it.
    """
    config = config or LongRangeConfig()
    task = get_task(config.task)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ConfigError(f"steps: expected an integer >= 0, got {steps!r}")
    if model is None:
        torch.manual_seed(seed)
        model = get_initializer(config.init)(task.build_model(cell, config.hidden_size))
    eval_inputs, eval_targets = task.generate(
        config.eval_samples, length, as_generator(seed + EVAL_SEED_OFFSET)
    )
    generator = as_generator(seed)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    result = LongRangeResult(cell, length, seed, config, task.metric, task.baseline)
    start, cpu_start = time.perf_counter(), time.process_time()
    for step in range(1, steps + 1):
        model.train()
        inputs, targets = task.generate(config.batch_size, length, generator)
        loss = task.loss(model(inputs), targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        max_norm = math.inf if config.clip_norm is None else config.clip_norm
        norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        result.train_loss.append(float(loss.detach()))
        result.grad_norm.append(float(norm))
        if step % config.eval_every == 0 or step == steps:
            metric = evaluate(model, task, eval_inputs, eval_targets)
            result.eval_steps.append(step)
            result.eval_metric.append(metric)
            result.eval_cpu_seconds.append(time.process_time() - cpu_start)
            if on_eval is not None:
                on_eval(step, metric)
            if config.stop_at is not None and task.better(metric, config.stop_at):
                break
    if steps == 0:
        result.eval_steps.append(0)
        result.eval_metric.append(evaluate(model, task, eval_inputs, eval_targets))
        result.eval_cpu_seconds.append(0.0)
    return replace(
        result,
        seconds=time.perf_counter() - start,
        cpu_seconds=time.process_time() - cpu_start,
    )


@torch.no_grad()
def evaluate(model: nn.Module, task: LongRangeTask, inputs: Tensor, targets: Tensor) -> float:
    model.eval()
    return task.score(model(inputs), targets)
