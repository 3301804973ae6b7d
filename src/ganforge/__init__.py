"""ganforge: Generative Adversarial Networks that train. Correct, fast, measurable."""

__version__ = "0.1.0"

from ganforge.apps.export import load  # noqa: E402
from ganforge.config import Config, load_config  # noqa: E402
from ganforge.errors import GanforgeError  # noqa: E402
from ganforge.runs import generate, load_generator, resume, sample, train  # noqa: E402
from ganforge.viz import save_grid, save_images  # noqa: E402

__all__ = [
    "Config",
    "GanforgeError",
    "__version__",
    "generate",
    "load",
    "load_config",
    "load_generator",
    "resume",
    "sample",
    "save_grid",
    "save_images",
    "train",
]
