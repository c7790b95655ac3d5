"""Seeding and capturing the random number generators (python, numpy, torch) without pickle.

A captured state is a pair: tensors (saved with safetensors) and JSON-able metadata.
"""

from __future__ import annotations

import random

import numpy as np
import torch
from torch import Tensor


def seed_everything(seed: int) -> None:
    """Seeds python's ``random``, numpy's global generator and torch's CPU generator."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def capture_rng() -> tuple[dict[str, Tensor], dict]:
    """Returns the current generator states as ``(tensors, json_metadata)``."""
    name, keys, position, has_gauss, cached_gaussian = np.random.get_state()
    version, internal, gauss = random.getstate()
    tensors = {
        "torch": torch.get_rng_state(),
        "numpy": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
    }
    meta = {
        "numpy": [name, int(position), int(has_gauss), float(cached_gaussian)],
        "python": [version, list(internal), gauss],
    }
    return tensors, meta


def restore_rng(tensors: dict[str, Tensor], meta: dict) -> None:
    """Restores the generator states returned by :func:`capture_rng`."""
    torch.set_rng_state(tensors["torch"])
    name, position, has_gauss, cached_gaussian = meta["numpy"]
    keys = tensors["numpy"].numpy().astype(np.uint32)
    np.random.set_state((name, keys, position, has_gauss, cached_gaussian))
    version, internal, gauss = meta["python"]
    random.setstate((version, tuple(internal), gauss))
