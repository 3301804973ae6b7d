"""The image-to-image family: pix2pix (paired) and CycleGAN (unpaired), and applying them to any image."""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Any

import torch
from PIL import Image, UnidentifiedImageError

from ganforge.data.base import uint8_to_unit
from ganforge.data.stream import BatchStream
from ganforge.errors import GanforgeError, TooLargeError
from ganforge.families.base import Family, Reply, Route, SampleRequest, TrainingContext, Upload
from ganforge.families.translation.apply import (
    DIRECTIONS,
    Translated,
    Translators,
    image_to_input,
    translate_files,
    translate_tensor,
)
from ganforge.families.translation.config import TranslationConfig
from ganforge.families.translation.data import PAIR_DATA_DESCRIPTIONS, PairDataset, build_pair_dataset
from ganforge.families.translation.nets import (
    PatchDiscriminator,
    build_translator,
    color_scale,
    min_patch_size,
)
from ganforge.families.translation.recipes import CycleGANRecipe, Pix2PixRecipe, TranslationRecipe
from ganforge.losses import build_loss
from ganforge.parallel import World
from ganforge.run_folder import RunFolder
from ganforge.training.callbacks import SampleGrid
from ganforge.viz import png_bytes, to_pil, to_uint8

PREVIEW_ROWS = 8  # preview grids: this many fixed training pairs, one per row
IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp", "image/bmp", "image/gif", "image/tiff")
MAX_UPLOAD_PIXELS = 2048 * 2048


def build_generators(config: TranslationConfig) -> dict[str, torch.nn.Module]:
    """The generator of each direction of a config whose channels are resolved (AtoB; BtoA for CycleGAN)."""
    m = config.model
    networks = {"AtoB": build_translator(m, m.a_channels, m.b_channels)}
    if m.arch == "cyclegan":
        networks["BtoA"] = build_translator(m, m.b_channels, m.a_channels)
    channels = {"AtoB": (m.a_channels, m.b_channels), "BtoA": (m.b_channels, m.a_channels)}
    for direction, network in networks.items():
        network.in_channels, network.out_channels = channels[direction]
    return networks


STATE_KEYS = {"AtoB": "generator", "BtoA": "generator_ba"}


class TranslationFamily(Family):
    name = "translation"
    description = "image-to-image translation: pix2pix (paired) and CycleGAN (unpaired)"
    config_class = TranslationConfig
    archs = ("pix2pix", "cyclegan")
    sample_options = frozenset({"input", "direction"})
    output_suffixes = ("/",)
    default_eval_n = 0

    def data_kinds(self) -> dict[str, str]:
        return dict(PAIR_DATA_DESCRIPTIONS)

    def model_kinds(self) -> dict[str, str]:
        return {
            "pix2pix": "image-to-image, paired: U-Net G, PatchGAN D on (input, output), adversarial + L1",
            "cyclegan": "image-to-image, unpaired: two ResNet Gs, two PatchGAN Ds, LSGAN + cycle + identity",
        }

    # --- training ------------------------------------------------------------------------------------

    def build_data(self, config: TranslationConfig) -> PairDataset:
        return build_pair_dataset(config.data.name, config.data.size, config.data.channels)

    def fit_config(self, config: TranslationConfig, data: PairDataset) -> TranslationConfig:
        """``model.a_channels`` and ``b_channels`` from the pairs; the image side checked against the nets."""
        side, need = data.image_shape[1], min_patch_size(config.model)
        if side < need or side % (need if config.model.generator == "unet" else 4 * color_scale(config.model)):
            raise GanforgeError(
                f"{config.model.arch} with these settings needs training images whose side is a multiple of "
                f"{need} (got {side}); set data.size (e.g. {max(need, 32)}) or model.unet_depth"
            )
        a, b = data.pair_channels
        lab_only = {"color_scale": 1, "color_gain": 1.0, "color_guide": 0}
        for name, neutral in lab_only.items():
            if getattr(config.model, name, neutral) != neutral and config.model.color_space != "lab":
                raise GanforgeError(f"model.{name} applies to model.color_space=lab (G predicts a, b); use "
                                    f"model.{name}={neutral} with rgb")
        if getattr(config.model, "color_space", "rgb") == "lab" and (a, b) != (1, 3):
            raise GanforgeError(
                f"model.color_space=lab colorizes gray inputs into color (1 and 3 channels, as colorize-photos "
                f"or colorize:PATH give); this data has {a} and {b}: use model.color_space=rgb"
            )
        return config.with_section("model", a_channels=a, b_channels=b)

    def build_recipe(self, config: TranslationConfig, data: PairDataset, device: torch.device) -> TranslationRecipe:
        m, lc, opt = config.model, config.loss, config.optim
        if config.train.amp != "none":
            raise GanforgeError(f"train.amp={config.train.amp} is not supported by {m.arch} yet; use train.amp=none")
        loss = build_loss(lc.name, lc.variant, lc.real_label)
        g = {d: n.to(device) for d, n in build_generators(config).items()}
        lr, betas = (opt.g_lr, opt.d_lr), (opt.g_betas, opt.d_betas)
        pair = (m.a_channels, m.b_channels)
        if m.arch == "pix2pix":
            lab = m.color_space == "lab"  # D judges (gray, a, b) instead of (gray, R, G, B)
            d = PatchDiscriminator(m.a_channels + (2 if lab else m.b_channels), m.d_width, m.d_layers,
                                   instance_norm=False)
            return Pix2PixRecipe(g["AtoB"], d.to(device), loss, pair, lr, betas, lc.l1_weight, lc.adv_weight, device,
                                 lab=lab, recon=lc.recon)
        d_a = PatchDiscriminator(m.a_channels, m.d_width, m.d_layers, instance_norm=True).to(device)
        d_b = PatchDiscriminator(m.b_channels, m.d_width, m.d_layers, instance_norm=True).to(device)
        return CycleGANRecipe(g["AtoB"], g["BtoA"], d_a, d_b, loss, pair, lr, betas, lc.cycle_weight,
                              lc.identity_weight, m.pool_size, config.train.steps, opt.decay_start, device)

    def build_stream(self, config: TranslationConfig, data: PairDataset, device: torch.device,
                     world: World) -> BatchStream:
        return BatchStream(data, config.data.batch_size, config.train.seed, device, config.data.num_workers,
                           config.data.augment, world)

    def callbacks(self, context: TrainingContext) -> list[Any]:
        """A grid of (A, G(A), B[, G_BA(B)]) rows for fixed training pairs."""
        if not context.writes:
            return []
        recipe = context.recipe
        batch = uint8_to_unit(context.data.images[:PREVIEW_ROWS].to(context.device))
        columns = len(recipe.preview(batch[:1]))
        return [SampleGrid(context.run.samples, lambda: recipe.preview(batch), context.config.train.sample_every,
                           nrow=columns)]

    def checkpoint_info(self, config: TranslationConfig, data: PairDataset) -> dict[str, Any]:
        return {"image_shape": list(data.image_shape)}

    # --- using a run ---------------------------------------------------------------------------------

    def load(self, run: RunFolder, config: TranslationConfig, state: dict[str, Any], device: torch.device,
             ema: bool = True) -> Translators:
        networks = build_generators(config)
        for direction, network in networks.items():
            network.load_state_dict(state["recipe"][STATE_KEYS[direction]])
            network.to(device).eval()
        return Translators(networks)

    def sample(self, model: Translators, request: SampleRequest) -> Translated:
        if request.input is None:
            raise GanforgeError("a translation run translates your images: give --input FILE_OR_DIR")
        return translate_files(model.network(request.direction), request.input)

    def write(self, samples: Translated, out: Path) -> str:
        self.check_suffix(out)
        for image, name in zip(samples.images, samples.names, strict=True):
            target = out / name
            target.parent.mkdir(parents=True, exist_ok=True)
            to_pil(to_uint8(image)).save(target)
        return f"wrote {len(samples.images)} translated image(s) to {out}/"

    def routes(self) -> list[Route]:
        return [Route("translate", translate_upload, upload=True, accepts=IMAGE_TYPES, form=("direction",),
                      output="image", label="Translate an image")]

    def describe(self, model: Translators) -> dict[str, Any]:
        return {"directions": list(model.networks)}


def read_upload(upload: Upload) -> Image.Image:
    """An uploaded image, checked for its type and pixel count before it is decoded."""
    if upload.content_type not in IMAGE_TYPES:
        raise GanforgeError(f"upload an image ({', '.join(IMAGE_TYPES)}), not {upload.content_type or 'unknown type'}")
    if not upload.data:
        raise GanforgeError("the upload is empty")
    try:
        with warnings.catch_warnings():  # the pixel count is checked below, without PIL's warning on stderr
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(upload.data))
        if image.width * image.height > MAX_UPLOAD_PIXELS:
            raise TooLargeError(f"the image has more than {MAX_UPLOAD_PIXELS} pixels; scale it down")
        image.load()
    except TooLargeError:
        raise
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise GanforgeError("the upload is not a readable image") from None
    return image


def translate_upload(model: Translators, upload: Upload) -> Reply:
    direction = upload.form.get("direction") or "AtoB"
    if direction not in DIRECTIONS:
        raise GanforgeError(f"direction must be one of {', '.join(model.networks)}")
    network = model.network(direction)
    out = translate_tensor(network, image_to_input(read_upload(upload), network.in_channels))[0]
    return Reply(png_bytes(to_pil(to_uint8(out))), "image/png")
