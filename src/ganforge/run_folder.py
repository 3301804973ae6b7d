"""The run folder: where each file of a run lives, shared by every family."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from ganforge.errors import GanforgeError

CHECKPOINT_CHOICES = ("auto", "last", "best")


@dataclass(frozen=True)
class RunFolder:
    """Where each file of a run lives."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.yaml"

    @property
    def checkpoint(self) -> Path:
        return self.root / "checkpoints" / "last.pt"

    @property
    def best_checkpoint(self) -> Path:
        return self.root / "checkpoints" / "best.pt"

    @property
    def samples(self) -> Path:
        return self.root / "samples"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.jsonl"

    @property
    def loss_plot(self) -> Path:
        return self.root / "losses.png"

    def checked(self) -> RunFolder:
        """This folder, after checking that it holds a run (a one-line error otherwise)."""
        if not self.root.is_dir():
            raise GanforgeError(f"run folder not found: {self.root}")
        if not self.config.is_file():
            raise GanforgeError(f"{self.root} is not a run folder (no config.yaml); train one with `ganforge train`")
        return self

    def checkpoint_file(self, which: str = "last") -> Path:
        """``checkpoints/last.pt`` or ``checkpoints/best.pt``; ``auto``: best.pt when the run kept one (its
        evaluation during training chose it), else last.pt."""
        if which not in CHECKPOINT_CHOICES:
            raise GanforgeError(f"unknown checkpoint '{which}': use auto, last or best")
        if which == "auto":
            which = "best" if self.best_checkpoint.is_file() else "last"
        path = self.checkpoint if which == "last" else self.best_checkpoint
        if which == "best" and not path.is_file():
            raise GanforgeError(f"{self.root} has no best checkpoint (it is kept when eval.every is set); "
                                "use --checkpoint last")
        return path


def default_run_dir(preset: str | None) -> Path:
    return Path("runs") / f"{preset or 'custom'}-{time.strftime('%Y%m%d-%H%M%S')}"
