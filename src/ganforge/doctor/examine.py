"""``examine(run)``: every check the doctor has, on one run folder (any family; sample checks for images)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ganforge.doctor.curves import CURVE_CHECKS, MIN_RECORDS, diverged
from ganforge.doctor.diagnosis import Diagnosis
from ganforge.doctor.report import RAN, Report
from ganforge.doctor.samples import ema_lag, measure, mode_collapse
from ganforge.doctor.settings import SETTING_CHECKS, ema_settings
from ganforge.doctor.signals import RunSignals, read_run
from ganforge.errors import GanforgeError
from ganforge.run_folder import RunFolder

MIN_SAMPLE_STEPS = 200  # before this, samples are still noise: judging their diversity says nothing
DEFAULT_N = 256


def curve_diagnoses(signals: RunSignals, checks: dict[str, str]) -> list[Diagnosis]:
    """The loss-curve checks (and how the run stopped), noting in ``checks`` which could run."""
    found = []
    stopped = diverged(signals)
    checks["diverged"] = RAN
    if stopped:
        found.append(stopped)
    for name, check in CURVE_CHECKS.items():
        if len(signals.curves) < MIN_RECORDS:
            checks[name] = f"needs {MIN_RECORDS} log records with d_loss and g_loss, the run has {len(signals.curves)}"
            continue
        result = check(signals.curves, signals.settings)
        checks[name] = RAN if result is not None or _has_signal(name, signals) else _missing_signal(name)
        if result is not None:
            found.append(result)
    return found


def _has_signal(name: str, signals: RunSignals) -> bool:
    needs = {"d_overpowers": ("d_real", "d_fake"), "vanishing_gradients": ("g_grad_norm",)}.get(name, ())
    return all(signals.curves.get(k) is not None for k in needs) and not (
        name == "d_overpowers" and signals.settings.loss in ("wgan", "wgan-gp"))


def _missing_signal(name: str) -> str:
    return {"d_overpowers": "needs d_real/d_fake logits of a bce, lsgan or hinge loss",
            "vanishing_gradients": "needs g_grad_norm in metrics.jsonl (logged since this check exists; "
                                   "not under fp16)"}.get(name, "signal missing")


def sample_diagnoses(signals: RunSignals, checkpoint: str, n: int, checks: dict[str, str]
                     ) -> tuple[list[Diagnosis], int | None]:
    """Mode collapse and EMA lag from samples of an image run's checkpoint; the checkpoint's step."""
    from ganforge.families.images.model import ImageModel
    from ganforge.runs import load_run

    names = ("mode_collapse", "ema_lag")
    if not RunFolder(signals.root).checkpoint_file(checkpoint).is_file():  # a missing best.pt is an error
        checks.update({k: f"no checkpoints/{checkpoint}.pt (the run stopped before its first checkpoint)"
                       for k in names})
        return [], None
    loaded = load_run(signals.root, "cpu", True, checkpoint)
    if not isinstance(loaded.model, ImageModel):
        checks.update({k: f"sample checks apply to image runs, this is a {loaded.family.name} run" for k in names})
        return [], loaded.step
    if loaded.step < MIN_SAMPLE_STEPS:
        checks.update({k: f"too early to judge samples (step {loaded.step} < {MIN_SAMPLE_STEPS})" for k in names})
        return [], loaded.step
    data: Any = None
    try:
        data = loaded.family.build_data(loaded.config)
    except GanforgeError as exc:
        checks["real data"] = f"not loaded ({exc}); comparisons with it skipped"
    has_ema = float(signals.settings.get("train.ema_decay", 0) or 0) > 0
    raw = load_run(signals.root, "cpu", False, checkpoint).model.generator if has_ema else None
    generator = loaded.model.generator
    grid = (int(signals.settings.get("train.grid_size", 64)), getattr(generator, "num_classes", 0) or None)
    stats = measure(generator, raw, data, loaded.model.data_name, n, signals.root / "samples", grid)
    checks["mode_collapse"] = RAN
    checks["ema_lag"] = RAN if stats.fd_ema is not None else "needs an EMA generator and 16 or more real images"
    decay = signals.settings.get("train.ema_decay")
    found = [d for d in (mode_collapse(stats), ema_lag(stats, decay)) if d is not None]
    return found, loaded.step


def examine(run_dir: str | Path, checkpoint: str = "last", n: int = DEFAULT_N, samples: bool = True) -> Report:
    """Run every check that applies to the run and return the ranked report."""
    if n < 16:
        raise GanforgeError(f"--n must be 16 or more samples to judge diversity, got {n}")
    signals = read_run(run_dir)
    checks: dict[str, str] = {}
    found = curve_diagnoses(signals, checks)
    for name, check in SETTING_CHECKS.items():
        result = check(signals.settings)
        checks[name] = RAN
        if result is not None:
            found.append(result)
    step = None
    if samples:
        measured, step = sample_diagnoses(signals, checkpoint, n, checks)
        found += measured
    steps_done = step if step is not None else (signals.curves.steps[-1] if len(signals.curves) else None)
    predicted = ema_settings(signals.settings, steps_done)
    if predicted is not None:
        same = [d for d in found if d.id == "ema_lag"]
        found = [d for d in found if d.id != "ema_lag"]
        seen = " ".join([*(d.seen for d in same), predicted.seen])
        found.append(Diagnosis("ema_lag", predicted.severity, seen, predicted.fix, predicted.key, predicted.step,
                               cause=True))
    checks.setdefault("ema_lag", RAN)
    path = f"checkpoints/{checkpoint}.pt" if step is not None else None
    return Report(str(signals.root), signals.family, steps_done, path, len(signals.curves), found, checks)
