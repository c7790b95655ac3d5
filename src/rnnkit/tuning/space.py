"""Search spaces: which config keys a search varies, over which values, and how a trial's
values become a run config.

A space maps dotted config keys (``trainer.lr``, ``model.hidden_size``) to a `Param`: a
range (``low``, ``high``, ``log``) for an int or float field, or ``choices`` for any field.
`default_space` builds one around a recipe (the task's defaults, or the base recipe given
with ``--config``/``--set``) from its values alone, so every registered task has one;
``--space FILE.yaml`` (`load_space`) adds keys, replaces their ranges or drops them
(``key: null``).
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnkit.config import config_from_dict, config_to_dict, load_config_file, valid_keys
from rnnkit.errors import ConfigError

SPEC_KEYS = ("low", "high", "log", "choices")


@dataclass(frozen=True)
class Param:
    """The values one config key takes in a search: a range or a list of choices."""

    key: str  # the dotted config key, e.g. "trainer.lr"
    low: float | None = None  # the range's lower end (inclusive); None with choices
    high: float | None = None  # the range's upper end (inclusive); None with choices
    log: bool = False  # sample the range on a log scale (learning rates)
    choices: tuple[Any, ...] | None = None  # the values to choose from, instead of a range
    integer: bool = False  # an int field: the range holds whole numbers

    def contains(self, value: Any) -> bool:
        if self.choices is not None:
            return value in self.choices
        return isinstance(value, (int, float)) and self.low <= value <= self.high

    def describe(self) -> str:
        if self.choices is not None:
            return f"one of {list(self.choices)}"
        return f"[{self.low:g}, {self.high:g}]" + (" (log)" if self.log else "")


Space = dict[str, Param]


def _choices(key: str, default: Any, values: tuple[Any, ...]) -> Param:
    """Choices that always hold the default (trial 0 is the default recipe)."""
    return Param(key, choices=tuple(dict.fromkeys((default, *values))))


def _rule(key: str, name: str, default: Any) -> Param | None:
    """The default range of one config field, around its default value; None: not searched.

    Learning rate: a factor of 3 either way, log scale. Hidden size and batch size: half,
    the default, double. Layers: 1 to one more than the default. Dropouts: 0 to 0.5 (or
    the default, if higher); word and embedding-row dropout and label smoothing 0 to 0.2 (or
    the default, if higher). Epochs: half to double (early stopping ends most runs sooner).
    Weight averaging: off to 2 epochs (or double the default).
    Zoneout and layer norm are left out: they move training onto the slow Python loop.
    """
    if isinstance(default, bool):
        return _choices(key, default, (False, True)) if name == "locked_dropout" else None
    if name == "lr":
        return Param(key, default / 3, default * 3, log=True)
    if name in ("hidden_size", "batch_size") and default > 1:
        return _choices(key, default, (default // 2, default * 2))
    if name == "num_layers":
        return Param(key, 1, default + 1, integer=True)
    if name == "epochs":
        return Param(key, max(1, default // 2), default * 2, integer=True)
    if name == "ema_epochs":
        return Param(key, 0.0, max(2.0, 2 * default))
    if name == "cell":
        return _choices(key, default, ("lstm", "gru"))
    if name == "pooling":
        return _choices(key, default, ("max", "mean", "attention", "concat"))
    small = ("word_dropout", "embedding_row_dropout", "label_smoothing")  # a little goes far
    if name in small and isinstance(default, float):
        return Param(key, 0.0, max(0.2, default))
    if (name.endswith("dropout") or name == "weight_drop") and isinstance(default, float):
        return Param(key, 0.0, max(0.5, default))
    return None


def default_space(recipe: Any) -> Space:
    """The search space around ``recipe``: a run config, or a config class for its defaults
    (the task's measured recipe)."""
    space = {}
    for key, default in flat_values(recipe).items():
        param = _rule(key, key.rpartition(".")[2], default)
        if param is not None:
            space[key] = param
    return space


def flat_values(recipe: Any) -> dict[str, Any]:
    """Dotted key -> value of every field of the run config ``recipe`` (a config class: its
    defaults)."""
    flat: dict[str, Any] = {}

    def walk(data: Mapping[str, Any], prefix: str) -> None:
        for name, value in data.items():
            if isinstance(value, Mapping):
                walk(value, f"{prefix}{name}.")
            else:
                flat[prefix + name] = value

    walk(config_to_dict(recipe() if isinstance(recipe, type) else recipe), "")
    return flat


def field_type(config_class: type, key: str) -> Any:
    """The declared type of the dotted ``key`` of ``config_class``, ``Optional`` removed."""
    tp: Any = config_class
    for name in key.split("."):
        hints = typing.get_type_hints(tp)
        tp = hints[name]
    args = [arg for arg in typing.get_args(tp) if arg is not type(None)]
    if type(None) in typing.get_args(tp) and len(args) == 1:
        return args[0]
    return tp


def load_space(path: str | Path, config_class: type, base: Space) -> Space:
    """``base`` with the entries of the YAML/JSON file ``path`` laid over it.

    Each entry is ``KEY: {low: L, high: H[, log: true]}``, ``KEY: {choices: [...]}`` or
    ``KEY: null`` (drop the key). Raises ``ConfigError``, naming the file and key, for an
    unknown key, an empty or inverted range, or a value the config field does not accept.
    """
    space = dict(base)
    for key, spec in load_config_file(path).items():
        if spec is None:
            space.pop(key, None)
            continue
        space[key] = parse_param(str(key), spec, config_class, where=str(path))
    return space


def parse_param(key: str, spec: Any, config_class: type, where: str) -> Param:
    """One search-space entry, checked against the config class (see `load_space`)."""
    keys = valid_keys(config_class)
    if key not in keys:
        raise ConfigError(
            f"{where}: unknown search-space key {key!r}; valid keys: {', '.join(keys)}"
        )
    if not isinstance(spec, Mapping) or not spec or set(spec) - set(SPEC_KEYS):
        raise ConfigError(
            f"{where}: {key}: expected {{low: L, high: H[, log: true]}}, {{choices: [...]}} or "
            f"null, got {spec!r}"
        )
    if "choices" in spec:
        choices = spec["choices"]
        if not isinstance(choices, list) or not choices:
            raise ConfigError(f"{where}: {key}: empty choices; expected a non-empty list")
        param = Param(key, choices=tuple(choices))
    else:
        param = _range(key, spec, field_type(config_class, key), where)
    for value in param.choices or (param.low, param.high):
        check_value(config_class, key, value, where)
    return param


def _range(key: str, spec: Mapping[str, Any], tp: Any, where: str) -> Param:
    if tp not in (int, float):
        raise ConfigError(f"{where}: {key}: a range needs a number field; give choices instead")
    low, high, log = spec.get("low"), spec.get("high"), bool(spec.get("log", False))
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high)):
        raise ConfigError(f"{where}: {key}: low and high must be numbers, got {low!r}, {high!r}")
    if low > high:
        raise ConfigError(f"{where}: {key}: inverted range: low {low!r} > high {high!r}")
    if low == high:
        raise ConfigError(f"{where}: {key}: empty range: low = high = {low!r}")
    if log and low <= 0:
        raise ConfigError(f"{where}: {key}: a log range must be above 0, got low {low!r}")
    if is_probability(key) and not 0 <= low < high < 1:
        raise ConfigError(
            f"{where}: {key}: a probability range must lie in [0, 1), got [{low}, {high}]"
        )
    if tp is int and not (float(low).is_integer() and float(high).is_integer()):
        raise ConfigError(f"{where}: {key}: an int field needs whole low and high")
    cast = int if tp is int else float
    return Param(key, cast(low), cast(high), log=log, integer=tp is int)


def is_probability(key: str) -> bool:
    """Dropouts, DropConnect and zoneout: the config does not check all of them itself."""
    name = key.rpartition(".")[2]
    return name.endswith("dropout") or name in ("weight_drop", "zoneout")


def check_value(config_class: type, key: str, value: Any, where: str) -> None:
    """Raises ``ConfigError`` when the config field ``key`` rejects ``value``."""
    try:
        apply_params(config_class(), {key: value})
    except ConfigError as error:
        raise ConfigError(f"{where}: {key}: value {value!r} rejected: {error}") from None


def apply_params(config: Any, params: Mapping[str, Any]) -> Any:
    """``config`` with each dotted key of ``params`` set (type-checked, validated)."""
    data = config_to_dict(config)
    for key, value in params.items():
        *sections, name = key.split(".")
        inner = data
        for section in sections:
            inner = inner[section]
        inner[name] = value
    return config_from_dict(type(config), data)


def default_params(space: Space, recipe: Any) -> dict[str, Any]:
    """``recipe``'s value of every key whose range holds it (trial 0's parameters)."""
    defaults = flat_values(recipe)
    return {key: defaults[key] for key, param in space.items() if param.contains(defaults[key])}


def suggest(trial: Any, space: Space) -> dict[str, Any]:
    """Asks the Optuna ``trial`` for a value of every key of ``space``."""
    params = {}
    for key, param in space.items():
        if param.choices is not None:
            params[key] = trial.suggest_categorical(key, param.choices)
        elif param.integer:
            params[key] = trial.suggest_int(key, int(param.low), int(param.high), log=param.log)
        else:
            params[key] = trial.suggest_float(key, param.low, param.high, log=param.log)
    return params


__all__ = [
    "Param",
    "Space",
    "apply_params",
    "default_params",
    "default_space",
    "load_space",
    "suggest",
]
