"""A tiny copy of the shared data sets, in their own layouts, for smoke-running the benchmarks.

Each split keeps a few examples spread evenly over the original file (some files are sorted,
e.g. names by language). A dev example whose label or tags the kept training examples never
show is dropped, so a tiny run fails only on a real breakage, never on a label it cannot know.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

TRAIN, DEV = 160, 40  # examples kept per split


def spread(items: list, count: int) -> list:
    """``count`` items spread evenly over ``items`` (all of them when there are fewer)."""
    if len(items) <= count:
        return items
    return [items[index * len(items) // count] for index in range(count)]


def copy_examples(
    read: Callable[[Path], list[tuple[str, ...]]],
    write: Callable[[Path, list[tuple[str, ...]]], None],
    labels: Callable[[tuple[str, ...]], set[str]],
    source: Path,
    target: Path,
) -> None:
    """Copies ``TRAIN`` examples of ``source/train*`` and ``DEV`` examples of its dev split,
    restricted to the labels kept in train. ``source`` and ``target`` name the train split;
    the dev split's name replaces ``train`` by ``valid``, ``val`` or ``dev``, as found."""
    train = spread(read(source), TRAIN)
    write(target, train)
    seen = set().union(*map(labels, train))
    for dev_name in ("valid", "val", "dev"):
        dev = source.with_name(source.name.replace("train", dev_name))
        if list(dev.parent.glob(dev.name + "*")):
            examples = [example for example in read(dev) if labels(example) <= seen]
            write(target.with_name(dev.name), spread(examples, DEV))
            return
    raise FileNotFoundError(f"no dev split beside {source}")


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def write_lines(path: Path, rows: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def parallel(*suffixes: str) -> tuple[Callable, Callable]:
    """Reader and writer of line-aligned files ``<prefix><suffix>`` (an ATIS folder with
    ``/seq.in``..., Multi30k's ``train.de``...)."""

    def read(prefix: Path) -> list[tuple[str, ...]]:
        columns = [lines(Path(f"{prefix}{suffix}")) for suffix in suffixes]
        return list(zip(*columns, strict=True))

    def write(prefix: Path, rows: list[tuple[str, ...]]) -> None:
        for index, suffix in enumerate(suffixes):
            write_lines(Path(f"{prefix}{suffix}"), [row[index] for row in rows])

    return read, write


def read_blocks(path: Path) -> list[tuple[str, ...]]:
    """The sentences of a CoNLL file: blank-line separated blocks of lines."""
    text = path.read_text(encoding="utf-8")
    return [tuple(block.splitlines()) for block in text.split("\n\n") if block.strip()]


def write_blocks(path: Path, blocks: list[tuple[str, ...]]) -> None:
    write_lines(path, ["\n".join(block) + "\n" for block in blocks])


def tabular(header: bool) -> tuple[Callable, Callable]:
    """Reader and writer of one-example-per-line files (the header line, if any, kept)."""
    heads: list[str] = []

    def read(path: Path) -> list[tuple[str, ...]]:
        found = lines(path)
        heads[:] = found[:1] if header else []
        return [tuple(line.split("\t")) for line in found[len(heads) :]]

    def write(path: Path, rows: list[tuple[str, ...]]) -> None:
        write_lines(path, heads + ["\t".join(row) for row in rows])

    return read, write


def write_tiny_data(source: Path, target: Path) -> Path:
    """Tiny ATIS, CoNLL-2003, names, Multi30k (de-en) and eng-fra under ``target``."""
    copies = [  # (reader and writer, labels of an example, train split)
        (parallel("/seq.in", "/seq.out", "/label"),
         lambda row: set(row[1].split()) | {row[2]}, "atis/train"),
        ((read_blocks, write_blocks),
         lambda block: {line.split()[-1] for line in block}, "conll2003/train.bio.tsv"),
        (tabular(header=True), lambda row: {row[1]}, "names/train.tsv"),
        (parallel(".de", ".en"), lambda row: set(), "multi30k/train"),
        (tabular(header=False), lambda row: set(), "eng-fra/train.txt"),
    ]  # fmt: skip
    for (read, write), labels, train in copies:
        copy_examples(read, write, labels, source / train, target / train)
    return target
