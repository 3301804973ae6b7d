"""Test helpers for hooking into the trainer that ``ganforge.train`` / ``ganforge.resume`` build."""

from __future__ import annotations

import os
import signal

import pytest

import ganforge.runs as runs
from ganforge.config import Config
from ganforge.training.trainer import Callback, Trainer


class CallbackHook:
    """Adds callbacks to the Trainer that ``ganforge.train`` / ``ganforge.resume`` build."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.callbacks: list[Callback] = []
        original = runs._build_trainer

        def build(config, run, progress) -> tuple[Trainer, Config]:
            trainer, config = original(config, run, progress)
            trainer.callbacks.extend(self.callbacks)
            return trainer, config

        monkeypatch.setattr(runs, "_build_trainer", build)

    def add(self, callback: Callback) -> None:
        self.callbacks.append(callback)


class SigintAt(Callback):
    """Sends Ctrl-C (SIGINT) to this very process ``times`` times at the end of step ``step``."""

    def __init__(self, step: int, times: int = 1) -> None:
        self.step = step
        self.times = times

    def on_step_end(self, trainer: Trainer) -> None:
        if trainer.step == self.step:
            for _ in range(self.times):
                os.kill(os.getpid(), signal.SIGINT)
