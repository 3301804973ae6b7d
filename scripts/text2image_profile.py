"""Where the time of one text2image training step goes: a torch.profiler table and the mean step time.

    OMP_NUM_THREADS=1 python scripts/text2image_profile.py [--steps 30] [--set model.g_width=16 ...]

Builds the preset's data, recipe and batches as ``ganforge train`` does, runs a few warm-up steps, then
times ``--steps`` steps (wall clock) and prints the profiler's top operators by self CPU time.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch.profiler import ProfilerActivity, profile, record_function

from ganforge import families


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="text2image-shapes")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--set", action="append", default=[], help="dotted config override")
    parser.add_argument("--rows", type=int, default=25)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    config = families.load_config(args.preset, overrides=args.set)
    family = families.family_of(config)
    data = family.build_data(config)
    config = family.fit_config(config, data)
    device = torch.device("cpu")
    recipe = family.build_recipe(config, data, device)
    batch_size = config.data.batch_size

    def batch() -> tuple[torch.Tensor, ...]:
        index = torch.randint(0, len(data), (batch_size,)).tolist()
        return data.__getitems__(index)

    for _ in range(5):
        recipe.train_step([batch()])
    batches = [batch() for _ in range(args.steps)]
    start = time.perf_counter()
    for b in batches:
        recipe.train_step([b])
    seconds = (time.perf_counter() - start) / args.steps
    print(f"{seconds * 1000:.1f} ms/step ({batch_size / seconds:.0f} images/s), {args.steps} steps, 1 thread")
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for b in batches[:10]:
            with record_function("train_step"):
                recipe.train_step([b])
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=args.rows))


if __name__ == "__main__":
    main()
