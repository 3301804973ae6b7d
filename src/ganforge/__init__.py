"""ganforge: Generative Adversarial Networks that train. Correct, fast, measurable."""

from ganforge.config import Config
from ganforge.errors import GanforgeError
from ganforge.families import load_config
from ganforge.families.images.api import load_generator
from ganforge.families.images.export import load
from ganforge.families.images.generate import generate
from ganforge.runs import load_run, resume, sample, train
from ganforge.version import __version__
from ganforge.viz import save_grid, save_images

__all__ = [
    "Config",
    "GanforgeError",
    "__version__",
    "generate",
    "load",
    "load_config",
    "load_generator",
    "load_run",
    "resume",
    "sample",
    "save_grid",
    "save_images",
    "train",
]
