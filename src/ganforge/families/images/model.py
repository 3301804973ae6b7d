"""A trained noise-to-image run, loaded for inference."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn


@dataclass
class ImageModel:
    """The generator of a run (EMA copy by default) with what export and serving need to know."""

    generator: nn.Module
    model_config: Any
    data_name: str
    source: Path
    ema: bool = True
