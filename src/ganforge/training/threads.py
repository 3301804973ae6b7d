"""Use only the CPU cores other processes leave free, re-checked while training.

OpenMP threads that wait on a core another process holds cost more than they bring: measured on 2 cores,
``ganforge train --steps 300`` took 26 s alone with 2 threads, 80 s with 2 threads beside one busy process,
but 46 s with 1 thread beside it. So at the start (a 0.2 s sample) and then every ``every_seconds`` (over
the time since the last check) the busy cores of *other* processes are read from ``/proc/stat`` minus this
process's own CPU time, and torch's intra-op thread count is set to the cores left, between 1 and the count
the run started with (``OMP_NUM_THREADS`` or torch's default).

The thread count can change float reductions' summation order, so, as with any change of thread count, the
numbers may differ in the last bits from a run with fixed threads (docs/reliability.md). Runs that must be
bit-for-bit repeatable set ``train.adapt_threads: false`` (or one thread). Linux only; elsewhere a no-op.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import torch

from ganforge.training.trainer import Callback, Trainer

PROC_STAT = Path("/proc/stat")
IDLE_FIELDS = (3, 4)  # idle and iowait in the "cpu" line's fields (user nice system idle iowait irq softirq steal)
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
FIRST_SAMPLE_SECONDS = 0.2


def cpu_seconds() -> tuple[float, float] | None:
    """(busy, total) CPU seconds of the whole machine since boot, or None where /proc/stat is missing."""
    try:
        fields = [int(v) for v in PROC_STAT.read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return None
    total = sum(fields)
    idle = sum(fields[i] for i in IDLE_FIELDS)
    return (total - idle) / TICKS, total / TICKS


def available_cores() -> int:
    """The cores this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def threads_for(others_busy_cores: float, cores: int, ceiling: int) -> int:
    """The thread count for the cores the others leave: at least 1, at most ``ceiling``."""
    free = cores - others_busy_cores
    return max(1, min(ceiling, int(free + 0.5)))


class Sampler:
    """Measures the cores other processes keep busy between two calls."""

    def __init__(self) -> None:
        self.last = self.read()

    @staticmethod
    def read() -> tuple[float, float, float] | None:
        machine = cpu_seconds()
        return None if machine is None else (machine[0], time.process_time(), time.perf_counter())

    def others_busy_cores(self) -> float | None:
        now = self.read()
        if now is None or self.last is None:
            return None
        busy, own, wall = (a - b for a, b in zip(now, self.last, strict=True))
        self.last = now
        if wall <= 0:
            return None
        return max(0.0, (busy - own) / wall)


class AdaptiveThreads(Callback):
    """Sets torch's intra-op threads to the free cores at the start and every ``every_seconds``."""

    def __init__(self, every_seconds: float = 10.0, cores: int | None = None) -> None:
        self.every_seconds = every_seconds
        self.cores = cores or available_cores()
        self.ceiling = torch.get_num_threads()
        self.sampler: Sampler | None = None
        self.checked = 0.0
        self.changes: list[tuple[int, int]] = []  # (step, threads) whenever the count changed

    def on_train_start(self, trainer: Trainer) -> None:
        self.sampler = Sampler()
        time.sleep(FIRST_SAMPLE_SECONDS)
        self.adjust(trainer)

    def on_log(self, trainer: Trainer, record: dict[str, float]) -> None:
        if time.perf_counter() - self.checked >= self.every_seconds:
            self.adjust(trainer)

    def on_train_end(self, trainer: Trainer) -> None:
        torch.set_num_threads(self.ceiling)

    def adjust(self, trainer: Trainer) -> None:
        assert self.sampler is not None
        self.checked = time.perf_counter()
        others = self.sampler.others_busy_cores()
        if others is None:
            return
        threads = threads_for(others, self.cores, self.ceiling)
        if threads != torch.get_num_threads():
            torch.set_num_threads(threads)
            self.changes.append((trainer.step, threads))
