"""What the doctor reads from a run: its config (as plain data), the logged curves and how training stopped.

Everything here works for every family: it reads ``config.yaml``, ``metrics.jsonl`` and ``events.jsonl``
(written by the training warnings callback when a run stops on an error) without building any network.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ganforge.errors import GanforgeError
from ganforge.run_folder import RunFolder
from ganforge.training.callbacks import read_metrics

EVENTS_FILE = "events.jsonl"
CURVE_KEYS = ("d_loss", "g_loss", "d_real", "d_fake", "g_grad_norm")


@dataclass
class Curves:
    """The loss records of a run (those with ``d_loss`` and ``g_loss``), as one list per key."""

    steps: list[int]
    values: dict[str, list[float]]

    @classmethod
    def from_records(cls, records: Sequence[dict[str, Any]]) -> Curves:
        kept = [r for r in records if "d_loss" in r and "g_loss" in r and "step" in r]
        values = {k: [float(r[k]) for r in kept] for k in CURVE_KEYS if kept and all(k in r for r in kept)}
        return cls([int(r["step"]) for r in kept], values)

    def __len__(self) -> int:
        return len(self.steps)

    def get(self, key: str) -> list[float] | None:
        return self.values.get(key)

    def tail(self, share: float) -> Curves:
        """The last ``share`` of the records (at least one)."""
        start = min(len(self) - 1, int(len(self) * (1 - share))) if len(self) else 0
        return Curves(self.steps[start:], {k: v[start:] for k, v in self.values.items()})


@dataclass
class Settings:
    """The config keys the rules read, from a run's config as plain data (any family; missing keys are None)."""

    config: dict[str, Any] = field(default_factory=dict)

    def get(self, dotted: str, default: Any = None) -> Any:
        node: Any = self.config
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    @property
    def loss(self) -> str | None:
        return self.get("loss.name")

    @property
    def variant(self) -> str | None:
        return self.get("loss.variant")

    @property
    def steps(self) -> int:
        return int(self.get("train.steps", 0) or 0)


@dataclass
class RunSignals:
    """A run folder's config, curves and stop event (None when it ended normally or nothing was recorded)."""

    root: Path
    settings: Settings
    curves: Curves
    records: list[dict[str, Any]]
    stop: dict[str, Any] | None

    @property
    def family(self) -> str:
        return str(self.settings.get("family", "images"))


def read_events(path: Path) -> list[dict[str, Any]]:
    """The events of ``events.jsonl`` (an unreadable line is skipped)."""
    if not path.is_file():
        return []
    events = []
    for line in path.read_text().splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return events


def read_run(run_dir: str | Path) -> RunSignals:
    """Read what the doctor needs from a run folder (a one-line error when it is not one)."""
    run = RunFolder(Path(run_dir)).checked()
    try:
        config = yaml.safe_load(run.config.read_text()) or {}
    except yaml.YAMLError as exc:
        raise GanforgeError(f"{run.config} is not valid YAML ({str(exc).splitlines()[0]}); restore it") from None
    try:
        records = read_metrics(run.metrics)
    except json.JSONDecodeError as exc:
        raise GanforgeError(f"{run.metrics} is damaged (line {exc.lineno}); it is written while training") from None
    last_step = max((int(r.get("step", 0)) for r in records), default=0)
    stops = [e for e in read_events(run.root / EVENTS_FILE) if e.get("event") == "stopped"]
    stop = stops[-1] if stops and int(stops[-1].get("step", 0)) >= last_step else None  # not one a resume fixed
    return RunSignals(run.root, Settings(config if isinstance(config, dict) else {}), Curves.from_records(records),
                      records, stop)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")
