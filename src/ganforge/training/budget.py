"""Train for a wall-clock budget (``--minutes``) instead of a step count.

At every log step (the same steps in every process) the run's total is re-planned from the speed measured so
far: ``steps done + time left / seconds per step``. The speed is measured from the first log record on, so
start-up and the first slow steps do not count; a small reserve is kept for the end-of-run checkpoint and
previews. In distributed training rank 0's plan is broadcast, so every process stops at the same step.

The steps actually done are what the run records (``train.steps`` in config.yaml and the checkpoint), so
``ganforge train --config RUN/config.yaml --steps N`` repeats the run exactly and ``ganforge resume`` works as
for any run. No schedule of the built-in recipes depends on the total length yet; one that does must read the
plan made here.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ganforge.parallel import World, broadcast_string
from ganforge.training.trainer import Callback, Trainer

RESERVE_SHARE = 0.03  # of the budget, kept for the final checkpoint, preview and loss plot
UNPLANNED_STEPS = 10**9  # the loop's bound until the first plan


class TimeBudget(Callback):
    """Sets ``trainer.total_steps`` so that the run ends when ``minutes`` have passed since it started.

    ``on_plan(total)`` is told every new plan (e.g. to record it in the checkpoint's config)."""

    def __init__(self, minutes: float, world: World = World(), on_plan: Callable[[int], None] | None = None
                 ) -> None:
        self.seconds = minutes * 60.0
        self.world = world
        self.on_plan = on_plan
        self.started = 0.0
        self.mark: tuple[float, int] | None = None  # (time, step) of the first log record

    def on_train_start(self, trainer: Trainer) -> None:
        self.started = time.perf_counter()
        self.mark = None
        trainer.total_steps = UNPLANNED_STEPS

    def on_log(self, trainer: Trainer, record: dict[str, float]) -> None:
        if "step" not in record or any(key.startswith("eval_") for key in record):
            return  # one plan per loss record: evaluation records arrive at the same step
        now = time.perf_counter()
        if self.mark is None:
            self.mark = (now, trainer.step)
            plan = self.first_guess(trainer.step, now)
        else:
            plan = self.plan(trainer.step, now)
        if self.world.distributed:
            plan = int(broadcast_string(str(plan), self.world))
        if plan != trainer.total_steps:
            trainer.total_steps = plan
            if self.on_plan is not None:
                self.on_plan(plan)

    def first_guess(self, step: int, now: float) -> int:
        """From the first steps alone (start-up included, so on the low side)."""
        elapsed = max(now - self.started, 1e-6)
        return max(step, int(step * self.usable_seconds() / elapsed))

    def plan(self, step: int, now: float) -> int:
        assert self.mark is not None
        mark_time, mark_step = self.mark
        if step <= mark_step:
            return step
        seconds_per_step = (now - mark_time) / (step - mark_step)
        left = self.usable_seconds() - (now - self.started)
        return step + max(0, int(left / seconds_per_step))

    def usable_seconds(self) -> float:
        return self.seconds * (1.0 - RESERVE_SHARE)
