"""Config files: a YAML or JSON file read into the dict that `rnnkit.config` builds a typed
config from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from rnnkit.errors import ConfigError


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Reads a YAML (``.yaml``/``.yml``, via ``yaml.safe_load``) or JSON file into a dict.

    Raises ``ConfigError`` naming the file (and line, when the parser knows it) for a missing
    or malformed file, an unknown suffix, or a top level that is not a mapping.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".yaml", ".yml", ".json"):
        raise ConfigError(f"{path}: unknown config file type {suffix!r}; use .yaml, .yml or .json")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{path}: cannot read config file: {error.strerror or error}") from None
    try:
        data = json.loads(text) if suffix == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as error:
        raise ConfigError(f"{path}:{error.lineno}: invalid JSON: {error.msg}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError(f"{path}{line}: invalid YAML: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data
