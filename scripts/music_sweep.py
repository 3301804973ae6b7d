"""Train the music-chorales preset (with overrides) and print the music metrics of the EMA generator at
several steps, against the held-out chorales and both baselines, as `ganforge eval` computes them.

    OMP_NUM_THREADS=1 python scripts/music_sweep.py --out /tmp/m --at 1200,2400 --eval-seeds 0,1 \
        --set train.steps=2400 optim.g_lr=5e-4

An exploration tool: the numbers in docs/music.md come from `ganforge train` and `ganforge eval`.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import torch

from ganforge.families import load_config
from ganforge.families.music.baselines import markov_rolls, random_rolls
from ganforge.families.music.generate import binarize, probabilities
from ganforge.families.music.metrics import METRICS, all_metrics
from ganforge.runs import train
from ganforge.training.trainer import Callback, Trainer


class MetricsAt(Callback):
    """At each step of ``at``: the metrics of ``n`` EMA samples per eval seed, and the count of metrics where
    the samples are closer to the held-out chorales than both baselines."""

    def __init__(self, at: list[int], seeds: list[int], n: int) -> None:
        self.at, self.seeds, self.n = set(at), seeds, n
        self.reference: dict[Any, dict[str, float]] = {}
        self.extra: tuple[Any, Any] = (None, None)  # the run's data and fitted config, set when training starts
        self.start = time.perf_counter()

    def prepare(self) -> None:
        data = self.extra[0]
        spb, lowest = data.grid.steps_per_bar, data.lowest
        self.reference = {"real": all_metrics(data.held_rolls, lowest, spb)}
        for seed in self.seeds:
            self.reference[("random", seed)] = all_metrics(random_rolls(data.train_rolls, self.n, seed), lowest, spb)
            self.reference[("markov", seed)] = all_metrics(markov_rolls(data.train_rolls, self.n, seed), lowest, spb)

    def on_step_end(self, trainer: Trainer) -> None:
        if trainer.step not in self.at:
            return
        if not self.reference:
            self.prepare()
        data, config = self.extra
        real = self.reference["real"]
        elapsed = time.perf_counter() - self.start
        for seed in self.seeds:
            probs = probabilities(trainer.recipe.sampler, self.n, seed, torch.device("cpu"))
            rolls = binarize(probs, config.model.binarize, config.model.threshold, bool(config.model.monophonic), seed)
            values = all_metrics(rolls, data.lowest, data.grid.steps_per_bar)
            wins = []
            for m in METRICS:
                gap = abs(values[m] - real[m])
                others = min(abs(self.reference[(b, seed)][m] - real[m]) for b in ("random", "markov"))
                if gap < others:
                    wins.append(m)
            cells = " ".join(f"{m[:6]}={values[m]:.3f}({abs(values[m] - real[m]):.3f})" for m in METRICS)
            print(f"step {trainer.step} seed {seed} [{elapsed:.0f}s] wins {len(wins)}: {cells} | {','.join(wins)}",
                  flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--at", default="1200")
    parser.add_argument("--eval-seeds", default="0")
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", nargs="*", default=[])
    args = parser.parse_args()
    torch.set_num_threads(1)
    config = load_config("music-chorales", None, None, [*args.set, f"train.seed={args.seed}"])
    callback = MetricsAt([int(s) for s in args.at.split(",")], [int(s) for s in args.eval_seeds.split(",")], args.n)
    from ganforge.families.music import family as music_family

    original = music_family.MusicFamily.callbacks

    def callbacks(self: Any, context: Any) -> list[Any]:  # hand the data and fitted config to the callback
        callback.extra = (context.data, context.config)
        return original(self, context)

    music_family.MusicFamily.callbacks = callbacks
    train(config, args.out, progress=False, callbacks=[callback])
    print(f"done in {time.perf_counter() - callback.start:.0f}s")


if __name__ == "__main__":
    main()
