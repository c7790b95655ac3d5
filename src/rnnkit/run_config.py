"""The run config of ``rnnkit train TASK``: defaults, a config file, command-line options,
``--set`` overrides and a resumed run's saved config, in one order for the CLI and for
library users (`resolve_run_config`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from rnnkit.config import apply_overrides, config_from_dict, replace_section
from rnnkit.config_files import load_config_file
from rnnkit.errors import ConfigError

T = TypeVar("T")

# With --resume these may differ from the saved run: they say how much longer it trains and
# where (as Keras's fit(epochs=...) and Lightning's max_epochs extend a resumed run).
RESUME_MAY_CHANGE = ("trainer.epochs", "trainer.max_minutes", "trainer.device")


def resolve_run_config(
    config_class: type[T],
    *,
    config_file: str | Path | None = None,
    resume: str | Path | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    overrides: Iterable[str] = (),
) -> T:
    """The run config of ``rnnkit train TASK``, resolved in one place for the CLI and for
    library users: defaults ← ``config_file`` ← ``options`` ← ``overrides`` ← the resumed
    run's ``config.json`` (with ``resume``, a model directory).

    ``options`` maps a dotted section (``"model.encoder"``) to the fields the command-line
    flags set in it (None: not given); ``overrides`` are ``--set`` strings (`apply_overrides`).
    A resumed run keeps its saved config: a key given in the file, a flag or ``--set`` with
    another value than the saved one is a `ConfigError`, except `RESUME_MAY_CHANGE`, which
    are applied (``--epochs 20`` continues a finished 10-epoch run).

    Example::

        config = resolve_run_config(ClassifyConfig, config_file="run.yaml",
                                    overrides=["model.hidden_size=128"])
    """
    data = {} if config_file is None else load_config_file(config_file)
    config = config_from_dict(config_class, data, where=str(config_file or ""))
    options = options or {}
    for section, values in options.items():
        given = {key: value for key, value in values.items() if value is not None}
        if given:
            config = replace_section(config, section.split("."), given)
    config = apply_overrides(config, overrides)
    if resume is None:
        return config
    saved = load_config_file(Path(resume) / "config.json")
    saved = config_from_dict(
        config_class, {key: saved[key] for key in ("data", "model", "trainer")}
    )
    keys = set(_dotted_keys(data)) | {override.partition("=")[0].strip() for override in overrides}
    keys |= {f"{section}.{key}" for section, values in options.items()
             for key, value in values.items() if value is not None}  # fmt: skip
    return _keep_saved(saved, config, sorted(keys), resume)


def _keep_saved(saved: T, requested: T, given: list[str], resume: str | Path) -> T:
    """``saved`` with the given `RESUME_MAY_CHANGE` keys of ``requested``; an error naming any
    other given key whose value differs from the saved one."""
    # "auto" (a tokenizer, character features) was resolved by the run into the saved value.
    differ = [key for key in given if _get(requested, key) not in ("auto", _get(saved, key))]
    refused = [key for key in differ if key not in RESUME_MAY_CHANGE]
    if refused:
        found = "; ".join(
            f"{key}={_get(requested, key)!r} (saved: {_get(saved, key)!r})" for key in refused
        )
        raise ConfigError(
            f"--resume {resume}: a resumed run keeps its saved config, but {found} was given; "
            f"drop it, or train into a new --out (only {', '.join(RESUME_MAY_CHANGE)} may change)"
        )
    for key in differ:
        *section, name = key.split(".")
        saved = replace_section(saved, section, {name: _get(requested, key)})
    return saved


def _dotted_keys(data: Mapping[str, Any], prefix: str = "") -> Iterable[str]:
    """The dotted keys of the leaves of a nested config mapping (a file's)."""
    for key, value in data.items():
        if isinstance(value, Mapping):
            yield from _dotted_keys(value, f"{prefix}{key}.")
        else:
            yield prefix + key


def _get(config: Any, key: str) -> Any:
    for name in key.split("."):
        config = config[name] if isinstance(config, Mapping) else getattr(config, name)
    return config
