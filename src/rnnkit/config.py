"""Typed configuration: frozen dataclasses, their JSON form, files and dotted overrides.

Each component owns a frozen dataclass with a comment on every default (``TrainerConfig`` in
``rnnkit.training``, the model configs in ``rnnkit.models``); a run config nests them. This
module is the machinery that every config shares:

- :func:`config_to_dict` / :func:`config_from_dict` — to and from JSON-able dicts (nested
  dataclasses, tuples as lists), rejecting unknown keys and values of the wrong type;
- :func:`load_config_file` — a YAML or JSON file to a dict (`rnnkit.config_files`);
- :func:`apply_overrides` — ``["model.hidden_size=256", "trainer.lr=1e-3"]`` parsed by each
  field's declared type (``int``, ``float``, ``bool``, ``str``, ``Literal``, ``tuple``,
  ``list``, ``Optional``), so ``--set`` on the command line is checked before training starts;
- :func:`replace_section` — set fields of a nested section, its checks naming the full key.

`rnnkit.run_config.resolve_run_config` applies all of these in the one order ``rnnkit train``
uses, for the command line and library users alike.

Both readings — JSON/YAML values and command-line strings — go through one type walker,
`_walk`, which differs only in how it reads a leaf (`_Source`).

Example::

    @dataclass(frozen=True)
    class RunConfig:
        model: ModelConfig = ModelConfig()
        trainer: TrainerConfig = TrainerConfig()

    run = config_from_dict(RunConfig, load_config_file("run.yaml"))
    run = apply_overrides(run, ["trainer.lr=3e-4", "model.bidirectional=false"])
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

from rnnkit.config_files import load_config_file
from rnnkit.errors import ConfigError

__all__ = [
    "apply_overrides", "config_from_dict", "config_to_dict", "load_config_file", "parse_value",
    "replace_section", "valid_keys",
]  # fmt: skip

T = TypeVar("T")

TRUE_WORDS = ("true", "yes", "on", "1")
FALSE_WORDS = ("false", "no", "off", "0")
NONE_WORDS = ("none", "null")


def config_to_dict(config: Any) -> dict[str, Any]:
    """Returns a JSON-able dict of a (nested) config dataclass; tuples become lists."""
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise ConfigError(f"config_to_dict expects a dataclass instance, got {type(config)!r}")
    return _to_plain(config)


def _to_plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [_to_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): _to_plain(item) for key, item in value.items()}
    return value


def config_from_dict(cls: type[T], data: Mapping[str, Any], *, where: str = "") -> T:
    """Builds the dataclass ``cls`` from ``data``; missing keys keep their defaults.

    Nested dataclass fields take nested dicts. ``where`` prefixes key names in error messages
    (e.g. a file name). Raises ``ConfigError`` naming the key for an unknown key (listing the
    valid ones) or a value of the wrong type.
    """
    return _build(cls, data, prefix="", where=where)


def _build(cls: type[T], data: Any, prefix: str, where: str) -> T:
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"{_place(where, prefix.rstrip('.') or '<root>')}: expected a mapping of "
            f"{cls.__name__} fields, got {type(data).__name__} {data!r}"
        )
    types_ = _field_types(cls)
    unknown = [key for key in data if key not in types_]
    if unknown:
        raise ConfigError(
            f"{_place(where, prefix + str(unknown[0]))}: unknown key; valid keys: "
            f"{', '.join(prefix + name for name in types_)}"
        )
    values = {
        key: _walk(value, types_[key], prefix + key, where, JSON_VALUES)
        for key, value in data.items()
    }
    with _naming_keys(cls, prefix, where):
        return cls(**values)


@contextmanager
def _naming_keys(cls: type, prefix: str, where: str = "") -> Iterator[None]:
    """A section's own check (its ``__post_init__``) names a field by itself, as in
    ``dropout: expected a value in [0, 1)``. Raised while the section ``cls`` at ``prefix``
    (e.g. ``model.encoder.``) is built, the error names the full key instead; one that names
    no field of ``cls`` is put under the section's name."""
    try:
        yield
    except ConfigError as error:
        message = str(error)
        first = re.match(r"\w+", message)
        if first and first.group() in {field.name for field in dataclasses.fields(cls)}:
            message = prefix + message
        elif prefix and not message.startswith(prefix):
            message = f"{prefix.rstrip('.')}: {message}"
        if message == str(error) and not where:
            raise
        raise ConfigError(_place(where, message)) from error


def _field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.init}


def _place(where: str, key: str) -> str:
    return f"{where}: {key}" if where else key


@dataclasses.dataclass(frozen=True)
class _Source:
    """How the one type walker, `_walk`, reads one kind of input: values read from JSON/YAML
    (`JSON_VALUES`) or strings from the command line (`COMMAND_LINE`).

    ``is_none(value)``: the value means None; ``items(value)``: a sequence's items, or None
    when the value is no sequence; ``item_key(key, i)``: how an item is named in errors;
    ``scalar(value, tp, key, where)``: a leaf value of type ``tp``; ``mismatch(key, where, tp,
    value)`` and ``not_a_choice(key, where, choices, value)``: the errors.
    """

    is_none: Callable[[Any], bool]
    items: Callable[[Any], list[Any] | None]
    item_key: Callable[[str, int], str]
    scalar: Callable[[Any, Any, str, str], Any]
    mismatch: Callable[[str, str, Any, Any], ConfigError]
    not_a_choice: Callable[[str, str, tuple[Any, ...], Any], ConfigError]


def _walk(value: Any, tp: Any, key: str, where: str, source: _Source) -> Any:
    """``value`` as the declared type ``tp``: nested dataclasses, ``Optional``/unions,
    ``Literal`` choices, tuples and lists, then the source's scalars."""
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, prefix=key + ".", where=where)
    origin, args = get_origin(tp), get_args(tp)
    if _is_union(origin):
        if type(None) in args and source.is_none(value):
            return None
        for option in (arg for arg in args if arg is not type(None)):
            try:
                return _walk(value, option, key, where, source)
            except ConfigError:
                continue
        raise source.mismatch(key, where, tp, value)
    if origin is Literal:
        if value in args:
            return value
        raise source.not_a_choice(key, where, args, value)
    if origin in (tuple, list):
        found = source.items(value)
        if found is None:
            raise source.mismatch(key, where, tp, value)
        items = [
            _walk(item, _item_type(tp, i), source.item_key(key, i), where, source)
            for i, item in enumerate(found)
        ]
        _check_tuple_length(tp, items, key, where)
        return tuple(items) if origin is tuple else items
    return source.scalar(value, tp, key, where)


def _coerce_scalar(value: Any, tp: Any, key: str, where: str) -> Any:
    if get_origin(tp) is dict or tp is dict or tp is Any:
        return value
    if tp is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if tp is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if tp in (bool, str) and isinstance(value, tp):
        return value
    raise _type_error(key, where, tp, value)


def _type_error(key: str, where: str, tp: Any, value: Any) -> ConfigError:
    return ConfigError(
        f"{_place(where, key)}: expected {_type_name(tp)}, got {type(value).__name__} {value!r}"
    )


def _type_name(tp: Any) -> str:
    if isinstance(tp, type):
        return tp.__name__
    return str(tp).replace("typing.", "")


def _is_union(origin: Any) -> bool:
    return origin is Union or origin is types.UnionType


def _item_type(tp: Any, index: int) -> Any:
    args = get_args(tp)
    if not args:
        return Any
    if get_origin(tp) is tuple and not (len(args) == 2 and args[1] is Ellipsis):
        return args[min(index, len(args) - 1)]
    return args[0]


def _check_tuple_length(tp: Any, items: list, key: str, where: str) -> None:
    args = get_args(tp)
    fixed = get_origin(tp) is tuple and args and not (len(args) == 2 and args[1] is Ellipsis)
    if fixed and len(items) != len(args):
        raise ConfigError(
            f"{_place(where, key)}: expected {len(args)} items ({_type_name(tp)}), got {len(items)}"
        )


def apply_overrides(config: T, overrides: Iterable[str]) -> T:
    """Returns a copy of ``config`` with each ``"dotted.key=value"`` applied in order.

    The value string is parsed by the field's declared type: ``int``, ``float``, ``bool``
    (true/false, yes/no, on/off, 1/0), ``str``, ``Literal`` choices, ``tuple``/``list``
    (``1,2`` or ``[1, 2]``) and ``Optional`` (``none``/``null``). Raises ``ConfigError``
    for a malformed override, an unknown key (listing the valid keys) or a bad value (naming
    the key, the expected type and the received string).
    """
    for override in overrides:
        key, sep, text = override.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"override {override!r}: expected KEY=VALUE, e.g. trainer.lr=1e-3")
        config = _override(config, key.split("."), text.strip(), key, prefix="")
    return config


def _override(config: Any, parts: list[str], text: str, key: str, prefix: str) -> Any:
    types_ = _field_types(type(config))
    name = parts[0]
    if name not in types_:
        valid = ", ".join(prefix + sub for sub in valid_keys(type(config)))
        raise ConfigError(f"unknown config key {key!r}; valid keys: {valid}")
    tp = types_[name]
    if dataclasses.is_dataclass(tp):
        if len(parts) == 1:
            raise ConfigError(
                f"config key {key!r} is a section; set one of its fields: "
                f"{', '.join(f'{key}.{sub}' for sub in valid_keys(tp))}"
            )
        value = _override(getattr(config, name), parts[1:], text, key, f"{prefix}{name}.")
    elif len(parts) > 1:
        raise ConfigError(f"unknown config key {key!r}: {name!r} is not a section")
    else:
        value = parse_value(text, tp, key)
    with _naming_keys(type(config), prefix):
        return dataclasses.replace(config, **{name: value})


def valid_keys(cls: type) -> list[str]:
    """Every dotted key of the config dataclass ``cls``, nested sections expanded."""
    keys = []
    for name, tp in _field_types(cls).items():
        if dataclasses.is_dataclass(tp):
            keys.extend(f"{name}.{sub}" for sub in valid_keys(tp))
        else:
            keys.append(name)
    return keys


def parse_value(text: str, tp: Any, key: str) -> Any:
    """Parses the command-line string ``text`` as a value of type ``tp`` for the field ``key``."""
    return _walk(text, tp, key, "", COMMAND_LINE)


def _split_items(text: str) -> list[str]:
    """``1,2`` or ``[1, 2]``: the items of a tuple or list given on the command line."""
    inner = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    return [piece.strip() for piece in inner.split(",") if piece.strip()]


def _parse_scalar(text: str, tp: Any, key: str, where: str) -> Any:
    if tp is str or tp is Any:
        return text
    if tp is bool:
        if text.lower() in TRUE_WORDS + FALSE_WORDS:
            return text.lower() in TRUE_WORDS
        raise _parse_error(key, tp, text)
    if tp in (int, float):
        try:
            return tp(text)
        except ValueError:
            raise _parse_error(key, tp, text) from None
    raise ConfigError(
        f"config key {key!r}: type {_type_name(tp)} cannot be set from the command line"
    )


def _parse_error(key: str, tp: Any, text: str) -> ConfigError:
    expected = _type_name(tp)
    if tp is bool:
        expected = "bool (true/false)"
    return ConfigError(f"config key {key!r}: expected {expected}, got {text!r}")


def replace_section(config: T, path: list[str], values: Mapping[str, Any]) -> T:
    """``config`` with the fields ``values`` set in the (dotted, nested) section ``path``; a
    section's own check that fails names the full key (``model.encoder.dropout: …``)."""
    return _replace_in(config, path, values, prefix="")


def _replace_in(config: T, path: list[str], values: Mapping[str, Any], prefix: str) -> T:
    if path:
        inner = _replace_in(getattr(config, path[0]), path[1:], values, f"{prefix}{path[0]}.")
        values = {path[0]: inner}
    with _naming_keys(type(config), prefix):
        return dataclasses.replace(config, **values)


JSON_VALUES = _Source(
    is_none=lambda value: value is None,
    items=lambda value: list(value) if isinstance(value, (list, tuple)) else None,
    item_key=lambda key, index: f"{key}[{index}]",
    scalar=_coerce_scalar,
    mismatch=_type_error,
    not_a_choice=lambda key, where, choices, value: ConfigError(
        f"{_place(where, key)}: expected one of {', '.join(map(repr, choices))}, got {value!r}"
    ),
)
COMMAND_LINE = _Source(
    is_none=lambda text: text.lower() in NONE_WORDS,
    items=_split_items,
    item_key=lambda key, index: key,
    scalar=_parse_scalar,
    mismatch=lambda key, where, tp, text: _parse_error(key, tp, text),
    not_a_choice=lambda key, where, choices, text: ConfigError(
        f"config key {key!r}: expected one of {', '.join(map(str, choices))}, got {text!r}"
    ),
)
