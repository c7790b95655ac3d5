"""Hugging Face `datasets` as a source of classification examples.

`datasets` is imported only here and only when called (``pip install rnnkit[hf]``), so the
core install does not need it. Errors name the data set and the 1-based row as ``name:row``.
"""

from __future__ import annotations

from typing import Any

from rnnkit.data.examples import ReadResult
from rnnkit.data.report import ReadReport
from rnnkit.data.text_files import LABEL_COLUMNS, TEXT_COLUMNS, make_example, pick_column
from rnnkit.errors import ConfigError, DataError


def load_hf_dataset(source: Any, split: str | None = None, **load_kwargs: Any) -> Any:
    """A `datasets.Dataset`: `source` itself, or ``load_dataset(source, split=..., **load_kwargs)``.

    Example: ``load_hf_dataset("csv", data_files="reviews.csv", split="train")``.
    """
    try:
        import datasets
    except ImportError:  # pragma: no cover - depends on the install
        raise ConfigError(
            "reading Hugging Face data sets needs the `datasets` package: pip install 'rnnkit[hf]'"
        ) from None
    if isinstance(source, datasets.DatasetDict):
        if split is None or split not in source:
            raise ConfigError(f"split must be one of {sorted(source)}, got {split!r}")
        return source[split]
    if isinstance(source, datasets.Dataset):
        return source
    if not isinstance(source, str):
        raise ConfigError(
            f"source must be a Dataset or load_dataset's path, got {type(source).__name__}"
        )
    return load_hf_dataset(datasets.load_dataset(source, split=split, **load_kwargs), split)


def read_hf_classification(
    source: Any,
    split: str | None = None,
    text_column: str | None = None,
    label_column: str | None = None,
    on_error: str = "raise",
    **load_kwargs: Any,
) -> ReadResult:
    """`TextExample`s from a Hugging Face data set (see `load_hf_dataset` for `source`).

    A `ClassLabel` column gives its class names; a text column holding token lists sets
    ``tokens`` (pre-tokenized data), joined by spaces for ``text``.
    """
    dataset = load_hf_dataset(source, split, **load_kwargs)
    name = f"{dataset.info.dataset_name or 'dataset'}[{dataset.split or split or ''}]"
    report = ReadReport(name, on_error)
    names = list(dataset.column_names)
    text_key = pick_column(names, text_column, TEXT_COLUMNS, "text", name)
    label_key = pick_column(names, label_column, LABEL_COLUMNS, "label", name)
    feature = dataset.features[label_key]
    class_names = getattr(feature, "names", None)
    examples = []
    for row, record in enumerate(dataset, start=1):
        text, label = record[text_key], record[label_key]
        tokens = None
        if isinstance(text, list) and all(isinstance(t, str) for t in text):
            tokens, text = text, " ".join(text)
        if class_names is not None and isinstance(label, int):
            if not 0 <= label < len(class_names):
                report.record(DataError(f"label id {label} outside {class_names}", name, row))
                continue
            label = class_names[label]
        example = make_example(text, label, name, row, report)
        if example is not None:
            example.tokens = tokens
            examples.append(example)
    return ReadResult(examples, report)
