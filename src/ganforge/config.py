"""Typed run configuration: defaults, presets (YAML), config files and dotted overrides.

Layers are merged in this order, later ones winning: the defaults below, a preset, a YAML file,
command-line options, then ``--set key=value`` overrides. The result is validated once; unknown
keys and wrong types are reported with the dotted key that is wrong.
"""

from __future__ import annotations

import copy
import difflib
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError

from ganforge.errors import GanforgeError
from ganforge.registry import unknown_name_message
from ganforge.schema import StrictModel

LOSS_NAMES = ("bce", "lsgan", "wgan", "wgan-gp", "hinge")
BCE_VARIANTS = ("non-saturating", "minimax", "mse")


class DataConfig(StrictModel):
    """Which data to train on and how to batch it (every family)."""

    name: str = Field("digits", description="data set name (see `ganforge list`) or KIND:PATH")
    batch_size: int = Field(64, gt=0)
    num_workers: int = Field(0, ge=0, description="DataLoader worker processes")
    root: str | None = Field(None, description="where downloadable data sets live")


class ImageDataConfig(DataConfig):
    """Images: size, channels and augmentation on top of the common data settings."""

    size: int | None = Field(None, gt=0, description="square image size; None keeps the data's own size")
    channels: Literal[1, 3] | None = Field(None, description="1 or 3; None keeps the data's own")
    augment: list[str] = Field(default_factory=list, description="classic augmentation: flip, rotate, ...")


class LossConfig(StrictModel):
    """The adversarial loss of a noise-to-sample GAN and its regularizers."""

    name: Literal["bce", "lsgan", "wgan", "wgan-gp", "hinge"] = "bce"
    variant: Literal["non-saturating", "minimax", "mse"] = Field(
        "non-saturating", description="generator term of the bce loss"
    )
    real_label: float = Field(1.0, gt=0, le=1, description="bce target for real images (<1: smoothing)")
    gp_weight: float = Field(10.0, ge=0, description="gradient penalty weight (wgan-gp)")
    clip: float = Field(0.01, gt=0, description="weight clipping bound (wgan)")
    r1_gamma: float = Field(0.0, ge=0, description="R1 penalty on real data; 0 turns it off")
    aux_weight: float = Field(1.0, ge=0, description="weight of the class cross-entropy (model.d_cond=acgan)")
    mode_seeking: float = Field(0.0, ge=0, description="MSGAN mode-seeking weight: G also maximizes the distance "
                                "of two fakes over the distance of their noises (same label); 0 turns it off")


class AdamConfig(StrictModel):
    """Adam for the generator(s) and the discriminator(s)."""

    g_lr: float = Field(2e-4, gt=0)
    d_lr: float = Field(2e-4, gt=0)
    g_betas: tuple[float, float] = (0.5, 0.999)
    d_betas: tuple[float, float] = (0.5, 0.999)


class OptimConfig(AdamConfig):
    """Adam for each network, and how many discriminator steps per generator step."""

    n_critic: int = Field(1, ge=1, description="discriminator steps per generator step")


class GANOptimConfig(OptimConfig):
    """The optimizer section of recipes that also honour a learning-rate decay (the shared GAN recipe,
    ``build_gan_recipe``, and others that build a ``LinearDecay``)."""

    lr_decay: float = Field(0.0, ge=0, le=1, description="decay both learning rates linearly to 0 over this last "
                            "share of the run's steps (0: constant; needs a step count, not --minutes)")


class TrainConfig(StrictModel):
    """The loop: length, seed, device, precision, EMA and how often to write things."""

    steps: int = Field(2000, gt=0, description="generator steps")
    minutes: float | None = Field(None, gt=0, description="train for this wall-clock budget instead of `steps`; the "
                                  "run records the steps it did in `steps` (an explicit --steps turns it off)")
    seed: int = Field(0, ge=0, lt=2**32)
    device: str = Field("auto", description="auto, cpu, cuda, cuda:1, ...")
    amp: Literal["none", "bf16", "fp16", "auto"] = Field("none", description="mixed precision of the training "
                                                         "step; auto: bf16 where a short trial finds it faster (CPUs "
                                                         "with bf16 units) or the GPU has it, else none; the "
                                                         "choice is recorded in config.yaml")
    ema_decay: float = Field(0.999, ge=0, lt=1, description="0 turns the generator EMA off")
    ema_warmup: bool = Field(True, description="ramp the EMA decay up as (1+t)/(10+t)")
    log_every: int = Field(25, gt=0)
    sample_every: int = Field(500, gt=0)
    checkpoint_every: int = Field(500, gt=0)
    grid_size: int = Field(64, gt=0, description="images in each sample grid")
    adapt_threads: bool = Field(True, description="CPU: use only the cores other processes leave free, re-checked "
                                "every 10 s (at most the threads the run started with); false pins the thread count")
    reuse_cpu_memory: bool = Field(True, description="CPU: keep freed memory for the next step instead of handing "
                                   "it back to the OS (glibc malloc; faster steps, the process keeps its peak memory)")
    compile: bool = Field(False, description="torch.compile G and D (pays on CUDA; on a 2-core CPU it was slower)")
    sync_batchnorm: bool = Field(False, description="distributed training: BatchNorm statistics over all processes "
                                 "(CUDA)")
    doctor: bool = Field(True, description="warn while training when the loss curves show a known problem "
                         "(see `ganforge doctor`)")


class RunConfig(StrictModel):
    """The sections every run has. Each family subclasses it with its own ``family`` tag and sections
    (model, loss, ...), so a key a family does not use is refused. Saved as config.yaml in the run folder."""

    preset: str | None = None
    description: str = ""
    family: str = "images"
    data: DataConfig = Field(default_factory=DataConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)

    def with_section(self, name: str, **changes: Any) -> RunConfig:
        """A copy with ``changes`` in section ``name`` (e.g. ``with_section("train", steps=10)``), validated."""
        section = getattr(self, name)
        try:
            updated = type(section).model_validate({**section.model_dump(), **changes})
        except ValidationError as exc:
            first = exc.errors()[0]
            key = ".".join([name, *(str(p) for p in first["loc"])])
            raise GanforgeError(f"{key}: {first['msg']} (got {first.get('input')!r})") from None
        return self.model_copy(update={name: updated})


Config = RunConfig  # the public name of a run's configuration


# --- presets -------------------------------------------------------------------------------------

DEFAULT_PRESET = "default"


def preset_names() -> list[str]:
    files = resources.files("ganforge.presets").iterdir()
    names = sorted(f.name[: -len(".yaml")] for f in files if f.name.endswith(".yaml"))
    return [DEFAULT_PRESET] + [n for n in names if n != DEFAULT_PRESET]


def preset_dict(name: str) -> dict[str, Any]:
    if name not in preset_names():
        raise GanforgeError(unknown_name_message("preset", name, preset_names()))
    text = resources.files("ganforge.presets").joinpath(f"{name}.yaml").read_text()
    data = yaml.safe_load(text) or {}
    data["preset"] = name
    return data


def preset_descriptions() -> dict[str, str]:
    return {name: preset_dict(name).get("description", "") for name in preset_names()}


# --- merging and validation ----------------------------------------------------------------------


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """Turn ``["optim.g_lr=1e-4", "data.augment=[flip]"]`` into a nested dict (values parsed as YAML)."""
    nested: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise GanforgeError(f"--set expects KEY=VALUE, got '{pair}' (example: --set optim.g_lr=1e-4)")
        _set_dotted(nested, key.strip(), _parse_value(raw))
    return nested


def _parse_value(raw: str) -> Any:
    """YAML scalars and lists; also ``1e-4``, which YAML 1.1 would leave as a string."""
    if not raw.strip():
        return None
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _set_dotted(target: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    for part in parts[:-1]:
        node = target.setdefault(part, {})
        if not isinstance(node, dict):
            raise GanforgeError(f"config key '{dotted}': '{part}' is a value, not a section")
        target = node
    target[parts[-1]] = value


def merge(base: dict[str, Any], layer: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``layer`` into a copy of ``base``. Switching ``model.arch`` drops the old model keys."""
    out = copy.deepcopy(base)
    for key, value in layer.items():
        if key == "model" and isinstance(value, dict) and _switches_arch(out.get("model"), value):
            out["model"] = copy.deepcopy(value)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _switches_arch(old: Any, new: dict[str, Any]) -> bool:
    return isinstance(old, dict) and "arch" in new and new["arch"] != old.get("arch")


def validate_as(config_class: type[RunConfig], data: dict[str, Any]) -> RunConfig:
    """Validate a merged dict as ``config_class``, turning pydantic's report into one line per problem
    with dotted keys (the family's sections decide which keys exist)."""
    try:
        return config_class.model_validate(data)
    except ValidationError as exc:
        family = data.get("family") or config_class.model_fields["family"].default
        problems = "; ".join(_describe(e, data, config_class, str(family)) for e in exc.errors())
        raise GanforgeError("invalid config: " + problems) from None


def _describe(error: dict[str, Any], data: dict[str, Any], config_class: type[RunConfig], family: str) -> str:
    loc = [str(p) for p in error["loc"]]
    if loc[:1] == ["model"] and len(loc) > 1 and loc[1] in _arch_names(config_class):
        loc.pop(1)  # pydantic adds the union tag to the path
    key = ".".join(loc)
    if error["type"] == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1], data, config_class)
        close = difflib.get_close_matches(loc[-1], allowed, n=1)
        hint = f"; did you mean '{'.'.join(loc[:-1] + close)}'?" if close else f"; known keys: {', '.join(allowed)}"
        return f"unknown key '{key}'{hint} (in the {family} family's config)"
    if error["type"] == "union_tag_invalid":
        known = _arch_names(config_class)
        message = unknown_name_message("model arch", str(_get(data, ["model", "arch"])), known)
        return f"{message} (in the {family} family; other families have their own, see `ganforge list`)"
    got = error.get("input")
    shown = f" (got {got!r})" if not isinstance(got, dict) else ""
    return f"{key}: {error['msg']}{shown}"


def _section_classes(annotation: Any) -> list[type]:
    """The pydantic classes of a field's annotation (one, or the members of a tagged union)."""
    if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
        return [annotation]
    found: list[type] = []
    for arg in getattr(annotation, "__args__", ()) or ():
        found.extend(_section_classes(arg))
    for meta in getattr(annotation, "__metadata__", ()) or ():
        found.extend(_section_classes(meta))
    origin = getattr(annotation, "__origin__", None)
    if origin is not None and not found:
        found.extend(_section_classes(origin))
    return found


def _arch_names(config_class: type[RunConfig]) -> list[str]:
    field = config_class.model_fields.get("model")
    if field is None:
        return []
    return [c.model_fields["arch"].default for c in _section_classes(field.annotation) if "arch" in c.model_fields]


def _allowed_keys(section: list[str], data: dict[str, Any], config_class: type[RunConfig]) -> list[str]:
    if not section:
        return list(config_class.model_fields)
    field = config_class.model_fields.get(section[0])
    classes = _section_classes(field.annotation) if field is not None else []
    if section[0] == "model" and len(classes) > 1:
        arch = _get(data, ["model", "arch"])
        chosen = [c for c in classes if "arch" in c.model_fields and c.model_fields["arch"].default == arch]
        classes = chosen or classes
    return list(classes[0].model_fields) if classes else []


def _get(data: dict[str, Any], path: list[str]) -> Any:
    for part in path:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def load_yaml_file(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise GanforgeError(f"config file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise GanforgeError(f"config file {path} is not UTF-8 text (byte {exc.start}): give a YAML file") from None
    except yaml.YAMLError as exc:
        raise GanforgeError(f"config file {path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise GanforgeError(f"config file {path} must hold a mapping of sections (data:, model:, ...)")
    return data
