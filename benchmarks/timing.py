"""Shared timing helpers for the benchmarks: interleaved rounds, medians, GEMM peak."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch


def warm_up(function: Callable[[], object], seconds: float = 0.5) -> None:
    """Runs ``function`` for at least ``seconds`` (and at least twice)."""
    start, calls = time.perf_counter(), 0
    while calls < 2 or time.perf_counter() - start < seconds:
        function()
        calls += 1


def interleaved_medians(
    functions: dict[str, Callable[[], object]], rounds: int, warm_up_seconds: float = 0.5
) -> dict[str, float]:
    """Median seconds per call of each function, timed in alternating rounds.

    Alternating the candidates inside every round exposes them to the same machine noise,
    so their ratios are meaningful on a shared machine even when absolute times drift.
    """
    for function in functions.values():
        warm_up(function, warm_up_seconds)
    samples: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(rounds):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


def gemm_peak_gflops(size: int = 2048, rounds: int = 7) -> float:
    """fp32 matrix-multiply throughput of this machine (GFLOP/s) at torch's thread count."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    seconds = interleaved_medians({"gemm": lambda: a @ b}, rounds)["gemm"]
    return 2 * size**3 / seconds / 1e9
