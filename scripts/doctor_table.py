"""Train the doctor's made-to-fail runs (and a default run), run ``ganforge doctor`` on each and print the table.

    python scripts/doctor_table.py [--out DIR] [--default-steps 5000] [--train-only] [--only NAME,...]

Each run is trained with the ``ganforge`` command into ``DIR/NAME`` (skipped when it is there already), then
examined with ``ganforge.doctor.examine``. Prints a Markdown table: the run, its command, what the doctor
names first (and the whole ranked list of ids), what the training warnings said, and whether that is the
expected problem. Took about 70 minutes on one busy CPU thread with --default-steps 2500 (the default run is
the longest).
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import time
from pathlib import Path

# (name, ganforge train arguments, the diagnosis expected first; None = no warning)
CASES: list[tuple[str, list[str], str | None]] = [
    ("default", [], None),
    ("d-lr-20x", ["--set", "optim.d_lr=0.004", "--steps", "1500"], "d_overpowers"),
    ("d-8x-wider", ["--set", "model.g_width=16", "--set", "model.d_width=128", "--steps", "1500"], "d_overpowers"),
    ("lr-1e-1", ["--set", "optim.g_lr=0.1", "--set", "optim.d_lr=0.1", "--steps", "500"], "lr_range"),
    ("one-image", ["--data", "folder:{one}", "--steps", "500"], "mode_collapse"),
    ("minimax-wide-d", ["--set", "loss.variant=minimax", "--set", "model.g_width=16", "--set", "model.d_width=128",
                        "--steps", "600"], "vanishing_gradients"),
    ("ema-lag", ["--set", "train.ema_decay=0.9999", "--set", "train.ema_warmup=false", "--steps", "600"], "ema_lag"),
    ("batch-2", ["--set", "data.batch_size=2", "--steps", "500"], "lr_batch"),
    ("oscillation", ["--set", "optim.g_lr=0.002", "--set", "optim.d_lr=0.002", "--set", "optim.g_betas=[0.9,0.999]",
                     "--set", "optim.d_betas=[0.9,0.999]", "--steps", "600"], "oscillation"),
]


def one_image_folder(root: Path) -> Path:
    """A folder holding one digit (the first of the embedded digits) as a PNG."""
    folder = root / "one-image-data"
    if not (folder / "digit.png").is_file():
        from ganforge.data import build_dataset
        from ganforge.viz import to_pil

        folder.mkdir(parents=True, exist_ok=True)
        to_pil(build_dataset("digits")[0][0]).save(folder / "digit.png")
    return folder


def train(out: Path, name: str, args: list[str], default_steps: int) -> tuple[list[str], float]:
    """Train one case (unless its folder holds a run already); the command and its wall time in seconds."""
    if name == "default":
        args = ["--steps", str(default_steps)]
    args = [a.format(one=one_image_folder(out)) for a in args]
    command = ["ganforge", "train", "dcgan", *args, "--out", str(out / name), "--quiet"]  # the plain DCGAN
    timing = out / f"{name}.seconds"
    if (out / name / "config.yaml").is_file():
        return command, float(timing.read_text()) if timing.is_file() else float("nan")
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    (out / f"{name}.train.log").write_text(result.stdout + result.stderr)
    if result.returncode not in (0, 2):  # 2: a user error such as a NaN stop, which the doctor should explain
        sys.exit(f"{name}: training failed: {result.stderr.strip().splitlines()[-1:]}")
    seconds = time.perf_counter() - start
    timing.write_text(f"{seconds:.1f}")
    return command, seconds


def training_warnings(run: Path) -> str:
    """The diagnoses the training warnings name for this run: the callback replayed on its metrics.jsonl
    (it sees nothing else while training, so this is what it printed)."""
    import yaml

    from ganforge.doctor import DoctorWarnings
    from ganforge.training.callbacks import read_metrics

    said: list[str] = []
    callback = DoctorWarnings(yaml.safe_load((run / "config.yaml").read_text()), None, echo=said.append)
    trainer = type("Replay", (), {"step": 0})()
    callback.on_train_start(trainer)
    first = dict(callback.warned)
    for record in read_metrics(run / "metrics.jsonl"):
        trainer.step = int(record.get("step", 0))
        callback.on_log(trainer, record)
        first = {**callback.warned, **first}
    return ", ".join(f"{k} (from step {v})" for k, v in first.items()) or "none"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/doctor-table"))
    parser.add_argument("--default-steps", type=int, default=5000)
    parser.add_argument("--train-only", action="store_true")
    parser.add_argument("--only", default="", help="comma list of case names")
    parser.add_argument("--n", type=int, default=256, help="samples per sample check")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    wanted = set(filter(None, args.only.split(",")))
    rows = ["| run | command | doctor names first | all findings | warned while training | expected first | train s |",
            "|---|---|---|---|---|---|---|"]
    for name, train_args, expected in CASES:
        if wanted and name not in wanted:
            continue
        command, seconds = train(args.out, name, train_args, args.default_steps)
        print(f"{name}: trained ({seconds:.0f} s)", file=sys.stderr)
        if args.train_only:
            continue
        from ganforge.doctor import examine

        report = examine(args.out / name, n=args.n)
        ids = [d.id for d in report.diagnoses]
        first = ids[0] if ids else None
        ok = "yes" if first == expected else "no"
        shown = " ".join(c if " " not in c else f'"{c}"' for c in command).replace(str(args.out) + "/", "")
        rows.append(f"| {name} | `{shown}` | {first or 'no problems found'} | {', '.join(ids) or '-'} | "
                    f"{training_warnings(args.out / name)} | {expected or 'none'} ({ok}) | "
                    f"{'-' if math.isnan(seconds) else f'{seconds:.0f}'} |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
