"""Generator and discriminator networks, one module per architecture.

A generator maps ``z [B, z_dim]`` (and optional ``labels [B]``, unused for now) to images ``[B, C, H, W]``
in [-1, 1]. A discriminator maps images (and optional labels) to raw logits ``[B]`` (no sigmoid).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from torch import nn

from ganforge.errors import GanforgeError
from ganforge.nets import dcgan, keras_dcgan, keras_user, mlp, resnet, user
from ganforge.nets.dcgan import DCGANConfig
from ganforge.nets.keras_dcgan import KerasDCGANConfig
from ganforge.nets.keras_user import KerasNetsConfig
from ganforge.nets.layers import ArchSpec, check_image_shape, sizes_between
from ganforge.nets.mlp import MLPConfig
from ganforge.nets.resnet import ResNetConfig
from ganforge.nets.user import UserNetsConfig
from ganforge.registry import Registry, unknown_name_message

__all__ = [
    "MODEL_DESCRIPTIONS",
    "DCGANConfig",
    "KerasDCGANConfig",
    "KerasNetsConfig",
    "MLPConfig",
    "ModelConfig",
    "ResNetConfig",
    "UserNetsConfig",
    "build_networks",
    "model_config_class",
    "supported_sizes",
]

ModelConfig = Annotated[
    MLPConfig | DCGANConfig | ResNetConfig | KerasDCGANConfig | UserNetsConfig | KerasNetsConfig,
    Field(discriminator="arch"),
]

ARCHS: Registry[ArchSpec] = Registry("model arch")
for _module in (mlp, dcgan, resnet, keras_dcgan, user, keras_user):
    ARCHS.add(_module.SPEC.config.model_fields["arch"].default, _module.SPEC)

MODEL_DESCRIPTIONS: dict[str, str] = {name: ARCHS.get(name).description for name in ARCHS}


def model_config_class(arch: str) -> type:
    """The config class of ``arch``; an unknown name raises GanforgeError listing the known ones."""
    if arch not in ARCHS:
        raise GanforgeError(unknown_name_message("model arch", arch, list(MODEL_DESCRIPTIONS)))
    return ARCHS.get(arch).config


def supported_sizes(arch: str, lo: int = 8, hi: int = 256) -> list[int]:
    """Square image sizes in ``[lo, hi]`` that ``arch`` can make."""
    return sizes_between(ARCHS.get(arch).size_ok, lo, hi)


def build_networks(cfg: ModelConfig, image_shape: tuple[int, int, int]) -> tuple[nn.Module, nn.Module]:
    """Build ``(generator, discriminator)`` for images of shape ``(C, H, W)``.

    Raises GanforgeError when the images are not square or ``cfg.arch`` cannot make their size.
    """
    spec = ARCHS.get(cfg.arch)
    size = check_image_shape(cfg.arch, image_shape, spec.size_ok)
    return spec.build(cfg, (int(image_shape[0]), size, size))
