"""Test helpers: callbacks to pass to ``ganforge.train(..., callbacks=[...])``."""

from __future__ import annotations

import os
import signal

from ganforge.training.trainer import Callback, Trainer


class SigintAt(Callback):
    """Sends Ctrl-C (SIGINT) to this very process ``times`` times at the end of step ``step``."""

    def __init__(self, step: int, times: int = 1) -> None:
        self.step = step
        self.times = times

    def on_step_end(self, trainer: Trainer) -> None:
        if trainer.step == self.step:
            for _ in range(self.times):
                os.kill(os.getpid(), signal.SIGINT)
