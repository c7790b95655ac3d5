"""The generation task (1→N): conditioned or plain language models, trained with teacher forcing.

`train_generator` (data files → a model directory) and `TextGenerator` (a model directory →
samples, beams, perplexity). Reading, encoding and batching live in `rnnkit.tasks.lm_data`.

Perplexity is per token: ``exp(total NLL / n_tokens)`` where every text contributes its tokens
plus one ``<eos>`` (predicting the end is part of the model), and each text starts from ``<bos>``
(and the condition's initial state).

Legend: B batch, T time, V vocabulary.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from rnnkit.config import config_to_dict
from rnnkit.data import LabelVocab, Tokenizer, Vocab
from rnnkit.errors import ConfigError
from rnnkit.models.decoding import Hypothesis, beam_search, greedy_decode, sample_decode
from rnnkit.models.language_model import (
    LanguageModel,
    LanguageModelConfig,
    LanguageModelState,
)
from rnnkit.tasks.base import (
    AUTO_TOKENIZER_HELP,
    ENCODING_ERRORS_OPTION,
    Task,
    TrainOption,
    trainer_options,
)
from rnnkit.tasks.common import (
    EvaluateOptions,
    bucket_loader,
    build_tokenizer,
    model_files,
    read_model_directory,
    report_fast_path,
    tokens_or_error,
)
from rnnkit.tasks.dev_split import train_and_dev
from rnnkit.tasks.gradient_flow import measure_gradient_flow
from rnnkit.tasks.lm_data import (
    GenerateData,
    LMBatch,
    SequenceDataset,
    encode_texts,
    read_texts,
    stream_chunks,
    subsample,
)
from rnnkit.tasks.reports import print_perplexity_report
from rnnkit.training import FitResult, Trainer, TrainerConfig
from rnnkit.training.checkpoint import unwrap_model
from rnnkit.training.loss import contract_loss, dataset_batches, evaluate_loss

TASK = "generate"
STRATEGIES = ("sample", "greedy", "beam")
REQUIRED_FILES = ("config.json", "vocab.json", "model.safetensors")
# The keys of config.json's data section evaluation reads (the file's layout, the truncation).
PREDICTOR_DATA_KEYS = ("text_column", "condition_column", "side", "max_length")


@dataclass(frozen=True)
class GenerateConfig:
    """Everything a generation run needs; saved in ``config.json`` beside the weights."""

    # The three sections of every task's run config (`run_config.resolve_run_config` reads them),
    # alike by design: each task types its own data, model and trainer defaults.
    data: GenerateData = field(default_factory=GenerateData)
    model: LanguageModelConfig = field(default_factory=LanguageModelConfig)
    # Language models keep the checkpoint with the lowest dev perplexity.
    trainer: TrainerConfig = field(
        default_factory=lambda: TrainerConfig(monitor="perplexity", mode="min")
    )


@dataclass(frozen=True)
class Generated:
    """One generated text: the prompt plus its continuation, and the continuation's log-prob."""

    text: str
    tokens: list[str]  # the continuation's tokens (after the prefix), without <eos>
    log_prob: float  # the model's log-probability of the continuation (and <eos> if emitted)
    score: float  # the decoder's ranking score (length-normalised for beam search)
    condition: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class TruncatedBPTT:
    """``loss_fn`` for running text: each chunk starts from the previous chunk's final state,
    detached, so gradients flow ``bptt_length`` steps back (Williams & Peng 1990).

    The state lives here, in the task's loss function, never on the module; a batch with
    ``first=True`` (the start of an epoch's streams) starts from zeros. A run resumed in the
    middle of an epoch restarts its streams from zeros at the resumed chunk.
    """

    def __init__(self) -> None:
        self.state = None

    def __call__(self, model: LanguageModel, batch: LMBatch) -> Tensor:
        state = None if batch.first else self.state
        outputs = model(batch.inputs, batch.conditions, state)  # DDP-safe call
        self.state = outputs[1].map(torch.Tensor.detach)
        return unwrap_model(model).loss(outputs, batch)


def perplexity(model: LanguageModel, dataset: SequenceDataset, batch_size: int = 256) -> dict:
    """``{"perplexity", "n_tokens", "nll"}`` of ``dataset`` (texts from ``<bos>``, one by one)."""
    batches = dataset_batches(dataset, batch_size)
    nll = evaluate_loss(model, batches, weight=lambda batch: batch.n_tokens)
    tokens = sum(dataset.lengths)
    nll = 0.0 if math.isnan(nll) else nll
    return {"perplexity": math.exp(min(nll, 700.0)), "n_tokens": tokens, "nll": nll}


def train_generator(
    config: GenerateConfig, out_dir: str | Path, *, resume: bool = False, progress: bool = True
) -> FitResult:
    """Trains a language model on ``config.data.train``, selects on dev perplexity.

    Writes the model directory ``out_dir`` (``config.json``, ``vocab.json``, ``labels.json`` —
    the conditions, when conditioned — ``model.safetensors``, ``metrics.jsonl``).
    """
    data = config.data
    train_examples, dev_examples = train_and_dev(
        subsample(read_texts(data.train, data), data.max_examples), data.dev,
        lambda path: read_texts(path, data), data.dev_holdout, data.train,
    )  # fmt: skip
    tokenizer = build_tokenizer(data, [example.text for example in train_examples])
    conditioned = data.condition_column is not None
    conditions = LabelVocab.build(e.label for e in train_examples) if conditioned else None
    train_set, vocab = encode_texts(train_examples, tokenizer, None, conditions, data)
    dev_set, _ = encode_texts(dev_examples, tokenizer, vocab, conditions, data, unknown="skip")
    model_config = dataclasses.replace(
        config.model,
        vocab_size=len(vocab),
        pad_id=vocab.pad_id,
        num_conditions=len(conditions) if conditions else 0,
    )
    torch.manual_seed(config.trainer.seed)
    model = LanguageModel(model_config)
    loss_fn = contract_loss
    if data.bptt_length:
        loader = stream_chunks(train_set, data.batch_size, data.bptt_length, vocab)
        loss_fn = TruncatedBPTT()
    else:
        loader = bucket_loader(train_set, data.batch_size, config.trainer.seed)

    def evaluate_fn(model: LanguageModel) -> dict[str, float]:
        report = perplexity(model, dev_set)
        return {"perplexity": report["perplexity"], "loss": report["nll"]}

    saved_config = {
        **config_to_dict(dataclasses.replace(config, model=model_config)),
        "task": TASK,
        **report_fast_path(model),
    }
    trainer = Trainer(
        model, config.trainer, loss_fn=loss_fn, evaluate_fn=evaluate_fn, out_dir=out_dir,
        files=model_files(saved_config, tokenizer, vocab, conditions),
        tokens_in_batch=lambda batch: batch.n_tokens, progress=progress,
    )  # fmt: skip
    return trainer.fit(loader, resume=resume)


class TextGenerator:
    """A trained language model with its tokenizer and vocabularies: what `rnnkit.load` returns."""

    task = TASK

    def __init__(
        self,
        model: LanguageModel,
        tokenizer: Tokenizer,
        vocab: Vocab,
        conditions: LabelVocab | None,
        config: dict[str, Any] | None = None,
    ) -> None:
        self.model = model.eval()
        self.tokenizer, self.vocab, self.conditions = tokenizer, vocab, conditions
        self.config = config or {}

    @classmethod
    def load(cls, directory: str | Path) -> TextGenerator:
        """Rebuilds the generator saved in ``directory`` (JSON + safetensors; no pickle)."""
        sizes = {"vocab.json": "vocab_size", "labels.json": "num_conditions"}
        saved = read_model_directory(
            directory, TASK, LanguageModelConfig, LanguageModel, sizes,
            (GenerateData, PREDICTOR_DATA_KEYS), REQUIRED_FILES,
        )  # fmt: skip
        return cls(saved.model, saved.tokenizer, saved.vocab, saved.labels, saved.config)

    @property
    def data_settings(self) -> GenerateData:
        from rnnkit.config import config_from_dict

        return config_from_dict(GenerateData, self.config.get("data", {}))

    def condition_tensor(self, condition: str | Sequence[float] | None, n: int) -> Tensor | None:
        """The condition of ``n`` rows as the model takes it (category ids or vectors)."""
        model_config = self.model.config
        if condition is None:
            if model_config.condition_features:
                valid = f"one of {self.conditions.labels}" if self.conditions else "a vector"
                raise ConfigError(f"condition: this model is conditioned; give {valid}")
            return None
        if self.conditions is not None:
            if not isinstance(condition, str) or condition not in self.conditions:
                raise ConfigError(
                    f"condition: expected one of {self.conditions.labels}, got {condition!r}"
                )
            return torch.full((n,), self.conditions.encode(condition), dtype=torch.long)
        if not model_config.condition_size:
            raise ConfigError(f"condition: this model is unconditioned, got {condition!r}")
        vector = torch.as_tensor(condition, dtype=torch.float)
        if vector.shape != (model_config.condition_size,):
            raise ConfigError(
                f"condition: expected a vector of {model_config.condition_size} numbers, "
                f"got shape {tuple(vector.shape)}"
            )
        return vector.expand(n, -1)

    @torch.no_grad()
    def prepare(
        self, n: int, condition: str | Sequence[float] | None, prefix: str
    ) -> tuple[LanguageModelState, Tensor, list[str]]:
        """The decoding state after ``<bos>`` + all but the prompt's last token, the start
        tokens ``(n,)`` (the prompt's last token, or ``<bos>``) and the prompt's tokens."""
        prefix_tokens = tokens_or_error(self.tokenizer, [prefix], "continue")[0] if prefix else []
        fed = [self.vocab.bos_id, *self.vocab.encode(prefix_tokens)]
        state = self.model.start_state(self.condition_tensor(condition, n), n)
        if len(fed) > 1:
            _, state = self.model.feed(torch.tensor([fed[:-1]]).expand(n, -1), state)
        return state, torch.full((n,), fed[-1], dtype=torch.long), prefix_tokens

    @torch.no_grad()
    def generate(
        self,
        n: int = 1,
        condition: str | Sequence[float] | None = None,
        prefix: str = "",
        *,
        strategy: str = "sample",
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        beam_size: int = 5,
        length_penalty: float = 1.0,
        max_length: int = 100,
        seed: int | None = None,
    ) -> list[Generated]:
        """``n`` continuations of ``prefix`` (``condition``: a category name or a vector).

        ``strategy``: ``"sample"`` (temperature, top_k, top_p; the same ``seed`` gives the same
        texts), ``"greedy"`` or ``"beam"`` (the ``n`` best of a beam of ``beam_size``, n <=
        beam_size). ``max_length`` counts generated tokens, the prompt excluded.
        """
        if strategy not in STRATEGIES:
            raise ConfigError(f"strategy: expected one of {list(STRATEGIES)}, got {strategy!r}")
        if not isinstance(n, int) or n < 1:
            raise ConfigError(f"n: expected a positive integer, got {n!r}")
        eos = self.vocab.eos_id
        if strategy == "beam":
            state, start, prompt = self.prepare(1, condition, prefix)
            hypotheses = beam_search(
                self.model.step, state, start, eos, max_length,
                beam_size=beam_size, n_best=n, length_penalty=length_penalty,
            )[0]  # fmt: skip
        else:
            state, start, prompt = self.prepare(n, condition, prefix)
            if strategy == "greedy":
                hypotheses = greedy_decode(self.model.step, state, start, eos, max_length)
            else:
                generator = torch.Generator()
                if seed is None:
                    generator.seed()  # a fresh random seed, leaving torch's global one alone
                else:
                    generator.manual_seed(seed)
                hypotheses = sample_decode(
                    self.model.step, state, start, eos, max_length, temperature=temperature,
                    top_k=top_k, top_p=top_p, generator=generator,
                )  # fmt: skip
        label = condition if isinstance(condition, str) else None
        return [self.to_generated(h, prompt, label) for h in hypotheses]

    def to_generated(self, hypothesis: Hypothesis, prompt: list[str], condition) -> Generated:
        tokens = self.vocab.decode(hypothesis.tokens)
        text = self.tokenizer.detokenize([*prompt, *tokens])
        return Generated(text, tokens, hypothesis.log_prob, hypothesis.score, condition)

    def evaluate_file(self, path: str, options: EvaluateOptions) -> dict[str, Any]:
        """Per-token perplexity of the texts of ``path`` (what ``rnnkit evaluate`` runs).

        The file is read as in training; ``options.text_column`` / ``label_column`` override
        the saved text and condition columns.
        """
        data = self.data_settings
        data = dataclasses.replace(
            data,
            text_column=options.text_column or data.text_column,
            condition_column=options.label_column or data.condition_column,
            encoding_errors=options.encoding_errors,
        )
        examples = read_texts(path, data)
        unknown = "skip" if options.unknown_labels == "wrong" else "error"
        dataset, _ = encode_texts(
            examples, self.tokenizer, self.vocab, self.conditions, data, unknown
        )
        return {**perplexity(self.model, dataset), "n": len(dataset)}


# A task's declaration: the same fields in every task module by design (each `Task` is
# data, filled from its own module), so the registry can check that none is missing.
GENERATE = Task(
    name=TASK,
    summary="Train a language model (1→N), optionally conditioned on a category.",
    example="rnnkit train generate --train data/names/train.tsv --dev data/names/dev.tsv --out "
    "runs/names --condition-column language --tokenizer char --cell gru --epochs 10",
    config_class=GenerateConfig,
    train=train_generator,
    predictor=TextGenerator,
    metrics=("perplexity", "nll"),
    print_report=print_perplexity_report,
    print_prediction=None,
    train_options=(
        TrainOption(
            "train",
            ("data.train",),
            "Training texts: a labelled file (with --condition-column; or hf:NAME[:CONFIG]:SPLIT), "
            "one side of a source<TAB>target file (--side), or one text per line.",
        ),
        TrainOption(
            "dev",
            ("data.dev",),
            "Dev texts for model selection (same layout); "
            "without it, data.dev_holdout (0.1) of the training texts is held out.",
        ),
        TrainOption(
            "condition_column",
            ("data.condition_column",),
            "Condition each text on this column of a labelled file (e.g. language).",
        ),
        TrainOption("text_column", ("data.text_column",), "Column / JSON field holding the text."),
        TrainOption("side", ("data.side",), "source or target side of a source<TAB>target file."),
        TrainOption("tokenizer", ("data.tokenizer",), AUTO_TOKENIZER_HELP),
        TrainOption(
            "bptt_length",
            ("data.bptt_length",),
            "Train on running text in chunks of this many steps (truncated BPTT).",
            int,
        ),
        TrainOption(
            "batch_size", ("data.batch_size",), "Texts (or running-text streams) per batch.", int
        ),
        ENCODING_ERRORS_OPTION,
        TrainOption("cell", ("model.cell",), "lstm, gru or rnn."),
        TrainOption("layers", ("model.num_layers",), "Stacked recurrent layers.", int),
        TrainOption("hidden_size", ("model.hidden_size",), "Hidden units.", int),
        TrainOption("embedding_dim", ("model.embedding_dim",), "Embedding size.", int),
        TrainOption(
            "tie_embeddings",
            ("model.tie_embeddings",),
            "Share input and output embeddings.",
            bool,
            "--tie-embeddings/--no-tie-embeddings",
        ),
        *trainer_options(),
    ),
    onnx="language-model",
    serving="generation",
    gradient_flow=measure_gradient_flow,
)
