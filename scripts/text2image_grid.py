"""The docs grid of docs/text2image.md: one row per prompt, eight pictures each (seeds fixed).

    OMP_NUM_THREADS=1 python scripts/text2image_grid.py RUN_DIR docs/images/text2image-grid.png
"""

from __future__ import annotations

import sys

from ganforge.families.text2image.model import generate
from ganforge.runs import load_run
from ganforge.viz import save_grid

PROMPTS = (
    "a large red circle on the left",
    "a small blue square at the top right",
    "a green triangle at the bottom",
    "a large white cross in the center",
    "a purple circle in the lower left",
    "a big yellow square on the right",
    "a large yellow circle at the top",  # held out: yellow circle
    "a small blue cross on the left",  # held out: blue cross
)
COLUMNS = 8


def main() -> None:
    run_dir, out = sys.argv[1], sys.argv[2]
    loaded = load_run(run_dir)
    rows = [p for p in PROMPTS for _ in range(COLUMNS)]
    images = generate(loaded.model, rows, seed=7).images
    save_grid(images, out, COLUMNS)
    print(f"wrote {out} (step {loaded.step}); rows:")
    for i, prompt in enumerate(PROMPTS, 1):
        print(f"{i}. {prompt}")


if __name__ == "__main__":
    main()
