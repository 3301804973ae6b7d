"""Train the video-moving-digits preset, evaluate it, and print the docs/video.md table (markdown).

    python benchmarks/video_quality.py --out runs/video-bench [--steps N] [--threads 2] [--n 500]

Prints the wall-clock and CPU time of training, then one row per clip set: the run, and the references
(real clips, the same clips shuffled in time, their first frame held still), each with the eval protocol.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import torch

from ganforge.families import load_config
from ganforge.families.base import EvalRequest
from ganforge.runs import load_run, train

COLUMNS = ("fvd", "frame_fid", "temporal_consistency", "motion_smoothness", "confidence", "jerk_median",
           "speed_median")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def markdown(results: dict) -> str:
    rows = {"run": results["run"], **results.get("references", {})}
    lines = ["| clips | " + " | ".join(COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    for name, row in rows.items():
        lines.append(f"| {name} | " + " | ".join(f"{row[k]:.3g}" if k in row else "-" for k in COLUMNS) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=None, help="default: the preset's")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--n", type=int, default=500, help="clips per evaluation")
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="KEY=VALUE overrides")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = load_config("video-moving-digits", overrides=["train.device=cpu", *args.overrides])
    start, cpu = time.perf_counter(), cpu_seconds()
    if not (args.out / "checkpoints" / "last.pt").exists():
        train(config, args.out, steps=args.steps, progress=False)
    wall, used = time.perf_counter() - start, cpu_seconds() - cpu
    run = load_run(args.out)
    results = run.family.evaluate(args.out, run.model, EvalRequest(n=args.n, seed=0))
    print(f"trained {run.step} steps in {wall:.0f} s wall, {used:.0f} s CPU ({args.threads} thread(s))")
    print(markdown(results))
    print(json.dumps(results["protocol"], indent=1))


if __name__ == "__main__":
    main()
