"""The busy-machine case of benchmarks/speed.py: each loop alone, then with one core taken by another process.

    python benchmarks/speed.py --busy [--steps 300]

The other process is one single-threaded busy loop (as a `pip install`, a compile or a second job would be),
started before the training loop and stopped after it. The reference is the plain PyTorch loop of speed.py at
torch's default thread count; ganforge's loop is set up as ``ganforge train`` does, with its adaptive thread
count (``train.adapt_threads``, ganforge.training.threads), and once more with it switched off.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable


def spin(stop_at: float) -> None:
    """Keep one core busy until ``stop_at`` (a time.time() value) or until terminated."""
    x = 0
    while time.time() < stop_at:
        x += 1


def beside_a_busy_process(measure: Callable[[], float], limit_seconds: float = 3600.0) -> float:
    """``measure()`` while one other process keeps a core busy."""
    busy = multiprocessing.get_context("spawn").Process(target=spin, args=(time.time() + limit_seconds,),
                                                          daemon=True)
    busy.start()
    time.sleep(1.0)  # let it start spinning before the loop looks at the machine
    if not busy.is_alive():
        raise RuntimeError(f"the busy process stopped at once (exit code {busy.exitcode}); see its error above")
    try:
        return measure()
    finally:
        busy.terminate()
        busy.join()


def busy_table(loops: dict[str, Callable[[], float]], rounds: int) -> list[str]:
    """Markdown rows: each loop's best images/s alone and beside a busy process, and the slowdown."""
    rows = ["| loop | alone img/s | one core busy img/s | slowdown |", "|---|---|---|---|"]
    for name, measure in loops.items():
        alone = max(measure() for _ in range(rounds))
        busy = max(beside_a_busy_process(measure) for _ in range(rounds))
        rows.append(f"| {name} | {alone:.0f} | {busy:.0f} | {alone / busy:.2f}x |")
    return rows
