"""Checkpoints without pickle, written so that a kill at any moment leaves a loadable one.

Two kinds, both plain files:

- **the model directory** (``OUT/``) — what ``rnnkit.load(dir)`` reads: the task's JSON files
  (``config.json``, ``vocab.json``, ``labels.json``, ...) and ``model.safetensors``. Each
  file is written to a temporary name in the same directory, fsynced, then renamed over the
  old one with ``os.replace`` (atomic on POSIX), weights last.
- **resume states** (``OUT/checkpoints/step-N/``) — model, optimizer, scheduler and RNG
  states plus the trainer's counters: tensors in safetensors (the optimizer state dict
  flattened to ``state.<param>.<name>`` keys), everything else JSON. A state is written to
  ``.tmp-step-N/``, renamed to ``step-N/`` and only then published by atomically replacing
  the one-line pointer file ``OUT/checkpoints/latest``; the newest ``keep`` states are kept.

Loading uses ``safetensors.torch.load_file`` and ``json`` only.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import safetensors.torch
import torch
from safetensors import SafetensorError
from torch import Tensor, nn

from rnnkit.errors import TrainingError
from rnnkit.training.rng import capture_rng, restore_rng
from rnnkit.version import __version__

logger = logging.getLogger("rnnkit")
WEIGHTS_FILE = "model.safetensors"
CHECKPOINTS_DIR = "checkpoints"
LATEST_FILE = "latest"
STATE_NAME = re.compile(r"^step-(\d+)$")


def unwrap_model(model: nn.Module) -> nn.Module:
    """The model inside a ``DistributedDataParallel`` (or similar ``.module``) wrapper."""
    return getattr(model, "module", model)


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Calls ``write(temporary_path)``, fsyncs it, then renames it to ``path`` atomically."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write(temporary)
        _fsync_file(temporary)
        os.replace(temporary, path)
    except (OSError, SafetensorError) as error:  # a full disk, say: the old file is untouched
        raise write_error(path, error) from None
    finally:
        temporary.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def write_error(path: Path, error: Exception) -> TrainingError:
    """The error for a failed write of ``path``, which left the previous version in place."""
    reason = getattr(error, "strerror", None) or " ".join(str(error).split())
    return TrainingError(f"{path}: cannot write it ({reason}); the previous version is kept")


def write_json(path: Path, data: Any) -> None:
    """Writes ``data`` as UTF-8 JSON atomically (see :func:`atomic_write`)."""
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    atomic_write(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))


def read_json(path: Path) -> Any:
    """Reads a JSON file; a malformed one raises ``TrainingError`` naming the file and line."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise TrainingError(f"{path}:{error.lineno}: invalid JSON: {error.msg}") from None


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def library_versions() -> dict[str, str]:
    """The versions to record in a model's ``config.json``: rnnkit and torch."""
    return {"rnnkit": __version__, "torch": torch.__version__}


def check_finite(model: nn.Module) -> None:
    """Raises ``TrainingError`` naming the first parameter or buffer holding NaN or inf."""
    for name, tensor in unwrap_model(model).state_dict().items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise TrainingError(f"refusing to save non-finite weights: {name} holds NaN or inf")


def save_model_dir(
    directory: Path, model: nn.Module, files: Mapping[str, Any] | None = None
) -> None:
    """Writes ``files`` (name -> JSON-able data) and ``model.safetensors`` into ``directory``.

    Every file is replaced atomically, the weights last, and non-finite weights are refused.
    Tied (shared) parameters are stored once (``safetensors.torch.save_model``).
    """
    model = unwrap_model(model)
    check_finite(model)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in (files or {}).items():
        write_json(directory / name, data)
    atomic_write(directory / WEIGHTS_FILE, lambda tmp: safetensors.torch.save_model(model, tmp))


def load_model_weights(model: nn.Module, directory: Path) -> None:
    """Loads ``directory/model.safetensors`` into ``model`` (strict: every name must match)."""
    path = Path(directory) / WEIGHTS_FILE
    if not path.is_file():
        raise TrainingError(f"{directory}: missing {WEIGHTS_FILE}")
    missing, unexpected = safetensors.torch.load_model(unwrap_model(model), path, strict=False)
    if missing or unexpected:
        raise TrainingError(
            f"{path}: weights do not match the model (missing: {sorted(missing)}, "
            f"unexpected: {sorted(unexpected)})"
        )


def flatten_optimizer(state_dict: dict) -> tuple[dict[str, Tensor], dict]:
    """Splits an optimizer state dict into safetensors-ready tensors and JSON metadata."""
    tensors: dict[str, Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for param_id, values in state_dict["state"].items():
        for name, value in values.items():
            if isinstance(value, Tensor):
                tensors[f"state.{param_id}.{name}"] = value.detach().clone().contiguous()
            else:
                scalars.setdefault(str(param_id), {})[name] = value
    return tensors, {"param_groups": state_dict["param_groups"], "scalars": scalars}


def unflatten_optimizer(tensors: dict[str, Tensor], meta: dict) -> dict:
    """Inverse of :func:`flatten_optimizer`."""
    state: dict[int, dict[str, Any]] = {}
    for key, tensor in tensors.items():
        _, param_id, name = key.split(".", 2)
        state.setdefault(int(param_id), {})[name] = tensor
    for param_id, values in meta["scalars"].items():
        state.setdefault(int(param_id), {}).update(values)
    return {"state": state, "param_groups": meta["param_groups"]}


def save_resume_state(
    out_dir: Path,
    step: int,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    trainer_state: dict[str, Any],
    keep: int = 2,
    average: nn.Module | None = None,
) -> Path:
    """Writes a resume state for optimizer step ``step`` and publishes it as the latest one.

    ``average`` (the trainer's weight average, if any) is saved beside the model. Returns
    the published directory ``out_dir/checkpoints/step-<step>``.
    """
    check_finite(model)
    root = Path(out_dir) / CHECKPOINTS_DIR
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"step-{step}"
    temporary = root / f".tmp-{final.name}"
    shutil.rmtree(temporary, ignore_errors=True)
    try:
        temporary.mkdir()
        _write_state_files(temporary, model, optimizer, scheduler, trainer_state, average)
        _fsync_dir(temporary)
    except (OSError, SafetensorError) as error:  # nothing is published: `latest` is unchanged
        shutil.rmtree(temporary, ignore_errors=True)
        raise write_error(temporary, error) from None
    if final.exists():  # left by a run killed before it published this step
        shutil.rmtree(final)
    os.rename(temporary, final)
    _fsync_dir(root)
    publish_resume_state(final)
    prune_resume_states(out_dir, keep)
    return final


def publish_resume_state(directory: Path) -> None:
    """Makes the resume state ``directory`` the latest one (the pointer is replaced atomically)."""
    atomic_write(directory.parent / LATEST_FILE, lambda tmp: tmp.write_text(directory.name + "\n"))


def _write_state_files(directory, model, optimizer, scheduler, trainer_state, average) -> None:
    # A clone per entry: tied weights become separate tensors, which save_file accepts and
    # load_state_dict copies back into the one shared parameter.
    state = unwrap_model(model).state_dict()
    model_tensors = {k: v.detach().clone().contiguous() for k, v in state.items()}
    optimizer_tensors, optimizer_meta = flatten_optimizer(optimizer.state_dict())
    rng_tensors, rng_meta = capture_rng()
    files = [("model", model_tensors), ("optimizer", optimizer_tensors), ("rng", rng_tensors)]
    if average is not None:
        averaged = average.state_dict().items()
        files.append(("average", {k: v.detach().clone().contiguous() for k, v in averaged}))
    for name, tensors in files:
        safetensors.torch.save_file(tensors, directory / f"{name}.safetensors")
        _fsync_file(directory / f"{name}.safetensors")
    meta = {
        "trainer": trainer_state,
        "optimizer": optimizer_meta,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "rng": rng_meta,
    }
    (directory / "state.json").write_text(json.dumps(meta), encoding="utf-8")
    _fsync_file(directory / "state.json")


def latest_resume_state(out_dir: Path) -> Path | None:
    """The published resume-state directory, or None when no state was published yet."""
    pointer = Path(out_dir) / CHECKPOINTS_DIR / LATEST_FILE
    if not pointer.is_file():
        return None
    name = pointer.read_bytes().decode("utf-8", "replace").strip()  # damaged: refused below
    if not STATE_NAME.match(name) or not (pointer.parent / name).is_dir():
        raise TrainingError(f"{pointer}: points to {name!r}, which is not a resume state")
    return pointer.parent / name


def load_resume_state(
    directory: Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    average: nn.Module | None = None,
) -> dict[str, Any]:
    """Restores model, optimizer, scheduler, RNG (and weight-average) states; returns the
    trainer's metadata.

    Raises ``TrainingError`` naming the directory when the state does not fit the objects.
    """
    directory = Path(directory)
    meta = read_json(directory / "state.json")
    load = safetensors.torch.load_file
    try:
        unwrap_model(model).load_state_dict(load(directory / "model.safetensors"))
        tensors = load(directory / "optimizer.safetensors")
        optimizer.load_state_dict(unflatten_optimizer(tensors, meta["optimizer"]))
        if scheduler is not None:
            scheduler.load_state_dict(meta["scheduler"] or {})
        restore_rng(load(directory / "rng.safetensors"), meta["rng"])
        if average is not None:
            average.load_state_dict(load(directory / "average.safetensors"))
    except (RuntimeError, KeyError, ValueError, TypeError, OSError, SafetensorError) as error:
        raise TrainingError(
            f"{directory}: cannot resume from this state (was it written for another model, "
            f"optimizer or scheduler?): {error}"
        ) from None
    if not isinstance(meta, dict) or "trainer" not in meta:
        raise TrainingError(f"{directory / 'state.json'}: no trainer state recorded")
    return meta["trainer"]


def load_newest_resume_state(
    out_dir: Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    average: nn.Module | None = None,
) -> tuple[Path, dict[str, Any]] | None:
    """Restores the newest resume state that loads; returns it and the trainer's metadata.

    A damaged state (or a damaged ``latest`` pointer) is passed over for the previous one,
    with a warning naming it and the state resumed instead; each load replaces the whole
    model, optimizer, scheduler and RNG state, so a failed one leaves nothing behind. Returns
    None when no state was ever published; raises `TrainingError` when none loads.
    """
    failures = []
    for directory in resume_candidates(out_dir):
        try:
            saved = load_resume_state(directory, model, optimizer, scheduler, average)
        except TrainingError as error:
            failures.append(str(error))
            continue
        if failures:
            logger.warning(
                "damaged resume state passed over (%s); resuming from the previous good one, %s",
                "; ".join(failures),
                directory,
            )
        return directory, saved
    if failures:
        raise TrainingError(
            f"{Path(out_dir) / CHECKPOINTS_DIR}: no resume state loads ({'; '.join(failures)})"
        )
    return None


def resume_candidates(out_dir: Path) -> list[Path]:
    """The resume states to try, newest first: the published one and those kept before it
    (all states on disk when the ``latest`` pointer itself is damaged)."""
    root = Path(out_dir) / CHECKPOINTS_DIR
    if not (root / LATEST_FILE).is_file():
        return []
    try:
        newest = _step_number(latest_resume_state(out_dir))
    except TrainingError as error:
        logger.warning("%s; trying every resume state on disk, newest first", error)
        newest = math.inf
    states = [p for p in root.iterdir() if STATE_NAME.match(p.name) and p.is_dir()]
    return sorted((p for p in states if _step_number(p) <= newest), key=_step_number)[::-1]


def prune_resume_states(out_dir: Path, keep: int) -> None:
    """Deletes unfinished temporaries, states newer than ``latest`` and all but ``keep``."""
    root = Path(out_dir) / CHECKPOINTS_DIR
    latest = latest_resume_state(out_dir)
    newest = _step_number(latest) if latest is not None else -1
    remove_temporaries(root)
    states = sorted((p for p in root.iterdir() if STATE_NAME.match(p.name)), key=_step_number)
    kept = [p for p in states if _step_number(p) <= newest][-keep:]
    for path in states:
        if path not in kept:
            shutil.rmtree(path, ignore_errors=True)


def remove_temporaries(directory: Path) -> None:
    """Deletes what a killed writer left: ``.NAME.tmp-PID`` files and ``.tmp-step-N/`` dirs."""
    for stale in Path(directory).glob(".*tmp-*"):
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)


def _step_number(path: Path) -> int:
    return int(STATE_NAME.match(path.name).group(1))


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    """Appends one JSON object as a line and fsyncs (non-finite floats become null)."""
    clean = {
        k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in record.items()
    }
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(clean, ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The records of a JSONL file (blank lines skipped); ``[]`` when it does not exist."""
    path = Path(path)
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def truncate_jsonl(path: Path, keep: Callable[[dict], bool]) -> None:
    """Rewrites a JSONL file atomically, keeping the records for which ``keep`` is true."""
    path = Path(path)
    if not path.is_file():
        return
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    kept = [line for line in lines if keep(json.loads(line))]
    text = "".join(line + "\n" for line in kept)
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
