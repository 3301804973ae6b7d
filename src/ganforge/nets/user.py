"""Your own networks: ``model.arch: python`` builds G and D from factories named by import path.

``model.generator: "package.module:Factory"`` (or ``"path/to/nets.py:Factory"``) is called with the keyword
arguments ``z_dim``, ``image_shape`` (C, H, W) and ``num_classes``, plus those in ``model.kwargs``, and must
return a ``torch.nn.Module``; the same for ``model.discriminator``. The contracts are the built-in nets':
G maps ``z [B, z_dim]`` (and ``labels [B]`` when conditional) to images ``[B, C, H, W]`` in [-1, 1]; D maps
images (and labels) to one raw logit per image, ``[B]`` or ``[B, 1]`` (no sigmoid: the losses apply it).
Both are checked once at start-up, with a one-line error naming what is wrong.

Naming a file or module here runs its code, as ``import`` does: only name code you trust.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import torch
from pydantic import Field, field_validator
from torch import Tensor, nn

from ganforge.errors import GanforgeError
from ganforge.nets.layers import ArchSpec, ImageShape
from ganforge.schema import StrictModel

CHECK_BATCH = 4
RANGE_SLACK = 1e-3  # tanh in float32 can round to 1.0; anything beyond this is not a [-1, 1] image
PROBABILITY_OPS = ("Sigmoid", "Softmax")  # autograd nodes of a D that returns probabilities
BOUNDED_OPS = ("Tanh", "Hardtanh", "Clamp", "Sigmoid")  # a G ending in one of these keeps images in range
SHAPE_OPS = ("View", "Reshape", "Squeeze", "Unsqueeze", "Select", "Flatten", "Permute", "Transpose", "Clone",
             "Expand", "Slice", "Unsafe")


class UserNetsConfig(StrictModel):
    """Your own PyTorch generator and discriminator, built by factories named by import path."""

    arch: Literal["python"] = "python"
    generator: str = Field(description="package.module:Factory or path/to/nets.py:Factory returning G")
    discriminator: str = Field(description="package.module:Factory or path/to/nets.py:Factory returning D")
    z_dim: int = Field(64, gt=0, description="noise vector length (passed to both factories)")
    conditional: bool = Field(False, description="pass class labels to G and D (num_classes comes from the data)")
    num_classes: int = Field(0, ge=0, description="classes; 0 takes them from the data when conditional")
    kwargs: dict[str, Any] = Field(default_factory=dict, description="extra keyword arguments for both factories")

    @field_validator("generator", "discriminator")
    @classmethod
    def _absolute_file(cls, value: str) -> str:
        """A relative file path becomes absolute, so that a resume from another folder finds it."""
        target, _, name = value.rpartition(":")
        if target and is_file_target(target) and Path(target).expanduser().is_file():
            return f"{Path(target).expanduser().resolve()}:{name}"
        return value


def is_file_target(target: str) -> bool:
    return target.endswith(".py") or "/" in target or "\\" in target


def load_factory(spec: str, key: str) -> Callable[..., Any]:
    """The callable named by ``spec`` ("package.module:Name" or "path/to/file.py:Name")."""
    target, colon, name = spec.rpartition(":")
    if not colon or not target or not name.isidentifier():
        raise GanforgeError(f"{key}={spec!r} is not 'package.module:Factory' or 'path/to/nets.py:Factory'")
    module = import_file(target, key) if is_file_target(target) else import_module(target, key)
    factory = getattr(module, name, None)
    if factory is None or not callable(factory):
        raise GanforgeError(f"{key}: {target} has no callable named {name!r}")
    return factory


def import_module(name: str, key: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise GanforgeError(f"{key}: cannot import {name} ({exc}); check the name or PYTHONPATH") from None
    except Exception as exc:
        raise GanforgeError(f"{key}: importing {name} failed: {one_line(exc)}") from None


def import_file(path: str, key: str) -> Any:
    """Import a .py file once per process under a name made from its path (G and D share one module)."""
    file = Path(path).expanduser().resolve()
    if not file.is_file():
        raise GanforgeError(f"{key}: no file {file}")
    module_name = f"ganforge_user_{file.stem}_{hashlib.sha1(str(file).encode()).hexdigest()[:10]}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    module_spec = importlib.util.spec_from_file_location(module_name, file)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_name] = module
    try:
        module_spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[module_name]
        raise GanforgeError(f"{key}: importing {file} failed: {one_line(exc)}") from None
    return module


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


def call_factory(spec: str, key: str, arguments: dict[str, Any]) -> Any:
    """Call the factory named by ``spec`` with ``arguments``; its errors become one line naming ``key``."""
    factory = load_factory(spec, key)
    try:
        return factory(**arguments)
    except Exception as exc:
        raise GanforgeError(f"{key}: {spec} failed when called with {sorted(arguments)}: {one_line(exc)}") from None


# --- the wrappers the rest of ganforge sees --------------------------------------------------------


class UserGenerator(nn.Module):
    """A user's G with the attributes ganforge reads (``z_dim``, ``image_shape``, ``num_classes``).

    Labels are passed only when the run is conditional, so an unconditional G may take ``z`` alone."""

    def __init__(self, net: nn.Module, z_dim: int, image_shape: ImageShape, num_classes: int) -> None:
        super().__init__()
        self.net = net
        self.z_dim, self.image_shape, self.num_classes = z_dim, tuple(image_shape), num_classes

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.net(z) if labels is None else self.net(z, labels)


class UserDiscriminator(nn.Module):
    """A user's D, its logits flattened to ``[B]``; labels are passed only when the run is conditional."""

    def __init__(self, net: nn.Module, num_classes: int) -> None:
        super().__init__()
        self.net = net
        self.num_classes = num_classes

    def forward(self, images: Tensor, labels: Tensor | None = None) -> Tensor:
        logits = self.net(images) if labels is None else self.net(images, labels)
        return logits.reshape(-1)


# --- start-up checks -------------------------------------------------------------------------------


def check_inputs(z_dim: int, image_shape: ImageShape, num_classes: int) -> tuple[Tensor, Tensor, Tensor | None]:
    """Noise, images in [-1, 1] and labels for the checks, from their own seed (the run's RNG is untouched)."""
    rng = torch.Generator().manual_seed(0)
    z = torch.randn(CHECK_BATCH, z_dim, generator=rng)
    images = torch.rand(CHECK_BATCH, *image_shape, generator=rng) * 2 - 1
    labels = torch.arange(CHECK_BATCH) % num_classes if num_classes else None
    return z, images, labels


def check_generator(generator: UserGenerator, where: str) -> None:
    """G's output must be a float tensor of shape [B, C, H, W] with values in [-1, 1]."""
    z, _, labels = check_inputs(generator.z_dim, generator.image_shape, generator.num_classes)
    with torch.enable_grad():
        out = run_check(generator, (z, labels), where, "G(z, labels)" if labels is not None else "G(z)")
    expected = (CHECK_BATCH, *generator.image_shape)
    if not isinstance(out, Tensor) or not out.is_floating_point():
        raise GanforgeError(f"{where} returned {type(out).__name__}, not a float tensor of images {list(expected)}")
    if tuple(out.shape) != expected:
        raise GanforgeError(f"{where} made a tensor of shape {list(out.shape)} for {CHECK_BATCH} noise vectors; "
                            f"it must return images [B, C, H, W] = {list(expected)} (image_shape {list(expected[1:])})")
    low, high = float(out.detach().min()), float(out.detach().max())
    if low < -1 - RANGE_SLACK or high > 1 + RANGE_SLACK or not torch.isfinite(out).all():
        raise GanforgeError(f"{where} made values in [{low:.3g}, {high:.3g}]; images must be in [-1, 1]: end G with "
                            "tanh")
    if last_operation(out, BOUNDED_OPS) is None:  # in range now, but only by chance of the initial weights
        warnings.warn(f"{where} does not end in tanh (or another bounded operation); its images must stay in "
                      "[-1, 1] as the data's do", stacklevel=2)


def check_discriminator(discriminator: UserDiscriminator, image_shape: ImageShape, where: str) -> None:
    """D must return one raw logit per image: shape [B] or [B, 1], not probabilities."""
    _, images, labels = check_inputs(1, image_shape, discriminator.num_classes)
    net = discriminator.net
    with torch.enable_grad():
        out = run_check(net, (images.requires_grad_(True), labels), where, "D(images)")
    if not isinstance(out, Tensor) or not out.is_floating_point():
        raise GanforgeError(f"{where} returned {type(out).__name__}; it must return a float tensor of logits [B]")
    if tuple(out.shape) not in ((CHECK_BATCH,), (CHECK_BATCH, 1)):
        raise GanforgeError(f"{where} returned shape {list(out.shape)} for {CHECK_BATCH} images; it must return one "
                            f"raw logit per image, [B] or [B, 1] = [{CHECK_BATCH}]")
    if last_operation(out, PROBABILITY_OPS):
        raise GanforgeError(f"{where} returns probabilities (its last operation is a sigmoid or softmax); return raw "
                            "logits instead: the losses apply the sigmoid themselves, more stably")


def run_check(module: nn.Module, inputs: tuple[Tensor, Tensor | None], where: str, call: str) -> Any:
    """Call ``module`` in eval mode (no BatchNorm statistics change) and restore its mode."""
    was_training = module.training
    module.eval()
    try:
        args = inputs if inputs[1] is not None else inputs[:1]
        return module(*args)
    except Exception as exc:
        raise GanforgeError(f"{where}: calling {call} failed: {one_line(exc)}") from None
    finally:
        module.train(was_training)


def last_operation(out: Tensor, names: tuple[str, ...]) -> str | None:
    """The autograd node among ``names`` that made ``out``, looking back through shape-only operations."""
    node = out.grad_fn
    for _ in range(8):
        if node is None:
            return None
        name = node.name()
        if any(op in name for op in names):
            return name
        if not any(op in name for op in SHAPE_OPS):
            return None
        parents = [parent for parent, _ in node.next_functions if parent is not None]
        node = parents[0] if len(parents) == 1 else None
    return None


def build_checked(cfg: UserNetsConfig, image_shape: ImageShape, make_net: Callable[[str, str, dict], nn.Module]
                  ) -> tuple[nn.Module, nn.Module]:
    """G and D from ``make_net(spec, key, arguments)``, wrapped and checked."""
    num_classes = cfg.num_classes if cfg.conditional else 0
    arguments = {"z_dim": cfg.z_dim, "image_shape": tuple(image_shape), "num_classes": num_classes, **cfg.kwargs}
    g_net = make_net(cfg.generator, "model.generator", arguments)
    d_net = make_net(cfg.discriminator, "model.discriminator", arguments)
    generator = UserGenerator(g_net, cfg.z_dim, image_shape, num_classes)
    discriminator = UserDiscriminator(d_net, num_classes)
    check_generator(generator, f"model.generator ({cfg.generator})")
    check_discriminator(discriminator, image_shape, f"model.discriminator ({cfg.discriminator})")
    return generator, discriminator


def torch_module(spec: str, key: str, arguments: dict[str, Any]) -> nn.Module:
    net = call_factory(spec, key, arguments)
    if not isinstance(net, nn.Module):
        raise GanforgeError(f"{key}: {spec} returned {type(net).__name__}, not a torch.nn.Module")
    return net


def build(cfg: UserNetsConfig, image_shape: ImageShape) -> tuple[nn.Module, nn.Module]:
    """(generator, discriminator) from the user's factories, checked against the contracts."""
    return build_checked(cfg, image_shape, torch_module)


SPEC = ArchSpec(
    config=UserNetsConfig,
    build=build,
    size_ok=lambda size: size >= 1,
    description="your own PyTorch G and D: model.generator / model.discriminator = 'module:Factory' (docs/byo.md)",
)
