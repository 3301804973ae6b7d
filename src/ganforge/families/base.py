"""What a kind of GAN provides: the ``Family`` base class and the small records it exchanges.

A family owns everything that differs between kinds of GAN (noise-to-image, image-to-image, toy 2D,
music, speech, text, text-to-image, video, tables): its config section, its data kinds, its recipe and
preview, loading a trained run, sampling, writing samples, evaluation, export and what it serves. The
CLI, ``runs``, ``serve`` and the apps call these methods and never test a family's name.

A family's methods are called in this order:

training   ``build_data`` -> ``fit_config`` -> ``build_recipe`` -> ``build_stream`` -> ``callbacks``
           (the Trainer, checkpoints and run folder are shared: see ``ganforge.runs``)
using      ``load`` (a run folder -> an inference model) -> ``sample`` -> ``write``
           ``evaluate`` -> ``report``; ``export``; ``routes`` (``ganforge serve``); ``describe``
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

import torch
from pydantic import BaseModel

from ganforge.config import RunConfig
from ganforge.errors import GanforgeError
from ganforge.parallel import World
from ganforge.run_folder import RunFolder
from ganforge.training.trainer import Callback

# SampleRequest fields that condition a sample, with the CLI option that sets each.
CONDITION_OPTIONS = {
    "class_index": "--class",
    "prompt": "--prompt",
    "prompts": "--prompt-file",
    "input": "--input",
    "direction": "--direction",
    "where": "--where",
    "temperature": "--temperature",
}


@dataclass(frozen=True)
class SampleRequest:
    """What ``ganforge sample`` (and the Python ``sample``) asks of a family: ``n`` outputs for ``seed``,
    optionally conditioned. A family refuses conditions it does not take (``Family.sample_options``)."""

    n: int = 1
    seed: int = 0
    class_index: int | None = None
    prompt: str | None = None
    prompts: tuple[str, ...] | None = None
    input: Path | None = None
    direction: str | None = None
    where: tuple[tuple[str, str], ...] = ()
    temperature: float | None = None

    def conditions(self) -> list[str]:
        """The condition fields that were set (not at their defaults)."""
        defaults = {f.name: f.default for f in fields(self)}
        return [name for name in CONDITION_OPTIONS if getattr(self, name) != defaults[name]]


@dataclass(frozen=True)
class EvalRequest:
    """What ``ganforge eval`` asks of a family. ``n`` None: the family's default sample count; ``metrics``
    None: its default metrics. ``extractor`` and ``weights`` name a feature network where the family has a
    choice of them."""

    n: int | None = None
    seed: int = 0
    against: str | None = None
    metrics: str | None = None
    extractor: str = "auto"
    weights: str | None = None
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))


@dataclass(frozen=True)
class Reply:
    """One answer of a served route: bytes and their media type (e.g. ``image/png``, ``audio/wav``)."""

    body: bytes
    media_type: str


@dataclass(frozen=True)
class Upload:
    """A file posted to an upload route, with the form's other fields as strings."""

    data: bytes
    content_type: str | None
    form: dict[str, str]


@dataclass(frozen=True)
class Route:
    """A ``POST /NAME`` endpoint a family offers to ``ganforge serve``.

    JSON routes have a ``request`` model (pydantic, unknown fields refused) and ``handler(model, request)``;
    upload routes (``upload=True``) take a multipart ``file`` (types in ``accepts``) plus the ``form`` fields
    and call ``handler(model, Upload)``. ``output`` says what the web page does with the answer: ``image``,
    ``audio``, ``json``, ``table`` or ``download``. The handler raises GanforgeError for a bad request
    (answered 400)."""

    name: str
    handler: Callable[[Any, Any], Reply]
    request: type[BaseModel] | None = None
    upload: bool = False
    accepts: tuple[str, ...] = ()
    form: tuple[str, ...] = ()
    output: str = "image"
    label: str = ""

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {"name": self.name, "label": self.label or self.name.capitalize(),
                                "output": self.output, "upload": self.upload}
        if self.request is not None:
            info["schema"] = self.request.model_json_schema(by_alias=True)
        if self.upload:
            info["accepts"] = list(self.accepts)
            info["form"] = list(self.form)
        return info


@dataclass
class TrainingContext:
    """What a family's ``callbacks`` may use: the run's files, the recipe, the data and the device."""

    config: RunConfig
    recipe: Any
    data: Any
    run: RunFolder
    device: torch.device
    world: World
    metrics_log: Any  # the MetricsLog callback (None on processes other than rank 0)
    writes: bool  # False on processes other than rank 0: they write no files


class Family:
    """Base class of every kind of GAN. Subclasses set the class attributes and override the methods;
    the defaults below refuse with a clear message what the family does not offer."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    config_class: ClassVar[type[RunConfig]] = RunConfig
    archs: ClassVar[tuple[str, ...]] = ()  # model.arch values that belong to this family
    sample_options: ClassVar[frozenset[str]] = frozenset()  # CONDITION_OPTIONS keys it takes
    output_suffixes: ClassVar[tuple[str, ...]] = ()  # what `sample --out` accepts, "/" meaning a folder
    export_formats: ClassVar[tuple[str, ...]] = ()
    supports_ddp: ClassVar[bool] = False
    default_eval_n: ClassVar[int] = 1000

    # --- what `ganforge list` shows ----------------------------------------------------------------

    def data_kinds(self) -> dict[str, str]:
        """Data set names (and ``KIND:PATH`` forms) -> one-line descriptions."""
        return {}

    def model_kinds(self) -> dict[str, str]:
        """``model.arch`` values -> one-line descriptions."""
        return {}

    def metric_kinds(self) -> dict[str, str]:
        """Metric names of ``ganforge eval`` -> one-line descriptions."""
        return {}

    # --- training ----------------------------------------------------------------------------------

    def build_data(self, config: RunConfig) -> Any:
        """The training data the config names; a GanforgeError naming the problem when unusable."""
        raise NotImplementedError

    def fit_config(self, config: RunConfig, data: Any) -> RunConfig:
        """The config with what the data decides filled in (channels, classes, vocabulary size, ...).
        Use ``config.model_copy(update=...)`` on the sections and re-validate with ``revalidate``."""
        return config

    def build_recipe(self, config: RunConfig, data: Any, device: torch.device) -> Any:
        """Networks, losses and optimizers: an object with ``batches_per_step``, ``train_step(batches)``
        (returning a dict of device scalars), ``state_dict`` and ``load_state_dict``."""
        raise NotImplementedError

    def build_stream(self, config: RunConfig, data: Any, device: torch.device, world: World) -> Any:
        """The endless, exactly resumable batch stream (``ganforge.data.stream.BatchStream`` or alike)."""
        raise NotImplementedError

    def callbacks(self, context: TrainingContext) -> list[Callback]:
        """The preview written during training (and in-training evaluation, if any)."""
        return []

    def checkpoint_info(self, config: RunConfig, data: Any) -> dict[str, Any]:
        """Extra plain values stored in every checkpoint (e.g. the image shape) that ``load`` needs."""
        return {}

    # --- using a trained run -------------------------------------------------------------------------

    def load(self, run: RunFolder, config: RunConfig, state: dict[str, Any], device: torch.device,
             ema: bool = True) -> Any:
        """An inference model from a run's config and checkpoint state (weights_only-loaded)."""
        raise NotImplementedError

    def sample(self, model: Any, request: SampleRequest) -> Any:
        """``request.n`` outputs for ``request.seed`` (same seed, same outputs)."""
        raise NotImplementedError

    def write(self, samples: Any, out: Path) -> str:
        """Write samples by the suffix of ``out`` (a folder when it has none); return a one-line summary."""
        raise NotImplementedError

    def evaluate(self, run: RunFolder, model: Any, request: EvalRequest) -> dict[str, Any]:
        """Metrics with their protocol (a ``protocol`` key), JSON-serializable."""
        raise GanforgeError(f"`ganforge eval` is not available for {self.name} runs yet")

    def report(self, results: dict[str, Any]) -> str:
        """Results as lines for a terminal."""
        return "\n".join(f"{k:<24} {v}" for k, v in results.items() if k != "protocol")

    def export(self, model: Any, fmt: str, out: Path) -> dict[str, Any]:
        """Write the model in ``fmt`` (one of ``export_formats``); return a summary with written paths."""
        raise GanforgeError(f"{self.name} runs cannot be exported yet")

    def routes(self) -> Sequence[Route]:
        """The POST endpoints ``ganforge serve`` offers for this family's models."""
        return ()

    def describe(self, model: Any) -> dict[str, Any]:
        """Facts about a loaded model for ``GET /models`` (shapes, classes, vocabulary, ...)."""
        return {}

    # --- shared checks -------------------------------------------------------------------------------

    def check_conditions(self, request: SampleRequest) -> None:
        """Refuse conditions this family does not take, naming the option."""
        for name in request.conditions():
            if name not in self.sample_options:
                raise GanforgeError(f"{CONDITION_OPTIONS[name]} does not apply to {self.name} runs "
                                    f"({self.description})")

    def check_suffix(self, out: Path) -> str:
        """The output kind of ``out``: its lower-case suffix, or "/" for a folder; refused when unsupported."""
        kind = out.suffix.lower() or "/"
        if kind not in self.output_suffixes:
            shown = ", ".join("a folder (DIR/)" if s == "/" else s for s in self.output_suffixes)
            raise GanforgeError(f"{self.name} runs write {shown}; got --out {out}")
        return kind
