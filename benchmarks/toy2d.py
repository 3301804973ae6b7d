"""Plain GAN vs PacGAN packing on the toy 2D mixtures: modes covered and high-quality share, 3 seeds.

    python benchmarks/toy2d.py --preset toy-grid --seeds 0 1 2 --packs 1 2
    python benchmarks/toy2d.py --quick          # a tiny run of each setting (used by the test suite)

Each run is ``ganforge train PRESET --set model.pack=K --seed S`` in this process, timed by wall clock,
then evaluated on 2,500 samples (the toy2d protocol: docs/toy2d.md). Packing keeps the batch of
samples the same, so D sees ``batch / K`` packed inputs per step; runs get the same number of steps.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from ganforge import load_config, train
from ganforge.families.base import EvalRequest
from ganforge.run_folder import RunFolder
from ganforge.runs import load_run


def one_run(preset: str, pack: int, seed: int, steps: int | None, out: Path) -> dict[str, float]:
    overrides = [f"model.pack={pack}", f"train.seed={seed}"]
    if steps is not None:
        overrides.append(f"train.steps={steps}")
    config = load_config(preset, overrides=overrides)
    start = time.perf_counter()
    run = train(config, out=out, progress=False)
    seconds = time.perf_counter() - start
    loaded = load_run(run)
    gan = loaded.family.evaluate(RunFolder(run), loaded.model, EvalRequest())["gan"]
    return {"modes": gan["modes_covered"], "total": gan["modes_total"], "hq": gan["high_quality"], "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="toy-grid")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--packs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--steps", type=int, default=None, help="train.steps (default: the preset's)")
    parser.add_argument("--quick", action="store_true", help="20 steps, one seed")
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.steps = [0], 20
    root = Path(tempfile.mkdtemp(prefix="toy2d-bench-"))
    print(f"| {args.preset} | pack | seed | modes covered | high-quality share | wall s |")
    print("|---|---|---|---|---|---|")
    for pack in args.packs:
        rows = []
        for seed in args.seeds:
            r = one_run(args.preset, pack, seed, args.steps, root / f"pack{pack}-seed{seed}")
            rows.append(r)
            cells = f"{r['modes']} / {r['total']} | {r['hq']:.3f} | {r['seconds']:.0f}"
            print(f"| | {pack} | {seed} | {cells} |", flush=True)
        modes = statistics.mean(r["modes"] for r in rows)
        hq = statistics.mean(r["hq"] for r in rows)
        secs = statistics.mean(r["seconds"] for r in rows)
        print(f"| | {pack} | mean | {modes:.1f} / {rows[0]['total']} | {hq:.3f} | {secs:.0f} |", flush=True)


if __name__ == "__main__":
    main()
