"""Every ``--set`` key of a task: its type, its default for that task, and what it means.

The meaning is the comment written beside (or above) the field in its config dataclass, so the
listing cannot drift from the code. ``rnnkit train TASK --list-settings`` prints it;
``python -m rnnkit.cli.defaults_doc`` writes docs/defaults.md, the table of every task
(``--check``: exit 1 if it is out of date).
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import io
import json
import textwrap
import tokenize
import typing
from dataclasses import dataclass
from typing import Any

from rnnkit.tasks import TASKS, Task


@dataclass(frozen=True)
class Setting:
    """One dotted config key of a task's run config."""

    key: str  # e.g. "model.hidden_size"
    type: str  # the declared type, e.g. "int | None"
    default: str  # the task's default, as --set reads it (none, true, 1e-3, 0.9,0.999)
    comment: str  # the comment on the field in its dataclass ("" when it has none)
    flag: str  # the `rnnkit train TASK` option that sets it ("" when only --set does)


def task_settings(task: Task) -> list[Setting]:
    """Every setting of ``task``'s run config, in declaration order."""
    flags = {field: option_flag(option) for option in task.train_options
             for field in option.fields}  # fmt: skip
    return list(walk(task.config_class(), "", flags))


def walk(config: Any, prefix: str, flags: dict[str, str]) -> typing.Iterator[Setting]:
    hints = typing.get_type_hints(type(config))
    for field in dataclasses.fields(config):
        if not field.init:
            continue
        key, value = prefix + field.name, getattr(config, field.name)
        if dataclasses.is_dataclass(value):
            yield from walk(value, key + ".", flags)
            continue
        comment = field_comments(owner(type(config), field.name)).get(field.name, "")
        yield Setting(key, type_name(hints[field.name]), format_value(value), comment,
                      flags.get(key, ""))  # fmt: skip


def option_flag(option: Any) -> str:
    """The option as typed on the command line: ``--hidden-size``, ``--crf/--no-crf``."""
    return option.flag or "--" + option.name.replace("_", "-")


def owner(cls: type, name: str) -> type:
    """The class in ``cls``'s MRO whose body declares the field ``name``."""
    for klass in cls.__mro__:
        if name in inspect.get_annotations(klass):
            return klass
    return cls


@functools.cache
def field_comments(cls: type) -> dict[str, str]:
    """Field name → its comment: the comment lines right above the field, then any comment
    on the field's own lines, joined into one line."""
    source = textwrap.dedent(inspect.getsource(cls))
    lines = source.splitlines()
    comments = {
        token.start[0]: token.string.lstrip("#").strip()
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT
    }
    found = {}
    for node in ast.parse(source).body[0].body:  # type: ignore[attr-defined]
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        above, line = [], node.lineno - 1
        while line >= 1 and lines[line - 1].lstrip().startswith("#"):
            above.insert(0, comments[line])
            line -= 1
        beside = [comments[n] for n in range(node.lineno, node.end_lineno + 1) if n in comments]
        found[node.target.id] = " ".join(above + beside)
    return found


def type_name(tp: Any) -> str:
    """``int``, ``float | None``, ``Literal['max', 'min']``, ``tuple[float, float]``."""
    if isinstance(tp, type):
        return tp.__name__
    if typing.get_origin(tp) is typing.Union:
        return " | ".join(type_name(arg) for arg in typing.get_args(tp))
    return str(tp).replace("typing.", "").replace("NoneType", "None")


def format_value(value: Any) -> str:
    """A default as ``--set`` reads it: ``none``, ``true``, ``0.001``, ``0.9,0.999``, ``""``."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (tuple, list)):
        return ",".join(map(format_value, value))
    if isinstance(value, str):
        return value if value else '""'
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def format_settings(task: Task) -> str:
    """The ``--list-settings`` text: per key a ``key: type = default`` line (and the option
    that sets it), then its comment, indented."""
    lines = []
    for row in task_settings(task):
        lines.append(
            f"{row.key}: {row.type} = {row.default}" + (f"  ({row.flag})" if row.flag else "")
        )
        if row.comment:
            lines.append(f"    {row.comment}")
    return "\n".join(lines)


def defaults_markdown() -> str:
    """docs/defaults.md: one table of settings per task."""
    parts = [DEFAULTS_HEADER]
    for task in TASKS:
        parts.append(f"## {task.name}\n\n{task.summary}\n\n`rnnkit train {task.name} ...`\n")
        parts.append("| `--set` key | type | default | option | meaning |\n|---|---|---|---|---|")
        for row in task_settings(task):
            cells = (f"`{row.key}`", row.type, f"`{row.default}`",
                     f"`{row.flag}`" if row.flag else "", row.comment)  # fmt: skip
            parts.append("| " + " | ".join(map(markdown_cell, cells)) + " |")
        parts.append("")
    return "\n".join(parts)


def markdown_cell(text: str) -> str:
    """``text`` safe inside a Markdown table cell: no column break, no HTML tag, no emphasis."""
    for raw, escaped in (("|", "\\|"), ("<", "&lt;"), (">", "&gt;"), ("*", "\\*")):
        text = text.replace(raw, escaped)
    return text


DEFAULTS_HEADER = """# Every setting and its default, per task

Generated from the config dataclasses by `python -m rnnkit.cli.defaults_doc`; with `--check` it
exits 1 when this page is out of date, and so does a test. `rnnkit train TASK --list-settings`
prints the same list for one task, and `rnnkit train TASK --help` shows each option's default.

Set any key with `--set KEY=VALUE` (repeatable), in a `--config` YAML/JSON file (sections
`data`, `model`, `trainer`), or with the option in the "option" column. Values are read by the
key's type: `true`/`false`, `none`, `1e-3`, `0.9,0.999`. Keys set from the data when training
starts (`vocab_size`, `num_classes`, `num_tags`...) are listed but ignored when given.
"""
