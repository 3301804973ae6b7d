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

from ganforge.data.ada import DEFAULT_ADA_POLICY
from ganforge.errors import GanforgeError
from ganforge.nets import ModelConfig, model_config_class
from ganforge.nets.dcgan import DCGANConfig
from ganforge.registry import unknown_name_message
from ganforge.schema import StrictModel

LOSS_NAMES = ("bce", "lsgan", "wgan", "wgan-gp", "hinge")
BCE_VARIANTS = ("non-saturating", "minimax", "mse")


class AdaConfig(StrictModel):
    """Adaptive discriminator augmentation (Karras et al. 2020); see ganforge.data.ada."""

    enabled: bool = Field(False, description="turn ADA on (for small data sets: a few thousand images or fewer)")
    target: float = Field(0.6, gt=0, lt=1, description="target of the overfitting signal E[sign(D(real))]")
    speed_kimg: float = Field(100.0, gt=0, description="thousands of images for p to move from 0 to 1")
    interval: int = Field(4, gt=0, description="D steps between adjustments of p")
    policy: list[str] = Field(
        default_factory=lambda: list(DEFAULT_ADA_POLICY),
        description="ops: xflip, rotate90, translation, geometric, color, cutout",
    )


class DataConfig(StrictModel):
    """Which images to train on and how to batch them."""

    name: str = Field("digits", description="registry name (see `ganforge list`) or folder:PATH")
    size: int | None = Field(None, gt=0, description="square image size; None keeps the data's own size")
    channels: Literal[1, 3] | None = Field(None, description="1 or 3; None keeps the data's own")
    augment: list[str] = Field(default_factory=list, description="classic augmentation: flip, rotate, ...")
    diffaugment: list[str] = Field(
        default_factory=list, description="DiffAugment of all images D sees: translation, cutout, color"
    )
    ada: AdaConfig = Field(default_factory=AdaConfig)
    batch_size: int = Field(64, gt=0)
    num_workers: int = Field(0, ge=0, description="DataLoader worker processes")
    root: str | None = Field(None, description="where downloadable data sets live")


class LossConfig(StrictModel):
    """The adversarial loss and its regularizers."""

    name: Literal["bce", "lsgan", "wgan", "wgan-gp", "hinge"] = "bce"
    variant: Literal["non-saturating", "minimax", "mse"] = Field(
        "non-saturating", description="generator term of the bce loss"
    )
    real_label: float = Field(1.0, gt=0, le=1, description="bce target for real images (<1: smoothing)")
    gp_weight: float = Field(10.0, ge=0, description="gradient penalty weight (wgan-gp)")
    clip: float = Field(0.01, gt=0, description="weight clipping bound (wgan)")
    r1_gamma: float = Field(0.0, ge=0, description="R1 penalty on real data; 0 turns it off")
    aux_weight: float = Field(1.0, ge=0, description="weight of the class cross-entropy (model.d_cond=acgan)")
    l1_weight: float = Field(100.0, ge=0, description="pix2pix: weight of the L1 distance to the target")
    adv_weight: float = Field(1.0, ge=0, description="pix2pix: weight of the adversarial loss (0: an L1-only baseline)")
    cycle_weight: float = Field(10.0, ge=0, description="cyclegan: weight of the cycle-consistency loss")
    identity_weight: float = Field(0.5, ge=0, description="cyclegan: identity loss weight, relative to cycle_weight")


class OptimConfig(StrictModel):
    """Adam for each network, and how many discriminator steps per generator step."""

    g_lr: float = Field(2e-4, gt=0)
    d_lr: float = Field(2e-4, gt=0)
    g_betas: tuple[float, float] = (0.5, 0.999)
    d_betas: tuple[float, float] = (0.5, 0.999)
    n_critic: int = Field(1, ge=1, description="discriminator steps per generator step")
    decay_start: float = Field(0.5, ge=0, le=1, description="cyclegan: fraction of the run after which the lr "
                               "decays linearly to 0")


class TrainConfig(StrictModel):
    """The loop: length, seed, device, precision, EMA and how often to write things."""

    steps: int = Field(2000, gt=0, description="generator steps")
    seed: int = Field(0, ge=0, lt=2**32)
    device: str = Field("auto", description="auto, cpu, cuda, cuda:1, ...")
    amp: Literal["none", "bf16", "fp16"] = "none"
    ema_decay: float = Field(0.999, ge=0, lt=1, description="0 turns the generator EMA off")
    ema_warmup: bool = Field(True, description="ramp the EMA decay up as (1+t)/(10+t)")
    log_every: int = Field(25, gt=0)
    sample_every: int = Field(500, gt=0)
    checkpoint_every: int = Field(500, gt=0)
    grid_size: int = Field(64, gt=0, description="images in each sample grid")
    reuse_cpu_memory: bool = Field(True, description="CPU: keep freed memory for the next step instead of handing "
                                   "it back to the OS (glibc malloc; faster steps, the process keeps its peak memory)")
    compile: bool = Field(False, description="torch.compile G and D (pays on CUDA; on a 2-core CPU it was slower)")
    sync_batchnorm: bool = Field(False, description="distributed training: BatchNorm statistics over all processes "
                                 "(CUDA)")


class EvalConfig(StrictModel):
    """Evaluation during training (off by default: it costs time)."""

    every: int = Field(0, ge=0, description="evaluate every N steps; 0 turns it off")
    metrics: list[str] = Field(default_factory=lambda: ["fid"], description="fid, kid, is, pr, dc")
    n: int = Field(2000, ge=2, description="generated images per evaluation (and at most this many real)")
    extractor: str = Field("auto", description="digits, inception, or auto (digits for 1x28x28)")
    weights: str | None = Field(None, description="weights file for the extractor")
    against: str | None = Field(None, description="reference data set; None: data.name")
    best: str | None = Field("fid", description="keep checkpoints/best.pt by this metric; None: no best")


class Config(StrictModel):
    """Everything that defines a run. Saved as config.yaml in the run folder."""

    preset: str | None = None
    description: str = ""
    data: DataConfig = Field(default_factory=DataConfig)
    model: ModelConfig = Field(default_factory=DCGANConfig)
    loss: LossConfig = Field(default_factory=LossConfig)
    optim: OptimConfig = Field(default_factory=OptimConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    eval: EvalConfig = Field(default_factory=EvalConfig)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)


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


def validate(data: dict[str, Any]) -> Config:
    """Validate a merged dict, turning pydantic's report into one line per problem with dotted keys."""
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise GanforgeError("invalid config: " + "; ".join(_describe(e, data) for e in exc.errors())) from None


def _describe(error: dict[str, Any], data: dict[str, Any]) -> str:
    loc = [str(p) for p in error["loc"]]
    if loc[:1] == ["model"] and len(loc) > 1 and loc[1] in _arch_names():
        loc.pop(1)  # pydantic adds the union tag to the path
    key = ".".join(loc)
    if error["type"] == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1], data)
        close = difflib.get_close_matches(loc[-1], allowed, n=1)
        hint = f"; did you mean '{'.'.join(loc[:-1] + close)}'?" if close else f"; known keys: {', '.join(allowed)}"
        return f"unknown key '{key}'{hint}"
    if error["type"] == "union_tag_invalid":
        return unknown_name_message("model arch", str(_get(data, ["model", "arch"])), _arch_names())
    got = error.get("input")
    shown = f" (got {got!r})" if not isinstance(got, dict) else ""
    return f"{key}: {error['msg']}{shown}"


def _arch_names() -> list[str]:
    from ganforge.nets import MODEL_DESCRIPTIONS

    return list(MODEL_DESCRIPTIONS)


def _allowed_keys(section: list[str], data: dict[str, Any]) -> list[str]:
    if not section:
        return list(Config.model_fields)
    if section[0] == "model":
        arch = _get(data, ["model", "arch"]) or "dcgan"
        return list(model_config_class(str(arch)).model_fields)
    field = Config.model_fields.get(section[0])
    cls = field.annotation if field is not None else None
    return list(getattr(cls, "model_fields", {}))


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
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise GanforgeError(f"config file {path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise GanforgeError(f"config file {path} must hold a mapping of sections (data:, model:, ...)")
    return data


def load_config(
    preset: str | None = DEFAULT_PRESET,
    config_file: str | Path | None = None,
    options: dict[str, Any] | None = None,
    overrides: list[str] | None = None,
) -> Config:
    """Build a validated config from a preset, an optional YAML file, option values and ``key=value`` pairs."""
    data = Config().model_dump(mode="json")
    if preset:
        data = merge(data, preset_dict(preset))
    if config_file:
        data = merge(data, load_yaml_file(config_file))
    if options:
        data = merge(data, options)
    if overrides:
        data = merge(data, parse_overrides(overrides))
    return validate(data)
