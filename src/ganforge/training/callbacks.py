"""What a run writes while it trains: progress bar, metrics.jsonl, sample grids, the loss plot."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm import tqdm

from ganforge.training.budget import UNPLANNED_STEPS
from ganforge.training.trainer import Callback, Trainer
from ganforge.viz import plot_losses, save_grid


class ProgressBar(Callback):
    """A tqdm bar with the latest D/G losses and images/second."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.bar: tqdm | None = None
        self.shown: dict[str, str] = {}

    def on_train_start(self, trainer: Trainer) -> None:
        self.bar = tqdm(total=self.total(trainer), initial=trainer.step, disable=not self.enabled,
                        unit="step", dynamic_ncols=True, file=sys.stderr, mininterval=0.5)

    def on_step_end(self, trainer: Trainer) -> None:
        assert self.bar is not None
        if self.bar.total != self.total(trainer):  # a time budget re-planned the run: the bar shows time left
            self.bar.total = self.total(trainer)
        self.bar.update(1)

    @staticmethod
    def total(trainer: Trainer) -> int | None:
        return None if trainer.total_steps >= UNPLANNED_STEPS else trainer.total_steps

    def on_log(self, trainer: Trainer, record: dict[str, float]) -> None:
        assert self.bar is not None
        if "images_per_sec" in record:
            self.shown = {k: f"{record[k]:.3f}" for k in ("d_loss", "g_loss") if k in record}
            self.shown["img/s"] = f"{record['images_per_sec']:.0f}"
        self.shown.update({k: f"{v:.4g}" for k, v in record.items() if k.startswith("eval_")})
        self.bar.set_postfix(self.shown, refresh=False)

    def on_train_end(self, trainer: Trainer) -> None:
        if self.bar is not None:
            self.bar.close()


def read_metrics(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class MetricsLog(Callback):
    """Appends one JSON record per log interval to metrics.jsonl (records past a resumed step are dropped)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.records: list[dict[str, Any]] = []

    def on_train_start(self, trainer: Trainer) -> None:
        self.records = [r for r in read_metrics(self.path) if r.get("step", 0) <= trainer.step]
        self.path.write_text("".join(json.dumps(r) + "\n" for r in self.records))

    def on_log(self, trainer: Trainer, record: dict[str, float]) -> None:
        self.records.append(record)
        with open(self.path, "a") as handle:
            handle.write(json.dumps(record) + "\n")


class Preview(Callback):
    """Every ``every`` steps and at the end: ``write(stem)`` writes the family's preview files (e.g.
    ``samples/step-0000500.png``, ``.gif``, ``.txt``; the suffixes are the family's) and returns their
    paths; each is also copied to ``samples/latest.<suffix>``. Families render from a fixed input, so
    previews are comparable across steps."""

    def __init__(self, folder: Path, write: Callable[[Path], list[Path]], every: int) -> None:
        self.folder = folder
        self.write_files = write
        self.every = every

    def on_step_end(self, trainer: Trainer) -> None:
        if trainer.step % self.every == 0:
            self.write(trainer.step)

    def on_train_end(self, trainer: Trainer) -> None:
        if trainer.step % self.every != 0 and trainer.step > 0:
            self.write(trainer.step)

    def write(self, step: int) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        for path in self.write_files(self.folder / f"step-{step:07d}"):
            shutil.copyfile(path, self.folder / f"latest{path.suffix}")


class SampleGrid(Preview):
    """The image preview: a grid PNG of ``render()``'s images."""

    def __init__(self, folder: Path, render: Callable[[], torch.Tensor], every: int, nrow: int | None = None) -> None:
        super().__init__(folder, lambda stem: [save_grid(render(), stem.with_suffix(".png"), nrow)], every)


@torch.no_grad()
def generator_images(network: nn.Module, noise: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    """``network(noise, labels)`` in eval mode (its train/eval mode is restored)."""
    was_training = network.training
    network.eval()
    images = network(noise, labels)
    network.train(was_training)
    return images


class LossPlot(Callback):
    """Redraws losses.png from the metrics log every ``every`` steps and at the end."""

    def __init__(self, path: Path, metrics: MetricsLog, every: int) -> None:
        self.path = path
        self.metrics = metrics
        self.every = every

    def on_step_end(self, trainer: Trainer) -> None:
        if trainer.step % self.every == 0 and self.metrics.records:
            plot_losses(self.metrics.records, self.path)

    def on_train_end(self, trainer: Trainer) -> None:
        if self.metrics.records:
            plot_losses(self.metrics.records, self.path)


EVALUATION_SEED = 104729  # the noise of evaluations during training: fixed, apart from training's and eval's


class Evaluation(Callback):
    """Every ``every`` steps: metrics of ``n`` samples (fixed noise) logged as ``eval_*``; keeps the best checkpoint.

    It draws no numbers from the global RNG and leaves the networks as it found them, so a run with
    evaluation trains exactly like one without.
    """

    def __init__(self, network: nn.Module, evaluate: Callable[[nn.Module], dict[str, float]], every: int,
                 best_key: str | None, best_path: Path, metrics_log: MetricsLog | None, writer: bool = True,
                 lower_is_better: bool = True) -> None:
        self.writer = writer  # distributed training: every process evaluates, only rank 0 logs and saves
        self.network = network
        self.evaluate = evaluate
        self.every = every
        self.best_key = best_key
        self.best_path = best_path
        self.metrics_log = metrics_log
        self.lower_is_better = lower_is_better  # the direction of ``best_key``, passed in by the caller
        self.best: float | None = None

    def on_train_start(self, trainer: Trainer) -> None:
        key = f"eval_{self.best_key}"
        seen = [r[key] for r in self.metrics_log.records if key in r] if self.metrics_log else []
        self.best = min(seen, key=self._rank) if seen else None

    def _rank(self, value: float) -> float:
        return value if self.lower_is_better else -value

    def on_step_end(self, trainer: Trainer) -> None:
        if trainer.step % self.every:
            return
        was_training = self.network.training
        self.network.eval()
        scores = self.evaluate(self.network)
        self.network.train(was_training)
        if not self.writer:
            return
        trainer.emit({"step": trainer.step, **{f"eval_{k}": v for k, v in scores.items()}})
        value = scores.get(self.best_key or "")
        if value is not None and (self.best is None or self._rank(value) < self._rank(self.best)):
            self.best = value
            trainer.save_checkpoint(self.best_path)
