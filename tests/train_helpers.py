"""Test helpers: callbacks to pass to ``ganforge.train(..., callbacks=[...])``, and checkpoint comparison."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import torch

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


# Python's own `random` is not used by training, and its state in a checkpoint depends on whether a
# library imported for the first time (sklearn -> rich, for digits8) drew from it after seeding; so it
# is left out of the bit-for-bit comparisons. Everything else (weights, optimizers, EMA, torch and NumPy
# RNG, data position, config) must match.
IGNORED = {"state.rng.python"}


def checkpoint_of(run: Path) -> dict[str, Any]:
    return torch.load(run / "checkpoints" / "last.pt", weights_only=True)


def assert_same_state(a: Any, b: Any, path: str = "state") -> None:
    """Recursively equal: tensors with torch.equal (same dtype and shape), the rest with ==."""
    if path in IGNORED:
        return
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), f"{path}: keys differ"
        for key in a:
            assert_same_state(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), f"{path}: lengths differ"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same_state(x, y, f"{path}[{i}]")
    elif isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor), f"{path}: not a tensor"
        assert (a.dtype, a.shape) == (b.dtype, b.shape), f"{path}: {a.dtype} {a.shape} vs {b.dtype} {b.shape}"
        assert torch.equal(a, b), f"{path}: tensors differ"
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"
