"""The doctor while training: the loss-curve checks on the recent log records, printed as one-line warnings
(at most once per diagnosis per ``quiet_steps``), and how the run stopped, kept for ``ganforge doctor``.

It reads only the records the trainer already logs (host floats), so it adds no device sync."""

from __future__ import annotations

import json
import sys
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ganforge.doctor.curves import CURVE_CHECKS, MIN_RECORDS, smoothed_peak, vanishing_gradients
from ganforge.doctor.settings import SETTING_CHECKS
from ganforge.doctor.signals import Curves, Settings
from ganforge.training.trainer import Callback, Trainer

WINDOW = 40  # records the checks look at (1,000 steps at the default log_every of 25)
WARM_UP = 2 * MIN_RECORDS  # records before the first curve check
WARM_UP_STEPS = 250  # records of the first 250 steps (half the run at most) are not checked: D wins the first
# couple of hundred steps of a healthy DCGAN (D(real) 0.97, G's loss 3.8 at step 75 of the default run)
QUIET_STEPS = 1000  # steps before the same diagnosis is printed again


def print_warning(message: str) -> None:
    """Print above the progress bar (on stderr) without breaking it."""
    tqdm.write(message, file=sys.stderr)


class DoctorWarnings(Callback):
    """Warns while training when the recent loss curves show a known problem (see docs/doctor.md); checks
    the settings once at the start; records an error that stops the run in ``events``."""

    def __init__(self, config: dict[str, Any], events: Path | None, window: int = WINDOW,
                 quiet_steps: int = QUIET_STEPS, echo: Callable[[str], None] = print_warning) -> None:
        self.settings = Settings(config)
        self.events = events
        self.records: deque[dict[str, Any]] = deque(maxlen=window)
        self.quiet_steps = quiet_steps
        self.echo = echo
        self.warned: dict[str, int] = {}  # diagnosis id -> step of its last warning
        self.warm_up = min(WARM_UP_STEPS, self.settings.steps // 2)
        self.norms: deque[float] = deque(maxlen=3)  # G's last gradient norms, for the run's peak
        self.peak = 0.0  # the largest 3-record median of G's gradient norm so far (warm-up included)

    def on_train_start(self, trainer: Trainer) -> None:
        self.records.clear()
        for check in SETTING_CHECKS.values():
            found = check(self.settings)
            if found is not None:
                self.warned[found.id] = trainer.step
                self.warn(trainer.step, found.title, found.seen, found.fix, found.key)

    def on_log(self, trainer: Trainer, record: dict[str, float]) -> None:
        if "d_loss" not in record or "g_loss" not in record:
            return  # an evaluation record
        if "g_grad_norm" in record:
            self.norms.append(float(record["g_grad_norm"]))
            self.peak = max(self.peak, smoothed_peak(list(self.norms)))
        if record.get("step", 0) <= self.warm_up:
            return  # the opening scramble of any run
        self.records.append(record)
        if len(self.records) < WARM_UP:
            return
        curves = Curves.from_records(list(self.records))
        for name, check in CURVE_CHECKS.items():
            found = (vanishing_gradients(curves, self.settings, self.peak) if name == "vanishing_gradients"
                     else check(curves, self.settings))
            if found is None:
                continue
            last = self.warned.get(found.id)
            if last is None or trainer.step - last >= self.quiet_steps:
                self.warned[found.id] = trainer.step
                self.warn(trainer.step, found.title, found.seen, found.fix, found.key)

    def warn(self, step: int, title: str, seen: str, fix: str, key: str) -> None:
        self.echo(f"doctor, step {step}: {title}: {seen} Try: {fix} ({key}). Turn off: --set train.doctor=false")

    def on_train_end(self, trainer: Trainer) -> None:
        error = sys.exc_info()[1]  # the trainer calls this while handling the error that stopped the run
        if error is None or self.events is None:
            return
        event = {"event": "stopped", "step": trainer.step, "error": type(error).__name__,
                 "message": str(error).splitlines()[0][:300] if str(error) else ""}
        self.events.parent.mkdir(parents=True, exist_ok=True)
        with open(self.events, "a") as handle:
            handle.write(json.dumps(event) + "\n")
