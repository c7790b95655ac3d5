"""`Task`: everything rnnkit knows about one task, declared once; `TaskRegistry` holds them.

A task module declares one `Task` (its name, config, train function, predictor, metrics,
report printer, train options, and the names of its ONNX graphs and its service shape); the
registry `rnnkit.tasks.TASKS` lists them, and every command, export and service dispatches
through it. The layers above tasks (export, serving, cli) own one registry per *kind* — ONNX
graph families, service shapes — which a Task names, so tasks never import upward and a new
task that reuses a model shape is one module (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from rnnkit.errors import ConfigError

# ``train(config, out_dir, resume=..., progress=...)``: data files → a model directory.
TrainFunction = Callable[..., Any]


@dataclass(frozen=True)
class TrainOption:
    """One ``rnnkit train TASK`` option, declared as data so the CLI generates the command.

    ``name`` is the parameter (``--name`` with ``_`` as ``-`` unless ``flag`` says otherwise);
    ``fields`` are the dotted config fields it sets (``model.encoder.cell``; translation sets
    encoder and decoder from one flag); ``type`` is str, int, float or bool.
    """

    name: str
    fields: tuple[str, ...]
    help: str
    type: type = str  # str, int, float or bool
    flag: str | None = None  # e.g. "--crf/--no-crf" for a bool, "--lr" for a short name


@dataclass(frozen=True)
class Task:
    """One task: what ``rnnkit train/evaluate/predict/export/serve`` and ``rnnkit.load`` need.

    ``predictor`` has ``task`` (this name), ``load(directory)`` and ``evaluate_file(path,
    options)`` returning a report with ``metrics`` among its keys; ``print_report(report)``
    prints that report. ``print_prediction(p)`` prints one result of ``predictor.predict``
    for ``rnnkit predict`` (None: the predictor has no ``predict``, as a language model).
    ``onnx`` names the graph family in `rnnkit.export.onnx.ONNX_GRAPHS`; ``serving`` names
    the service shape in `rnnkit.serving.tasks.SERVICE_SHAPES`.
    ``gradient_flow(predictor, path, limit, encoding_errors) -> (GradientFlow, n)`` measures
    gradient flow on the first ``limit`` (read: ``n``) labelled examples of the file ``path``
    (``rnnkit diagnose gradients DIR``), or is None where the task has none yet.
    """

    name: str
    summary: str  # one line: the help of ``rnnkit train NAME``
    example: str  # an example ``rnnkit train NAME`` command line
    config_class: type
    train: TrainFunction
    predictor: type
    metrics: tuple[str, ...]
    print_report: Callable[[dict[str, Any]], None]
    print_prediction: Callable[[Any], None] | None
    train_options: tuple[TrainOption, ...]
    onnx: str
    serving: str
    gradient_flow: Callable[[Any, str, int, str], tuple[Any, int]] | None = None


class TaskRegistry:
    """Task name → `Task`; ``get`` names the valid tasks when asked for another."""

    def __init__(self, tasks: Iterable[Task] = ()) -> None:
        self._tasks: dict[str, Task] = {}
        for task in tasks:
            self.register(task)

    def register(self, task: Task) -> Task:
        if task.name in self._tasks:
            raise ConfigError(f"task {task.name!r} is already registered")
        self._tasks[task.name] = task
        return task

    def unregister(self, name: str) -> None:
        self.get(name)
        del self._tasks[name]

    def get(self, name: str) -> Task:
        if name not in self._tasks:
            raise ConfigError(f"unknown task {name!r}; expected one of {sorted(self._tasks)}")
        return self._tasks[name]

    def entry(self, name: str, field: str, registry: Mapping[str, Any], kind: str) -> Any:
        """The entry of ``registry`` (a higher layer's, one per ``kind``) that the task
        ``name`` names in its ``field`` (``"onnx"``, ``"serving"``)."""
        key = getattr(self.get(name), field)
        if key not in registry:
            raise ConfigError(
                f"task {name!r}: {kind} {key!r} unknown; expected one of {sorted(registry)}"
            )
        return registry[key]

    def names(self) -> list[str]:
        return sorted(self._tasks)

    def __contains__(self, name: object) -> bool:
        return name in self._tasks

    def __iter__(self) -> Iterator[Task]:
        return iter(list(self._tasks.values()))

    def __len__(self) -> int:
        return len(self._tasks)


# What the --train help of a task that reads `hf:` data sets (rnnkit.data.hf) adds.
HF_DATA = " Or a Hugging Face data set: hf:NAME[:CONFIG]:SPLIT (docs/data.md)."

AUTO_TOKENIZER_HELP = (
    "auto (default: zh-char for CJK text, char when most texts are one word, else word; the "
    "choice is printed), word, whitespace, char, zh-char, zh-bigram, jieba or bpe."
)

# Word-level models (classify, tag, joint): a character Bi-LSTM per word. Unset, the task's
# default decides (auto: on when the training tokens are words, not single characters).
CHAR_FEATURES_OPTION = TrainOption(
    "char_features",
    ("model.char_features",),
    "A character Bi-LSTM per word, joined to its embedding (default: on when the training "
    "tokens are words, off for single characters).",
    bool,
    "--char-features/--no-char-features",
)

# Every task reads its data files strictly unless told to replace what is not UTF-8.
ENCODING_ERRORS_OPTION = TrainOption(
    "encoding_errors",
    ("data.encoding_errors",),
    "Bytes that are not UTF-8: strict (default: an error naming the file, line and byte) or "
    "replace (read as U+FFFD).",
)


# Options most tasks share, as factories over the config section they set ------------------


def data_options(train_help: str, tokenizer_help: str | None, vectors: bool) -> list[TrainOption]:
    """``--train``, ``--dev``, ``--batch-size``, and ``--tokenizer``/``--vectors`` if given."""
    options = [
        TrainOption("train", ("data.train",), train_help),
        TrainOption(
            "dev",
            ("data.dev",),
            "Dev data for model selection (same layouts); "
            "without it, data.dev_holdout (0.1) of the training data is held out.",
        ),
        TrainOption("batch_size", ("data.batch_size",), "Examples per batch.", int),
        ENCODING_ERRORS_OPTION,
    ]
    if tokenizer_help is not None:
        options.append(TrainOption("tokenizer", ("data.tokenizer",), tokenizer_help))
    if vectors:
        options.append(
            TrainOption(
                "vectors",
                ("data.vectors",),
                "word2vec/GloVe/fastText text file to initialise embeddings.",
            )
        )
    return options


def encoder_options(section: str, regularisers: bool = True) -> list[TrainOption]:
    """The recurrent encoder's options (cell, direction, sizes, regularisers) in ``section``."""
    options = [
        TrainOption("cell", (f"{section}.cell",), "lstm, gru or rnn."),
        TrainOption(
            "bidirectional",
            (f"{section}.bidirectional",),
            "Read each text both ways.",
            bool,
            "--bidirectional/--no-bidirectional",
        ),
        TrainOption("layers", (f"{section}.num_layers",), "Stacked recurrent layers.", int),
        TrainOption("hidden_size", (f"{section}.hidden_size",), "Hidden units per direction.", int),
        TrainOption("embedding_dim", (f"{section}.embedding_dim",), "Embedding size.", int),
    ]
    return options + (regulariser_options(section) if regularisers else [])


def regulariser_options(section: str) -> list[TrainOption]:
    """The encoder's regularisers (docs/training.md, "Regularisation"); all off by default."""
    return [
        TrainOption(
            "locked_dropout",
            (f"{section}.locked_dropout",),
            "One dropout mask per sequence for all time steps (Gal & Ghahramani 2016).",
            bool,
            "--locked-dropout/--no-locked-dropout",
        ),
        TrainOption(
            "weight_drop",
            (f"{section}.weight_drop",),
            "DropConnect on the recurrent weights W_hh (AWD-LSTM); stays fused.",
            float,
        ),
        TrainOption(
            "embedding_row_dropout",
            (f"{section}.embedding_row_dropout",),
            "Drop whole words from the embedding matrix per batch.",
            float,
        ),
        TrainOption(
            "zoneout",
            (f"{section}.zoneout",),
            "Units keep their previous state with this probability (Python loop).",
            float,
        ),
        TrainOption(
            "layer_norm",
            (f"{section}.layer_norm",),
            "Layer-normalised LSTM/GRU (Python loop).",
            bool,
            "--layer-norm/--no-layer-norm",
        ),
    ]


def trainer_options() -> list[TrainOption]:
    """Epochs, the time budget, the learning rate, the seed, the device and the precision."""
    return [
        TrainOption(
            "epochs",
            ("trainer.epochs",),
            "Passes over the training data (early stopping may end sooner).",
            int,
        ),
        TrainOption(
            "max_minutes",
            ("trainer.max_minutes",),
            "Stop at the first epoch end after this many minutes.",
            float,
        ),
        TrainOption("lr", ("trainer.lr",), "Peak learning rate (AdamW).", float, "--lr"),
        TrainOption(
            "seed", ("trainer.seed",), "Random seed: the same seed gives the same model.", int
        ),
        TrainOption(
            "device",
            ("trainer.device",),
            "auto (a GPU when torch sees one; the default), cpu, cuda or cuda:N. The model "
            "directory loads on any device.",
        ),
        TrainOption(
            "precision",
            ("trainer.precision",),
            "fp32 (default), or mixed precision on CUDA: bf16, or fp16 (loss scaled).",
        ),
    ]


def option_values(task: Task, values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Config section → {field: value} for the options given (not None), from ``values``
    keyed by option name."""
    sections: dict[str, dict[str, Any]] = {}
    for option in task.train_options:
        value = values.get(option.name)
        if value is None:
            continue
        for dotted in option.fields:
            section, _, key = dotted.rpartition(".")
            sections.setdefault(section, {})[key] = value
    return sections
