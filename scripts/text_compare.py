"""Train and compare text models the same way: MLE vs SeqGAN vs the Gumbel-softmax GAN.

  python scripts/text_compare.py oracle  --out runs/text-oracle  --seeds 0 1 2
  python scripts/text_compare.py fortunes --out runs/text-fortunes --seeds 0

``oracle``: the CPU-sized SeqGAN benchmark (data.name=oracle, a 500-token, length-20 oracle), every
method 1,000 generator steps in all (the GANs: 900 MLE steps, then 100 adversarial ones, so each GAN
starts from the MLE run's step-900 state, which ``--methods mle-start`` measures). ``fortunes``: the
presets as they are. Runs that already exist are evaluated, not retrained. Writes ``results.json``, a
markdown table (``table.md``) and the quality-diversity curves of the first seed (``curves.png``) into
``--out``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

METHODS = {"mle": "text-mle", "seqgan": "text-seqgan", "gumbel": "text-gumbel", "mle-start": "text-mle"}
ORACLE = ["data.name=oracle", "model.embed_dim=32", "model.hidden_dim=64", "train.steps=1000",
          "train.log_every=50", "train.sample_every=500", "train.checkpoint_every=500", "gan.pretrain_steps=900"]


def run_one(kind: str, method: str, seed: int, out: Path) -> dict:
    from ganforge.families import load_config
    from ganforge.families.base import EvalRequest
    from ganforge.run_folder import RunFolder
    from ganforge.runs import load_run, train

    run = out / f"{method}-seed{seed}"
    seconds = None
    if not (run / "checkpoints" / "last.pt").is_file():
        overrides = [f"train.seed={seed}", "train.device=cpu"] + (ORACLE if kind == "oracle" else [])
        if method == "mle-start":  # the state the GANs start from: the MLE run stopped after the pre-training
            steps = load_config(METHODS["seqgan"], overrides=overrides).gan.pretrain_steps
            overrides.append(f"train.steps={steps}")
        start = time.perf_counter()
        train(load_config(METHODS[method], overrides=overrides), run, progress=False)
        seconds = time.perf_counter() - start
    loaded = load_run(run)
    results = loaded.family.evaluate(RunFolder(run), loaded.model, EvalRequest(seed=seed))
    results["train_seconds"] = seconds
    print(f"{method} seed {seed}: " + json.dumps({k: v for k, v in results.items() if isinstance(v, float)}),
          flush=True)
    return results


def table(kind: str, results: dict[str, dict[int, dict]]) -> str:
    keys = ["oracle_nll", "nll_test"] if kind == "oracle" else ["bleu2", "bleu4", "self_bleu4", "nll_test"]
    lines = ["| model | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for method, by_seed in results.items():
        cells = []
        for key in keys:
            values = [r[key] for r in by_seed.values()]
            spread = f" ± {statistics.stdev(values):.3f}" if len(values) > 1 else ""
            cells.append(f"{statistics.mean(values):.3f}{spread}")
        lines.append(f"| {method} ({len(by_seed)} seed{'s' if len(by_seed) > 1 else ''}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=["oracle", "fortunes"])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--methods", nargs="+", default=["mle", "seqgan", "gumbel"], choices=list(METHODS),
                        help="mle-start: the MLE run stopped where the GANs start their adversarial steps")
    args = parser.parse_args()
    torch.set_num_threads(1)
    from ganforge.families.text.evaluation import plot_curves

    results: dict[str, dict[int, dict]] = {m: {} for m in args.methods}
    for seed in args.seeds:
        for method in args.methods:
            results[method][seed] = run_one(args.kind, method, seed, args.out)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    (args.out / "table.md").write_text(table(args.kind, results) + "\n")
    first = args.seeds[0]
    plot_curves({m: results[m][first]["temperature_sweep"] for m in args.methods}, args.out / "curves.png")
    print(table(args.kind, results))
    return None


if __name__ == "__main__":
    sys.exit(main())
