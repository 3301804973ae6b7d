"""The family registry: one object per kind of GAN, found by name, and config validation through it.

A new family is one folder under ``ganforge/families/`` whose ``__init__`` defines ``FAMILY`` (an
instance of ``ganforge.families.base.Family``), plus its line in ``FAMILY_MODULES`` below. Families are
imported on first use, so a family's heavy dependencies load only when one of its runs does.
"""

from __future__ import annotations

import importlib
from functools import cache
from pathlib import Path
from typing import Any

from ganforge.config import (
    DEFAULT_PRESET,
    load_yaml_file,
    merge,
    parse_overrides,
    preset_dict,
    validate_as,
)
from ganforge.errors import GanforgeError
from ganforge.families.base import Family
from ganforge.registry import unknown_name_message

# family name -> module under ganforge.families (one line per family)
FAMILY_MODULES: dict[str, str] = {
    "images": "images",
    "translation": "translation",
    "toy2d": "toy2d",
    "music": "music",
    "video": "video",
    "speech": "speech",
    "vocoder": "vocoder",
    "text2image": "text2image",
    "text": "text",
    "tabular": "tabular",
}


@cache
def get_family(name: str) -> Family:
    """The registered family ``name``; an unknown name raises GanforgeError listing the known ones."""
    if name not in FAMILY_MODULES:
        raise GanforgeError(unknown_name_message("family", name, list(FAMILY_MODULES)))
    module = importlib.import_module(f"ganforge.families.{FAMILY_MODULES[name]}")
    family: Family = module.FAMILY
    return family


def all_families() -> list[Family]:
    return [get_family(name) for name in FAMILY_MODULES]


def family_name_of(data: dict[str, Any]) -> str:
    """The family a config dict belongs to: its ``family`` key, else the family owning ``model.arch``,
    else the images family."""
    name = data.get("family")
    if name:
        return str(name)
    arch = (data.get("model") or {}).get("arch") if isinstance(data.get("model"), dict) else None
    if arch:
        for name in FAMILY_MODULES:  # in order, importing no more families than needed
            if arch in get_family(name).archs:
                return name
    return "images"


def validate(data: dict[str, Any]) -> Any:
    """A merged config dict validated as its family's config (unknown keys refused, one line each)."""
    if not isinstance(data, dict):
        raise GanforgeError("a config must be a mapping of sections (data:, model:, train:, ...)")
    family = get_family(family_name_of(data))
    return validate_as(family.config_class, {**data, "family": family.name})


def load_config(
    preset: str | None = DEFAULT_PRESET,
    config_file: str | Path | None = None,
    options: dict[str, Any] | None = None,
    overrides: list[str] | None = None,
) -> Any:
    """A validated config from a preset, an optional YAML file, option values and ``key=value`` pairs
    (later layers win); the family's defaults fill in every key none of them sets."""
    data: dict[str, Any] = {}
    if preset:
        data = merge(data, preset_dict(preset))
    layers = [load_yaml_file(config_file) if config_file else None, options,
              parse_overrides(overrides) if overrides else None]
    for layer in layers:
        if layer:
            data = merge(data, steps_win_over_minutes(layer))
    return validate(data)


def steps_win_over_minutes(layer: dict[str, Any]) -> dict[str, Any]:
    """A layer that sets ``train.steps`` but not ``train.minutes`` asks for that many steps: it also clears a
    wall-clock budget of the layers below it (a preset's ``minutes``), as ``--steps`` does."""
    train = layer.get("train")
    if isinstance(train, dict) and "steps" in train and "minutes" not in train:
        return {**layer, "train": {**train, "minutes": None}}
    return layer


def family_of(config: Any) -> Family:
    """The family of a validated config."""
    return get_family(config.family)
