"""Synthetic labeled data sets from a conditional run: class folders that torchvision's ImageFolder reads.

Layout::

    OUT/
      manifest.json        source run, generator (EMA or raw), seed, per-class counts, image shape
      0/000000.png ...     one folder per class, named like the training data's classes
      1/...

Every class draws its noise from its own seed (``seed + class index``), so asking for more images per
class later gives a superset of the same images.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ganforge.errors import GanforgeError
from ganforge.families.images.api import load_image_model
from ganforge.families.images.generate import generate
from ganforge.version import __version__
from ganforge.viz import save_images


def export_synthetic_dataset(
    run_dir: str | Path,
    out: str | Path,
    per_class: int,
    seed: int = 0,
    ema: bool = True,
    device: str = "cpu",
    class_names: list[str] | None = None,
) -> dict[str, Any]:
    """Write ``per_class`` generated images of every class of a conditional run into ``out``.

    Returns the manifest (also written to ``out/manifest.json``). ``out`` must be empty or absent.
    """
    if per_class <= 0:
        raise GanforgeError(f"--per-class must be positive, got {per_class}")
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise GanforgeError(f"{out} is not empty; choose a new --out folder (nothing is overwritten)")
    model = load_image_model(run_dir, ema, device)
    generator = model.generator
    num_classes = getattr(generator, "num_classes", 0)
    if not num_classes:
        raise GanforgeError(
            f"{run_dir} is an unconditional run: a labeled data set needs a conditional one "
            "(e.g. `ganforge train cond-dcgan`)"
        )
    names = class_names or [str(k) for k in range(num_classes)]
    if len(names) != num_classes:
        raise GanforgeError(f"{len(names)} class names given for {num_classes} classes")
    counts = {}
    for index, name in enumerate(names):
        images = generate(generator, per_class, seed + index, class_index=index)
        save_images(images, out / name, prefix=name)
        counts[name] = per_class
    manifest = {
        "source_run": str(Path(run_dir).resolve()),
        "generator": "ema" if ema else "raw",
        "seed": seed,
        "seeds": "seed + class index",
        "per_class": per_class,
        "counts": counts,
        "total": per_class * num_classes,
        "image_shape": list(generator.image_shape),
        "data": model.data_name,
        "ganforge": __version__,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest
