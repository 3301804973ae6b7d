"""The text-to-image family: captioned data, a DF-GAN-style generator with a matching-aware discriminator,
sampling from prompts, and evaluation by a shipped attribute classifier."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ganforge.data.stream import BatchStream, prepare_tensors
from ganforge.errors import GanforgeError
from ganforge.families.base import EvalRequest, Family, Route, SampleRequest, TrainingContext
from ganforge.families.text2image import evaluation
from ganforge.families.text2image.config import Text2ImageConfig
from ganforge.families.text2image.data import DATA_DESCRIPTIONS, CaptionedImages, build_captioned, collate_captioned
from ganforge.families.text2image.model import (
    DEFAULT_PROMPTS,
    PromptedImages,
    TextImageModel,
    build_networks,
    draw,
    generate,
    load_text_image_model,
    write_images,
)
from ganforge.families.text2image.negatives import WordSwaps
from ganforge.families.text2image.nets import Discriminator, ImageMatcher, check_image_size
from ganforge.families.text2image.recipe import Text2ImageRecipe
from ganforge.families.text2image.serving import ROUTES
from ganforge.families.text2image.words import encode_prompts
from ganforge.parallel import World
from ganforge.run_folder import RunFolder
from ganforge.training.callbacks import Preview
from ganforge.viz import save_grid

PREVIEW_SEED = 4242
METRICS = ("attributes", "attribute_fid")


class Text2ImageFamily(Family):
    name = "text2image"
    description = "text-to-image: pictures from a sentence (DF-GAN-style G, matching-aware D, GRU text encoder)"
    config_class = Text2ImageConfig
    archs = ("df-gan",)
    sample_options = frozenset({"prompt", "prompts"})
    output_suffixes = (".png", "/")
    default_eval_n = 864

    def data_kinds(self) -> dict[str, str]:
        return dict(DATA_DESCRIPTIONS)

    def model_kinds(self) -> dict[str, str]:
        return {"df-gan": "text-to-image: sentence fused into every G block (affine), matching-aware D with MA-GP, "
                          "GRU text encoder trained jointly with D (contrastive + adversarial), one-word-swap hard "
                          "negatives, optional DAMSM-style matching CNN"}

    def metric_kinds(self) -> dict[str, str]:
        return {"attributes": "text2image: colour/shape/size/position accuracy by the shipped classifier, seen "
                              "and held-out combinations",
                "attribute_fid": "text2image: FID on the attribute classifier's features vs the real renderings"}

    # --- training ------------------------------------------------------------------------------------

    def build_data(self, config: Text2ImageConfig) -> CaptionedImages:
        d = config.data
        check_image_size(d.size)
        return build_captioned(d.name, d.count, d.seed, d.size, config.model.max_words, d.root)

    def fit_config(self, config: Text2ImageConfig, data: CaptionedImages) -> Text2ImageConfig:
        if config.model.text_dim % 2:
            raise GanforgeError(f"model.text_dim must be even (two GRU directions); got {config.model.text_dim}")
        if config.train.amp != "none":
            raise GanforgeError(f"train.amp={config.train.amp} is not supported by text2image runs; use train.amp=none")
        if config.data.batch_size < 2:
            raise GanforgeError("text2image needs data.batch_size >= 2 (mismatched captions come from the batch)")
        return config

    def build_recipe(self, config: Text2ImageConfig, data: CaptionedImages, device: torch.device) -> Text2ImageRecipe:
        m, loss, opt, train = config.model, config.loss, config.optim, config.train
        generator, encoder = build_networks(config, len(data.vocab))
        discriminator = Discriminator(m.text_dim, m.d_width, config.data.size)
        return Text2ImageRecipe(
            generator.to(device), discriminator.to(device), encoder.to(device),
            g_lr=opt.g_lr, d_lr=opt.d_lr, g_betas=opt.g_betas, d_betas=opt.d_betas,
            mismatch_weight=loss.mismatch_weight, gp_weight=loss.gp_weight, gp_power=loss.gp_power,
            gp_every=loss.gp_every,
            contrastive_weight=loss.contrastive_weight, g_contrastive_weight=loss.g_contrastive_weight,
            temperature=loss.temperature, ema_decay=train.ema_decay, ema_warmup=train.ema_warmup, device=device,
            swaps=WordSwaps.from_captions(data.captions, data.vocab) if loss.swap_share > 0 else None,
            swap_share=loss.swap_share, swap_every_word=loss.swap_every_word,
            matcher=ImageMatcher(m.text_dim, m.matcher_width, config.data.size).to(device) if m.matcher_width else None,
            match_lr=opt.match_lr, match_weight=loss.match_weight, g_match_weight=loss.g_match_weight)

    def build_stream(self, config: Text2ImageConfig, data: CaptionedImages, device: torch.device,
                     world: World) -> BatchStream:
        return BatchStream(data, config.data.batch_size, config.train.seed, device, config.data.num_workers,
                           world=world, collate=collate_captioned, prepare=prepare_tensors)

    def callbacks(self, context: TrainingContext) -> list[Any]:
        """A grid: one row per preview prompt (seen and held-out combinations), fixed noise across steps."""
        if not context.writes:
            return []
        recipe, data = context.recipe, context.data
        prompts = list(DEFAULT_PROMPTS) if data.name == "shapes-captions" else [c[0] for c in data.captions[:8]]
        columns = max(1, context.config.train.grid_size // len(prompts))
        rows = [p for p in prompts for _ in range(columns)]
        ids, lengths, _ = encode_prompts(rows, data.vocab, context.config.model.max_words, warn=False)

        def write(stem: Path) -> list[Path]:
            generator, encoder = recipe.sampler
            modes = generator.training, encoder.training
            generator.eval(), encoder.eval()
            images = draw(generator, encoder, ids, lengths, PREVIEW_SEED)
            generator.train(modes[0]), encoder.train(modes[1])
            return [save_grid(images, stem.with_suffix(".png"), columns)]

        callbacks: list[Any] = [Preview(context.run.samples, write, context.config.train.sample_every)]
        if context.config.eval.every:
            scoring = evaluation.training_evaluation(context)
            callbacks += [scoring] if scoring else []
        return callbacks

    def checkpoint_info(self, config: Text2ImageConfig, data: CaptionedImages) -> dict[str, Any]:
        return {"vocab": list(data.vocab.words), "data_name": data.name, "image_shape": list(data.image_shape)}

    # --- using a run ---------------------------------------------------------------------------------

    def load(self, run: RunFolder, config: Text2ImageConfig, state: dict[str, Any], device: torch.device,
             ema: bool = True) -> TextImageModel:
        return load_text_image_model(config, state, device, ema)

    def sample(self, model: TextImageModel, request: SampleRequest) -> PromptedImages:
        """``--prompt-file``: one image per line; ``--prompt``: ``n`` images of it; neither: the default prompts."""
        if request.prompts is not None:
            prompts = list(request.prompts)
            if not prompts:
                raise GanforgeError("the prompt file holds no prompts (one per line)")
        elif request.prompt is not None:
            prompts = [request.prompt] * request.n
        else:
            prompts = [DEFAULT_PROMPTS[i % len(DEFAULT_PROMPTS)] for i in range(request.n)]
        return generate(model, prompts, request.seed)

    def write(self, samples: PromptedImages, out: Path) -> str:
        return write_images(samples, out, self.check_suffix(out))

    def evaluate(self, run: RunFolder, model: TextImageModel, request: EvalRequest) -> dict[str, Any]:
        config = _run_config(run)
        if config is not None and config.data.name != "shapes-captions":
            raise GanforgeError(f"eval measures shapes-captions runs (its classifier knows those attributes); "
                                f"this run trained on {config.data.name}")
        if request.metrics:
            unknown = [m for m in request.metrics.split(",") if m.strip() and m.strip() not in METRICS]
            if unknown:
                raise GanforgeError(f"text2image eval computes {', '.join(METRICS)} (both, always); "
                                    f"unknown: {', '.join(unknown)}")
        if request.against not in (None, "shapes-captions"):
            raise GanforgeError("text2image eval compares with its own rendered reference; drop --against")
        repeats = config.eval.repeats if config is not None else 2
        if request.n is not None:
            repeats = max(1, round(request.n / 432))
        return evaluation.evaluate_prompts(model, repeats, request.seed)

    def report(self, results: dict[str, Any]) -> str:
        return evaluation.format_results(results)

    def routes(self) -> list[Route]:
        return list(ROUTES)

    def describe(self, model: TextImageModel) -> dict[str, Any]:
        return {"vocabulary": len(model.vocab), "max_words": model.max_words,
                "image_size": model.generator.size, "z_dim": model.generator.z_dim}


def _run_config(run: RunFolder) -> Text2ImageConfig | None:
    from ganforge.runs import load_run_config

    try:
        config = load_run_config(run.root)
    except GanforgeError:
        return None
    return config if isinstance(config, Text2ImageConfig) else None
