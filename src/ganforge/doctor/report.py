"""The doctor's answer: ranked diagnoses and which checks ran, as short text or JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ganforge.doctor.diagnosis import Diagnosis, rank

RAN = "ran"
SHOWN = 3  # findings shown in full in the text; the rest are named (all of them are in the JSON)


@dataclass
class Report:
    """What the doctor found in a run. ``checks`` maps each check to ``"ran"`` or why it did not apply."""

    run: str
    family: str
    step: int | None
    checkpoint: str | None
    records: int
    diagnoses: list[Diagnosis] = field(default_factory=list)
    checks: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.diagnoses = rank(self.diagnoses)

    @property
    def healthy(self) -> bool:
        return not self.diagnoses

    def to_dict(self) -> dict[str, Any]:
        return {"run": self.run, "family": self.family, "step": self.step, "checkpoint": self.checkpoint,
                "records": self.records, "healthy": self.healthy,
                "diagnoses": [d.to_dict() for d in self.diagnoses], "checks": dict(self.checks)}

    def text(self) -> str:
        """A few lines: the run, each finding (most severe first) with its fix, and the checks that did not apply."""
        at = f", step {self.step}" if self.step is not None else ""
        lines = [f"doctor: {self.run} ({self.family}{at}, {self.records} log records)"]
        if self.healthy:
            lines.append("no problems found")
        for i, d in enumerate(self.diagnoses[:SHOWN], 1):
            lines.append(f"{i}. [{d.severity}] {d.title}: {d.seen}")
            lines.append(f"   try: {d.fix} ({d.key})")
        rest = self.diagnoses[SHOWN:]
        if rest:
            lines.append(f"also: {', '.join(f'{d.title} [{d.severity}]' for d in rest)} (--json for the details)")
        ran = [k for k, v in self.checks.items() if v == RAN]
        lines.append(f"checked: {', '.join(ran) or 'nothing'}")
        by_reason: dict[str, list[str]] = {}
        for name, reason in self.checks.items():
            if reason != RAN:
                by_reason.setdefault(reason, []).append(name)
        lines += [f"not checked: {', '.join(names)} ({reason})" for reason, names in by_reason.items()]
        return "\n".join(lines)
