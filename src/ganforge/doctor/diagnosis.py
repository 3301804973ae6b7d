"""One finding of the doctor: what was seen (with the numbers), how bad it is, and the fix to try."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

SEVERITIES = ("critical", "high", "medium", "low")  # most severe first

TITLES = {
    "diverged": "the run stopped on a NaN or an exploding loss",
    "loss_spikes": "loss spikes",
    "lr_range": "learning rates far from the usual range",
    "lr_batch": "an unstable learning-rate / batch-size pairing",
    "d_overpowers": "the discriminator overpowers the generator",
    "vanishing_gradients": "vanishing generator gradients",
    "mode_collapse": "mode collapse",
    "oscillation": "oscillation",
    "ema_lag": "the EMA generator lags",
}


@dataclass(frozen=True)
class Diagnosis:
    """A problem the doctor found.

    ``seen`` says in plain words what was measured (with the numbers), ``fix`` what to try, ``key`` the config
    key the fix changes. ``cause`` marks a finding about the settings (a cause) rather than a symptom in the
    curves or samples: at equal severity causes are named first."""

    id: str
    severity: str
    seen: str
    fix: str
    key: str
    step: int | None = None
    cause: bool = False

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}; use one of {', '.join(SEVERITIES)}")
        if self.id not in TITLES:
            raise ValueError(f"unknown diagnosis id {self.id!r}")

    @property
    def title(self) -> str:
        return TITLES[self.id]

    def to_dict(self) -> dict[str, object]:
        return {"title": self.title, **asdict(self)}

    def line(self) -> str:
        """One line: severity, title, what was seen and the fix with its config key."""
        return f"[{self.severity}] {self.title}: {self.seen} Try: {self.fix} ({self.key})"


def rank(diagnoses: Iterable[Diagnosis]) -> list[Diagnosis]:
    """Most severe first; at equal severity, causes (settings) before symptoms, then the order of ``TITLES``."""
    order = list(TITLES)
    return sorted(diagnoses, key=lambda d: (SEVERITIES.index(d.severity), not d.cause, order.index(d.id)))
